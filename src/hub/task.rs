//! One live session as one task: it owns the `signaling::Session`, takes inputs from a
//! bounded channel, stores each group of events through its [`SessionLog`] before
//! delivering the frames that follow them, and retires when idle.
//!
//! Group commit: the inputs that queued up while the task was storing take their turn
//! together, and the events they cause are stored with one append before any of their
//! frames go out. Under load one commit then serves many messages instead of each
//! message waiting behind the commits of all before it; alone, a message is stored and
//! sent at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use signaling::{
    CloseCode, ConnectionId, Join, Limits, Output, ParticipantInfo, Session, SessionConfig,
    StoredEvent,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::ballot::SessionBallots;
use super::command::Input;
use super::connection::{self, Link, Outbox, Refused};
use super::log::SessionLog;
use super::media::{self, MediaEngine, MediaReport};
use super::registry::{Registry, SessionHandle};
use crate::config::HubConfig;

/// Most inputs in one group, as a share of a connection's outgoing queue: a group's
/// frames reach each queue at once (one input can send a connection two: its event and
/// an ack), so a group must leave room for the frames still queued from the last one,
/// or a client that keeps up would be closed as a slow consumer.
const GROUP_SHARE_OF_QUEUE: usize = 8;

/// What every session task runs with, derived once from `[hub]`.
pub(super) struct TaskConfig {
    limits: Limits,
    /// How long a session with nobody connected stays in memory.
    idle: Duration,
    /// Most inputs whose events share one commit.
    group_inputs: usize,
    /// Frames queued per connection before it counts as a slow consumer.
    outgoing_queue: usize,
}

impl TaskConfig {
    pub(super) fn new(hub: &HubConfig) -> Self {
        TaskConfig {
            limits: Limits {
                rate_burst: hub.rate_burst,
                rate_per_second: hub.rate_per_second,
                ..Limits::default()
            },
            idle: Duration::from_secs(hub.idle_secs),
            group_inputs: (hub.outgoing_queue / GROUP_SHARE_OF_QUEUE).max(1),
            outgoing_queue: hub.outgoing_queue,
        }
    }
}

/// A session's task before it has loaded its log.
pub(super) struct SessionTask<L> {
    id: Uuid,
    log: Arc<L>,
    media: Arc<dyn MediaEngine>,
    config: Arc<TaskConfig>,
    registry: Registry,
    handle: SessionHandle,
    inputs: mpsc::Receiver<Input>,
    leaves: mpsc::UnboundedReceiver<ConnectionId>,
}

/// Whether the task goes on. On `Stop`, queued requests are refused with the code, or
/// (without one) dropped so their callers retry on a fresh task.
enum Flow {
    Continue,
    Stop(Option<CloseCode>),
}

