//! Who a note is shared with, and how.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    /// `read` or `write`.
    pub permission: String,
    pub created_at: DateTime<Utc>,
}

/// Shares `note_id` with `user_id`, or changes the permission of an existing share.
pub async fn upsert(
    db: &Db,
    note_id: Uuid,
    user_id: Uuid,
    permission: &str,
) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "INSERT INTO note_shares (id, note_id, user_id, permission, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (note_id, user_id) DO UPDATE SET permission = excluded.permission"
    )
    .bind(Uuid::new_v4())
    .bind(note_id)
    .bind(user_id)
    .bind(permission)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn list(db: &Db, note_id: Uuid) -> Result<Vec<Share>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT s.user_id, u.email, u.name, s.permission, s.created_at
         FROM note_shares s JOIN users u ON u.id = s.user_id
         WHERE s.note_id = $1 ORDER BY s.created_at, u.email"
    )
    .bind(note_id)
    .fetch_all(pool)
    .await)
}

/// Removes a share; false when there was none.
pub async fn revoke(db: &Db, note_id: Uuid, user_id: Uuid) -> Result<bool, sqlx::Error> {
    let removed = on_pool!(db, |pool| sqlx::query(
        "DELETE FROM note_shares WHERE note_id = $1 AND user_id = $2"
    )
    .bind(note_id)
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(removed > 0)
}
