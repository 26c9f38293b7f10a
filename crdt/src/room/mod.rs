//! The sans-IO note room: one Yjs document, its awareness, and the connections editing it.
//!
//! The workspace's convention (`docs/ARCHITECTURE.md`, "Sans-IO cores"): the shell feeds
//! [`Input`]s with the time they happened to [`Room::handle_input`] and performs what
//! [`Room::poll_output`] returns, in order, until it says [`Output::Timeout`]. Nothing here
//! reads a clock, a socket or a database, so the whole protocol is tested with plain values
//! and simulated time.

mod clock;
mod connections;
mod document;
mod presence;
mod receive;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use yrs::sync::{Awareness, Message};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, TextRef, Transact};

use sansio::TokenBucket;

use crate::{Access, ConnId, Input, Limits, Output, UserId};
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
    /// An update from a client, or from another node, does not decode or apply.
    #[error("invalid Yjs update: {0}")]
    InvalidUpdate(String),
    /// The edit would grow the encoded document past the limit.
    #[error("the document would exceed {limit} bytes")]
    DocumentTooLarge { limit: usize },
    /// A connect named a connection the room already has (the shell numbers them).
    #[error("{0} is already connected")]
    ConnectionExists(ConnId),
}

/// One note's live state. See the crate docs for the protocol it speaks.
pub struct Room {
    awareness: Awareness,
    content: TextRef,
    clock: RoomClock,
    peers: BTreeMap<ConnId, Peer>,
    limits: Limits,
    /// Upper bound of the encoded document size: exact after load and snapshots, plus the
    /// sizes of deltas since. Recomputed exactly only when it nears the limit.
    size_estimate: usize,
    /// Deltas of the frames being handled, with their authors; released as one update at the
    /// end of the batch (at the next poll or non-frame input, or before anything that
    /// shows the document to a client).
    unreleased: Vec<(Bytes, Option<ConnId>)>,
    /// Outputs not yet polled, in the order the shell must perform them.
    queue: VecDeque<Output>,
}

/// What the room knows about one connection.
struct Peer {
    user: UserId,
    access: Access,
    /// Every frame costs a token here.
    frames: TokenBucket<Instant>,
    /// Every change (edit, own presence) costs a token here.
    changes: TokenBucket<Instant>,
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
            limits,
            size_estimate: 0,
            unreleased: Vec::new(),
            queue: VecDeque::new(),
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

    /// Tells the room what happened at `now`; poll the outputs afterwards. Only
    /// [`Input::ReplaceText`], [`Input::Remote`] and a duplicate [`Input::Connect`] can fail,
    /// and a failed input changes nothing. Everything a client did wrong is answered with
    /// a close output instead, never an error.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) -> Result<(), RoomError> {
        self.clock.set(now);
        let mut out = Vec::new();
        if !matches!(input, Input::Frame { .. }) {
            self.release_changes(&mut out);
        }
        let result = match input {
            Input::Connect { conn, user, access } => {
                self.connect(conn, user.clone(), access, now, &mut out)
            }
            Input::Frame { conn, frame } => {
                self.receive(conn, frame, now, &mut out);
                Ok(())
            }
            Input::Disconnect(conn) => {
                self.disconnect(conn, &mut out);
                Ok(())
            }
            Input::Close { conn, code } => {
                self.close_connection(conn, code, &mut out);
                Ok(())
            }
            Input::CloseAll(code) => {
                self.close_all(code, &mut out);
                Ok(())
            }
            Input::SetAccess { user, access } => {
                self.set_access(user, access, &mut out);
                Ok(())
            }
            Input::ReplaceText(text) => self.replace_text(text, &mut out),
            Input::Remote(update) => self.remote_update(update, &mut out),
            Input::Timeout => {
                self.sweep_awareness(&mut out);
                Ok(())
            }
        };
        self.queue.extend(out);
        result
    }

    /// The next thing to do, in order; [`Output::Timeout`] when there is nothing left, with
    /// the instant the room next needs [`Input::Timeout`] (the oldest presence expiring).
    pub fn poll_output(&mut self) -> Output {
        if !self.unreleased.is_empty() {
            let mut out = Vec::new();
            self.release_changes(&mut out);
            self.queue.extend(out);
        }
        self.queue
            .pop_front()
            .unwrap_or_else(|| Output::Timeout(self.next_timeout()))
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
        self.present_states().count()
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
