//! The persistence contract a room runtime needs. The server implements it over its
//! database; [`crate::MemoryStore`] implements it for tests.

use std::future::Future;

use bytes::Bytes;

use crate::NoteId;

/// A note's stored document: the latest snapshot and the updates appended after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredNote {
    /// The whole document as one Yjs v1 update, if the note was ever compacted.
    pub snapshot: Option<Vec<u8>>,
    /// `(seq, Yjs v1 update)` appended after the snapshot, ascending by `seq`.
    pub updates: Vec<(u64, Vec<u8>)>,
}

/// A compacted document, replacing every update with `seq <= through_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The whole document as one Yjs v1 update.
    pub state: Vec<u8>,
    /// The last update folded into `state`.
    pub through_seq: u64,
    /// The Markdown body at that point, for search indexes and exports that must not decode
    /// Yjs.
    pub text: String,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The note does not exist (never created, or deleted). Connections close with 4404.
    #[error("note not found")]
    NotFound,
    /// The backend failed (database down, constraint, I/O).
    #[error("storage backend failed: {0}")]
    Backend(#[from] Box<dyn std::error::Error + Send + Sync>),
}

/// Durable storage of Yjs update logs and snapshots, one log per note.
///
/// The runtime calls these from one task per note, never concurrently for the same note.
pub trait NoteStore: Send + Sync + 'static {
    /// Everything needed to rebuild the note: snapshot plus later updates in `seq` order.
    /// An existing note that was never edited returns `StoredNote::default()`.
    fn load(&self, note: &NoteId) -> impl Future<Output = Result<StoredNote, StoreError>> + Send;

    /// Appends `updates` (non-empty, in order) durably and atomically, assigning consecutive
    /// increasing sequence numbers; returns the last one. When this returns `Ok` the updates
    /// must survive a crash: the runtime relays them only afterwards.
    ///
    /// `text` is the Markdown body once these updates are applied. A store that also keeps
    /// the plain text (for REST reads, search, export) writes it in the same transaction, so
    /// both views of the note never disagree.
    fn append(
        &self,
        note: &NoteId,
        updates: &[Bytes],
        text: &str,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Stores `snapshot` and deletes the updates with `seq <= snapshot.through_seq`, atomically.
    fn compact(
        &self,
        note: &NoteId,
        snapshot: Snapshot,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
