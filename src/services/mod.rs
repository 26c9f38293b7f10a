//! What a request does once it is read: orchestration across storage, the note rooms and
//! files, beside `hub/` (which does the same for live sessions).
//!
//! Handlers in `api/` extract and validate a request, call one function here (or one `db`
//! function when that is all there is to it), and answer. Services take plain ids and
//! validated values, never HTTP extractors, and answer with the one error type.

pub mod accounts;
pub mod note_rooms;
pub mod notes;
pub mod recordings;

use crate::db;
use crate::error::ApiError;

/// 422 on `moduleId` for a module link that points nowhere (a foreign-key violation);
/// any other error as it is.
pub fn module_link_error(err: sqlx::Error) -> ApiError {
    if db::is_foreign_key_violation(&err) {
        ApiError::invalid_field("moduleId", "no such module")
    } else {
        err.into()
    }
}
