//! [`Session`]: one live session's hub as a sans-IO state machine.
//!
//! Inputs: a connection opens ([`Session::connect`]), a client frame arrives
//! ([`Session::handle_frame`]), a connection closes ([`Session::disconnect`]), time
//! passes ([`Session::tick`]). Outputs, drained with [`Session::poll_output`] in order:
//! events to persist, frames to send to connections, connections to close, media requests
//! for the media engine (which answers through the methods in `media.rs`).
//!
//! The server must persist each [`Output::Persist`] before sending the frames that
//! follow it. If persisting fails, the in-memory room is ahead of storage: close every
//! connection with [`CloseCode::Resync`] and rebuild the room with [`Session::replay`].

use crate::audience::{Audience, audience_of};
use crate::capability::Capability;
use crate::commands::{self, Ctx, Effect};
use crate::error::{ErrorCode, HubError};
use crate::event::{Event, ParticipantInfo, StoredEvent};
use crate::ids::{BallotKeys, ConnectionId, ParticipantId};
use crate::limits::Limits;
use crate::protocol::client::{ClientMessage, Command, parse_client_message};
use crate::protocol::server::{self, CloseCode, EventFrame, Frame};
use crate::ring::Ring;
use crate::snapshot::{Snapshot, snapshot_for};
use crate::state::State;
use crate::view::event_view;
use chrono::{DateTime, Utc};
use media::LiveTrack;
pub use media::{MediaMessage, MediaRequest, publish_capability};
use pacing::Pacing;
use std::collections::{BTreeMap, HashMap, VecDeque};

mod media;
mod pacing;
mod typing;
mod welcome;

/// Why a recording found running when a session is rebuilt from its log ended: the
/// process that recorded it is gone (the files end where it stopped).
pub const INTERRUPTED: &str = "interrupted: the server restarted during the recording";

/// How a session behaves.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    pub limits: Limits,
    /// Everyone without `admin_room` waits in the lobby on first join.
    pub lobby: bool,
    /// Whether the server records sessions: without a recorder, `recording.start` is
    /// refused (`unavailable`) rather than announcing a recording that does not exist.
    pub recording: bool,
}

/// A connection opening, after the server verified the join ticket.
#[derive(Debug, Clone)]
pub struct Join {
    pub connection: ConnectionId,
    /// From the ticket. For someone already admitted earlier, the session keeps the
    /// role and capabilities it knows (a live role change outlives reconnects).
    pub info: ParticipantInfo,
    /// The last seq the client saw (`?last_seq=` on reconnect): the welcome is then
    /// followed by exactly the missed events instead of a snapshot, when possible.
    pub last_seq: Option<u64>,
}

/// Why a connection is refused; close it with [`JoinRefused::close_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefused {
    #[error("banned from this session")]
    Banned,
    #[error("the session has ended")]
    Ended,
    #[error("the lobby is full")]
    LobbyFull,
}

impl JoinRefused {
    pub fn close_code(self) -> CloseCode {
        match self {
            JoinRefused::Banned => CloseCode::Banned,
            JoinRefused::Ended => CloseCode::Ended,
            JoinRefused::LobbyFull => CloseCode::Denied,
        }
    }
}

/// Something the server must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Store this event (append to the session's log) before sending later frames.
    Persist(StoredEvent),
    /// Send the same encoded frame to each of these connections.
    Send { to: Vec<ConnectionId>, frame: Frame },
    /// Close this connection with this code (after sending what precedes it).
    Close {
        connection: ConnectionId,
        code: CloseCode,
    },
    /// Hand this request to the media engine (after storing the events before it).
    Media(MediaRequest),
}

/// What a handled command answers now.
enum Reply {
    /// An `ack`, with this `result`.
    Ack(Option<serde_json::Value>),
    /// Nothing yet: the media engine answers.
    Deferred,
}

/// The log could not be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("event log has a gap: expected seq {expected}, found {found}")]
    Gap { expected: u64, found: u64 },
}

/// One session's hub.
pub struct Session {
    config: SessionConfig,
    keys: Box<dyn BallotKeys>,
    state: State,
    ring: Ring,
    last_at: Option<DateTime<Utc>>,
    connections: HashMap<ConnectionId, ParticipantId>,
    /// Per participant, not per connection, so reconnecting does not refill the bucket.
    pacing: HashMap<ParticipantId, Pacing>,
    by_participant: HashMap<ParticipantId, ConnectionId>,
    /// Live media tracks by track id, as the engine reported them (not stored).
    tracks: BTreeMap<String, LiveTrack>,
    outputs: VecDeque<Output>,
}

