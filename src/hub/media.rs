//! The seam between a session and its media engine (the SFU). The session task tells the
//! engine what the hub decided, from events it has stored; the engine reports what it saw
//! through [`crate::hub::Hub::media_report`], which the session turns into events and
//! signals. `signaling` knows nothing of media engines and the engine nothing of sessions'
//! rules: this module is the only place they meet.

use signaling::protocol::client::MediaKind;
use signaling::session::publish_capability;
use signaling::{Event, ParticipantId, StoredEvent};
use uuid::Uuid;

/// What the hub decided about a session's media, for the engine to enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaDecision {
    /// The participant may publish these sources (and no others): on joining, and on every
    /// role change.
    Allow {
        participant: ParticipantId,
        sources: Vec<MediaKind>,
    },
    /// A moderator asked the participant to stop publishing `source`.
    Mute {
        participant: ParticipantId,
        source: MediaKind,
    },
    /// The participant left; its peer can go.
    Left { participant: ParticipantId },
    /// A moderator removed the participant (and banned them, with `ban`).
    Removed {
        participant: ParticipantId,
        ban: bool,
    },
    /// The session ended: stop everything.
    Ended,
}

/// What the engine saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaReport {
    /// A track started (`live`) or stopped.
    Track {
        participant: ParticipantId,
        source: MediaKind,
        live: bool,
    },
    /// Who is speaking now.
    ActiveSpeaker { participant: ParticipantId },
}

/// A media engine as the hub drives it.
pub trait MediaEngine: Send + Sync + 'static {
    /// Called by the session's task, in event order, once the events behind the decision are
    /// stored. Must not wait: an engine queues the decision for its own task.
    fn decide(&self, session: Uuid, decision: MediaDecision);
}

/// No media engine: the hub runs chat, polls and the rest without one (until the SFU).
pub struct NoMedia;

impl MediaEngine for NoMedia {
    fn decide(&self, _session: Uuid, _decision: MediaDecision) {}
}

/// The decision a stored event carries for the media engine, if any.
pub fn decision(stored: &StoredEvent) -> Option<MediaDecision> {
    Some(match &stored.event {
        Event::ParticipantJoined { info } => MediaDecision::Allow {
            participant: info.participant,
            sources: allowed(info.capabilities),
        },
        Event::RoleChanged {
            participant,
            capabilities,
            ..
        } => MediaDecision::Allow {
            participant: *participant,
            sources: allowed(*capabilities),
        },
        Event::MuteRequested {
            participant, media, ..
        } => MediaDecision::Mute {
            participant: *participant,
            source: *media,
        },
        Event::ParticipantLeft { participant } => MediaDecision::Left {
            participant: *participant,
        },
        Event::ParticipantRemoved {
            participant, ban, ..
        } => MediaDecision::Removed {
            participant: *participant,
            ban: *ban,
        },
        Event::SessionEnded { .. } => MediaDecision::Ended,
        _ => return None,
    })
}

fn allowed(capabilities: signaling::CapabilitySet) -> Vec<MediaKind> {
    [MediaKind::Audio, MediaKind::Video, MediaKind::Screen]
        .into_iter()
        .filter(|source| capabilities.contains(publish_capability(*source)))
        .collect()
}
