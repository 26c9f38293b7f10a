//! Session recording: every track published in a recorded session written to its own file
//! as it arrives, then transcribed per speaker when the recording stops.
//!
//! ```text
//! hub: recording.started ─▶ media worker ─▶ Recorder::start ─▶ row, directory, manifest
//!                                 │                └──Control──▶ writer thread
//!                                 └─▶ SFU: set_recording(room) ── RecordedPacket ──┘
//!                                                                        │ files
//! writer ── WriterEvent (track started, failed) ─▶ Recorder task ─▶ rows, manifest,
//!                                                    hub (`recording.stopped`, reason)
//! Recorder::stop ─▶ files finished ─▶ rows ─▶ one transcription job per audio track
//! ```
//!
//! Files live in `<data_dir>/recordings/<recording id>/` beside a [`manifest`]; the
//! database rows are in `db::session_recordings`. The SFU, the writer thread and this
//! task each do one thing: forward (and copy), write bytes, keep the books.

pub mod manifest;
pub mod moments;
pub mod transcript;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Instant;

use chrono::Utc;
use sfu::{RecordedPacket, SfuHandle};
use signaling::ParticipantId;
use tokio::sync::{Mutex, mpsc};
use uuid::Uuid;

use crate::config::RecordingConfig;
use crate::db::session_recordings::{self, RecordingStatus, RecordingTrack, SessionRecording};
use crate::db::{Db, users};
use crate::hub::media::MediaReport;
use crate::transcription::Transcription;
use manifest::{Manifest, ManifestTrack, Pause};
use recording::track::TrackCodec;
use writer::{Control, FinishedTrack, StartedTrack, Writer, WriterEvent};

/// Where a recording's files live.
pub fn recording_dir(data_dir: &Path, recording: Uuid) -> PathBuf {
    data_dir.join("recordings").join(recording.to_string())
}

/// A recording in progress, as the recorder task keeps it.
struct Live {
    session: Uuid,
    dir: PathBuf,
    started: Instant,
    manifest: Manifest,
    /// Stop was asked; the writer's `Finished` is on its way.
    stopping: bool,
}

/// The recorder: what the media worker calls, and the task behind it.
pub struct Recorder {
    db: Db,
    data_dir: PathBuf,
    min_free_bytes: u64,
    transcription: Arc<Transcription>,
    controls: SyncSender<Control>,
    /// Recordings in progress by recording id (a session has at most one not `stopping`).
    /// A tokio mutex: manifests are written while it is held, so two updates never land
    /// out of order.
    live: Mutex<HashMap<Uuid, Live>>,
    reports: mpsc::Sender<(Uuid, MediaReport)>,
}

/// What [`Recorder::start`] needs besides the SFU.
pub struct RecorderParts {
    pub config: RecordingConfig,
    pub db: Db,
    pub data_dir: PathBuf,
    pub transcription: Arc<Transcription>,
}

/// The queue the SFU fills with recorded packets, and its other end for the writer.
pub fn packet_queue(
    config: &RecordingConfig,
) -> (SyncSender<RecordedPacket>, Receiver<RecordedPacket>) {
    std::sync::mpsc::sync_channel(config.queue_packets)
}

impl Recorder {
    /// Starts the writer thread on `packets` and the task that keeps the books; reports
    /// for the hub (a recording the server stopped) go to `reports`.
    pub fn start(
        parts: RecorderParts,
        sfu: SfuHandle,
        packets: Receiver<RecordedPacket>,
        reports: mpsc::Sender<(Uuid, MediaReport)>,
    ) -> std::io::Result<Arc<Recorder>> {
        let (controls, controls_rx) = std::sync::mpsc::sync_channel(64);
        let (events, events_rx) = mpsc::unbounded_channel();
        let min_free_bytes = parts.config.min_free_mb << 20;
        let writer = Writer::new(sfu, events, min_free_bytes);
        std::thread::Builder::new()
            .name("recording-writer".into())
            .spawn(move || writer.run(packets, controls_rx))?;
        let recorder = Arc::new(Recorder {
            db: parts.db,
            data_dir: parts.data_dir,
            min_free_bytes,
            transcription: parts.transcription,
            controls,
            live: Mutex::new(HashMap::new()),
            reports,
        });
        tokio::spawn(recorder.clone().handle_events(events_rx));
        Ok(recorder)
    }

