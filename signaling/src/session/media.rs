//! The session's side of the media engine (the SFU, wired by the server).
//!
//! Inbound, `media.*` messages from a present participant pass the same rate limit as every
//! message and leave as [`Output::Media`] requests; the engine answers each through
//! [`Session::media_reply`] (the `ack` carries the SDP answer) and may send the participant
//! offers of its own ([`Session::media_offer`]). The engine enforces what a participant may
//! publish on every offer, from the capabilities the server passes it; the session only
//! admits the message.
//!
//! Outbound, a track published or stopped becomes a durable `media.changed` event (the
//! participant's mic/camera/screen flags) and an ephemeral `media.track` signal naming the
//! track; who is speaking is an ephemeral signal too, because it changes several times a
//! second and the log would fill with it. Live tracks are not stored: a late joiner learns
//! them from `media.track` signals sent right after its welcome.

use super::{Output, Session};
use crate::capability::Capability;
use crate::error::HubError;
use crate::event::Event;
use crate::ids::{ConnectionId, ParticipantId, RequestId};
use crate::protocol::client::{Command, MediaKind, Quality};
use crate::protocol::server::{self, TrackSignal};
use chrono::{DateTime, Utc};

/// A media message the engine must carry out, from a present participant.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRequest {
    pub participant: ParticipantId,
    /// Echoed as `ref` in the answer.
    pub reference: Option<RequestId>,
    pub message: MediaMessage,
}

/// The `media.*` messages, as the engine sees them.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaMessage {
    /// Open a peer to receive (the server offers the session's tracks).
    Join,
    /// The participant's SDP offer; `tracks` declares the source of each sending m-line.
    Offer {
        sdp: String,
        tracks: Vec<(String, MediaKind)>,
    },
    /// The answer to the server's last `media.offer`.
    Answer { sdp: String },
    /// A trickled ICE candidate.
    Candidate { candidate: String },
    /// What the participant wants of one track.
    Subscribe { track: String, quality: Quality },
    /// Close the participant's peer.
    Leave,
}

impl MediaMessage {
    /// The media message a command carries, or the command back.
    pub(super) fn from_command(command: Command) -> Result<MediaMessage, Command> {
        Ok(match command {
            Command::MediaJoin => MediaMessage::Join,
            Command::MediaOffer { sdp, tracks } => MediaMessage::Offer {
                sdp,
                tracks: tracks.into_iter().collect(),
            },
            Command::MediaAnswer { sdp } => MediaMessage::Answer { sdp },
            Command::MediaCandidate { candidate } => MediaMessage::Candidate { candidate },
            Command::MediaSubscribe { track, quality } => {
                MediaMessage::Subscribe { track, quality }
            }
            Command::MediaLeave => MediaMessage::Leave,
            other => return Err(other),
        })
    }
}

/// A live track, kept for late joiners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LiveTrack {
    pub participant: ParticipantId,
    pub source: MediaKind,
}

impl Session {
    /// The engine's answer to a [`MediaRequest`]: an `ack` with `result`, or an `error`.
    /// Dropped if the participant is no longer connected.
    pub fn media_reply(
        &mut self,
        participant: ParticipantId,
        reference: Option<RequestId>,
        result: Result<Option<serde_json::Value>, HubError>,
    ) {
        let frame = match result {
            Ok(value) => server::ack(reference.as_ref(), value.as_ref()),
            Err(error) => server::error(reference.as_ref(), &error),
        };
        self.send_to(participant, frame);
    }

    /// The engine renegotiates with `participant`: a `media.offer` frame.
    pub fn media_offer(&mut self, participant: ParticipantId, sdp: &str) {
        self.send_to(participant, server::media_offer(sdp));
    }

    /// Whether anyone receives `participant`'s video `track`: a `media.demand` signal.
    pub fn track_demand(&mut self, participant: ParticipantId, track: &str, used: bool) {
        self.send_to(participant, server::media_demand(track, used));
    }

