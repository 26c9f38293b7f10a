//! Caps that keep one session's memory and work bounded.

use chrono::Duration;

/// All limits of a session; `Limits::default()` gives the product defaults.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted client frame in bytes (checked before parsing).
    pub max_frame_bytes: usize,
    /// Chat message length in characters.
    pub chat_chars: usize,
    /// Poll question length in characters.
    pub poll_question_chars: usize,
    /// Most options in one poll.
    pub poll_options: usize,
    /// Poll option length in characters.
    pub poll_option_chars: usize,
    /// Q&A question (and written answer) length in characters.
    pub question_chars: usize,
    /// Reaction (emoji) length in bytes.
    pub reaction_bytes: usize,
    /// Distinct reactions on one message.
    pub reactions_per_message: usize,
    /// Chat messages kept in memory (older ones stay in storage, for exports).
    pub chat_kept: usize,
    /// Chat messages included in the join snapshot.
    pub chat_history: usize,
    /// Polls per session.
    pub max_polls: usize,
    /// Questions per session.
    pub max_questions: usize,
    /// Participants waiting in the lobby.
    pub max_lobby: usize,
    /// Recent events kept for exact resume.
    pub resume_ring: usize,
    /// Token bucket: burst size.
    pub rate_burst: u32,
    /// Token bucket: tokens added per second.
    pub rate_per_second: u32,
    /// At most one typing indicator per participant in this interval.
    pub typing_interval: Duration,
    /// Longest poll timer a host may set.
    pub max_poll_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            // An SDP offer with three m-lines and every codec a browser knows is ~12 KB.
            max_frame_bytes: 64 * 1024,
            chat_chars: 2000,
            poll_question_chars: 500,
            poll_options: 10,
            poll_option_chars: 200,
            question_chars: 1000,
            reaction_bytes: 32,
            reactions_per_message: 20,
            chat_kept: 1000,
            chat_history: 200,
            max_polls: 200,
            max_questions: 2000,
            max_lobby: 500,
            resume_ring: 1024,
            rate_burst: 20,
            rate_per_second: 10,
            typing_interval: Duration::seconds(2),
            max_poll_duration: Duration::hours(2),
        }
    }
}
