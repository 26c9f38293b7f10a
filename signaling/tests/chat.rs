//! Chat: public and direct messages, history, reactions, typing, edit/delete, lock.

mod common;

use common::Room;
use serde_json::json;
use signaling::SessionRole;

#[test]
fn public_message_reaches_everyone_and_history_reaches_late_joiners() {
    let mut room = Room::new();
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    room.take(ann);
    room.ok(ann, json!({"type": "chat.send", "text": "  hello all  "}));
    let seen = room.events(bob);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["kind"], "chat.posted");
    assert_eq!(seen[0]["text"], "hello all", "text is trimmed");
    assert_eq!(seen[0]["from"], json!(ann.id));

    let cat = room.join("Cat", SessionRole::Participant);
    let welcome = &room.take(cat)[0];
    assert_eq!(welcome["type"], "welcome");
    assert_eq!(
        welcome["snapshot"]["chat"]["messages"][0]["text"],
        "hello all"
    );
}

#[test]
fn direct_messages_reach_only_the_pair() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    room.take(host);
    room.take(ann);
    room.take(bob);
    room.ok(
        ann,
        json!({"type": "chat.send", "text": "secret", "to": bob.id}),
    );
    assert_eq!(room.kinds(bob), ["chat.posted"]);
    assert_eq!(room.kinds(ann), ["chat.posted"]);
    assert!(room.kinds(host).is_empty(), "moderators do not read DMs");

    let late_host_view = room.session.snapshot_for(host.id);
    assert!(
        late_host_view["chat"]["messages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let bob_view = room.session.snapshot_for(bob.id);
    assert_eq!(bob_view["chat"]["messages"][0]["text"], "secret");

    let nobody = uuid::Uuid::new_v4();
    assert_eq!(
        room.err(ann, json!({"type": "chat.send", "text": "x", "to": nobody})),
        "not_found"
    );
    assert_eq!(
        room.err(ann, json!({"type": "chat.send", "text": "x", "to": ann.id})),
        "not_found"
    );
}

#[test]
fn text_limits_are_enforced() {
    let mut room = Room::new();
    let ann = room.join("Ann", SessionRole::Participant);
    room.ok(ann, json!({"type": "chat.send", "text": "é".repeat(2000)}));
    assert_eq!(
        room.err(ann, json!({"type": "chat.send", "text": "é".repeat(2001)})),
        "invalid"
    );
    assert_eq!(
        room.err(ann, json!({"type": "chat.send", "text": "   "})),
        "invalid"
    );
    assert_eq!(
        room.err(ann, json!({"type": "chat.send", "text": "bell\u{7}"})),
        "invalid"
    );
}

#[test]
fn authors_edit_and_delete_moderators_delete() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    let first = room.ok(ann, json!({"type": "chat.send", "text": "teh plan"}))["message"].clone();
    room.take(bob);

    assert_eq!(
        room.err(
            bob,
            json!({"type": "chat.edit", "message": first, "text": "x"})
        ),
        "forbidden"
    );
    room.ok(
        ann,
        json!({"type": "chat.edit", "message": first, "text": "the plan"}),
    );
    let edit = room.events(bob);
    assert_eq!(edit[0]["kind"], "chat.edited");
    assert_eq!(edit[0]["text"], "the plan");

    assert_eq!(
        room.err(bob, json!({"type": "chat.delete", "message": first})),
        "forbidden"
    );
    room.ok(host, json!({"type": "chat.delete", "message": first}));
    assert_eq!(room.kinds(bob), ["chat.deleted"]);
    assert_eq!(
        room.err(
            ann,
            json!({"type": "chat.edit", "message": first, "text": "y"})
        ),
        "wrong_state"
    );

    let second = room.ok(bob, json!({"type": "chat.send", "text": "oops"}))["message"].clone();
    room.ok(bob, json!({"type": "chat.delete", "message": second}));
    let messages = room.session.snapshot_for(ann.id)["chat"]["messages"].clone();
    assert!(
        messages
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["deleted"] == true && m["text"] == "")
    );
}

#[test]
fn reactions_toggle_per_person() {
    let mut room = Room::new();
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    let msg = room.ok(ann, json!({"type": "chat.send", "text": "ship it?"}))["message"].clone();
    room.take(ann);
    room.ok(
        bob,
        json!({"type": "chat.react", "message": msg, "emoji": "👍"}),
    );
    room.ok(
        bob,
        json!({"type": "chat.react", "message": msg, "emoji": "👍"}),
    );
    assert_eq!(
        room.kinds(ann),
        ["chat.reacted"],
        "a repeated reaction is a no-op"
    );
    let reactions = room.session.snapshot_for(ann.id)["chat"]["messages"][0]["reactions"].clone();
    assert_eq!(reactions, json!({"👍": [bob.id]}));
    room.ok(
        bob,
        json!({"type": "chat.react", "message": msg, "emoji": "👍", "on": false}),
    );
    let reactions = room.session.snapshot_for(ann.id)["chat"]["messages"][0]["reactions"].clone();
    assert_eq!(reactions, json!({}));
    assert_eq!(
        room.err(
            bob,
            json!({"type": "chat.react", "message": msg, "emoji": "a b"})
        ),
        "invalid"
    );
}

#[test]
fn typing_is_throttled_and_never_stored() {
    let mut room = Room::new();
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    room.take(ann);
    room.take(bob);
    let stored_before = room.stored.len();
    room.ok(ann, json!({"type": "chat.typing"}));
    room.ok(ann, json!({"type": "chat.typing"}));
    let frames = room.take(bob);
    assert_eq!(
        frames.len(),
        1,
        "second indicator within the interval is dropped"
    );
    assert_eq!(frames[0]["type"], "signal");
    assert_eq!(frames[0]["signal"]["kind"], "chat.typing");
    assert!(frames[0].get("seq").is_none(), "typing is not sequenced");
    assert_eq!(room.stored.len(), stored_before, "typing is not persisted");
    room.advance(3);
    room.ok(ann, json!({"type": "chat.typing"}));
    assert_eq!(room.take(bob).len(), 1);
    assert!(
        room.take(ann).iter().all(|f| f["type"] == "ack"),
        "no echo to the typist"
    );
}

#[test]
fn chat_lock_silences_all_but_moderators() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(ann);
    room.ok(host, json!({"type": "chat.lock", "locked": true}));
    assert_eq!(room.kinds(ann), ["chat.locked"]);
    assert_eq!(
        room.err(ann, json!({"type": "chat.send", "text": "hi"})),
        "chat_locked"
    );
    assert_eq!(room.err(ann, json!({"type": "chat.typing"})), "chat_locked");
    room.ok(
        host,
        json!({"type": "chat.send", "text": "one moment please"}),
    );
    room.ok(host, json!({"type": "chat.lock", "locked": false}));
    room.ok(ann, json!({"type": "chat.send", "text": "hi"}));
}
