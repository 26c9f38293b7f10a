//! Moderation: mute requests, removal and bans, lock and lobby, live role changes,
//! ending for all, recording with consent notice, presence and hidden participants.

mod common;

use common::{Room, info};
use serde_json::json;
use signaling::{AccountRole, CloseCode, JoinRefused, SessionConfig, SessionRole};

#[test]
fn presence_and_media_state() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let joined = room.events(host);
    assert_eq!(joined[0]["kind"], "participant.joined");
    assert_eq!(joined[0]["info"]["name"], "Ann");
    room.ok(
        host,
        json!({"type": "media.state", "mic": true, "camera": true}),
    );
    let media = room.events(ann);
    assert_eq!(media.last().unwrap()["kind"], "media.changed");
    assert_eq!(media.last().unwrap()["camera"], true);
    room.disconnect(ann);
    assert_eq!(room.kinds(host).last().unwrap(), "participant.left");
    assert_eq!(
        room.session.snapshot_for(host.id)["participants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn hidden_recorders_are_listed_to_admins_only() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(host);
    room.take(ann);
    let mut recorder = info("Recorder", AccountRole::Admin, SessionRole::Viewer);
    recorder.hidden = true;
    room.join_info(recorder);
    assert_eq!(room.kinds(host), ["participant.joined"]);
    assert!(room.take(ann).is_empty());
    assert_eq!(
        room.session.snapshot_for(ann.id)["participants"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        room.session.snapshot_for(host.id)["participants"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn mute_request_goes_to_the_target_and_admins() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let pres = room.join("Pres", SessionRole::Presenter);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(ann);
    room.take(pres);
    room.ok(
        host,
        json!({"type": "mod.mute_request", "participant": pres.id, "media": "video"}),
    );
    let asked = room.events(pres);
    assert_eq!(asked[0]["kind"], "mod.mute_requested");
    assert_eq!(asked[0]["media"], "video");
    assert!(room.take(ann).is_empty());
}

#[test]
fn removal_closes_and_a_ban_refuses_rejoining() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let cohost = room.join("Co", SessionRole::Cohost);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let ann = room.join_info(ann_info.clone());
    room.ok(host, json!({"type": "hand.raise"}));
    room.ok(ann, json!({"type": "hand.raise"}));

    assert_eq!(
        room.err(
            cohost,
            json!({"type": "mod.remove", "participant": host.id})
        ),
        "forbidden"
    );
    room.ok(cohost, json!({"type": "mod.remove", "participant": ann.id}));
    assert_eq!(room.closed[&ann.conn], CloseCode::Removed);
    assert_eq!(room.session.state().hands.position(ann.id), None);
    let ann = room.join_info(ann_info.clone());
    room.ok(
        host,
        json!({"type": "mod.remove", "participant": ann.id, "ban": true}),
    );
    assert_eq!(room.closed[&ann.conn], CloseCode::Banned);
    assert_eq!(
        room.connect(ann_info, None).unwrap_err(),
        JoinRefused::Banned
    );
}

#[test]
fn locked_session_sends_newcomers_to_the_lobby() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let ann = room.join_info(ann_info.clone());
    room.ok(host, json!({"type": "mod.lock", "locked": true}));
    room.take(host);

    // Ann was admitted before the lock: her reconnect passes
    room.disconnect(ann);
    let ann = room.join_info(ann_info);
    assert_eq!(room.take(ann)[0]["lobby"], false);

    let bob = room.join("Bob", SessionRole::Participant);
    let welcome = &room.take(bob)[0];
    assert_eq!(welcome["lobby"], true);
    assert!(
        welcome.get("snapshot").is_none(),
        "nothing of the room leaks to the lobby"
    );
    assert_eq!(
        room.err(bob, json!({"type": "chat.send", "text": "let me in"})),
        "in_lobby"
    );
    room.take(bob);
    let knocks = room.events(host);
    assert_eq!(knocks.last().unwrap()["kind"], "lobby.knocked");
    assert!(
        room.take(ann).is_empty(),
        "participants do not see the lobby"
    );

    room.ok(host, json!({"type": "lobby.admit", "participant": bob.id}));
    let frames = room.take(bob);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["type"], "welcome");
    assert_eq!(frames[0]["lobby"], false);
    assert!(frames[0]["snapshot"].is_object());
    room.ok(bob, json!({"type": "chat.send", "text": "thanks"}));

    // someone removed while the session is locked knocks like a newcomer
    room.ok(host, json!({"type": "mod.remove", "participant": ann.id}));
    let ann_info = room
        .session
        .state()
        .participant(ann.id)
        .unwrap()
        .info
        .clone();
    let ann = room.join_info(ann_info);
    assert_eq!(room.take(ann)[0]["lobby"], true);

    let eve = room.join("Eve", SessionRole::Participant);
    room.ok(host, json!({"type": "lobby.deny", "participant": eve.id}));
    assert_eq!(room.closed[&eve.conn], CloseCode::Denied);
    assert_eq!(room.session.state().lobby.len(), 1, "Ann still waits");
}

#[test]
fn lobby_setting_and_leaving_the_lobby() {
    let mut room = Room::with_config(SessionConfig {
        lobby: true,
        ..SessionConfig::default()
    });
    let host = room.join("Host", SessionRole::Host);
    assert_eq!(room.take(host)[0]["lobby"], false, "admins skip the lobby");
    let ann = room.join("Ann", SessionRole::Participant);
    assert_eq!(room.session.state().lobby.len(), 1);
    room.disconnect(ann);
    assert!(room.session.state().lobby.is_empty());
    assert_eq!(room.kinds(host), ["lobby.knocked", "lobby.left"]);
}

#[test]
fn promotion_changes_capabilities_live() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let cohost = room.join("Co", SessionRole::Cohost);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let ann = room.join_info(ann_info.clone());
    assert_eq!(
        room.err(ann, json!({"type": "media.state", "mic": true})),
        "forbidden"
    );

    room.ok(
        host,
        json!({"type": "mod.set_role", "participant": ann.id, "role": "presenter"}),
    );
    let changed = room.events(ann);
    let event = changed.last().unwrap();
    assert_eq!(event["kind"], "role.changed");
    assert!(
        event["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("publish_audio"))
    );
    room.ok(
        ann,
        json!({"type": "media.state", "mic": true, "screen": true}),
    );

    // demotion switches off what is no longer allowed
    room.ok(
        cohost,
        json!({"type": "mod.set_role", "participant": ann.id, "role": "viewer"}),
    );
    let media = room.session.state().participant(ann.id).unwrap().media;
    assert!(!media.mic && !media.screen);

    // the session's role outlives a reconnect with an older ticket
    room.disconnect(ann);
    let again = room.join_info(ann_info);
    assert_eq!(room.take(again)[0]["participant"]["role"], "viewer");

    // co-hosts cannot make co-hosts or touch the host
    let co_to_co = json!({"type": "mod.set_role", "participant": ann.id, "role": "cohost"});
    assert_eq!(room.err(cohost, co_to_co.clone()), "forbidden");
    room.ok(host, co_to_co);
    assert_eq!(
        room.err(
            cohost,
            json!({"type": "mod.set_role", "participant": host.id, "role": "viewer"})
        ),
        "forbidden"
    );
}

#[test]
fn recording_announces_consent_to_everyone() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(ann);
    room.ok(host, json!({"type": "recording.start"}));
    let started = room.events(ann);
    assert_eq!(started[0]["kind"], "recording.started");
    assert!(started[0]["notice"].as_str().unwrap().contains("recorded"));
    assert_eq!(
        room.err(host, json!({"type": "recording.start"})),
        "wrong_state"
    );
    let late = room.join("Late", SessionRole::Viewer);
    assert!(room.take(late)[0]["snapshot"]["recording"]["since"].is_string());
    room.ok(host, json!({"type": "recording.stop"}));
    assert!(room.session.state().recording.is_none());
}

