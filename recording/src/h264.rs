//! H.264 access units out of RTP packets (RFC 6184), as an Annex-B byte stream.
//!
//! Browsers send H.264 in packetization mode 1: a NAL unit per packet, several small ones
//! aggregated (STAP-A), or a large one in fragments (FU-A). An access unit (a picture) is
//! the NAL units of one timestamp, ending with the marker bit. Each is written with Annex-B
//! start codes (`00 00 00 01`) in front of every NAL unit: the raw `.h264` stream that
//! `ffmpeg` and players read without a container.
//!
//! As for VP8 ([`crate::vp8`]), a unit that misses a packet cannot be decoded, nor can what
//! follows it up to the next IDR picture (a keyframe, which browsers send with its SPS and
//! PPS): so after a loss, units are dropped until an IDR and the caller is told to ask for
//! one; the stream starts at an IDR.

use crate::reorder::OrderedPacket;

/// An access unit bigger than this is refused (see `vp8::MAX_FRAME_BYTES`).
const MAX_UNIT_BYTES: usize = 4 << 20;
const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// NAL unit types (RFC 6184 §5.2, H.264 Table 7-1).
const IDR: u8 = 5;
const STAP_A: u8 = 24;
const FU_A: u8 = 28;

/// A whole access unit in Annex-B form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct H264Unit {
    /// The extended RTP timestamp (90 kHz).
    pub timestamp: u64,
    /// Whether it holds an IDR picture (a decoder can start here).
    pub idr: bool,
    /// Start code, NAL unit, start code, NAL unit, ...
    pub data: Vec<u8>,
}

/// What a packet or a loss led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum H264Event {
    /// A decodable access unit.
    Unit(H264Unit),
    /// A unit was lost or dropped: ask the publisher for a keyframe.
    KeyframeNeeded,
}

/// Assembles the access units of one H.264 track from its packets in sequence order.
#[derive(Debug)]
pub struct H264Depacketizer {
    unit: Option<Partial>,
    /// Inside a FU-A: its NAL unit is being added to.
    in_fragment: bool,
    waiting_for_idr: bool,
}

#[derive(Debug)]
struct Partial {
    timestamp: u64,
    idr: bool,
    data: Vec<u8>,
}

impl Default for H264Depacketizer {
    fn default() -> Self {
        Self {
            unit: None,
            in_fragment: false,
            waiting_for_idr: true,
        }
    }
}

impl H264Depacketizer {
    /// Takes the next packet in sequence; a unit when it completes one.
    pub fn push(&mut self, packet: &OrderedPacket) -> Option<H264Event> {
        let payload = &packet.payload[..];
        let Some(&header) = payload.first() else {
            return None; // padding
        };
        if self
            .unit
            .as_ref()
            .is_some_and(|u| u.timestamp != packet.timestamp)
        {
            // The last unit never got its marker: something of it is missing.
            self.unit = None;
            self.in_fragment = false;
            self.waiting_for_idr = true;
        }
        let unit = self.unit.get_or_insert_with(|| Partial {
            timestamp: packet.timestamp,
            idr: false,
            data: Vec::new(),
        });
        let added = match header & 0x1f {
            1..=23 => {
                self.in_fragment = false;
                append_nal(unit, payload)
            }
            STAP_A => {
                self.in_fragment = false;
                append_aggregate(unit, &payload[1..])
            }
            FU_A => append_fragment(unit, &mut self.in_fragment, payload),
            _ => false,
        };
        if !added || unit.data.len() > MAX_UNIT_BYTES {
            return self.lost();
        }
        if !packet.marker {
            return None;
        }
        let Partial {
            timestamp,
            idr,
            data,
        } = self.unit.take()?;
        self.in_fragment = false;
        if idr {
            self.waiting_for_idr = false;
        } else if self.waiting_for_idr {
            return Some(H264Event::KeyframeNeeded);
        }
        Some(H264Event::Unit(H264Unit {
            timestamp,
            idr,
            data,
        }))
    }

    /// Packets were given up on: the unit in progress, and every unit up to the next IDR,
    /// cannot be decoded.
    pub fn lost(&mut self) -> Option<H264Event> {
        self.unit = None;
        self.in_fragment = false;
        self.waiting_for_idr = true;
        Some(H264Event::KeyframeNeeded)
    }
}

/// A whole NAL unit, behind its start code.
fn append_nal(unit: &mut Partial, nal: &[u8]) -> bool {
    let Some(&header) = nal.first() else {
        return false;
    };
    unit.idr |= header & 0x1f == IDR;
    unit.data.extend_from_slice(&START_CODE);
    unit.data.extend_from_slice(nal);
    true
}

/// STAP-A: NAL units, each behind its 16-bit size.
fn append_aggregate(unit: &mut Partial, mut rest: &[u8]) -> bool {
    while !rest.is_empty() {
        let Some(size) = rest
            .get(..2)
            .map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
        else {
            return false;
        };
        let Some(nal) = rest.get(2..2 + size) else {
            return false;
        };
        if !append_nal(unit, nal) {
            return false;
        }
        rest = &rest[2 + size..];
    }
    true
}

