//! The live-session hub: one task per session on this node, each owning a
//! `signaling::Session`, storing its events through a [`SessionLog`] and fanning frames out
//! to its connections' bounded queues. Shaped like the note rooms (`crdt::runtime`): a
//! registry that keeps only each task's handle, transport-neutral bytes, a graceful close.

pub mod ballot;
mod command;
pub mod connection;
pub mod log;
pub mod media;
pub mod names;
mod registry;
pub mod roles;
pub mod sink;
pub mod socket;
mod task;
#[cfg(test)]
mod tests;
pub mod ticket;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use signaling::{CloseCode, ParticipantInfo};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::config::HubConfig;
use ballot::BallotSecret;
use command::Input;
use media::{MediaEngine, MediaReport};
use registry::{Registry, SessionHandle};
use sink::{Connection, FrameSink};
use task::{SessionTask, TaskConfig};

pub use log::SessionLog;

/// A request meets a task that is retiring at that moment at most this often in a row.
const ATTEMPTS: usize = 3;

/// The session could not be reached (its log failed to load, or the server is stopping).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session is unavailable")]
pub struct Unavailable;

/// Every live session on this node. Cheap to clone; clones share the sessions.
pub struct Hub<L> {
    shared: Arc<Shared<L>>,
}

struct Shared<L> {
    log: Arc<L>,
    media: Arc<dyn MediaEngine>,
    ballots: BallotSecret,
    config: Arc<TaskConfig>,
    /// Inputs queued per session before senders wait.
    queue: usize,
    registry: Registry,
    generations: AtomicU64,
    shutting_down: AtomicBool,
}

impl<L> Clone for Hub<L> {
    fn clone(&self) -> Self {
        Hub {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<L: SessionLog> Hub<L> {
    /// Sessions storing their events in `log` and driving `media` (`media::NoMedia` until
    /// the SFU exists).
    pub fn new(
        log: L,
        media: Arc<dyn MediaEngine>,
        ballots: BallotSecret,
        config: &HubConfig,
    ) -> Self {
        Hub {
            shared: Arc::new(Shared {
                log: Arc::new(log),
                media,
                ballots,
                config: Arc::new(TaskConfig::new(config)),
                queue: config.room_queue.max(1),
                registry: Registry::default(),
                generations: AtomicU64::new(1),
                shutting_down: AtomicBool::new(false),
            }),
        }
    }

    /// Connects a participant (the ticket already verified) to the session, starting its
    /// task if needed. On error, close with the code.
    pub async fn connect(
        &self,
        session: Uuid,
        info: ParticipantInfo,
        last_seq: Option<u64>,
    ) -> Result<Connection, CloseCode> {
        let answer = self.request(session, |reply| Input::Connect {
            info: info.clone(),
            last_seq,
            reply,
        });
        let Some((joined, handle)) = answer.await else {
            return Err(self.unavailable());
        };
        let (id, outbox) = joined?;
        let sink = FrameSink::new(id, handle.inputs, handle.leaves);
        Ok(Connection { id, sink, outbox })
    }

    /// Why no task answered: the server is stopping (4501), or the session could not be
    /// opened (4000: try again from its log).
    fn unavailable(&self) -> CloseCode {
        if self.shared.shutting_down.load(Ordering::SeqCst) {
            CloseCode::Restarting
        } else {
            CloseCode::Resync
        }
    }

    /// Ends the session for everyone and records `session.ended`; returns once stored.
    pub async fn end(&self, session: Uuid) -> Result<(), Unavailable> {
        self.request(session, |done| Input::End { done })
            .await
            .map(|_| ())
            .ok_or(Unavailable)
    }

    /// What the media engine saw in a session, if its task is running (a session nobody is
    /// in has no media to report). Waits while the task's queue is full.
    pub async fn media_report(&self, session: Uuid, report: MediaReport) {
        if let Some(handle) = self.shared.registry.get(session) {
            let _ = handle.inputs.send(Input::Media(report)).await;
        }
    }

    /// Closes every connection with 4501 (reconnect later) after storing their departures,
    /// and refuses new ones. Returns when every session's task has stopped.
    pub async fn shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        for handle in self.shared.registry.handles() {
            let (done, stopped) = oneshot::channel();
            if handle.inputs.send(Input::Shutdown { done }).await.is_ok() {
                let _ = stopped.await;
            }
        }
    }

    /// How many session tasks are running.
    pub fn running_sessions(&self) -> usize {
        self.shared.registry.len()
    }

    /// Sends a request to the session's task (starting it), retrying when the task retires
    /// under it. The answer and the handle of the task that gave it; `None` if none did.
    async fn request<T>(
        &self,
        session: Uuid,
        input: impl Fn(oneshot::Sender<T>) -> Input,
    ) -> Option<(T, SessionHandle)> {
        for _ in 0..ATTEMPTS {
            if self.shared.shutting_down.load(Ordering::SeqCst) {
                return None;
            }
            let handle = self.handle(session);
            let (reply, answer) = oneshot::channel();
            if handle.inputs.send(input(reply)).await.is_err() {
                self.shared.registry.remove(session, handle.generation);
                continue;
            }
            if let Ok(answer) = answer.await {
                return Some((answer, handle));
            }
        }
        None
    }

    /// The running task for `session`, starting one if there is none. Starting only
    /// spawns: the task loads the log itself while requests queue in its channel, so
    /// sessions open independently and one session never gets two tasks.
    fn handle(&self, session: Uuid) -> SessionHandle {
        self.shared
            .registry
            .get_or_spawn(session, || self.spawn(session))
    }

    fn spawn(&self, session: Uuid) -> SessionHandle {
        let shared = &self.shared;
        let (inputs, inputs_rx) = mpsc::channel(shared.queue);
        let (leaves, leaves_rx) = mpsc::unbounded_channel();
        let handle = SessionHandle {
            generation: shared.generations.fetch_add(1, Ordering::Relaxed),
            inputs,
            leaves,
        };
        let task = SessionTask::new(
            session,
            Arc::clone(&shared.log),
            Arc::clone(&shared.media),
            Arc::clone(&shared.config),
            shared.registry.clone(),
            handle.clone(),
            (inputs_rx, leaves_rx),
        );
        tokio::spawn(task.run(shared.ballots.for_session(session)));
        handle
    }
}
