//! One y-websocket binary frame from a writer, straight into a note room: the frame decoder
//! (sync steps, updates, awareness, auth, custom types) and the Yjs update decoder behind it.
//! Whatever the bytes, the room must answer with outputs or a close code, and what it asked
//! to persist must rebuild the same document.
#![no_main]

use std::time::Instant;

use crdt::{Access, Limits, Output, Room};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    let now = Instant::now();
    let mut room = Room::new(Limits::default(), now);
    let (conn, _) = room.connect("writer".into(), Access::Write, now);
    let outputs = room.receive(conn, frame, now);
    let persisted: Vec<&[u8]> = outputs
        .iter()
        .filter_map(|output| match output {
            Output::Persist(update) => Some(update.as_ref()),
            _ => None,
        })
        .collect();
    let reloaded = Room::load(None, persisted, Limits::default(), now)
        .expect("what the room persisted reloads");
    assert_eq!(
        reloaded.text(),
        room.text(),
        "persisted updates rebuild the text"
    );
});
