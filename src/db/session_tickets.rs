//! Join tickets already used: a ticket's `jti` is recorded when it opens a connection,
//! so presenting it again is refused. Rows past their expiry are useless (the JWT check
//! refuses the ticket anyway) and are pruned.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// Marks `jti` used; false when it was used before.
pub async fn consume(
    db: &Db,
    jti: Uuid,
    session: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = "INSERT INTO session_tickets (jti, session_id, expires_at) VALUES ($1, $2, $3) \
               ON CONFLICT (jti) DO NOTHING";
    let inserted = on_pool!(db, |pool| sqlx::query(sql)
        .bind(jti)
        .bind(session)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(inserted == 1)
}

/// Deletes the records of tickets that expired before `before`.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let sql = "DELETE FROM session_tickets WHERE expires_at < $1";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
}
