//! Messages into a session's task. Leaves travel on their own channel (see `FrameSink`).

use bytes::Bytes;
use signaling::{CloseCode, ConnectionId, ParticipantInfo};
use tokio::sync::oneshot;

use super::connection::Outbox;
use super::media::MediaReport;

pub(super) enum Input {
    /// A participant connects (a WebSocket on this node, or one forwarded from another).
    /// The task numbers the connection and answers with its outbox; `last_seq` is the
    /// client's on reconnect.
    Connect {
        info: ParticipantInfo,
        last_seq: Option<u64>,
        reply: oneshot::Sender<Result<(ConnectionId, Outbox), CloseCode>>,
    },
    /// A text frame from a connected participant.
    Frame {
        connection: ConnectionId,
        bytes: Bytes,
    },
    /// End the session for everyone (REST `POST .../end`); answered once stored.
    End { done: oneshot::Sender<()> },
    /// What the media engine saw.
    Media(MediaReport),
    /// The server is stopping: close everyone with 4501 and stop.
    Shutdown { done: oneshot::Sender<()> },
}

impl Input {
    /// Answers a request the task will not serve: a connect is refused with `code`, a
    /// shutdown is done; an end is dropped (its caller retries on a fresh task).
    pub(super) fn refuse(self, code: CloseCode) {
        match self {
            Input::Connect { reply, .. } => drop(reply.send(Err(code))),
            Input::Shutdown { done } => drop(done.send(())),
            Input::Frame { .. } | Input::End { .. } | Input::Media(_) => {}
        }
    }
}
