//! Each note's Yjs document: the update log and its snapshot, behind the `crdt` crate's
//! [`NoteStore`] contract.
//!
//! One body, two views: every append also writes the body's plain text to `notes.content`
//! (bumping `version` and `updated_at`) in the same transaction, so REST reads, full-text
//! search and exports always show the text as of the last stored update.

use bytes::Bytes;
use chrono::Utc;
use crdt::{NoteId, NoteStore, Snapshot, StoreError, StoredNote};
use uuid::Uuid;

use super::{BeginWrite, Db};
use crate::on_pool;

/// The rooms' storage, over the server's database.
#[derive(Clone, Debug)]
pub struct DbNoteStore {
    db: Db,
}

impl DbNoteStore {
    pub fn new(db: Db) -> Self {
        DbNoteStore { db }
    }
}

/// Note ids are UUIDs; anything else names no note.
fn note_uuid(note: &NoteId) -> Result<Uuid, StoreError> {
    Uuid::parse_str(note.as_str()).map_err(|_| StoreError::NotFound)
}

fn backend(error: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(error))
}

impl NoteStore for DbNoteStore {
    async fn load(&self, note: &NoteId) -> Result<StoredNote, StoreError> {
        let id = note_uuid(note)?;
        let content = body_text(&self.db, id)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        let mut stored = load(&self.db, id).await.map_err(backend)?;
        if stored == StoredNote::default() && !content.is_empty() {
            // A note whose body was written before it had a document: seed it once.
            stored.updates = vec![(1, seed(&self.db, id, &content).await.map_err(backend)?)];
        }
        Ok(stored)
    }

    async fn append(
        &self,
        note: &NoteId,
        updates: &[Bytes],
        text: &str,
    ) -> Result<u64, StoreError> {
        let id = note_uuid(note)?;
        let last = append(&self.db, id, updates, text).await.map_err(backend)?;
        let last = last.ok_or(StoreError::NotFound)?;
        u64::try_from(last).map_err(|_| StoreError::Backend("negative sequence number".into()))
    }

    async fn compact(&self, note: &NoteId, snapshot: Snapshot) -> Result<(), StoreError> {
        let id = note_uuid(note)?;
        compact(&self.db, id, &snapshot).await.map_err(backend)
    }
}

/// The plain-text body, or `None` when the note does not exist.
async fn body_text(db: &Db, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT content FROM notes WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(pool)
    .await)
}

async fn load(db: &Db, id: Uuid) -> Result<StoredNote, sqlx::Error> {
    on_pool!(db, |pool| {
        let snapshot: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT state FROM note_snapshots WHERE note_id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?;
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, data FROM note_updates WHERE note_id = $1 ORDER BY seq")
                .bind(id)
                .fetch_all(pool)
                .await?;
        let updates = rows
            .into_iter()
            .filter_map(|(seq, data)| Some((u64::try_from(seq).ok()?, data)))
            .collect();
        Ok(StoredNote { snapshot, updates })
    })
}

/// Stores the first update of a document holding `text`, unless one exists; returns the
/// stored first update.
async fn seed(db: &Db, id: Uuid, text: &str) -> Result<Vec<u8>, sqlx::Error> {
    let update = crdt::seed_update(text);
    on_pool!(db, |pool| {
        sqlx::query(
            "INSERT INTO note_updates (note_id, seq, data) VALUES ($1, 1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(&update)
        .execute(pool)
        .await?;
        sqlx::query_scalar("SELECT data FROM note_updates WHERE note_id = $1 AND seq = 1")
            .bind(id)
            .fetch_one(pool)
            .await
    })
}

/// Appends `updates` after the last stored sequence number and writes `text` as the body,
/// in one transaction. `None` when the note no longer exists.
async fn append(
    db: &Db,
    id: Uuid,
    updates: &[Bytes],
    text: &str,
) -> Result<Option<i64>, sqlx::Error> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        // Updating the note first also locks its row (PostgreSQL) for the sequence below.
        let touched = sqlx::query(
            "UPDATE notes SET content = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(text)
        .bind(Utc::now())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if touched == 0 {
            return Ok(None);
        }
        let mut seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(
                (SELECT MAX(seq) FROM note_updates WHERE note_id = $1),
                (SELECT through_seq FROM note_snapshots WHERE note_id = $1),
                0)",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        for update in updates {
            seq += 1;
            sqlx::query("INSERT INTO note_updates (note_id, seq, data) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(seq)
                .bind(update.as_ref())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(seq))
    })
}

/// Replaces the snapshot and drops the updates it folds in, in one transaction.
async fn compact(db: &Db, id: Uuid, snapshot: &Snapshot) -> Result<(), sqlx::Error> {
    let through = i64::try_from(snapshot.through_seq).unwrap_or(i64::MAX);
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO note_snapshots (note_id, state, through_seq) VALUES ($1, $2, $3)
             ON CONFLICT (note_id) DO UPDATE
             SET state = excluded.state, through_seq = excluded.through_seq",
        )
        .bind(id)
        .bind(&snapshot.state)
        .bind(through)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM note_updates WHERE note_id = $1 AND seq <= $2")
            .bind(id)
            .bind(through)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })
}
