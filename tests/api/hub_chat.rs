//! Chat on the hub over real WebSockets: reactions, edit and delete by the author,
//! delete by moderators, the typing indicator and the chat lock.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::hub_client::{HubClient, Stage, live_session, participant_id, stored};

/// The chat messages of a welcome's snapshot.
fn snapshot_messages(welcome: &Value) -> Vec<Value> {
    welcome["snapshot"]["chat"]["messages"]
        .as_array()
        .unwrap()
        .clone()
}

async fn reactions_are_broadcast_toggled_and_kept(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let (id, bob_id, carol) = (stage.id, stage.bob.id, stage.cast.carol);
    let (mut h, mut a, mut b) = (stage.host.client, stage.ann.client, stage.bob.client);

    let message = a
        .ok(json!({"type": "chat.send", "text": "react to me"}))
        .await["message"]
        .clone();
    b.ok(json!({"type": "chat.react", "message": message, "emoji": "👍"}))
        .await;
    for client in [&mut h, &mut a, &mut b] {
        let reacted = client.event("chat.reacted").await;
        assert_eq!(
            reacted["event"],
            json!({"kind": "chat.reacted", "message": message, "participant": bob_id,
                   "emoji": "👍", "on": true}),
            "{reacted}"
        );
    }
    // Reacting twice with the same emoji changes nothing: no second event.
    let seq = b.last_seq;
    b.ok(json!({"type": "chat.react", "message": message, "emoji": "👍"}))
        .await;
    h.ok(json!({"type": "chat.react", "message": message, "emoji": "🎉"}))
        .await;
    let reacted = b.event("chat.reacted").await;
    assert_eq!(reacted["seq"], seq + 1, "{reacted}");
    assert_eq!(reacted["event"]["emoji"], "🎉");
    // Taking a reaction back.
    b.ok(json!({"type": "chat.react", "message": message, "emoji": "👍", "on": false}))
        .await;
    let taken = a
        .until(|f| f["event"]["kind"] == "chat.reacted" && f["event"]["on"] == false)
        .await;
    assert_eq!(taken["event"]["participant"], json!(bob_id));
    // Bad emoji and unknown messages are refused with codes.
    let spaced = b
        .request(json!({"type": "chat.react", "message": message, "emoji": "a b"}))
        .await;
    assert_eq!(spaced["code"], "invalid", "{spaced}");
    let unknown = b
        .request(json!({"type": "chat.react", "message": uuid::Uuid::new_v4(), "emoji": "👍"}))
        .await;
    assert_eq!(unknown["code"], "not_found", "{unknown}");

    // A late joiner sees the reactions that remain, from the stored events.
    let (_c, welcome) = HubClient::join(&app, &id, &carol).await;
    let messages = snapshot_messages(&welcome);
    assert_eq!(messages.len(), 1, "{welcome}");
    let reactions = &messages[0]["reactions"];
    assert_eq!(reactions.as_object().unwrap().len(), 1, "{reactions}");
    assert_eq!(reactions["🎉"].as_array().unwrap().len(), 1, "{reactions}");
    assert_eq!(stored(&app, &id, "chat.reacted").await.len(), 3);
}

async fn authors_edit_and_delete_their_own_messages(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let (id, ann_id, bob_id, carol) = (stage.id, stage.ann.id, stage.bob.id, stage.cast.carol);
    let (mut h, mut a, mut b) = (stage.host.client, stage.ann.client, stage.bob.client);

    let first = a
        .ok(json!({"type": "chat.send", "text": "teh first"}))
        .await["message"]
        .clone();
    let second = a.ok(json!({"type": "chat.send", "text": "oops"})).await["message"].clone();
    a.ok(json!({"type": "chat.edit", "message": first, "text": "the first"}))
        .await;
    for client in [&mut h, &mut b] {
        let edited = client.event("chat.edited").await;
        assert_eq!(edited["event"]["message"], first);
        assert_eq!(edited["event"]["text"], "the first");
    }
    // Nobody else edits or deletes it, the host included (moderators delete, not edit).
    let by_bob = b
        .request(json!({"type": "chat.edit", "message": first, "text": "mine now"}))
        .await;
    assert_eq!(by_bob["code"], "forbidden", "{by_bob}");
    let by_host = h
        .request(json!({"type": "chat.edit", "message": first, "text": "host edit"}))
        .await;
    assert_eq!(by_host["code"], "forbidden", "{by_host}");
    let deleted_by_bob = b
        .request(json!({"type": "chat.delete", "message": second}))
        .await;
    assert_eq!(deleted_by_bob["code"], "forbidden", "{deleted_by_bob}");

    a.ok(json!({"type": "chat.delete", "message": second}))
        .await;
    let deleted = b.event("chat.deleted").await;
    assert_eq!(deleted["event"]["message"], second);
    assert_eq!(deleted["event"]["by"], json!(ann_id));
    let again = a
        .request(json!({"type": "chat.edit", "message": second, "text": "back"}))
        .await;
    assert_eq!(again["code"], "wrong_state", "{again}");

    // Direct messages too: the author edits and deletes; the other side sees both.
    let dm = a
        .ok(json!({"type": "chat.send", "text": "secret", "to": bob_id}))
        .await["message"]
        .clone();
    a.ok(json!({"type": "chat.edit", "message": dm, "text": "secret!"}))
        .await;
    assert_eq!(b.event("chat.edited").await["event"]["text"], "secret!");
    a.ok(json!({"type": "chat.delete", "message": dm})).await;
    assert_eq!(b.event("chat.deleted").await["event"]["message"], dm);

    // A late joiner sees the edit and no trace of the deleted text.
    let (_c, welcome) = HubClient::join(&app, &id, &carol).await;
    let messages = snapshot_messages(&welcome);
    let first_now = messages.iter().find(|m| m["message"] == first).unwrap();
    assert_eq!(first_now["text"], "the first");
    assert_eq!(first_now["edited"], true);
    let second_now = messages.iter().find(|m| m["message"] == second).unwrap();
    assert_eq!(second_now["deleted"], true);
    assert_eq!(second_now["text"], "");
    assert!(!welcome.to_string().contains("secret"), "{welcome}");
}

