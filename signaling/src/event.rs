//! Durable session events: what is stored, replayed, and (through a view) broadcast.
//!
//! The log of [`StoredEvent`]s is the source of truth. Applying it in order rebuilds
//! the room exactly ([`crate::Session::replay`]), so the server persists each event
//! before it delivers the event's frame.

use crate::capability::{AccountRole, CapabilitySet, SessionRole};
use crate::ids::{BallotKey, MessageId, ParticipantId, PollId, QuestionId};
use crate::protocol::client::MediaKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who a participant is, as the join ticket and the server say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantInfo {
    pub participant: ParticipantId,
    pub name: String,
    pub account: AccountRole,
    pub role: SessionRole,
    pub capabilities: CapabilitySet,
    /// Recorders and other bots: present but never listed to ordinary participants.
    #[serde(default)]
    pub hidden: bool,
}

/// Who cast a ballot. Anonymous polls record only the pseudonymous key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ballot {
    Anonymous(BallotKey),
    Participant(ParticipantId),
}

/// One thing that happened in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Event {
    #[serde(rename = "participant.joined")]
    ParticipantJoined { info: ParticipantInfo },
    #[serde(rename = "participant.left")]
    ParticipantLeft { participant: ParticipantId },
    #[serde(rename = "media.changed")]
    MediaChanged {
        participant: ParticipantId,
        mic: bool,
        camera: bool,
        screen: bool,
    },
    #[serde(rename = "chat.posted")]
    ChatPosted {
        message: MessageId,
        from: ParticipantId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ParticipantId>,
        text: String,
    },
    #[serde(rename = "chat.edited")]
    ChatEdited { message: MessageId, text: String },
    #[serde(rename = "chat.deleted")]
    ChatDeleted {
        message: MessageId,
        by: ParticipantId,
    },
    #[serde(rename = "chat.reacted")]
    ChatReacted {
        message: MessageId,
        participant: ParticipantId,
        emoji: String,
        on: bool,
    },
    #[serde(rename = "chat.locked")]
    ChatLocked { locked: bool, by: ParticipantId },
    #[serde(rename = "poll.created")]
    PollCreated {
        poll: PollId,
        by: ParticipantId,
        question: String,
        options: Vec<String>,
        multiple: bool,
        max_choices: u8,
        anonymous: bool,
    },
    #[serde(rename = "poll.opened")]
    PollOpened {
        poll: PollId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        closes_at: Option<DateTime<Utc>>,
    },
    #[serde(rename = "poll.closed")]
    PollClosed { poll: PollId },
    #[serde(rename = "poll.published")]
    PollPublished { poll: PollId },
    /// A ballot cast or changed. For anonymous polls `ballot` is a key, never a person.
    #[serde(rename = "poll.voted")]
    PollVoted {
        poll: PollId,
        ballot: Ballot,
        choices: Vec<u8>,
    },
    /// A question. For anonymous questions `author` is `None` in the stored event too:
    /// nobody, moderators and the database included, can tell who asked.
    #[serde(rename = "qa.asked")]
    QuestionAsked {
        question: QuestionId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        author: Option<ParticipantId>,
        text: String,
    },
    #[serde(rename = "qa.upvoted")]
    QuestionUpvoted {
        question: QuestionId,
        voter: ParticipantId,
        on: bool,
    },
    #[serde(rename = "qa.answered")]
    QuestionAnswered {
        question: QuestionId,
        by: ParticipantId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    #[serde(rename = "qa.dismissed")]
    QuestionDismissed {
        question: QuestionId,
        by: ParticipantId,
    },
    #[serde(rename = "qa.pinned")]
    QuestionPinned { question: QuestionId, pinned: bool },
    #[serde(rename = "hand.raised")]
    HandRaised { participant: ParticipantId },
    #[serde(rename = "hand.lowered")]
    HandLowered {
        participant: ParticipantId,
        by: ParticipantId,
    },
    #[serde(rename = "hand.lowered_all")]
    HandsLoweredAll { by: ParticipantId },
    #[serde(rename = "mod.mute_requested")]
    MuteRequested {
        participant: ParticipantId,
        media: MediaKind,
        by: ParticipantId,
    },
    #[serde(rename = "mod.removed")]
    ParticipantRemoved {
        participant: ParticipantId,
        by: ParticipantId,
        ban: bool,
    },
    #[serde(rename = "session.locked")]
    SessionLocked { locked: bool, by: ParticipantId },
    #[serde(rename = "lobby.knocked")]
    LobbyKnocked { info: ParticipantInfo },
    #[serde(rename = "lobby.admitted")]
    LobbyAdmitted {
        participant: ParticipantId,
        by: ParticipantId,
    },
    #[serde(rename = "lobby.denied")]
    LobbyDenied {
        participant: ParticipantId,
        by: ParticipantId,
    },
    #[serde(rename = "lobby.left")]
    LobbyLeft { participant: ParticipantId },
    /// Carries the recomputed capabilities so replay never depends on today's matrix.
    #[serde(rename = "role.changed")]
    RoleChanged {
        participant: ParticipantId,
        role: SessionRole,
        capabilities: CapabilitySet,
        by: ParticipantId,
    },
    #[serde(rename = "recording.started")]
    RecordingStarted { by: ParticipantId },
    #[serde(rename = "recording.paused")]
    RecordingPaused { by: ParticipantId },
    #[serde(rename = "recording.resumed")]
    RecordingResumed { by: ParticipantId },
    /// `by` stopped it, or the server did (`reason` says why: the disk filled, the
    /// recorder failed); `by` is then whoever started it.
    #[serde(rename = "recording.stopped")]
    RecordingStopped {
        by: ParticipantId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    #[serde(rename = "session.ended")]
    SessionEnded {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<ParticipantId>,
    },
}

impl Event {
    /// The `kind` tag, for a storage column or metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::ParticipantJoined { .. } => "participant.joined",
            Event::ParticipantLeft { .. } => "participant.left",
            Event::MediaChanged { .. } => "media.changed",
            Event::ChatPosted { .. } => "chat.posted",
            Event::ChatEdited { .. } => "chat.edited",
            Event::ChatDeleted { .. } => "chat.deleted",
            Event::ChatReacted { .. } => "chat.reacted",
            Event::ChatLocked { .. } => "chat.locked",
            Event::PollCreated { .. } => "poll.created",
            Event::PollOpened { .. } => "poll.opened",
            Event::PollClosed { .. } => "poll.closed",
            Event::PollPublished { .. } => "poll.published",
            Event::PollVoted { .. } => "poll.voted",
            Event::QuestionAsked { .. } => "qa.asked",
            Event::QuestionUpvoted { .. } => "qa.upvoted",
            Event::QuestionAnswered { .. } => "qa.answered",
            Event::QuestionDismissed { .. } => "qa.dismissed",
            Event::QuestionPinned { .. } => "qa.pinned",
            Event::HandRaised { .. } => "hand.raised",
            Event::HandLowered { .. } => "hand.lowered",
            Event::HandsLoweredAll { .. } => "hand.lowered_all",
            Event::MuteRequested { .. } => "mod.mute_requested",
            Event::ParticipantRemoved { .. } => "mod.removed",
            Event::SessionLocked { .. } => "session.locked",
            Event::LobbyKnocked { .. } => "lobby.knocked",
            Event::LobbyAdmitted { .. } => "lobby.admitted",
            Event::LobbyDenied { .. } => "lobby.denied",
            Event::LobbyLeft { .. } => "lobby.left",
            Event::RoleChanged { .. } => "role.changed",
            Event::RecordingStarted { .. } => "recording.started",
            Event::RecordingPaused { .. } => "recording.paused",
            Event::RecordingResumed { .. } => "recording.resumed",
            Event::RecordingStopped { .. } => "recording.stopped",
            Event::SessionEnded { .. } => "session.ended",
        }
    }
}

/// An event with its place in the session's log: what the server stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// 1, 2, 3, ... per session, without gaps.
    pub seq: u64,
    /// Server time the event happened; the state machine never reads a clock.
    pub at: DateTime<Utc>,
    pub event: Event,
}

impl StoredEvent {
    /// The JSON stored in the database.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events serialize: plain data, string keys")
    }

    /// Reads a stored event back.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}
