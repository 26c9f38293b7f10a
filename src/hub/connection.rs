//! The session's way to one participant, whatever carries it: a bounded, ordered queue of
//! encoded frames ([`Link`] on the session's side, [`Outbox`] on the carrier's).

use bytes::Bytes;
use signaling::CloseCode;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{mpsc, oneshot};

/// What the session wants written next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// One encoded JSON text frame (the same bytes go to every recipient).
    Frame(Bytes),
    /// Close with this code and stop.
    Close(CloseCode),
}

/// The session's side of one connection: a bounded, ordered queue of frames and closes,
/// and a close that does not queue behind them (a slow consumer's queue is full exactly
/// when it must be closed).
pub(super) struct Link {
    queue: mpsc::Sender<Queued>,
    abort: oneshot::Sender<CloseCode>,
}

enum Queued {
    Frame(Bytes),
    Close(CloseCode),
}

/// Why a frame was not queued.
pub(super) enum Refused {
    /// The queue is full: a slow consumer.
    Full,
    /// The carrier is gone.
    Gone,
}

impl Link {
    pub(super) fn queue(&self, frame: Bytes) -> Result<(), Refused> {
        self.queue
            .try_send(Queued::Frame(frame))
            .map_err(|error| match error {
                TrySendError::Full(_) => Refused::Full,
                TrySendError::Closed(_) => Refused::Gone,
            })
    }

    /// Closes after the frames already queued (the session decided: replaced, removed,
    /// ended…), or at once if the queue is full.
    pub(super) fn close(self, code: CloseCode) {
        if self.queue.try_send(Queued::Close(code)).is_err() {
            self.abort(code);
        }
    }

    /// Closes at once, before the frames still queued.
    pub(super) fn abort(self, code: CloseCode) {
        let _ = self.abort.send(code);
    }
}

/// A link and its outbox, with room for `capacity` frames.
pub(super) fn link(capacity: usize) -> (Link, Outbox) {
    let (queue, queued) = mpsc::channel(capacity.max(1));
    let (abort, aborted) = oneshot::channel();
    let outbox = Outbox {
        queued,
        aborted: Some(aborted),
        closed: None,
    };
    (Link { queue, abort }, outbox)
}

/// The session's frames for one connection.
pub struct Outbox {
    queued: mpsc::Receiver<Queued>,
    /// `None` once the link is gone without aborting (a oneshot is read at most once).
    aborted: Option<oneshot::Receiver<CloseCode>>,
    closed: Option<CloseCode>,
}

impl Outbox {
    /// The next thing to write; after a close, that close again. A session that went away
    /// without a word reads as 4000 (`resync`): reconnect with `last_seq`.
    pub async fn recv(&mut self) -> Outgoing {
        if let Some(code) = self.closed {
            return Outgoing::Close(code);
        }
        let code = tokio::select! {
            biased;
            code = aborted(&mut self.aborted) => code,
            queued = self.queued.recv() => match queued {
                Some(Queued::Frame(frame)) => return Outgoing::Frame(frame),
                Some(Queued::Close(code)) => code,
                // Gone without a word (an abort would have been read first).
                None => CloseCode::Resync,
            },
        };
        self.closed = Some(code);
        Outgoing::Close(code)
    }

    /// A frame already queued, without waiting; `None` when there is none or a close is
    /// next (the next [`Outbox::recv`] returns it). Lets a writer send what piled up with
    /// one flush.
    pub fn try_frame(&mut self) -> Option<Bytes> {
        if self.closed.is_some() {
            return None;
        }
        if let Some(receiver) = &mut self.aborted {
            match receiver.try_recv() {
                Ok(code) => {
                    self.closed = Some(code);
                    return None;
                }
                Err(oneshot::error::TryRecvError::Closed) => self.aborted = None,
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
        }
        match self.queued.try_recv().ok()? {
            Queued::Frame(frame) => Some(frame),
            Queued::Close(code) => {
                self.closed = Some(code);
                None
            }
        }
    }
}

/// The abort's code once sent; pending forever if the link went without one. Cancel-safe.
async fn aborted(slot: &mut Option<oneshot::Receiver<CloseCode>>) -> CloseCode {
    if let Some(receiver) = slot {
        let sent = receiver.await;
        *slot = None;
        if let Ok(code) = sent {
            return code;
        }
    }
    std::future::pending().await
}
