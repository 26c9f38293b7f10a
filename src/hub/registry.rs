//! The live sessions' tasks on this node: at most one per session, started on first use
//! (rebuilt from storage) and retired when idle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use signaling::ConnectionId;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::ballot::BallotSecret;
use super::room::{OpenError, Room, RoomInput};
use crate::config::HubConfig;
use crate::db::Db;

type Inputs = mpsc::Sender<RoomInput>;

/// Shared handle to every running session task.
#[derive(Clone)]
pub struct Registry(Arc<Inner>);

struct Inner {
    rooms: Mutex<HashMap<Uuid, Inputs>>,
    /// Serializes starting tasks so one session never gets two.
    opening: tokio::sync::Mutex<()>,
    db: Db,
    ballots: BallotSecret,
    config: HubConfig,
    next_connection: AtomicU64,
}

impl Registry {
    pub fn new(db: Db, ballots: BallotSecret, config: HubConfig) -> Self {
        Self(Arc::new(Inner {
            rooms: Mutex::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
            db,
            ballots,
            config,
            next_connection: AtomicU64::new(1),
        }))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn ballots(&self) -> &BallotSecret {
        &self.0.ballots
    }

    pub fn config(&self) -> &HubConfig {
        &self.0.config
    }

    pub fn next_connection(&self) -> ConnectionId {
        ConnectionId(self.0.next_connection.fetch_add(1, Ordering::Relaxed))
    }

    /// How many session tasks are running.
    pub fn running_sessions(&self) -> usize {
        self.rooms().values().filter(|tx| !tx.is_closed()).count()
    }

    fn running(&self, id: Uuid) -> Option<Inputs> {
        self.rooms().get(&id).filter(|tx| !tx.is_closed()).cloned()
    }

    /// The running tasks. Every change is one map operation, so a poisoned map is still
    /// consistent.
    fn rooms(&self) -> MutexGuard<'_, HashMap<Uuid, Inputs>> {
        self.0.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The input channel of session `id`'s task, starting it if needed.
    pub async fn room(&self, id: Uuid) -> Result<Inputs, OpenError> {
        if let Some(inputs) = self.running(id) {
            return Ok(inputs);
        }
        let _opening = self.0.opening.lock().await;
        if let Some(inputs) = self.running(id) {
            return Ok(inputs);
        }
        let room = Room::open(self.clone(), id).await?;
        let (tx, rx) = mpsc::channel(self.0.config.room_queue);
        self.rooms().insert(id, tx.clone());
        tokio::spawn(room.run(rx));
        Ok(tx)
    }

    /// Ends session `id` for everyone connected, and records `session.ended`.
    pub async fn end(&self, id: Uuid) -> Result<(), OpenError> {
        let inputs = self.room(id).await?;
        let (done, ended) = oneshot::channel();
        if inputs.send(RoomInput::End { done }).await.is_ok() {
            let _ = ended.await;
        }
        Ok(())
    }

    /// Called by an idle task: forgets it unless inputs arrived meanwhile (new inputs
    /// need the registry's sender, so none can appear once it is removed).
    pub(super) fn retire(&self, id: Uuid, inputs: &mpsc::Receiver<RoomInput>) -> bool {
        let mut rooms = self.rooms();
        if !inputs.is_empty() {
            return false;
        }
        rooms.remove(&id);
        true
    }

    /// Forgets a task that must stop (its log could not be written).
    pub(super) fn retire_now(&self, id: Uuid) {
        self.rooms().remove(&id);
    }
}
