//! Which logins are revoked, so logout and theft detection end a login's access tokens at
//! once instead of when they expire.
//!
//! A login is a refresh-token family, and every access token names its family. Every
//! authenticated request asks about its family, so the answers are remembered: in a bounded
//! LRU map (`hashlink`, already under `sqlx`), since forgetting an answer costs only one
//! database read.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hashlink::LruCache;
use uuid::Uuid;

use crate::db::{self, Db};

/// Families remembered at most; the least recently asked about are forgotten first.
const REMEMBERED: usize = 10_000;

/// How long an answer of "not revoked" is trusted before the database is asked again. A
/// revocation made on this node is known here at once; one made on another node of a
/// cluster reaches this node within this time.
const RECHECK_AFTER: Duration = Duration::from_secs(5);

pub struct Revocations {
    known: Mutex<LruCache<Uuid, Known>>,
    recheck_after: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Final: a revoked family never comes back.
    Revoked,
    /// Not revoked when the database was read at this instant.
    LiveAt(Instant),
}

impl Default for Revocations {
    fn default() -> Self {
        Self::new(REMEMBERED, RECHECK_AFTER)
    }
}

impl Revocations {
    fn new(capacity: usize, recheck_after: Duration) -> Self {
        Self {
            known: Mutex::new(LruCache::new(capacity)),
            recheck_after,
        }
    }

    /// Whether the login `family` was revoked (logged out, or its refresh token reused).
    pub async fn is_revoked(&self, db: &Db, family: Uuid) -> Result<bool, sqlx::Error> {
        if let Some(revoked) = self.remembered(family) {
            return Ok(revoked);
        }
        let revoked = db::refresh_tokens::family_revoked(db, family).await?;
        self.remember(family, revoked);
        Ok(revoked)
    }

    /// Revokes the login `family`: its refresh tokens, and from now on its access tokens.
    pub async fn revoke(&self, db: &Db, family: Uuid) -> Result<(), sqlx::Error> {
        db::refresh_tokens::revoke_family(db, family).await?;
        self.remember(family, true);
        Ok(())
    }

    /// Revokes every login of `user` but `keep` (password change, reset, a disabled
    /// account): their refresh tokens, and from now on their access tokens.
    pub async fn revoke_user(
        &self,
        db: &Db,
        user: Uuid,
        keep: Option<Uuid>,
    ) -> Result<(), sqlx::Error> {
        for family in db::refresh_tokens::revoke_user(db, user, keep).await? {
            self.remember(family, true);
        }
        Ok(())
    }

    fn remembered(&self, family: Uuid) -> Option<bool> {
        match *self.lock().get(&family)? {
            Known::Revoked => Some(true),
            Known::LiveAt(read) if read.elapsed() < self.recheck_after => Some(false),
            Known::LiveAt(_) => None,
        }
    }

    fn remember(&self, family: Uuid, revoked: bool) {
        let mut known = self.lock();
        if revoked {
            known.insert(family, Known::Revoked);
        } else if known.get(&family) != Some(&Known::Revoked) {
            // A "live" answer read just before a revocation committed must not replace it.
            known.insert(family, Known::LiveAt(Instant::now()));
        }
    }

    /// The map stays usable if a thread panicked while holding it: each entry is written
    /// whole, so there is no half-done state to fear.
    fn lock(&self) -> MutexGuard<'_, LruCache<Uuid, Known>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_is_final_and_live_answers_go_stale() {
        let revocations = Revocations::new(10, Duration::ZERO);
        let (revoked, live) = (Uuid::new_v4(), Uuid::new_v4());
        revocations.remember(revoked, true);
        revocations.remember(revoked, false);
        assert_eq!(revocations.remembered(revoked), Some(true));
        revocations.remember(live, false);
        assert_eq!(revocations.remembered(live), None, "stale at once here");

        let trusting = Revocations::new(10, Duration::from_secs(60));
        trusting.remember(live, false);
        assert_eq!(trusting.remembered(live), Some(false));
        trusting.remember(live, true);
        assert_eq!(trusting.remembered(live), Some(true));
    }

    #[test]
    fn it_remembers_a_bounded_number_of_families() {
        let revocations = Revocations::new(2, Duration::from_secs(60));
        let families = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
        for family in families {
            revocations.remember(family, true);
        }
        assert_eq!(revocations.lock().len(), 2);
        // The oldest is forgotten, so it is read from the database again.
        assert_eq!(revocations.remembered(families[0]), None);
        assert_eq!(revocations.remembered(families[2]), Some(true));
    }
}
