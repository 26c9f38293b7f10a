//! The time the room was last told, shared with yrs' awareness (which wants a clock it can
//! call). Milliseconds since the room was created; set from every input's `now`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub(super) struct RoomClock {
    epoch: Instant,
    millis: Arc<AtomicU64>,
}

impl RoomClock {
    pub(super) fn new(epoch: Instant) -> Self {
        RoomClock {
            epoch,
            millis: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Advances the shared time; never moves it backwards.
    pub(super) fn set(&self, now: Instant) -> u64 {
        let millis = u64::try_from(now.saturating_duration_since(self.epoch).as_millis())
            .unwrap_or(u64::MAX);
        self.millis.fetch_max(millis, Ordering::Relaxed).max(millis)
    }

    /// The latest time the room was told, in its milliseconds.
    pub(super) fn now_ms(&self) -> u64 {
        self.millis.load(Ordering::Relaxed)
    }

    /// The instant `millis` room milliseconds after the room was created.
    pub(super) fn at(&self, millis: u64) -> Instant {
        self.epoch + Duration::from_millis(millis)
    }

    /// The clock function handed to `Awareness::with_clock`.
    pub(super) fn source(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let millis = Arc::clone(&self.millis);
        move || millis.load(Ordering::Relaxed)
    }
}