impl Session {
    /// A new, empty session. `keys` computes anonymous-poll ballot keys.
    pub fn new(config: SessionConfig, keys: impl BallotKeys + 'static) -> Self {
        let state = State::new(config.limits.chat_kept);
        let ring = Ring::new(config.limits.resume_ring);
        Self {
            config,
            keys: Box::new(keys),
            state,
            ring,
            last_at: None,
            connections: HashMap::new(),
            pacing: HashMap::new(),
            by_participant: HashMap::new(),
            tracks: BTreeMap::new(),
            outputs: VecDeque::new(),
        }
    }

    /// Rebuilds a session from its stored events (in seq order, starting at 1). The
    /// resume ring is rebuilt too. Nobody is connected afterwards: call
    /// [`Session::recover`] to close the presence the crash left open.
    pub fn replay(
        config: SessionConfig,
        keys: impl BallotKeys + 'static,
        events: impl IntoIterator<Item = StoredEvent>,
    ) -> Result<Self, ReplayError> {
        let mut session = Self::new(config, keys);
        for stored in events {
            let expected = session.state.seq + 1;
            if stored.seq != expected {
                return Err(ReplayError::Gap {
                    expected,
                    found: stored.seq,
                });
            }
            session.record(stored);
        }
        Ok(session)
    }

    /// After a replay: everyone the log shows present, or waiting in the lobby, lost
    /// their connection, and a recording in progress ended. Emits their `participant.left`
    /// / `lobby.left`, and `recording.stopped` with reason [`INTERRUPTED`], at `at` (the best
    /// known crash time, e.g. the last stored event's `at`).
    pub fn recover(&mut self, at: DateTime<Utc>) {
        let stale: Vec<Event> = self
            .state
            .participants
            .values()
            .filter(|p| p.present && !self.by_participant.contains_key(&p.info.participant))
            .map(|p| Event::ParticipantLeft {
                participant: p.info.participant,
            })
            .chain(
                self.state
                    .lobby
                    .iter()
                    .filter(|e| !self.by_participant.contains_key(&e.info.participant))
                    .map(|e| Event::LobbyLeft {
                        participant: e.info.participant,
                    }),
            )
            .collect();
        for event in stale {
            self.emit(event, at, None);
        }
        // The recorder died with the process: the files end at the crash.
        self.stop_recording(INTERRUPTED, at);
    }

    /// The next output to act on, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The room's state (read-only).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The seq of the last event.
    pub fn seq(&self) -> u64 {
        self.state.seq
    }