/// A loaded session and its connections.
struct Running<L> {
    task: SessionTask<L>,
    session: Session,
    links: HashMap<ConnectionId, Link>,
    next_connection: u64,
    /// `End` requests, answered once `session.ended` is stored.
    ending: Vec<oneshot::Sender<()>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl<L: SessionLog> SessionTask<L> {
    pub(super) fn new(
        id: Uuid,
        log: Arc<L>,
        media: Arc<dyn MediaEngine>,
        config: Arc<TaskConfig>,
        registry: Registry,
        handle: SessionHandle,
        receivers: (mpsc::Receiver<Input>, mpsc::UnboundedReceiver<ConnectionId>),
    ) -> Self {
        SessionTask {
            id,
            log,
            media,
            config,
            registry,
            handle,
            inputs: receivers.0,
            leaves: receivers.1,
        }
    }

    /// Rebuilds the session from its log, then serves it until it retires.
    pub(super) async fn run(self, ballots: SessionBallots) {
        let id = self.id;
        let loaded = match self.log.load(id).await {
            Ok(loaded) => loaded,
            Err(error) => {
                tracing::error!(session = %id, %error, "opening the session failed");
                return self.retire(Some(CloseCode::Resync)).await;
            }
        };
        let last_at = loaded.events.last().map(|event| event.at);
        let config = SessionConfig {
            limits: self.config.limits.clone(),
            lobby: loaded.lobby,
            // Without a recorder `recording.start` is refused, not announced.
            recording: self.media.records(),
        };
        let session = match Session::replay(config, ballots, loaded.events) {
            Ok(session) => session,
            Err(error) => {
                tracing::error!(session = %id, %error, "replaying the session failed");
                return self.retire(Some(CloseCode::Resync)).await;
            }
        };
        let mut live = Running {
            task: self,
            session,
            links: HashMap::new(),
            next_connection: 1,
            ending: Vec::new(),
            shutdown: None,
        };
        // Close the presence a crash left open before anyone joins.
        if let Some(at) = last_at {
            live.session.recover(at);
        }
        if !live.drain().await {
            return live.task.retire(Some(CloseCode::Resync)).await;
        }
        live.serve().await;
    }

    /// Leaves the registry and answers whatever is still queued: refused with `code`, or
    /// dropped so the caller retries on a fresh task.
    async fn retire(mut self, code: Option<CloseCode>) {
        self.registry.remove(self.id, self.handle.generation);
        self.inputs.close();
        while let Some(input) = self.inputs.recv().await {
            match code {
                Some(code) => input.refuse(code),
                None => drop(input),
            }
        }
    }
}

impl<L: SessionLog> Running<L> {
    async fn serve(mut self) {
        loop {
            let deadline = self.session.next_deadline();
            let idle = self.links.is_empty().then(|| self.idle_limit());
            let flow = tokio::select! {
                biased;
                Some(connection) = self.task.leaves.recv() => {
                    self.leave(connection);
                    Flow::Continue
                }
                // Never ends: the task's own handle holds a sender.
                Some(input) = self.task.inputs.recv() => {
                    self.handle(input);
                    self.handle_queued();
                    Flow::Continue
                }
                _ = sleep_until(deadline) => {
                    self.session.tick(Utc::now());
                    Flow::Continue
                }
                _ = sleep_for(idle) => {
                    // Nobody is left to record; the next load must not find it running.
                    if self.session.state().recording.is_some() {
                        self.session.stop_recording("everyone left the session", Utc::now());
                        if !self.drain().await {
                            return self.task.retire(None).await;
                        }
                    }
                    Flow::Stop(None)
                }
            };
            let flow = match flow {
                Flow::Continue => self.settle().await,
                stop => stop,
            };
            if let Flow::Stop(code) = flow {
                return self.task.retire(code).await;
            }
        }
    }

    /// Stores and delivers what the inputs caused, then answers the requests waiting on it.
    async fn settle(&mut self) -> Flow {
        if !self.drain().await {
            // The session is ahead of its log: everyone reconnects to one rebuilt from it.
            for (_, link) in self.links.drain() {
                link.abort(CloseCode::Resync);
            }
            return Flow::Stop(None);
        }
        for done in self.ending.drain(..) {
            let _ = done.send(());
        }
        match self.shutdown.take() {
            Some(done) => {
                self.shut_down().await;
                let _ = done.send(());
                Flow::Stop(Some(CloseCode::Restarting))
            }
            None => Flow::Continue,
        }
    }

    /// Closes every connection with 4501 and stores their departures, so the next start
    /// finds nobody present.
    async fn shut_down(&mut self) {
        let now = Utc::now();
        for (connection, link) in std::mem::take(&mut self.links) {
            link.close(CloseCode::Restarting);
            self.session.disconnect(connection, now);
        }
        let _ = self.drain().await;
    }

    /// An ended session's task stops at once when empty; a live one waits a while.
    fn idle_limit(&self) -> Duration {
        if self.session.state().ended.is_some() {
            Duration::ZERO
        } else {
            self.task.config.idle
        }
    }

    /// Handles the inputs already waiting, so their events share one commit.
    fn handle_queued(&mut self) {
        for _ in 1..self.task.config.group_inputs {
            match self.task.inputs.try_recv() {
                Ok(input) => self.handle(input),
                Err(_) => return,
            }
        }
    }

