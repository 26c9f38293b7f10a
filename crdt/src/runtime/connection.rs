//! One client's two ends of a room: a sink for its frames, an outbox for the room's.

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use super::command::Command;
use crate::{CloseCode, ConnId};

/// A joined connection. The server moves `sink` into its socket-reading loop and `outbox`
/// into its socket-writing loop (or selects over both in one task).
pub struct Connection {
    /// This connection's id in the room.
    pub id: ConnId,
    /// Frames from the client into the room.
    pub sink: FrameSink,
    /// Frames and the close code from the room to the client.
    pub outbox: Outbox,
}

/// Sends client frames to the room. Dropping it tells the room the client left.
pub struct FrameSink {
    conn: ConnId,
    commands: mpsc::Sender<Command>,
    leaves: mpsc::UnboundedSender<ConnId>,
}

/// The room task has gone away; close the socket with 4501 and let the client reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the room has closed")]
pub struct RoomClosed;

impl FrameSink {
    pub(super) fn new(
        conn: ConnId,
        commands: mpsc::Sender<Command>,
        leaves: mpsc::UnboundedSender<ConnId>,
    ) -> Self {
        FrameSink {
            conn,
            commands,
            leaves,
        }
    }

    /// Hands one binary frame to the room. Waits while the room's inbox is full, which is
    /// the backpressure that stops the server reading a flooding socket.
    pub async fn send(&self, frame: Bytes) -> Result<(), RoomClosed> {
        let command = Command::Frame {
            conn: self.conn,
            frame,
        };
        self.commands.send(command).await.map_err(|_| RoomClosed)
    }
}

impl Drop for FrameSink {
    fn drop(&mut self) {
        // Unbounded on purpose: one message per connection ever, so its size is bounded by
        // the number of connections, and a drop cannot wait for space.
        let _ = self.leaves.send(self.conn);
    }
}

/// What the room wants written to the socket next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A binary frame to send as is.
    Frame(Bytes),
    /// Send a close frame with this code and stop.
    Close(CloseCode),
}

/// The room's frames for one connection: a bounded queue, plus a close signal that does not
/// queue behind frames (a slow consumer's queue is full exactly when it must be closed).
pub struct Outbox {
    frames: mpsc::Receiver<Bytes>,
    close: oneshot::Receiver<CloseCode>,
    closed: Option<CloseCode>,
}

impl Outbox {
    pub(super) fn new(frames: mpsc::Receiver<Bytes>, close: oneshot::Receiver<CloseCode>) -> Self {
        Outbox {
            frames,
            close,
            closed: None,
        }
    }

    /// The next thing to write. After a close, keeps returning that close. A room that
    /// vanished without a word reads as 4501 (reconnect).
    pub async fn recv(&mut self) -> Outgoing {
        if let Some(code) = self.closed {
            return Outgoing::Close(code);
        }
        let next = tokio::select! {
            biased;
            code = &mut self.close => Err(Some(code.unwrap_or(CloseCode::RoomUnloading))),
            frame = self.frames.recv() => frame.ok_or(None),
        };
        let code = match next {
            Ok(frame) => return Outgoing::Frame(frame),
            Err(Some(code)) => code,
            // The queue ended first: the close signal, sent before the queue is dropped,
            // holds the reason.
            Err(None) => (&mut self.close).await.unwrap_or(CloseCode::RoomUnloading),
        };
        self.closed = Some(code);
        Outgoing::Close(code)
    }

    /// A frame that is already queued, without waiting; `None` when there is none or the
    /// room has closed the connection (the next [`Outbox::recv`] says which). Lets a writer
    /// send everything that piled up with one write to the socket.
    pub fn try_frame(&mut self) -> Option<Bytes> {
        if self.closed.is_some() {
            return None;
        }
        // As in `recv`, a close goes before the frames still queued.
        if let Ok(code) = self.close.try_recv() {
            self.closed = Some(code);
            return None;
        }
        self.frames.try_recv().ok()
    }

    /// Frames waiting to be written (never more than the configured queue size).
    pub fn queued(&self) -> usize {
        self.frames.len()
    }
}