    /// How many connections the session knows.
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// When [`Session::tick`] next has work (a poll timer), if ever.
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        self.state.polls.next_close()
    }

    /// Time passes: closes polls whose timer ran out.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let due: Vec<_> = self
            .state
            .polls
            .polls
            .iter()
            .filter(|p| p.status == crate::state::PollStatus::Open)
            .filter(|p| p.closes_at.is_some_and(|at| at <= now))
            .map(|p| p.poll)
            .collect();
        for poll in due {
            self.emit(Event::PollClosed { poll }, now, None);
        }
    }

    /// Ends the session for everyone (from the REST API; `session.end` does the same).
    pub fn end(&mut self, now: DateTime<Utc>) {
        if self.state.ended.is_none() {
            self.apply_effect(
                Effect {
                    events: vec![Event::SessionEnded { by: None }],
                    ..Effect::default()
                },
                now,
            );
        }
    }

    /// A connection opens. On success the welcome (and the events it caused) are queued.
    pub fn connect(&mut self, join: Join, now: DateTime<Utc>) -> Result<(), JoinRefused> {
        let id = join.info.participant;
        if self.state.ended.is_some() {
            return Err(JoinRefused::Ended);
        }
        if self.state.banned.contains(&id) {
            return Err(JoinRefused::Banned);
        }
        let waits = self.must_wait(&join.info);
        if waits
            && self.state.lobby_entry(id).is_none()
            && self.state.lobby.len() >= self.config.limits.max_lobby
        {
            return Err(JoinRefused::LobbyFull);
        }
        self.replace_connection(id, join.connection, now);
        if waits {
            self.emit(
                Event::LobbyKnocked {
                    info: join.info.clone(),
                },
                now,
                Some(id),
            );
            self.send_welcome(join.connection, id, &join.info, None, true);
            return Ok(());
        }
        if self.state.present(id).is_none() {
            let info = self.rejoin_info(join.info);
            self.emit(Event::ParticipantJoined { info }, now, Some(id));
        }
        let info = self.state.participants[&id].info.clone();
        self.send_welcome(join.connection, id, &info, join.last_seq, false);
        Ok(())
    }

    /// A connection closed (or was closed). Stale connections are ignored.
    pub fn disconnect(&mut self, connection: ConnectionId, now: DateTime<Utc>) {
        let Some(id) = self.connections.remove(&connection) else {
            return;
        };
        if self.by_participant.get(&id) != Some(&connection) {
            return;
        }
        self.by_participant.remove(&id);
        if self.state.ended.is_some() {
            return;
        }
        if self.state.lobby_entry(id).is_some() {
            self.emit(Event::LobbyLeft { participant: id }, now, None);
        } else if self.state.present(id).is_some() {
            self.emit(Event::ParticipantLeft { participant: id }, now, None);
        }
    }

    /// A text frame arrived: rate-limited, size-checked, parsed, then handled.
    pub fn handle_frame(&mut self, connection: ConnectionId, bytes: &[u8], now: DateTime<Utc>) {
        if !self.take_token(connection, now) {
            return;
        }
        match parse_client_message(bytes, self.config.limits.max_frame_bytes) {
            Ok(message) => self.dispatch(connection, message, now),
            Err(e) => self.reply(connection, server::error(e.id.as_ref(), &e.error)),
        }
    }

    /// An already parsed message (rate-limited like a frame).
    pub fn handle_message(
        &mut self,
        connection: ConnectionId,
        message: ClientMessage,
        now: DateTime<Utc>,
    ) {
        if self.take_token(connection, now) {
            self.dispatch(connection, message, now);
        }
    }

    /// The snapshot `participant` may see now, as JSON (what the welcome carries).
    pub fn snapshot_for(&self, participant: ParticipantId) -> serde_json::Value {
        serde_json::to_value(self.snapshot(participant)).unwrap_or_default()
    }

    fn snapshot(&self, participant: ParticipantId) -> Snapshot<'_> {
        snapshot_for(
            &self.state,
            participant,
            self.keys.as_ref(),
            self.config.limits.chat_history,
        )
    }

    fn must_wait(&self, info: &ParticipantInfo) -> bool {
        let gated = self.config.lobby || self.state.locked;
        gated
            && !info.hidden
            && !info.capabilities.contains(Capability::AdminRoom)
            && self
                .state
                .participant(info.participant)
                .is_none_or(|p| p.removed)
    }

    /// A returning participant keeps the role and capabilities the session gave them.
    fn rejoin_info(&self, mut info: ParticipantInfo) -> ParticipantInfo {
        if let Some(known) = self.state.participant(info.participant) {
            info.role = known.info.role;
            info.capabilities = known.info.capabilities;
        }
        info
    }

    fn replace_connection(
        &mut self,
        id: ParticipantId,
        connection: ConnectionId,
        now: DateTime<Utc>,
    ) {
        if let Some(old) = self.by_participant.insert(id, connection) {
            self.connections.remove(&old);
            self.outputs.push_back(Output::Close {
                connection: old,
                code: CloseCode::Replaced,
            });
        }
        self.connections.insert(connection, id);
        let limits = &self.config.limits;
        self.pacing
            .entry(id)
            .or_insert_with(|| Pacing::new(limits, now));
    }

    fn take_token(&mut self, connection: ConnectionId, now: DateTime<Utc>) -> bool {
        let Some(id) = self.connections.get(&connection) else {
            return false;
        };
        if self.pacing.get_mut(id).is_some_and(|p| p.try_take(now)) {
            return true;
        }
        let error = HubError::new(ErrorCode::RateLimited, "too many messages; slow down");
        self.reply(connection, server::error(None, &error));
        false
    }

    fn dispatch(&mut self, connection: ConnectionId, message: ClientMessage, now: DateTime<Utc>) {
        let Some(id) = self.connections.get(&connection).copied() else {
            return;
        };
        let reference = message.id.clone();
        let result = match message.command {
            Command::Ping => {
                self.reply(connection, server::pong(reference.as_ref()));
                return;
            }
            command => self.run(connection, id, command, reference.clone(), now),
        };
        let frame = match result {
            Ok(Reply::Ack(value)) => server::ack(reference.as_ref(), value.as_ref()),
            Ok(Reply::Deferred) => return,
            Err(error) => server::error(reference.as_ref(), &error),
        };
        // The connection may have been closed by its own command (session.end).
        if self.connections.contains_key(&connection) {
            self.reply(connection, frame);
        }
    }

    fn run(
        &mut self,
        connection: ConnectionId,
        id: ParticipantId,
        command: Command,
        reference: Option<crate::ids::RequestId>,
        now: DateTime<Utc>,
    ) -> Result<Reply, HubError> {
        if self.state.ended.is_some() {
            return Err(HubError::new(
                ErrorCode::SessionEnded,
                "the session has ended",
            ));
        }
        if self.state.present(id).is_none() {
            return Err(HubError::new(ErrorCode::InLobby, "waiting to be admitted"));
        }
        let command = match MediaMessage::from_command(command) {
            Ok(message) => {
                self.request_media(id, reference, message)?;
                return Ok(Reply::Deferred);
            }
            Err(command) => command,
        };
        match command {
            Command::Resume { last_seq } => {
                Ok(Reply::Ack(Some(self.resume(connection, id, last_seq))))
            }
            Command::ChatTyping { to } => self.typing(id, to, now).map(|_| Reply::Ack(None)),
            command => {
                let actor = &self.state.participants[&id];
                let ctx = Ctx {
                    recording: self.config.recording,
                    state: &self.state,
                    limits: &self.config.limits,
                    keys: self.keys.as_ref(),
                    now,
                    actor,
                };
                let mut effect = commands::dispatch(&ctx, command)?;
                let reply = effect.reply.take();
                self.apply_effect(effect, now);
                Ok(Reply::Ack(reply))
            }
        }
    }

    fn apply_effect(&mut self, effect: Effect, now: DateTime<Utc>) {
        let exclude = effect.admitted.first().copied();
        for event in effect.events {
            self.emit(event, now, exclude);
        }
        for (participant, code) in effect.closes {
            self.close_participant(participant, code);
        }
        for participant in effect.admitted {
            if let Some(&connection) = self.by_participant.get(&participant) {
                let info = self.state.participants[&participant].info.clone();
                self.send_welcome(connection, participant, &info, None, false);
            }
        }
        if self.state.ended.is_some() {
            let all: Vec<_> = self.by_participant.keys().copied().collect();
            for participant in all {
                self.close_participant(participant, CloseCode::Ended);
            }
        }
    }

    fn close_participant(&mut self, participant: ParticipantId, code: CloseCode) {
        if let Some(connection) = self.by_participant.remove(&participant) {
            self.connections.remove(&connection);
            self.outputs.push_back(Output::Close { connection, code });
        }
    }

    /// Numbers, applies, records and fans out one event; `exclude` gets no copy
    /// (it is about to receive a welcome that already covers the event).
    fn emit(&mut self, event: Event, now: DateTime<Utc>, exclude: Option<ParticipantId>) {
        let at = self.last_at.map_or(now, |last| last.max(now));
        let stored = StoredEvent {
            seq: self.state.seq + 1,
            at,
            event,
        };
        let (audience, frame) = self.record(stored.clone());
        self.outputs.push_back(Output::Persist(stored));
        let to: Vec<ConnectionId> = self
            .by_participant
            .iter()
            .filter(|(p, _)| Some(**p) != exclude)
            .filter(|(p, _)| audience.admits(**p, self.state.participant(**p)))
            .map(|(_, c)| *c)
            .collect();
        if !to.is_empty() {
            self.outputs.push_back(Output::Send { to, frame });
        }
    }

    /// Applies a stored event and keeps its frame for resume: the one path shared by
    /// live events and replay, so both build the same state and the same ring.
    fn record(&mut self, stored: StoredEvent) -> (Audience, Frame) {
        let audience = audience_of(&stored.event, &self.state);
        self.state.apply(&stored);
        self.last_at = Some(stored.at);
        let view = event_view(&stored.event, &self.state);
        let frame = Frame::encode(&EventFrame {
            kind: "event",
            seq: stored.seq,
            at: stored.at,
            event: &view,
        });
        self.ring.push(stored.seq, audience.clone(), frame.clone());
        (audience, frame)
    }

    fn reply(&mut self, connection: ConnectionId, frame: Frame) {
        self.outputs.push_back(Output::Send {
            to: vec![connection],
            frame,
        });
    }
}
