//! The session's side of the media engine: `media.*` messages become engine requests
//! answered later, tracks the engine reports become signals and flags, and a moderator's
//! mute switches a source off.

mod common;

use common::{Room, info};
use serde_json::{Value, json};
use signaling::protocol::client::{MediaKind, Quality};
use signaling::{AccountRole, HubError, MediaMessage, RequestId, SessionConfig, SessionRole};

fn signals(frames: &[Value], kind: &str) -> Vec<Value> {
    frames
        .iter()
        .filter(|f| f["type"] == "signal" && f["signal"]["kind"] == kind)
        .map(|f| f["signal"].clone())
        .collect()
}

#[test]
fn media_messages_go_to_the_engine_and_its_answer_comes_back_as_the_ack() {
    let mut room = Room::new();
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(ann);
    room.send(
        ann,
        json!({"type": "media.offer", "id": 4, "sdp": "v=0 ...", "tracks": {"0": "microphone", "1": "camera", "2": "screen"}}),
    );
    assert!(
        room.take(ann).is_empty(),
        "no ack before the engine answers"
    );
    let request = room.media.pop().expect("a request for the engine");
    assert_eq!(request.participant, ann.id);
    assert_eq!(request.reference, Some(RequestId::Number(4)));
    assert_eq!(
        request.message,
        MediaMessage::Offer {
            sdp: "v=0 ...".into(),
            tracks: vec![
                ("0".into(), MediaKind::Audio),
                ("1".into(), MediaKind::Video),
                ("2".into(), MediaKind::Screen),
            ],
        }
    );

    room.session.media_reply(
        ann.id,
        request.reference,
        Ok(Some(json!({"sdp": "answer"}))),
    );
    room.drain();
    let reply = room.reply(ann);
    assert_eq!(
        reply,
        json!({"type": "ack", "ref": 4, "result": {"sdp": "answer"}})
    );

    room.send(
        ann,
        json!({"type": "media.subscribe", "id": "s", "track": "t3", "quality": "off"}),
    );
    let request = room.media.pop().unwrap();
    assert_eq!(
        request.message,
        MediaMessage::Subscribe {
            track: "t3".into(),
            quality: Quality::Off
        }
    );
    room.session.media_reply(
        ann.id,
        request.reference,
        Err(HubError::not_found("no such track")),
    );
    room.drain();
    assert_eq!(room.reply(ann)["code"], "not_found");
    assert_eq!(room.reply(ann)["ref"], "s");
}

#[test]
fn media_messages_are_checked_before_the_engine_sees_them() {
    let mut room = Room::with_config(SessionConfig {
        lobby: true,
        ..SessionConfig::default()
    });
    let host = room.join("Host", SessionRole::Host);
    let waiting = room.join_info(info("Wait", AccountRole::User, SessionRole::Participant));
    assert_eq!(room.err(waiting, json!({"type": "media.join"})), "in_lobby");
    assert_eq!(
        room.err(host, json!({"type": "media.offer", "sdp": 5})),
        "invalid"
    );
    assert_eq!(
        room.err(
            host,
            json!({"type": "media.subscribe", "track": "t1", "quality": "ultra"})
        ),
        "invalid"
    );
    assert_eq!(
        room.err(
            host,
            json!({"type": "media.offer", "sdp": "x", "tracks": {"0": "webcam"}})
        ),
        "invalid"
    );
    assert!(room.media.is_empty());
    // The same token bucket as every message: a flood of candidates is cut off.
    for _ in 0..40 {
        room.send(host, json!({"type": "media.candidate", "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"}));
    }
    assert!(room.media.len() < 40, "rate limited");
    assert_eq!(room.reply(host)["code"], "rate_limited");
}

#[test]
fn tracks_are_announced_to_everyone_and_to_late_joiners() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(host);
    room.take(ann);

    room.session
        .track_changed(host.id, "t1", MediaKind::Video, true, room.now);
    room.drain();
    let seen = room.take(ann);
    let track = &signals(&seen, "media.track")[0];
    assert_eq!(track["participant"], json!(host.id));
    assert_eq!(track["track"], "t1");
    assert_eq!(track["source"], "camera");
    assert_eq!(track["live"], true);
    let changed: Vec<_> = seen.iter().filter(|f| f["type"] == "event").collect();
    assert_eq!(changed[0]["event"]["kind"], "media.changed");
    assert_eq!(changed[0]["event"]["camera"], true);

    let late = room.join("Late", SessionRole::Viewer);
    let welcome = room.take(late);
    assert_eq!(welcome[0]["type"], "welcome");
    assert_eq!(signals(&welcome, "media.track")[0]["track"], "t1");

    // A second camera track keeps the flag on until both stop.
    room.session
        .track_changed(host.id, "t2", MediaKind::Video, true, room.now);
    room.session
        .track_changed(host.id, "t1", MediaKind::Video, false, room.now);
    room.drain();
    assert!(room.session.state().present(host.id).unwrap().media.camera);
    room.session
        .track_changed(host.id, "t2", MediaKind::Video, false, room.now);
    room.drain();
    assert!(!room.session.state().present(host.id).unwrap().media.camera);
    let stops = signals(&room.take(late), "media.track");
    assert_eq!(stops.last().unwrap()["live"], false);
    let rejoined = room.join("Later", SessionRole::Viewer);
    assert!(signals(&room.take(rejoined), "media.track").is_empty());
}

#[test]
fn a_track_the_capabilities_do_not_allow_is_not_announced() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let viewer = room.join("View", SessionRole::Viewer);
    room.take(host);
    room.session
        .track_changed(viewer.id, "t9", MediaKind::Video, true, room.now);
    room.drain();
    assert!(signals(&room.take(host), "media.track").is_empty());
}

#[test]
fn engine_offers_and_demand_reach_only_their_participant() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    room.take(host);
    room.take(ann);
    room.session.media_offer(ann.id, "v=0 offer");
    room.session.track_demand(ann.id, "t4", false);
    room.drain();
    let got = room.take(ann);
    assert_eq!(got[0], json!({"type": "media.offer", "sdp": "v=0 offer"}));
    assert_eq!(
        signals(&got, "media.demand")[0],
        json!({"kind": "media.demand", "track": "t4", "used": false})
    );
    assert!(room.take(host).is_empty());
}

#[test]
fn a_moderators_mute_switches_the_source_off_until_its_owner_turns_it_on() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Presenter);
    room.ok(
        ann,
        json!({"type": "media.state", "mic": true, "camera": true}),
    );
    room.ok(
        host,
        json!({"type": "mod.mute_request", "participant": ann.id, "media": "microphone"}),
    );
    let media = room.session.state().present(ann.id).unwrap().media;
    assert!(!media.mic && media.camera);
    room.ok(
        ann,
        json!({"type": "media.state", "mic": true, "camera": true}),
    );
    assert!(room.session.state().present(ann.id).unwrap().media.mic);
}
