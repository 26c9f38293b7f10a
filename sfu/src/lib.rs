//! Workbook's embedded WebRTC SFU: participants publish Opus audio, VP8/VP9/H.264 video and
//! screen share; the server forwards each track to every other participant of the room.
//!
//! Built on [str0m] in RTP mode: str0m does ICE, DTLS, SRTP, RTCP, NACK/RTX, TWCC and
//! bandwidth estimation per peer; this crate decides what goes where. It forwards and
//! knows nothing of sessions, users or capabilities beyond what it is told (LiveKit's
//! split between `pkg/sfu` and `pkg/rtc`): the server tells it which sources a participant
//! may publish and relays its SDP; it tells the server what was published, who speaks, and
//! which peers closed. See `docs/SFU.md` for the whole picture.
//!
//! # Layers, all in str0m's sans-IO shape
//!
//! - [`forward`]: plain state machines on caller-supplied time — the [`forward::router`]
//!   (subscriptions, per-subscriber sequence/timestamp rewriting, layer choice, keyframe
//!   throttling, pausing unused video), tested on simulated time with no sockets.
//! - [`speaker`]: active speaker from RFC 6464 audio levels.
//! - [`shard::Shard`]: the peers' str0m instances plus the router and the speaker detector;
//!   `handle_input(datagram | timeout)` then `poll_output()` until `Timeout`, commands as
//!   methods that answer at once.
//! - [`runtime`]: the only I/O — one thread, one UDP socket, one shard — and the
//!   [`SfuHandle`] the server commands it through, with [`SfuEvent`]s coming back.
//!
//! # Transport
//!
//! ICE-lite on one UDP port (configurable bind address and port, and a public address to
//! announce behind NAT), and ICE over TCP on the same port number for networks that block
//! UDP (RFC 6544 passive candidates, RFC 4571 framing); the server answers a browser's
//! `a=setup:actpass` as `passive` and offers `actpass`, so it is always the DTLS server and
//! browsers negotiate AES-GCM SRTP.
//!
//! # The seam (what the server's media adapter calls)
//!
//! | in (command) | out (event) |
//! |---|---|
//! | [`SfuHandle::add_peer`] (room, participant, allowed sources) | [`SfuEvent::Offer`]: SDP to send to the participant |
//! | [`SfuHandle::apply_offer`] → answer | [`SfuEvent::TrackPublished`] / [`SfuEvent::TrackStopped`] (participant, source) |
//! | [`SfuHandle::apply_answer`], [`SfuHandle::add_candidate`] | [`SfuEvent::TrackDemand`]: nobody uses a video track (pause it) |
//! | [`SfuHandle::subscribe`] (track, quality or nothing) | [`SfuEvent::ActiveSpeaker`] |
//! | [`SfuHandle::set_muted`], [`SfuHandle::close_peer`], [`SfuHandle::end_room`] | [`SfuEvent::PeerClosed`] (with the reason) |
//! | [`SfuHandle::set_recording`] (room, on/off) | [`RecordedPacket`]s on [`SfuConfig::recorder`]'s queue |
//!
//! [`SfuHandle::stats`] gives the counters `/metrics` exports.

pub mod config;
pub mod error;
pub mod event;
pub mod forward;
pub mod ids;
pub mod offer;
pub mod peer;
pub mod record;
pub mod runtime;
pub mod shard;
pub mod speaker;
pub mod stats;
mod tcp;

pub use config::{Limits, SfuConfig};
pub use error::SfuError;
pub use event::{CloseReason, SfuEvent};
pub use forward::layer::Quality;
pub use ids::{ParticipantId, PeerId, RoomId, Source, Sources, TrackId};
pub use peer::PeerConfig;
pub use record::{RecordSink, RecordedPacket, SenderReport};
pub use runtime::{SfuHandle, start};
pub use stats::{SfuStats, ShardStats};
