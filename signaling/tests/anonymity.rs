//! Anonymous polls and questions: the voter's or asker's identity appears nowhere —
//! not in stored events, not in any frame anyone receives — yet one vote per person holds.

mod common;

use common::{Client, Room, test_ballot_key};
use serde_json::json;
use signaling::{PollId, SessionRole};

fn everything_anyone_saw(room: &mut Room, clients: &[Client]) -> String {
    let mut all = String::new();
    for c in clients {
        for frame in room.take(*c) {
            all.push_str(&frame.to_string());
        }
    }
    all
}

#[test]
fn anonymous_poll_never_exposes_the_voter() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    let poll = room.ok(host, json!({"type": "poll.create", "question": "Honest feedback?", "options": ["good", "bad"], "anonymous": true}))["poll"].clone();
    room.ok(host, json!({"type": "poll.open", "poll": poll}));
    let seq_before_votes = room.stored.len();
    room.take(host);

    room.ok(
        ann,
        json!({"type": "poll.vote", "poll": poll, "choices": [1]}),
    );
    room.ok(
        ann,
        json!({"type": "poll.vote", "poll": poll, "choices": [0]}),
    );
    room.ok(
        bob,
        json!({"type": "poll.vote", "poll": poll, "choices": [1]}),
    );
    room.ok(host, json!({"type": "poll.close", "poll": poll}));
    room.ok(host, json!({"type": "poll.publish", "poll": poll}));

    // one ballot per person: Ann's second vote replaced her first
    let tally = room.session.snapshot_for(host.id)["polls"][0]["tally"].clone();
    assert_eq!(tally, json!({"counts": [1, 1], "ballots": 2}));

    // the stored votes carry only pseudonymous keys
    for stored in &room.stored[seq_before_votes..] {
        let text = stored.to_json();
        for who in [ann.id, bob.id] {
            assert!(
                !text.contains(&who.to_string()),
                "voter in stored event: {text}"
            );
        }
    }
    // no frame, to anyone, names a voter or carries the key
    let poll_id: PollId = serde_json::from_value(poll).unwrap();
    let ann_key = test_ballot_key(poll_id, ann.id).to_string();
    let frames = everything_anyone_saw(&mut room, &[host, ann, bob]);
    assert!(frames.contains("poll.voted"));
    assert!(!frames.contains(&ann_key));
    let vote_frames: Vec<&str> = frames
        .split("}{")
        .filter(|f| f.contains("poll.voted"))
        .collect();
    for frame in vote_frames {
        assert!(!frame.contains(&ann.id.to_string()) && !frame.contains(&bob.id.to_string()));
    }
    // the voter can still see their own choice
    assert_eq!(
        room.session.snapshot_for(ann.id)["polls"][0]["your_choices"],
        json!([0])
    );
    assert_eq!(
        room.session.snapshot_for(bob.id)["polls"][0]["your_choices"],
        json!([1])
    );
}

#[test]
fn anonymous_question_has_no_author_anywhere() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let before = room.stored.len();
    room.take(host);
    room.take(ann);
    room.ok(
        ann,
        json!({"type": "qa.ask", "text": "Is the project late?", "anonymous": true}),
    );
    let stored = room.stored[before].to_json();
    assert!(stored.contains("qa.asked"));
    assert!(
        !stored.contains(&ann.id.to_string()),
        "author stored: {stored}"
    );
    let seen = room.events(host);
    assert!(seen[0].get("author").is_none());
    let frames = everything_anyone_saw(&mut room, &[host, ann]);
    let named_frames = frames.matches(&ann.id.to_string()).count();
    assert_eq!(named_frames, 0);
}
