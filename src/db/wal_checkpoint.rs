//! Keeping SQLite's WAL short without making the note writer pay for it.
//!
//! By default the commit that fills 1,000 WAL pages copies them into the database file and
//! syncs it, a few milliseconds every fraction of a second under live editing, and every
//! room's append waits behind that commit. The note writer's connection turns that off.
//! Instead a task copies the pages about once a second on a connection of its own
//! (`PASSIVE`: it never blocks the writer), and then asks the writer to finish the job
//! between two groups (`RESTART`: only the pages written during that copy are left, and
//! the next commit starts the WAL from its beginning, so the file stops growing). A
//! `PASSIVE` pass alone cannot do that while appends keep coming: the WAL grew past 1 GB in
//! a minute of the notes benchmark.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::{AssertSqlSafe, SqliteConnection, SqlitePool};

/// How often the WAL is copied into the database file.
const EVERY: Duration = Duration::from_secs(1);

/// The writer's side of the checkpoints.
#[derive(Debug)]
pub struct WalCheckpoints {
    restart_due: Arc<AtomicBool>,
}

impl WalCheckpoints {
    /// Starts copying `pool`'s WAL in the background. It stops when the pool is closed.
    pub fn start(pool: SqlitePool) -> Self {
        let restart_due = Arc::new(AtomicBool::new(false));
        tokio::spawn(copy_pages(pool, Arc::clone(&restart_due)));
        WalCheckpoints { restart_due }
    }

    /// Makes `connection` leave checkpoints to this.
    pub async fn take_over(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        sqlx::query("PRAGMA wal_autocheckpoint = 0")
            .execute(connection)
            .await
            .map(drop)
    }

    /// Finishes the checkpoint on the writer's `connection` (outside any transaction) if a
    /// background copy completed since the last call. It does not wait for readers still
    /// on older pages (busy timeout 0); it then copies what it can and tries again next time.
    pub async fn restart_if_due(&self, connection: &mut SqliteConnection) {
        if !self.restart_due.swap(false, Ordering::Relaxed) {
            return;
        }
        let restarted = async {
            sqlx::query("PRAGMA busy_timeout = 0")
                .execute(&mut *connection)
                .await?;
            let checkpoint = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
                .execute(&mut *connection)
                .await;
            let restore = format!("PRAGMA busy_timeout = {}", super::BUSY_TIMEOUT.as_millis());
            sqlx::query(AssertSqlSafe(restore))
                .execute(&mut *connection)
                .await?;
            checkpoint.map(drop)
        };
        if let Err(error) = restarted.await {
            tracing::debug!(%error, "WAL restart failed; the next one retries");
        }
    }
}

async fn copy_pages(pool: SqlitePool, restart_due: Arc<AtomicBool>) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        ticks.tick().await;
        match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            Ok(_) => restart_due.store(true, Ordering::Relaxed),
            Err(error) => tracing::debug!(%error, "WAL checkpoint failed; the next one retries"),
        }
    }
}
