//! Each note's Yjs document: the update log and its snapshot, behind the `crdt` crate's
//! [`NoteStore`] contract.
//!
//! One body, two views: the log is the truth, and `notes.content` is its plain text for REST
//! reads, full-text search and exports. Every write goes through [`NoteWriter`] (group
//! commit); appends touch only the log, and the room saves the text about once a second, on
//! compaction and on unload, recording in `content_seq` the last update it reflects.

use bytes::Bytes;
use crdt::{NoteId, NoteStore, Snapshot, StoreError, StoredNote};
use uuid::Uuid;

use super::Db;
use super::note_writer::NoteWriter;
use crate::on_pool;

/// The rooms' storage, over the server's database.
#[derive(Clone, Debug)]
pub struct DbNoteStore {
    db: Db,
    writer: NoteWriter,
}

impl DbNoteStore {
    /// Starts the store's append writer; call from within the runtime.
    pub fn new(db: Db) -> Self {
        DbNoteStore {
            writer: NoteWriter::start(db.clone()),
            db,
        }
    }
}

/// Note ids are UUIDs; anything else names no note.
fn note_uuid(note: &NoteId) -> Result<Uuid, StoreError> {
    Uuid::parse_str(note.as_str()).map_err(|_| StoreError::NotFound)
}

fn backend(error: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(error))
}

/// Sequence numbers are stored as signed 64-bit integers.
fn stored_seq(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl NoteStore for DbNoteStore {
    async fn load(&self, note: &NoteId) -> Result<StoredNote, StoreError> {
        let id = note_uuid(note)?;
        let (content, content_seq) = body_text(&self.db, id)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        let mut stored = load(&self.db, id).await.map_err(backend)?;
        stored.text_seq = u64::try_from(content_seq).unwrap_or(0);
        if stored.snapshot.is_none() && stored.updates.is_empty() && !content.is_empty() {
            // A note whose body was written before it had a document: seed it once.
            stored.updates = vec![(1, seed(&self.db, id, &content).await.map_err(backend)?)];
            stored.text_seq = 1;
        }
        Ok(stored)
    }

    async fn append(&self, note: &NoteId, updates: &[Bytes]) -> Result<u64, StoreError> {
        let id = note_uuid(note)?;
        // The room relays nothing of a batch until this returns: the latency durability
        // adds to every edit (the writer's queue plus its group commit).
        let started = std::time::Instant::now();
        let last = self.writer.append(id, updates.to_vec()).await;
        metrics::histogram!("note_append_seconds").record(started.elapsed().as_secs_f64());
        let last = last?;
        u64::try_from(last).map_err(|_| StoreError::Backend("negative sequence number".into()))
    }

    async fn save_text(
        &self,
        note: &NoteId,
        text: &str,
        through_seq: u64,
    ) -> Result<(), StoreError> {
        let id = note_uuid(note)?;
        let text = text.to_owned();
        self.writer
            .save_text(id, text, stored_seq(through_seq))
            .await
    }

    async fn compact(&self, note: &NoteId, snapshot: Snapshot) -> Result<(), StoreError> {
        self.writer.compact(note_uuid(note)?, snapshot).await
    }
}

/// The plain-text body and the last update it reflects, or `None` when the note does not
/// exist.
async fn body_text(db: &Db, id: Uuid) -> Result<Option<(String, i64)>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT content, content_seq FROM notes WHERE id = $1"
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
        Ok(StoredNote {
            snapshot,
            updates,
            text_seq: 0,
        })
    })
}

/// Stores the first update of a document holding `text`, unless one exists; returns the
/// stored first update. The stored text already is that update's.
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
        sqlx::query("UPDATE notes SET content_seq = 1 WHERE id = $1 AND content_seq < 1")
            .bind(id)
            .execute(pool)
            .await?;
        sqlx::query_scalar("SELECT data FROM note_updates WHERE note_id = $1 AND seq = 1")
            .bind(id)
            .fetch_one(pool)
            .await
    })
}

/// Notes with stored updates that their saved text does not reflect yet.
pub async fn notes_behind_their_log(db: &Db) -> Result<Vec<Uuid>, sqlx::Error> {
    on_pool!(db, |pool| {
        sqlx::query_scalar(
        "SELECT n.id FROM notes n
         WHERE EXISTS (SELECT 1 FROM note_updates u WHERE u.note_id = n.id AND u.seq > n.content_seq)"
    )
    .fetch_all(pool)
    .await
    })
}
