//! The `session_events` table: each session's numbered hub events, appended before delivery,
//! replayed after a restart, read for exports.

use signaling::StoredEvent;
use uuid::Uuid;

use super::Db;
use crate::hub::log::LogError;
use crate::on_pool;

/// Most events in one INSERT statement (5 bind parameters each; SQLite allows 32,766).
const EVENTS_PER_STATEMENT: usize = 500;

/// Appends events in seq order, many rows per statement: a group of events costs one
/// commit, not one each. Each statement commits on its own, in order, so whatever
/// precedes a failure is stored. A duplicate seq fails (two writers would be a bug).
pub async fn append(db: &Db, session: Uuid, events: &[&StoredEvent]) -> Result<(), sqlx::Error> {
    for chunk in events.chunks(EVENTS_PER_STATEMENT) {
        on_pool!(db, |pool| {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO session_events (session_id, seq, kind, payload, at) ",
            );
            insert.push_values(chunk, |mut row, event| {
                row.push_bind(session)
                    .push_bind(event.seq as i64)
                    .push_bind(event.event.kind())
                    .push_bind(event.to_json())
                    .push_bind(event.at);
            });
            insert.build().execute(pool).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// The whole log of a session, in seq order.
pub async fn all(db: &Db, session: Uuid) -> Result<Vec<StoredEvent>, LogError> {
    let sql = "SELECT seq, payload FROM session_events WHERE session_id = $1 ORDER BY seq";
    let rows: Vec<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session)
        .fetch_all(pool)
        .await)
    .map_err(LogError::backend)?;
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
