//! `manifest.json`: what a recording's directory holds, readable without the database.
//!
//! Rewritten whole (to a temporary file, then renamed over the old one) each time a track
//! starts, the recording pauses, resumes or stops, so a crash leaves either the old or the
//! new manifest, never half of one.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::session_recordings::RecordingStatus;

/// The file's name in the recording's directory.
pub const FILE_NAME: &str = "manifest.json";

/// The whole manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub recording_id: Uuid,
    pub session_id: Uuid,
    /// Wall-clock time 0 of every file.
    pub started_at: DateTime<Utc>,
    pub status: RecordingStatus,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Stretches during which nothing was recorded.
    pub pauses: Vec<Pause>,
    pub tracks: Vec<ManifestTrack>,
}

/// A pause, in seconds from the start (`to` is `None` while it lasts).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Pause {
    pub from: f64,
    pub to: Option<f64>,
}

/// One track's file and how its media time maps to the wall clock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManifestTrack {
    pub id: Uuid,
    pub file: String,
    pub participant_id: Uuid,
    pub display_name: String,
    /// `microphone`, `camera` or `screen`.
    pub source: String,
    /// `opus`, `vp8`, `vp9` or `h264`.
    pub codec: String,
    /// RTP clock rate: 48,000 for Opus, 90,000 for video.
    pub clock_rate: u32,
    /// When the first packet arrived, in seconds from the recording's start: where the
    /// track begins in its file.
    pub started_secs: f64,
    /// The first packet: its SSRC and RTP timestamp, and its arrival on the server's clock.
    pub first_packet: RtpClock,
    /// The publisher's first RTCP sender report: its wall clock paired with an RTP
    /// timestamp (RFC 3550 §6.4.1); what aligns tracks to the sender's own clock, free of
    /// network delay. Absent until one arrives.
    pub sender_report: Option<RtpClock>,
}

/// A pairing of RTP time and wall-clock time.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RtpClock {
    pub ssrc: u32,
    pub rtp_timestamp: u32,
    pub wall_clock: DateTime<Utc>,
}

/// Writes `manifest` into `dir` atomically (temporary file, flush, rename).
pub async fn write(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
    let temporary = dir.join(format!("{FILE_NAME}.tmp"));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, dir.join(FILE_NAME)).await
}

/// Reads the manifest in `dir`.
pub async fn read(dir: &Path) -> std::io::Result<Manifest> {
    let bytes = tokio::fs::read(dir.join(FILE_NAME)).await?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}
