//! Q&A: ask, upvote once (toggle), answer, dismiss, pin, ordering.

mod common;

use common::Room;
use serde_json::json;
use signaling::SessionRole;
use signaling::state::QuestionOrder;

#[test]
fn questions_are_asked_upvoted_answered_and_sorted() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    let cat = room.join("Cat", SessionRole::Viewer);

    let first = room.ok(ann, json!({"type": "qa.ask", "text": "Slides?"}))["question"].clone();
    let second = room.ok(bob, json!({"type": "qa.ask", "text": "Recording?"}))["question"].clone();
    room.take(ann);

    let up = room.ok(cat, json!({"type": "qa.upvote", "question": second}));
    assert_eq!(up, json!({"question": second, "upvoted": true, "votes": 1}));
    room.ok(ann, json!({"type": "qa.upvote", "question": second}));
    let seen = room.events(ann);
    assert_eq!(seen[0]["kind"], "qa.upvoted");
    assert_eq!(seen[0]["votes"], 1);
    assert!(
        seen[0].get("voter").is_none(),
        "who upvoted is not broadcast"
    );
    // a second upvote takes it back: one per person
    let down = room.ok(cat, json!({"type": "qa.upvote", "question": second}));
    assert_eq!(down["upvoted"], false);
    room.ok(cat, json!({"type": "qa.upvote", "question": second}));

    let order = |room: &Room, by| {
        room.session
            .state()
            .qa
            .sorted(by)
            .iter()
            .map(|q| json!(q.question))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        order(&room, QuestionOrder::Votes),
        [second.clone(), first.clone()]
    );
    assert_eq!(
        order(&room, QuestionOrder::Time),
        [first.clone(), second.clone()]
    );
    room.ok(host, json!({"type": "qa.pin", "question": first}));
    assert_eq!(
        order(&room, QuestionOrder::Votes),
        [first.clone(), second.clone()],
        "pinned first"
    );

    assert_eq!(
        room.err(ann, json!({"type": "qa.answer", "question": first})),
        "forbidden"
    );
    room.ok(
        host,
        json!({"type": "qa.answer", "question": first, "text": "They will be emailed."}),
    );
    let q = room.session.snapshot_for(cat.id)["questions"][0].clone();
    assert_eq!(q["status"], "answered");
    assert_eq!(q["answer"], "They will be emailed.");
    assert_eq!(
        room.session.snapshot_for(ann.id)["questions"][1]["upvoted"],
        true
    );
}

#[test]
fn dismissed_questions_disappear_for_participants_only() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let q = room.ok(ann, json!({"type": "qa.ask", "text": "Buy my product!"}))["question"].clone();
    room.take(ann);
    room.ok(host, json!({"type": "qa.dismiss", "question": q}));
    assert_eq!(room.kinds(ann), ["qa.dismissed"]);
    assert!(
        room.session.snapshot_for(ann.id)["questions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        room.session.snapshot_for(host.id)["questions"][0]["status"],
        "dismissed"
    );
    assert_eq!(
        room.err(ann, json!({"type": "qa.upvote", "question": q})),
        "wrong_state"
    );
    assert_eq!(
        room.err(ann, json!({"type": "qa.ask", "text": "x".repeat(1001)})),
        "invalid"
    );
    let unknown = uuid::Uuid::new_v4();
    assert_eq!(
        room.err(ann, json!({"type": "qa.upvote", "question": unknown})),
        "not_found"
    );
}