    /// The media engine saw `participant`'s `track` of `source` start (`live`) or stop.
    /// Everyone present gets a `media.track` signal; the participant's flags change with a
    /// `media.changed` event when that changes what the session knows. A start is ignored
    /// for someone not present or a source their capabilities do not allow (the engine
    /// should have refused it); a stop always ends the track, since a peer outlives a
    /// brief disconnection of its participant.
    pub fn track_changed(
        &mut self,
        participant: ParticipantId,
        track: &str,
        source: MediaKind,
        live: bool,
        now: DateTime<Utc>,
    ) {
        if live {
            let Some(present) = self.state.present(participant) else {
                return;
            };
            if !present
                .info
                .capabilities
                .contains(publish_capability(source))
            {
                return;
            }
            let entry = LiveTrack {
                participant,
                source,
            };
            self.tracks.insert(track.to_owned(), entry);
        } else if self.tracks.remove(track).is_none() {
            return;
        }
        let frame = server::media_track(&track_signal(track, participant, source, live));
        self.send_to_present(frame);
        self.update_media_flags(participant, source, now);
    }

    /// A `media.changed` event when the participant's live tracks of `source` no longer
    /// match its flag (a flag stays on while any track of its source is live).
    fn update_media_flags(
        &mut self,
        participant: ParticipantId,
        source: MediaKind,
        now: DateTime<Utc>,
    ) {
        let Some(present) = self.state.present(participant) else {
            return;
        };
        let on = self
            .tracks
            .values()
            .any(|t| t.participant == participant && t.source == source);
        let mut media = present.media;
        match source {
            MediaKind::Audio => media.mic = on,
            MediaKind::Video => media.camera = on,
            MediaKind::Screen => media.screen = on,
        }
        if media == present.media {
            return;
        }
        let event = Event::MediaChanged {
            participant,
            mic: media.mic,
            camera: media.camera,
            screen: media.screen,
        };
        self.emit(event, now, None);
    }

    /// The server stops the recording (a full disk, a failed write, a restart, everyone
    /// left): everyone is told why with `recording.stopped`. Nothing happens when no
    /// recording runs.
    pub fn stop_recording(&mut self, reason: &str, now: DateTime<Utc>) {
        let Some(recording) = &self.state.recording else {
            return;
        };
        let event = Event::RecordingStopped {
            by: recording.by,
            reason: Some(reason.to_owned()),
        };
        self.emit(event, now, None);
    }

    /// The media engine's active speaker: a `signal` (`media.speaking`) to everyone
    /// present, never stored or numbered.
    pub fn speaking(&mut self, participant: ParticipantId) {
        if self.state.present(participant).is_some() {
            self.send_to_present(server::speaking(participant));
        }
    }

    /// A present participant's `media.*` message: handed to the engine, answered later.
    /// Taking part in media at all needs `subscribe`; what may be published the engine
    /// checks on every offer.
    pub(super) fn request_media(
        &mut self,
        participant: ParticipantId,
        reference: Option<RequestId>,
        message: MediaMessage,
    ) -> Result<(), HubError> {
        let capabilities = self.state.participants[&participant].info.capabilities;
        if !capabilities.contains(Capability::Subscribe) {
            return Err(HubError::forbidden("missing capability \"subscribe\""));
        }
        self.outputs.push_back(Output::Media(MediaRequest {
            participant,
            reference,
            message,
        }));
        Ok(())
    }

    /// The live tracks, as `media.track` signals for a connection that just got its welcome.
    pub(super) fn send_live_tracks(&mut self, connection: ConnectionId) {
        let frames: Vec<_> = self
            .tracks
            .iter()
            .map(|(track, t)| {
                server::media_track(&track_signal(track, t.participant, t.source, true))
            })
            .collect();
        for frame in frames {
            self.reply(connection, frame);
        }
    }

    fn send_to(&mut self, participant: ParticipantId, frame: server::Frame) {
        if let Some(&connection) = self.by_participant.get(&participant) {
            self.reply(connection, frame);
        }
    }

    fn send_to_present(&mut self, frame: server::Frame) {
        let to: Vec<ConnectionId> = self
            .by_participant
            .iter()
            .filter(|(p, _)| self.state.present(**p).is_some())
            .map(|(_, c)| *c)
            .collect();
        if !to.is_empty() {
            self.outputs.push_back(Output::Send { to, frame });
        }
    }
}

fn track_signal(
    track: &str,
    participant: ParticipantId,
    source: MediaKind,
    live: bool,
) -> TrackSignal {
    TrackSignal {
        kind: "media.track",
        participant,
        track: track.to_owned(),
        source: source.source_name(),
        live,
    }
}

/// The capability that allows publishing `source`.
pub fn publish_capability(source: MediaKind) -> Capability {
    match source {
        MediaKind::Audio => Capability::PublishAudio,
        MediaKind::Video => Capability::PublishVideo,
        MediaKind::Screen => Capability::PublishScreen,
    }
}
