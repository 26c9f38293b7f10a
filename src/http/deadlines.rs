//! The two deadlines of a connection between requests, kept apart because they guard
//! different things: `connections.idle_secs` is how long a connection may wait for its
//! next request at all (a kept-alive socket nobody uses); `connections.header_read_secs`
//! is how long a request head may take once its first byte came (a slow-header sender).
//! hyper's own header timeout starts when it begins waiting, so it would cut both at once.
//!
//! The listener's socket wrapper reports bytes read and enforces [`Deadlines::due`]; the
//! service marks each request's start and its answer's end (the response body dropped,
//! which hyper does once it has written it).

use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Response, StatusCode};
use http_body_util::BodyExt;
use tokio::time::Instant;

use crate::config::ConnectionsConfig;

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for the first byte of a request since the connection opened or its last
    /// answer ended.
    Idle { since: Instant },
    /// A request head is arriving; it must be complete by then.
    Head { by: Instant },
    /// A request is being served: the body-progress timeout and the handler own the time.
    Busy,
    /// Switched protocols (a WebSocket), which keeps its own deadlines.
    Upgraded,
}

/// One connection's phase, shared by its socket and its service.
pub struct Deadlines {
    idle: Duration,
    header_read: Duration,
    phase: Mutex<Phase>,
    /// The socket's last pending read, woken when an answer ends: hyper waits for the
    /// socket to wake it, and a socket that waited during a request has no timer armed.
    reader: Mutex<Option<Waker>>,
}

impl Deadlines {
    /// A connection that just opened: idle.
    pub fn new(config: &ConnectionsConfig) -> Arc<Self> {
        Arc::new(Self {
            idle: Duration::from_secs(config.idle_secs),
            header_read: Duration::from_secs(config.header_read_secs),
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
            }),
            reader: Mutex::new(None),
        })
    }

    fn update(&self, change: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(|e| e.into_inner());
        *phase = change(*phase);
    }

    /// Bytes came in: an idle connection has started a request head.
    pub fn bytes_read(&self) {
        let header_read = self.header_read;
        self.update(|phase| match phase {
            Phase::Idle { .. } => Phase::Head {
                by: Instant::now() + header_read,
            },
            other => other,
        });
    }

    /// The head is complete and the request goes to the router.
    pub fn request_started(&self) {
        self.update(|phase| match phase {
            Phase::Upgraded => Phase::Upgraded,
            _ => Phase::Busy,
        });
    }

    /// Marks the end of `response` (when hyper drops its body) as the start of idleness,
    /// or the connection as upgraded for a `101`.
    pub fn track(self: &Arc<Self>, response: Response<Body>) -> Response<Body> {
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            self.update(|_| Phase::Upgraded);
            return response;
        }
        let answered = Answered(Arc::clone(self));
        response.map(|body| {
            Body::new(body.map_frame(move |frame| {
                let _ = &answered;
                frame
            }))
        })
    }

    /// The socket's read is pending with `waker`.
    pub fn read_pending(&self, waker: &Waker) {
        let mut reader = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        if !reader.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *reader = Some(waker.clone());
        }
    }

    /// When the connection must have made progress, if it is waiting on the client.
    pub fn due(&self) -> Option<Instant> {
        match *self.phase.lock().unwrap_or_else(|e| e.into_inner()) {
            Phase::Idle { since } => Some(since + self.idle),
            Phase::Head { by } => Some(by),
            Phase::Busy | Phase::Upgraded => None,
        }
    }
}

/// Dropped with the response body: the answer is out, the connection idles from now.
struct Answered(Arc<Deadlines>);

impl Drop for Answered {
    fn drop(&mut self) {
        self.0.update(|phase| match phase {
            Phase::Busy => Phase::Idle {
                since: Instant::now(),
            },
            other => other,
        });
        let reader = self
            .0
            .reader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(waker) = reader {
            waker.wake();
        }
    }
}
