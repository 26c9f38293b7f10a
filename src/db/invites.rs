//! Invite links to sessions, the guests they admitted, and the accounts that accepted one.
//! Tokens and guest secrets are stored only as SHA-256 hashes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// An invite link, without its token (shown once, at creation).
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    pub id: Uuid,
    pub session_id: Uuid,
    /// The session role it grants: `presenter`, `participant` or `viewer`.
    pub role: String,
    /// Whether people without an account may join with it.
    pub guests: bool,
    /// `null`: no limit.
    pub max_uses: Option<i64>,
    pub uses: i64,
    /// `null`: until the session ends.
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewInvite<'a> {
    pub session: Uuid,
    pub token_hash: &'a [u8],
    pub role: &'a str,
    pub guests: bool,
    pub max_uses: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
}

macro_rules! columns {
    () => {
        "id, session_id, role, guests, max_uses, uses, expires_at, created_at, revoked_at"
    };
}

pub async fn create(db: &Db, new: NewInvite<'_>) -> Result<Invite, sqlx::Error> {
    let sql = concat!(
        "INSERT INTO session_invites (id, session_id, token_hash, role, guests, max_uses, expires_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
        columns!()
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(new.session)
        .bind(new.token_hash)
        .bind(new.role)
        .bind(new.guests)
        .bind(new.max_uses)
        .bind(new.expires_at)
        .bind(new.created_by)
        .bind(Utc::now())
        .fetch_one(pool)
        .await)
}

/// A session's invites, newest first.
pub async fn list(db: &Db, session: Uuid) -> Result<Vec<Invite>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM session_invites WHERE session_id = $1 ORDER BY created_at DESC, id"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session)
        .fetch_all(pool)
        .await)
}

/// Revokes an invite of `session`; false when there is none.
pub async fn revoke(db: &Db, session: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE session_invites SET revoked_at = COALESCE(revoked_at, $3) WHERE session_id = $1 AND id = $2";
    let done = on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(id)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn find(db: &Db, id: Uuid) -> Result<Option<Invite>, sqlx::Error> {
    let sql = concat!("SELECT ", columns!(), " FROM session_invites WHERE id = $1");
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub async fn find_by_token(db: &Db, token_hash: &[u8]) -> Result<Option<Invite>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM session_invites WHERE token_hash = $1"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await)
}

/// Takes one use of the invite if it is still valid at `now`, atomically (two people racing
/// for the last use: one wins). False when it is revoked, expired or used up.
pub async fn take_use(db: &Db, id: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE session_invites SET uses = uses + 1 WHERE id = $1 AND revoked_at IS NULL \
               AND (max_uses IS NULL OR uses < max_uses) AND (expires_at IS NULL OR expires_at > $2)";
    let done = on_pool!(db, |pool| sqlx::query(sql)
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// A guest as stored: who, with which role, and whether banned.
#[derive(Debug, Clone, FromRow)]
pub struct Guest {
    pub id: Uuid,
    pub display_name: String,
    pub secret_hash: Vec<u8>,
    pub role: String,
    pub banned: bool,
}

pub async fn add_guest(
    db: &Db,
    session: Uuid,
    invite: Uuid,
    name: &str,
    secret_hash: &[u8],
    role: &str,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let sql = "INSERT INTO session_guests (id, session_id, invite_id, display_name, secret_hash, role, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(id)
        .bind(session)
        .bind(invite)
        .bind(name)
        .bind(secret_hash)
        .bind(role)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(id)
}

pub async fn find_guest(db: &Db, session: Uuid, id: Uuid) -> Result<Option<Guest>, sqlx::Error> {
    let sql = "SELECT id, display_name, secret_hash, role, banned FROM session_guests \
               WHERE session_id = $1 AND id = $2";
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Records that `user` accepted an invite to `session`; false when they had already.
pub async fn accept(db: &Db, session: Uuid, user: Uuid, invite: Uuid) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO session_invitees (session_id, user_id, invite_id, accepted_at) \
               VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, user_id) DO NOTHING";
    let done = on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(user)
        .bind(invite)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub async fn is_invitee(db: &Db, session: Uuid, user: Uuid) -> Result<bool, sqlx::Error> {
    let sql = "SELECT 1 FROM session_invitees WHERE session_id = $1 AND user_id = $2";
    let row: Option<(i32,)> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session)
        .bind(user)
        .fetch_optional(pool)
        .await)?;
    Ok(row.is_some())
}
