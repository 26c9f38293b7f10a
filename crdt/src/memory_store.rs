//! A [`NoteStore`] in process memory, for tests and for trying the rooms without a database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::{NoteId, NoteStore, Snapshot, StoreError, StoredNote};

/// Notes in a mutex-guarded map. Clones share the same notes.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    notes: Arc<Mutex<HashMap<NoteId, MemoryNote>>>,
}

#[derive(Debug, Default)]
struct MemoryNote {
    snapshot: Option<Snapshot>,
    updates: Vec<(u64, Vec<u8>)>,
    last_seq: u64,
    text: String,
    text_seq: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates an empty note; loading a note that was never created fails with `NotFound`.
    pub fn create_note(&self, note: &NoteId) {
        self.lock().entry(note.clone()).or_default();
    }

    /// Deletes a note and its history.
    pub fn delete_note(&self, note: &NoteId) {
        self.lock().remove(note);
    }

    /// Updates stored after the latest snapshot.
    pub fn update_count(&self, note: &NoteId) -> usize {
        self.lock().get(note).map_or(0, |n| n.updates.len())
    }

    /// The body as last saved by the room.
    pub fn text(&self, note: &NoteId) -> Option<String> {
        self.lock().get(note).map(|n| n.text.clone())
    }

    /// The latest snapshot, if the note was compacted.
    pub fn snapshot(&self, note: &NoteId) -> Option<Snapshot> {
        self.lock().get(note).and_then(|n| n.snapshot.clone())
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<NoteId, MemoryNote>> {
        // A panic while holding this lock cannot leave the map half-updated: every mutation
        // is a single push/insert/retain. Keep serving after one.
        self.notes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl NoteStore for MemoryStore {
    async fn load(&self, note: &NoteId) -> Result<StoredNote, StoreError> {
        let notes = self.lock();
        let stored = notes.get(note).ok_or(StoreError::NotFound)?;
        Ok(StoredNote {
            snapshot: stored.snapshot.as_ref().map(|s| s.state.clone()),
            updates: stored.updates.clone(),
            text_seq: stored.text_seq,
        })
    }

    async fn append(&self, note: &NoteId, updates: &[Bytes]) -> Result<u64, StoreError> {
        let mut notes = self.lock();
        let stored = notes.get_mut(note).ok_or(StoreError::NotFound)?;
        for update in updates {
            stored.last_seq += 1;
            stored.updates.push((stored.last_seq, update.to_vec()));
        }
        Ok(stored.last_seq)
    }

    async fn save_text(
        &self,
        note: &NoteId,
        text: &str,
        through_seq: u64,
    ) -> Result<(), StoreError> {
        let mut notes = self.lock();
        let stored = notes.get_mut(note).ok_or(StoreError::NotFound)?;
        text.clone_into(&mut stored.text);
        stored.text_seq = through_seq;
        Ok(())
    }

    async fn compact(&self, note: &NoteId, snapshot: Snapshot) -> Result<(), StoreError> {
        let mut notes = self.lock();
        let stored = notes.get_mut(note).ok_or(StoreError::NotFound)?;
        stored
            .updates
            .retain(|(seq, _)| *seq > snapshot.through_seq);
        snapshot.text.clone_into(&mut stored.text);
        stored.text_seq = snapshot.through_seq;
        stored.snapshot = Some(snapshot);
        Ok(())
    }
}
