//! The first update of a note created with a body, built without a room.

use yrs::{Doc, ReadTxn, StateVector, Text, Transact};

use crate::CONTENT_TEXT;

/// A Yjs v1 update that creates a document whose [`CONTENT_TEXT`] holds `text`.
///
/// Store it as the note's first update (in the transaction that creates the note) so the
/// room loads the body. Generate it once per note: two seeds of the same text come from
/// different Yjs clients, so applying both would hold the text twice.
pub fn seed_update(text: &str) -> Vec<u8> {
    let doc = Doc::new();
    let content = doc.get_or_insert_text(CONTENT_TEXT);
    let mut txn = doc.transact_mut();
    content.insert(&mut txn, 0, text);
    txn.encode_state_as_update_v1(&StateVector::default())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::{Limits, Room};

    #[test]
    fn a_room_loaded_from_a_seed_holds_its_text() {
        let seed = seed_update("# Notes\nfirst line");
        let room = Room::load(None, [seed.as_slice()], Limits::default(), Instant::now()).unwrap();
        assert_eq!(room.text(), "# Notes\nfirst line");
    }
}
