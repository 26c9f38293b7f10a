//! Raised hands: a server-timestamped queue with positions, surviving reconnects.

mod common;

use common::Room;
use serde_json::json;
use signaling::SessionRole;

#[test]
fn hands_queue_in_raise_order_with_positions() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    let cat = room.join("Cat", SessionRole::Participant);

    assert_eq!(
        room.ok(bob, json!({"type": "hand.raise"})),
        json!({"position": 1})
    );
    room.advance(1);
    assert_eq!(
        room.ok(ann, json!({"type": "hand.raise"})),
        json!({"position": 2})
    );
    assert_eq!(
        room.ok(bob, json!({"type": "hand.raise"})),
        json!({"position": 1}),
        "raising twice keeps the place"
    );
    room.take(cat);
    room.ok(cat, json!({"type": "hand.raise"}));
    let seen = room.events(cat);
    assert_eq!(
        seen[0]["queue"],
        json!([bob.id, ann.id, cat.id]),
        "everyone sees the queue"
    );

    // own hand down; others' hands only by hosts
    assert_eq!(
        room.err(ann, json!({"type": "hand.lower", "participant": bob.id})),
        "forbidden"
    );
    room.ok(bob, json!({"type": "hand.lower"}));
    assert_eq!(room.session.state().hands.position(ann.id), Some(1));
    room.ok(host, json!({"type": "hand.lower", "participant": ann.id}));
    assert_eq!(room.session.state().hands.position(cat.id), Some(1));
    room.ok(host, json!({"type": "hand.lower_all"}));
    assert!(room.session.state().hands.queue.is_empty());
}

#[test]
fn a_hand_survives_a_reconnect() {
    let mut room = Room::new();
    let ann_info = common::info(
        "Ann",
        signaling::AccountRole::User,
        SessionRole::Participant,
    );
    let ann = room.join_info(ann_info.clone());
    let bob = room.join("Bob", SessionRole::Participant);
    room.ok(ann, json!({"type": "hand.raise"}));
    room.ok(bob, json!({"type": "hand.raise"}));
    room.disconnect(ann);
    let again = room.join_info(ann_info);
    let welcome = &room.take(again)[0];
    assert_eq!(
        welcome["snapshot"]["hands"][0]["participant"],
        json!(ann.id)
    );
    assert_eq!(room.session.state().hands.position(ann.id), Some(1));
}
