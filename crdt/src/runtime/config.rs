//! Tuning for the room runtime.

use std::time::Duration;

use crate::Limits;

/// How rooms run: limits per room, queue sizes, compaction and unloading.
#[derive(Debug, Clone)]
pub struct RoomsConfig {
    /// Limits each room enforces.
    pub limits: Limits,
    /// Frames queued for one connection before it is closed with 4500 (slow consumer).
    pub outgoing_queue: usize,
    /// Commands queued for one room; senders wait when it is full (backpressure on readers).
    pub inbox_capacity: usize,
    /// Client frames handled together, whose updates are stored in one `append`.
    pub max_batch: usize,
    /// Compact the update log into a snapshot after this many stored updates.
    pub compact_after_updates: u64,
    /// Compact when no update has been stored for this long.
    pub compact_when_idle: Duration,
    /// Save the plain text at most this often while a room is being edited, so appends
    /// stay small and REST and search trail live edits only briefly.
    pub save_text_every: Duration,
    /// Unload a room with no connections for this long.
    pub unload_after: Duration,
    /// Rooms held in memory at once; a request that would load one more fails with
    /// [`crate::RoomsError::Unavailable`] (close 4501, the client retries later).
    pub max_loaded_rooms: usize,
}

impl Default for RoomsConfig {
    fn default() -> Self {
        RoomsConfig {
            limits: Limits::default(),
            outgoing_queue: 256,
            inbox_capacity: 1024,
            max_batch: 64,
            compact_after_updates: 500,
            compact_when_idle: Duration::from_secs(30),
            save_text_every: Duration::from_secs(1),
            unload_after: Duration::from_secs(60),
            max_loaded_rooms: 10_000,
        }
    }
}
