//! Command validation: a client command from an admitted participant, checked against
//! their capabilities and the state, becomes events (or a typed error). Nothing here
//! changes state; [`crate::state::State::apply`] does that.

mod chat;
mod hands;
mod media;
mod moderation;
mod polls;
mod qa;
mod recording;
mod text;

use crate::capability::Capability;
use crate::error::HubError;
use crate::event::Event;
use crate::ids::{BallotKeys, ParticipantId};
use crate::limits::Limits;
use crate::protocol::client::Command;
use crate::protocol::server::CloseCode;
use crate::state::{Participant, State};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// What a command needs to see.
pub(crate) struct Ctx<'a> {
    /// Whether the server can record (`SessionConfig::recording`).
    pub recording: bool,
    pub state: &'a State,
    pub limits: &'a Limits,
    pub keys: &'a dyn BallotKeys,
    pub now: DateTime<Utc>,
    pub actor: &'a Participant,
}

impl Ctx<'_> {
    pub fn actor_id(&self) -> ParticipantId {
        self.actor.info.participant
    }

    pub fn require(&self, capability: Capability) -> Result<(), HubError> {
        if self.actor.info.capabilities.contains(capability) {
            Ok(())
        } else {
            Err(HubError::forbidden(format!(
                "missing capability {}",
                serde_json::to_string(&capability).unwrap_or_default()
            )))
        }
    }
}

/// What an accepted command does.
#[derive(Debug, Default)]
pub(crate) struct Effect {
    /// Durable events, in order.
    pub events: Vec<Event>,
    /// The `result` of the ack.
    pub reply: Option<Value>,
    /// Connections to close once the events are out.
    pub closes: Vec<(ParticipantId, CloseCode)>,
    /// Participants admitted from the lobby, who now get a welcome with a snapshot.
    pub admitted: Vec<ParticipantId>,
}

impl Effect {
    fn event(event: Event) -> Self {
        Self {
            events: vec![event],
            ..Self::default()
        }
    }

    fn with_reply(mut self, reply: Value) -> Self {
        self.reply = Some(reply);
        self
    }
}

/// Validates `command`. Typing, resume and ping are session-level and never get here.
pub(crate) fn dispatch(ctx: &Ctx<'_>, command: Command) -> Result<Effect, HubError> {
    match command {
        Command::ChatSend { text, to } => chat::send(ctx, text, to),
        Command::ChatEdit { message, text } => chat::edit(ctx, message, text),
        Command::ChatDelete { message } => chat::delete(ctx, message),
        Command::ChatReact { message, emoji, on } => chat::react(ctx, message, emoji, on),
        Command::ChatLock { locked } => chat::lock(ctx, locked),
        Command::PollCreate {
            question,
            options,
            multiple,
            max_choices,
            anonymous,
        } => polls::create(ctx, question, options, multiple, max_choices, anonymous),
        Command::PollOpen {
            poll,
            duration_secs,
        } => polls::open(ctx, poll, duration_secs),
        Command::PollClose { poll } => polls::close(ctx, poll),
        Command::PollPublish { poll } => polls::publish(ctx, poll),
        Command::PollVote { poll, choices } => polls::vote(ctx, poll, choices),
        Command::QaAsk { text, anonymous } => qa::ask(ctx, text, anonymous),
        Command::QaUpvote { question } => qa::upvote(ctx, question),
        Command::QaAnswer { question, text } => qa::answer(ctx, question, text),
        Command::QaDismiss { question } => qa::dismiss(ctx, question),
        Command::QaPin { question, pinned } => qa::pin(ctx, question, pinned),
        Command::HandRaise => hands::raise(ctx),
        Command::HandLower { participant } => hands::lower(ctx, participant),
        Command::HandLowerAll => hands::lower_all(ctx),
        Command::MediaState {
            mic,
            camera,
            screen,
        } => media::set_state(ctx, mic, camera, screen),
        Command::ModMuteRequest { participant, media } => {
            moderation::mute_request(ctx, participant, media)
        }
        Command::ModRemove { participant, ban } => moderation::remove(ctx, participant, ban),
        Command::ModLock { locked } => moderation::lock(ctx, locked),
        Command::ModSetRole { participant, role } => moderation::set_role(ctx, participant, role),
        Command::LobbyAdmit { participant } => moderation::admit(ctx, participant),
        Command::LobbyDeny { participant } => moderation::deny(ctx, participant),
        Command::SessionEnd => moderation::end(ctx),
        Command::RecordingStart => recording::start(ctx),
        Command::RecordingPause => recording::pause(ctx, true),
        Command::RecordingResume => recording::pause(ctx, false),
        Command::RecordingStop => recording::stop(ctx),
        Command::ChatTyping { .. }
        | Command::Resume { .. }
        | Command::Ping
        | Command::MediaJoin
        | Command::MediaOffer { .. }
        | Command::MediaAnswer { .. }
        | Command::MediaCandidate { .. }
        | Command::MediaSubscribe { .. }
        | Command::MediaLeave => Err(HubError::invalid("handled by the session, not a command")),
    }
}
