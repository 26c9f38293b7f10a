//! Document edits: client updates, REST replacement, stored state, and the size cap.
//!
//! Every change that adds something to the document yields exactly the delta it added, which
//! is both persisted and relayed: a client resending what the room already has (a
//! reconnect's sync step 2) costs neither storage nor bandwidth. The deltas of frames handled
//! together are merged into one update, stored once and relayed as one frame: under load a
//! room's cost grows with its batches, not with every keystroke times every listener.

use bytes::Bytes;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, Text, Transact, TransactionMut, Update, merge_updates_v1};

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
            Ok(Some(delta)) => self.publish(delta, Some(conn)),
            Ok(None) => {}
            Err(RoomError::DocumentTooLarge { .. }) => return Err(CloseCode::TooLarge),
            Err(error) => {
                tracing::debug!(%conn, %error, "dropping connection with an invalid update");
                return Err(CloseCode::BadMessage);
            }
        }
        Ok(())
    }

    /// Replaces the Markdown body with `text` through the smallest single edit (see
    /// [`crate::Input::ReplaceText`]): persist, then relay to every connection; nothing when
    /// the text is unchanged.
    pub(super) fn replace_text(
        &mut self,
        text: &str,
        out: &mut Vec<Output>,
    ) -> Result<(), RoomError> {
        let current = self.text();
        let Some(edit) = minimal_edit(&current, text) else {
            return Ok(());
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
            added_delta(&txn)
        };
        if let Some(delta) = delta {
            self.publish(delta, None);
            self.release_changes(out);
        }
        Ok(())
    }

    /// Applies an update another node stored and relays what it added to every local
    /// connection, without persisting it (see [`crate::Input::Remote`]). The other node's
    /// room enforced the limits; its size still counts here.
    pub(super) fn remote_update(
        &mut self,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) -> Result<(), RoomError> {
        let Some(delta) = self.apply_update(bytes)? else {
            return Ok(());
        };
        self.size_estimate += delta.len();
        let to = self.peers_except(None);
        if !to.is_empty() {
            let frame = encode(&Message::Sync(SyncMessage::Update(delta.to_vec())));
            out.push(Output::Broadcast { to, frame });
        }
        Ok(())
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
        self.apply_update(bytes)
    }

    /// Applies one update; returns what it added.
    fn apply_update(&mut self, bytes: &[u8]) -> Result<Option<Bytes>, RoomError> {
        let update =
            Update::decode_v1(bytes).map_err(|e| RoomError::InvalidUpdate(e.to_string()))?;
        let (delta, parked) = {
            let mut txn = self.awareness.doc().transact_mut();
            txn.apply_update(update)
                .map_err(|e| RoomError::InvalidUpdate(e.to_string()))?;
            (added_delta(&txn), txn.has_missing_updates())
        };
        if delta.is_none() && parked {
            // yrs parks updates whose predecessors are missing. They are part of the encoded
            // state but of no delta, so count them here or a client could grow them forever.
            self.size_estimate = self.size_estimate.saturating_add(bytes.len());
        }
        Ok(delta)
    }

    /// Holds a delta until [`Room::release_changes`]; `author` is the connection it came from.
    fn publish(&mut self, delta: Bytes, author: Option<ConnId>) {
        self.size_estimate += delta.len();
        self.unreleased.push((delta, author));
    }

    /// Turns the held deltas into outputs: one update to persist, then one frame relaying it.
    /// A single author's changes go to everyone else (the author has them); changes from
    /// several authors go to everyone as one frame, and an author applying its own change
    /// again is a no-op in Yjs (the npm reference server echoes every update to its author).
    pub(super) fn release_changes(&mut self, out: &mut Vec<Output>) {
        let changes = std::mem::take(&mut self.unreleased);
        if changes.len() > 1 {
            let deltas = changes.iter().map(|(delta, _)| delta.as_ref());
            match merge_updates_v1(deltas) {
                Ok(merged) => {
                    let author = changes[0].1;
                    let one_author = changes.iter().all(|(_, a)| *a == author);
                    let skip = author.filter(|_| one_author);
                    return self.relay(Bytes::from(merged), skip, out);
                }
                // yrs made these deltas a moment ago; should one not decode, relay them apart.
                Err(error) => tracing::error!(%error, "merging a room's deltas failed"),
            }
        }
        for (delta, author) in changes {
            self.relay(delta, author, out);
        }
    }

    /// Persist first, then relay to everyone but `skip`.
    fn relay(&self, delta: Bytes, skip: Option<ConnId>, out: &mut Vec<Output>) {
        let to = self.peers_except(skip);
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

/// What a transaction added, as a v1 update; `None` when it added nothing (the same test
/// yrs uses before emitting its update events). Call it before the transaction commits (it
/// commits when dropped): committing squashes a client's new text into its previous run, and
/// slicing it back out costs a walk over that whole run, as yrs counts UTF-16 offsets char by
/// char. Uncommitted, the new text is still its own block.
fn added_delta(txn: &TransactionMut) -> Option<Bytes> {
    if txn.delete_set().is_empty() && txn.before_state() == txn.after_state() {
        None
    } else {
        Some(Bytes::from(txn.encode_update_v1()))
    }
}
