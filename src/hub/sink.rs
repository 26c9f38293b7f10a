//! One participant's two ends of a session, whatever carries them: a sink for its frames
//! and an outbox for the session's. The WebSocket edge (`socket.rs`) is one carrier; a
//! cluster node forwarding a client connected elsewhere will be another.

use bytes::Bytes;
use signaling::ConnectionId;
use tokio::sync::mpsc;

use super::command::Input;
use super::connection::Outbox;

/// A joined connection: move `sink` into the reading loop and `outbox` into the writing one.
pub struct Connection {
    pub id: ConnectionId,
    pub sink: FrameSink,
    pub outbox: Outbox,
}

/// The session's task has gone away; the client reconnects with `last_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the session's task has stopped")]
pub struct SessionGone;

/// Sends the client's text frames to the session. Dropping it tells the session the client
/// left.
pub struct FrameSink {
    connection: ConnectionId,
    inputs: mpsc::Sender<Input>,
    leaves: mpsc::UnboundedSender<ConnectionId>,
}

impl FrameSink {
    pub(super) fn new(
        connection: ConnectionId,
        inputs: mpsc::Sender<Input>,
        leaves: mpsc::UnboundedSender<ConnectionId>,
    ) -> Self {
        FrameSink {
            connection,
            inputs,
            leaves,
        }
    }

    /// Hands one frame to the session. Waits while the session's queue is full: the
    /// backpressure that stops the server reading a flooding socket.
    pub async fn send(&self, bytes: Bytes) -> Result<(), SessionGone> {
        let input = Input::Frame {
            connection: self.connection,
            bytes,
        };
        self.inputs.send(input).await.map_err(|_| SessionGone)
    }
}

impl Drop for FrameSink {
    fn drop(&mut self) {
        // Unbounded on purpose: one message per connection ever, so it is bounded by the
        // number of connections, and a drop cannot wait for room.
        let _ = self.leaves.send(self.connection);
    }
}
