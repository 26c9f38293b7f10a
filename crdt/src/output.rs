//! What a [`crate::Room`] asks its shell to do.

use std::time::Instant;

use bytes::Bytes;

use crate::{CloseCode, ConnId};

/// One effect, from [`crate::Room::poll_output`]. Outputs come out in the order of the
/// **durability contract**: the shell performs them in order, and a [`Output::Persist`]
/// must be durably stored before any output after it is performed. Delaying outputs is
/// always safe; reordering a send before an earlier persist is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A Yjs v1 update to append to the note's update log before anything that follows.
    /// Once stored, this is also what a cluster publishes to other nodes.
    Persist(Bytes),
    /// One frame for one connection.
    Send { to: ConnId, frame: Bytes },
    /// The same frame for several connections: encoded once, cloned by reference count.
    Broadcast { to: Vec<ConnId>, frame: Bytes },
    /// Close the connection with this code. The room has already forgotten it.
    Close { conn: ConnId, code: CloseCode },
    /// Nothing more to do now: feed [`crate::Input::Timeout`] at this instant unless another
    /// input comes first (then poll again: the instant may have moved).
    Timeout(Instant),
}
