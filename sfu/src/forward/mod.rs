//! The forwarding core: plain state machines on caller-supplied time, no sockets, no str0m.
//!
//! - [`router`]: who gets which track and layer, with which numbers (the one stateful
//!   machine the shard drives);
//! - [`rewrite`]: per-subscriber sequence/timestamp rewriting for seamless switches;
//! - [`keyframe`]: one keyframe request per publisher layer per second;
//! - [`layer`]: layer bitrates and the per-subscriber choice;
//! - [`codec`]: keyframe detection in VP8/VP9/H.264 payloads.

pub mod codec;
pub mod keyframe;
pub mod layer;
pub mod rewrite;
pub mod router;
