//! Group commit for note updates: every room's appends go to one task, which stores all the
//! requests that queued up meanwhile in a single write transaction.
//!
//! SQLite admits one writer at a time and a PostgreSQL commit waits for its WAL flush, so
//! with many rooms typing at once a transaction per room per batch spends its time waiting
//! for the lock or the flush. One transaction for everything queued pays that cost once,
//! and the queue is the natural place to bound how many appends are in flight.

use bytes::Bytes;
use crdt::StoreError;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{BeginWrite, Db};
use crate::on_pool;

/// Requests waiting for the writer; rooms wait when it is full.
const QUEUE: usize = 1024;
/// Requests stored in one transaction at most.
const MAX_GROUP: usize = 256;

/// One room's append: its updates and where to send the last sequence number (`None`: the
/// note no longer exists).
struct Append {
    note: Uuid,
    updates: Vec<Bytes>,
    reply: oneshot::Sender<Result<Option<i64>, sqlx::Error>>,
}

/// The sending side of the writer task.
#[derive(Clone, Debug)]
pub struct AppendQueue {
    requests: mpsc::Sender<Append>,
}

impl AppendQueue {
    /// Spawns the writer on the current runtime. It stops when every queue handle is gone.
    pub fn start(db: Db) -> Self {
        let (requests, inbox) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, inbox));
        AppendQueue { requests }
    }

    /// Stores `updates` after the note's last sequence number, durably; returns the new
    /// last one.
    pub async fn append(&self, note: Uuid, updates: Vec<Bytes>) -> Result<i64, StoreError> {
        let (reply, answer) = oneshot::channel();
        let request = Append {
            note,
            updates,
            reply,
        };
        let stopped = || StoreError::Backend("the note writer stopped".into());
        self.requests.send(request).await.map_err(|_| stopped())?;
        match answer.await.map_err(|_| stopped())? {
            Ok(Some(last)) => Ok(last),
            Ok(None) => Err(StoreError::NotFound),
            Err(error) => Err(StoreError::Backend(Box::new(error))),
        }
    }
}

async fn write_groups(db: Db, mut inbox: mpsc::Receiver<Append>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while inbox.recv_many(&mut group, MAX_GROUP).await > 0 {
        match write(&db, &group).await {
            Ok(lasts) => {
                for (request, last) in group.drain(..).zip(lasts) {
                    let _ = request.reply.send(Ok(last));
                }
            }
            // One request may be at fault; alone, the others go through.
            Err(_) if group.len() > 1 => {
                for request in group.drain(..) {
                    let single = std::slice::from_ref(&request);
                    let answer = write(&db, single).await.map(|mut lasts| lasts.remove(0));
                    let _ = request.reply.send(answer);
                }
            }
            Err(error) => {
                if let Some(request) = group.pop() {
                    let _ = request.reply.send(Err(error));
                }
            }
        }
    }
}

/// Stores every request of `group` in one transaction; per request, the last sequence
/// number, or `None` when its note is gone (a note's log cannot outlive the note).
async fn write(db: &Db, group: &[Append]) -> Result<Vec<Option<i64>>, sqlx::Error> {
    let mut lasts = Vec::with_capacity(group.len());
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for request in group {
            let note = sqlx::query("SELECT 1 FROM notes WHERE id = $1")
                .bind(request.note)
                .fetch_optional(&mut *tx)
                .await?;
            if note.is_none() {
                lasts.push(None);
                continue;
            }
            let mut seq: i64 = sqlx::query_scalar(
                "SELECT COALESCE(
                    (SELECT MAX(seq) FROM note_updates WHERE note_id = $1),
                    (SELECT through_seq FROM note_snapshots WHERE note_id = $1),
                    0)",
            )
            .bind(request.note)
            .fetch_one(&mut *tx)
            .await?;
            for update in &request.updates {
                seq += 1;
                sqlx::query("INSERT INTO note_updates (note_id, seq, data) VALUES ($1, $2, $3)")
                    .bind(request.note)
                    .bind(seq)
                    .bind(update.as_ref())
                    .execute(&mut *tx)
                    .await?;
            }
            lasts.push(Some(seq));
        }
        tx.commit().await
    })?;
    Ok(lasts)
}
