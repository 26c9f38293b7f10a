//! The few types every sans-IO core of this workspace speaks, defined once so the cores
//! (`crdt`, `signaling`, the coming `sfu`) share them without depending on each other.
//!
//! The convention the cores follow (inputs with the time they happened, outputs polled,
//! one output saying when to wake the core next) is written down in the workspace's
//! `docs/ARCHITECTURE.md`, "Sans-IO cores".
//!
//! What is deliberately *not* here: close codes and limits. Each protocol owns its close
//! codes (the same number means different things to a y-websocket client and a hub client,
//! and each client library acts on its own ranges), and each core caps different things (a
//! note's bytes and presence ids, a session's chat and polls).

mod connection;
mod token_bucket;

pub use connection::ConnectionId;
pub use token_bucket::{Moment, TokenBucket};
