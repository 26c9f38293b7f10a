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
    /// The last update the store's plain text reflects (0: none). A room loaded with later
    /// updates saves its text at once: the process stopped before it could.
    pub text_seq: u64,
}

/// A compacted document, replacing every update with `seq <= through_seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The whole document as one Yjs v1 update.
    pub state: Vec<u8>,
    /// The last update folded into `state`.
    pub through_seq: u64,
    /// The Markdown body at that point. A store that keeps the plain text writes it in the
    /// same transaction, as [`NoteStore::save_text`] would.
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
/// The runtime calls these from one task per note. For one note at most one `append` and
/// one upkeep write (`save_text` or `compact`) are in flight at a time, and those two may
/// overlap: the upkeep runs beside the room so a large document's text and snapshot writes
/// do not hold up typing. An append that lands before or after an overlapping compaction
/// must get the same sequence number either way (the snapshot's `through_seq` counts as
/// stored).
pub trait NoteStore: Send + Sync + 'static {
    /// Everything needed to rebuild the note: snapshot plus later updates in `seq` order.
    /// An existing note that was never edited returns `StoredNote::default()`.
    fn load(&self, note: &NoteId) -> impl Future<Output = Result<StoredNote, StoreError>> + Send;

    /// Appends `updates` (non-empty, in order) durably and atomically, assigning consecutive
    /// increasing sequence numbers; returns the last one. When this returns `Ok` the updates
    /// must survive a crash: the runtime relays them only afterwards.
    ///
    /// This is the hot path of live editing, so it stores the updates and nothing else; the
    /// plain text follows through [`NoteStore::save_text`] about once a second.
    fn append(
        &self,
        note: &NoteId,
        updates: &[Bytes],
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records `text`, the Markdown body once the updates through `through_seq` are applied,
    /// for readers that do not decode Yjs (REST, search, export). A store without such
    /// readers does nothing.
    fn save_text(
        &self,
        note: &NoteId,
        text: &str,
        through_seq: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores `snapshot` and deletes the updates with `seq <= snapshot.through_seq`, atomically.
    fn compact(
        &self,
        note: &NoteId,
        snapshot: Snapshot,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