    /// Marks recordings a crash left live as interrupted (their files play up to the
    /// crash), records their files' sizes and queues their transcripts.
    pub async fn recover(&self) -> Result<(), sqlx::Error> {
        for recording in session_recordings::live(&self.db).await? {
            tracing::warn!(recording = %recording.id, session = %recording.session_id,
                "a recording was interrupted by a restart");
            let dir = recording_dir(&self.data_dir, recording.id);
            let tracks = session_recordings::tracks(&self.db, recording.id).await?;
            for track in &tracks {
                let size = tokio::fs::metadata(dir.join(&track.file_name))
                    .await
                    .map_or(0, |m| m.len());
                session_recordings::finish_track(&self.db, track.id, size as i64, None).await?;
            }
            let stopped_at = Utc::now();
            session_recordings::set_status(
                &self.db,
                recording.id,
                RecordingStatus::Interrupted,
                Some((stopped_at, Some(signaling::session::INTERRUPTED))),
            )
            .await?;
            if let Ok(mut manifest) = manifest::read(&dir).await {
                manifest.status = RecordingStatus::Interrupted;
                manifest.stopped_at = Some(stopped_at);
                if let Err(error) = manifest::write(&dir, &manifest).await {
                    tracing::warn!(recording = %recording.id, %error, "updating the manifest");
                }
            }
            self.transcribe(recording.id).await;
        }
        Ok(())
    }

