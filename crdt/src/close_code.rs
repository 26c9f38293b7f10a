//! WebSocket close codes the note rooms use, and what a client should do on each.
//!
//! The npm `y-websocket` provider reconnects forever on any code outside 4400–4499 and gives up
//! on 44xx. So 44xx means "do not retry without a change" (new token, new access, smaller
//! document) and 45xx means "reconnect and resync": nothing is lost, because a reconnecting Yjs
//! client sends its whole state difference in sync step 2.

use std::fmt;

/// A close code sent to a note-room client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseCode {
    /// 4400: a frame that is not a valid y-websocket message or Yjs update.
    BadMessage,
    /// 4401: missing, invalid or expired token. Sent by the server before a room is involved.
    BadToken,
    /// 4403: the user has no access to the note, or it was revoked while connected.
    NoAccess,
    /// 4404: the note does not exist or was deleted.
    NoSuchNote,
    /// 4413: a frame larger than the frame limit, or an edit that would grow the document past
    /// the document limit.
    TooLarge,
    /// 4429: the connection sent messages faster than its rate limit allows.
    RateLimited,
    /// 4500: the connection did not read its frames fast enough; reconnect and resync.
    SlowConsumer,
    /// 4501: the room is unloading or the server is shutting down; reconnect and resync.
    RoomUnloading,
    /// 4503: the room already holds its maximum of connections; reconnect later.
    RoomFull,
    /// 4504: a read-only connection whose edits the room dropped was given write access;
    /// reconnect and resync, so those edits arrive whole (its next update alone would
    /// depend on them, and a room cannot store an update with a gap).
    WriteGranted,
    /// 4502: the room could not store an update; reconnect and resync (the client still holds
    /// its edits and sends them again in sync step 2).
    StorageFailed,
}

impl CloseCode {
    /// The numeric code to put in the WebSocket close frame.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::BadMessage => 4400,
            CloseCode::BadToken => 4401,
            CloseCode::NoAccess => 4403,
            CloseCode::NoSuchNote => 4404,
            CloseCode::TooLarge => 4413,
            CloseCode::RateLimited => 4429,
            CloseCode::SlowConsumer => 4500,
            CloseCode::RoomUnloading => 4501,
            CloseCode::StorageFailed => 4502,
            CloseCode::RoomFull => 4503,
            CloseCode::WriteGranted => 4504,
        }
    }

    /// A short reason for the close frame (kept under the 123-byte limit).
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::BadMessage => "bad message",
            CloseCode::BadToken => "bad token",
            CloseCode::NoAccess => "no access",
            CloseCode::NoSuchNote => "no such note",
            CloseCode::TooLarge => "too large",
            CloseCode::RateLimited => "rate limited",
            CloseCode::SlowConsumer => "slow consumer, reconnect",
            CloseCode::RoomUnloading => "room unloading, reconnect",
            CloseCode::StorageFailed => "storage failed, reconnect",
            CloseCode::RoomFull => "room full, reconnect later",
            CloseCode::WriteGranted => "write access granted, reconnect",
        }
    }

    /// Whether a well-behaved client should reconnect (45xx) or stop (44xx).
    pub fn should_reconnect(self) -> bool {
        self.code() >= 4500
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.reason())
    }
}
