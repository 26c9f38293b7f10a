//! Storage: one interface over two backends.
//!
//! [`Db`] is either a SQLite pool (the embedded default) or a PostgreSQL pool. Queries are
//! written once in the SQL both understand (`$1` placeholders, `RETURNING`, `ON CONFLICT`) and
//! run on whichever pool is configured through [`on_pool!`]; the few statements that differ
//! (full-text search) branch explicitly. Column types are chosen so the same Rust types
//! decode from both: UUIDs (BLOB / UUID), timestamps (RFC 3339 TEXT / TIMESTAMPTZ), JSON
//! (TEXT / JSONB). Each function in the submodules is one storage operation.

pub mod invites;
pub mod jobs;
pub mod modules;
pub mod note_documents;
mod note_rank;
mod note_writer;
pub mod notes;
pub mod password_resets;
pub mod progress;
pub mod recordings;
pub mod refresh_tokens;
pub mod search;
pub mod session_events;
pub mod session_log;
pub mod session_participants;
pub mod session_recordings;
pub mod session_tickets;
pub mod sessions;
pub mod shares;
pub mod transcripts;
pub mod users;
mod wal_checkpoint;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// Runs `$body` with `$pool` bound to the concrete pool, whichever backend is configured.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the concrete connection of a [`DbConnection`].
#[macro_export]
macro_rules! on_connection {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

/// One connection taken from the pool and kept by a task that writes all the time (the
/// note writer): nothing goes back to the pool after each write, and SQLite keeps its page
/// cache for as long as no other connection writes.
#[derive(Debug)]
pub enum DbConnection {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
}

impl DbConnection {
    /// What opens a write transaction here (see [`BeginWrite`]).
    pub fn begin_write_statement(&self) -> &'static str {
        match self {
            DbConnection::Sqlite(_) => SQLITE_BEGIN_WRITE,
            DbConnection::Postgres(_) => "BEGIN",
        }
    }
}

/// Opens a SQLite transaction that will write (see [`BeginWrite`]).
const SQLITE_BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// How long a SQLite connection waits for another's lock before giving up (`SQLITE_BUSY`).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection pool to the configured database.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects to `url` (`sqlite:` or `postgres://`).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        if url.starts_with("sqlite:") {
            // WAL with synchronous=NORMAL survives a process crash (kill -9): committed
            // transactions are in the WAL before COMMIT returns.
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(BUSY_TIMEOUT);
            // No ping before each use: an in-process connection cannot go stale the
            // way a network one can, and the ping is one more hand-off to the
            // connection's thread on every query (the hub's event commits included).
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        let mut handle = conn.lock_handle().await?;
                        // SAFETY: the locked handle is ours alone for the call.
                        unsafe { note_rank::register(handle.as_raw_handle().as_ptr()) }
                            .map_err(|e| sqlx::Error::Configuration(e.into()))
                    })
                })
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Ok(Db::Postgres(pool))
        }
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Takes a connection out of the pool until the returned value is dropped.
    pub async fn acquire(&self) -> Result<DbConnection, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(pool) => DbConnection::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => DbConnection::Postgres(pool.acquire().await?),
        })
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// Starting a transaction that will write.
///
/// On SQLite a plain (deferred) transaction that reads before it writes fails at once with
/// `SQLITE_BUSY` when another connection wrote in between — the busy timeout does not apply
/// to that upgrade — so write transactions take the write lock up front with `BEGIN
/// IMMEDIATE` and wait their turn. PostgreSQL's row locks need nothing special.
pub trait BeginWrite {
    type Database: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;
}

impl BeginWrite for SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with(SQLITE_BEGIN_WRITE).await
    }
}

impl BeginWrite for PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

/// True when `err` is a foreign-key violation (a row naming one that is gone).
pub fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation())
}

/// True when `err` is a unique-constraint violation (duplicate email, ...).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Row, SqliteConnection};

    use super::SQLITE_MIGRATIONS;

    /// Migration 9 rebuilds the note update log as a `WITHOUT ROWID` table: every stored
    /// update survives it, and the key still orders a note's updates.
    #[tokio::test]
    async fn the_update_log_keeps_every_row_through_its_rebuild_without_rowids() {
        let mut db = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        let run = async |db: &mut SqliteConnection, version: i64| {
            let migration = SQLITE_MIGRATIONS
                .iter()
                .find(|m| m.version == version)
                .expect("the migration exists");
            sqlx::raw_sql(migration.sql.clone())
                .execute(db)
                .await
                .unwrap();
        };
        for version in 1..=8 {
            run(&mut db, version).await;
        }
        // The rows only: no note or user is needed with foreign keys off.
        sqlx::raw_sql("PRAGMA foreign_keys = OFF")
            .execute(&mut db)
            .await
            .unwrap();
        for (note, seq, data) in [(1u8, 2, "b"), (1, 1, "a"), (2, 1, "c")] {
            sqlx::query("INSERT INTO note_updates (note_id, seq, data) VALUES ($1, $2, $3)")
                .bind(vec![note])
                .bind(seq)
                .bind(data.as_bytes())
                .execute(&mut db)
                .await
                .unwrap();
        }

        run(&mut db, 9).await;

        let rows = sqlx::query("SELECT note_id, seq, data FROM note_updates ORDER BY note_id, seq")
            .fetch_all(&mut db)
            .await
            .unwrap();
        let rows: Vec<(Vec<u8>, i64, Vec<u8>)> = rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
        assert_eq!(
            rows,
            [
                (vec![1], 1, b"a".to_vec()),
                (vec![1], 2, b"b".to_vec()),
                (vec![2], 1, b"c".to_vec()),
            ]
        );
        let without_rowid = sqlx::query("SELECT rowid FROM note_updates")
            .fetch_all(&mut db)
            .await;
        assert!(without_rowid.is_err(), "note_updates still has rowids");
        let duplicate = sqlx::query("INSERT INTO note_updates VALUES (x'01', 1, x'00')")
            .execute(&mut db)
            .await;
        assert!(duplicate.is_err(), "(note_id, seq) is no longer the key");
    }
}
