//! Moderation on the hub over real WebSockets: ask-to-mute, recording refused until the
//! server records, the lobby, and live permission changes.

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::hub_client::{Cast, HubClient, Stage, join, live_session, participant_id, stored};

/// Whether `frames` hold an event of this kind.
fn has_event(frames: &[Value], kind: &str) -> bool {
    frames.iter().any(|f| f["event"]["kind"] == kind)
}

async fn mute_requests_reach_the_target_and_moderators_only(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let cole = app.user_with_role("cole@example.com", "user").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let (mut h, host_id) = HubClient::join_with_id(&app, &id, &host).await;
    let (mut c, cole_id) = HubClient::join_with_id(&app, &id, &cole).await;
    let (mut a, ann_id) = HubClient::join_with_id(&app, &id, &ann).await;
    let (mut b, _) = HubClient::join(&app, &id, &bob).await;
    h.ok(json!({"type": "mod.set_role", "participant": cole_id, "role": "cohost"}))
        .await;
    c.event("role.changed").await;

    h.ok(json!({"type": "mod.mute_request", "participant": ann_id, "media": "video"}))
        .await;
    for client in [&mut a, &mut c] {
        let asked = client.event("mod.mute_requested").await;
        assert_eq!(
            asked["event"],
            json!({"kind": "mod.mute_requested", "participant": ann_id, "media": "video",
                   "by": host_id})
        );
    }
    // Bob, a bystander, never sees it: it would come before the chat message after it.
    h.ok(json!({"type": "chat.send", "text": "fence"})).await;
    let seen = b
        .frames_until(|f| f["event"]["kind"] == "chat.posted")
        .await;
    assert!(!has_event(&seen, "mod.mute_requested"), "{seen:?}");

    // The media defaults to audio; a cohost asks too; nobody asks their superior.
    c.ok(json!({"type": "mod.mute_request", "participant": ann_id}))
        .await;
    let asked = a.event("mod.mute_requested").await;
    assert_eq!(
        (&asked["event"]["media"], &asked["event"]["by"]),
        (&json!("audio"), &json!(cole_id))
    );
    let upward = c
        .request(json!({"type": "mod.mute_request", "participant": host_id}))
        .await;
    assert_eq!(upward["code"], "forbidden", "{upward}");
    let by_participant = a
        .request(json!({"type": "mod.mute_request", "participant": cole_id}))
        .await;
    assert_eq!(by_participant["code"], "forbidden", "{by_participant}");
    let nobody = h
        .request(json!({"type": "mod.mute_request", "participant": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(nobody["code"], "not_found", "{nobody}");
    let bad_media = h
        .request(json!({"type": "mod.mute_request", "participant": ann_id, "media": "smell"}))
        .await;
    assert_eq!(bad_media["code"], "invalid", "{bad_media}");
    assert_eq!(stored(&app, &id, "mod.mute_requested").await.len(), 2);
}

/// Recording's state machine through the hub: refused without the capability, each step
/// only from the state it belongs to, late joiners told in their welcome; on a server
/// that does not record, `recording.start` is refused with `unavailable` and nobody is
/// told a recording started. The consent notice itself is the session's
/// (`signaling/tests/moderation.rs`); the files are `recording.rs`'s.
async fn recording_moves_through_its_states_and_is_refused_where_it_does_not_record(
    backend: Backend,
) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let id = stage.id.clone();
    let (mut h, mut a) = (stage.host.client, stage.ann.client);
    let refused = a.request(json!({"type": "recording.start"})).await;
    assert_eq!(refused["code"], "forbidden", "{refused}");
    for kind in ["recording.stop", "recording.pause", "recording.resume"] {
        let answer = h.request(json!({"type": kind})).await;
        assert_eq!(answer["code"], "wrong_state", "{kind}: {answer}");
    }
    h.ok(json!({"type": "recording.start"})).await;
    assert!(a.event("recording.started").await["event"]["notice"].is_string());
    let again = h.request(json!({"type": "recording.start"})).await;
    assert_eq!(again["code"], "wrong_state", "{again}");
    let not_paused = h.request(json!({"type": "recording.resume"})).await;
    assert_eq!(not_paused["code"], "wrong_state", "{not_paused}");
    h.ok(json!({"type": "recording.pause"})).await;
    a.event("recording.paused").await;
    let welcome = HubClient::join(&app, &id, &stage.cast.carol).await.1;
    let recording = &welcome["snapshot"]["recording"];
    assert_eq!(recording["paused"], true, "{welcome}");
    assert!(
        recording["notice"].is_string(),
        "a late joiner is told: {welcome}"
    );
    h.ok(json!({"type": "recording.resume"})).await;
    a.event("recording.resumed").await;
    h.ok(json!({"type": "recording.stop"})).await;
    a.event("recording.stopped").await;
    let kinds: Vec<String> = stored(&app, &id, "recording.")
        .await
        .iter()
        .map(|json| serde_json::from_str::<Value>(json).unwrap()["event"]["kind"].to_string())
        .collect();
    let expected =
        ["started", "paused", "resumed", "stopped"].map(|k| format!("\"recording.{k}\""));
    assert_eq!(kinds, expected);

    let Some(app) = TestApp::start_with(backend, |config| {
        config.merge(figment::providers::Serialized::default(
            "recording.enabled",
            false,
        ))
    })
    .await
    else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let mut h = stage.host.client;
    let unavailable = h.request(json!({"type": "recording.start"})).await;
    assert_eq!(unavailable["code"], "unavailable", "{unavailable}");
    assert!(stored(&app, &stage.id, "recording.").await.is_empty());
}

async fn the_lobby_holds_knockers_until_admitted_or_denied(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let Cast {
        host,
        ann,
        bob,
        carol,
    } = Cast::sign_up(&app).await;
    let id = live_session(&app, &host, json!({"lobby": true})).await;
    let (mut h, welcome) = HubClient::join(&app, &id, &host).await;
    assert_eq!(welcome["lobby"], false, "{welcome}");
    let host_id = participant_id(&welcome);

    // Ann knocks: she waits without a snapshot; only pings work meanwhile.
    let (mut a, welcome) = HubClient::join(&app, &id, &ann).await;
    assert_eq!(welcome["lobby"], true, "{welcome}");
    assert!(
        welcome.get("snapshot").is_none_or(Value::is_null),
        "{welcome}"
    );
    let ann_id = participant_id(&welcome);
    let knocked = h.event("lobby.knocked").await;
    assert_eq!(knocked["event"]["info"]["participant"], json!(ann_id));
    assert_eq!(a.request(json!({"type": "ping"})).await["type"], "pong");
    for message in [
        json!({"type": "chat.send", "text": "hello?"}),
        json!({"type": "hand.raise"}),
        json!({"type": "qa.ask", "text": "can I come in?"}),
    ] {
        assert_eq!(a.request(message).await["code"], "in_lobby");
    }
    // The host sees the lobby in its own snapshot too (a rejoin shows it).
    let lobby = h
        .request(json!({"type": "resume", "last_seq": 1_000_000}))
        .await;
    assert_eq!(
        lobby["snapshot"]["lobby"][0]["info"]["participant"],
        json!(ann_id),
        "{lobby}"
    );

    // Admitted: a full welcome, her join is announced, she takes part.
    h.ok(json!({"type": "lobby.admit", "participant": ann_id}))
        .await;
    let admitted = a.until(|f| f["type"] == "welcome").await;
    assert_eq!(admitted["lobby"], false, "{admitted}");
    assert!(admitted["snapshot"].is_object(), "{admitted}");
    let admitted_event = h.event("lobby.admitted").await;
    assert_eq!(admitted_event["event"]["by"], json!(host_id));
    let joined = h.event("participant.joined").await;
    assert_eq!(joined["event"]["info"]["participant"], json!(ann_id));
    a.ok(json!({"type": "chat.send", "text": "thanks"})).await;
    h.until(|f| f["event"]["text"] == "thanks").await;

    // Participants cannot admit; others do not see the lobby traffic.
    let (mut b, bob_id) = HubClient::join_with_id(&app, &id, &bob).await;
    h.until(|f| {
        f["event"]["kind"] == "lobby.knocked" && f["event"]["info"]["participant"] == json!(bob_id)
    })
    .await;
    let by_ann = a
        .request(json!({"type": "lobby.admit", "participant": bob_id}))
        .await;
    assert_eq!(by_ann["code"], "forbidden", "{by_ann}");
    // Denied: closed with 4406.
    h.ok(json!({"type": "lobby.deny", "participant": bob_id}))
        .await;
    assert_eq!(b.closed().await, Some(4406));
    let denied = h.event("lobby.denied").await;
    assert_eq!(denied["event"]["participant"], json!(bob_id));
    let gone = h
        .request(json!({"type": "lobby.admit", "participant": bob_id}))
        .await;
    assert_eq!(gone["code"], "not_found", "{gone}");

    // A knocker who gives up leaves the lobby.
    let (c, carol_id) = HubClient::join_with_id(&app, &id, &carol).await;
    h.until(|f| {
        f["event"]["kind"] == "lobby.knocked"
            && f["event"]["info"]["participant"] == json!(carol_id)
    })
    .await;
    c.close().await;
    let left = h.event("lobby.left").await;
    assert_eq!(left["event"]["participant"], json!(carol_id));

    // Ann never saw the lobby traffic (it would come before this message); once
    // admitted, she reconnects without waiting.
    h.ok(json!({"type": "chat.send", "text": "fence"})).await;
    let seen = a.frames_until(|f| f["event"]["text"] == "fence").await;
    assert!(
        seen.iter().all(|f| !f["event"]["kind"]
            .as_str()
            .unwrap_or("")
            .starts_with("lobby.")),
        "{seen:?}"
    );
    a.close().await;
    h.event("participant.left").await;
    let (_a, welcome) = HubClient::join(&app, &id, &ann).await;
    assert_eq!(welcome["lobby"], false, "{welcome}");
    let rows = stored(&app, &id, "lobby.").await;
    assert_eq!(rows.len(), 6, "{rows:?}"); // 3 knocks, admitted, denied, left
}

async fn live_role_changes_grant_and_revoke_capabilities(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let (mut h, host_id) = HubClient::join_with_id(&app, &id, &host).await;
    let (mut a, ann_id) = HubClient::join_with_id(&app, &id, &ann).await;
    let (mut b, bob_id) = HubClient::join_with_id(&app, &id, &bob).await;
    let screen = json!({"type": "media.state", "screen": true});
    let poll = json!({"type": "poll.create", "question": "Q?", "options": ["a", "b"]});

    assert_eq!(a.request(screen.clone()).await["code"], "forbidden");
    h.ok(json!({"type": "mod.set_role", "participant": ann_id, "role": "presenter"}))
        .await;
    // Everyone learns the new role and its capabilities.
    for client in [&mut a, &mut b] {
        let changed = client.event("role.changed").await;
        assert_eq!(changed["event"]["participant"], json!(ann_id));
        assert_eq!(changed["event"]["role"], "presenter");
        assert_eq!(changed["event"]["by"], json!(host_id));
    }
    // The presenter now shares a screen and runs a poll; Bob still cannot.
    a.ok(screen.clone()).await;
    let media = b.event("media.changed").await;
    assert_eq!(media["event"]["screen"], true, "{media}");
    a.ok(poll.clone()).await;
    assert_eq!(b.request(screen.clone()).await["code"], "forbidden");

    // Demoted to viewer: the new capabilities are gone at once, the stored role sticks.
    h.ok(json!({"type": "mod.set_role", "participant": ann_id, "role": "viewer"}))
        .await;
    a.until(|f| f["event"]["kind"] == "role.changed" && f["event"]["role"] == "viewer")
        .await;
    for message in [poll.clone(), screen.clone(), json!({"type": "hand.raise"})] {
        let answer = a.request(message.clone()).await;
        assert_eq!(answer["code"], "forbidden", "{message} → {answer}");
    }
    a.ok(json!({"type": "chat.send", "text": "viewers chat"}))
        .await;
    assert_eq!(join(&app, &id, &ann).await["role"], "viewer");
    a.close().await;
    let (mut a, welcome) = HubClient::join(&app, &id, &ann).await;
    assert_eq!(welcome["participant"]["role"], "viewer", "{welcome}");
    assert_eq!(a.request(poll.clone()).await["code"], "forbidden");

    // A cohost promotes below their own rank only.
    h.ok(json!({"type": "mod.set_role", "participant": bob_id, "role": "cohost"}))
        .await;
    b.until(|f| f["event"]["kind"] == "role.changed" && f["event"]["participant"] == json!(bob_id))
        .await;
    b.ok(json!({"type": "mod.set_role", "participant": ann_id, "role": "presenter"}))
        .await;
    a.until(|f| f["event"]["kind"] == "role.changed" && f["event"]["role"] == "presenter")
        .await;
    a.ok(poll.clone()).await;
    for (target, role) in [(&ann_id, "cohost"), (&host_id, "participant")] {
        let answer = b
            .request(json!({"type": "mod.set_role", "participant": target, "role": role}))
            .await;
        assert_eq!(answer["code"], "forbidden", "{target} {role} → {answer}");
    }
    let unknown_role = h
        .request(json!({"type": "mod.set_role", "participant": bob_id, "role": "king"}))
        .await;
    assert_eq!(unknown_role["code"], "invalid", "{unknown_role}");
    assert_eq!(stored(&app, &id, "role.changed").await.len(), 4);
}

crate::on_both_backends!(
    mute_requests_reach_the_target_and_moderators_only,
    recording_moves_through_its_states_and_is_refused_where_it_does_not_record,
    the_lobby_holds_knockers_until_admitted_or_denied,
    live_role_changes_grant_and_revoke_capabilities,
);
