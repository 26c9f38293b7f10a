//! The cluster seam of note rooms: where stored updates leave for other nodes, and where
//! theirs come in ([`super::Rooms::apply_remote`]).

use bytes::Bytes;

use crate::NoteId;

/// Receives every update a room has durably stored, right after the store said so and
/// before any connection sees it; never an update that was not stored. A cluster
/// implements it by publishing to the other nodes (issue 21 plans one Redis Stream per
/// room), whose rooms take the update in with [`super::Rooms::apply_remote`]: relayed to
/// their connections, not stored again.
///
/// Called on the room's task, so it must not block: hand the update to a bounded queue of
/// a publisher task. Updates of one room arrive in the order they were stored.
pub trait UpdateFeed: Send + Sync + 'static {
    /// `updates` were appended to `note`'s log; the last of them got sequence `last_seq`.
    fn persisted(&self, note: &NoteId, updates: &[Bytes], last_seq: u64);
}

/// A single node: stored updates go nowhere else.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleNode;

impl UpdateFeed for SingleNode {
    fn persisted(&self, _note: &NoteId, _updates: &[Bytes], _last_seq: u64) {}
}