/// FU-A: indicator, FU header (S, E, type), then a piece of one NAL unit. The first piece
/// (S) opens it with the NAL header rebuilt from the two; the rest must follow without a
/// gap (the reorder buffer reports any as lost).
fn append_fragment(unit: &mut Partial, in_fragment: &mut bool, payload: &[u8]) -> bool {
    let (Some(&indicator), Some(&fu), Some(piece)) =
        (payload.first(), payload.get(1), payload.get(2..))
    else {
        return false;
    };
    let (start, end) = (fu & 0x80 != 0, fu & 0x40 != 0);
    if start {
        let header = indicator & 0xe0 | fu & 0x1f;
        unit.idr |= header & 0x1f == IDR;
        unit.data.extend_from_slice(&START_CODE);
        unit.data.push(header);
    } else if !*in_fragment {
        return false; // a middle or end piece whose start is missing
    }
    unit.data.extend_from_slice(piece);
    *in_fragment = !end;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::Instant;

    const SPS: &[u8] = &[0x67, 0x42, 0xc0, 0x1f];
    const PPS: &[u8] = &[0x68, 0xce, 0x3c, 0x80];
    const IDR_SLICE: &[u8] = &[0x65, 0x88, 0x84, 0x00, 0x33, 0x44, 0x55];
    const P_SLICE: &[u8] = &[0x41, 0x9a, 0x02, 0x03];

    fn packet(seq: u64, timestamp: u64, marker: bool, payload: Vec<u8>) -> OrderedPacket {
        OrderedPacket {
            seq,
            timestamp,
            marker,
            payload: Bytes::from(payload),
            arrival: Instant::now(),
        }
    }

    fn stap_a(nals: &[&[u8]]) -> Vec<u8> {
        let mut payload = vec![0x78];
        for nal in nals {
            payload.extend_from_slice(&(nal.len() as u16).to_be_bytes());
            payload.extend_from_slice(nal);
        }
        payload
    }

    fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|n| [&START_CODE[..], n].concat())
            .collect()
    }

    #[test]
    fn an_aggregate_and_fragments_make_one_annex_b_unit() {
        let mut depacketizer = H264Depacketizer::default();
        // SPS + PPS aggregated, then the IDR slice in three FU-A pieces.
        let (indicator, idr_type) = (IDR_SLICE[0] & 0xe0 | FU_A, IDR_SLICE[0] & 0x1f);
        let pieces = [
            vec![indicator, 0x80 | idr_type, 0x88, 0x84],
            vec![indicator, idr_type, 0x00, 0x33],
            vec![indicator, 0x40 | idr_type, 0x44, 0x55],
        ];
        assert_eq!(
            depacketizer.push(&packet(1, 90, false, stap_a(&[SPS, PPS]))),
            None
        );
        assert_eq!(
            depacketizer.push(&packet(2, 90, false, pieces[0].clone())),
            None
        );
        assert_eq!(
            depacketizer.push(&packet(3, 90, false, pieces[1].clone())),
            None
        );
        let unit = depacketizer.push(&packet(4, 90, true, pieces[2].clone()));
        assert_eq!(
            unit,
            Some(H264Event::Unit(H264Unit {
                timestamp: 90,
                idr: true,
                data: annex_b(&[SPS, PPS, IDR_SLICE]),
            }))
        );
        let next = depacketizer.push(&packet(5, 3_090, true, P_SLICE.to_vec()));
        assert!(
            matches!(next, Some(H264Event::Unit(u)) if !u.idr && u.data == annex_b(&[P_SLICE]))
        );
    }

    #[test]
    fn units_wait_for_an_idr_at_the_start_and_after_a_loss() {
        let mut depacketizer = H264Depacketizer::default();
        let p_frame = |seq, ts| packet(seq, ts, true, P_SLICE.to_vec());
        assert_eq!(
            depacketizer.push(&p_frame(1, 0)),
            Some(H264Event::KeyframeNeeded)
        );
        let idr = packet(2, 3_000, true, stap_a(&[SPS, PPS, IDR_SLICE]));
        assert!(matches!(depacketizer.push(&idr), Some(H264Event::Unit(u)) if u.idr));
        assert!(matches!(
            depacketizer.push(&p_frame(3, 6_000)),
            Some(H264Event::Unit(_))
        ));
        assert_eq!(depacketizer.lost(), Some(H264Event::KeyframeNeeded));
        assert_eq!(
            depacketizer.push(&p_frame(5, 9_000)),
            Some(H264Event::KeyframeNeeded)
        );
        // A fragment whose start is missing is a loss too.
        let middle = packet(6, 12_000, true, vec![FU_A, 0x45, 0x01]);
        assert_eq!(depacketizer.push(&middle), Some(H264Event::KeyframeNeeded));
        let truncated = packet(7, 15_000, true, vec![0x78, 0x00, 0x09, 0x67]);
        assert_eq!(
            depacketizer.push(&truncated),
            Some(H264Event::KeyframeNeeded)
        );
    }
}
