//! Which notes have a running room task, and how to reach it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;

use super::command::Command;
use crate::{ConnId, NoteId};

/// The way into one room task. `generation` tells a task's entry apart from its successor's.
#[derive(Clone)]
pub(super) struct RoomHandle {
    pub(super) generation: u64,
    pub(super) commands: mpsc::Sender<Command>,
    pub(super) leaves: mpsc::UnboundedSender<ConnId>,
}

/// Running rooms by note. Locked only for map operations, never across an await.
#[derive(Clone, Default)]
pub(super) struct Registry {
    rooms: Arc<Mutex<HashMap<NoteId, RoomHandle>>>,
}

impl Registry {
    pub(super) fn get(&self, note: &NoteId) -> Option<RoomHandle> {
        self.lock().get(note).cloned()
    }

    /// The running room's handle, or the one `spawn` creates (called under the lock, so two
    /// callers never start two rooms for one note). `None` when starting one would pass `max`.
    pub(super) fn get_or_spawn(
        &self,
        note: &NoteId,
        max: usize,
        spawn: impl FnOnce() -> RoomHandle,
    ) -> Option<RoomHandle> {
        let mut rooms = self.lock();
        if let Some(handle) = rooms.get(note) {
            return Some(handle.clone());
        }
        if rooms.len() >= max {
            return None;
        }
        let handle = spawn();
        rooms.insert(note.clone(), handle.clone());
        Some(handle)
    }

    /// Removes the entry if it still belongs to `generation`.
    pub(super) fn remove(&self, note: &NoteId, generation: u64) {
        let mut rooms = self.lock();
        if rooms.get(note).is_some_and(|h| h.generation == generation) {
            rooms.remove(note);
        }
    }

    pub(super) fn handles(&self) -> Vec<RoomHandle> {
        self.lock().values().cloned().collect()
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<NoteId, RoomHandle>> {
        // Every mutation is one map operation; a poisoned map is still consistent.
        self.rooms
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
