//! The one writer of note documents: every room's appends, text saves and compactions go to
//! one task, which stores all the requests that queued up meanwhile in a single write
//! transaction (group commit).
//!
//! SQLite admits one writer at a time, and a writer that finds the lock taken sleeps in
//! SQLite's busy handler for up to 100 ms a try; a PostgreSQL commit waits for its WAL flush.
//! With many rooms typing at once, a transaction per room per batch spent its time waiting.
//! One task writing for all of them never contends with itself and pays each cost once per
//! group; the queue also bounds how many writes are in flight.

use bytes::Bytes;
use chrono::Utc;
use crdt::{Snapshot, StoreError};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::wal_checkpoint::WalCheckpoints;
use super::{Db, DbConnection, is_foreign_key_violation};
use crate::on_connection;

/// Requests waiting for the writer; rooms wait when it is full.
const QUEUE: usize = 1024;
/// Requests stored in one transaction at most.
const MAX_GROUP: usize = 256;

/// One write to a note's document.
enum Write {
    /// Store updates after the note's last sequence number.
    Append(Vec<Bytes>),
    /// Save the text as of `through_seq`, unless a newer one is saved.
    SaveText { text: String, through_seq: i64 },
    /// Replace the snapshot, drop the updates it folds in, save its text.
    Compact(Snapshot),
}

/// What a write did.
enum Written {
    /// The updates were stored; the new last sequence number.
    Appended(i64),
    Done,
    /// The note no longer exists.
    NoteGone,
}

struct Request {
    note: Uuid,
    write: Write,
    reply: oneshot::Sender<Result<Written, sqlx::Error>>,
}

/// The sending side of the writer task.
#[derive(Clone, Debug)]
pub struct NoteWriter {
    requests: mpsc::Sender<Request>,
}

impl NoteWriter {
    /// Spawns the writer on the current runtime. It stops when every handle is gone.
    pub fn start(db: Db) -> Self {
        let (requests, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, inbox));
        NoteWriter { requests }
    }

    /// Stores `updates` durably; returns the note's new last sequence number.
    pub async fn append(&self, note: Uuid, updates: Vec<Bytes>) -> Result<i64, StoreError> {
        match self.write(note, Write::Append(updates)).await? {
            Written::Appended(last) => Ok(last),
            Written::Done | Written::NoteGone => Err(StoreError::NotFound),
        }
    }

    /// Saves `text` as the body reflecting the updates through `through_seq`.
    pub async fn save_text(
        &self,
        note: Uuid,
        text: String,
        through_seq: i64,
    ) -> Result<(), StoreError> {
        self.write(note, Write::SaveText { text, through_seq })
            .await
            .map(drop)
    }

    /// Stores `snapshot` in place of the updates it folds in.
    pub async fn compact(&self, note: Uuid, snapshot: Snapshot) -> Result<(), StoreError> {
        self.write(note, Write::Compact(snapshot)).await.map(drop)
    }

    async fn write(&self, note: Uuid, write: Write) -> Result<Written, StoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Request { note, write, reply };
        let stopped = || StoreError::Backend("the note writer stopped".into());
        self.requests.send(request).await.map_err(|_| stopped())?;
        answer
            .await
            .map_err(|_| stopped())?
            .map_err(|error| StoreError::Backend(Box::new(error)))
    }
}

