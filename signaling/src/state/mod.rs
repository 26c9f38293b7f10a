//! The room's state and its one deterministic transition, [`State::apply`].
//!
//! `apply` trusts its input: commands are validated before they become events.
//! It is still total (an event naming something unknown changes nothing), so a
//! damaged log can never make replay panic.

mod chat;
mod hands;
mod polls;
mod presence;
mod qa;

pub use chat::{Chat, ChatMessage};
pub use hands::{Hand, Hands};
pub use polls::{Poll, PollStatus, Polls, Tally};
pub use presence::{MediaState, Participant};
pub use qa::{Qa, Question, QuestionOrder, QuestionStatus};

use crate::event::{Event, ParticipantInfo, StoredEvent};
use crate::ids::ParticipantId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Someone waiting in the lobby.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LobbyEntry {
    pub info: ParticipantInfo,
    pub knocked_at: DateTime<Utc>,
}

/// The consent notice every participant receives when recording starts.
pub const RECORDING_NOTICE: &str = "This session is being recorded. By staying you consent to \
     the recording of your audio, video and screen; leave now if you do not.";

/// Who started the recording, when, and whether it is paused. Late joiners get it (with
/// the consent notice) in their snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recording {
    pub since: DateTime<Utc>,
    pub by: ParticipantId,
    pub paused: bool,
    /// The consent notice, as `recording.started` carried it.
    pub notice: &'static str,
}

/// Everything a session knows; rebuilt exactly by applying its events in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// The seq of the last applied event (0 before any).
    pub seq: u64,
    /// Everyone ever admitted, present or not.
    pub participants: BTreeMap<ParticipantId, Participant>,
    pub lobby: Vec<LobbyEntry>,
    pub banned: BTreeSet<ParticipantId>,
    pub locked: bool,
    pub chat: Chat,
    pub polls: Polls,
    pub qa: Qa,
    pub hands: Hands,
    pub recording: Option<Recording>,
    pub ended: Option<DateTime<Utc>>,
    /// Bounds in-memory chat; kept here so replay evicts exactly as live did.
    chat_kept: usize,
}

impl State {
    fn set_recording_paused(&mut self, paused: bool) {
        if let Some(recording) = &mut self.recording {
            recording.paused = paused;
        }
    }

    /// An empty room keeping at most `chat_kept` chat messages in memory.
    pub fn new(chat_kept: usize) -> Self {
        Self {
            chat_kept,
            ..Self::default()
        }
    }

    /// An admitted participant.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id)
    }

    /// An admitted participant who is connected now.
    pub fn present(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(&id).filter(|p| p.present)
    }

    pub fn is_hidden(&self, id: ParticipantId) -> bool {
        self.participants.get(&id).is_some_and(|p| p.info.hidden)
    }

    pub fn lobby_entry(&self, id: ParticipantId) -> Option<&LobbyEntry> {
        self.lobby.iter().find(|e| e.info.participant == id)
    }

    /// Applies one stored event.
    pub fn apply(&mut self, stored: &StoredEvent) {
        self.seq = stored.seq;
        let at = stored.at;
        match &stored.event {
            Event::ParticipantJoined { info } => {
                presence::join(&mut self.participants, info, at);
                self.lobby
                    .retain(|e| e.info.participant != info.participant);
            }
            Event::ParticipantLeft { participant } => {
                presence::leave(&mut self.participants, *participant)
            }
            Event::MediaChanged {
                participant,
                mic,
                camera,
                screen,
            } => presence::set_media(&mut self.participants, *participant, *mic, *camera, *screen),
            Event::RoleChanged {
                participant,
                role,
                capabilities,
                ..
            } => presence::set_role(&mut self.participants, *participant, *role, *capabilities),
            Event::ParticipantRemoved {
                participant, ban, ..
            } => {
                presence::remove(&mut self.participants, *participant);
                self.hands.lower(*participant);
                if *ban {
                    self.banned.insert(*participant);
                }
            }
            Event::LobbyKnocked { info } => {
                self.lobby
                    .retain(|e| e.info.participant != info.participant);
                self.lobby.push(LobbyEntry {
                    info: info.clone(),
                    knocked_at: at,
                });
            }
            Event::LobbyAdmitted { .. } => {}
            Event::LobbyDenied { participant, .. } | Event::LobbyLeft { participant } => {
                self.lobby.retain(|e| e.info.participant != *participant)
            }
            Event::SessionLocked { locked, .. } => self.locked = *locked,
            Event::MuteRequested {
                participant, media, ..
            } => presence::mute(&mut self.participants, *participant, *media),
            Event::RecordingStarted { by } => {
                self.recording = Some(Recording {
                    since: at,
                    by: *by,
                    paused: false,
                    notice: RECORDING_NOTICE,
                })
            }
            Event::RecordingPaused { .. } => self.set_recording_paused(true),
            Event::RecordingResumed { .. } => self.set_recording_paused(false),
            Event::RecordingStopped { .. } => self.recording = None,
            Event::SessionEnded { .. } => {
                self.ended = Some(at);
                for participant in self.participants.values_mut() {
                    participant.present = false;
                }
                self.lobby.clear();
                self.recording = None;
                self.polls.close_all();
            }
            Event::ChatPosted { .. }
            | Event::ChatEdited { .. }
            | Event::ChatDeleted { .. }
            | Event::ChatReacted { .. }
            | Event::ChatLocked { .. } => self.chat.apply(&stored.event, at, self.chat_kept),
            Event::PollCreated { .. }
            | Event::PollOpened { .. }
            | Event::PollClosed { .. }
            | Event::PollPublished { .. }
            | Event::PollVoted { .. } => self.polls.apply(&stored.event),
            Event::QuestionAsked { .. }
            | Event::QuestionUpvoted { .. }
            | Event::QuestionAnswered { .. }
            | Event::QuestionDismissed { .. }
            | Event::QuestionPinned { .. } => self.qa.apply(&stored.event, at),
            Event::HandRaised { participant } => self.hands.raise(*participant, at),
            Event::HandLowered { participant, .. } => self.hands.lower(*participant),
            Event::HandsLoweredAll { .. } => self.hands.clear(),
        }
    }
}
