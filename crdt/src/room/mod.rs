//! The sans-IO note room: one Yjs document, its awareness, and the connections editing it.
//!
//! Every method takes the inputs (who, what bytes, what time it is) and returns the
//! [`Output`]s in the order the shell must perform them. Nothing here reads a clock, a socket
//! or a database, so the whole protocol is tested with plain values and simulated time.

mod clock;
mod document;
mod presence;
mod receive;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use bytes::Bytes;
use yrs::sync::{Awareness, Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, TextRef, Transact};

use crate::rate_limit::TokenBucket;
use crate::{Access, CloseCode, ConnId, Limits, Output, UserId};
use clock::RoomClock;

/// Name of the root `Y.Text` holding a note's body as Markdown. Clients must bind their editor
/// to `doc.getText("content")`; other root types are synced but ignored by REST.
pub const CONTENT_TEXT: &str = "content";

/// Why a room could not be built or edited.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// A stored snapshot or update does not decode or apply.
    #[error("stored document state is corrupt: {0}")]
    CorruptState(String),
    /// An update from a client does not decode or apply.
    #[error("invalid Yjs update: {0}")]
    InvalidUpdate(String),
    /// The edit would grow the encoded document past the limit.
    #[error("the document would exceed {limit} bytes")]
    DocumentTooLarge { limit: usize },
}

/// One note's live state. See the crate docs for the protocol it speaks.
pub struct Room {
    awareness: Awareness,
    content: TextRef,
    clock: RoomClock,
    peers: BTreeMap<ConnId, Peer>,
    next_conn: u64,
    limits: Limits,
    /// Upper bound of the encoded document size: exact after load and snapshots, plus the
    /// sizes of deltas since. Recomputed exactly only when it nears the limit.
    size_estimate: usize,
    /// Deltas of the frames being handled, with their authors; released as one update at the
    /// end of the batch (or before anything that shows the document to a client). Always
    /// empty between calls.
    unreleased: Vec<(Bytes, Option<ConnId>)>,
}

/// What the room knows about one connection.
struct Peer {
    user: UserId,
    access: Access,
    /// Every frame costs a token here.
    frames: TokenBucket,
    /// Every change (edit, own presence) costs a token here.
    changes: TokenBucket,
    /// Awareness client ids this connection announced; removed for everyone when it leaves.
    awareness_ids: BTreeSet<ClientID>,
    /// Read-only peers are told once that their edits are dropped.
    told_read_only: bool,
}

impl Room {
    /// An empty note.
    pub fn new(limits: Limits, now: Instant) -> Room {
        let doc = Doc::new();
        let content = doc.get_or_insert_text(CONTENT_TEXT);
        let clock = RoomClock::new(now);
        let awareness = Awareness::with_clock(doc, clock.source());
        Room {
            awareness,
            content,
            clock,
            peers: BTreeMap::new(),
            next_conn: 1,
            limits,
            size_estimate: 0,
            unreleased: Vec::new(),
        }
    }

