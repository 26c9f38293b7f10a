//! What the SFU tells the session (through the server's media seam).

use crate::ids::{ParticipantId, PeerId, RoomId, Source, TrackId};

/// Why a peer was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The session asked ([`crate::SfuHandle::close_peer`]: left, removed, banned).
    Requested,
    /// The session ended ([`crate::SfuHandle::end_room`]).
    RoomEnded,
    /// ICE lost the peer, or it closed DTLS.
    Disconnected,
    /// ICE and DTLS did not complete within [`crate::peer::CONNECT_TIMEOUT`].
    ConnectTimeout,
    /// The peer sent something its WebRTC engine could not survive.
    Failed,
}

/// An event for the session. Delivered in order per peer; an [`SfuEvent::Offer`] for a peer
/// is never delivered before the answer of a command that preceded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SfuEvent {
    /// Send this SDP offer to the participant (the server adds or stops m-lines carrying
    /// other participants' tracks); their answer goes to [`crate::SfuHandle::apply_answer`].
    Offer {
        /// The peer to renegotiate.
        peer: PeerId,
        /// Its participant.
        participant: ParticipantId,
        /// The SDP offer.
        sdp: String,
    },
    /// A participant started publishing a track. Subscribers find it in their SDP by its
    /// `msid`: stream id = the publisher's participant id (32 hex digits), track id = `t<track>`.
    TrackPublished {
        /// The session.
        room: RoomId,
        /// The publisher.
        participant: ParticipantId,
        /// The track.
        track: TrackId,
        /// What it carries.
        source: Source,
    },
    /// A published track stopped (unpublished, or its peer closed).
    TrackStopped {
        /// The session.
        room: RoomId,
        /// The publisher.
        participant: ParticipantId,
        /// The track.
        track: TrackId,
        /// What it carried.
        source: Source,
    },
    /// Whether any subscriber can use a video track. `used: false` means the publisher may
    /// pause that encoder (nobody receives it); `true` means it is wanted again.
    TrackDemand {
        /// The session.
        room: RoomId,
        /// The publisher.
        participant: ParticipantId,
        /// The track.
        track: TrackId,
        /// Whether it is used.
        used: bool,
    },
    /// The room's active speaker changed (`None`: nobody speaks).
    ActiveSpeaker {
        /// The session.
        room: RoomId,
        /// The loudest participant.
        participant: Option<ParticipantId>,
    },
    /// A peer was closed, by request or because it failed.
    PeerClosed {
        /// The peer.
        peer: PeerId,
        /// The session.
        room: RoomId,
        /// Its participant.
        participant: ParticipantId,
        /// Why.
        reason: CloseReason,
    },
}
