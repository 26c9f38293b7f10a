//! The live-session hub: WebSocket connections wired to one task per session, each
//! owning a `signaling::Session` and storing its events.

pub mod ballot;
pub mod connection;
mod effects;
pub mod registry;
pub mod roles;
pub mod room;
pub mod ticket;

pub use registry::Registry;
