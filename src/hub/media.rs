//! The seam between a session and its media engine (the SFU, `crate::media`). The session
//! task tells the engine what the hub decided, from events it has stored, and hands it the
//! participants' `media.*` requests; the engine reports what it saw and answers requests
//! through [`crate::hub::Hub::media_report`], which the session turns into frames, signals
//! and events. `signaling` knows nothing of media engines and the engine nothing of
//! sessions' rules: this module is the only place they meet.

use serde_json::Value;
use signaling::protocol::client::MediaKind;
use signaling::session::publish_capability;
use signaling::{ErrorCode, Event, HubError, MediaRequest, ParticipantId, RequestId, StoredEvent};
use uuid::Uuid;

/// What the hub decided about a session's media, for the engine to enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaDecision {
    /// The participant is present and may publish these sources (and no others): on
    /// joining, and on every role change.
    Allow {
        participant: ParticipantId,
        sources: Vec<MediaKind>,
    },
    /// A moderator muted the participant's `source`: stop forwarding it.
    Mute {
        participant: ParticipantId,
        source: MediaKind,
    },
    /// The participant says it publishes these sources (`media.state`): a source a
    /// moderator muted is forwarded again once its owner switches it on.
    Publishing {
        participant: ParticipantId,
        sources: Vec<MediaKind>,
    },
    /// The participant's connection left; its peer may outlive a brief disconnection.
    Left { participant: ParticipantId },
    /// A moderator removed the participant (and banned them, with `ban`).
    Removed {
        participant: ParticipantId,
        ban: bool,
    },
    /// Recording started, paused, resumed or stopped (the consent notice went out first).
    Record(RecordingControl),
    /// The session ended: stop everything.
    Ended,
}

/// What became of the session's recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingControl {
    /// Start, on `by`'s request.
    Start {
        by: ParticipantId,
    },
    Pause,
    Resume,
    Stop,
}

/// What the engine saw, or its answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaReport {
    /// A track started (`live`) or stopped; `track` is its id in subscribers' SDP.
    Track {
        participant: ParticipantId,
        track: String,
        source: MediaKind,
        live: bool,
    },
    /// Who is speaking now.
    ActiveSpeaker { participant: ParticipantId },
    /// Send the participant this SDP offer (`media.offer`).
    Offer {
        participant: ParticipantId,
        sdp: String,
    },
    /// Whether anyone receives the participant's video `track`.
    Demand {
        participant: ParticipantId,
        track: String,
        used: bool,
    },
    /// The recorder stopped the session's recording on its own (a full disk, a failed
    /// write, or it could not start).
    RecordingFailed { reason: String },
    /// The answer to a [`MediaRequest`]: the `ack`'s result, or an error.
    Reply {
        participant: ParticipantId,
        reference: Option<RequestId>,
        result: Result<Option<Value>, HubError>,
    },
}

/// A media engine as the hub drives it. Neither method may wait: an engine queues the work
/// for its own task.
pub trait MediaEngine: Send + Sync + 'static {
    /// Whether the engine records sessions: without it `recording.start` is refused.
    fn records(&self) -> bool {
        false
    }

    /// Called by the session's task, in event order, once the events behind the decision
    /// are stored.
    fn decide(&self, session: Uuid, decision: MediaDecision);

    /// A participant's `media.*` message, admitted by the session; answered later with a
    /// [`MediaReport::Reply`]. An error here is answered at once (no media, or overloaded).
    fn request(&self, session: Uuid, request: MediaRequest) -> Result<(), HubError>;
}

/// No media engine: the hub runs chat, polls and the rest without one (`[media] enabled =
/// false`), and `media.*` messages are refused.
pub struct NoMedia;

impl MediaEngine for NoMedia {
    fn decide(&self, _session: Uuid, _decision: MediaDecision) {}

    fn request(&self, _session: Uuid, _request: MediaRequest) -> Result<(), HubError> {
        Err(HubError::new(
            ErrorCode::Unavailable,
            "media is not enabled on this server",
        ))
    }
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
        Event::MediaChanged {
            participant,
            mic,
            camera,
            screen,
        } => MediaDecision::Publishing {
            participant: *participant,
            sources: [
                (*mic, MediaKind::Audio),
                (*camera, MediaKind::Video),
                (*screen, MediaKind::Screen),
            ]
            .into_iter()
            .filter_map(|(on, source)| on.then_some(source))
            .collect(),
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
        Event::RecordingStarted { by } => {
            MediaDecision::Record(RecordingControl::Start { by: *by })
        }
        Event::RecordingPaused { .. } => MediaDecision::Record(RecordingControl::Pause),
        Event::RecordingResumed { .. } => MediaDecision::Record(RecordingControl::Resume),
        Event::RecordingStopped { .. } => MediaDecision::Record(RecordingControl::Stop),
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
