//! The minutes of a session: public chat, polls with results, Q&A, hands, and — when the
//! server recorded it — the transcript with speakers and where in the recording each
//! question was answered.
//!
//! Built by replaying the whole log into a state that keeps every chat message, so
//! edits and deletions read exactly as the room saw them. Direct messages, voter
//! identities and anonymous askers never appear. Recordings are the server's, not the
//! log's: it adds them with [`Minutes::with_recordings`].

use crate::event::{Event, StoredEvent};
use crate::ids::{MessageId, ParticipantId, PollId, QuestionId};
use crate::state::{PollStatus, QuestionOrder, QuestionStatus, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesParticipant {
    pub participant: ParticipantId,
    pub name: String,
    pub role: crate::capability::SessionRole,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesChat {
    pub message: MessageId,
    pub at: DateTime<Utc>,
    pub from: ParticipantId,
    pub name: String,
    pub text: String,
    pub edited: bool,
    /// Emoji → how many reacted.
    pub reactions: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesOption {
    pub text: String,
    pub votes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesPoll {
    pub poll: PollId,
    pub question: String,
    pub options: Vec<MinutesOption>,
    pub ballots: u32,
    pub multiple: bool,
    pub anonymous: bool,
    pub status: PollStatus,
    pub published: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesQuestion {
    pub question: QuestionId,
    pub at: DateTime<Utc>,
    /// `None` when asked anonymously.
    pub author: Option<String>,
    pub text: String,
    pub votes: usize,
    pub status: QuestionStatus,
    pub answer: Option<String>,
    pub pinned: bool,
    pub answered_at: Option<DateTime<Utc>>,
    /// Where the answer is in a recording, when one was running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_in: Option<RecordingMoment>,
}

/// A recording of the session: when it started and stopped (every file of it starts at
/// `started_at`, so an offset is `at - started_at`).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingSpan {
    pub recording: Uuid,
    pub started_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
}

/// A moment in a recording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordingMoment {
    pub recording: Uuid,
    pub offset_secs: f64,
}

/// One transcript segment, with its speaker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesTranscriptLine {
    pub recording: Uuid,
    /// Seconds from the recording's start.
    pub offset_secs: f64,
    pub end_secs: f64,
    pub participant: ParticipantId,
    pub speaker: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MinutesHand {
    pub participant: ParticipantId,
    pub name: String,
    pub raised_at: DateTime<Utc>,
    pub lowered_at: Option<DateTime<Utc>>,
}

/// Everything worth keeping from a session, in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Minutes {
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub participants: Vec<MinutesParticipant>,
    pub chat: Vec<MinutesChat>,
    pub polls: Vec<MinutesPoll>,
    /// Most upvoted first.
    pub questions: Vec<MinutesQuestion>,
    pub hands: Vec<MinutesHand>,
    /// Every recording's transcript, in time order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<MinutesTranscriptLine>,
}

impl Minutes {
    /// Adds the server's recordings: each answered question gets the moment of its answer
    /// in the recording that was running then, and the transcript is appended.
    pub fn with_recordings(
        mut self,
        recordings: &[RecordingSpan],
        transcript: Vec<MinutesTranscriptLine>,
    ) -> Self {
        for question in &mut self.questions {
            let Some(at) = question.answered_at else {
                continue;
            };
            question.answered_in = recordings
                .iter()
                .find(|r| r.started_at <= at && r.stopped_at.is_none_or(|end| at <= end))
                .map(|r| RecordingMoment {
                    recording: r.recording,
                    offset_secs: (at - r.started_at).num_milliseconds() as f64 / 1000.0,
                });
        }
        self.transcript = transcript;
        self
    }

    /// The minutes of the session whose whole log is `events` (in seq order).
    pub fn from_events(events: &[StoredEvent]) -> Self {
        let mut state = State::new(usize::MAX);
        for stored in events {
            state.apply(stored);
        }
        let name = |id: ParticipantId| {
            state
                .participant(id)
                .map_or_else(|| "unknown".to_string(), |p| p.info.name.clone())
        };
        Self {
            started_at: events.first().map(|e| e.at),
            ended_at: state.ended.or_else(|| events.last().map(|e| e.at)),
            participants: participants(&state),
            chat: chat(&state, &name),
            polls: polls(&state),
            questions: questions(&state, events, &name),
            hands: hands(events, &name),
            transcript: Vec::new(),
        }
    }

    /// The minutes as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("minutes serialize: plain data")
    }
}

fn participants(state: &State) -> Vec<MinutesParticipant> {
    state
        .participants
        .values()
        .filter(|p| !p.info.hidden)
        .map(|p| MinutesParticipant {
            participant: p.info.participant,
            name: p.info.name.clone(),
            role: p.info.role,
        })
        .collect()
}

fn chat(state: &State, name: &dyn Fn(ParticipantId) -> String) -> Vec<MinutesChat> {
    state
        .chat
        .messages
        .iter()
        .filter(|m| m.to.is_none() && !m.deleted)
        .map(|m| MinutesChat {
            message: m.message,
            at: m.at,
            from: m.from,
            name: name(m.from),
            text: m.text.clone(),
            edited: m.edited,
            reactions: m
                .reactions
                .iter()
                .map(|(e, who)| (e.clone(), who.len()))
                .collect(),
        })
        .collect()
}

fn polls(state: &State) -> Vec<MinutesPoll> {
    state
        .polls
        .polls
        .iter()
        .filter(|p| p.status != PollStatus::Draft)
        .map(|p| {
            let tally = p.tally();
            MinutesPoll {
                poll: p.poll,
                question: p.question.clone(),
                options: p
                    .options
                    .iter()
                    .zip(tally.counts)
                    .map(|(text, votes)| MinutesOption {
                        text: text.clone(),
                        votes,
                    })
                    .collect(),
                ballots: tally.ballots,
                multiple: p.multiple,
                anonymous: p.anonymous,
                status: p.status,
                published: p.published,
            }
        })
        .collect()
}

fn questions(
    state: &State,
    events: &[StoredEvent],
    name: &dyn Fn(ParticipantId) -> String,
) -> Vec<MinutesQuestion> {
    let answered_at: BTreeMap<QuestionId, DateTime<Utc>> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::QuestionAnswered { question, .. } => Some((*question, e.at)),
            _ => None,
        })
        .collect();
    state
        .qa
        .sorted(QuestionOrder::Votes)
        .into_iter()
        .map(|q| MinutesQuestion {
            question: q.question,
            at: q.asked_at,
            author: q.author.map(name),
            text: q.text.clone(),
            votes: q.votes(),
            status: q.status,
            answer: q.answer.clone(),
            pinned: q.pinned,
            answered_at: answered_at.get(&q.question).copied(),
            answered_in: None,
        })
        .collect()
}

/// Every raise with when it was lowered (by the participant, a moderator, or removal).
fn hands(events: &[StoredEvent], name: &dyn Fn(ParticipantId) -> String) -> Vec<MinutesHand> {
    let mut hands: Vec<MinutesHand> = Vec::new();
    let lower = |hands: &mut Vec<MinutesHand>, who: Option<ParticipantId>, at| {
        for hand in hands.iter_mut().filter(|h| h.lowered_at.is_none()) {
            if who.is_none_or(|who| who == hand.participant) {
                hand.lowered_at = Some(at);
            }
        }
    };
    for stored in events {
        match &stored.event {
            Event::HandRaised { participant } => hands.push(MinutesHand {
                participant: *participant,
                name: name(*participant),
                raised_at: stored.at,
                lowered_at: None,
            }),
            Event::HandLowered { participant, .. }
            | Event::ParticipantRemoved { participant, .. } => {
                lower(&mut hands, Some(*participant), stored.at)
            }
            Event::HandsLoweredAll { .. } => lower(&mut hands, None, stored.at),
            _ => {}
        }
    }
    hands
}
