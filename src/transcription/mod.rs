//! Transcription jobs: the engine, loaded once on first use, and a pool of workers that take
//! jobs from the durable queue in the database (`db::jobs`) and run the `transcribe`
//! pipeline on blocking threads.

mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OnceCell};
use uuid::Uuid;

use crate::config::TranscriptionConfig;
use crate::db::Db;
use transcribe::{Engine, EngineConfig, Readiness};

/// The engine and the worker pool's shared state.
pub struct Transcription {
    config: EngineConfig,
    workers: usize,
    engine: OnceCell<Arc<dyn Engine>>,
    /// Wakes an idle worker when a job is queued.
    wake: Notify,
    /// Cancel flags of the jobs running in this process.
    running: Mutex<HashMap<Uuid, Arc<AtomicBool>>>,
}

impl Transcription {
    pub fn new(config: &TranscriptionConfig) -> Self {
        Transcription {
            config: config.engine.clone(),
            workers: config.workers,
            engine: OnceCell::new(),
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
        }
    }

    /// The engine, loading it on a blocking thread the first time (a Whisper model takes a
    /// moment to read). A failed load is retried on the next call.
    pub async fn engine(&self) -> transcribe::Result<Arc<dyn Engine>> {
        let config = self.config.clone();
        self.engine
            .get_or_try_init(|| async move {
                tokio::task::spawn_blocking(move || transcribe::build_engine(&config))
                    .await
                    .map_err(|e| transcribe::Error::Engine(e.to_string()))?
            })
            .await
            .cloned()
    }

    /// For `/api/health`: a loaded engine's own readiness; before the first job, whether the
    /// model file is there (Whisper) or the server answers (HTTP engine).
    pub async fn readiness(&self) -> Result<(), String> {
        let engine = match (self.engine.get(), &self.config) {
            (Some(engine), _) => engine.clone(),
            (None, EngineConfig::Whisper(whisper)) => {
                return model_readable(&whisper.model_path);
            }
            (None, EngineConfig::OpenAi(_)) => self.engine().await.map_err(|e| e.to_string())?,
        };
        match tokio::task::spawn_blocking(move || engine.readiness()).await {
            Ok(Readiness::Ready) => Ok(()),
            Ok(Readiness::NotReady(why)) => Err(why),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Tells the workers a job was queued.
    pub fn job_queued(&self) {
        self.wake.notify_one();
    }

    /// Stops the job at its next piece if it runs in this process.
    pub fn cancel(&self, job_id: Uuid) {
        if let Some(flag) = self.lock_running().get(&job_id) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    fn lock_running(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<AtomicBool>>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues again what a crash interrupted, then starts the workers.
    pub async fn start(self: &Arc<Self>, db: Db, data_dir: PathBuf) -> Result<(), sqlx::Error> {
        let requeued = crate::db::jobs::requeue_interrupted(&db).await?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "transcription jobs interrupted by a restart are queued again"
            );
        }
        for _ in 0..self.workers {
            tokio::spawn(worker::run(self.clone(), db.clone(), data_dir.clone()));
        }
        Ok(())
    }
}

fn model_readable(path: &Path) -> Result<(), String> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() > 0 => Ok(()),
        Ok(_) => Err(format!("model file {} is empty", path.display())),
        Err(e) => Err(format!("model file {}: {e}", path.display())),
    }
}

/// Where an upload's file lives.
pub fn audio_path(data_dir: &Path, recording_id: Uuid, format: &str) -> PathBuf {
    data_dir
        .join("audio")
        .join(format!("{recording_id}.{format}"))
}
