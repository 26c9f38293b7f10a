//! Attendance and engagement per participant, from the stored events.
//!
//! Presence intervals come from joined/left (and removal, session end); intervals
//! separated by less than `merge_gap` (a reconnect) are merged. Engagement counts
//! what can be attributed: anonymous votes and anonymous questions are not, by design.

use super::csv::row;
use crate::capability::SessionRole;
use crate::event::{Ballot, Event, StoredEvent};
use crate::ids::{ParticipantId, PollId};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub joined_at: DateTime<Utc>,
    pub left_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Engagement {
    pub chat_messages: u32,
    /// Polls voted in (non-anonymous polls only; a changed vote counts once).
    pub votes: u32,
    /// Questions asked under their name.
    pub questions: u32,
    pub hands: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttendanceRecord {
    pub participant: ParticipantId,
    pub name: String,
    pub role: SessionRole,
    pub intervals: Vec<Interval>,
    pub total_seconds: i64,
    pub engagement: Engagement,
}

#[derive(Default)]
struct Tracker {
    name: String,
    role: Option<SessionRole>,
    hidden: bool,
    open_since: Option<DateTime<Utc>>,
    intervals: Vec<Interval>,
    engagement: Engagement,
    polls: BTreeSet<PollId>,
}

impl Tracker {
    fn close(&mut self, at: DateTime<Utc>) {
        if let Some(joined_at) = self.open_since.take() {
            self.intervals.push(Interval {
                joined_at,
                left_at: at,
            });
        }
    }
}

/// One record per (non-hidden) participant, in order of first join.
pub fn attendance(events: &[StoredEvent], merge_gap: Duration) -> Vec<AttendanceRecord> {
    let mut order: Vec<ParticipantId> = Vec::new();
    let mut trackers: BTreeMap<ParticipantId, Tracker> = BTreeMap::new();
    for stored in events {
        track(&mut trackers, &mut order, stored);
    }
    let end = events.last().map(|e| e.at);
    order
        .into_iter()
        .filter_map(|id| {
            let mut t = trackers.remove(&id)?;
            if t.hidden {
                return None;
            }
            if let Some(end) = end {
                t.close(end);
            }
            let intervals = merge(t.intervals, merge_gap);
            let total_seconds = intervals
                .iter()
                .map(|i| (i.left_at - i.joined_at).num_seconds())
                .sum();
            Some(AttendanceRecord {
                participant: id,
                name: t.name,
                role: t.role.unwrap_or(SessionRole::Participant),
                intervals,
                total_seconds,
                engagement: t.engagement,
            })
        })
        .collect()
}

fn track(
    trackers: &mut BTreeMap<ParticipantId, Tracker>,
    order: &mut Vec<ParticipantId>,
    stored: &StoredEvent,
) {
    let at = stored.at;
    match &stored.event {
        Event::ParticipantJoined { info } => {
            if !trackers.contains_key(&info.participant) {
                order.push(info.participant);
            }
            let t = trackers.entry(info.participant).or_default();
            t.name = info.name.clone();
            t.role = Some(info.role);
            t.hidden = info.hidden;
            t.open_since.get_or_insert(at);
        }
        Event::ParticipantLeft { participant } | Event::ParticipantRemoved { participant, .. } => {
            if let Some(t) = trackers.get_mut(participant) {
                t.close(at);
            }
        }
        Event::SessionEnded { .. } => trackers.values_mut().for_each(|t| t.close(at)),
        Event::RoleChanged {
            participant, role, ..
        } => {
            if let Some(t) = trackers.get_mut(participant) {
                t.role = Some(*role);
            }
        }
        Event::ChatPosted { from, .. } => bump(trackers, *from, |e| e.chat_messages += 1),
        Event::QuestionAsked {
            author: Some(author),
            ..
        } => bump(trackers, *author, |e| e.questions += 1),
        Event::HandRaised { participant } => bump(trackers, *participant, |e| e.hands += 1),
        Event::PollVoted {
            poll,
            ballot: Ballot::Participant(voter),
            ..
        } => {
            if let Some(t) = trackers.get_mut(voter)
                && t.polls.insert(*poll)
            {
                t.engagement.votes += 1;
            }
        }
        _ => {}
    }
}

fn bump(
    trackers: &mut BTreeMap<ParticipantId, Tracker>,
    id: ParticipantId,
    f: impl FnOnce(&mut Engagement),
) {
    if let Some(t) = trackers.get_mut(&id) {
        f(&mut t.engagement);
    }
}

/// Sorted intervals with gaps shorter than `gap` joined into one.
fn merge(mut intervals: Vec<Interval>, gap: Duration) -> Vec<Interval> {
    intervals.sort_by_key(|i| i.joined_at);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match merged.last_mut() {
            Some(last) if interval.joined_at - last.left_at <= gap => {
                last.left_at = last.left_at.max(interval.left_at);
            }
            _ => merged.push(interval),
        }
    }
    merged
}

/// Attendance as CSV: one row per participant.
pub fn attendance_csv(records: &[AttendanceRecord]) -> String {
    let mut out = String::from(
        "participant,name,role,first_joined,last_left,intervals,total_seconds,chat_messages,votes,questions,hands\r\n",
    );
    for r in records {
        let first = r
            .intervals
            .first()
            .map(|i| i.joined_at.to_rfc3339())
            .unwrap_or_default();
        let last = r
            .intervals
            .last()
            .map(|i| i.left_at.to_rfc3339())
            .unwrap_or_default();
        let e = &r.engagement;
        row(
            &mut out,
            [
                &r.participant.to_string(),
                &r.name,
                &format!("{:?}", r.role).to_lowercase(),
                &first,
                &last,
                &r.intervals.len().to_string(),
                &r.total_seconds.to_string(),
                &e.chat_messages.to_string(),
                &e.votes.to_string(),
                &e.questions.to_string(),
                &e.hands.to_string(),
            ],
        );
    }
    out
}
