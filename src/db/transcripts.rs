//! Transcript segments: stored with the job's completion, searched like notes.

use chrono::Utc;
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::search::{fts5_query, highlight};
use super::{BeginWrite, Db};
use crate::on_pool;

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredSegment {
    /// Seconds from the start of the recording.
    pub start_secs: f64,
    pub end_secs: f64,
    pub text: String,
    /// Who spoke (session recordings); `null` for uploads.
    pub speaker: Option<String>,
}

/// Replaces the recording's segments and marks its job done, in one transaction; false when
/// the job is no longer running (cancelled meanwhile), in which case nothing is written.
pub async fn complete_job(
    db: &Db,
    job_id: Uuid,
    recording_id: Uuid,
    segments: &[StoredSegment],
) -> Result<bool, sqlx::Error> {
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let done = sqlx::query(
            "UPDATE transcription_jobs SET status = 'done', progress = 1, finished_at = $1
             WHERE id = $2 AND status = 'running'",
        )
        .bind(Utc::now())
        .bind(job_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM transcript_segments WHERE recording_id = $1")
            .bind(recording_id)
            .execute(&mut *tx)
            .await?;
        for (idx, segment) in segments.iter().enumerate() {
            sqlx::query(
                "INSERT INTO transcript_segments
                    (recording_id, idx, start_secs, end_secs, text, speaker)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(recording_id)
            .bind(idx as i64)
            .bind(segment.start_secs)
            .bind(segment.end_secs)
            .bind(&segment.text)
            .bind(&segment.speaker)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

pub async fn segments(db: &Db, recording_id: Uuid) -> Result<Vec<StoredSegment>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_as(
        "SELECT start_secs, end_secs, text, speaker FROM transcript_segments
         WHERE recording_id = $1 ORDER BY idx"
    )
    .bind(recording_id)
    .fetch_all(pool)
    .await)
}

/// A transcript segment that matched.
#[derive(FromRow)]
pub struct SegmentHit {
    pub recording_id: Uuid,
    pub title: String,
    pub start_secs: f64,
    pub snippet: String,
    pub rank: f64,
    /// For a track of a session recording: the session, the recording, the track and its
    /// speaker.
    pub session_id: Option<Uuid>,
    pub session_recording_id: Option<Uuid>,
    pub track_id: Option<Uuid>,
    pub participant_id: Option<Uuid>,
    pub speaker: Option<String>,
}

/// `owner`'s transcript segments matching `words`, best first.
pub async fn search(
    db: &Db,
    owner: Uuid,
    words: &[String],
    limit: i64,
) -> Result<Vec<SegmentHit>, sqlx::Error> {
    let mut hits: Vec<SegmentHit> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT s.recording_id, r.title, s.start_secs,
                        sr.session_id, t.recording_id AS session_recording_id,
                        t.id AS track_id, t.participant_id, t.display_name AS speaker,
                        snippet(transcript_segments_fts, 0, char(2), char(3), '…', 16) AS snippet,
                        -bm25(transcript_segments_fts) AS rank
                 FROM transcript_segments_fts
                 JOIN transcript_segments s ON s.doc_id = transcript_segments_fts.rowid
                 JOIN audio_recordings r ON r.id = s.recording_id
                 LEFT JOIN session_recording_tracks t ON t.transcript_id = r.id
                 LEFT JOIN session_recordings sr ON sr.id = t.recording_id
                 WHERE transcript_segments_fts MATCH $1 AND r.user_id = $2
                 ORDER BY rank DESC, s.recording_id, s.idx LIMIT $3",
            )
            .bind(fts5_query(words))
            .bind(owner)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(
                "SELECT s.recording_id, r.title, s.start_secs,
                        sr.session_id, t.recording_id AS session_recording_id,
                        t.id AS track_id, t.participant_id, t.display_name AS speaker,
                        ts_headline('english', s.text, q,
                          'StartSel=' || chr(2) || ', StopSel=' || chr(3) ||
                          ', MaxWords=24, MinWords=8, MaxFragments=1') AS snippet,
                        ts_rank_cd(s.search_vector, q)::float8 AS rank
                 FROM transcript_segments s
                 JOIN audio_recordings r ON r.id = s.recording_id
                 LEFT JOIN session_recording_tracks t ON t.transcript_id = r.id
                 LEFT JOIN session_recordings sr ON sr.id = t.recording_id
                 CROSS JOIN plainto_tsquery('english', $1) q
                 WHERE s.search_vector @@ q AND r.user_id = $2
                 ORDER BY rank DESC, s.recording_id, s.idx LIMIT $3",
            )
            .bind(words.join(" "))
            .bind(owner)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    for hit in &mut hits {
        hit.snippet = highlight(&hit.snippet);
    }
    Ok(hits)
}
