//! A recording's transcript: each audio track transcribed on its own, through the same job
//! queue and pipeline as uploads, then merged by time with the speaker on every segment.
//!
//! A track becomes an audio recording of the session's host (`origin = session`, so it is
//! not listed with uploads), whose file is a hard link to the track's file. Every track's
//! file starts at the recording's start, so a segment's time in its track is its time in
//! the recording: merging is a sort, and overlapping speech stays two segments.

use std::path::Path;

use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::recording_dir;
use crate::db::jobs::{self, JobStatus};
use crate::db::recordings::{self, Origin, Recording};
use crate::db::session_recordings::{self, RecordingTrack};
use crate::db::{Db, sessions, transcripts};
use crate::transcription::{Transcription, audio_path};

/// Queues a transcription for each audio track of `recording` that has none yet.
pub async fn queue(
    db: &Db,
    data_dir: &Path,
    transcription: &Transcription,
    recording: Uuid,
) -> anyhow::Result<()> {
    let Some(found) = session_recordings::find(db, recording).await? else {
        return Ok(());
    };
    let Some(session) = sessions::find(db, found.session_id).await? else {
        return Ok(());
    };
    let dir = recording_dir(data_dir, recording);
    for track in session_recordings::tracks(db, recording).await? {
        if track.codec != "opus" || track.transcript_id.is_some() {
            continue;
        }
        let audio_id = Uuid::new_v4();
        let format = transcribe::AudioFormat::OggOpus.extension();
        let source = dir.join(&track.file_name);
        let target = audio_path(data_dir, audio_id, format);
        let linked = tokio::task::spawn_blocking(move || link_and_probe(&source, &target)).await?;
        let (file_size, duration_secs) = match linked {
            Ok(info) => info,
            Err(error) => {
                // A track that never carried a packet has headers only: nothing to say.
                tracing::info!(%recording, track = %track.id, %error, "a track is not transcribed");
                continue;
            }
        };
        let audio = Recording {
            id: audio_id,
            user_id: session.host_id,
            module_id: None,
            title: format!("{} — {}", session.title, track.display_name),
            file_name: track.file_name.clone(),
            format: format.to_owned(),
            file_size,
            duration_secs,
            created_at: Utc::now(),
        };
        recordings::insert(db, &audio, Origin::Session).await?;
        session_recordings::finish_track(db, track.id, file_size, Some(audio_id)).await?;
        jobs::enqueue(db, audio_id).await?;
        transcription.job_queued();
    }
    Ok(())
}

/// Links the track's file into the audio directory and reads its size and duration.
fn link_and_probe(source: &Path, target: &Path) -> anyhow::Result<(i64, f64)> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if std::fs::hard_link(source, target).is_err() {
        std::fs::copy(source, target)?;
    }
    let info = match transcribe::probe(target) {
        Ok(info) if info.duration_secs > 0.0 => info,
        Ok(_) => {
            let _ = std::fs::remove_file(target);
            anyhow::bail!("the track is empty")
        }
        Err(error) => {
            let _ = std::fs::remove_file(target);
            return Err(error.into());
        }
    };
    let size = std::fs::metadata(target)?.len();
    Ok((i64::try_from(size)?, info.duration_secs))
}

/// One segment of the merged transcript.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpeakerSegment {
    /// Seconds from the recording's start.
    pub start_secs: f64,
    pub end_secs: f64,
    pub text: String,
    /// Who spoke: the track's publisher.
    pub participant_id: Uuid,
    pub display_name: String,
    /// The track the words are in (to play them from `startSecs`).
    pub track_id: Uuid,
}

/// Where each audio track's transcription is.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrackTranscription {
    pub track_id: Uuid,
    pub display_name: String,
    /// The transcription job's status; `null` when none is queued (the recording still
    /// runs, or the track carried no audio).
    pub status: Option<JobStatus>,
    pub progress: f64,
}

/// The merged transcript and where each part of it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MergedTranscript {
    pub tracks: Vec<TrackTranscription>,
    /// Every track's segments in time order (ties: by track start).
    pub segments: Vec<SpeakerSegment>,
}

/// The merged transcript of `tracks` (a recording's, in start order).
pub async fn merged(db: &Db, tracks: &[RecordingTrack]) -> Result<MergedTranscript, sqlx::Error> {
    let mut merged = MergedTranscript {
        tracks: Vec::new(),
        segments: Vec::new(),
    };
    for track in tracks.iter().filter(|t| t.codec == "opus") {
        let job = match track.transcript_id {
            Some(audio) => jobs::for_recording(db, audio).await?,
            None => None,
        };
        merged.tracks.push(TrackTranscription {
            track_id: track.id,
            display_name: track.display_name.clone(),
            status: job.as_ref().map(|j| j.status),
            progress: job.as_ref().map_or(0.0, |j| j.progress),
        });
        let Some(audio) = track.transcript_id else {
            continue;
        };
        for segment in transcripts::segments(db, audio).await? {
            merged.segments.push(SpeakerSegment {
                start_secs: segment.start_secs,
                end_secs: segment.end_secs,
                text: segment.text,
                participant_id: track.participant_id,
                display_name: track.display_name.clone(),
                track_id: track.id,
            });
        }
    }
    // Stable: segments of one track keep their order, earlier tracks win ties.
    merged
        .segments
        .sort_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    Ok(merged)
}