#[test]
fn recording_is_refused_where_the_server_cannot_record() {
    let mut room = Room::with_config(SessionConfig::default());
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(ann);
    assert_eq!(
        room.err(host, json!({"type": "recording.start"})),
        "unavailable"
    );
    assert!(room.session.state().recording.is_none());
    assert!(room.take(ann).is_empty(), "nobody is told of a recording");
}

#[test]
fn ending_closes_everyone_and_refuses_joins() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    assert_eq!(room.err(ann, json!({"type": "session.end"})), "forbidden");
    room.take(ann);
    room.send(host, json!({"type": "session.end"}));
    assert_eq!(room.kinds(ann), ["session.ended"]);
    assert_eq!(room.closed[&ann.conn], CloseCode::Ended);
    assert_eq!(room.closed[&host.conn], CloseCode::Ended);
    assert_eq!(room.session.connection_count(), 0);
    let late = info("Late", AccountRole::User, SessionRole::Participant);
    assert_eq!(room.connect(late, None).unwrap_err(), JoinRefused::Ended);
}

#[test]
fn a_second_connection_replaces_the_first() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let first = room.join_info(ann_info.clone());
    room.take(host);
    let second = room.join_info(ann_info);
    assert_eq!(room.closed[&first.conn], CloseCode::Replaced);
    assert!(
        room.take(host).is_empty(),
        "no left/joined noise for a takeover"
    );
    room.disconnect(first);
    assert!(
        room.session.state().present(second.id).is_some(),
        "a stale close is ignored"
    );
    room.ok(second, json!({"type": "chat.send", "text": "still here"}));
}

#[test]
fn a_full_lobby_refuses_and_hidden_participants_take_no_messages() {
    let limits = signaling::Limits {
        max_lobby: 1,
        ..signaling::Limits::default()
    };
    let mut room = Room::with_config(SessionConfig {
        limits,
        lobby: true,
        ..SessionConfig::default()
    });
    let host = room.join("Host", SessionRole::Host);
    room.join("Ann", SessionRole::Participant);
    let bob = info("Bob", AccountRole::User, SessionRole::Participant);
    assert_eq!(room.connect(bob, None).unwrap_err(), JoinRefused::LobbyFull);
    assert_eq!(JoinRefused::LobbyFull.close_code().code(), 4406);

    let mut recorder = info("Recorder", AccountRole::Admin, SessionRole::Viewer);
    recorder.hidden = true;
    let recorder = room.join_info(recorder);
    assert_eq!(
        room.take(recorder)[0]["lobby"],
        false,
        "recorders skip the lobby"
    );
    let dm = json!({"type": "chat.send", "text": "hi", "to": recorder.id});
    assert_eq!(room.err(host, dm), "not_found");
}

#[test]
fn ending_from_the_server_closes_open_polls() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let poll = room.ok(
        host,
        json!({"type": "poll.create", "question": "q", "options": ["a", "b"]}),
    )["poll"]
        .clone();
    room.ok(host, json!({"type": "poll.open", "poll": poll}));
    room.session.end(room.now);
    room.drain();
    assert_eq!(room.closed[&host.conn], CloseCode::Ended);
    let state = room.session.state();
    assert!(state.ended.is_some());
    assert_eq!(
        state.polls.polls[0].status,
        signaling::state::PollStatus::Closed
    );
    assert_eq!(
        room.stored.last().unwrap().event,
        signaling::Event::SessionEnded { by: None }
    );
}
