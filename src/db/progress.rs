//! Each learner's progress through each module: one row per (user, module), written by
//! progress reports and by live-session attendance.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// Stored as its serde spelling; an unknown stored value is a decoding error, not a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ProgressStatus {
    NotStarted,
    InProgress,
    Completed,
}

impl ProgressStatus {
    /// A status as a request spells it.
    pub fn parse(s: &str) -> Option<ProgressStatus> {
        match s {
            "not_started" => Some(ProgressStatus::NotStarted),
            "in_progress" => Some(ProgressStatus::InProgress),
            "completed" => Some(ProgressStatus::Completed),
            _ => None,
        }
    }
}

/// One learner's progress through one module.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub module_id: Uuid,
    pub status: ProgressStatus,
    /// 0 to 100; always 100 once `completed`.
    pub progress_percent: i64,
    /// The sum of every reported session's minutes.
    pub time_spent_minutes: i64,
    /// When the learner last reported progress.
    pub last_accessed_at: DateTime<Utc>,
    /// When the module became `completed`; `null` while it is not.
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct ProgressRow {
    module_id: Uuid,
    status: ProgressStatus,
    progress_percent: i64,
    time_spent_minutes: i64,
    last_accessed_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
}

impl From<ProgressRow> for Progress {
    fn from(row: ProgressRow) -> Progress {
        Progress {
            module_id: row.module_id,
            status: row.status,
            progress_percent: row.progress_percent,
            time_spent_minutes: row.time_spent_minutes,
            last_accessed_at: row.last_accessed_at,
            completed_at: row.completed_at,
        }
    }
}

macro_rules! progress_columns {
    () => {
        "module_id, status, progress_percent, time_spent_minutes, last_accessed_at, completed_at"
    };
}

/// One report from a learner (already validated).
#[derive(Debug, Clone, Copy)]
pub struct ProgressReport {
    pub status: ProgressStatus,
    pub progress_percent: i64,
    /// Minutes spent since the previous report; added to the total.
    pub time_spent_minutes: i64,
}

/// Records a report: status and percent replace the stored ones (`completed` means 100 %),
/// the minutes add up, `lastAccessedAt` becomes now. `completedAt` is set when the status
/// becomes `completed`, kept while it stays `completed`, and cleared when it moves back —
/// a module that is no longer completed has no completion time, and modules that require
/// it lock again. `None` when the module does not exist.
pub async fn record(
    db: &Db,
    user_id: Uuid,
    module_id: Uuid,
    report: ProgressReport,
) -> Result<Option<Progress>, sqlx::Error> {
    let percent = match report.status {
        ProgressStatus::Completed => 100,
        _ => report.progress_percent,
    };
    let sql = concat!(
        "INSERT INTO progress (id, user_id, module_id, status, progress_percent,
                               time_spent_minutes, last_accessed_at, completed_at)
         SELECT $1, $2, m.id, $4, $5, $6, $7, CASE WHEN $4 = 'completed' THEN $7 END
         FROM modules m WHERE m.id = $3
         ON CONFLICT (user_id, module_id) DO UPDATE SET
            status = excluded.status,
            progress_percent = excluded.progress_percent,
            time_spent_minutes = progress.time_spent_minutes + excluded.time_spent_minutes,
            last_accessed_at = excluded.last_accessed_at,
            completed_at = CASE WHEN excluded.status <> 'completed' THEN NULL
                                ELSE COALESCE(progress.completed_at, excluded.completed_at) END
         RETURNING ",
        progress_columns!()
    );
    let row: Option<ProgressRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(user_id)
        .bind(module_id)
        .bind(report.status)
        .bind(percent)
        .bind(report.time_spent_minutes)
        .bind(Utc::now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(Progress::from))
}

/// Marks `module_id` completed for `user_id` and adds `attended_minutes` to their time:
/// the credit a learner earns by attending the module's live session (see
/// [`super::modules::linked_to_session`]). Unlike a learner's own report this ignores the
/// module's lock — attending the session is the proof. Keeps an earlier completion time.
/// `None` when the module does not exist.
pub async fn credit_completion(
    db: &Db,
    user_id: Uuid,
    module_id: Uuid,
    attended_minutes: i64,
) -> Result<Option<Progress>, sqlx::Error> {
    let report = ProgressReport {
        status: ProgressStatus::Completed,
        progress_percent: 100,
        time_spent_minutes: attended_minutes.max(0),
    };
    record(db, user_id, module_id, report).await
}

