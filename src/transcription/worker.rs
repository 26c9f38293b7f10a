//! One worker: claim the oldest queued job, transcribe it on a blocking thread, store the
//! segments with the job's completion; sleep until woken (or 5 s, to notice jobs queued by
//! another node) when the queue is empty.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::{Transcription, audio_path};
use crate::db::jobs::{self, Job};
use crate::db::transcripts::{self, StoredSegment};
use crate::db::{Db, recordings};

pub(super) async fn run(service: Arc<Transcription>, db: Db, data_dir: PathBuf) {
    loop {
        let claimed = match service.engine().await {
            Ok(engine) => jobs::claim_next(&db, &engine.describe())
                .await
                .map(|job| job.map(|job| (job, Ok(engine)))),
            Err(load_error) => jobs::claim_next(&db, "unavailable")
                .await
                .map(|job| job.map(|job| (job, Err(load_error)))),
        };
        match claimed {
            Ok(Some((job, Ok(engine)))) => process(&service, &db, &data_dir, job, engine).await,
            Ok(Some((job, Err(load_error)))) => {
                let message = format!("the transcription engine is unavailable: {load_error}");
                finish_failed(&db, &job, &message).await;
            }
            Ok(None) => {
                let _ = tokio::time::timeout(Duration::from_secs(5), service.wake.notified()).await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "claiming a transcription job failed; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

async fn process(
    service: &Arc<Transcription>,
    db: &Db,
    data_dir: &std::path::Path,
    job: Job,
    engine: Arc<dyn transcribe::Engine>,
) {
    let recording = match recordings::find_any(db, job.recording_id).await {
        Ok(Some(recording)) => recording,
        Ok(None) => return, // deleted meanwhile; the job row went with it
        Err(err) => return finish_failed(db, &job, &format!("database: {err}")).await,
    };
    let path = audio_path(data_dir, recording.id, &recording.format);
    let cancel = Arc::new(AtomicBool::new(false));
    service.lock_running().insert(job.id, cancel.clone());
    tracing::info!(job = %job.id, recording = %recording.id, "transcription started");
    let started = Instant::now();
    let outcome = transcribe_blocking(db.clone(), job.id, path, engine, cancel).await;
    service.lock_running().remove(&job.id);
    match outcome {
        Ok(transcript) => {
            let segments: Vec<StoredSegment> = transcript
                .segments
                .into_iter()
                .map(|s| StoredSegment {
                    start_secs: s.start,
                    end_secs: s.end,
                    text: s.text.trim().to_owned(),
                    speaker: s.speaker,
                })
                .collect();
            match transcripts::complete_job(db, job.id, recording.id, &segments).await {
                Ok(_) => tracing::info!(
                    job = %job.id,
                    segments = segments.len(),
                    seconds = started.elapsed().as_secs_f64(),
                    "transcription done"
                ),
                Err(err) => finish_failed(db, &job, &format!("storing segments: {err}")).await,
            }
        }
        Err(transcribe::Error::Cancelled) => {
            tracing::info!(job = %job.id, "transcription cancelled")
        }
        Err(err) => finish_failed(db, &job, &err.to_string()).await,
    }
}

/// Runs the pipeline on a blocking thread, writing progress to the job row as it goes (at
/// most every 2 %).
async fn transcribe_blocking(
    db: Db,
    job_id: uuid::Uuid,
    path: PathBuf,
    engine: Arc<dyn transcribe::Engine>,
    cancel: Arc<AtomicBool>,
) -> transcribe::Result<transcribe::Transcript> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut reported = 0.0f32;
        transcribe::transcribe_file_cancellable(&path, engine.as_ref(), &cancel, |done| {
            if done - reported >= 0.02 {
                reported = done;
                let _ = runtime.block_on(jobs::set_progress(&db, job_id, f64::from(done)));
            }
        })
    })
    .await
    .unwrap_or_else(|panic| {
        Err(transcribe::Error::Engine(format!(
            "worker panicked: {panic}"
        )))
    })
}

async fn finish_failed(db: &Db, job: &Job, message: &str) {
    tracing::warn!(job = %job.id, error = message, "transcription failed");
    if let Err(err) = jobs::fail(db, job.id, message).await {
        tracing::error!(job = %job.id, error = %err, "could not record the failure");
    }
}