    /// A note rebuilt from its stored snapshot and the updates appended after it, in order.
    pub fn load<'a>(
        snapshot: Option<&'a [u8]>,
        updates: impl IntoIterator<Item = &'a [u8]>,
        limits: Limits,
        now: Instant,
    ) -> Result<Room, RoomError> {
        let mut room = Room::new(limits, now);
        room.apply_stored(snapshot.into_iter().chain(updates))?;
        room.size_estimate = room.encode_state().len();
        Ok(room)
    }

    /// Admits a connection. Its first frames are the room's sync step 1 and, when anyone is
    /// present, the awareness states; the client answers with its step 2 and its own step 1.
    /// A full room answers with a close (4503) instead.
    pub fn connect(&mut self, user: UserId, access: Access, now: Instant) -> (ConnId, Vec<Output>) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        if self.peers.len() >= self.limits.max_connections {
            let code = CloseCode::RoomFull;
            return (conn, vec![Output::Close { conn, code }]);
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
        let mut out = vec![Output::Send {
            to: conn,
            frame: encode(&Message::Sync(SyncMessage::SyncStep1(state_vector))),
        }];
        if let Some(frame) = self.awareness_frame() {
            out.push(Output::Send { to: conn, frame });
        }
        (conn, out)
    }

    /// The connection went away (socket closed or dropped). Its awareness states are removed
    /// and the others are told.
    pub fn disconnect(&mut self, conn: ConnId, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        self.clock.set(now);
        if let Some(peer) = self.peers.remove(&conn) {
            self.forget_awareness(peer.awareness_ids, &mut out);
        }
        out
    }

    /// Closes one connection with `code`, as [`Room::disconnect`] plus an [`Output::Close`].
    pub fn close_connection(&mut self, conn: ConnId, code: CloseCode, now: Instant) -> Vec<Output> {
        if !self.peers.contains_key(&conn) {
            return Vec::new();
        }
        let mut out = vec![Output::Close { conn, code }];
        out.extend(self.disconnect(conn, now));
        out
    }

    /// Closes every connection (note deleted: 4404; room unloading: 4501).
    pub fn close_all(&mut self, code: CloseCode, now: Instant) -> Vec<Output> {
        self.clock.set(now);
        let peers = std::mem::take(&mut self.peers);
        for peer in peers.values() {
            for id in &peer.awareness_ids {
                self.awareness.remove_state(*id);
            }
        }
        peers
            .into_keys()
            .map(|conn| Output::Close { conn, code })
            .collect()
    }

    /// Changes a user's access on all their connections. `None` revokes: they close with
    /// 4403. A downgrade to read keeps them connected and tells them once with an auth
    /// message; from then on their edits are dropped.
    pub fn set_access(
        &mut self,
        user: &UserId,
        access: Option<Access>,
        now: Instant,
    ) -> Vec<Output> {
        let conns: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(_, peer)| &peer.user == user)
            .map(|(conn, _)| *conn)
            .collect();
        let mut out = Vec::new();
        for conn in conns {
            match access {
                None => out.extend(self.close_connection(conn, CloseCode::NoAccess, now)),
                Some(access) => self.change_access(conn, access, &mut out),
            }
        }
        out
    }

    fn change_access(&mut self, conn: ConnId, access: Access, out: &mut Vec<Output>) {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        let downgraded = peer.access.can_write() && !access.can_write();
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

    /// Periodic work: removes awareness states not renewed within the awareness timeout.
    /// Call about once a second.
    pub fn tick(&mut self, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        self.sweep_awareness(now, &mut out);
        out
    }

    /// The note's Markdown body.
    pub fn text(&self) -> String {
        let txn = self.awareness.doc().transact();
        self.content.get_string(&txn)
    }

    /// The whole document as one Yjs v1 update: what a snapshot stores.
    pub fn encode_state(&mut self) -> Vec<u8> {
        let state = self
            .awareness
            .doc()
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        self.size_estimate = state.len();
        state
    }

    /// Connections currently in the room.
    pub fn connection_count(&self) -> usize {
        self.peers.len()
    }

    /// Awareness states currently present (connected users' cursors and names).
    pub fn awareness_count(&self) -> usize {
        self.awareness
            .iter()
            .filter(|(_, state)| state.data.is_some())
            .count()
    }

    fn peers_except(&self, conn: Option<ConnId>) -> Vec<ConnId> {
        self.peers
            .keys()
            .copied()
            .filter(|c| Some(*c) != conn)
            .collect()
    }
}

/// Encodes one protocol message as one frame. y-websocket reads one message per frame, so
/// frames never carry two.
fn encode(message: &Message) -> Bytes {
    Bytes::from(message.encode_v1())
}

/// The auth message "permission denied: read-only" (y-websocket logs it as a warning).
fn read_only_notice() -> Bytes {
    encode(&Message::Auth(Some("read-only".to_owned())))
}
