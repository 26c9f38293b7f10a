//! The full state one participant may see: sent on join and when a resume gap is
//! too old. Built per recipient (it holds their direct messages and their votes), as
//! borrowed views serialized straight to bytes: with 1,000 participants it is the
//! largest frame the hub sends.

use crate::capability::{Capability, SessionRole};
use crate::event::Ballot;
use crate::ids::{BallotKeys, ParticipantId, PollId};
use crate::state::{
    ChatMessage, Hand, LobbyEntry, MediaState, Poll, PollStatus, Question, QuestionOrder,
    QuestionStatus, Recording, State, Tally,
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// What `viewer` may see of the room.
#[derive(Debug, Serialize)]
pub struct Snapshot<'a> {
    pub seq: u64,
    pub participants: Vec<ParticipantView<'a>>,
    pub lobby: &'a [LobbyEntry],
    pub locked: bool,
    pub chat: ChatView<'a>,
    pub polls: Vec<PollView<'a>>,
    pub questions: Vec<QuestionView<'a>>,
    pub hands: &'a [Hand],
    pub recording: Option<&'a Recording>,
    pub ended: Option<DateTime<Utc>>,
}

/// A present participant, compactly (the joined event carries the full info).
#[derive(Debug, Serialize)]
pub struct ParticipantView<'a> {
    pub participant: ParticipantId,
    pub name: &'a str,
    pub role: SessionRole,
    pub media: MediaState,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

#[derive(Debug, Serialize)]
pub struct ChatView<'a> {
    pub locked: bool,
    pub messages: Vec<&'a ChatMessage>,
}

#[derive(Debug, Serialize)]
pub struct PollView<'a> {
    #[serde(flatten)]
    pub poll: &'a Poll,
    pub your_choices: Option<&'a Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tally: Option<Tally>,
}

#[derive(Debug, Serialize)]
pub struct QuestionView<'a> {
    #[serde(flatten)]
    pub question: &'a Question,
    pub votes: usize,
    pub upvoted: bool,
}

/// The snapshot `viewer` may see, with at most `history` chat messages.
pub fn snapshot_for<'a>(
    state: &'a State,
    viewer: ParticipantId,
    keys: &dyn BallotKeys,
    history: usize,
) -> Snapshot<'a> {
    let me = state.participant(viewer);
    let can = |c: Capability| me.is_some_and(|p| p.info.capabilities.contains(c));
    let admin = can(Capability::AdminRoom);
    Snapshot {
        seq: state.seq,
        participants: participants(state, viewer, admin),
        lobby: if admin { &state.lobby } else { &[] },
        locked: state.locked,
        chat: ChatView {
            locked: state.chat.locked,
            messages: chat(state, viewer, history),
        },
        polls: polls(state, viewer, keys, can(Capability::CreatePolls)),
        questions: questions(state, viewer, can(Capability::ModerateQa)),
        hands: &state.hands.queue,
        recording: state.recording.as_ref(),
        ended: state.ended,
    }
}

fn participants(state: &State, viewer: ParticipantId, admin: bool) -> Vec<ParticipantView<'_>> {
    state
        .participants
        .values()
        .filter(|p| p.present)
        .filter(|p| !p.info.hidden || admin || p.info.participant == viewer)
        .map(|p| ParticipantView {
            participant: p.info.participant,
            name: &p.info.name,
            role: p.info.role,
            media: p.media,
            hidden: p.info.hidden,
        })
        .collect()
}

fn chat(state: &State, viewer: ParticipantId, history: usize) -> Vec<&ChatMessage> {
    let mut visible: Vec<&ChatMessage> = state
        .chat
        .messages
        .iter()
        .rev()
        .filter(|m| m.to.is_none() || m.from == viewer || m.to == Some(viewer))
        .take(history)
        .collect();
    visible.reverse();
    visible
}

fn polls<'a>(
    state: &'a State,
    viewer: ParticipantId,
    keys: &dyn BallotKeys,
    manager: bool,
) -> Vec<PollView<'a>> {
    state
        .polls
        .polls
        .iter()
        .filter(|p| manager || p.status != PollStatus::Draft)
        .map(|p| PollView {
            poll: p,
            your_choices: p.ballots.get(&ballot_of(p.poll, p.anonymous, viewer, keys)),
            tally: (manager || p.published).then(|| p.tally()),
        })
        .collect()
}

fn ballot_of(
    poll: PollId,
    anonymous: bool,
    viewer: ParticipantId,
    keys: &dyn BallotKeys,
) -> Ballot {
    if anonymous {
        Ballot::Anonymous(keys.ballot_key(poll, viewer))
    } else {
        Ballot::Participant(viewer)
    }
}

fn questions(state: &State, viewer: ParticipantId, moderator: bool) -> Vec<QuestionView<'_>> {
    state
        .qa
        .sorted(QuestionOrder::Time)
        .into_iter()
        .filter(|q| moderator || q.status != QuestionStatus::Dismissed)
        .map(|q| QuestionView {
            question: q,
            votes: q.votes(),
            upvoted: q.upvoters.contains(&viewer),
        })
        .collect()
}
