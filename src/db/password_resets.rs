//! One-time password-reset links, issued by an admin: stored as SHA-256 hashes, at most
//! one per account, spent on use.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// Stores the reset link of `user_id`, replacing any earlier one.
pub async fn issue(
    db: &Db,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,
             expires_at = excluded.expires_at, created_at = excluded.created_at"
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(expires_at)
    .bind(Utc::now())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Spends the link with this hash: the account it resets, or `None` when it is unknown,
/// already used or expired. Of two concurrent uses only one gets the account.
pub async fn spend(db: &Db, token_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    let user: Option<(Uuid, DateTime<Utc>)> = on_pool!(db, |pool| sqlx::query_as(
        "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at"
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await)?;
    Ok(user.and_then(|(id, expires_at)| (expires_at > Utc::now()).then_some(id)))
}