async fn write_groups(db: Db, mut inbox: mpsc::Receiver<Request>) {
    let mut writer = Writer::new(db);
    let mut group = Vec::with_capacity(MAX_GROUP);
    while inbox.recv_many(&mut group, MAX_GROUP).await > 0 {
        let started = std::time::Instant::now();
        let written = writer.write(&group).await;
        metrics::histogram!("note_write_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("note_write_group_requests").record(group.len() as f64);
        match written {
            Ok(results) => {
                for (request, result) in group.drain(..).zip(results) {
                    let _ = request.reply.send(Ok(result));
                }
            }
            // One request may be at fault (its note deleted meanwhile); alone, the others go
            // through.
            Err(_) if group.len() > 1 => {
                for request in group.drain(..) {
                    let single = std::slice::from_ref(&request);
                    let answer = writer.write(single).await.map(|mut r| r.remove(0));
                    let _ = request.reply.send(answer.or_else(note_gone));
                }
            }
            Err(error) => {
                if let Some(request) = group.pop() {
                    let _ = request.reply.send(note_gone(error));
                }
            }
        }
        writer.after_group().await;
    }
}

/// The writer task's database side: its own connection, taken when first needed and
/// again after one fails.
struct Writer {
    db: Db,
    connection: Option<DbConnection>,
    /// SQLite only: see [`WalCheckpoints`].
    checkpoints: Option<WalCheckpoints>,
}

impl Writer {
    /// A writer without a connection yet; on SQLite it starts the WAL checkpoints too.
    fn new(db: Db) -> Self {
        let checkpoints = match &db {
            Db::Sqlite(pool) => Some(WalCheckpoints::start(pool.clone())),
            Db::Postgres(_) => None,
        };
        Writer {
            db,
            connection: None,
            checkpoints,
        }
    }

    /// Performs every request of `group` in one commit; fails as a whole.
    async fn write(&mut self, group: &[Request]) -> Result<Vec<Written>, sqlx::Error> {
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => self.connection.insert(self.connect().await?),
        };
        let written = match lone_updates(group) {
            Some(rows) => append_lone_updates(connection, &rows).await,
            None => write_group(connection, group).await,
        };
        // A refused statement leaves the connection usable; anything else may not have.
        if written
            .as_ref()
            .is_err_and(|error| error.as_database_error().is_none())
        {
            self.connection = None;
        }
        written
    }

    async fn connect(&self) -> Result<DbConnection, sqlx::Error> {
        let mut connection = self.db.acquire().await?;
        if let DbConnection::Sqlite(connection) = &mut connection {
            WalCheckpoints::take_over(connection).await?;
        }
        Ok(connection)
    }

    /// Work that waits until a group's writers have their answers: finishing a WAL
    /// checkpoint (SQLite).
    async fn after_group(&mut self) {
        if let (Some(checkpoints), Some(DbConnection::Sqlite(connection))) =
            (&self.checkpoints, &mut self.connection)
        {
            checkpoints.restart_if_due(connection).await;
        }
    }
}

/// A write refused by the foreign key to `notes` names a deleted note; the note's room
/// closes with 4404 rather than 4502.
fn note_gone(error: sqlx::Error) -> Result<Written, sqlx::Error> {
    if is_foreign_key_violation(&error) {
        Ok(Written::NoteGone)
    } else {
        Err(error)
    }
}

/// Stores one update after the note's last: the log's newest, else the snapshot's, else 0.
/// One statement, as each is a round trip to SQLite's worker thread.
const APPEND: &str = "INSERT INTO note_updates (note_id, seq, data)
                      VALUES ($1, COALESCE(
                                  (SELECT MAX(seq) FROM note_updates WHERE note_id = $1),
                                  (SELECT through_seq FROM note_snapshots WHERE note_id = $1),
                                  0) + 1,
                              $2)
                      RETURNING seq";

/// The group as `(note, update)` rows when every request stores one update of a distinct
/// note, the usual group under load (a room merges each batch into one update and waits for
/// it to be stored before sending the next).
fn lone_updates(group: &[Request]) -> Option<Vec<(Uuid, &[u8])>> {
    let mut rows = Vec::with_capacity(group.len());
    for request in group {
        match &request.write {
            Write::Append(updates) if updates.len() == 1 => {
                rows.push((request.note, updates[0].as_ref()));
            }
            _ => return None,
        }
    }
    let mut notes: Vec<Uuid> = rows.iter().map(|(note, _)| *note).collect();
    notes.sort_unstable();
    notes.dedup();
    (notes.len() == rows.len()).then_some(rows)
}

