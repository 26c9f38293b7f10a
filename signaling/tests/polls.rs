//! Polls: draft → open → close → publish, choice rules, changing votes, live results
//! to hosts, results to everyone once published, timers.

mod common;

use common::Room;
use serde_json::{Value, json};
use signaling::SessionRole;

fn create(room: &mut Room, host: common::Client, extra: Value) -> Value {
    let mut msg =
        json!({"type": "poll.create", "question": "Best day?", "options": ["Mon", "Tue", "Wed"]});
    msg.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    room.ok(host, msg)["poll"].clone()
}

#[test]
fn a_poll_runs_from_draft_to_published() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    room.take(ann);

    let poll = create(&mut room, host, json!({}));
    assert!(
        room.kinds(ann).is_empty(),
        "drafts are for poll managers only"
    );
    assert_eq!(
        room.err(
            ann,
            json!({"type": "poll.vote", "poll": poll, "choices": [0]})
        ),
        "not_found"
    );

    room.ok(host, json!({"type": "poll.open", "poll": poll}));
    let opened = room.events(ann);
    assert_eq!(opened[0]["kind"], "poll.opened");
    assert_eq!(
        opened[0]["definition"]["options"],
        json!(["Mon", "Tue", "Wed"])
    );
    assert!(opened[0].get("tally").is_none());

    room.take(host);
    room.take(bob);
    room.ok(
        ann,
        json!({"type": "poll.vote", "poll": poll, "choices": [1]}),
    );
    room.ok(
        bob,
        json!({"type": "poll.vote", "poll": poll, "choices": [1]}),
    );
    // Ann changes her mind: her ballot is replaced, not added
    room.ok(
        ann,
        json!({"type": "poll.vote", "poll": poll, "choices": [2]}),
    );
    let live = room.events(host);
    assert_eq!(live.len(), 3, "hosts see every vote live");
    assert_eq!(live[2]["tally"], json!({"counts": [0, 1, 1], "ballots": 2}));
    assert!(
        room.take(bob).iter().all(|f| f["type"] == "ack"),
        "participants see no live results"
    );

    room.ok(host, json!({"type": "poll.close", "poll": poll}));
    assert_eq!(
        room.err(
            ann,
            json!({"type": "poll.vote", "poll": poll, "choices": [0]})
        ),
        "wrong_state"
    );
    assert_eq!(room.kinds(bob), ["poll.closed"]);
    room.ok(host, json!({"type": "poll.publish", "poll": poll}));
    let published = room.events(bob);
    assert_eq!(published[0]["kind"], "poll.published");
    assert_eq!(
        published[0]["tally"],
        json!({"counts": [0, 1, 1], "ballots": 2})
    );
    assert_eq!(
        room.err(host, json!({"type": "poll.publish", "poll": poll})),
        "wrong_state"
    );

    let snapshot = room.session.snapshot_for(ann.id);
    assert_eq!(snapshot["polls"][0]["your_choices"], json!([2]));
    assert_eq!(snapshot["polls"][0]["tally"]["counts"], json!([0, 1, 1]));
}

#[test]
fn choice_rules() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let single = create(&mut room, host, json!({}));
    let multi = create(&mut room, host, json!({"multiple": true, "max_choices": 2}));
    for poll in [&single, &multi] {
        room.ok(host, json!({"type": "poll.open", "poll": poll}));
    }
    let vote = |poll: &Value, choices: Value| json!({"type": "poll.vote", "poll": poll, "choices": choices});
    assert_eq!(room.err(ann, vote(&single, json!([0, 1]))), "invalid");
    assert_eq!(room.err(ann, vote(&single, json!([]))), "invalid");
    assert_eq!(room.err(ann, vote(&single, json!([3]))), "invalid");
    room.ok(ann, vote(&single, json!([0])));
    assert_eq!(room.err(ann, vote(&multi, json!([0, 1, 2]))), "invalid");
    assert_eq!(room.err(ann, vote(&multi, json!([1, 1]))), "invalid");
    room.ok(ann, vote(&multi, json!([0, 2])));
}

#[test]
fn creation_limits() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let create = |question: String, options: Vec<String>| json!({"type": "poll.create", "question": question, "options": options});
    let opts = |n: usize, len: usize| {
        (0..n)
            .map(|i| format!("{i}{}", "x".repeat(len - 1)))
            .collect::<Vec<_>>()
    };
    room.ok(host, create("q".repeat(500), opts(10, 200)));
    assert_eq!(
        room.err(host, create("q".repeat(501), opts(2, 5))),
        "invalid"
    );
    assert_eq!(room.err(host, create("q".into(), opts(11, 5))), "invalid");
    assert_eq!(room.err(host, create("q".into(), opts(1, 5))), "invalid");
    assert_eq!(room.err(host, create("q".into(), opts(2, 201))), "invalid");
    assert_eq!(
        room.err(host, create("q".into(), vec!["a".into(), "a".into()])),
        "invalid"
    );
    let bad_max = json!({"type": "poll.create", "question": "q", "options": ["a", "b"], "multiple": true, "max_choices": 3});
    assert_eq!(room.err(host, bad_max), "invalid");
}

#[test]
fn a_timed_poll_closes_on_tick() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let poll = create(&mut room, host, json!({}));
    room.ok(
        host,
        json!({"type": "poll.open", "poll": poll, "duration_secs": 30}),
    );
    assert_eq!(
        room.session.next_deadline(),
        Some(room.now + chrono::Duration::seconds(30))
    );
    room.advance(29);
    room.tick();
    room.ok(
        ann,
        json!({"type": "poll.vote", "poll": poll, "choices": [0]}),
    );
    room.take(ann);
    room.advance(1);
    room.tick();
    assert_eq!(room.kinds(ann), ["poll.closed"]);
    assert_eq!(room.session.next_deadline(), None);
}

#[test]
fn non_anonymous_votes_name_the_voter_to_hosts() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let poll = create(&mut room, host, json!({}));
    room.ok(host, json!({"type": "poll.open", "poll": poll}));
    room.take(host);
    room.ok(
        ann,
        json!({"type": "poll.vote", "poll": poll, "choices": [0]}),
    );
    assert_eq!(
        room.events(host)[0]["ballot"],
        json!({"participant": ann.id})
    );
}
