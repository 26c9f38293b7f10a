//! Puts one track's RTP packets back in order before they are written.
//!
//! Packets reach the SFU reordered, duplicated (a retransmission that crossed its original)
//! or not at all. Writers need them in sequence, and need to know where one is missing: a
//! VP8 frame with a hole cannot be decoded. So each track (one SSRC) gets a
//! [`ReorderBuffer`] that holds packets behind a hole for a while and then gives the hole up.
//!
//! It is sans-IO like the SFU's cores: feed [`Input`]s with the current time through
//! [`ReorderBuffer::handle_input`], then call [`ReorderBuffer::poll_output`] until it returns
//! [`Output::Timeout`]. It reads no clock; it wakes at the instant that `Timeout` names.
//!
//! Sequence numbers (16 bits) and timestamps (32 bits) wrap; the buffer extends both to
//! 64 bits, relative to the highest sequence number seen, so the writers never see a wrap.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;

/// An RTP packet as the SFU receives it: the header fields recording needs and the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    pub seq: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}

/// A packet in sequence order, its numbers extended so that they never wrap.
///
/// The first packet of a track is placed in the second cycle (`seq` 65,536 + its number,
/// `timestamp` 2³² + its timestamp), so values stay positive whatever comes before it.
/// Only differences between them mean anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderedPacket {
    pub seq: u64,
    pub timestamp: u64,
    pub marker: bool,
    pub payload: Bytes,
    /// When the packet reached the buffer: writers bound gaps in RTP time by wall time.
    pub arrival: Instant,
}

/// What happened since the last call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A packet arrived.
    Packet(RtpPacket),
    /// Only time passed (the instant of an earlier [`Output::Timeout`] came).
    Timeout,
    /// The track ended: release everything held, giving up on every hole.
    Flush,
}

/// What the buffer hands back, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The next packet in sequence.
    Packet(OrderedPacket),
    /// `count` packets from sequence number `first` on were given up on.
    Lost { first: u64, count: u64 },
    /// Nothing more to hand out now; call again after this instant (`None`: after the next
    /// packet).
    Timeout(Option<Instant>),
}

/// The reorder buffer of one track (one SSRC: a publisher that reconnects gets a new one).
#[derive(Debug)]
pub struct ReorderBuffer {
    /// How many sequence numbers past the next one to emit a packet may be held.
    capacity: u64,
    hole_timeout: Duration,
    now: Option<Instant>,
    /// Extended sequence number and timestamp of the highest packet so far.
    highest: Option<(u64, u64)>,
    /// The sequence number to emit next.
    next: u64,
    /// Holes below this are given up: a packet arrived `capacity` or more past them.
    release_below: u64,
    flushing: bool,
    held: BTreeMap<u64, OrderedPacket>,
}

impl ReorderBuffer {
    /// A buffer that holds at most `capacity` sequence numbers past a hole, and a packet
    /// behind a hole at most `hole_timeout`.
    ///
    /// Audio at 50 packets/s: 64 packets and 200 ms. Video sends a keyframe as a burst of
    /// hundreds of packets, so it needs a wider window (512) for a retransmission to land.
    pub fn new(capacity: u16, hole_timeout: Duration) -> Self {
        Self {
            capacity: u64::from(capacity.max(1)),
            hole_timeout,
            now: None,
            highest: None,
            next: 0,
            release_below: 0,
            flushing: false,
            held: BTreeMap::new(),
        }
    }

