//! Stable error codes sent to clients in `error` frames.

use serde::{Deserialize, Serialize};

/// The `code` of an error frame. Clients switch on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON, or not a JSON object.
    BadJson,
    /// The `type` is not one this server knows.
    UnknownType,
    /// A field is missing, has the wrong type, or breaks a rule (length, range).
    Invalid,
    /// The frame is larger than the size cap.
    TooLarge,
    /// Too many messages: the participant's token bucket is empty.
    RateLimited,
    /// The participant lacks the capability (or rank) for this.
    Forbidden,
    /// The message, poll, question or participant does not exist (or is not visible).
    NotFound,
    /// Not possible in the current state (poll not open, already published, ...).
    WrongState,
    /// Chat is locked by a moderator.
    ChatLocked,
    /// The participant waits in the lobby and may do nothing but wait.
    InLobby,
    /// The session has ended.
    SessionEnded,
    /// A per-session cap (polls, questions, lobby size) is reached.
    LimitReached,
    /// The server cannot do this now: media is off or its engine is overloaded, or
    /// recording is not available on this server.
    Unavailable,
}

/// A refused command: a code and a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct HubError {
    pub code: ErrorCode,
    pub message: String,
}

impl HubError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Invalid, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn wrong_state(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::WrongState, message)
    }
}
