//! Participants: who is admitted, present, what they publish, their role.

use crate::capability::{Capability, CapabilitySet, SessionRole};
use crate::event::ParticipantInfo;
use crate::ids::ParticipantId;
use crate::protocol::client::MediaKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a participant currently publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MediaState {
    pub mic: bool,
    pub camera: bool,
    pub screen: bool,
}

impl MediaState {
    /// Switches off whatever `capabilities` no longer allow.
    fn restrict(&mut self, capabilities: CapabilitySet) {
        self.mic &= capabilities.contains(Capability::PublishAudio);
        self.camera &= capabilities.contains(Capability::PublishVideo);
        self.screen &= capabilities.contains(Capability::PublishScreen);
    }
}

/// An admitted participant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Participant {
    #[serde(flatten)]
    pub info: ParticipantInfo,
    pub present: bool,
    /// Removed by a moderator since their last admission: a lock or lobby applies to
    /// them again, as to a newcomer.
    pub removed: bool,
    pub media: MediaState,
    pub first_joined_at: DateTime<Utc>,
}

pub(super) fn join(
    participants: &mut BTreeMap<ParticipantId, Participant>,
    info: &ParticipantInfo,
    at: DateTime<Utc>,
) {
    let entry = participants
        .entry(info.participant)
        .or_insert_with(|| Participant {
            info: info.clone(),
            present: true,
            removed: false,
            media: MediaState::default(),
            first_joined_at: at,
        });
    entry.info = info.clone();
    entry.present = true;
    entry.removed = false;
    entry.media = MediaState::default();
}

pub(super) fn leave(participants: &mut BTreeMap<ParticipantId, Participant>, id: ParticipantId) {
    if let Some(p) = participants.get_mut(&id) {
        p.present = false;
        p.media = MediaState::default();
    }
}

pub(super) fn remove(participants: &mut BTreeMap<ParticipantId, Participant>, id: ParticipantId) {
    leave(participants, id);
    if let Some(p) = participants.get_mut(&id) {
        p.removed = true;
    }
}

pub(super) fn set_media(
    participants: &mut BTreeMap<ParticipantId, Participant>,
    id: ParticipantId,
    mic: bool,
    camera: bool,
    screen: bool,
) {
    if let Some(p) = participants.get_mut(&id) {
        p.media = MediaState {
            mic,
            camera,
            screen,
        };
        p.media.restrict(p.info.capabilities);
    }
}

/// A moderator's mute switches the source off (the media engine stops forwarding it); the
/// participant may switch it on again with `media.state`.
pub(super) fn mute(
    participants: &mut BTreeMap<ParticipantId, Participant>,
    id: ParticipantId,
    source: MediaKind,
) {
    if let Some(p) = participants.get_mut(&id) {
        match source {
            MediaKind::Audio => p.media.mic = false,
            MediaKind::Video => p.media.camera = false,
            MediaKind::Screen => p.media.screen = false,
        }
    }
}

pub(super) fn set_role(
    participants: &mut BTreeMap<ParticipantId, Participant>,
    id: ParticipantId,
    role: SessionRole,
    capabilities: CapabilitySet,
) {
    if let Some(p) = participants.get_mut(&id) {
        p.info.role = role;
        p.info.capabilities = capabilities;
        p.media.restrict(capabilities);
    }
}