    fn handle(&mut self, input: Input) {
        let now = Utc::now();
        match input {
            Input::Connect {
                info,
                last_seq,
                reply,
            } => self.connect(info, last_seq, reply, now),
            Input::Frame { connection, bytes } => {
                if self.links.contains_key(&connection) {
                    self.session.handle_frame(connection, &bytes, now);
                }
            }
            Input::End { done } => {
                self.session.end(now);
                self.ending.push(done);
            }
            Input::Media(report) => self.media_reported(report, now),
            Input::Shutdown { done } => self.shutdown = Some(done),
        }
    }

    fn connect(
        &mut self,
        info: ParticipantInfo,
        last_seq: Option<u64>,
        reply: oneshot::Sender<Result<(ConnectionId, Outbox), CloseCode>>,
        now: DateTime<Utc>,
    ) {
        let id = ConnectionId(self.next_connection);
        self.next_connection += 1;
        let join = Join {
            connection: id,
            info,
            last_seq,
        };
        if let Err(refused) = self.session.connect(join, now) {
            let _ = reply.send(Err(refused.close_code()));
            return;
        }
        let (link, outbox) = connection::link(self.task.config.outgoing_queue);
        self.links.insert(id, link);
        if reply.send(Ok((id, outbox))).is_err() {
            self.leave(id); // the caller gave up
        }
    }

    fn media_reported(&mut self, report: MediaReport, now: DateTime<Utc>) {
        let session = &mut self.session;
        match report {
            MediaReport::Track {
                participant,
                track,
                source,
                live,
            } => session.track_changed(participant, &track, source, live, now),
            MediaReport::ActiveSpeaker { participant } => session.speaking(participant),
            MediaReport::Offer { participant, sdp } => session.media_offer(participant, &sdp),
            MediaReport::Demand {
                participant,
                track,
                used,
            } => session.track_demand(participant, &track, used),
            MediaReport::Reply {
                participant,
                reference,
                result,
            } => session.media_reply(participant, reference, result),
            MediaReport::RecordingFailed { reason } => session.stop_recording(&reason, now),
        }
    }

    fn leave(&mut self, connection: ConnectionId) {
        if self.links.remove(&connection).is_some() {
            self.session.disconnect(connection, Utc::now());
        }
    }

    /// Acts on every pending output: stores the pending events (one group), then sends
    /// and closes in order. Sending can cause more (a slow consumer's departure), so
    /// this repeats until nothing is pending. False when events could not be stored:
    /// the session is then ahead of its log and must be rebuilt from it.
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
                    Output::Close { connection, code } => {
                        if let Some(link) = self.links.remove(&connection) {
                            link.close(code);
                        }
                    }
                    Output::Media(request) => {
                        let (participant, reference) =
                            (request.participant, request.reference.clone());
                        if let Err(error) = self.task.media.request(self.task.id, request) {
                            self.session.media_reply(participant, reference, Err(error));
                        }
                    }
                }
            }
        }
    }

    async fn store(&self, events: &[&StoredEvent]) -> bool {
        let started = Instant::now();
        if let Err(error) = self.task.log.append(self.task.id, events).await {
            tracing::error!(session = %self.task.id, %error, "storing hub events failed");
            return false;
        }
        metrics::histogram!("hub_event_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("hub_event_commit_events").record(events.len() as f64);
        // Decided, and stored: the media engine may act on it.
        for decision in events.iter().filter_map(|event| media::decision(event)) {
            self.task.media.decide(self.task.id, decision);
        }
        true
    }

    fn send(&mut self, to: &[ConnectionId], frame: signaling::Frame) {
        let bytes = frame.into_bytes();
        for connection in to {
            let Some(link) = self.links.get(connection) else {
                continue;
            };
            let Err(refused) = link.queue(bytes.clone()) else {
                continue;
            };
            // A slow consumer is closed with 4000 and resumes with `last_seq`; a gone one
            // simply leaves.
            if let (Some(link), Refused::Full) = (self.links.remove(connection), refused) {
                link.abort(CloseCode::Resync);
            }
            self.session.disconnect(*connection, Utc::now());
        }
    }
}

async fn sleep_until(at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => tokio::time::sleep((at - Utc::now()).to_std().unwrap_or_default()).await,
        None => std::future::pending().await,
    }
}

async fn sleep_for(after: Option<Duration>) {
    match after {
        Some(after) => tokio::time::sleep(after).await,
        None => std::future::pending().await,
    }
}
