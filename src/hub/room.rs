//! One live session's task: owns the `signaling::Session`, takes inputs from a bounded
//! channel, persists each event before sending the frames that follow it, and fans
//! frames out to the connections' bounded queues.
//!
//! Group commit: the inputs that queued up while the task was storing take their turn
//! together, and the events they cause are stored with one statement before any of
//! their frames go out. Under load one commit then serves many messages instead of each
//! message waiting behind the commits of all before it; alone, a message is stored and
//! sent at once as before.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use bytes::Bytes;
use chrono::Utc;
use signaling::{
    CloseCode, ConnectionId, Join, JoinRefused, Limits, Output, Session, SessionConfig, StoredEvent,
};
use tokio::sync::{Notify, mpsc, oneshot};
use uuid::Uuid;

use super::effects;
use super::registry::Registry;
use crate::db::{self, Db};

/// Most inputs in one group, as a share of a connection's outgoing queue: a group's
/// frames reach each queue at once (one input can send a connection two: its event and
/// an ack), so a group must leave room for the frames still queued from the last one,
/// or a client that keeps up would be closed as a slow consumer.
const GROUP_SHARE_OF_QUEUE: usize = 8;

/// An input to a session's task.
pub enum RoomInput {
    Connect {
        join: Join,
        outgoing: Outgoing,
        reply: oneshot::Sender<Result<(), JoinRefused>>,
    },
    Frame {
        connection: ConnectionId,
        bytes: Bytes,
    },
    Disconnect {
        connection: ConnectionId,
    },
    /// End the session for everyone (REST `POST .../end`).
    End {
        done: oneshot::Sender<()>,
    },
}

/// The sending half of one connection: a bounded frame queue, and a way to drop the
/// connection at once when the queue is full (the writer then closes with 4000).
#[derive(Clone)]
pub struct Outgoing {
    pub frames: mpsc::Sender<Message>,
    pub abort: Arc<Notify>,
}

