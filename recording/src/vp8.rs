//! VP8 frames out of RTP packets (RFC 7741), ready for a container.
//!
//! Each packet starts with a payload descriptor (RFC 7741 §4.2) that says whether it
//! starts a partition; a frame is the packets of one timestamp, from the one that starts
//! partition 0 to the one with the marker bit. A frame that misses a packet cannot be
//! decoded, and neither can the frames that refer to it, up to the next keyframe: so after
//! any loss the [`Vp8Depacketizer`] drops frames until a keyframe, and says each time that
//! one is needed, which the caller turns into a (throttled) keyframe request. The first
//! frame it hands out is a keyframe, so a file starts where a decoder can.

pub use crate::ivf::VideoFrame;
use crate::reorder::OrderedPacket;

/// A frame bigger than this is refused: a publisher that never sets the marker bit must
/// not grow memory without bound. A 1080p keyframe is a few hundred kilobytes.
const MAX_FRAME_BYTES: usize = 4 << 20;

/// What a packet or a loss led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vp8Event {
    /// A decodable frame.
    Frame(VideoFrame),
    /// A frame was lost or dropped: ask the publisher for a keyframe.
    KeyframeNeeded,
}

/// Assembles the frames of one VP8 track from its packets in sequence order.
#[derive(Debug)]
pub struct Vp8Depacketizer {
    frame: Option<Partial>,
    /// Frames are dropped until a keyframe: at the start, and after a loss.
    waiting_for_keyframe: bool,
}

#[derive(Debug)]
struct Partial {
    timestamp: u64,
    data: Vec<u8>,
}

impl Default for Vp8Depacketizer {
    fn default() -> Self {
        Self {
            frame: None,
            waiting_for_keyframe: true,
        }
    }
}

