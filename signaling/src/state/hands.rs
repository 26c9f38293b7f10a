//! The raised-hand queue, ordered by server time of raising.

use crate::ids::ParticipantId;
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hand {
    pub participant: ParticipantId,
    pub raised_at: DateTime<Utc>,
}

/// Raised hands, first raised first. Not touched by disconnects: a hand survives a
/// reconnect and keeps its place.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hands {
    pub queue: Vec<Hand>,
}

impl Hands {
    /// 1-based place in the queue.
    pub fn position(&self, participant: ParticipantId) -> Option<usize> {
        self.queue
            .iter()
            .position(|h| h.participant == participant)
            .map(|i| i + 1)
    }

    pub(super) fn raise(&mut self, participant: ParticipantId, at: DateTime<Utc>) {
        if self.position(participant).is_none() {
            self.queue.push(Hand {
                participant,
                raised_at: at,
            });
        }
    }

    pub(super) fn lower(&mut self, participant: ParticipantId) {
        self.queue.retain(|h| h.participant != participant);
    }

    pub(super) fn clear(&mut self) {
        self.queue.clear();
    }
}
