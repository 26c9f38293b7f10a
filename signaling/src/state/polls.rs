//! Polls: draft → open → closed, published results, one ballot per person.

use crate::event::{Ballot, Event};
use crate::ids::{ParticipantId, PollId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    Draft,
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Poll {
    pub poll: PollId,
    pub by: ParticipantId,
    pub question: String,
    pub options: Vec<String>,
    pub multiple: bool,
    pub max_choices: u8,
    pub anonymous: bool,
    pub status: PollStatus,
    pub published: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<DateTime<Utc>>,
    /// Current choices per ballot; a changed vote replaces the old one.
    #[serde(skip)]
    pub ballots: BTreeMap<Ballot, Vec<u8>>,
}

/// Vote counts: per option, and how many ballots were cast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub counts: Vec<u32>,
    pub ballots: u32,
}

impl Poll {
    pub fn tally(&self) -> Tally {
        let mut counts = vec![0u32; self.options.len()];
        for choices in self.ballots.values() {
            for &choice in choices {
                if let Some(count) = counts.get_mut(usize::from(choice)) {
                    *count += 1;
                }
            }
        }
        Tally {
            counts,
            ballots: u32::try_from(self.ballots.len()).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polls {
    pub polls: Vec<Poll>,
}

impl Polls {
    pub fn get(&self, id: PollId) -> Option<&Poll> {
        self.polls.iter().find(|p| p.poll == id)
    }

    fn get_mut(&mut self, id: PollId) -> Option<&mut Poll> {
        self.polls.iter_mut().find(|p| p.poll == id)
    }

    pub(super) fn apply(&mut self, event: &Event) {
        match event {
            Event::PollCreated {
                poll,
                by,
                question,
                options,
                multiple,
                max_choices,
                anonymous,
            } => self.polls.push(Poll {
                poll: *poll,
                by: *by,
                question: question.clone(),
                options: options.clone(),
                multiple: *multiple,
                max_choices: *max_choices,
                anonymous: *anonymous,
                status: PollStatus::Draft,
                published: false,
                closes_at: None,
                ballots: BTreeMap::new(),
            }),
            Event::PollOpened { poll, closes_at } => {
                if let Some(p) = self.get_mut(*poll) {
                    p.status = PollStatus::Open;
                    p.closes_at = *closes_at;
                }
            }
            Event::PollClosed { poll } => {
                if let Some(p) = self.get_mut(*poll) {
                    p.status = PollStatus::Closed;
                    p.closes_at = None;
                }
            }
            Event::PollPublished { poll } => {
                if let Some(p) = self.get_mut(*poll) {
                    p.published = true;
                }
            }
            Event::PollVoted {
                poll,
                ballot,
                choices,
            } => {
                if let Some(p) = self.get_mut(*poll) {
                    p.ballots.insert(*ballot, choices.clone());
                }
            }
            _ => {}
        }
    }

    /// Closes every open poll (the session ended).
    pub(super) fn close_all(&mut self) {
        for poll in self
            .polls
            .iter_mut()
            .filter(|p| p.status == PollStatus::Open)
        {
            poll.status = PollStatus::Closed;
            poll.closes_at = None;
        }
    }

    /// The earliest timer of an open poll.
    pub fn next_close(&self) -> Option<DateTime<Utc>> {
        self.polls
            .iter()
            .filter(|p| p.status == PollStatus::Open)
            .filter_map(|p| p.closes_at)
            .min()
    }
}
