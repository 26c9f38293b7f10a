//! Pings a WebSocket's peer and notices when it stops answering (note rooms and the hub
//! alike): a peer whose network vanished without a FIN, or a client that never reads,
//! would otherwise hold its socket, its slot and its room's state until TCP gives up.

use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::config::ConnectionsConfig;

/// What the socket's loop must do now.
#[derive(Debug, PartialEq, Eq)]
pub enum Beat {
    /// Send a ping.
    Ping,
    /// The last ping went unanswered past `connections.pong_timeout_secs`: close.
    Late,
}

/// A ping every `connections.ping_secs`, each to be answered by a pong within
/// `connections.pong_timeout_secs`.
pub struct Heartbeat {
    every: Interval,
    answer_within: Duration,
    /// When the unanswered ping's pong is due.
    awaiting: Option<Instant>,
}

impl Heartbeat {
    pub fn new(config: &ConnectionsConfig) -> Self {
        let every = Duration::from_secs(config.ping_secs);
        let mut interval = tokio::time::interval_at(Instant::now() + every, every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            every: interval,
            answer_within: Duration::from_secs(config.pong_timeout_secs),
            awaiting: None,
        }
    }

    /// Resolves when a ping is due or the awaited pong is late. Cancel-safe, for `select!`.
    pub async fn next(&mut self) -> Beat {
        match self.awaiting {
            Some(due) => {
                tokio::time::sleep_until(due).await;
                Beat::Late
            }
            None => {
                self.every.tick().await;
                self.awaiting = Some(Instant::now() + self.answer_within);
                Beat::Ping
            }
        }
    }

    /// A pong arrived: the peer is there. (Any pong counts: RFC 6455 allows unsolicited ones.)
    pub fn pong(&mut self) {
        if self.awaiting.take().is_some() {
            self.every.reset();
        }
    }
}
