//! The embedded SFU wired to the session hub: the [`engine::SfuEngine`] is the hub's
//! [`MediaEngine`](crate::hub::media::MediaEngine) over the `sfu` crate's
//! [`SfuHandle`]. Decisions and `media.*` requests go in, in session order; the SFU's
//! events come back as [`MediaReport`]s that [`forward_reports`] hands to the hub.
//!
//! ```text
//! hub session task ──decide/request──▶ engine queue ──▶ worker ──commands──▶ SFU thread
//!        ▲                                                 │  ◀──SfuEvents──┘
//!        └──────────── Hub::media_report ◀── reports ◀─────┘
//! ```
//!
//! One worker task owns the peer table, so commands for one participant are carried out in
//! the order the session decided them. `join`'s `mediaUrl` and `iceServers` come from
//! [`Media`] and [`ice`]; `/metrics` and `/api/health` read [`Media`].

pub mod engine;
pub mod ice;
mod worker;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sfu::{SfuConfig, SfuHandle, SfuStats};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::config::MediaConfig;
use crate::hub::Hub;
use crate::hub::SessionLog;
use crate::hub::media::MediaReport;
use crate::recording::{Recorder, RecorderParts};
use engine::SfuEngine;

/// Reports queued from the worker to the hub before the worker waits.
const REPORT_QUEUE: usize = 4_096;

/// The running SFU, as handlers see it.
pub struct Media {
    sfu: SfuHandle,
    announced: SocketAddr,
}

impl Media {
    /// Where clients send media: `udp://ip:port`, the address in the SFU's ICE candidate.
    pub fn media_url(&self) -> String {
        format!("udp://{}", self.announced)
    }

    /// The UDP port the SFU listens on.
    pub fn port(&self) -> u16 {
        self.sfu.local_addr().port()
    }

    /// The shards' counters.
    pub fn stats(&self) -> SfuStats {
        self.sfu.stats()
    }

    /// Sets the SFU's series for a `/metrics` scrape, per shard: gauges for what is live
    /// now, counters (`_total`) for what happened since start.
    pub fn export_metrics(&self) {
        for (index, shard) in self.stats().shards.iter().enumerate() {
            let labels = [("shard", index.to_string())];
            let gauges = [
                ("sfu_peers", shard.peers),
                ("sfu_tracks", shard.tracks),
                ("sfu_subscriptions", shard.subscriptions),
            ];
            for (name, value) in gauges {
                metrics::gauge!(name, &labels).set(value as f64);
            }
            let counters = [
                ("sfu_forwarded_packets_total", shard.forwarded_packets),
                ("sfu_forwarded_bytes_total", shard.forwarded_bytes),
                ("sfu_received_packets_total", shard.received_packets),
                ("sfu_nacks_total", shard.nacks),
                ("sfu_plis_total", shard.plis),
                ("sfu_keyframe_requests_total", shard.keyframe_requests),
                ("sfu_dropped_datagrams_total", shard.dropped_datagrams),
                ("sfu_dropped_events_total", shard.dropped_events),
                (
                    "sfu_recording_dropped_packets_total",
                    shard.recording_dropped,
                ),
                ("sfu_busy_microseconds_total", shard.busy_micros),
            ];
            for (name, value) in counters {
                metrics::counter!(name, &labels).absolute(value);
            }
        }
    }
}

/// A started SFU: what handlers read, the hub's engine, and the reports for the hub.
pub struct Started {
    pub media: Arc<Media>,
    pub engine: Arc<SfuEngine>,
    pub reports: mpsc::Receiver<(Uuid, MediaReport)>,
    /// The recorder, when recording is enabled.
    pub recorder: Option<Arc<Recorder>>,
}

/// Binds the SFU's socket, starts its thread and the worker that drives it, and the
/// recorder when `recording` is given.
pub fn start(config: &MediaConfig, recording: Option<RecorderParts>) -> io::Result<Started> {
    let mut sfu_config = SfuConfig::new(config.bind);
    sfu_config.public_ip = config.public_ip();
    sfu_config.limits.max_peers = config.max_peers;
    sfu_config.tcp = config.tcp;
    let packets = recording.as_ref().map(|parts| {
        let (sink, packets) = crate::recording::packet_queue(&parts.config);
        sfu_config.recorder = Some(sink);
        packets
    });
    let (sfu, events) = sfu::start(sfu_config)?;
    let local = sfu.local_addr();
    let announced = SocketAddr::new(config.public_ip().unwrap_or(local.ip()), local.port());
    let (reports_tx, reports) = mpsc::channel(REPORT_QUEUE);
    let recorder = match (recording, packets) {
        (Some(parts), Some(packets)) => Some(Recorder::start(
            parts,
            sfu.clone(),
            packets,
            reports_tx.clone(),
        )?),
        _ => None,
    };
    let grace = Duration::from_secs(config.reconnect_grace_secs);
    let engine = SfuEngine::start(sfu.clone(), events, reports_tx, grace, recorder.clone());
    tracing::info!(udp = %local, %announced, "SFU listening");
    Ok(Started {
        media: Arc::new(Media { sfu, announced }),
        engine: Arc::new(engine),
        reports,
        recorder,
    })
}

/// Hands the worker's reports to the hub until the worker stops.
pub async fn forward_reports<L: SessionLog>(
    hub: Hub<L>,
    mut reports: mpsc::Receiver<(Uuid, MediaReport)>,
) {
    while let Some((session, report)) = reports.recv().await {
        hub.media_report(session, report).await;
    }
}
