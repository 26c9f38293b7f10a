//! Malformed input gets a typed error frame, never a panic or a silent drop.

mod common;

use common::Room;
use serde_json::json;
use signaling::{Limits, SessionConfig, SessionRole, parse_client_message};

#[test]
fn malformed_frames_get_error_codes() {
    let mut room = Room::new();
    let pat = room.join("Pat", SessionRole::Participant);
    let code = |room: &mut Room, bytes: &[u8]| {
        room.send_raw(pat, bytes);
        room.reply(pat)["code"].as_str().unwrap().to_string()
    };
    assert_eq!(code(&mut room, b"{not json"), "bad_json");
    assert_eq!(code(&mut room, b"[1,2,3]"), "bad_json");
    assert_eq!(code(&mut room, &[0xff, 0xfe, 0x00]), "bad_json");
    assert_eq!(code(&mut room, br#"{"text":"no type"}"#), "invalid");
    assert_eq!(
        code(&mut room, br#"{"type":"chat.shout","id":"x1"}"#),
        "unknown_type"
    );
    assert_eq!(
        room.reply(pat)["ref"],
        "x1",
        "the id is echoed even for unknown types"
    );
    assert_eq!(
        code(&mut room, br#"{"type":"chat.send","id":5}"#),
        "invalid"
    );
    assert_eq!(room.reply(pat)["ref"], 5);
    assert_eq!(
        code(
            &mut room,
            br#"{"type":"poll.vote","poll":"nope","choices":[0]}"#
        ),
        "invalid"
    );
    assert_eq!(
        code(&mut room, br#"{"type":"ping","id":{"deep":1}}"#),
        "invalid"
    );
}

#[test]
fn oversized_frames_are_refused_before_parsing() {
    let limits = Limits {
        max_frame_bytes: 64,
        ..Limits::default()
    };
    let big = format!(r#"{{"type":"chat.send","text":"{}"}}"#, "a".repeat(100));
    let err = parse_client_message(big.as_bytes(), limits.max_frame_bytes).unwrap_err();
    assert_eq!(err.error.code, signaling::ErrorCode::TooLarge);

    let mut room = Room::with_config(SessionConfig {
        limits,
        ..SessionConfig::default()
    });
    let pat = room.join("Pat", SessionRole::Participant);
    room.send_raw(pat, big.as_bytes());
    assert_eq!(room.reply(pat)["code"], "too_large");
}

#[test]
fn ping_pongs_with_the_request_id() {
    let mut room = Room::new();
    let pat = room.join("Pat", SessionRole::Participant);
    room.send(pat, json!({"type": "ping", "id": "p-1"}));
    assert_eq!(room.reply(pat), json!({"type": "pong", "ref": "p-1"}));
}

#[test]
fn acks_echo_the_id_and_carry_a_result() {
    let mut room = Room::new();
    let pat = room.join("Pat", SessionRole::Participant);
    room.send(pat, json!({"type": "chat.send", "id": 42, "text": "hi"}));
    let ack = room.reply(pat);
    assert_eq!(ack["type"], "ack");
    assert_eq!(ack["ref"], 42);
    assert!(ack["result"]["message"].is_string());
}

#[test]
fn rate_limit_is_a_token_bucket_over_the_given_clock() {
    let mut room = Room::new();
    let pat = room.join("Pat", SessionRole::Participant);
    let burst = Limits::default().rate_burst as usize;
    for _ in 0..burst {
        room.send(pat, json!({"type": "ping"}));
    }
    assert_eq!(room.reply(pat)["type"], "pong");
    room.send(pat, json!({"type": "ping"}));
    assert_eq!(room.reply(pat)["code"], "rate_limited");
    // garbage costs tokens too, so flooding junk is limited the same way
    room.send_raw(pat, b"junk");
    assert_eq!(room.reply(pat)["code"], "rate_limited");
    room.advance(1);
    room.send(pat, json!({"type": "ping"}));
    assert_eq!(room.reply(pat)["type"], "pong");
}

#[test]
fn arbitrary_bytes_never_panic() {
    // a small deterministic fuzz: mutations of valid frames and random noise
    let valid = [
        r#"{"type":"chat.send","text":"hello","id":1}"#,
        r#"{"type":"poll.create","question":"q","options":["a","b"],"multiple":true,"max_choices":2}"#,
        r#"{"type":"resume","last_seq":3}"#,
        r#"{"type":"media.state","mic":true}"#,
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    for round in 0..3000 {
        let mut bytes = valid[round % valid.len()].as_bytes().to_vec();
        for _ in 0..(next() % 4) {
            let at = (next() as usize) % bytes.len();
            bytes[at] = next() as u8;
        }
        if round % 7 == 0 {
            bytes.truncate((next() as usize) % bytes.len());
        }
        room.advance(1);
        room.send_raw(host, &bytes);
        let reply = room.reply(host);
        assert!(matches!(
            reply["type"].as_str(),
            Some("ack" | "error" | "pong")
        ));
    }
}

#[test]
fn reconnecting_does_not_refill_the_bucket() {
    let mut room = Room::new();
    let ann_info = common::info(
        "Ann",
        signaling::AccountRole::User,
        SessionRole::Participant,
    );
    let ann = room.join_info(ann_info.clone());
    for _ in 0..Limits::default().rate_burst {
        room.send(ann, json!({"type": "ping"}));
    }
    room.disconnect(ann);
    let ann = room.join_info(ann_info);
    room.send(ann, json!({"type": "ping"}));
    assert_eq!(room.reply(ann)["code"], "rate_limited");
}

#[test]
fn sessions_and_frames_move_across_tasks() {
    fn send_and_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send::<signaling::Session>();
    send_and_sync::<signaling::Frame>();
    send_and_sync::<signaling::StoredEvent>();
    send_and_sync::<signaling::Output>();
}