impl Vp8Depacketizer {
    /// Takes the next packet in sequence; a frame when it completes one.
    pub fn push(&mut self, packet: &OrderedPacket) -> Option<Vp8Event> {
        // Padding (bandwidth probes) carries no video and breaks nothing.
        if packet.payload.is_empty() {
            return None;
        }
        let Some(descriptor) = Descriptor::parse(&packet.payload) else {
            return self.lost();
        };
        let payload = &packet.payload[descriptor.header_len..];
        if payload.is_empty() {
            return None;
        }
        if descriptor.starts_frame {
            let interrupted = self.frame.replace(Partial {
                timestamp: packet.timestamp,
                data: Vec::new(),
            });
            if interrupted.is_some() {
                // The previous frame never got its marker: something of it is missing.
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
        if !packet.marker {
            return None;
        }
        let Partial { timestamp, data } = self.frame.take()?;
        self.complete(timestamp, data)
    }

    /// Packets were given up on (the reorder buffer's `Lost`): the frame in progress, and
    /// every frame up to the next keyframe, cannot be decoded.
    pub fn lost(&mut self) -> Option<Vp8Event> {
        self.frame = None;
        self.waiting_for_keyframe = true;
        Some(Vp8Event::KeyframeNeeded)
    }

    /// A complete frame: handed out if it can be decoded, else a keyframe is needed.
    fn complete(&mut self, timestamp: u64, data: Vec<u8>) -> Option<Vp8Event> {
        // The frame tag's P bit (RFC 6386 §9.1): 0 for a keyframe.
        let keyframe = data.first().is_some_and(|tag| tag & 1 == 0);
        let keyframe_size = if keyframe {
            let Some(size) = keyframe_size(&data) else {
                return self.lost();
            };
            self.waiting_for_keyframe = false;
            Some(size)
        } else if self.waiting_for_keyframe {
            return Some(Vp8Event::KeyframeNeeded);
        } else {
            None
        };
        let frame = VideoFrame {
            timestamp,
            keyframe_size,
            data,
        };
        Some(Vp8Event::Frame(frame))
    }
}

/// The width and height of a keyframe (RFC 6386 §9.1): a 3-byte frame tag, the start code
/// 9d 01 2a, then two 16-bit little-endian fields whose top 2 bits are a scaling mode.
fn keyframe_size(frame: &[u8]) -> Option<(u16, u16)> {
    let header = frame.get(3..10)?;
    if header[..3] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([header[3], header[4]]) & 0x3fff;
    let height = u16::from_le_bytes([header[5], header[6]]) & 0x3fff;
    Some((width, height))
}

/// The parts of the VP8 payload descriptor (RFC 7741 §4.2) that assembling frames needs.
struct Descriptor {
    /// S = 1 and partition index 0: the first packet of a frame.
    starts_frame: bool,
    header_len: usize,
}

impl Descriptor {
    /// ```text
    ///  X R N S R PID    X: extensions follow; S: start of partition PID
    ///  I L T K RSV      (if X) which optional fields follow
    ///  M PictureID      (if I) 7 bits, or 15 with M set (one more byte)
    ///  TL0PICIDX        (if L)
    ///  TID Y KEYIDX     (if T or K)
    /// ```
    fn parse(payload: &[u8]) -> Option<Self> {
        let first = *payload.first()?;
        let starts_frame = first & 0x10 != 0 && first & 0x07 == 0;
        let mut len = 1;
        if first & 0x80 != 0 {
            let extensions = *payload.get(len)?;
            len += 1;
            if extensions & 0x80 != 0 {
                let picture_id = *payload.get(len)?;
                len += if picture_id & 0x80 != 0 { 2 } else { 1 };
            }
            if extensions & 0x40 != 0 {
                len += 1;
            }
            if extensions & 0x30 != 0 {
                len += 1;
            }
        }
        (len <= payload.len()).then_some(Self {
            starts_frame,
            header_len: len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Instant;

    /// A keyframe's first bytes: frame tag with P = 0, start code, 320 × 240.
    const KEY: [u8; 10] = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00];
    /// An interframe's frame tag (P = 1).
    const INTER: [u8; 3] = [0x31, 0x01, 0x00];

    /// The packets of one frame: the first with S = 1, a 15-bit picture id as browsers send,
    /// the last with the marker bit. `body` is split into `parts`.
    fn frame_packets(seq: u64, timestamp: u64, body: &[u8], parts: usize) -> Vec<OrderedPacket> {
        let chunks: Vec<&[u8]> = body.chunks(body.len().div_ceil(parts)).collect();
        let count = chunks.len();
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let start = if i == 0 { 0x10 } else { 0x00 };
                let mut payload = vec![0x80 | start, 0x80, 0x80 | 0x12, 0x34];
                payload.extend_from_slice(chunk);
                OrderedPacket {
                    seq: seq + i as u64,
                    timestamp,
                    marker: i + 1 == count,
                    payload: Bytes::from(payload),
                    arrival: Instant::now(),
                }
            })
            .collect()
    }

    fn body(header: &[u8], len: usize) -> Vec<u8> {
        let mut body = header.to_vec();
        body.resize(len, 0xAB);
        body
    }

    fn push_all(depacketizer: &mut Vp8Depacketizer, packets: &[OrderedPacket]) -> Vec<Vp8Event> {
        packets
            .iter()
            .filter_map(|p| depacketizer.push(p))
            .collect()
    }

    #[test]
    fn a_frame_is_its_packets_without_descriptors() {
        let mut depacketizer = Vp8Depacketizer::default();
        let key = body(&KEY, 3_000);
        let events = push_all(&mut depacketizer, &frame_packets(0, 90_000, &key, 3));
        let expected = VideoFrame {
            timestamp: 90_000,
            keyframe_size: Some((320, 240)),
            data: key,
        };
        assert_eq!(events, [Vp8Event::Frame(expected)]);
    }

    #[test]
    fn frames_before_the_first_keyframe_are_dropped() {
        let mut depacketizer = Vp8Depacketizer::default();
        let events = push_all(
            &mut depacketizer,
            &frame_packets(0, 0, &body(&INTER, 100), 1),
        );
        assert_eq!(events, [Vp8Event::KeyframeNeeded]);
        let events = push_all(
            &mut depacketizer,
            &frame_packets(1, 3_000, &body(&KEY, 100), 1),
        );
        assert!(matches!(&events[..], [Vp8Event::Frame(f)] if f.keyframe_size.is_some()));
        let events = push_all(
            &mut depacketizer,
            &frame_packets(2, 6_000, &body(&INTER, 100), 1),
        );
        assert!(matches!(&events[..], [Vp8Event::Frame(f)] if f.keyframe_size.is_none()));
    }

    #[test]
    fn after_a_loss_frames_are_dropped_until_a_keyframe() {
        let mut depacketizer = Vp8Depacketizer::default();
        push_all(&mut depacketizer, &frame_packets(0, 0, &body(&KEY, 100), 1));
        let mut broken = frame_packets(1, 3_000, &body(&INTER, 3_000), 3);
        broken.remove(1);
        assert_eq!(depacketizer.push(&broken[0]), None);
        assert_eq!(depacketizer.lost(), Some(Vp8Event::KeyframeNeeded));
        let tail = depacketizer.push(&broken[1]);
        assert_eq!(
            tail,
            Some(Vp8Event::KeyframeNeeded),
            "the tail of a broken frame is dropped too"
        );

        let events = push_all(
            &mut depacketizer,
            &frame_packets(4, 6_000, &body(&INTER, 100), 1),
        );
        assert_eq!(
            events,
            [Vp8Event::KeyframeNeeded],
            "a whole interframe refers to the lost one"
        );
        let events = push_all(
            &mut depacketizer,
            &frame_packets(5, 9_000, &body(&KEY, 100), 2),
        );
        assert!(matches!(&events[..], [Vp8Event::Frame(f)] if f.keyframe_size == Some((320, 240))));
    }

    #[test]
    fn a_frame_whose_marker_never_came_is_dropped() {
        let mut depacketizer = Vp8Depacketizer::default();
        push_all(&mut depacketizer, &frame_packets(0, 0, &body(&KEY, 100), 1));
        let mut unfinished = frame_packets(1, 3_000, &body(&INTER, 100), 1);
        unfinished[0].marker = false;
        assert_eq!(push_all(&mut depacketizer, &unfinished), []);
        let events = push_all(
            &mut depacketizer,
            &frame_packets(2, 6_000, &body(&INTER, 100), 1),
        );
        assert_eq!(events, [Vp8Event::KeyframeNeeded]);
    }

    #[test]
    fn malformed_packets_count_as_lost_and_padding_does_not() {
        let mut depacketizer = Vp8Depacketizer::default();
        push_all(&mut depacketizer, &frame_packets(0, 0, &body(&KEY, 100), 1));
        let mut padding = frame_packets(1, 3_000, &body(&INTER, 100), 1).remove(0);
        padding.payload = Bytes::new();
        assert_eq!(depacketizer.push(&padding), None, "padding is not a loss");
        let mut truncated = frame_packets(1, 3_000, &body(&INTER, 100), 1).remove(0);
        truncated.payload = Bytes::from_static(&[0x90, 0x80]);
        assert_eq!(
            depacketizer.push(&truncated),
            Some(Vp8Event::KeyframeNeeded)
        );
        let mut bad_key = body(&KEY, 100);
        bad_key[3] = 0;
        let events = push_all(&mut depacketizer, &frame_packets(2, 6_000, &bad_key, 1));
        assert_eq!(
            events,
            [Vp8Event::KeyframeNeeded],
            "a keyframe without its start code"
        );
    }

    #[test]
    fn descriptors_of_every_shape_are_skipped() {
        // No extension; then I with a 7-bit picture id, L, and T/K.
        for (descriptor, len) in [(&[0x10][..], 1), (&[0x90, 0xE0, 0x05, 0x01, 0x20][..], 5)] {
            let mut payload = descriptor.to_vec();
            payload.extend_from_slice(&body(&KEY, 20));
            let parsed = Descriptor::parse(&payload).unwrap();
            assert!(parsed.starts_frame);
            assert_eq!(parsed.header_len, len);
        }
        let not_first_partition = [0x11, 0x00];
        assert!(
            !Descriptor::parse(&not_first_partition)
                .unwrap()
                .starts_frame
        );
    }
}
