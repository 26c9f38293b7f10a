//! A token bucket driven by the time its caller passes in.
//!
//! Hand-written on purpose: a sans-IO core must not read a clock, and `governor` (which
//! `src/` uses for its shared, keyed HTTP limits) reads time from a clock object it owns and
//! keeps atomic state for concurrent callers; a core owns its buckets and is told the time
//! with every input. This is the one bucket the cores share.

use std::time::Instant;

/// A point in time a core is told with its inputs. Each core picks one type per core (see
/// `docs/ARCHITECTURE.md`); the bucket only needs the time elapsed between two of them.
pub trait Moment: Copy + Ord {
    /// Microseconds from `earlier` to `self`; 0 if `self` is not later.
    fn micros_since(self, earlier: Self) -> u64;
}

impl Moment for Instant {
    fn micros_since(self, earlier: Self) -> u64 {
        u64::try_from(self.saturating_duration_since(earlier).as_micros()).unwrap_or(u64::MAX)
    }
}

#[cfg(feature = "chrono")]
impl Moment for chrono::DateTime<chrono::Utc> {
    fn micros_since(self, earlier: Self) -> u64 {
        (self - earlier)
            .num_microseconds()
            .map_or(u64::MAX, |micros| u64::try_from(micros).unwrap_or(0))
    }
}

/// Tokens are counted in millionths, refilled per elapsed microsecond: exact in integers.
const MICRO: u64 = 1_000_000;

/// Allows `burst` events at once and `per_second` sustained.
#[derive(Debug, Clone)]
pub struct TokenBucket<T> {
    capacity: u64,
    per_second: u64,
    tokens: u64,
    last: T,
}

impl<T: Moment> TokenBucket<T> {
    /// A full bucket of `burst` tokens (at least one) refilling at `per_second`.
    pub fn new(burst: u32, per_second: u32, now: T) -> Self {
        let capacity = u64::from(burst.max(1)) * MICRO;
        TokenBucket {
            capacity,
            per_second: u64::from(per_second),
            tokens: capacity,
            last: now,
        }
    }

    /// Takes one token if there is one. A clock going backwards refills nothing.
    pub fn try_take(&mut self, now: T) -> bool {
        let elapsed = now.micros_since(self.last);
        if elapsed > 0 {
            let added = elapsed.saturating_mul(self.per_second);
            self.tokens = self.tokens.saturating_add(added).min(self.capacity);
            self.last = now;
        }
        if self.tokens >= MICRO {
            self.tokens -= MICRO;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn burst_then_refill_at_rate_and_never_past_the_burst() {
        let start = Instant::now();
        let at = |millis| start + Duration::from_millis(millis);
        let mut bucket = TokenBucket::new(3, 2, start);
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
        assert!(bucket.try_take(at(500)));
        assert!(!bucket.try_take(at(700)), "0.4 of a token refilled");
        assert!(bucket.try_take(at(1000)), "0.4 + 0.6");
        assert_eq!((0..10).filter(|_| bucket.try_take(at(60_000))).count(), 3);
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1, 1, start + Duration::from_secs(10));
        assert!(bucket.try_take(start + Duration::from_secs(10)));
        assert!(!bucket.try_take(start));
        assert!(!bucket.try_take(start + Duration::from_millis(10_500)));
        assert!(bucket.try_take(start + Duration::from_secs(11)));
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn wall_clock_time_drives_it_the_same_way() {
        use chrono::{TimeZone, Utc};
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut bucket = TokenBucket::new(1, 4, t0);
        assert!(bucket.try_take(t0));
        assert!(!bucket.try_take(t0 + chrono::Duration::milliseconds(200)));
        assert!(bucket.try_take(t0 + chrono::Duration::milliseconds(250)));
        assert!(!bucket.try_take(t0 - chrono::Duration::seconds(5)));
    }
}
