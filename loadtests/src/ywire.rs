//! The y-websocket messages a load client sends and the ones it needs to recognise, encoded
//! with `yrs::sync` so the bytes are exactly what the npm provider would send.

use yrs::StateVector;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

/// What a load client cares about in a frame from the server.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// The server's state vector: answer with a sync step 2.
    SyncStep1,
    /// The answer to our sync step 1: the client is synced from here on.
    SyncStep2,
    /// A relayed document update (lib0 v1).
    Update(Vec<u8>),
    /// Awareness, auth notices and anything else a load client ignores.
    Other,
}

/// `0, 0, stateVector`.
pub fn sync_step1(state_vector: &StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(state_vector.clone())).encode_v1()
}

/// `0, 1, update`.
pub fn sync_step2(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(update)).encode_v1()
}

/// `0, 2, update`.
pub fn update(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// Classifies a binary frame; a frame that does not decode is an error, not a panic.
pub fn parse(frame: &[u8]) -> Result<Incoming, yrs::encoding::read::Error> {
    Ok(match Message::decode_v1(frame)? {
        Message::Sync(SyncMessage::SyncStep1(_)) => Incoming::SyncStep1,
        Message::Sync(SyncMessage::SyncStep2(_)) => Incoming::SyncStep2,
        Message::Sync(SyncMessage::Update(update)) => Incoming::Update(update),
        _ => Incoming::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, GetString, Options, Text, Transact, Update};

    #[test]
    fn an_update_frame_round_trips_into_a_document() {
        let doc = Doc::with_options(Options::with_client_id(yrs::block::ClientID::new(7)));
        let text = doc.get_or_insert_text("content");
        let bytes = {
            let mut txn = doc.transact_mut();
            text.push(&mut txn, "abc");
            txn.encode_update_v1()
        };
        let Incoming::Update(received) = parse(&update(bytes)).unwrap() else {
            panic!("not an update")
        };
        let other = Doc::new();
        let other_text = other.get_or_insert_text("content");
        other
            .transact_mut()
            .apply_update(Update::decode_v1(&received).unwrap())
            .unwrap();
        assert_eq!(other_text.get_string(&other.transact()), "abc");
    }

    #[test]
    fn handshake_frames_are_recognised_and_garbage_is_an_error() {
        assert_eq!(
            parse(&sync_step1(&StateVector::default())).unwrap(),
            Incoming::SyncStep1
        );
        assert_eq!(
            parse(&sync_step2(Update::new().encode_v1())).unwrap(),
            Incoming::SyncStep2
        );
        assert_eq!(parse(&[1, 1, 0]).unwrap(), Incoming::Other);
        assert!(parse(&[0, 2, 200]).is_err());
    }
}
