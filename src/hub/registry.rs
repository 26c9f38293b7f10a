//! Which sessions have a running task on this node, and how to reach it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use signaling::ConnectionId;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::command::Input;

/// The way into one session's task. `generation` tells a task's entry apart from its
/// successor's.
#[derive(Clone)]
pub(super) struct SessionHandle {
    pub(super) generation: u64,
    pub(super) inputs: mpsc::Sender<Input>,
    pub(super) leaves: mpsc::UnboundedSender<ConnectionId>,
}

/// Running session tasks by session id. Locked only for map operations, never across an
/// await, so sessions start independently of each other.
#[derive(Clone, Default)]
pub(super) struct Registry {
    sessions: Arc<Mutex<HashMap<Uuid, SessionHandle>>>,
}

impl Registry {
    pub(super) fn get(&self, session: Uuid) -> Option<SessionHandle> {
        self.lock().get(&session).cloned()
    }

    /// The running task's handle, or the one `spawn` starts (called under the lock, so two
    /// callers never start two tasks for one session; `spawn` only spawns, it never waits).
    pub(super) fn get_or_spawn(
        &self,
        session: Uuid,
        spawn: impl FnOnce() -> SessionHandle,
    ) -> SessionHandle {
        self.lock().entry(session).or_insert_with(spawn).clone()
    }

    /// Removes the entry if it still belongs to `generation`.
    pub(super) fn remove(&self, session: Uuid, generation: u64) {
        let mut sessions = self.lock();
        if sessions
            .get(&session)
            .is_some_and(|handle| handle.generation == generation)
        {
            sessions.remove(&session);
        }
    }

    pub(super) fn handles(&self) -> Vec<SessionHandle> {
        self.lock().values().cloned().collect()
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, SessionHandle>> {
        // Every change is one map operation; a poisoned map is still consistent.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
