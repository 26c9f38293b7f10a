//! What the media engine (the SFU, wired by the server) reports about a session: a track
//! published or stopped becomes a durable `media.changed` event; who is speaking is an
//! ephemeral signal, like typing, because it changes several times a second and the log
//! would fill with it.

use super::{Output, Session};
use crate::capability::Capability;
use crate::event::Event;
use crate::ids::{ConnectionId, ParticipantId};
use crate::protocol::client::MediaKind;
use crate::protocol::server;
use chrono::{DateTime, Utc};

impl Session {
    /// The media engine saw `participant`'s `source` track start (`live`) or stop. Emits
    /// `media.changed` when that changes what the session knows; ignored for someone not
    /// present, or a start the participant's capabilities do not allow (the engine should
    /// have refused it).
    pub fn track_changed(
        &mut self,
        participant: ParticipantId,
        source: MediaKind,
        live: bool,
        now: DateTime<Utc>,
    ) {
        let Some(present) = self.state.present(participant) else {
            return;
        };
        let (capability, mut media) = (publish_capability(source), present.media);
        if live && !present.info.capabilities.contains(capability) {
            return;
        }
        match source {
            MediaKind::Audio => media.mic = live,
            MediaKind::Video => media.camera = live,
            MediaKind::Screen => media.screen = live,
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

    /// The media engine's active speaker: a `signal` (`media.speaking`) to everyone
    /// present, never stored or numbered.
    pub fn speaking(&mut self, participant: ParticipantId) {
        if self.state.present(participant).is_none() {
            return;
        }
        let to: Vec<ConnectionId> = self
            .by_participant
            .iter()
            .filter(|(p, _)| self.state.present(**p).is_some())
            .map(|(_, c)| *c)
            .collect();
        if !to.is_empty() {
            let frame = server::speaking(participant);
            self.outputs.push_back(Output::Send { to, frame });
        }
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
