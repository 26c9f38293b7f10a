//! How REST handlers reach a note's live room: ids, access, and errors in the room's terms.
//!
//! The room owns the body. Handlers that change the body, who may edit it, or whether the
//! note exists tell the room, so connected editors see the change within a second.

use axum::http::StatusCode;
use crdt::{Access, NoteId, RoomsError, UserId};
use uuid::Uuid;

use crate::db::notes::NoteAccess;
use crate::error::ApiError;

/// The room key of a note.
pub fn note_key(id: Uuid) -> NoteId {
    NoteId::from(id.to_string())
}

/// The room key of a user.
pub fn user_key(id: Uuid) -> UserId {
    UserId::from(id.to_string())
}

/// What a permission lets a live connection do.
pub fn live_access(permission: NoteAccess) -> Access {
    if permission.can_edit() {
        Access::Write
    } else {
        Access::Read
    }
}

/// The HTTP answer for a room that could not take a REST change.
pub fn room_error(error: RoomsError) -> ApiError {
    match error {
        RoomsError::NotFound => ApiError::not_found("note"),
        RoomsError::DocumentTooLarge { limit } => {
            ApiError::payload_too_large(format!("the note's document would exceed {limit} bytes"))
        }
        RoomsError::Unavailable => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "note editing is unavailable right now; retry shortly",
        ),
        // Someone typed since the caller read the text its change is based on.
        RoomsError::TextChanged => ApiError::conflict(
            "version_conflict",
            "the note changed since it was read; fetch it and apply your change again",
        ),
        RoomsError::Storage(_) | RoomsError::Corrupt(_) => ApiError::internal(error),
    }
}
