//! Live sessions: the schedule and lifecycle (scheduled → live → ended).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// How a session behaves; stored as JSON so settings can grow without migrations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionSettings {
    /// Everyone but hosts and cohosts waits in the lobby until admitted.
    pub lobby: bool,
    /// Only people with an invite (accounts that accepted one, and guests) may join, besides
    /// the host and admins.
    pub invite_only: bool,
}

/// Stored as its serde spelling; an unknown stored value is a decoding error, not a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum SessionStatus {
    Scheduled,
    Live,
    Ended,
}

/// A live session as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LiveSession {
    pub id: Uuid,
    pub host_id: Uuid,
    pub title: String,
    pub description: String,
    pub status: SessionStatus,
    pub scheduled_start: DateTime<Utc>,
    pub scheduled_end: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub settings: SessionSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    host_id: Uuid,
    title: String,
    description: String,
    status: SessionStatus,
    scheduled_start: DateTime<Utc>,
    scheduled_end: Option<DateTime<Utc>>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    settings: Json<SessionSettings>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for LiveSession {
    fn from(r: Row) -> Self {
        LiveSession {
            id: r.id,
            host_id: r.host_id,
            title: r.title,
            description: r.description,
            status: r.status,
            scheduled_start: r.scheduled_start,
            scheduled_end: r.scheduled_end,
            started_at: r.started_at,
            ended_at: r.ended_at,
            settings: r.settings.0,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

macro_rules! columns {
    () => {
        "id, host_id, title, description, status, scheduled_start, scheduled_end, started_at, \
         ended_at, settings, created_at, updated_at"
    };
}

/// The editable fields of a session.
#[derive(Debug, Clone)]
pub struct SessionFields {
    pub title: String,
    pub description: String,
    pub scheduled_start: DateTime<Utc>,
    pub scheduled_end: Option<DateTime<Utc>>,
    pub settings: SessionSettings,
}

pub async fn insert(
    db: &Db,
    host_id: Uuid,
    fields: &SessionFields,
) -> Result<LiveSession, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO live_sessions (id, host_id, title, description, status, scheduled_start, \
         scheduled_end, settings, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'scheduled', $5, $6, $7, $8, $8) RETURNING ",
        columns!()
    );
    let row: Row = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(host_id)
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(fields.scheduled_start)
        .bind(fields.scheduled_end)
        .bind(Json(&fields.settings))
        .bind(Utc::now())
        .fetch_one(pool)
        .await)?;
    Ok(row.into())
}

pub async fn find(db: &Db, id: Uuid) -> Result<Option<LiveSession>, sqlx::Error> {
    let sql = concat!("SELECT ", columns!(), " FROM live_sessions WHERE id = $1");
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(Into::into))
}

/// Which sessions to list: by status and optionally only those `host` hosts.
#[derive(Debug, Clone, Copy)]
pub struct ListFilter {
    pub status: Option<SessionStatus>,
    pub host: Option<Uuid>,
}

/// A page of sessions in schedule order, and how many match in all.
pub async fn list(
    db: &Db,
    filter: ListFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LiveSession>, i64), sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM live_sessions WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR host_id = $2) \
         ORDER BY scheduled_start, id LIMIT $3 OFFSET $4"
    );
    let status = filter.status;
    let rows: Vec<Row> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(status)
        .bind(filter.host)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?;
    let total: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM live_sessions WHERE ($1 IS NULL OR status = $1) \
         AND ($2 IS NULL OR host_id = $2)"
    )
    .bind(status)
    .bind(filter.host)
    .fetch_one(pool)
    .await)?;
    Ok((rows.into_iter().map(Into::into).collect(), total))
}

/// Replaces the editable fields; `None` when there is no such session.
pub async fn update(
    db: &Db,
    id: Uuid,
    fields: &SessionFields,
) -> Result<Option<LiveSession>, sqlx::Error> {
    let sql = concat!(
        "UPDATE live_sessions SET title = $1, description = $2, scheduled_start = $3, \
         scheduled_end = $4, settings = $5, updated_at = $6 WHERE id = $7 RETURNING ",
        columns!()
    );
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(fields.scheduled_start)
        .bind(fields.scheduled_end)
        .bind(Json(&fields.settings))
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(Into::into))
}

/// scheduled → live; `None` when the session is not scheduled (already live or ended).
pub async fn start(db: &Db, id: Uuid) -> Result<Option<LiveSession>, sqlx::Error> {
    let sql = concat!(
        "UPDATE live_sessions SET status = 'live', started_at = $1, updated_at = $1 \
         WHERE id = $2 AND status = 'scheduled' RETURNING ",
        columns!()
    );
    let row: Option<Row> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(Into::into))
}

/// Marks the session ended (from REST or from the hub's `session.ended`); idempotent.
pub async fn mark_ended(db: &Db, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE live_sessions SET status = 'ended', ended_at = $1, updated_at = $1 \
               WHERE id = $2 AND status <> 'ended'";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}
