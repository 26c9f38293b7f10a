//! Resume: exactly the missed events a participant may see, in order, or a snapshot
//! when the gap is older than the ring.

mod common;

use common::{Room, info, test_ballot_key};
use serde_json::{Value, json};
use signaling::{AccountRole, Limits, Session, SessionConfig, SessionRole};

fn seqs(frames: &[Value]) -> Vec<u64> {
    frames
        .iter()
        .filter(|f| f["type"] == "event")
        .map(|f| f["seq"].as_u64().unwrap())
        .collect()
}

#[test]
fn reconnect_gets_exactly_the_missed_visible_events() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let ann = room.join_info(ann_info.clone());
    let bob = room.join("Bob", SessionRole::Participant);
    // a twin with Ann's permissions stays connected: what it sees is what Ann missed
    let twin = room.join("Twin", SessionRole::Participant);
    let seen_by_ann = room.session.seq();
    room.disconnect(ann);
    room.take(twin);

    room.ok(bob, json!({"type": "chat.send", "text": "public"}));
    room.ok(
        bob,
        json!({"type": "chat.send", "text": "dm to host", "to": host.id}),
    );
    let poll = room.ok(
        host,
        json!({"type": "poll.create", "question": "Q", "options": ["a", "b"]}),
    )["poll"]
        .clone();
    room.ok(host, json!({"type": "poll.open", "poll": poll}));
    room.ok(
        bob,
        json!({"type": "poll.vote", "poll": poll, "choices": [0]}),
    );
    room.ok(host, json!({"type": "qa.ask", "text": "Any questions?"}));
    let twin_frames: Vec<Value> = room
        .take(twin)
        .into_iter()
        .filter(|f| f["type"] == "event")
        .collect();

    let ann = room.connect(ann_info, Some(seen_by_ann)).unwrap();
    let frames = room.take(ann);
    assert_eq!(frames[0]["type"], "welcome");
    assert_eq!(frames[0]["seq"], seen_by_ann);
    assert!(frames[0].get("snapshot").is_none());
    let missed = &frames[1..];
    // Ann's own left and joined events are in the gap too
    let kinds: Vec<&str> = missed
        .iter()
        .map(|f| f["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"participant.left"));
    assert_eq!(kinds.last(), Some(&"participant.joined"));
    assert_eq!(
        &missed[1..missed.len() - 1],
        &twin_frames[..],
        "identical bytes, nothing more"
    );
    assert!(!kinds.contains(&"poll.voted") && !kinds.contains(&"poll.created"));
    let all: Vec<u64> = seqs(missed);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(*all.last().unwrap(), room.session.seq());
}

#[test]
fn resume_message_replays_the_gap_on_a_live_connection() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.ok(host, json!({"type": "chat.send", "text": "one"}));
    room.ok(host, json!({"type": "chat.send", "text": "two"}));
    room.ok(host, json!({"type": "chat.send", "text": "three"}));
    let original: Vec<Value> = room
        .take(ann)
        .into_iter()
        .filter(|f| f["type"] == "event")
        .collect();
    let last = room.session.seq();
    let ack = room.ok(ann, json!({"type": "resume", "last_seq": last - 2}));
    assert_eq!(ack, json!({"seq": last, "missed": 2}));
    let replayed: Vec<Value> = room
        .take(ann)
        .into_iter()
        .filter(|f| f["type"] == "event")
        .collect();
    assert_eq!(replayed, original[original.len() - 2..]);
    assert_eq!(
        room.ok(ann, json!({"type": "resume", "last_seq": last})),
        json!({"seq": last, "missed": 0})
    );
}

#[test]
fn a_gap_older_than_the_ring_gets_a_snapshot() {
    let limits = Limits {
        resume_ring: 4,
        ..Limits::default()
    };
    let mut room = Room::from_session(
        Session::new(
            SessionConfig {
                limits,
                ..SessionConfig::default()
            },
            test_ballot_key,
        ),
        Vec::new(),
    );
    let host = room.join("Host", SessionRole::Host);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let ann = room.join_info(ann_info.clone());
    let seen = room.session.seq();
    room.disconnect(ann);
    for i in 0..6 {
        room.ok(host, json!({"type": "chat.send", "text": format!("m{i}")}));
    }
    let ann = room.connect(ann_info, Some(seen)).unwrap();
    let frames = room.take(ann);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["seq"], room.session.seq());
    assert_eq!(
        frames[0]["snapshot"]["chat"]["messages"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    room.send(ann, json!({"type": "resume", "last_seq": 1}));
    let frames = room.take(ann);
    assert_eq!(frames[0]["type"], "snapshot");
    assert_eq!(frames[1]["result"]["snapshot"], true);
    // a client claiming to be ahead of the server also gets a snapshot
    room.send(ann, json!({"type": "resume", "last_seq": 9999}));
    assert_eq!(room.take(ann)[0]["type"], "snapshot");
}
