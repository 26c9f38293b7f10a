//! Per-participant rate limiting over the caller's clock (no clock inside).
//!
//! The guide limits socket messages per user to a count per window; a token bucket
//! allows the same average rate while smoothing the window edges. The bucket is the one
//! every core shares; a session drives it with its inputs' wall-clock time.

pub use sansio::TokenBucket;
