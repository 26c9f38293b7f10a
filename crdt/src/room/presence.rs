//! Awareness (who is here, their cursors): relayed, never stored, removed when the
//! connection that announced it leaves or when not renewed within the timeout.

use std::collections::BTreeSet;
use std::time::Instant;

use bytes::Bytes;
use yrs::ClientID;
use yrs::sync::{AwarenessUpdate, Message};

use super::{Room, encode};
use crate::{CloseCode, ConnId, Output};

impl Room {
    /// Applies a client's awareness update and relays it when it changed or renewed
    /// something, to every connection including the sender: the npm client drops a
    /// connection silent for 30 s, and a lone editor's only traffic is its own awareness
    /// renewal every 15 s (the reference server echoes the same way).
    ///
    /// A client id belongs to the first connection that announced it, and only that
    /// connection may change or remove its state. The npm provider re-sends every awareness
    /// change it hears, so other clients' ids arrive from every connection: those entries are
    /// dropped, so an echo costs nothing and no connection (a read-only share included) can
    /// replace or remove someone else's presence with a higher clock. A connection may own
    /// only a few ids; new ones beyond that are dropped, so one socket cannot fill the room
    /// with phantom users.
    pub(super) fn client_awareness(
        &mut self,
        conn: ConnId,
        mut update: AwarenessUpdate,
        out: &mut Vec<Output>,
    ) -> Result<(), CloseCode> {
        let Some(peer) = self.peers.get(&conn) else {
            return Ok(());
        };
        let cap = self.limits.max_awareness_ids_per_connection;
        let mut free = cap.saturating_sub(peer.awareness_ids.len());
        let mut unowned = Vec::new();
        update.clients.retain(|id, _| {
            if let Some(owner) = self.awareness_owner(*id) {
                return owner == conn;
            }
            let admitted = free > 0;
            if admitted {
                free -= 1;
                unowned.push(*id);
            }
            admitted
        });
        if update.clients.is_empty() {
            return Ok(());
        }
        let frame = encode(&Message::Awareness(update.clone()));
        let summary = self
            .awareness
            .apply_update_summary(update)
            .map_err(|_| CloseCode::BadMessage)?;
        let Some(summary) = summary else {
            return Ok(());
        };
        if let Some(peer) = self.peers.get_mut(&conn) {
            let present =
                |id: &ClientID| summary.added.contains(id) || summary.updated.contains(id);
            peer.awareness_ids
                .extend(unowned.into_iter().filter(|id| present(id)));
        }
        out.push(Output::Broadcast {
            to: self.peers_except(None),
            frame,
        });
        Ok(())
    }

    /// The connection that announced this awareness client id, if it is still here.
    pub(super) fn awareness_owner(&self, id: ClientID) -> Option<ConnId> {
        self.peers
            .iter()
            .find(|(_, peer)| peer.awareness_ids.contains(&id))
            .map(|(conn, _)| *conn)
    }

    /// All present awareness states as one frame, or `None` when nobody announced any.
    pub(super) fn awareness_frame(&self) -> Option<Bytes> {
        let present: Vec<ClientID> = self.present_states().map(|(id, _)| id).collect();
        if present.is_empty() {
            return None;
        }
        let update = self.awareness.update_with_clients(present).ok()?;
        Some(encode(&Message::Awareness(update)))
    }

    /// Removes the awareness states a departed connection owned and tells everyone.
    pub(super) fn forget_awareness(&mut self, ids: BTreeSet<ClientID>, out: &mut Vec<Output>) {
        self.remove_awareness(ids.into_iter().collect(), out);
    }

    /// Removes states not renewed within the awareness timeout, as of the room's time.
    pub(super) fn sweep_awareness(&mut self, out: &mut Vec<Output>) {
        let now_ms = self.clock.now_ms();
        let timeout_ms = self.awareness_timeout_ms();
        let stale: Vec<ClientID> = self
            .present_states()
            .filter(|(_, updated)| now_ms.saturating_sub(*updated) >= timeout_ms)
            .map(|(id, _)| id)
            .collect();
        for peer in self.peers.values_mut() {
            peer.awareness_ids.retain(|id| !stale.contains(id));
        }
        self.remove_awareness(stale, out);
    }

    /// When the oldest present state expires; with nobody present, a full timeout from now
    /// (any state announced meanwhile comes with an input, after which the shell polls again).
    pub(super) fn next_timeout(&self) -> Instant {
        let oldest = self.present_states().map(|(_, updated)| updated).min();
        let from = oldest.unwrap_or_else(|| self.clock.now_ms());
        self.clock
            .at(from.saturating_add(self.awareness_timeout_ms()))
    }

    /// Present awareness states: client id and when it was last renewed (room milliseconds).
    pub(super) fn present_states(&self) -> impl Iterator<Item = (ClientID, u64)> + '_ {
        self.awareness
            .iter()
            .filter(|(_, state)| state.data.is_some())
            .map(|(id, state)| (id, state.last_updated))
    }

    fn awareness_timeout_ms(&self) -> u64 {
        u64::try_from(self.limits.awareness_timeout.as_millis()).unwrap_or(u64::MAX)
    }

    fn remove_awareness(&mut self, ids: Vec<ClientID>, out: &mut Vec<Output>) {
        let present: Vec<ClientID> = ids
            .into_iter()
            .filter(|id| self.has_awareness_state(*id))
            .collect();
        if present.is_empty() {
            return;
        }
        for id in &present {
            self.awareness.remove_state(*id);
        }
        let to = self.peers_except(None);
        if to.is_empty() {
            return;
        }
        if let Ok(update) = self.awareness.update_with_clients(present) {
            out.push(Output::Broadcast {
                to,
                frame: encode(&Message::Awareness(update)),
            });
        }
    }

    fn has_awareness_state(&self, id: ClientID) -> bool {
        self.present_states().any(|(other, _)| other == id)
    }
}
