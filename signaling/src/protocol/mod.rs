//! The JSON wire protocol over the hub WebSocket (see `docs/HUB_PROTOCOL.md`).

pub mod client;
pub mod server;
