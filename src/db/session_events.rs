//! The hub's event log per session: appended before delivery, replayed after a restart,
//! read for exports.

use signaling::StoredEvent;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// A stored payload that no longer parses: the log is damaged.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("event {seq} of session {session} does not parse: {source}")]
    Corrupt {
        session: Uuid,
        seq: i64,
        source: serde_json::Error,
    },
}

/// Appends one event; a duplicate seq fails (two writers would be a bug).
pub async fn append(db: &Db, session: Uuid, event: &StoredEvent) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO session_events (session_id, seq, kind, payload, at) \
               VALUES ($1, $2, $3, $4, $5)";
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(session)
        .bind(event.seq as i64)
        .bind(event.event.kind())
        .bind(event.to_json())
        .bind(event.at)
        .execute(pool)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// The whole log of a session, in seq order.
pub async fn all(db: &Db, session: Uuid) -> Result<Vec<StoredEvent>, LogError> {
    let sql = "SELECT seq, payload FROM session_events WHERE session_id = $1 ORDER BY seq";
    let rows: Vec<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session)
        .fetch_all(pool)
        .await)?;
    rows.into_iter()
        .map(|(seq, payload)| {
            StoredEvent::from_json(&payload).map_err(|source| LogError::Corrupt {
                session,
                seq,
                source,
            })
        })
        .collect()
}
