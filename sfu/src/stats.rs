//! Counters for `/metrics`, shared lock-free between the shards and whoever reads them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shard's live counters. Gauges (peers, tracks) are set by the shard; the rest only grow.
#[derive(Debug, Default)]
pub struct ShardCounters {
    pub(crate) peers: AtomicU64,
    pub(crate) tracks: AtomicU64,
    pub(crate) subscriptions: AtomicU64,
    pub(crate) forwarded_packets: AtomicU64,
    pub(crate) forwarded_bytes: AtomicU64,
    pub(crate) received_packets: AtomicU64,
    pub(crate) nacks: AtomicU64,
    pub(crate) plis: AtomicU64,
    pub(crate) keyframe_requests: AtomicU64,
    pub(crate) dropped_datagrams: AtomicU64,
    pub(crate) dropped_events: AtomicU64,
    pub(crate) recording_dropped: AtomicU64,
    pub(crate) busy_micros: AtomicU64,
}

impl ShardCounters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set(counter: &AtomicU64, n: u64) {
        counter.store(n, Ordering::Relaxed);
    }

    /// A consistent-enough copy of the counters (each read on its own).
    pub fn snapshot(&self) -> ShardStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ShardStats {
            peers: get(&self.peers),
            tracks: get(&self.tracks),
            subscriptions: get(&self.subscriptions),
            forwarded_packets: get(&self.forwarded_packets),
            forwarded_bytes: get(&self.forwarded_bytes),
            received_packets: get(&self.received_packets),
            nacks: get(&self.nacks),
            plis: get(&self.plis),
            keyframe_requests: get(&self.keyframe_requests),
            dropped_datagrams: get(&self.dropped_datagrams),
            dropped_events: get(&self.dropped_events),
            recording_dropped: get(&self.recording_dropped),
            busy_micros: get(&self.busy_micros),
        }
    }
}

/// One shard's numbers, as `/metrics` exports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Peers on the shard now.
    pub peers: u64,
    /// Published tracks on the shard now.
    pub tracks: u64,
    /// Subscriptions being forwarded now.
    pub subscriptions: u64,
    /// RTP packets written to subscribers, total.
    pub forwarded_packets: u64,
    /// RTP payload bytes written to subscribers, total.
    pub forwarded_bytes: u64,
    /// RTP packets received from publishers, total.
    pub received_packets: u64,
    /// NACKs received from subscribers (answered from the RTX cache), total.
    pub nacks: u64,
    /// PLIs and FIRs received from subscribers, total.
    pub plis: u64,
    /// Keyframe requests sent to publishers (after throttling), total.
    pub keyframe_requests: u64,
    /// Datagrams dropped, total: received ones that did not parse or no peer accepted, and
    /// outgoing ones the socket could not take (its buffer full).
    pub dropped_datagrams: u64,
    /// Events dropped because the consumer's queue was full, total.
    pub dropped_events: u64,
    /// Packets of recorded rooms the recorder's queue could not take, total.
    pub recording_dropped: u64,
    /// Time the shard spent working (not waiting), in microseconds: its CPU load.
    pub busy_micros: u64,
}

/// The whole SFU: one entry per shard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SfuStats {
    /// Per shard, in shard order.
    pub shards: Vec<ShardStats>,
}

impl SfuStats {
    /// The shards' numbers added up (`busy_micros` too: total CPU time).
    pub fn total(&self) -> ShardStats {
        self.shards
            .iter()
            .fold(ShardStats::default(), |a, s| ShardStats {
                peers: a.peers + s.peers,
                tracks: a.tracks + s.tracks,
                subscriptions: a.subscriptions + s.subscriptions,
                forwarded_packets: a.forwarded_packets + s.forwarded_packets,
                forwarded_bytes: a.forwarded_bytes + s.forwarded_bytes,
                received_packets: a.received_packets + s.received_packets,
                nacks: a.nacks + s.nacks,
                plis: a.plis + s.plis,
                keyframe_requests: a.keyframe_requests + s.keyframe_requests,
                dropped_datagrams: a.dropped_datagrams + s.dropped_datagrams,
                dropped_events: a.dropped_events + s.dropped_events,
                recording_dropped: a.recording_dropped + s.recording_dropped,
                busy_micros: a.busy_micros + s.busy_micros,
            })
    }
}

/// Shared handle to a shard's counters.
pub(crate) type Counters = Arc<ShardCounters>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_and_total_add_up() {
        let a = ShardCounters::default();
        ShardCounters::add(&a.forwarded_packets, 3);
        ShardCounters::add(&a.forwarded_packets, 4);
        ShardCounters::set(&a.peers, 2);
        let b = ShardCounters::default();
        ShardCounters::add(&b.forwarded_packets, 10);
        let stats = SfuStats {
            shards: vec![a.snapshot(), b.snapshot()],
        };
        assert_eq!(stats.shards[0].forwarded_packets, 7);
        assert_eq!(stats.total().forwarded_packets, 17);
        assert_eq!(stats.total().peers, 2);
    }
}
