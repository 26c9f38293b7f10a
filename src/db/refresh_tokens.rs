//! Refresh tokens, stored as hashes and grouped into families for reuse detection.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use super::{BeginWrite, Db};
use crate::on_pool;

#[derive(Debug, FromRow)]
pub struct RefreshToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a new token of `family_id`.
pub async fn insert(
    db: &Db,
    user_id: Uuid,
    family_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(family_id)
    .bind(token_hash)
    .bind(expires_at)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find_by_hash(db: &Db, token_hash: &[u8]) -> Result<Option<RefreshToken>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at
         FROM refresh_tokens WHERE token_hash = $1"
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await)
}

/// Marks `old` as used and stores its successor, atomically. Returns false when `old` was
/// already rotated or revoked meanwhile (a concurrent use: the caller tells a double-fired
/// twin from reuse).
pub async fn rotate(
    db: &Db,
    old: &RefreshToken,
    new_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE refresh_tokens SET rotated_at = $1
             WHERE id = $2 AND rotated_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(old.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::new_v4())
        .bind(old.user_id)
        .bind(old.family_id)
        .bind(new_hash)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// Whether a family was revoked (logout, or theft detected): revoking marks all its tokens.
pub async fn family_revoked(db: &Db, family_id: Uuid) -> Result<bool, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM refresh_tokens
                        WHERE family_id = $1 AND revoked_at IS NOT NULL)"
    )
    .bind(family_id)
    .fetch_one(pool)
    .await)
}

/// Revokes every token of a family (logout, or theft detected). Call it through
/// `auth::revocation::Revocations::revoke`, which also ends the family's access tokens.
pub async fn revoke_family(db: &Db, family_id: Uuid) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL"
    )
    .bind(Utc::now())
    .bind(family_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Revokes every token of every login of `user_id` except the login `keep` (password
/// change: the caller's own). Returns the logins revoked. Call it through
/// `auth::revocation::Revocations::revoke_user`, which also ends their access tokens.
pub async fn revoke_user(
    db: &Db,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    // No login is named by the nil UUID, so it keeps none.
    let keep = keep.unwrap_or(Uuid::nil());
    let mut families: Vec<Uuid> = on_pool!(db, |pool| sqlx::query_scalar(
        "UPDATE refresh_tokens SET revoked_at = $1
         WHERE user_id = $2 AND family_id <> $3 AND revoked_at IS NULL
         RETURNING family_id"
    )
    .bind(Utc::now())
    .bind(user_id)
    .bind(keep)
    .fetch_all(pool)
    .await)?;
    families.sort_unstable();
    families.dedup();
    Ok(families)
}
