//! Document edits: client updates, REST replacement, stored state, and the size cap.
//!
//! Every change that adds something to the document yields exactly the delta it added, which
//! is both persisted and relayed: a client resending what the room already has (a
//! reconnect's sync step 2) costs neither storage nor bandwidth.

use bytes::Bytes;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, Text, Transact, TransactionMut, Update};

use super::{Room, RoomError, encode, read_only_notice};
use crate::text_diff::minimal_edit;
use crate::{CloseCode, ConnId, Output};

impl Room {
    /// Applies a client's sync step 2 or update. `is_edit` marks an update message (a local
    /// edit); a read-only client's step 2 is the normal reply to our step 1 and is ignored
    /// quietly, its edits earn one auth notice.
    pub(super) fn client_update(
        &mut self,
        conn: ConnId,
        update: &[u8],
        is_edit: bool,
        out: &mut Vec<Output>,
    ) -> Result<(), CloseCode> {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return Ok(());
        };
        if !peer.access.can_write() {
            if is_edit && !peer.told_read_only {
                peer.told_read_only = true;
                out.push(Output::Send {
                    to: conn,
                    frame: read_only_notice(),
                });
            }
            return Ok(());
        }
        match self.apply_client_update(update) {
            Ok(Some(delta)) => self.publish(delta, Some(conn), out),
            Ok(None) => {}
            Err(RoomError::DocumentTooLarge { .. }) => return Err(CloseCode::TooLarge),
            Err(error) => {
                tracing::debug!(%conn, %error, "dropping connection with an invalid update");
                return Err(CloseCode::BadMessage);
            }
        }
        Ok(())
    }

    /// Replaces the Markdown body with `text` through the smallest single edit, so live
    /// editors see a normal remote change. Returns the outputs to perform (persist, then
    /// relay to every connection); none when the text is unchanged.
    pub fn replace_text(&mut self, text: &str) -> Result<Vec<Output>, RoomError> {
        let current = self.text();
        let Some(edit) = minimal_edit(&current, text) else {
            return Ok(Vec::new());
        };
        self.ensure_room_for(edit.inserted.len())?;
        let limit = self.limits.max_document_bytes;
        let offset = |n: usize| u32::try_from(n).map_err(|_| RoomError::DocumentTooLarge { limit });
        let (start, removed) = (offset(edit.start)?, offset(edit.removed)?);
        let delta = {
            let mut txn = self.awareness.doc().transact_mut();
            if removed > 0 {
                self.content.remove_range(&mut txn, start, removed);
            }
            if !edit.inserted.is_empty() {
                self.content.insert(&mut txn, start, edit.inserted);
            }
            txn.commit();
            added_delta(&txn)
        };
        let mut out = Vec::new();
        if let Some(delta) = delta {
            self.publish(delta, None, &mut out);
        }
        Ok(out)
    }

    /// Applies stored snapshot and updates in one transaction.
    pub(super) fn apply_stored<'a>(
        &mut self,
        updates: impl Iterator<Item = &'a [u8]>,
    ) -> Result<(), RoomError> {
        let mut txn = self.awareness.doc().transact_mut();
        for bytes in updates {
            let update =
                Update::decode_v1(bytes).map_err(|e| RoomError::CorruptState(e.to_string()))?;
            txn.apply_update(update)
                .map_err(|e| RoomError::CorruptState(e.to_string()))?;
        }
        Ok(())
    }

    fn apply_client_update(&mut self, bytes: &[u8]) -> Result<Option<Bytes>, RoomError> {
        self.ensure_room_for(bytes.len())?;
        let update =
            Update::decode_v1(bytes).map_err(|e| RoomError::InvalidUpdate(e.to_string()))?;
        let (delta, parked) = {
            let mut txn = self.awareness.doc().transact_mut();
            txn.apply_update(update)
                .map_err(|e| RoomError::InvalidUpdate(e.to_string()))?;
            txn.commit();
            (added_delta(&txn), txn.has_missing_updates())
        };
        if delta.is_none() && parked {
            // yrs parks updates whose predecessors are missing. They are part of the encoded
            // state but of no delta, so count them here or a client could grow them forever.
            self.size_estimate = self.size_estimate.saturating_add(bytes.len());
        }
        Ok(delta)
    }

    /// Persist first, then relay to everyone but the author (the author already has it).
    fn publish(&mut self, delta: Bytes, author: Option<ConnId>, out: &mut Vec<Output>) {
        self.size_estimate += delta.len();
        let to = self.peers_except(author);
        let frame = encode(&Message::Sync(SyncMessage::Update(delta.to_vec())));
        out.push(Output::Persist(delta));
        if !to.is_empty() {
            out.push(Output::Broadcast { to, frame });
        }
    }

    /// Refuses growth past the document limit; measures exactly only near the limit.
    fn ensure_room_for(&mut self, extra: usize) -> Result<(), RoomError> {
        let limit = self.limits.max_document_bytes;
        if self.size_estimate.saturating_add(extra) <= limit {
            return Ok(());
        }
        let exact = self.encode_state().len();
        if exact.saturating_add(extra) <= limit {
            Ok(())
        } else {
            Err(RoomError::DocumentTooLarge { limit })
        }
    }
}

/// What a committed transaction added, as a v1 update; `None` when it added nothing (the
/// same test yrs uses before emitting its update events).
fn added_delta(txn: &TransactionMut) -> Option<Bytes> {
    if txn.delete_set().is_empty() && txn.before_state() == txn.after_state() {
        None
    } else {
        Some(Bytes::from(txn.encode_update_v1()))
    }
}
