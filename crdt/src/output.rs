//! What a [`crate::Room`] asks its shell to do.

use bytes::Bytes;

use crate::{CloseCode, ConnId};

/// One effect of feeding the room an input. Outputs come in a `Vec` whose order is the
/// **durability contract**: the shell performs them in order, and a [`Output::Persist`] must
/// be durably stored before any output after it is performed. Delaying outputs is always
/// safe; reordering a send before an earlier persist is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A Yjs v1 update to append to the note's update log before anything that follows.
    Persist(Bytes),
    /// One frame for one connection.
    Send { to: ConnId, frame: Bytes },
    /// The same frame for several connections: encoded once, cloned by reference count.
    Broadcast { to: Vec<ConnId>, frame: Bytes },
    /// Close the connection with this code. The room has already forgotten it.
    Close { conn: ConnId, code: CloseCode },
}