/// Why a session's task could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no such session")]
    NotFound,
    #[error(transparent)]
    Log(#[from] db::session_events::LogError),
    #[error(transparent)]
    Replay(#[from] signaling::ReplayError),
    #[error("storing the recovered presence failed")]
    Store,
}

/// A running session task.
pub struct Room {
    id: Uuid,
    session: Session,
    db: Db,
    connections: HashMap<ConnectionId, Outgoing>,
    registry: Registry,
    idle: Duration,
    /// Most inputs whose events share one commit.
    group_inputs: usize,
}

impl Room {
    /// Rebuilds the session from its stored events (empty for a new one) and closes the
    /// presence a crash left open.
    pub async fn open(registry: Registry, id: Uuid) -> Result<Room, OpenError> {
        let db = registry.db().clone();
        let row = db::sessions::find(&db, id)
            .await
            .map_err(db::session_events::LogError::from)?
            .ok_or(OpenError::NotFound)?;
        let hub = registry.config();
        let limits = Limits {
            rate_burst: hub.rate_burst,
            rate_per_second: hub.rate_per_second,
            ..Limits::default()
        };
        let idle = Duration::from_secs(hub.idle_secs);
        let group_inputs = (hub.outgoing_queue / GROUP_SHARE_OF_QUEUE).max(1);
        let config = SessionConfig {
            limits,
            lobby: row.settings.lobby,
        };
        let events = db::session_events::all(&db, id).await?;
        let last_at = events.last().map(|e| e.at);
        let keys = registry.ballots().for_session(id);
        let mut session = Session::replay(config, keys, events)?;
        if let Some(at) = last_at {
            session.recover(at);
        }
        let mut room = Room {
            id,
            session,
            db,
            connections: HashMap::new(),
            registry,
            idle,
            group_inputs,
        };
        if !room.drain().await {
            return Err(OpenError::Store);
        }
        Ok(room)
    }

    /// Serves inputs until the session is idle (or ended) with nobody connected.
    pub async fn run(mut self, mut inputs: mpsc::Receiver<RoomInput>) {
        loop {
            let deadline = self.session.next_deadline();
            let timer = async {
                match deadline {
                    Some(at) => tokio::time::sleep(until(at)).await,
                    None => std::future::pending().await,
                }
            };
            let idle = self.connections.is_empty().then(|| self.idle_limit());
            let idle_timer = async {
                match idle {
                    Some(after) => tokio::time::sleep(after).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                input = inputs.recv() => match input {
                    Some(input) => {
                        self.handle(input);
                        self.handle_queued(&mut inputs);
                    }
                    None => return,
                },
                _ = timer => self.session.tick(Utc::now()),
                _ = idle_timer => {
                    if self.registry.retire(self.id, &inputs) {
                        return;
                    }
                    continue;
                }
            }
            if !self.drain().await {
                self.resync_everyone();
                self.registry.retire_now(self.id);
                return;
            }
        }
    }

    /// An ended session's task stops at once when empty; a live one waits a while.
    fn idle_limit(&self) -> Duration {
        if self.session.state().ended.is_some() {
            Duration::ZERO
        } else {
            self.idle
        }
    }

    /// Handles the inputs already waiting, so their events share one commit.
    fn handle_queued(&mut self, inputs: &mut mpsc::Receiver<RoomInput>) {
        for _ in 1..self.group_inputs {
            match inputs.try_recv() {
                Ok(input) => self.handle(input),
                Err(_) => return,
            }
        }
    }

    fn handle(&mut self, input: RoomInput) {
        let now = Utc::now();
        match input {
            RoomInput::Connect {
                join,
                outgoing,
                reply,
            } => {
                let connection = join.connection;
                let result = self.session.connect(join, now);
                if result.is_ok() {
                    self.connections.insert(connection, outgoing);
                }
                let _ = reply.send(result);
            }
            RoomInput::Frame { connection, bytes } => {
                if self.connections.contains_key(&connection) {
                    self.session.handle_frame(connection, &bytes, now);
                }
            }
            RoomInput::Disconnect { connection } => {
                if self.connections.remove(&connection).is_some() {
                    self.session.disconnect(connection, now);
                }
            }
            RoomInput::End { done } => {
                self.session.end(now);
                let _ = done.send(());
            }
        }
    }

    /// Acts on every pending output: stores the pending events (one group), then sends
    /// and closes in order. Sending can cause more (a slow consumer's departure), so
    /// this repeats until nothing is pending. False when events could not be stored:
    /// the room is then ahead of its log and must be rebuilt from storage.
    async fn drain(&mut self) -> bool {
        loop {
            let outputs: Vec<Output> = std::iter::from_fn(|| self.session.poll_output()).collect();
            if outputs.is_empty() {
                return true;
            }
            let events: Vec<&StoredEvent> = outputs
                .iter()
                .filter_map(|output| match output {
                    Output::Persist(event) => Some(event),
                    _ => None,
                })
                .collect();
            if !events.is_empty() && !self.store(&events).await {
                return false;
            }
            for output in outputs {
                match output {
                    Output::Persist(_) => {}
                    Output::Send { to, frame } => self.send(&to, frame),
                    Output::Close { connection, code } => self.close(connection, code),
                }
            }
        }
    }

    /// Appends `events` to the log (one commit), then applies their side effects.
    async fn store(&self, events: &[&StoredEvent]) -> bool {
        let started = Instant::now();
        if let Err(err) = db::session_events::append(&self.db, self.id, events).await {
            tracing::error!(session = %self.id, error = %err, "storing hub events failed");
            return false;
        }
        metrics::histogram!("hub_event_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("hub_event_commit_events").record(events.len() as f64);
        for event in events {
            if let Err(err) = effects::apply(&self.db, self.id, event).await {
                tracing::warn!(session = %self.id, error = %err, "applying a hub event failed");
            }
        }
        true
    }

    fn send(&mut self, to: &[ConnectionId], frame: signaling::Frame) {
        let Ok(text) = Utf8Bytes::try_from(frame.into_bytes()) else {
            tracing::error!("the hub produced a frame that is not UTF-8");
            return;
        };
        for connection in to {
            let Some(outgoing) = self.connections.get(connection) else {
                continue;
            };
            if outgoing
                .frames
                .try_send(Message::Text(text.clone()))
                .is_err()
            {
                // Full (a slow consumer) or gone: drop it; the client resumes with last_seq.
                outgoing.abort.notify_one();
                self.connections.remove(connection);
                self.session.disconnect(*connection, Utc::now());
            }
        }
    }

    fn close(&mut self, connection: ConnectionId, code: CloseCode) {
        if let Some(outgoing) = self.connections.remove(&connection) {
            let frame = close_message(code.code(), code.reason());
            if outgoing.frames.try_send(frame).is_err() {
                outgoing.abort.notify_one();
            }
        }
    }

    fn resync_everyone(&mut self) {
        for (_, outgoing) in self.connections.drain() {
            outgoing.abort.notify_one();
        }
    }
}

pub fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

fn until(at: chrono::DateTime<Utc>) -> Duration {
    (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}
