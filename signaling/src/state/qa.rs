//! Q&A: questions, upvotes (one per person, toggled), answered / dismissed, pins.

use crate::event::Event;
use crate::ids::{ParticipantId, QuestionId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionStatus {
    Visible,
    Answered,
    Dismissed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    pub question: QuestionId,
    /// `None` for anonymous questions: not known to the room at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<ParticipantId>,
    pub text: String,
    pub asked_at: DateTime<Utc>,
    pub status: QuestionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    pub pinned: bool,
    #[serde(skip)]
    pub upvoters: BTreeSet<ParticipantId>,
}

impl Question {
    pub fn votes(&self) -> usize {
        self.upvoters.len()
    }
}

/// How to list questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionOrder {
    /// Pinned first, then most upvoted, then oldest.
    Votes,
    /// Pinned first, then oldest.
    Time,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Qa {
    pub questions: Vec<Question>,
}

impl Qa {
    pub fn get(&self, id: QuestionId) -> Option<&Question> {
        self.questions.iter().find(|q| q.question == id)
    }

    fn get_mut(&mut self, id: QuestionId) -> Option<&mut Question> {
        self.questions.iter_mut().find(|q| q.question == id)
    }

    /// Questions in `order` (the stored order is asking order, so ties stay stable).
    pub fn sorted(&self, order: QuestionOrder) -> Vec<&Question> {
        let mut list: Vec<&Question> = self.questions.iter().collect();
        match order {
            QuestionOrder::Votes => list.sort_by_key(|q| (!q.pinned, std::cmp::Reverse(q.votes()))),
            QuestionOrder::Time => list.sort_by_key(|q| !q.pinned),
        }
        list
    }

    pub(super) fn apply(&mut self, event: &Event, at: DateTime<Utc>) {
        match event {
            Event::QuestionAsked {
                question,
                author,
                text,
            } => self.questions.push(Question {
                question: *question,
                author: *author,
                text: text.clone(),
                asked_at: at,
                status: QuestionStatus::Visible,
                answer: None,
                pinned: false,
                upvoters: BTreeSet::new(),
            }),
            Event::QuestionUpvoted {
                question,
                voter,
                on,
            } => {
                if let Some(q) = self.get_mut(*question) {
                    if *on {
                        q.upvoters.insert(*voter);
                    } else {
                        q.upvoters.remove(voter);
                    }
                }
            }
            Event::QuestionAnswered { question, text, .. } => {
                if let Some(q) = self.get_mut(*question) {
                    q.status = QuestionStatus::Answered;
                    q.answer = text.clone();
                }
            }
            Event::QuestionDismissed { question, .. } => {
                if let Some(q) = self.get_mut(*question) {
                    q.status = QuestionStatus::Dismissed;
                    q.pinned = false;
                }
            }
            Event::QuestionPinned { question, pinned } => {
                if let Some(q) = self.get_mut(*question) {
                    q.pinned = *pinned;
                }
            }
            _ => {}
        }
    }
}
