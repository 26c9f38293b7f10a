//! The recording tap: a copy of every packet published in a room being recorded, for the
//! server's recorder to write to disk.
//!
//! The SFU writes nothing itself. While a room is recorded
//! ([`crate::SfuHandle::set_recording`]), each RTP packet a publisher sends there is also
//! handed to the recorder's queue as a [`RecordedPacket`]: the payload is shared with the
//! forwarding path (an `Arc`, not a copy), and the queue is bounded, so a recorder that
//! falls behind loses packets (counted in `recording_dropped`), never slows forwarding.
//! Of a simulcast track only the first layer the publisher sent is recorded.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use crate::forward::codec::VideoCodec;
use crate::ids::{ParticipantId, RoomId, Source, TrackId};

/// One published RTP packet, as the recorder needs it.
#[derive(Debug, Clone)]
pub struct RecordedPacket {
    /// The session.
    pub room: RoomId,
    /// The publisher.
    pub participant: ParticipantId,
    /// The track (a publisher that reconnects publishes a new one).
    pub track: TrackId,
    /// What it carries.
    pub source: Source,
    /// The video codec; `None` for audio, which is always Opus.
    pub codec: Option<VideoCodec>,
    /// The RTP stream; a new one means a new RTP timeline.
    pub ssrc: u32,
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// RTP marker bit (the last packet of a video frame).
    pub marker: bool,
    /// The payload, shared with the forwarding path.
    pub payload: Arc<[u8]>,
    /// When the packet reached the server.
    pub arrival: Instant,
    /// The stream's latest RTCP sender report: which RTP time the sender's wall clock
    /// paired with, for aligning tracks.
    pub sender_report: Option<SenderReport>,
}

/// The pairing of wall-clock and RTP time in a sender report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport {
    /// The sender's wall clock (the report's NTP timestamp).
    pub wall_clock: SystemTime,
    /// The RTP timestamp of that same instant.
    pub rtp_time: u32,
}

/// Where the shard's runtime hands recorded packets: a bounded queue to the recorder.
pub type RecordSink = std::sync::mpsc::SyncSender<RecordedPacket>;
