//! VP9 frames out of RTP packets (RFC 9628), ready for IVF.
//!
//! Like VP8 ([`crate::vp8`]): a frame is the packets from the one that begins it (`B`) to
//! the one that ends it (`E`), a frame that misses a packet cannot be decoded nor can those
//! after it up to the next keyframe, so after a loss frames are dropped until one (and the
//! caller asks for it), and the first frame handed out is a keyframe.
//!
//! A keyframe is a frame whose first packet says it is not predicted from another picture
//! (`P` = 0) in the base spatial layer. Its size comes from the scalability structure (`V`)
//! browsers send with keyframes, when that says it. Spatial layers above the base (SVC)
//! are left out: the file holds the base layer, which decodes alone.

use crate::ivf::VideoFrame;
use crate::reorder::OrderedPacket;
use crate::vp8::Vp8Event as VideoEvent;

/// A frame bigger than this is refused (see `vp8::MAX_FRAME_BYTES`).
const MAX_FRAME_BYTES: usize = 4 << 20;

/// Assembles the frames of one VP9 track from its packets in sequence order.
#[derive(Debug)]
pub struct Vp9Depacketizer {
    frame: Option<Partial>,
    waiting_for_keyframe: bool,
}

#[derive(Debug)]
struct Partial {
    timestamp: u64,
    keyframe: bool,
    size: Option<(u16, u16)>,
    data: Vec<u8>,
}

impl Default for Vp9Depacketizer {
    fn default() -> Self {
        Self {
            frame: None,
            waiting_for_keyframe: true,
        }
    }
}

impl Vp9Depacketizer {
    /// Takes the next packet in sequence; a frame (or a keyframe request) when it ends one.
    pub fn push(&mut self, packet: &OrderedPacket) -> Option<VideoEvent> {
        if packet.payload.is_empty() {
            return None; // padding
        }
        let Some(descriptor) = Descriptor::parse(&packet.payload) else {
            return self.lost();
        };
        if descriptor.spatial_layer > 0 {
            return None;
        }
        let payload = &packet.payload[descriptor.header_len..];
        if descriptor.begins_frame {
            let interrupted = self.frame.replace(Partial {
                timestamp: packet.timestamp,
                keyframe: !descriptor.inter_predicted,
                size: descriptor.size,
                data: Vec::new(),
            });
            if interrupted.is_some() {
                self.waiting_for_keyframe = true;
            }
        }
        let Some(frame) = self
            .frame
            .as_mut()
            .filter(|f| f.timestamp == packet.timestamp)
        else {
            return self.lost();
        };
        if frame.data.len() + payload.len() > MAX_FRAME_BYTES {
            return self.lost();
        }
        frame.data.extend_from_slice(payload);
        if !descriptor.ends_frame {
            return None;
        }
        let Partial {
            timestamp,
            keyframe,
            size,
            data,
        } = self.frame.take()?;
        if keyframe {
            self.waiting_for_keyframe = false;
        } else if self.waiting_for_keyframe {
            return Some(VideoEvent::KeyframeNeeded);
        }
        Some(VideoEvent::Frame(VideoFrame {
            timestamp,
            keyframe_size: if keyframe { size } else { None },
            data,
        }))
    }

    /// Packets were given up on: the frame in progress, and every frame up to the next
    /// keyframe, cannot be decoded.
    pub fn lost(&mut self) -> Option<VideoEvent> {
        self.frame = None;
        self.waiting_for_keyframe = true;
        Some(VideoEvent::KeyframeNeeded)
    }
}

/// What assembling frames needs of the payload descriptor (RFC 9628 §4.2).
#[derive(Debug, PartialEq, Eq)]
struct Descriptor {
    inter_predicted: bool,
    begins_frame: bool,
    ends_frame: bool,
    spatial_layer: u8,
    /// The base layer's size, from a scalability structure that has one.
    size: Option<(u16, u16)>,
    header_len: usize,
}

