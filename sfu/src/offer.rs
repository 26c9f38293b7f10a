//! The capability check on a participant's SDP offer, before str0m sees it.
//!
//! An offer alone does not say whether a video m-line is a camera or a screen, so the
//! participant declares a source per sending m-line next to the offer (as LiveKit's
//! add-track request does). Every m-line the offer *sends* on must be declared, fit its kind
//! and be allowed by the participant's [`Sources`]; otherwise the whole offer is refused
//! and the peer keeps its previous state. str0m parses the SDP first (malformed input is
//! refused there); its parsed form is not public, so this module reads the three facts it
//! needs (kind, mid, direction) from the validated text.

use std::collections::HashMap;

use crate::error::SfuError;
use crate::ids::{Source, Sources};

/// Limits on a remote SDP: browsers send a few kilobytes and a handful of m-lines.
pub const MAX_SDP_BYTES: usize = 64 * 1024;
/// At most this many m-lines in one SDP.
pub const MAX_MLINES: usize = 32;

/// One m-line's sending facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingLine {
    /// Its `a=mid`.
    pub mid: String,
    /// Audio (true) or video (false).
    pub audio: bool,
}

/// Checks an offer's sending m-lines against the declared sources and the allowed set.
/// Returns the mid → source map to publish with.
pub fn check_offer(
    sdp: &str,
    declared: &[(String, Source)],
    allowed: Sources,
) -> Result<HashMap<String, Source>, SfuError> {
    let declared: HashMap<&str, Source> = declared.iter().map(|(m, s)| (m.as_str(), *s)).collect();
    let mut sources = HashMap::new();
    for line in sending_lines(sdp)? {
        let kind = if line.audio { "audio" } else { "video" };
        let Some(&source) = declared.get(line.mid.as_str()) else {
            return Err(SfuError::UndeclaredTrack {
                mid: line.mid,
                kind,
            });
        };
        if source.is_audio() != line.audio {
            return Err(SfuError::WrongKind {
                mid: line.mid,
                declared: source,
            });
        }
        if !allowed.contains(source) {
            return Err(SfuError::NotAllowed(source));
        }
        sources.insert(line.mid, source);
    }
    Ok(sources)
}

/// The audio/video m-lines that send media toward us (`sendonly` or `sendrecv`, not
/// disabled with port 0).
pub fn sending_lines(sdp: &str) -> Result<Vec<SendingLine>, SfuError> {
    if sdp.len() > MAX_SDP_BYTES {
        return Err(SfuError::SdpTooLarge("more than 64 KiB"));
    }
    struct Section {
        audio: Option<bool>,
        disabled: bool,
        mid: Option<String>,
        sending: bool,
    }
    let mut sections: Vec<Section> = Vec::new();
    for line in sdp.lines().map(str::trim_end) {
        if let Some(m) = line.strip_prefix("m=") {
            if sections.len() == MAX_MLINES {
                return Err(SfuError::SdpTooLarge("more than 32 m-lines"));
            }
            let mut parts = m.split(' ');
            let audio = match parts.next() {
                Some("audio") => Some(true),
                Some("video") => Some(false),
                _ => None,
            };
            let disabled = parts.next() == Some("0");
            // RFC 3264: sendrecv is the default direction.
            sections.push(Section {
                audio,
                disabled,
                mid: None,
                sending: true,
            });
        } else if let Some(s) = sections.last_mut() {
            match line {
                "a=sendrecv" | "a=sendonly" => s.sending = true,
                "a=recvonly" | "a=inactive" => s.sending = false,
                _ => {
                    if let Some(mid) = line.strip_prefix("a=mid:") {
                        s.mid = Some(mid.to_string());
                    }
                }
            }
        }
    }
    Ok(sections
        .into_iter()
        .filter(|s| s.sending && !s.disabled)
        .filter_map(|s| {
            Some(SendingLine {
                audio: s.audio?,
                mid: s.mid?,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendrecv\r\n\
        m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\na=recvonly\r\n\
        m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:3\r\na=sendonly\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:4\r\n";

    fn decl(v: &[(&str, Source)]) -> Vec<(String, Source)> {
        v.iter().map(|(m, s)| (m.to_string(), *s)).collect()
    }

    #[test]
    fn sending_lines_are_the_enabled_audio_video_ones_that_send() {
        let lines = sending_lines(OFFER).unwrap();
        assert_eq!(
            lines,
            vec![
                SendingLine {
                    mid: "0".into(),
                    audio: true
                },
                SendingLine {
                    mid: "1".into(),
                    audio: false
                }
            ]
        );
    }

    #[test]
    fn declared_and_allowed_sources_pass() {
        let d = decl(&[("0", Source::Microphone), ("1", Source::Screen)]);
        let got = check_offer(
            OFFER,
            &d,
            Sources::of(&[Source::Microphone, Source::Screen]),
        )
        .unwrap();
        assert_eq!(got.get("1"), Some(&Source::Screen));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_source_without_the_capability_is_refused() {
        let d = decl(&[("0", Source::Microphone), ("1", Source::Camera)]);
        assert_eq!(
            check_offer(OFFER, &d, Sources::of(&[Source::Microphone])),
            Err(SfuError::NotAllowed(Source::Camera))
        );
        assert_eq!(
            check_offer(OFFER, &d, Sources::NONE),
            Err(SfuError::NotAllowed(Source::Microphone))
        );
    }

    #[test]
    fn undeclared_or_mismatched_lines_are_refused() {
        let d = decl(&[("0", Source::Microphone)]);
        assert_eq!(
            check_offer(OFFER, &d, Sources::ALL),
            Err(SfuError::UndeclaredTrack {
                mid: "1".into(),
                kind: "video"
            })
        );
        let d = decl(&[("0", Source::Camera), ("1", Source::Camera)]);
        assert_eq!(
            check_offer(OFFER, &d, Sources::ALL),
            Err(SfuError::WrongKind {
                mid: "0".into(),
                declared: Source::Camera
            })
        );
    }

    #[test]
    fn oversized_offers_are_refused() {
        let big = "m=audio 9 RTP 0\r\n".repeat(MAX_MLINES + 1);
        assert!(matches!(sending_lines(&big), Err(SfuError::SdpTooLarge(_))));
        let huge = "a".repeat(MAX_SDP_BYTES + 1);
        assert!(matches!(
            sending_lines(&huge),
            Err(SfuError::SdpTooLarge(_))
        ));
    }
}
