//! Recordings of live sessions and their track files (`crate::recording` writes them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::on_pool;

/// Where a recording is. `recording` and `paused` are live; a crash leaves `interrupted`
/// (its files play up to the crash); `failed` is a recorder that gave up (a full disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum RecordingStatus {
    Recording,
    Paused,
    Stopped,
    Interrupted,
    Failed,
}

/// A recording of a session.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecording {
    pub id: Uuid,
    pub session_id: Uuid,
    pub started_by: Option<Uuid>,
    pub status: RecordingStatus,
    /// Whether the session's participants may list and download it (hosts, co-hosts and
    /// admins always may).
    pub shared: bool,
    /// Why the server stopped it, when it did.
    pub stop_reason: Option<String>,
    pub started_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
}

/// One track's file.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingTrack {
    pub id: Uuid,
    pub recording_id: Uuid,
    /// The publisher (a user id).
    pub participant_id: Uuid,
    pub display_name: String,
    /// `microphone`, `camera` or `screen`.
    pub source: String,
    /// `opus` (an Ogg Opus file), `vp8` or `vp9` (an IVF file), or `h264` (an Annex-B
    /// stream).
    pub codec: String,
    pub file_name: String,
    /// When the publisher started, in seconds from the recording's start. The file itself
    /// starts at the recording's start too (silence or a later first frame before it).
    pub started_secs: f64,
    pub file_size: i64,
    /// The audio recording this track is transcribed as, once the recording stopped.
    pub transcript_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

macro_rules! recording_columns {
    () => {
        "id, session_id, started_by, status, shared, stop_reason, started_at, stopped_at"
    };
}

macro_rules! track_columns {
    () => {
        "id, recording_id, participant_id, display_name, source, codec, file_name, \
         started_secs, file_size, transcript_id, created_at"
    };
}

pub async fn insert(db: &Db, recording: &SessionRecording) -> Result<(), sqlx::Error> {
    let sql = concat!(
        "INSERT INTO session_recordings (",
        recording_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(recording.id)
        .bind(recording.session_id)
        .bind(recording.started_by)
        .bind(recording.status)
        .bind(recording.shared)
        .bind(&recording.stop_reason)
        .bind(recording.started_at)
        .bind(recording.stopped_at)
        .execute(pool)
        .await
        .map(|_| ()))
}

pub async fn insert_track(db: &Db, track: &RecordingTrack) -> Result<(), sqlx::Error> {
    let sql = concat!(
        "INSERT INTO session_recording_tracks (",
        track_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    on_pool!(db, |pool| sqlx::query(sql)
        .bind(track.id)
        .bind(track.recording_id)
        .bind(track.participant_id)
        .bind(&track.display_name)
        .bind(&track.source)
        .bind(&track.codec)
        .bind(&track.file_name)
        .bind(track.started_secs)
        .bind(track.file_size)
        .bind(track.transcript_id)
        .bind(track.created_at)
        .execute(pool)
        .await
        .map(|_| ()))
}

/// Sets the status; a stop (`stopped`, `interrupted`, `failed`) also records when and why.
pub async fn set_status(
    db: &Db,
    id: Uuid,
    status: RecordingStatus,
    stopped: Option<(DateTime<Utc>, Option<&str>)>,
) -> Result<(), sqlx::Error> {
    let (stopped_at, reason) = stopped.unzip();
    on_pool!(db, |pool| sqlx::query(
        "UPDATE session_recordings SET status = $2, \
         stopped_at = COALESCE($3, stopped_at), stop_reason = COALESCE($4, stop_reason) \
         WHERE id = $1"
    )
    .bind(id)
    .bind(status)
    .bind(stopped_at)
    .bind(reason.flatten())
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn set_shared(db: &Db, id: Uuid, shared: bool) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE session_recordings SET shared = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(shared)
    .execute(pool)
    .await
    .map(|_| ()))
}

/// Records a finished track's size and, once queued, its transcription.
pub async fn finish_track(
    db: &Db,
    id: Uuid,
    file_size: i64,
    transcript_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "UPDATE session_recording_tracks SET file_size = $2, \
         transcript_id = COALESCE($3, transcript_id) WHERE id = $1"
    )
    .bind(id)
    .bind(file_size)
    .bind(transcript_id)
    .execute(pool)
    .await
    .map(|_| ()))
}

pub async fn find(db: &Db, id: Uuid) -> Result<Option<SessionRecording>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        recording_columns!(),
        " FROM session_recordings WHERE id = $1"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A session's recordings, oldest first.
pub async fn list(db: &Db, session_id: Uuid) -> Result<Vec<SessionRecording>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        recording_columns!(),
        " FROM session_recordings WHERE session_id = $1 ORDER BY started_at, id"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(session_id)
        .fetch_all(pool)
        .await)
}

/// Recordings a crash left live (`recording` or `paused`).
pub async fn live(db: &Db) -> Result<Vec<SessionRecording>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        recording_columns!(),
        " FROM session_recordings WHERE status IN ('recording', 'paused')"
    );
    on_pool!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await)
}

/// The tracks of a recording, in the order they started.
pub async fn tracks(db: &Db, recording_id: Uuid) -> Result<Vec<RecordingTrack>, sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        track_columns!(),
        " FROM session_recording_tracks WHERE recording_id = $1 ORDER BY started_secs, id"
    );
    on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(recording_id)
        .fetch_all(pool)
        .await)
}

/// Deletes the recording and its track rows (their transcriptions go with the audio rows,
/// which the caller deletes); the caller removes the files.
pub async fn delete(db: &Db, id: Uuid) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "DELETE FROM session_recordings WHERE id = $1"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ()))
}
