//! The id of one client connection inside a core.

use std::fmt;

/// One client connection (a WebSocket, later a peer connection), numbered by the async
/// shell that owns the socket: it hands the id to the core with the connection's first
/// input, and the core names it in every output meant for that connection. Unique within
/// one core instance (a note room, a session); a late input for a connection the core has
/// already closed is ignored, so a replaced socket cannot act for its successor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl ConnectionId {
    /// The raw number, for logs and metrics.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}
