//! [`SfuEngine`]: the hub's media engine, queuing work for the [`super::worker`].

use std::sync::Arc;
use std::time::Duration;

use sfu::{SfuEvent, SfuHandle};
use signaling::{ErrorCode, HubError, MediaRequest};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::worker::{Work, Worker};
use crate::hub::media::{MediaDecision, MediaEngine, MediaReport};
use crate::recording::Recorder;

/// `media.*` requests queued for the worker before new ones are refused as busy.
const REQUEST_QUEUE: usize = 1_024;

/// The SFU as the hub's media engine. Decisions queue without bound: each is a stored
/// event, so they come no faster than the session log takes them, and dropping one (a
/// removal, a mute) would break a promise. Requests come from clients and queue up to
/// [`REQUEST_QUEUE`]; past it a request is refused with `unavailable`.
pub struct SfuEngine {
    decisions: mpsc::UnboundedSender<Work>,
    requests: mpsc::Sender<Work>,
    records: bool,
}

impl SfuEngine {
    /// Spawns the worker over `sfu` and its `events`; reports go to `reports`.
    pub(super) fn start(
        sfu: SfuHandle,
        events: mpsc::Receiver<SfuEvent>,
        reports: mpsc::Sender<(Uuid, MediaReport)>,
        grace: Duration,
        recorder: Option<Arc<Recorder>>,
    ) -> SfuEngine {
        let (decisions, decisions_rx) = mpsc::unbounded_channel();
        let (requests, requests_rx) = mpsc::channel(REQUEST_QUEUE);
        let records = recorder.is_some();
        let worker = Worker::new(sfu, reports, grace, recorder);
        tokio::spawn(worker.run(decisions_rx, requests_rx, events));
        SfuEngine {
            decisions,
            requests,
            records,
        }
    }
}

impl MediaEngine for SfuEngine {
    fn records(&self) -> bool {
        self.records
    }

    fn decide(&self, session: Uuid, decision: MediaDecision) {
        if self
            .decisions
            .send(Work::Decide(session, decision))
            .is_err()
        {
            tracing::error!(%session, "media worker gone: a decision was not carried out");
        }
    }

    fn request(&self, session: Uuid, request: MediaRequest) -> Result<(), HubError> {
        self.requests
            .try_send(Work::Request(session, request))
            .map_err(|_| HubError::new(ErrorCode::Unavailable, "the media server is busy"))
    }
}