/// Stores lone updates of distinct notes with one autocommitted statement: one round trip
/// to the database (to SQLite's worker thread) instead of a transaction's
/// `2 + rows`. Each row's sequence number is [`APPEND`]'s; the notes are distinct, so it does not
/// matter whether a row's subquery sees the rows inserted before it.
async fn append_lone_updates(
    connection: &mut DbConnection,
    rows: &[(Uuid, &[u8])],
) -> Result<Vec<Written>, sqlx::Error> {
    let stored: Vec<(Uuid, i64)> = on_connection!(connection, |connection| {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO note_updates (note_id, seq, data)
             SELECT incoming.column1,
                    COALESCE(
                        (SELECT MAX(seq) FROM note_updates WHERE note_id = incoming.column1),
                        (SELECT through_seq FROM note_snapshots WHERE note_id = incoming.column1),
                        0) + 1,
                    incoming.column2
             FROM (",
        );
        insert.push_values(rows, |mut row, (note, update)| {
            row.push_bind(*note).push_bind(*update);
        });
        insert.push(") AS incoming RETURNING note_id, seq");
        insert.build_query_as().fetch_all(&mut **connection).await
    })?;
    // RETURNING does not promise the order of the VALUES.
    rows.iter()
        .map(|(note, _)| {
            stored
                .iter()
                .find(|(stored_note, _)| stored_note == note)
                .map(|(_, seq)| Written::Appended(*seq))
                .ok_or_else(|| sqlx::Error::Protocol(format!("no sequence number for note {note}")))
        })
        .collect()
}

/// Writes a text unless a newer one is saved; a text change is a new version of the note.
const SAVE_TEXT: &str = "UPDATE notes SET content = $1, content_seq = $2, version = version + 1,
                                updated_at = $3
                         WHERE id = $4 AND content_seq < $2";

/// Performs every request of `group`, in order, in one transaction; fails as a whole.
async fn write_group(
    connection: &mut DbConnection,
    group: &[Request],
) -> Result<Vec<Written>, sqlx::Error> {
    let mut results = Vec::with_capacity(group.len());
    let begin = connection.begin_write_statement();
    on_connection!(connection, |connection| {
        let mut tx = sqlx::Connection::begin_with(&mut **connection, begin).await?;
        // No existence check per request: the foreign keys of `note_updates` and
        // `note_snapshots` refuse a deleted note's rows (see `note_gone`), and a text saved
        // for one updates nothing.
        for Request { note, write, .. } in group {
            let (text, through_seq) = match write {
                Write::Append(updates) => {
                    let mut seq = 0;
                    for update in updates {
                        seq = sqlx::query_scalar(APPEND)
                            .bind(note)
                            .bind(update.as_ref())
                            .fetch_one(&mut *tx)
                            .await?;
                    }
                    results.push(Written::Appended(seq));
                    continue;
                }
                Write::SaveText { text, through_seq } => (text, *through_seq),
                Write::Compact(snapshot) => {
                    let through = i64::try_from(snapshot.through_seq).unwrap_or(i64::MAX);
                    sqlx::query(
                        "INSERT INTO note_snapshots (note_id, state, through_seq)
                         VALUES ($1, $2, $3)
                         ON CONFLICT (note_id) DO UPDATE
                         SET state = excluded.state, through_seq = excluded.through_seq",
                    )
                    .bind(note)
                    .bind(&snapshot.state)
                    .bind(through)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM note_updates WHERE note_id = $1 AND seq <= $2")
                        .bind(note)
                        .bind(through)
                        .execute(&mut *tx)
                        .await?;
                    (&snapshot.text, through)
                }
            };
            sqlx::query(SAVE_TEXT)
                .bind(text)
                .bind(through_seq)
                .bind(Utc::now())
                .bind(note)
                .execute(&mut *tx)
                .await?;
            results.push(Written::Done);
        }
        tx.commit().await
    })?;
    Ok(results)
}