async fn moderators_delete_public_messages_not_direct_ones(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let cole = app.user_with_role("cole@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let (mut h, host_id) = HubClient::join_with_id(&app, &id, &host).await;
    let (mut a, _) = HubClient::join(&app, &id, &ann).await;
    let (mut b, bob_id) = HubClient::join_with_id(&app, &id, &bob).await;
    let (mut c, cole_id) = HubClient::join_with_id(&app, &id, &cole).await;

    let rude = a.ok(json!({"type": "chat.send", "text": "rude"})).await["message"].clone();
    let also_rude = a
        .ok(json!({"type": "chat.send", "text": "also rude"}))
        .await["message"]
        .clone();
    let dm = a
        .ok(json!({"type": "chat.send", "text": "just us", "to": bob_id}))
        .await["message"]
        .clone();

    // The host deletes a public message: everyone sees who did.
    h.ok(json!({"type": "chat.delete", "message": rude})).await;
    for client in [&mut a, &mut b, &mut c] {
        let deleted = client.event("chat.deleted").await;
        assert_eq!(deleted["event"]["message"], rude);
        assert_eq!(deleted["event"]["by"], json!(host_id));
    }
    // A direct message between two others is invisible to moderators: not found.
    let hidden = h
        .request(json!({"type": "chat.delete", "message": dm}))
        .await;
    assert_eq!(hidden["code"], "not_found", "{hidden}");

    // A cohost moderates chat too; promoted live, demoted live.
    h.ok(json!({"type": "mod.set_role", "participant": cole_id, "role": "cohost"}))
        .await;
    c.event("role.changed").await;
    c.ok(json!({"type": "chat.delete", "message": also_rude}))
        .await;
    assert_eq!(b.event("chat.deleted").await["event"]["by"], json!(cole_id));
    let spare = a.ok(json!({"type": "chat.send", "text": "spare"})).await["message"].clone();
    h.ok(json!({"type": "mod.set_role", "participant": cole_id, "role": "participant"}))
        .await;
    c.until(|f| f["event"]["kind"] == "role.changed" && f["event"]["role"] == "participant")
        .await;
    let demoted = c
        .request(json!({"type": "chat.delete", "message": spare}))
        .await;
    assert_eq!(demoted["code"], "forbidden", "{demoted}");

    let rows = stored(&app, &id, "chat.deleted").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].contains(&host_id) && rows[1].contains(&cole_id));
}

