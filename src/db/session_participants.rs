//! Who took part in which live session: their stored session role (a live promotion
//! outlives reconnects and restarts), bans, and first join / last leave.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// One user's standing in one session.
#[derive(Debug, Clone, FromRow)]
pub struct Standing {
    /// The role a moderator gave them (`host`, `cohost`, ...), if any.
    pub role: Option<String>,
    pub banned: bool,
}

pub async fn find(db: &Db, session: Uuid, user: Uuid) -> Result<Option<Standing>, sqlx::Error> {
    let sql =
        "SELECT role, banned FROM session_participants WHERE session_id = $1 AND user_id = $2";
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session)
        .bind(user)
        .fetch_optional(pool)
        .await)
}

pub async fn set_role(db: &Db, session: Uuid, user: Uuid, role: &str) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO session_participants (session_id, user_id, role) VALUES ($1, $2, $3) \
               ON CONFLICT (session_id, user_id) DO UPDATE SET role = excluded.role";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(user)
        .bind(role)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn ban(db: &Db, session: Uuid, user: Uuid) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO session_participants (session_id, user_id, banned) VALUES ($1, $2, TRUE) \
               ON CONFLICT (session_id, user_id) DO UPDATE SET banned = TRUE";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(user)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Records a join: the first join time is kept, the leave time cleared.
pub async fn joined(
    db: &Db,
    session: Uuid,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO session_participants (session_id, user_id, joined_at) VALUES ($1, $2, $3) \
               ON CONFLICT (session_id, user_id) DO UPDATE SET \
               joined_at = COALESCE(session_participants.joined_at, excluded.joined_at), \
               left_at = NULL";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(user)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn left(
    db: &Db,
    session: Uuid,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE session_participants SET left_at = $3 WHERE session_id = $1 AND user_id = $2";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(user)
        .bind(at)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}
