//! Frames from clients: limits first, then each y-websocket message in the frame.

use std::time::Instant;

use yrs::encoding::read::{self, Cursor};
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, StateVector, Transact};

use super::{Room, encode};
use crate::{CloseCode, ConnId, Output};

impl Room {
    /// Handles one frame from `conn` (see [`crate::Input::Frame`]); a frame that breaks a
    /// limit or the protocol closes its connection. Its document changes wait in the batch.
    pub(super) fn receive(
        &mut self,
        conn: ConnId,
        frame: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if let Err(code) = self.handle_frame(conn, frame, now, out) {
            self.close_connection(conn, code, out);
        }
    }

    /// Checks one frame against the limits, then handles its messages in order; the first
    /// that fails stops the rest and says how the connection closes.
    fn handle_frame(
        &mut self,
        conn: ConnId,
        frame: &[u8],
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<(), CloseCode> {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return Ok(());
        };
        if frame.len() > self.limits.max_frame_bytes {
            return Err(CloseCode::TooLarge);
        }
        if !peer.frames.try_take(now) {
            return Err(CloseCode::RateLimited);
        }
        let messages = decode_frame(frame).ok_or(CloseCode::BadMessage)?;
        for message in messages {
            self.charge_change(conn, &message, now)?;
            self.handle_message(conn, message, out)?;
        }
        Ok(())
    }

    /// Takes a change token for edits and for awareness that is more than an echo of
    /// states other connections own.
    fn charge_change(
        &mut self,
        conn: ConnId,
        message: &Message,
        now: Instant,
    ) -> Result<(), CloseCode> {
        let is_change = match message {
            Message::Sync(SyncMessage::SyncStep2(_) | SyncMessage::Update(_)) => true,
            Message::Awareness(update) => update
                .clients
                .keys()
                .any(|id| self.awareness_owner(*id).is_none_or(|owner| owner == conn)),
            _ => false,
        };
        let Some(peer) = self.peers.get_mut(&conn) else {
            return Ok(());
        };
        if is_change && !peer.changes.try_take(now) {
            return Err(CloseCode::RateLimited);
        }
        Ok(())
    }

    fn handle_message(
        &mut self,
        conn: ConnId,
        message: Message,
        out: &mut Vec<Output>,
    ) -> Result<(), CloseCode> {
        match message {
            Message::Sync(SyncMessage::SyncStep1(state_vector)) => {
                // The reply shows the document: what it holds must be stored first.
                self.release_changes(out);
                out.push(self.sync_step2(conn, &state_vector));
                Ok(())
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                self.client_update(conn, &update, false, out)
            }
            Message::Sync(SyncMessage::Update(update)) => {
                self.client_update(conn, &update, true, out)
            }
            Message::Awareness(update) => self.client_awareness(conn, update, out),
            Message::AwarenessQuery => {
                if let Some(frame) = self.awareness_frame() {
                    out.push(Output::Send { to: conn, frame });
                }
                Ok(())
            }
            // Clients have nothing to authorise the server with; ignore like y-websocket does.
            Message::Auth(_) => Ok(()),
            Message::Custom(tag, _) => {
                tracing::trace!(%conn, tag, "ignoring unknown message type");
                Ok(())
            }
        }
    }

    /// Everything the client lacks: the reply that makes `provider.synced` true.
    fn sync_step2(&self, conn: ConnId, state_vector: &StateVector) -> Output {
        let update = self
            .awareness
            .doc()
            .transact()
            .encode_state_as_update_v1(state_vector);
        Output::Send {
            to: conn,
            frame: encode(&Message::Sync(SyncMessage::SyncStep2(update))),
        }
    }
}

/// All messages of a frame, or `None` if any is malformed or the frame ends mid-message.
/// (yrs' `MessageReader` stops quietly at a truncated message; a truncated frame is a broken
/// client and must not half-apply.) The check re-encodes: lib0 encodings are canonical, so
/// the lengths add up exactly when every byte was a whole message.
fn decode_frame(frame: &[u8]) -> Option<Vec<Message>> {
    let mut decoder = DecoderV1::new(Cursor::new(frame));
    let mut messages = Vec::new();
    loop {
        match Message::decode(&mut decoder) {
            Ok(message) => messages.push(message),
            Err(read::Error::EndOfBuffer(_)) => break,
            Err(_) => return None,
        }
    }
    let consumed: usize = messages.iter().map(|m| m.encode_v1().len()).sum();
    (consumed == frame.len()).then_some(messages)
}