/// All of `user_id`'s progress, in workshop order.
pub async fn list_for_user(db: &Db, user_id: Uuid) -> Result<Vec<Progress>, sqlx::Error> {
    let sql = "SELECT p.module_id, p.status, p.progress_percent, p.time_spent_minutes,
                      p.last_accessed_at, p.completed_at
               FROM progress p JOIN modules m ON m.id = p.module_id
               WHERE p.user_id = $1
               ORDER BY m.order_index, m.created_at, m.id";
    let rows: Vec<ProgressRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(Progress::from).collect())
}

/// How all learners are doing in one module.
#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ModuleStats {
    pub module_id: Uuid,
    pub title: String,
    pub order: i64,
    /// Learners who reported any progress.
    pub learners: i64,
    /// Learners whose status is `in_progress` or `completed`.
    pub started: i64,
    pub completed: i64,
    /// Mean `progressPercent` over `learners`; 0 without learners.
    pub average_percent: f64,
    /// Mean `timeSpentMinutes` over `learners`; 0 without learners.
    pub average_time_spent_minutes: f64,
}

/// Per-module statistics for every module, in workshop order.
pub async fn stats(db: &Db) -> Result<Vec<ModuleStats>, sqlx::Error> {
    let sql = "SELECT m.id AS module_id, m.title, m.order_index AS \"order\",
                      COUNT(p.id) AS learners,
                      COUNT(CASE WHEN p.status <> 'not_started' THEN 1 END) AS started,
                      COUNT(CASE WHEN p.status = 'completed' THEN 1 END) AS completed,
                      COALESCE(AVG(CAST(p.progress_percent AS DOUBLE PRECISION)), 0.0)
                          AS average_percent,
                      COALESCE(AVG(CAST(p.time_spent_minutes AS DOUBLE PRECISION)), 0.0)
                          AS average_time_spent_minutes
               FROM modules m LEFT JOIN progress p ON p.module_id = m.id
               GROUP BY m.id, m.title, m.order_index, m.created_at
               ORDER BY m.order_index, m.created_at, m.id";
    on_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await)
}

/// How one learner is doing over all modules.
#[derive(Debug, Clone, Serialize, ToSchema, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct LearnerProgress {
    pub user_id: Uuid,
    pub name: String,
    pub email: String,
    /// Modules the learner completed.
    pub completed: i64,
    /// Modules the learner started and has not completed.
    pub in_progress: i64,
    /// Minutes over every module.
    pub time_spent_minutes: i64,
    /// The learner's latest report; `null` before the first.
    pub last_accessed_at: Option<DateTime<Utc>>,
}

/// Every account with its progress, most recently active first (then by name).
pub async fn learners(
    db: &Db,
    limit: i64,
    offset: i64,
) -> Result<Vec<LearnerProgress>, sqlx::Error> {
    let sql = "SELECT u.id AS user_id, u.name, u.email,
                      COUNT(CASE WHEN p.status = 'completed' THEN 1 END) AS completed,
                      COUNT(CASE WHEN p.status = 'in_progress' THEN 1 END) AS in_progress,
                      CAST(COALESCE(SUM(p.time_spent_minutes), 0) AS BIGINT) AS time_spent_minutes,
                      MAX(p.last_accessed_at) AS last_accessed_at
               FROM users u LEFT JOIN progress p ON p.user_id = u.id
               GROUP BY u.id, u.name, u.email
               ORDER BY MAX(p.last_accessed_at) DESC NULLS LAST, u.name, u.id
               LIMIT $1 OFFSET $2";
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)
}

/// When modules were completed since `since`, one timestamp per completion (the caller
/// buckets them by day: a date expression would differ between the backends).
pub async fn completions_since(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, sqlx::Error> {
    let sql = "SELECT completed_at FROM progress
               WHERE status = 'completed' AND completed_at >= $1
               ORDER BY completed_at";
    let rows: Vec<(DateTime<Utc>,)> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(since)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(|(at,)| at).collect())
}
