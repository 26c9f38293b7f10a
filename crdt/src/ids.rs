//! Identifiers the room works with: users, notes, and a connection's access. Connection
//! ids are the cores' shared [`sansio::ConnectionId`], exported here as [`crate::ConnId`].

use std::fmt;
use std::sync::Arc;

/// Declares an opaque, cheaply cloned string identifier. The server decides the format (a UUID
/// string is typical); this crate only compares them.
macro_rules! opaque_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            /// The identifier as the server gave it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.into())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

opaque_id!(
    /// The user behind a connection, so access changes can find all of that user's connections.
    UserId
);

opaque_id!(
    /// The note a room holds. One room per note.
    NoteId
);

/// What a connection may do in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Receives the document and awareness; its document updates are dropped.
    Read,
    /// Receives and edits.
    Write,
}

impl Access {
    /// Whether document updates from this connection are applied.
    pub fn can_write(self) -> bool {
        matches!(self, Access::Write)
    }
}
