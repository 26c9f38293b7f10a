//! Per-participant pacing: the message token bucket and the typing throttle.

use crate::limits::Limits;
use crate::rate_limit::TokenBucket;
use chrono::{DateTime, Duration, Utc};

pub(super) struct Pacing {
    bucket: TokenBucket<DateTime<Utc>>,
    last_typing: Option<DateTime<Utc>>,
}

impl Pacing {
    pub(super) fn new(limits: &Limits, now: DateTime<Utc>) -> Self {
        Self {
            bucket: TokenBucket::new(limits.rate_burst, limits.rate_per_second, now),
            last_typing: None,
        }
    }

    pub(super) fn try_take(&mut self, now: DateTime<Utc>) -> bool {
        self.bucket.try_take(now)
    }

    /// At most one typing indicator per `interval`.
    pub(super) fn typing_allowed(&mut self, now: DateTime<Utc>, interval: Duration) -> bool {
        if self.last_typing.is_some_and(|last| now - last < interval) {
            return false;
        }
        self.last_typing = Some(now);
        true
    }
}
