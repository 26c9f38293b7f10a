//! Keyframe requests toward a publisher, at most one per interval.
//!
//! Every subscriber that joins, switches layer or loses a picture asks for a keyframe; with
//! many subscribers that would be a storm of PLIs making the publisher send a keyframe (the
//! largest frame) over and over. One request per interval is forwarded; a request that
//! arrives inside the interval is remembered and sent when it ends, unless a keyframe
//! arrived meanwhile and made it moot.

use std::time::{Duration, Instant};

/// The throttle for one publisher layer.
#[derive(Debug)]
pub struct KeyframeThrottle {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl KeyframeThrottle {
    /// A throttle letting one request through per `interval`.
    pub fn new(interval: Duration) -> KeyframeThrottle {
        KeyframeThrottle {
            interval,
            last_sent: None,
            pending: false,
        }
    }

    /// Someone needs a keyframe. True if the request must be sent to the publisher now;
    /// otherwise it is held until [`KeyframeThrottle::poll_timeout`].
    pub fn request(&mut self, now: Instant) -> bool {
        match self.last_sent {
            Some(at) if now < at + self.interval => {
                self.pending = true;
                false
            }
            _ => {
                self.last_sent = Some(now);
                self.pending = false;
                true
            }
        }
    }

    /// A keyframe arrived: a held request is satisfied.
    pub fn keyframe_received(&mut self) {
        self.pending = false;
    }

    /// When a held request is due, if one is held.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.pending, self.last_sent) {
            (true, Some(at)) => Some(at + self.interval),
            _ => None,
        }
    }

    /// Time passed: true if a held request is due and must be sent now.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.poll_timeout() {
            Some(due) if now >= due => self.request(now),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn one_request_per_interval_goes_through() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(SEC);
        assert!(k.request(t0));
        assert!(!k.request(t0 + Duration::from_millis(10)));
        assert!(!k.request(t0 + Duration::from_millis(900)));
        assert!(k.request(t0 + SEC));
    }

    #[test]
    fn a_held_request_is_sent_when_the_interval_ends() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(SEC);
        assert!(k.request(t0));
        assert_eq!(k.poll_timeout(), None);
        assert!(!k.request(t0 + Duration::from_millis(300)));
        assert_eq!(k.poll_timeout(), Some(t0 + SEC));
        assert!(!k.handle_timeout(t0 + Duration::from_millis(999)));
        assert!(k.handle_timeout(t0 + SEC));
        assert_eq!(k.poll_timeout(), None);
        // The next one is throttled from the held request's time.
        assert!(!k.request(t0 + Duration::from_millis(1500)));
    }

    #[test]
    fn a_keyframe_makes_a_held_request_moot() {
        let t0 = Instant::now();
        let mut k = KeyframeThrottle::new(SEC);
        assert!(k.request(t0));
        assert!(!k.request(t0 + Duration::from_millis(100)));
        k.keyframe_received();
        assert_eq!(k.poll_timeout(), None);
        assert!(!k.handle_timeout(t0 + 2 * SEC));
    }
}