async fn typing_is_throttled_and_never_stored(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let viewer = app.user_with_role("vic@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let (mut h, _) = HubClient::join(&app, &id, &host).await;
    let (mut a, ann_id) = HubClient::join_with_id(&app, &id, &ann).await;
    let (mut b, welcome) = HubClient::join(&app, &id, &bob).await;
    let bob_id = participant_id(&welcome);
    let seq = welcome["seq"].as_u64().unwrap();

    // Two indicators back to back: both acked, one delivered (1 per 2 s). The chat
    // message after them is the fence: anything delivered arrives before it.
    a.ok(json!({"type": "chat.typing"})).await;
    a.ok(json!({"type": "chat.typing"})).await;
    a.ok(json!({"type": "chat.send", "text": "typed"})).await;
    for client in [&mut h, &mut b] {
        let frames = client
            .frames_until(|f| f["event"]["kind"] == "chat.posted")
            .await;
        let signals: Vec<&Value> = frames.iter().filter(|f| f["type"] == "signal").collect();
        assert_eq!(signals.len(), 1, "{frames:?}");
        assert_eq!(
            signals[0]["signal"],
            json!({"kind": "chat.typing", "participant": ann_id})
        );
        assert!(signals[0].get("seq").is_none(), "{}", signals[0]);
    }
    // The typist gets no signal of its own; only the chat message was numbered.
    let own = a
        .frames_until(|f| f["event"]["kind"] == "chat.posted")
        .await;
    assert!(own.iter().all(|f| f["type"] != "signal"), "{own:?}");
    assert_eq!(a.last_seq, seq + 1, "{own:?}");

    // A direct typing indicator reaches only its addressee.
    b.ok(json!({"type": "chat.typing", "to": ann_id})).await;
    b.ok(json!({"type": "chat.send", "text": "fence"})).await;
    let to_ann = a
        .frames_until(|f| f["event"]["kind"] == "chat.posted")
        .await;
    let signal = to_ann.iter().find(|f| f["type"] == "signal").unwrap();
    assert_eq!(signal["signal"]["participant"], json!(bob_id));
    assert_eq!(signal["signal"]["to"], json!(ann_id));
    let to_host = h
        .frames_until(|f| f["event"]["kind"] == "chat.posted")
        .await;
    assert!(to_host.iter().all(|f| f["type"] != "signal"), "{to_host:?}");

    // Viewers may chat (so type) but not direct-message (so not type to someone).
    let (mut v, viewer_id) = HubClient::join_with_id(&app, &id, &viewer).await;
    h.ok(json!({"type": "mod.set_role", "participant": viewer_id, "role": "viewer"}))
        .await;
    v.event("role.changed").await;
    let direct = v
        .request(json!({"type": "chat.typing", "to": ann_id}))
        .await;
    assert_eq!(direct["code"], "forbidden", "{direct}");

    // Never stored, and never replayed on resume.
    let kinds: Vec<String> = stored(&app, &id, "").await;
    assert!(kinds.iter().all(|row| !row.contains("typing")), "{kinds:?}");
    b.close().await;
    let (mut b, welcome) = HubClient::resume(&app, &id, &bob, Some(seq)).await;
    assert_eq!(welcome["seq"], seq, "{welcome}");
    b.send(json!({"type": "ping"})).await;
    let replayed = b.frames_until(|f| f["type"] == "pong").await;
    assert!(
        replayed.iter().all(|f| f["type"] != "signal"),
        "{replayed:?}"
    );
    let texts: Vec<&Value> = replayed
        .iter()
        .filter(|f| f["event"]["kind"] == "chat.posted")
        .map(|f| &f["event"]["text"])
        .collect();
    assert_eq!(texts, [&json!("typed"), &json!("fence")], "{replayed:?}");
}

async fn a_chat_lock_silences_everyone_but_moderators(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let (id, host_id, bob_id, carol) = (stage.id, stage.host.id, stage.bob.id, stage.cast.carol);
    let (mut h, mut a, mut b) = (stage.host.client, stage.ann.client, stage.bob.client);
    let before = a.ok(json!({"type": "chat.send", "text": "before"})).await["message"].clone();

    let refused = a
        .request(json!({"type": "chat.lock", "locked": true}))
        .await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    h.ok(json!({"type": "chat.lock", "locked": true})).await;
    for client in [&mut a, &mut b] {
        let locked = client.event("chat.locked").await;
        assert_eq!(
            locked["event"],
            json!({"kind": "chat.locked", "locked": true, "by": host_id})
        );
    }
    // Participants can neither post (public or direct), edit nor type; the host can.
    for message in [
        json!({"type": "chat.send", "text": "let me speak"}),
        json!({"type": "chat.send", "text": "psst", "to": bob_id}),
        json!({"type": "chat.edit", "message": before, "text": "changed"}),
        json!({"type": "chat.typing"}),
    ] {
        let answer = a.request(message.clone()).await;
        assert_eq!(answer["code"], "chat_locked", "{message} → {answer}");
    }
    h.ok(json!({"type": "chat.send", "text": "host speaks"}))
        .await;
    assert_eq!(b.event("chat.posted").await["event"]["text"], "host speaks");

    // A late joiner learns the chat is locked.
    let (_c, welcome) = HubClient::join(&app, &id, &carol).await;
    assert_eq!(welcome["snapshot"]["chat"]["locked"], true, "{welcome}");
    h.ok(json!({"type": "chat.lock", "locked": false})).await;
    a.until(|f| f["event"]["kind"] == "chat.locked" && f["event"]["locked"] == false)
        .await;
    a.ok(json!({"type": "chat.send", "text": "free again"}))
        .await;
    let kinds = stored(&app, &id, "chat.locked").await;
    assert_eq!(kinds.len(), 2, "{kinds:?}");
}

crate::on_both_backends!(
    reactions_are_broadcast_toggled_and_kept,
    authors_edit_and_delete_their_own_messages,
    moderators_delete_public_messages_not_direct_ones,
    typing_is_throttled_and_never_stored,
    a_chat_lock_silences_everyone_but_moderators,
);
