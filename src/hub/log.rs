//! Where a session's events live. The session task stores and replays them only through
//! [`SessionLog`]: the database implements it today (`db::session_log`), and a replicated
//! log (the cluster) will implement it the same way, without the task changing.

use std::future::Future;

use signaling::StoredEvent;
use uuid::Uuid;

/// What a session task starts from.
#[derive(Debug, Default)]
pub struct LoadedSession {
    /// Whether newcomers wait in the lobby (the session's setting).
    pub lobby: bool,
    /// Every stored event, in seq order from 1.
    pub events: Vec<StoredEvent>,
}

/// Why the log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("no such session")]
    NotFound,
    #[error("event {seq} of session {session} does not parse: {source}")]
    Corrupt {
        session: Uuid,
        seq: i64,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl LogError {
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        LogError::Backend(Box::new(error))
    }
}

/// The numbered event log of every session.
///
/// `signaling::Session` numbers its events 1, 2, 3, … deterministically; the log keeps
/// that numbering honest: an append whose seq is already stored fails, so two writers of one
/// session (a bug on one node, a lost lease in a cluster) cannot both succeed.
pub trait SessionLog: Send + Sync + 'static {
    /// The session's settings and its whole log, to rebuild it with `Session::replay`.
    fn load(&self, session: Uuid) -> impl Future<Output = Result<LoadedSession, LogError>> + Send;

    /// Stores `events` (consecutive seqs after the last stored one) with one commit, then
    /// what they change outside the log (stored roles, bans, the session's status,
    /// attendance times). When this returns `Ok` the events are durable, and only then does
    /// the task deliver their frames: a session publishes nothing it has not persisted. A
    /// cluster's log publishes them to the other nodes here, after the commit.
    fn append(
        &self,
        session: Uuid,
        events: &[&StoredEvent],
    ) -> impl Future<Output = Result<(), LogError>> + Send;
}
