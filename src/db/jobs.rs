//! The durable transcription queue: one job row per recording.
//!
//! Workers claim the oldest queued job atomically (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! several nodes can share the queue; SQLite serializes writers anyway). A job found
//! `running` at start belonged to a process that died, and is queued again.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// Where a job is. Stored as its serde spelling; an unknown stored value is a decoding error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: Uuid,
    pub recording_id: Uuid,
    pub status: JobStatus,
    /// 0.0 to 1.0 while running.
    pub progress: f64,
    pub error: Option<String>,
    pub attempts: i64,
    /// The engine that ran it, e.g. `whisper:ggml-tiny.en.bin`.
    pub engine: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, recording_id, status, progress, error, attempts, engine, queued_at, started_at, finished_at"
    };
}

/// Queues the recording's job, creating it or re-queuing a finished one. `None` when a job is
/// already queued or running.
pub async fn enqueue(db: &Db, recording_id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO transcription_jobs (id, recording_id, status, queued_at)
         VALUES ($1, $2, 'queued', $3)
         ON CONFLICT (recording_id) DO UPDATE
            SET status = 'queued', progress = 0, error = NULL, queued_at = excluded.queued_at,
                started_at = NULL, finished_at = NULL
            WHERE transcription_jobs.status IN ('done', 'failed', 'cancelled')
         RETURNING ",
        columns!()
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(recording_id)
        .bind(Utc::now())
        .fetch_optional(pool)
        .await)
}

pub async fn for_recording(db: &Db, recording_id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM transcription_jobs WHERE recording_id = $1"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(recording_id)
        .fetch_optional(pool)
        .await)
}

/// Marks the oldest queued job running and returns it.
pub async fn claim_next(db: &Db, engine: &str) -> Result<Option<Job>, sqlx::Error> {
    let now = Utc::now();
    match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(concat!(
                "UPDATE transcription_jobs
                 SET status = 'running', started_at = $1, attempts = attempts + 1, engine = $2,
                     progress = 0
                 WHERE id = (SELECT id FROM transcription_jobs WHERE status = 'queued'
                             ORDER BY queued_at, id LIMIT 1)
                 RETURNING ",
                columns!()
            ))
            .bind(now)
            .bind(engine)
            .fetch_optional(pool)
            .await
        }
        Db::Postgres(pool) => {
            sqlx::query_as(concat!(
                "UPDATE transcription_jobs
                 SET status = 'running', started_at = $1, attempts = attempts + 1, engine = $2,
                     progress = 0
                 WHERE id = (SELECT id FROM transcription_jobs WHERE status = 'queued'
                             ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                 RETURNING ",
                columns!()
            ))
            .bind(now)
            .bind(engine)
            .fetch_optional(pool)
            .await
        }
    }
}

pub async fn set_progress(db: &Db, id: Uuid, progress: f64) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE transcription_jobs SET progress = $1 WHERE id = $2 AND status = 'running'"
    )
    .bind(progress)
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Ends a running job as `failed` with its error (a cancelled job stays cancelled).
pub async fn fail(db: &Db, id: Uuid, error: &str) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE transcription_jobs SET status = 'failed', error = $1, finished_at = $2
         WHERE id = $3 AND status = 'running'"
    )
    .bind(error)
    .bind(Utc::now())
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Cancels a queued or running job; false when there was none to cancel.
pub async fn cancel(db: &Db, recording_id: Uuid) -> Result<bool, sqlx::Error> {
    let changed = on_pool!(db, |pool| sqlx::query(
        "UPDATE transcription_jobs SET status = 'cancelled', finished_at = $1
         WHERE recording_id = $2 AND status IN ('queued', 'running')"
    )
    .bind(Utc::now())
    .bind(recording_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed > 0)
}

/// Queues again every job a dead process left running. Single node: call once at start.
pub async fn requeue_interrupted(db: &Db) -> Result<u64, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE transcription_jobs SET status = 'queued', progress = 0 WHERE status = 'running'"
    )
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))
}
