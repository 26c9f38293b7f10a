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

/// Rows here are for accounts only: a participant that is not an account is a guest, whose
/// role and ban live in `session_guests` (the statements below write whichever exists).
macro_rules! if_account {
    () => {
        " WHERE EXISTS (SELECT 1 FROM users WHERE id = $2) "
    };
}

pub async fn set_role(db: &Db, session: Uuid, user: Uuid, role: &str) -> Result<(), sqlx::Error> {
    let account = concat!(
        "INSERT INTO session_participants (session_id, user_id, role) SELECT $1, $2, $3",
        if_account!(),
        "ON CONFLICT (session_id, user_id) DO UPDATE SET role = excluded.role"
    );
    let guest = "UPDATE session_guests SET role = $3 WHERE session_id = $1 AND id = $2";
    for sql in [account, guest] {
        on_pool!(db, |pool| sqlx::query(sql)
            .bind(session)
            .bind(user)
            .bind(role)
            .execute(pool)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

pub async fn ban(db: &Db, session: Uuid, user: Uuid) -> Result<(), sqlx::Error> {
    let account = concat!(
        "INSERT INTO session_participants (session_id, user_id, banned) SELECT $1, $2, TRUE",
        if_account!(),
        "ON CONFLICT (session_id, user_id) DO UPDATE SET banned = TRUE"
    );
    let guest = "UPDATE session_guests SET banned = TRUE WHERE session_id = $1 AND id = $2";
    for sql in [account, guest] {
        on_pool!(db, |pool| sqlx::query(sql)
            .bind(session)
            .bind(user)
            .execute(pool)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Records a join: the first join time is kept, the leave time cleared.
pub async fn joined(
    db: &Db,
    session: Uuid,
    user: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = concat!(
        "INSERT INTO session_participants (session_id, user_id, joined_at) SELECT $1, $2, $3",
        if_account!(),
        "ON CONFLICT (session_id, user_id) DO UPDATE SET \
         joined_at = COALESCE(session_participants.joined_at, excluded.joined_at), left_at = NULL"
    );
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
