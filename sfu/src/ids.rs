//! Identifiers the SFU shares with whoever drives it (the server's media seam).
//!
//! Rooms and participants are opaque 128-bit values so the crate needs nothing from
//! `signaling` (the server passes `Uuid::as_u128()`); peers and tracks are numbered by the
//! SFU itself.

use std::fmt;

/// A forwarding group: every peer of a room receives the other peers' tracks (a session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub u128);

/// The person behind a peer, as the session knows them. Only carried through to events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u128);

/// One WebRTC peer connection, numbered by the SFU. A participant who reconnects gets a new
/// peer, so a late command for the old one cannot touch the new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u64);

/// One published track (one m-line of a publisher), numbered by the SFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrackId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

/// What a track carries, as the session's capabilities name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Opus audio.
    Microphone,
    /// VP8/VP9/H.264 video from a camera (may be simulcast).
    Camera,
    /// Screen share video, its own track so a subscriber can show it apart.
    Screen,
}

impl Source {
    /// The wire name (`microphone`, `camera`, `screen`), as in the hub protocol.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Microphone => "microphone",
            Source::Camera => "camera",
            Source::Screen => "screen",
        }
    }

    /// Parses a wire name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Source> {
        match name {
            "microphone" => Some(Source::Microphone),
            "camera" => Some(Source::Camera),
            "screen" => Some(Source::Screen),
            _ => None,
        }
    }

    /// Whether the source is audio (the only audio source is the microphone).
    pub fn is_audio(self) -> bool {
        self == Source::Microphone
    }

    fn bit(self) -> u8 {
        match self {
            Source::Microphone => 1,
            Source::Camera => 2,
            Source::Screen => 4,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of sources a peer may publish, decided outside the SFU (the hub's capabilities)
/// and checked on every offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sources(u8);

impl Sources {
    /// Nothing may be published (a viewer).
    pub const NONE: Sources = Sources(0);
    /// Microphone, camera and screen.
    pub const ALL: Sources = Sources(7);

    /// The set holding exactly `sources`.
    pub fn of(sources: &[Source]) -> Sources {
        Sources(sources.iter().fold(0, |acc, s| acc | s.bit()))
    }

    /// Whether `source` is in the set.
    pub fn contains(self, source: Source) -> bool {
        self.0 & source.bit() != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_set_holds_what_it_was_built_from() {
        let s = Sources::of(&[Source::Microphone, Source::Screen]);
        assert!(s.contains(Source::Microphone));
        assert!(s.contains(Source::Screen));
        assert!(!s.contains(Source::Camera));
        assert!(!Sources::NONE.contains(Source::Microphone));
        assert!(Sources::ALL.contains(Source::Camera));
    }

    #[test]
    fn source_names_round_trip() {
        for s in [Source::Microphone, Source::Camera, Source::Screen] {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
        assert_eq!(Source::parse("webcam"), None);
    }
}