    /// Feeds what happened at `now`. Follow with [`Self::poll_output`] until it returns
    /// [`Output::Timeout`].
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        self.now = Some(now);
        match input {
            Input::Packet(packet) => self.insert(now, packet),
            Input::Timeout => {}
            Input::Flush => self.flushing = true,
        }
    }

    /// The next packet or loss in sequence, or when to call again.
    pub fn poll_output(&mut self) -> Output {
        let Some(&first_held) = self.held.keys().next() else {
            self.flushing = false;
            return Output::Timeout(None);
        };
        if first_held == self.next {
            self.next += 1;
            return self
                .held
                .pop_first()
                .map_or(Output::Timeout(None), |(_, p)| Output::Packet(p));
        }
        let deadline = self.deadline();
        let expired = self.now.zip(deadline).is_some_and(|(now, d)| now >= d);
        let give_up_to = if self.flushing || expired {
            first_held
        } else {
            self.release_below.min(first_held)
        };
        if give_up_to > self.next {
            let lost = Output::Lost {
                first: self.next,
                count: give_up_to - self.next,
            };
            self.next = give_up_to;
            return lost;
        }
        Output::Timeout(deadline)
    }

    fn insert(&mut self, now: Instant, packet: RtpPacket) {
        let Some((seq, timestamp)) = self.extend(&packet) else {
            return;
        };
        // Already emitted or given up on: a late retransmission or a duplicate.
        if seq < self.next || self.held.contains_key(&seq) {
            return;
        }
        if seq >= self.next + self.capacity {
            self.release_below = self.release_below.max(seq + 1 - self.capacity);
        }
        let RtpPacket {
            marker, payload, ..
        } = packet;
        let ordered = OrderedPacket {
            seq,
            timestamp,
            marker,
            payload,
            arrival: now,
        };
        self.held.insert(seq, ordered);
    }

    /// The packet's sequence number and timestamp extended to 64 bits, relative to the
    /// highest packet so far (the nearest value modulo 2¹⁶ and 2³²).
    fn extend(&mut self, packet: &RtpPacket) -> Option<(u64, u64)> {
        let Some((top_seq, top_ts)) = self.highest else {
            let first = (
                1 << 16 | u64::from(packet.seq),
                1 << 32 | u64::from(packet.timestamp),
            );
            self.highest = Some(first);
            self.next = first.0;
            return Some(first);
        };
        let seq_delta = packet.seq.wrapping_sub(top_seq as u16) as i16;
        let ts_delta = packet.timestamp.wrapping_sub(top_ts as u32) as i32;
        let seq = top_seq.checked_add_signed(i64::from(seq_delta))?;
        let timestamp = top_ts.checked_add_signed(i64::from(ts_delta))?;
        if seq > top_seq {
            self.highest = Some((seq, timestamp));
        }
        Some((seq, timestamp))
    }

    /// When the hole at the front is given up: the packet waiting longest behind it has
    /// waited `hole_timeout`.
    fn deadline(&self) -> Option<Instant> {
        let oldest = self.held.values().map(|p| p.arrival).min()?;
        Some(oldest + self.hole_timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(200);

    fn packet(seq: u16, timestamp: u32) -> RtpPacket {
        RtpPacket {
            seq,
            timestamp,
            marker: false,
            payload: Bytes::from(vec![seq as u8]),
        }
    }

    /// Feeds `input` and collects everything until the buffer waits.
    fn feed(
        buffer: &mut ReorderBuffer,
        now: Instant,
        input: Input,
    ) -> (Vec<Output>, Option<Instant>) {
        buffer.handle_input(now, input);
        let mut out = Vec::new();
        loop {
            match buffer.poll_output() {
                Output::Timeout(at) => return (out, at),
                o => out.push(o),
            }
        }
    }

    /// The sequence numbers (relative to the first packet) and losses of the outputs.
    fn summary(out: &[Output], base: u64) -> Vec<String> {
        out.iter()
            .map(|o| match o {
                Output::Packet(p) => format!("{}", p.seq - base),
                Output::Lost { first, count } => format!("lost {}+{count}", first - base),
                Output::Timeout(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn packets_in_order_pass_straight_through() {
        let mut buffer = ReorderBuffer::new(64, TIMEOUT);
        let now = Instant::now();
        for seq in 0..3 {
            let (out, wake) = feed(
                &mut buffer,
                now,
                Input::Packet(packet(seq, u32::from(seq) * 960)),
            );
            assert_eq!(summary(&out, 1 << 16), [seq.to_string()]);
            assert_eq!(wake, None, "nothing held, nothing to wait for");
        }
    }

    #[test]
    fn a_reordered_packet_is_waited_for_and_duplicates_are_dropped() {
        let mut buffer = ReorderBuffer::new(64, TIMEOUT);
        let t0 = Instant::now();
        let base = 1 << 16 | 100;
        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(100, 0)));
        assert_eq!(summary(&out, base), ["0"]);

        let (out, wake) = feed(&mut buffer, t0, Input::Packet(packet(102, 1920)));
        assert!(out.is_empty(), "102 waits for 101");
        assert_eq!(wake, Some(t0 + TIMEOUT));

        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(102, 1920)));
        assert!(out.is_empty(), "a duplicate of a held packet is dropped");

        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(101, 960)));
        assert_eq!(summary(&out, base), ["1", "2"]);

        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(101, 960)));
        assert!(
            out.is_empty(),
            "a duplicate of an emitted packet is dropped"
        );
    }

    #[test]
    fn a_hole_is_given_up_after_the_timeout() {
        let mut buffer = ReorderBuffer::new(64, TIMEOUT);
        let t0 = Instant::now();
        feed(&mut buffer, t0, Input::Packet(packet(0, 0)));
        feed(&mut buffer, t0, Input::Packet(packet(3, 2880)));
        let (out, wake) = feed(&mut buffer, t0 + TIMEOUT / 2, Input::Timeout);
        assert!(out.is_empty());
        assert_eq!(wake, Some(t0 + TIMEOUT));

        let (out, _) = feed(&mut buffer, t0 + TIMEOUT, Input::Timeout);
        assert_eq!(summary(&out, 1 << 16), ["lost 1+2", "3"]);

        let (out, _) = feed(&mut buffer, t0 + TIMEOUT, Input::Packet(packet(1, 960)));
        assert!(
            out.is_empty(),
            "a packet given up on is dropped when it comes late"
        );
    }

    #[test]
    fn a_full_buffer_gives_up_the_hole_at_once() {
        let mut buffer = ReorderBuffer::new(4, TIMEOUT);
        let t0 = Instant::now();
        feed(&mut buffer, t0, Input::Packet(packet(0, 0)));
        for seq in 2..5 {
            let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(seq, 0)));
            assert!(out.is_empty(), "packet {seq} fits behind the hole");
        }
        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(5, 0)));
        assert_eq!(summary(&out, 1 << 16), ["lost 1+1", "2", "3", "4", "5"]);
    }

    #[test]
    fn a_jump_far_ahead_gives_up_what_falls_out_of_the_window_at_once() {
        let mut buffer = ReorderBuffer::new(64, TIMEOUT);
        let t0 = Instant::now();
        feed(&mut buffer, t0, Input::Packet(packet(0, 0)));
        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(1000, 0)));
        assert_eq!(summary(&out, 1 << 16), ["lost 1+936"]);
        // The last 63 could still arrive; they get the hole timeout.
        let (out, _) = feed(&mut buffer, t0 + TIMEOUT, Input::Timeout);
        assert_eq!(summary(&out, 1 << 16), ["lost 937+63", "1000"]);
    }

    #[test]
    fn sequence_numbers_and_timestamps_are_extended_across_their_wrap() {
        let mut buffer = ReorderBuffer::new(64, TIMEOUT);
        let t0 = Instant::now();
        let mut got = Vec::new();
        // Reordered across both wraps: 65535 comes after 0.
        for (seq, ts) in [
            (65534, u32::MAX - 1919),
            (0, 0x40),
            (65535, u32::MAX - 959),
            (1, 1000),
        ] {
            let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(seq, ts)));
            got.extend(out);
        }
        let seqs: Vec<(u64, u64)> = got
            .iter()
            .map(|o| match o {
                Output::Packet(p) => (p.seq, p.timestamp),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let s0 = (1 << 16) + 65534;
        let t = (1u64 << 32) + u64::from(u32::MAX - 1919);
        assert_eq!(
            seqs,
            [
                (s0, t),
                (s0 + 1, t + 960),
                (s0 + 2, t + 1920 + 0x40),
                (s0 + 3, t + 1920 + 1000)
            ]
        );
    }

    #[test]
    fn flush_releases_everything_held() {
        let mut buffer = ReorderBuffer::new(64, TIMEOUT);
        let t0 = Instant::now();
        feed(&mut buffer, t0, Input::Packet(packet(0, 0)));
        feed(&mut buffer, t0, Input::Packet(packet(2, 0)));
        feed(&mut buffer, t0, Input::Packet(packet(5, 0)));
        let (out, wake) = feed(&mut buffer, t0, Input::Flush);
        assert_eq!(summary(&out, 1 << 16), ["lost 1+1", "2", "lost 3+2", "5"]);
        assert_eq!(wake, None);

        let (out, _) = feed(&mut buffer, t0, Input::Packet(packet(7, 0)));
        assert!(
            out.is_empty(),
            "after a flush the buffer waits for holes again"
        );
    }
}
