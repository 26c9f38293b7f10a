//! One y-websocket binary frame from a writer, straight into a note room: the frame decoder
//! (sync steps, updates, awareness, auth, custom types) and the Yjs update decoder behind it.
//! Whatever the bytes, the room must answer with outputs or a close code, and what it asked
//! to persist must rebuild the same document.
#![no_main]

use std::time::Instant;

use crdt::{Access, ConnId, Input, Limits, Output, Room, UserId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    let now = Instant::now();
    let mut room = Room::new(Limits::default(), now);
    let (conn, user) = (ConnId(1), UserId::from("writer"));
    let connect = Input::Connect {
        conn,
        user: &user,
        access: Access::Write,
    };
    room.handle_input(now, connect).expect("a first connection joins");
    room.handle_input(now, Input::Frame { conn, frame })
        .expect("frames never fail: a bad one closes its connection");
    let mut persisted = Vec::new();
    loop {
        match room.poll_output() {
            Output::Timeout(_) => break,
            Output::Persist(update) => persisted.push(update),
            _ => {}
        }
    }
    let reloaded = Room::load(
        None,
        persisted.iter().map(|u| u.as_ref()),
        Limits::default(),
        now,
    )
    .expect("what the room persisted reloads");
    assert_eq!(
        reloaded.text(),
        room.text(),
        "persisted updates rebuild the text"
    );
});
