//! Per-participant token bucket over the caller's clock (no clock inside).
//!
//! The guide limits socket messages per user to a count per window; a token bucket
//! allows the same average rate while smoothing the window edges.

use chrono::{DateTime, Utc};

/// Tokens are kept in thousandths so refill stays exact in integer arithmetic.
const MILLI: u64 = 1000;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity_milli: u64,
    refill_per_second: u64,
    tokens_milli: u64,
    last: DateTime<Utc>,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilling at `per_second`.
    pub fn new(burst: u32, per_second: u32, now: DateTime<Utc>) -> Self {
        let capacity_milli = u64::from(burst) * MILLI;
        Self {
            capacity_milli,
            refill_per_second: u64::from(per_second),
            tokens_milli: capacity_milli,
            last: now,
        }
    }

    /// Takes one token if there is one. A clock going backwards refills nothing.
    pub fn try_take(&mut self, now: DateTime<Utc>) -> bool {
        let elapsed_ms = (now - self.last).num_milliseconds();
        if elapsed_ms > 0 {
            let added = (elapsed_ms as u64).saturating_mul(self.refill_per_second);
            self.tokens_milli = self
                .tokens_milli
                .saturating_add(added)
                .min(self.capacity_milli);
            self.last = now;
        }
        if self.tokens_milli >= MILLI {
            self.tokens_milli -= MILLI;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn burst_then_refill_at_rate() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut bucket = TokenBucket::new(3, 2, t0);
        assert!((0..3).all(|_| bucket.try_take(t0)));
        assert!(!bucket.try_take(t0));
        assert!(bucket.try_take(t0 + Duration::milliseconds(500)));
        assert!(!bucket.try_take(t0 + Duration::milliseconds(700)));
        // a long pause refills only up to the burst
        let later = t0 + Duration::seconds(60);
        assert_eq!((0..10).filter(|_| bucket.try_take(later)).count(), 3);
    }
}
