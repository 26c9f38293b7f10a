//! Errors the runtime returns to the server.

use crate::{CloseCode, RoomError, StoreError};

/// Why a room request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoomsError {
    /// The note does not exist (or was deleted).
    #[error("note not found")]
    NotFound,
    /// The replacement text would make the document larger than the limit.
    #[error("document would exceed {limit} bytes")]
    DocumentTooLarge { limit: usize },
    /// Loading or storing the note failed.
    #[error("note storage failed: {0}")]
    Storage(String),
    /// The stored note, or an update another node stored, does not decode.
    #[error("stored note is corrupt: {0}")]
    Corrupt(String),
    /// The runtime is shutting down, or the room kept unloading under the request.
    #[error("note rooms unavailable")]
    Unavailable,
    /// The text is no longer the one a [`super::Rooms::hold_text`] caller based its change on.
    #[error("the note's text changed")]
    TextChanged,
}

impl RoomsError {
    /// The close code for a WebSocket that could not join because of this error.
    pub fn close_code(&self) -> CloseCode {
        match self {
            RoomsError::NotFound => CloseCode::NoSuchNote,
            RoomsError::DocumentTooLarge { .. } => CloseCode::TooLarge,
            RoomsError::Storage(_) | RoomsError::Corrupt(_) => CloseCode::StorageFailed,
            // A connect never meets `TextChanged`; were it to, reconnecting is the answer.
            RoomsError::Unavailable | RoomsError::TextChanged => CloseCode::RoomUnloading,
        }
    }
}

impl From<StoreError> for RoomsError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => RoomsError::NotFound,
            StoreError::Backend(e) => RoomsError::Storage(e.to_string()),
        }
    }
}

impl From<RoomError> for RoomsError {
    fn from(error: RoomError) -> Self {
        match error {
            RoomError::DocumentTooLarge { limit } => RoomsError::DocumentTooLarge { limit },
            // The runtime numbers connections itself; should it ever repeat one, retrying
            // on a fresh room is the answer.
            RoomError::ConnectionExists(_) => RoomsError::Unavailable,
            RoomError::CorruptState(_) | RoomError::InvalidUpdate(_) => {
                RoomsError::Corrupt(error.to_string())
            }
        }
    }
}
