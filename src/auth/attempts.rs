//! Failed sign-ins, throttled per account and per client address.
//!
//! A per-address limit on every sign-in stops a class behind one address (school, office,
//! conference NAT) from getting in; a limit on failures alone does not, and still stops
//! guessing. Every attempt takes one unit from both budgets before the password is checked,
//! so parallel guesses cannot all slip past the check; a sign-in that succeeds gives its
//! units back. Each budget is a GCRA bucket: `max` failures at once, one more every
//! `window_secs / max` seconds.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::config::{RateLimit, RateLimitsConfig};
use crate::error::ApiError;

pub struct SignInAttempts {
    /// Keyed by the normalized email, whether or not such an account exists.
    account: Budget<String>,
    address: Budget<IpAddr>,
}

/// An attempt both budgets admitted. It counts as failed unless [`Attempt::succeeded`].
#[must_use]
pub struct Attempt<'a> {
    attempts: &'a SignInAttempts,
    account: String,
    address: Option<IpAddr>,
}

impl SignInAttempts {
    pub fn new(config: &RateLimitsConfig) -> Self {
        Self {
            account: Budget::new(config.failed_logins_per_account),
            address: Budget::new(config.failed_logins_per_address),
        }
    }

    /// Admits an attempt on `account` from `address`, or answers 429 with `Retry-After`
    /// when either has used up its failures.
    pub fn begin(&self, account: &str, address: Option<IpAddr>) -> Result<Attempt<'_>, ApiError> {
        let now = Instant::now();
        let account = account.to_owned();
        self.account.take(&account, now).map_err(refused)?;
        if let Some(address) = address
            && let Err(wait) = self.address.take(&address, now)
        {
            self.account.give_back(&account);
            return Err(refused(wait));
        }
        Ok(Attempt {
            attempts: self,
            account,
            address,
        })
    }

    /// Forgets keys whose budget has fully recovered, so the maps stay bounded.
    pub fn forget_idle(&self) {
        let now = Instant::now();
        self.account.forget_idle(now);
        self.address.forget_idle(now);
    }
}

impl Attempt<'_> {
    /// The sign-in succeeded: its units go back to both budgets.
    pub fn succeeded(self) {
        self.attempts.account.give_back(&self.account);
        if let Some(address) = &self.address {
            self.attempts.address.give_back(address);
        }
    }
}

fn refused(wait: Duration) -> ApiError {
    let mut error = ApiError::rate_limited(wait.as_secs_f64().ceil() as u64);
    error.message = "too many failed sign-ins; retry later".into();
    error
}

/// A GCRA bucket per key: the theoretical arrival time of the next unit.
struct Budget<K> {
    /// Time for one unit to come back.
    interval: Duration,
    /// Time for the whole budget to come back.
    window: Duration,
    next: Mutex<HashMap<K, Instant>>,
}

impl<K: Eq + Hash + Clone> Budget<K> {
    fn new(limit: RateLimit) -> Self {
        let window = Duration::from_secs(limit.window_secs);
        Self {
            interval: window / limit.max.max(1),
            window,
            next: Mutex::default(),
        }
    }

    /// Takes one unit for `key`, or tells how long until one is back.
    fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let current = next.get(key).map_or(now, |at| (*at).max(now));
        let after = current + self.interval;
        let limit = now + self.window;
        if after > limit {
            return Err(after - limit);
        }
        next.insert(key.clone(), after);
        Ok(())
    }

    fn give_back(&self, key: &K) {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = next.get_mut(key) {
            *at = at.checked_sub(self.interval).unwrap_or(*at);
        }
    }

    fn forget_idle(&self, now: Instant) {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        next.retain(|_, at| *at > now);
        next.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(max: u32, window_secs: u64) -> Budget<u8> {
        Budget::new(RateLimit { max, window_secs })
    }

    #[test]
    fn a_budget_allows_max_at_once_then_one_per_interval() {
        let budget = budget(10, 900);
        let start = Instant::now();
        for _ in 0..10 {
            assert_eq!(budget.take(&1, start), Ok(()));
        }
        assert_eq!(budget.take(&1, start), Err(Duration::from_secs(90)));
        // Another key has its own budget.
        assert_eq!(budget.take(&2, start), Ok(()));
        let later = start + Duration::from_secs(90);
        assert_eq!(budget.take(&1, later), Ok(()));
        assert!(budget.take(&1, later).is_err());
    }

    #[test]
    fn given_back_units_are_usable_again_and_recovered_keys_are_forgotten() {
        let budget = budget(2, 60);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(budget.take(&1, start), Ok(()));
            budget.give_back(&1);
        }
        budget.forget_idle(start + Duration::from_secs(61));
        assert!(budget.next.lock().unwrap().is_empty());
    }

    #[test]
    fn an_address_refusal_returns_the_account_unit() {
        let limit = |max| RateLimit {
            max,
            window_secs: 900,
        };
        let attempts = SignInAttempts {
            account: Budget::new(limit(2)),
            address: Budget::new(limit(1)),
        };
        let address = Some(IpAddr::from([192, 0, 2, 1]));
        let _failed = attempts.begin("a@example.com", address).unwrap();
        assert!(attempts.begin("a@example.com", address).is_err());
        // The refused attempt did not use the account's second unit.
        assert!(attempts.begin("a@example.com", None).is_ok());
        assert!(attempts.begin("a@example.com", None).is_err());
    }
}
