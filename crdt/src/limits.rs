//! Caps on what one room and one connection may cost.

use std::time::Duration;

/// Limits enforced by [`crate::Room`]. Exceeding one closes the connection with a documented
/// code (see [`crate::CloseCode`]).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted frame from a client, in bytes. Larger frames close with 4413. Set the
    /// WebSocket library's own message limit to the same value so it never buffers more.
    pub max_frame_bytes: usize,
    /// Largest document, measured as its encoded state (what a snapshot stores). An edit that
    /// would pass it is refused: a client closes with 4413, a REST replacement gets an error.
    pub max_document_bytes: usize,
    /// Any frames a connection may send in a burst. Generous: the npm provider re-sends every
    /// awareness change it hears, so a busy room makes every client echo a lot.
    pub frame_burst: u32,
    /// Any frames per second a connection may sustain. Beyond burst and rate: 4429.
    pub frames_per_second: u32,
    /// Changes a connection may send in a burst: document updates, and awareness messages
    /// that are not pure echoes of other connections' states.
    pub change_burst: u32,
    /// Changes per second a connection may sustain. Beyond burst and rate: 4429.
    pub changes_per_second: u32,
    /// Awareness states not renewed for this long are removed (clients renew every 15 s).
    pub awareness_timeout: Duration,
    /// Connections one room admits; more are closed at once with 4503 (retry later).
    pub max_connections: usize,
    /// Awareness client ids one connection may announce (one per Yjs doc; a few for safety).
    pub max_awareness_ids_per_connection: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 1024 * 1024,
            max_document_bytes: 4 * 1024 * 1024,
            frame_burst: 2000,
            frames_per_second: 500,
            change_burst: 300,
            changes_per_second: 60,
            awareness_timeout: Duration::from_secs(30),
            max_connections: 500,
            max_awareness_ids_per_connection: 4,
        }
    }
}