impl Descriptor {
    /// ```text
    ///  I P L F B E V Z      I: picture id; P: inter-predicted; L: layer indices;
    ///                       F: flexible mode; B/E: begins/ends a frame; V: SS follows
    ///  M PICTURE ID         (if I) 7 bits, or 15 with M set
    ///  TID U SID D          (if L)
    ///  TL0PICIDX            (if L and not F)
    ///  P_DIFF N             (if P and F) up to 3, while N is set
    ///  SS                   (if V) N_S Y G; N_S+1 × (width, height) if Y; if G, N_G
    ///                       groups of (T U R, then R × P_DIFF)
    /// ```
    fn parse(p: &[u8]) -> Option<Self> {
        let first = *p.first()?;
        let flag = |bit: u8| first & (0x80 >> bit) != 0;
        let (picture_id, inter, layers, flexible) = (flag(0), flag(1), flag(2), flag(3));
        let (begins_frame, ends_frame, scalability) = (flag(4), flag(5), flag(6));
        let mut at = 1;
        if picture_id {
            at += if *p.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        let mut spatial_layer = 0;
        if layers {
            spatial_layer = (*p.get(at)? >> 1) & 0x07;
            at += if flexible { 1 } else { 2 };
        }
        if inter && flexible {
            for _ in 0..3 {
                let diff = *p.get(at)?;
                at += 1;
                if diff & 0x01 == 0 {
                    break;
                }
            }
        }
        let mut size = None;
        if scalability {
            let ss = *p.get(at)?;
            at += 1;
            let spatial_layers = usize::from(ss >> 5) + 1;
            if ss & 0x10 != 0 {
                let base = p.get(at..at + 4)?;
                size = Some((
                    u16::from_be_bytes([base[0], base[1]]),
                    u16::from_be_bytes([base[2], base[3]]),
                ));
                at += 4 * spatial_layers;
            }
            if ss & 0x08 != 0 {
                let groups = *p.get(at)?;
                at += 1;
                for _ in 0..groups {
                    let references = usize::from((*p.get(at)? >> 2) & 0x03);
                    at += 1 + references;
                }
            }
        }
        (at <= p.len()).then_some(Self {
            inter_predicted: inter,
            begins_frame,
            ends_frame,
            spatial_layer,
            size,
            header_len: at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Instant;

    fn packet(seq: u64, timestamp: u64, payload: Vec<u8>) -> OrderedPacket {
        OrderedPacket {
            seq,
            timestamp,
            marker: false,
            payload: Bytes::from(payload),
            arrival: Instant::now(),
        }
    }

    /// A keyframe as browsers send it: picture id (15 bits), B, V with a 640 × 360 base
    /// layer and one group, then the frame; its last packet has E.
    fn keyframe(seq: u64, timestamp: u64) -> Vec<OrderedPacket> {
        let mut first = vec![0x8a, 0x80, 0x01, 0x18, 0x02, 0x80, 0x01, 0x68, 0x01, 0x00];
        first.extend_from_slice(&[0x82, 0x49, 0x83]);
        vec![
            packet(seq, timestamp, first),
            packet(seq + 1, timestamp, vec![0x84, 0x80, 0x01, 0x42, 0x00]),
        ]
    }

    fn interframe(seq: u64, timestamp: u64) -> OrderedPacket {
        // I, P, B, E (one packet), a 7-bit picture id.
        packet(seq, timestamp, vec![0xcc, 0x05, 0x86, 0x00])
    }

    #[test]
    fn a_keyframe_carries_its_size_and_loses_its_descriptors() {
        let mut depacketizer = Vp9Depacketizer::default();
        let packets = keyframe(1, 3_000);
        assert_eq!(depacketizer.push(&packets[0]), None);
        let event = depacketizer.push(&packets[1]);
        let expected = VideoFrame {
            timestamp: 3_000,
            keyframe_size: Some((640, 360)),
            data: vec![0x82, 0x49, 0x83, 0x42, 0x00],
        };
        assert_eq!(event, Some(VideoEvent::Frame(expected)));
        let next = depacketizer.push(&interframe(3, 6_000));
        assert!(matches!(next, Some(VideoEvent::Frame(f)) if f.keyframe_size.is_none()));
    }

    #[test]
    fn frames_wait_for_a_keyframe_at_the_start_and_after_a_loss() {
        let mut depacketizer = Vp9Depacketizer::default();
        assert_eq!(
            depacketizer.push(&interframe(1, 0)),
            Some(VideoEvent::KeyframeNeeded)
        );
        for p in keyframe(2, 3_000) {
            depacketizer.push(&p);
        }
        assert_eq!(depacketizer.lost(), Some(VideoEvent::KeyframeNeeded));
        assert_eq!(
            depacketizer.push(&interframe(5, 6_000)),
            Some(VideoEvent::KeyframeNeeded)
        );
        let truncated = packet(6, 9_000, vec![0x88]);
        assert_eq!(
            depacketizer.push(&truncated),
            Some(VideoEvent::KeyframeNeeded)
        );
        // An upper spatial layer is left out, not taken for a loss.
        let upper = packet(7, 9_000, vec![0x2c, 0x02, 0x00, 0x11]);
        assert_eq!(depacketizer.push(&upper), None);
    }
}
