//! How the SFU is set up: where it listens, what it announces, its limits.

use std::net::{IpAddr, SocketAddr};

use crate::record::RecordSink;

/// Bounds that keep one peer from costing the server unbounded memory or time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Remote ICE candidates accepted per peer (an ICE-lite server needs none).
    pub max_remote_candidates: usize,
    /// Peers per shard; [`crate::SfuHandle::add_peer`] refuses more.
    pub max_peers: usize,
    /// Source addresses remembered for demultiplexing, per shard.
    pub max_addresses: usize,
    /// Events queued for the consumer before new ones are dropped (and counted).
    pub event_queue: usize,
    /// Commands queued toward a shard before callers wait.
    pub command_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_remote_candidates: 32,
            max_peers: 2_000,
            max_addresses: 8_000,
            event_queue: 4_096,
            command_queue: 1_024,
        }
    }
}

/// The SFU's configuration.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// The UDP address to bind (port 0: any free port).
    pub bind: SocketAddr,
    /// The address to announce in ICE candidates when the server is behind NAT; the bound
    /// IP otherwise (which then must not be unspecified).
    pub public_ip: Option<IpAddr>,
    /// Also accept ICE over TCP on the same port number (RFC 6544, passive), for clients
    /// whose network blocks UDP.
    pub tcp: bool,
    /// Bounds.
    pub limits: Limits,
    /// Where packets of recorded rooms go ([`crate::record`]); without one, recording a
    /// room only counts its packets as dropped.
    pub recorder: Option<RecordSink>,
}

impl SfuConfig {
    /// Listens on `bind`, announcing the bound address.
    pub fn new(bind: SocketAddr) -> SfuConfig {
        SfuConfig {
            bind,
            public_ip: None,
            tcp: true,
            limits: Limits::default(),
            recorder: None,
        }
    }
}
