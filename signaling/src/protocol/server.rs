//! Server → client frames. Each is encoded once into a [`Frame`] (shared bytes) and
//! the same bytes go to every recipient.

use crate::capability::CapabilitySet;
use crate::error::{ErrorCode, HubError};
use crate::event::ParticipantInfo;
use crate::ids::{ParticipantId, RequestId};
use crate::snapshot::Snapshot;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One encoded JSON text frame. Cloning shares the bytes; hand them to the socket as a
/// text message (e.g. axum's `Utf8Bytes::try_from(frame.into_bytes())`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(Bytes);

impl Frame {
    pub fn encode<T: Serialize>(value: &T) -> Self {
        // Frames are plain data with string keys: serializing cannot fail.
        let vec = serde_json::to_vec(value).expect("server frames serialize");
        Frame(Bytes::from(vec))
    }

    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// The frame as text (always valid UTF-8: it was produced by serde_json).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The first frame on a connection.
#[derive(Debug, Serialize)]
pub struct Welcome<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub participant: &'a ParticipantInfo,
    pub capabilities: CapabilitySet,
    /// After this frame the client's state is at `seq`: apply event frames with a
    /// higher seq. With a snapshot, `seq` is the snapshot's; when resuming, it is the
    /// client's `last_seq` and the missed event frames follow.
    pub seq: u64,
    /// Waiting in the lobby: nothing but `ping` is allowed until admitted.
    pub lobby: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Snapshot<'a>>,
}

/// A durable, numbered event.
#[derive(Debug, Serialize)]
pub struct EventFrame<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub event: &'a serde_json::Value,
}

/// A full state, sent on `resume` when the gap is older than the resume ring.
#[derive(Debug, Serialize)]
pub struct SnapshotFrame<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub seq: u64,
    pub snapshot: Snapshot<'a>,
}

#[derive(Debug, Serialize)]
struct AckFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<&'a RequestId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct ErrorFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    code: ErrorCode,
    message: &'a str,
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<&'a RequestId>,
}

#[derive(Debug, Serialize)]
struct TypingSignal {
    kind: &'static str,
    participant: ParticipantId,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<ParticipantId>,
}

/// `{"type":"ack","ref":..,"result":..}`: the command was accepted.
pub fn ack(reference: Option<&RequestId>, result: Option<&serde_json::Value>) -> Frame {
    Frame::encode(&AckFrame {
        kind: "ack",
        reference,
        result,
    })
}

/// `{"type":"pong","ref":..}`.
pub fn pong(reference: Option<&RequestId>) -> Frame {
    Frame::encode(&AckFrame {
        kind: "pong",
        reference,
        result: None,
    })
}

/// `{"type":"error","code":..,"message":..,"ref":..}`.
pub fn error(reference: Option<&RequestId>, error: &HubError) -> Frame {
    Frame::encode(&ErrorFrame {
        kind: "error",
        code: error.code,
        message: &error.message,
        reference,
    })
}

/// An ephemeral typing indicator: no seq, never stored, not resumable.
pub fn typing(participant: ParticipantId, to: Option<ParticipantId>) -> Frame {
    Frame::encode(&SignalFrame {
        kind: "signal",
        signal: TypingSignal {
            kind: "chat.typing",
            participant,
            to,
        },
    })
}

/// The media engine's active speaker: ephemeral like typing (no seq, never stored).
pub fn speaking(participant: ParticipantId) -> Frame {
    Frame::encode(&SignalFrame {
        kind: "signal",
        signal: TypingSignal {
            kind: "media.speaking",
            participant,
            to: None,
        },
    })
}

/// `{"type":"media.offer","sdp":..}`: the server renegotiates (tracks to receive were added
/// or stopped); the client answers with `media.answer`.
pub fn media_offer(sdp: &str) -> Frame {
    #[derive(Serialize)]
    struct Offer<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        sdp: &'a str,
    }
    Frame::encode(&Offer {
        kind: "media.offer",
        sdp,
    })
}

/// A published track as the `media.track` signal announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackSignal {
    /// Always `media.track`.
    pub kind: &'static str,
    pub participant: ParticipantId,
    /// The track id in the subscriber's SDP `msid` (`t<number>`).
    pub track: String,
    /// `microphone`, `camera` or `screen`.
    pub source: &'static str,
    /// Started (`true`) or stopped.
    pub live: bool,
}

/// `{"type":"signal","signal":{"kind":"media.track",..}}`: ephemeral, like typing.
pub fn media_track(track: &TrackSignal) -> Frame {
    Frame::encode(&SignalFrame {
        kind: "signal",
        signal: track,
    })
}

/// `{"type":"signal","signal":{"kind":"media.demand","track":..,"used":..}}`, to a publisher:
/// whether anyone receives its video track (it may pause the encoder when not).
pub fn media_demand(track: &str, used: bool) -> Frame {
    #[derive(Serialize)]
    struct Demand<'a> {
        kind: &'static str,
        track: &'a str,
        used: bool,
    }
    Frame::encode(&SignalFrame {
        kind: "signal",
        signal: Demand {
            kind: "media.demand",
            track,
            used,
        },
    })
}

#[derive(Serialize)]
struct SignalFrame<T> {
    #[serde(rename = "type")]
    kind: &'static str,
    signal: T,
}

/// WebSocket close codes of the hub protocol. Codes 4400–4499 tell the client not to
/// reconnect; 4000 and 4501 tell it to reconnect and resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// The client fell behind (its outgoing queue filled): reconnect with `last_seq`.
    Resync,
    /// Removed by a moderator; may join again.
    Removed,
    /// Removed and banned from this session.
    Banned,
    /// A moderator refused entry from the lobby.
    Denied,
    /// A newer connection of the same participant took over.
    Replaced,
    /// The session has ended.
    Ended,
    /// A frame larger than the socket accepts (128 KiB): it was not read, so it gets no
    /// `error` frame. Set by the server's socket edge, never by the session.
    TooLarge,
    /// The server is stopping: reconnect with `last_seq` after a moment. Set by the
    /// server's hub, never by the session.
    Restarting,
}

impl CloseCode {
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Resync => 4000,
            CloseCode::Removed => 4400,
            CloseCode::Banned => 4403,
            CloseCode::Denied => 4406,
            CloseCode::Replaced => 4409,
            CloseCode::Ended => 4410,
            CloseCode::TooLarge => 4413,
            CloseCode::Restarting => 4501,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::Resync => "resync",
            CloseCode::Removed => "removed",
            CloseCode::Banned => "banned",
            CloseCode::Denied => "denied",
            CloseCode::Replaced => "replaced",
            CloseCode::Ended => "ended",
            CloseCode::TooLarge => "too_large",
            CloseCode::Restarting => "restarting",
        }
    }
}
