//! The SFU's one error type: everything a command can be refused for.

use crate::ids::{PeerId, Source};

/// Why a command was refused. Each maps to a hub error the participant sees; none disturbs
/// other peers.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SfuError {
    /// No such peer (closed, or never added).
    #[error("no media peer {0:?}")]
    NoSuchPeer(PeerId),
    /// The SDP did not parse, or str0m refused it.
    #[error("malformed SDP: {0}")]
    MalformedSdp(String),
    /// The SDP is larger or has more m-lines than the limits allow.
    #[error("SDP too large: {0}")]
    SdpTooLarge(&'static str),
    /// The offer sends media on an m-line the participant did not declare a source for.
    #[error("m-line {mid} sends {kind} without a declared source")]
    UndeclaredTrack {
        /// The offending m-line.
        mid: String,
        /// `audio` or `video`.
        kind: &'static str,
    },
    /// A declared source does not fit its m-line (audio must be the microphone; video the
    /// camera or the screen).
    #[error("m-line {mid} cannot carry {declared}")]
    WrongKind {
        /// The offending m-line.
        mid: String,
        /// What was declared.
        declared: Source,
    },
    /// The participant may not publish this source (the session's capabilities).
    #[error("not allowed to publish {0}")]
    NotAllowed(Source),
    /// An answer arrived while no offer of ours was waiting for one.
    #[error("no offer is waiting for an answer")]
    NoPendingOffer,
    /// A remote ICE candidate did not parse.
    #[error("malformed ICE candidate: {0}")]
    MalformedCandidate(String),
    /// More remote candidates than [`crate::Limits::max_remote_candidates`].
    #[error("too many ICE candidates")]
    TooManyCandidates,
    /// The track does not exist or is not offered to this subscriber.
    #[error("no such track for this peer")]
    NoSuchTrack,
    /// The shard holds [`crate::Limits::max_peers`] peers already.
    #[error("media server full")]
    Full,
    /// The SFU is shutting down (or its thread is gone).
    #[error("media server stopped")]
    Stopped,
}
