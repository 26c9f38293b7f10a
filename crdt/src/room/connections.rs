//! Connections joining, leaving, being closed, and changing access.

use std::collections::BTreeSet;
use std::time::Instant;

use sansio::TokenBucket;
use yrs::sync::{Message, SyncMessage};
use yrs::{ReadTxn, Transact};

use super::{Peer, Room, RoomError, encode, read_only_notice};
use crate::{Access, CloseCode, ConnId, Output, UserId};

impl Room {
    /// See [`crate::Input::Connect`].
    pub(super) fn connect(
        &mut self,
        conn: ConnId,
        user: UserId,
        access: Access,
        now: Instant,
        out: &mut Vec<Output>,
    ) -> Result<(), RoomError> {
        if self.peers.contains_key(&conn) {
            return Err(RoomError::ConnectionExists(conn));
        }
        if self.peers.len() >= self.limits.max_connections {
            let code = CloseCode::RoomFull;
            out.push(Output::Close { conn, code });
            return Ok(());
        }
        let limits = &self.limits;
        let peer = Peer {
            user,
            access,
            frames: TokenBucket::new(limits.frame_burst, limits.frames_per_second, now),
            changes: TokenBucket::new(limits.change_burst, limits.changes_per_second, now),
            awareness_ids: BTreeSet::new(),
            told_read_only: false,
        };
        self.peers.insert(conn, peer);
        let state_vector = self.awareness.doc().transact().state_vector();
        out.push(Output::Send {
            to: conn,
            frame: encode(&Message::Sync(SyncMessage::SyncStep1(state_vector))),
        });
        if let Some(frame) = self.awareness_frame() {
            out.push(Output::Send { to: conn, frame });
        }
        Ok(())
    }

    /// The connection went away. Its awareness states are removed and the others are told.
    pub(super) fn disconnect(&mut self, conn: ConnId, out: &mut Vec<Output>) {
        if let Some(peer) = self.peers.remove(&conn) {
            self.forget_awareness(peer.awareness_ids, out);
        }
    }

    /// Closes one connection with `code`: a disconnect preceded by an [`Output::Close`].
    pub(super) fn close_connection(
        &mut self,
        conn: ConnId,
        code: CloseCode,
        out: &mut Vec<Output>,
    ) {
        if self.peers.contains_key(&conn) {
            out.push(Output::Close { conn, code });
            self.disconnect(conn, out);
        }
    }

    /// Closes every connection; nobody is left to tell about the presence removed.
    pub(super) fn close_all(&mut self, code: CloseCode, out: &mut Vec<Output>) {
        let peers = std::mem::take(&mut self.peers);
        for peer in peers.values() {
            for id in &peer.awareness_ids {
                self.awareness.remove_state(*id);
            }
        }
        out.extend(peers.into_keys().map(|conn| Output::Close { conn, code }));
    }

    /// See [`crate::Input::SetAccess`].
    pub(super) fn set_access(
        &mut self,
        user: &UserId,
        access: Option<Access>,
        out: &mut Vec<Output>,
    ) {
        let conns: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(_, peer)| &peer.user == user)
            .map(|(conn, _)| *conn)
            .collect();
        for conn in conns {
            match access {
                None => self.close_connection(conn, CloseCode::NoAccess, out),
                Some(access) => self.change_access(conn, access, out),
            }
        }
    }

    fn change_access(&mut self, conn: ConnId, access: Access, out: &mut Vec<Output>) {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        let downgraded = peer.access.can_write() && !access.can_write();
        let upgraded = !peer.access.can_write() && access.can_write();
        if upgraded && peer.told_read_only {
            // Its client kept the edits the room dropped; the next one would build on them.
            // A resync sends them all (found by fuzzing `crdt_room`: the room showed the
            // edit but persisted an empty update, and a reload lost it).
            self.close_connection(conn, CloseCode::WriteGranted, out);
            return;
        }
        peer.access = access;
        if access.can_write() {
            peer.told_read_only = false;
        } else if downgraded {
            peer.told_read_only = true;
            out.push(Output::Send {
                to: conn,
                frame: read_only_notice(),
            });
        }
    }
}
