//! Uploaded audio recordings, scoped to their owner.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    pub id: Uuid,
    pub user_id: Uuid,
    pub module_id: Option<Uuid>,
    pub title: String,
    /// The name the file was uploaded under.
    pub file_name: String,
    /// Detected from the content: `wav`, `mp3`, `m4a` or `ogg-opus`.
    pub format: String,
    pub file_size: i64,
    pub duration_secs: f64,
    pub created_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, user_id, module_id, title, file_name, format, file_size, duration_secs, created_at"
    };
}

/// Where an audio recording came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Origin {
    /// Uploaded through the API: listed with the owner's uploads.
    Upload,
    /// A track of a session recording, transcribed as audio of its own: reached through
    /// the session's recordings, never listed with uploads.
    Session,
}

pub async fn insert(db: &Db, recording: &Recording, origin: Origin) -> Result<(), sqlx::Error> {
    let sql = concat!(
        "INSERT INTO audio_recordings (",
        columns!(),
        ", origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(recording.id)
        .bind(recording.user_id)
        .bind(recording.module_id)
        .bind(&recording.title)
        .bind(&recording.file_name)
        .bind(&recording.format)
        .bind(recording.file_size)
        .bind(recording.duration_secs)
        .bind(recording.created_at)
        .bind(origin)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// The recording if `owner` owns it.
pub async fn find(db: &Db, id: Uuid, owner: Uuid) -> Result<Option<Recording>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM audio_recordings WHERE id = $1 AND user_id = $2"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .bind(owner)
        .fetch_optional(pool)
        .await)
}

/// Any recording, for the job workers.
pub async fn find_any(db: &Db, id: Uuid) -> Result<Option<Recording>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM audio_recordings WHERE id = $1"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A page of `owner`'s recordings, newest first, and the total.
pub async fn list(
    db: &Db,
    owner: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Recording>, i64), sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM audio_recordings WHERE user_id = $1 AND origin = 'upload' \
         ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
    );
    on_pool!(db, |pool| {
        let rows: Vec<Recording> = sqlx::query_as(sql)
            .bind(owner)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audio_recordings WHERE user_id = $1 AND origin = 'upload'",
        )
        .bind(owner)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

/// Deletes the row (job and segments cascade); the caller removes the file.
pub async fn delete(db: &Db, id: Uuid) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM audio_recordings WHERE id = $1"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Ids and formats of every recording `owner` has, so their files can be removed with the
/// account.
pub async fn files_of(db: &Db, owner: Uuid) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, format FROM audio_recordings WHERE user_id = $1"
    )
    .bind(owner)
    .fetch_all(pool)
    .await)
}
