//! The resume ring: the most recent event frames with their audiences, so a
//! reconnecting client gets exactly what it missed without touching storage.

use crate::audience::Audience;
use crate::ids::ParticipantId;
use crate::protocol::server::Frame;
use crate::state::Participant;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
struct Entry {
    seq: u64,
    audience: Audience,
    frame: Frame,
}

/// What a resume yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Missed {
    /// Exactly these frames, in order (possibly none).
    Frames(Vec<Frame>),
    /// The gap is older than the ring (or the client is ahead of us): send a snapshot.
    TooOld,
}

#[derive(Debug, Clone)]
pub struct Ring {
    entries: VecDeque<Entry>,
    capacity: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, seq: u64, audience: Audience, frame: Frame) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(Entry {
            seq,
            audience,
            frame,
        });
    }

    /// The frames after `last_seq` that `viewer` may see, given the current `seq`.
    pub fn missed_since(
        &self,
        last_seq: u64,
        seq: u64,
        viewer: ParticipantId,
        participant: Option<&Participant>,
    ) -> Missed {
        if last_seq > seq {
            return Missed::TooOld;
        }
        if last_seq == seq {
            return Missed::Frames(Vec::new());
        }
        match self.entries.front() {
            Some(first) if first.seq <= last_seq + 1 => {}
            _ => return Missed::TooOld,
        }
        let frames = self
            .entries
            .iter()
            .filter(|e| e.seq > last_seq)
            .filter(|e| e.audience.admits(viewer, participant))
            .map(|e| e.frame.clone())
            .collect();
        Missed::Frames(frames)
    }
}
