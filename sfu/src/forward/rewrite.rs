//! Per-subscriber rewriting of sequence numbers and timestamps.
//!
//! A subscriber sees one outgoing stream per subscribed track, whatever the SFU forwards into
//! it: the publisher's layers (each its own SSRC, sequence space and timestamp base), or
//! the same layer again after a pause. The SSRC is the subscriber's own send stream (str0m
//! allocates it per m-line), so only the numbers need rewriting: every source is mapped with
//! an offset so the outgoing sequence continues at `last + 1` and the timestamp advances by
//! the wall time since the last packet. A switch (layer change, resume after pause or mute)
//! starts a new mapping at the next packet; packets of the new source older than that first
//! one are dropped, because their numbers would collide with what was already sent.
//!
//! Numbers are str0m's extended 64-bit values (no wrap handling needed here). The first
//! outgoing sequence number is below 65,536 as str0m expects of a stream with no signalled
//! rollover counter.

use std::time::Instant;

/// One outgoing packet's rewritten numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rewritten {
    /// Extended outgoing sequence number.
    pub seq: u64,
    /// Extended outgoing RTP timestamp.
    pub time: u64,
}

/// The mapping from one incoming source to the outgoing stream.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    /// Outgoing = incoming + offset (wrapping: the offset may be "negative").
    seq_offset: u64,
    time_offset: u64,
    /// The first incoming sequence number of this mapping; older packets are dropped.
    first_seq: u64,
}

/// Rewrites one subscriber's view of one track. See the module docs.
#[derive(Debug)]
pub struct Rewriter {
    clock_rate: u64,
    mapping: Option<Mapping>,
    /// The highest outgoing (seq, time) sent and when, to continue from on a switch.
    last: Option<(u64, u64, Instant)>,
    start_seq: u64,
    start_time: u64,
}

impl Rewriter {
    /// A rewriter for a codec with `clock_rate` Hz RTP time (48 kHz Opus, 90 kHz video).
    /// `start_seq` (taken modulo 2^15, so rollover is far away) and `start_time` are the
    /// first outgoing numbers; pass random values, as RFC 3550 asks.
    pub fn new(clock_rate: u32, start_seq: u16, start_time: u32) -> Rewriter {
        Rewriter {
            clock_rate: u64::from(clock_rate),
            mapping: None,
            last: None,
            start_seq: u64::from(start_seq & 0x7fff),
            start_time: u64::from(start_time),
        }
    }

    /// Starts a new mapping at the next packet: the next [`Rewriter::rewrite`] continues the
    /// outgoing numbers seamlessly from what was sent last.
    pub fn switch(&mut self) {
        self.mapping = None;
    }

    /// The outgoing numbers for an incoming packet, or `None` to drop it (older than the
    /// current mapping's first packet).
    pub fn rewrite(&mut self, seq: u64, time: u64, now: Instant) -> Option<Rewritten> {
        let mapping = match self.mapping {
            Some(m) => m,
            None => {
                let m = self.start_mapping(seq, time, now);
                self.mapping = Some(m);
                m
            }
        };
        if seq < mapping.first_seq {
            return None;
        }
        let out = Rewritten {
            seq: seq.wrapping_add(mapping.seq_offset),
            time: time.wrapping_add(mapping.time_offset),
        };
        match self.last {
            Some((last_seq, _, _)) if last_seq >= out.seq => {}
            _ => self.last = Some((out.seq, out.time, now)),
        }
        Some(out)
    }

    fn start_mapping(&self, seq: u64, time: u64, now: Instant) -> Mapping {
        let (out_seq, out_time) = match self.last {
            None => (self.start_seq, self.start_time),
            Some((last_seq, last_time, at)) => {
                let elapsed = now.saturating_duration_since(at);
                let ticks = (elapsed.as_micros() as u64 * self.clock_rate / 1_000_000).max(1);
                (last_seq + 1, last_time + ticks)
            }
        };
        Mapping {
            seq_offset: out_seq.wrapping_sub(seq),
            time_offset: out_time.wrapping_sub(time),
            first_seq: seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn first_packet_starts_at_the_given_numbers_and_keeps_spacing() {
        let t0 = Instant::now();
        let mut r = Rewriter::new(90_000, 1000, 5000);
        assert_eq!(
            r.rewrite(70_000, 900_000, t0),
            Some(Rewritten {
                seq: 1000,
                time: 5000
            })
        );
        assert_eq!(
            r.rewrite(70_001, 903_000, t0),
            Some(Rewritten {
                seq: 1001,
                time: 8000
            })
        );
        // Reordered packets of the same mapping keep their place.
        assert_eq!(
            r.rewrite(70_003, 906_000, t0),
            Some(Rewritten {
                seq: 1003,
                time: 11_000
            })
        );
        assert_eq!(
            r.rewrite(70_002, 906_000, t0),
            Some(Rewritten {
                seq: 1002,
                time: 11_000
            })
        );
    }

    #[test]
    fn start_sequence_stays_below_the_first_rollover() {
        let mut r = Rewriter::new(48_000, u16::MAX, 0);
        let out = r.rewrite(5, 0, Instant::now()).unwrap();
        assert!(out.seq < 65_536 / 2);
    }

    #[test]
    fn switch_continues_seamlessly_from_another_source() {
        let t0 = Instant::now();
        let mut r = Rewriter::new(90_000, 10, 0);
        r.rewrite(500, 1_000, t0).unwrap();
        let last = r.rewrite(501, 4_000, t0).unwrap();
        // A different layer: unrelated numbers, 100 ms later.
        r.switch();
        let t1 = t0 + Duration::from_millis(100);
        let first = r.rewrite(9_000, 77_777, t1).unwrap();
        assert_eq!(first.seq, last.seq + 1);
        assert_eq!(first.time, last.time + 9_000);
        let next = r.rewrite(9_001, 80_777, t1).unwrap();
        assert_eq!(
            next,
            Rewritten {
                seq: first.seq + 1,
                time: first.time + 3_000
            }
        );
    }

    #[test]
    fn packets_older_than_the_switch_are_dropped() {
        let t0 = Instant::now();
        let mut r = Rewriter::new(90_000, 10, 0);
        r.rewrite(100, 0, t0).unwrap();
        r.switch();
        r.rewrite(200, 0, t0).unwrap();
        assert_eq!(r.rewrite(199, 0, t0), None);
    }

    #[test]
    fn a_switch_back_to_the_same_source_after_a_pause_closes_the_gap() {
        let t0 = Instant::now();
        let mut r = Rewriter::new(48_000, 0, 0);
        let a = r.rewrite(10, 960, t0).unwrap();
        r.switch();
        // 50 packets were not forwarded (muted); the subscriber sees no loss.
        let t1 = t0 + Duration::from_secs(1);
        let b = r.rewrite(60, 960 * 51, t1).unwrap();
        assert_eq!(b.seq, a.seq + 1);
        assert_eq!(b.time, a.time + 48_000);
    }
}