    /// Starts recording `session` (`by` asked): a row, a directory, a manifest, then the
    /// writer. Refused when the disk has less free space than configured.
    pub async fn start_recording(&self, session: Uuid, by: ParticipantId) -> Result<(), String> {
        let mut live = self.live.lock().await;
        if running(&mut live, session).is_some() {
            return Ok(());
        }
        // Time 0 of every file, on both clocks.
        let (started, started_at) = (Instant::now(), Utc::now());
        let recording = SessionRecording {
            id: Uuid::new_v4(),
            session_id: session,
            started_by: Some(by.0),
            status: RecordingStatus::Recording,
            shared: false,
            stop_reason: None,
            started_at,
            stopped_at: None,
        };
        let dir = recording_dir(&self.data_dir, recording.id);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("creating the recording's directory: {e}"))?;
        let (probe_dir, min_free) = (dir.clone(), self.min_free_bytes);
        let free =
            tokio::task::spawn_blocking(move || writer::check_free_space(&probe_dir, min_free))
                .await
                .map_err(|e| e.to_string())?;
        if let Err(full) = free {
            let _ = tokio::fs::remove_dir(&dir).await;
            return Err(full);
        }
        session_recordings::insert(&self.db, &recording)
            .await
            .map_err(|e| format!("storing the recording: {e}"))?;
        let manifest = Manifest {
            recording_id: recording.id,
            session_id: session,
            started_at: recording.started_at,
            status: RecordingStatus::Recording,
            stopped_at: None,
            pauses: Vec::new(),
            tracks: Vec::new(),
        };
        manifest::write(&dir, &manifest)
            .await
            .map_err(|e| format!("writing the manifest: {e}"))?;
        self.control(Control::Start {
            session,
            recording: recording.id,
            dir: dir.clone(),
            started,
        })
        .await?;
        tracing::info!(%session, recording = %recording.id, "recording started");
        live.insert(
            recording.id,
            Live {
                session,
                dir,
                started,
                manifest,
                stopping: false,
            },
        );
        Ok(())
    }

    /// Pauses (the SFU stops copying packets; the files keep their place in time) or
    /// resumes the session's recording.
    pub async fn pause(&self, session: Uuid, pause: bool) {
        let mut live = self.live.lock().await;
        let Some(recording) = running(&mut live, session) else {
            return;
        };
        let at = recording.started.elapsed().as_secs_f64();
        let pauses = &mut recording.manifest.pauses;
        match (pause, pauses.last_mut()) {
            (true, _) => pauses.push(Pause { from: at, to: None }),
            (false, Some(open)) if open.to.is_none() => open.to = Some(at),
            (false, _) => {}
        }
        let status = if pause {
            RecordingStatus::Paused
        } else {
            RecordingStatus::Recording
        };
        recording.manifest.status = status;
        let id = recording.manifest.recording_id;
        if !pause && let Err(error) = self.control(Control::Resume { session }).await {
            tracing::warn!(%session, %error, "resuming the recording");
        }
        if let Err(error) = session_recordings::set_status(&self.db, id, status, None).await {
            tracing::warn!(%session, %error, "storing the recording's status");
        }
        write_manifest(recording).await;
    }

    /// Stops the session's recording, if one runs: the writer finishes its files, and its
    /// `Finished` event records them and queues their transcripts.
    pub async fn stop(&self, session: Uuid) {
        let mut live = self.live.lock().await;
        let Some(recording) = running(&mut live, session) else {
            return;
        };
        recording.stopping = true;
        if let Err(error) = self.control(Control::Stop { session }).await {
            tracing::error!(%session, %error, "stopping the recording's writer");
        }
    }

    /// Records the end of a recording: status, file sizes, manifest, transcripts.
    async fn finish(
        &self,
        mut recording: Live,
        status: RecordingStatus,
        reason: Option<&str>,
        tracks: Vec<FinishedTrack>,
    ) {
        let id = recording.manifest.recording_id;
        let stopped_at = Utc::now();
        for track in &tracks {
            let size = i64::try_from(track.file_size).unwrap_or(i64::MAX);
            if let Err(error) =
                session_recordings::finish_track(&self.db, track.track, size, None).await
            {
                tracing::warn!(recording = %id, %error, "storing a track's size");
            }
        }
        let stopped = Some((stopped_at, reason));
        if let Err(error) = session_recordings::set_status(&self.db, id, status, stopped).await {
            tracing::error!(recording = %id, %error, "storing the recording's end");
        }
        if let Some(open) = recording.manifest.pauses.last_mut()
            && open.to.is_none()
        {
            open.to = Some(recording.started.elapsed().as_secs_f64());
        }
        recording.manifest.status = status;
        recording.manifest.stopped_at = Some(stopped_at);
        write_manifest(&recording).await;
        tracing::info!(recording = %id, tracks = tracks.len(), ?status, "recording finished");
        self.transcribe(id).await;
    }

    /// Queues one transcription per audio track that has none yet.
    async fn transcribe(&self, recording: Uuid) {
        let queued =
            transcript::queue(&self.db, &self.data_dir, &self.transcription, recording).await;
        if let Err(error) = queued {
            tracing::error!(%recording, %error, "queuing the recording's transcripts");
        }
    }

    async fn control(&self, control: Control) -> Result<(), String> {
        let controls = self.controls.clone();
        tokio::task::spawn_blocking(move || controls.send(control))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|_| "the recording writer stopped".to_owned())
    }

    /// The writer's events, until it stops.
    async fn handle_events(self: Arc<Self>, mut events: mpsc::UnboundedReceiver<WriterEvent>) {
        while let Some(event) = events.recv().await {
            match event {
                WriterEvent::TrackStarted(track) => self.track_started(track).await,
                WriterEvent::SenderReport {
                    recording,
                    track,
                    clock,
                } => {
                    let mut live = self.live.lock().await;
                    let Some(live) = live.get_mut(&recording) else {
                        continue;
                    };
                    if let Some(t) = live.manifest.tracks.iter_mut().find(|t| t.id == track) {
                        t.sender_report = Some(clock);
                        write_manifest(live).await;
                    }
                }
                WriterEvent::Finished {
                    session,
                    recording,
                    tracks,
                    failure,
                } => {
                    let live = self.live.lock().await.remove(&recording);
                    if let Some(live) = live {
                        let status = match failure {
                            None => RecordingStatus::Stopped,
                            Some(_) => RecordingStatus::Failed,
                        };
                        self.finish(live, status, failure.as_deref(), tracks).await;
                    }
                    if let Some(reason) = failure {
                        let report = MediaReport::RecordingFailed { reason };
                        if self.reports.send((session, report)).await.is_err() {
                            tracing::error!(%session, "the hub is gone: a recording's end is untold");
                        }
                    }
                }
            }
        }
    }

    /// A track's file was opened: its row (with the publisher's name) and manifest entry.
    async fn track_started(&self, started: StartedTrack) {
        let display_name = match users::find_by_id(&self.db, started.participant).await {
            Ok(Some(user)) => user.name,
            _ => "Participant".to_owned(),
        };
        let (codec, clock_rate) = match started.codec {
            TrackCodec::Opus => ("opus", 48_000),
            TrackCodec::Vp8 => ("vp8", 90_000),
            TrackCodec::Vp9 => ("vp9", 90_000),
            TrackCodec::H264 => ("h264", 90_000),
        };
        let row = RecordingTrack {
            id: started.track,
            recording_id: started.recording,
            participant_id: started.participant,
            display_name: display_name.clone(),
            source: started.source.as_str().to_owned(),
            codec: codec.to_owned(),
            file_name: started.file_name.clone(),
            started_secs: started.started_secs,
            file_size: 0,
            transcript_id: None,
            created_at: Utc::now(),
        };
        if let Err(error) = session_recordings::insert_track(&self.db, &row).await {
            tracing::error!(recording = %started.recording, %error, "storing a track");
        }
        let mut live = self.live.lock().await;
        let Some(live) = live.get_mut(&started.recording) else {
            return;
        };
        live.manifest.tracks.push(ManifestTrack {
            id: started.track,
            file: started.file_name,
            participant_id: started.participant,
            display_name,
            source: row.source,
            codec: row.codec,
            clock_rate,
            started_secs: started.started_secs,
            first_packet: started.first_packet,
            sender_report: None,
        });
        write_manifest(live).await;
    }
}

/// The session's recording that is not stopping, if any.
fn running(live: &mut HashMap<Uuid, Live>, session: Uuid) -> Option<&mut Live> {
    live.values_mut()
        .find(|l| l.session == session && !l.stopping)
}

async fn write_manifest(live: &Live) {
    if let Err(error) = manifest::write(&live.dir, &live.manifest).await {
        tracing::warn!(recording = %live.manifest.recording_id, %error, "writing the manifest");
    }
}
