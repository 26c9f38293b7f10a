//! The writer thread: the SFU's copies of recorded packets in, one file per track out.
//!
//! File writes block, so they happen here and not on the async workers. The thread owns
//! every open file; the recorder task ([`super::Recorder`]) commands it with [`Control`]s
//! and hears back [`WriterEvent`]s (a track began, a recording failed), which it turns
//! into database rows, manifest updates and hub events. Packets come from a bounded queue
//! the SFU fills without waiting; the thread takes what has queued every [`TICK`].

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use recording::reorder::RtpPacket;
use recording::track::{TrackCodec, TrackRecorder};
use sfu::forward::codec::VideoCodec;
use sfu::{RecordedPacket, SfuHandle, TrackId};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::manifest::RtpClock;

/// One round of the thread: packets wait at most this long in the queue. Small beside
/// the reorder buffer's hole timeouts (200 ms audio, 500 ms video).
const TICK: Duration = Duration::from_millis(20);
/// How often free disk space is checked while recording.
const DISK_CHECK: Duration = Duration::from_secs(2);
/// Keyframe requests for one video track are at least this far apart.
const KEYFRAME_INTERVAL: Duration = Duration::from_secs(1);

/// What the recorder task tells the thread.
pub(super) enum Control {
    /// Record the session's packets into `dir`; time 0 of every file is `started`.
    Start {
        session: Uuid,
        recording: Uuid,
        dir: PathBuf,
        started: Instant,
    },
    /// Packets come again after a pause: each track starts a new RTP timeline at the
    /// wall-clock time its next packet arrives (sequence numbers may have moved on by more
    /// than half their range).
    Resume { session: Uuid },
    /// Finish every file; [`WriterEvent::Finished`] follows.
    Stop { session: Uuid },
}

/// What the thread tells the recorder task.
#[derive(Debug)]
pub(super) enum WriterEvent {
    /// A track's first packet arrived and its file is open.
    TrackStarted(StartedTrack),
    /// A track's first sender report.
    SenderReport {
        recording: Uuid,
        track: Uuid,
        clock: RtpClock,
    },
    /// The recording's files are finished: it was stopped, or could not go on (`failure`:
    /// a full disk, a failed write). Comes after every event of the recording, so its
    /// tracks are all known by then.
    Finished {
        session: Uuid,
        recording: Uuid,
        tracks: Vec<FinishedTrack>,
        failure: Option<String>,
    },
}

/// A track whose file was opened.
#[derive(Debug)]
pub(super) struct StartedTrack {
    pub recording: Uuid,
    pub track: Uuid,
    pub participant: Uuid,
    pub source: sfu::Source,
    pub codec: TrackCodec,
    pub file_name: String,
    pub started_secs: f64,
    pub first_packet: RtpClock,
}

/// A track whose file is complete.
#[derive(Debug, Clone)]
pub(super) struct FinishedTrack {
    pub track: Uuid,
    pub file_size: u64,
}

struct Active {
    recording: Uuid,
    dir: PathBuf,
    started: Instant,
    started_wall: SystemTime,
    tracks: HashMap<TrackId, OpenTrack>,
    /// Video tracks whose codec the SFU did not recognise, so each is logged once.
    skipped: Vec<TrackId>,
    /// Tracks that restart their timeline at their next packet (after a resume).
    restart: Vec<TrackId>,
}

struct OpenTrack {
    id: Uuid,
    recorder: TrackRecorder<BufWriter<File>>,
    sender_report_seen: bool,
    last_keyframe_request: Option<Instant>,
}

/// The thread's state; [`run`] is its loop.
pub(super) struct Writer {
    sfu: SfuHandle,
    events: mpsc::UnboundedSender<WriterEvent>,
    min_free_bytes: u64,
    active: HashMap<Uuid, Active>,
    next_disk_check: Instant,
}

impl Writer {
    pub(super) fn new(
        sfu: SfuHandle,
        events: mpsc::UnboundedSender<WriterEvent>,
        min_free_bytes: u64,
    ) -> Writer {
        Writer {
            sfu,
            events,
            min_free_bytes,
            active: HashMap::new(),
            next_disk_check: Instant::now(),
        }
    }

    /// Runs until both queues are closed. Works in rounds of [`TICK`]: drains the controls,
    /// then the packets, then handles timeouts, then sleeps out the round. Sleeping rather
    /// than waiting on the queue means the SFU's `try_send` never has to wake this thread:
    /// one wake-up a round instead of one a packet (15,000 a second in a busy server).
    pub(super) fn run(mut self, packets: Receiver<RecordedPacket>, controls: Receiver<Control>) {
        let (mut controls_open, mut packets_open) = (true, true);
        while controls_open || packets_open {
            let round = Instant::now();
            while controls_open {
                match controls.try_recv() {
                    Ok(control) => self.control(control),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => controls_open = false,
                }
            }
            while packets_open {
                match packets.try_recv() {
                    Ok(packet) => self.packet(packet),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => packets_open = false,
                }
            }
            self.timeouts(Instant::now());
            std::thread::sleep(TICK.saturating_sub(round.elapsed()));
        }
    }

    fn control(&mut self, control: Control) {
        match control {
            Control::Start {
                session,
                recording,
                dir,
                started,
            } => {
                let started_wall = SystemTime::now() - started.elapsed();
                self.active.insert(
                    session,
                    Active {
                        recording,
                        dir,
                        started,
                        started_wall,
                        tracks: HashMap::new(),
                        skipped: Vec::new(),
                        restart: Vec::new(),
                    },
                );
            }
            Control::Resume { session } => {
                if let Some(active) = self.active.get_mut(&session) {
                    active.restart = active.tracks.keys().copied().collect();
                }
            }
            Control::Stop { session } => {
                let Some(active) = self.active.remove(&session) else {
                    return;
                };
                let recording = active.recording;
                let tracks = finish(active).unwrap_or_else(|(finished, error)| {
                    tracing::warn!(%session, %error, "finishing a recording's files");
                    finished
                });
                let _ = self.events.send(WriterEvent::Finished {
                    session,
                    recording,
                    tracks,
                    failure: None,
                });
            }
        }
    }

    fn packet(&mut self, packet: RecordedPacket) {
        let session = Uuid::from_u128(packet.room.0);
        let Some(active) = self.active.get_mut(&session) else {
            return; // stopped meanwhile: the queue still held some
        };
        let result = match active.tracks.get_mut(&packet.track) {
            Some(_) => Ok(()),
            None => open_track(active, session, &packet, &self.events),
        };
        let result = result.and_then(|()| match active.tracks.get_mut(&packet.track) {
            Some(track) => {
                let restart = take(&mut active.restart, packet.track);
                write_packet(track, packet, restart, &self.events, active.recording)
            }
            None => Ok(None),
        });
        match result {
            Ok(Some(track)) => self.keyframe(session, track),
            Ok(None) => {}
            Err(error) => self.fail(session, format!("writing the recording failed: {error}")),
        }
    }

    /// Asks for a keyframe for `track`, at most once per [`KEYFRAME_INTERVAL`].
    fn keyframe(&mut self, session: Uuid, track: TrackId) {
        let now = Instant::now();
        let Some(open) = self
            .active
            .get_mut(&session)
            .and_then(|a| a.tracks.get_mut(&track))
        else {
            return;
        };
        if open
            .last_keyframe_request
            .is_some_and(|last| now < last + KEYFRAME_INTERVAL)
        {
            return;
        }
        open.last_keyframe_request = Some(now);
        self.sfu.request_recording_keyframe(track);
    }

    fn timeouts(&mut self, now: Instant) {
        let mut failed = Vec::new();
        let mut keyframes = Vec::new();
        for (&session, active) in &mut self.active {
            for (&id, track) in &mut active.tracks {
                if track.recorder.poll_timeout().is_none_or(|due| due > now) {
                    continue;
                }
                match track.recorder.handle_timeout(now) {
                    Ok(progress) if progress.keyframe_needed => keyframes.push((session, id)),
                    Ok(_) => {}
                    Err(error) => failed.push((session, format!("writing failed: {error}"))),
                }
            }
        }
        for (session, track) in keyframes {
            self.keyframe(session, track);
        }
        if !self.active.is_empty() && now >= self.next_disk_check {
            self.next_disk_check = now + DISK_CHECK;
            for (&session, active) in &self.active {
                if let Err(full) = check_free_space(&active.dir, self.min_free_bytes) {
                    failed.push((session, full));
                }
            }
        }
        for (session, reason) in failed {
            self.fail(session, reason);
        }
    }

    /// Stops the recording: finishes what can be finished and tells the recorder task.
    fn fail(&mut self, session: Uuid, reason: String) {
        let Some(active) = self.active.remove(&session) else {
            return;
        };
        let recording = active.recording;
        tracing::warn!(%session, %recording, %reason, "recording stopped by the server");
        let tracks = finish(active).unwrap_or_else(|(finished, _)| finished);
        let _ = self.events.send(WriterEvent::Finished {
            session,
            recording,
            tracks,
            failure: Some(reason),
        });
    }
}

/// Removes `track` from `list`; whether it was there.
fn take(list: &mut Vec<TrackId>, track: TrackId) -> bool {
    let before = list.len();
    list.retain(|t| *t != track);
    list.len() != before
}

/// Opens the file for a new track (nothing for a video codec no file is written for).
fn open_track(
    active: &mut Active,
    session: Uuid,
    packet: &RecordedPacket,
    events: &mpsc::UnboundedSender<WriterEvent>,
) -> Result<(), recording::Error> {
    let codec = match (packet.source.is_audio(), packet.codec) {
        (true, _) => TrackCodec::Opus,
        (false, Some(VideoCodec::Vp8)) => TrackCodec::Vp8,
        (false, Some(VideoCodec::Vp9)) => TrackCodec::Vp9,
        (false, Some(VideoCodec::H264)) => TrackCodec::H264,
        (false, None) => {
            if !active.skipped.contains(&packet.track) {
                active.skipped.push(packet.track);
                tracing::warn!(%session, track = %packet.track,
                    "video in a codec the SFU does not know is not recorded");
            }
            return Ok(());
        }
    };
    let id = Uuid::new_v4();
    let participant = Uuid::from_u128(packet.participant.0);
    let extension = match codec {
        TrackCodec::Opus => "opus",
        TrackCodec::Vp8 | TrackCodec::Vp9 => "ivf",
        TrackCodec::H264 => "h264",
    };
    let file_name = format!(
        "{:02}-{}-{}.{extension}",
        active.tracks.len() + active.skipped.len() + 1,
        packet.source.as_str(),
        &participant.simple().to_string()[..8],
    );
    let file = BufWriter::new(File::create(active.dir.join(&file_name))?);
    let now = packet.arrival;
    let recorder = match codec {
        TrackCodec::Opus => {
            let serial = u32::from_le_bytes(id.as_bytes()[..4].try_into().unwrap_or_default());
            TrackRecorder::opus(file, serial, active.started, now)?
        }
        TrackCodec::Vp8 => TrackRecorder::vp8(file, active.started, now),
        TrackCodec::Vp9 => TrackRecorder::vp9(file, active.started, now),
        TrackCodec::H264 => TrackRecorder::h264(file, active.started),
    };
    let started_secs = now.saturating_duration_since(active.started).as_secs_f64();
    active.tracks.insert(
        packet.track,
        OpenTrack {
            id,
            recorder,
            sender_report_seen: false,
            last_keyframe_request: None,
        },
    );
    let arrival = active.started_wall + now.saturating_duration_since(active.started);
    let _ = events.send(WriterEvent::TrackStarted(StartedTrack {
        recording: active.recording,
        track: id,
        participant,
        source: packet.source,
        codec,
        file_name,
        started_secs,
        first_packet: RtpClock {
            ssrc: packet.ssrc,
            rtp_timestamp: packet.timestamp,
            wall_clock: DateTime::<Utc>::from(arrival),
        },
    }));
    Ok(())
}

/// Writes a packet; the track's SFU id when a keyframe is needed.
fn write_packet(
    track: &mut OpenTrack,
    packet: RecordedPacket,
    restart: bool,
    events: &mpsc::UnboundedSender<WriterEvent>,
    recording: Uuid,
) -> Result<Option<TrackId>, recording::Error> {
    if !track.sender_report_seen
        && let Some(sr) = packet.sender_report
    {
        track.sender_report_seen = true;
        let _ = events.send(WriterEvent::SenderReport {
            recording,
            track: track.id,
            clock: RtpClock {
                ssrc: packet.ssrc,
                rtp_timestamp: sr.rtp_time,
                wall_clock: DateTime::<Utc>::from(sr.wall_clock),
            },
        });
    }
    let mut keyframe_needed = false;
    if restart {
        keyframe_needed = track.recorder.restart(packet.arrival)?.keyframe_needed;
    }
    let rtp = RtpPacket {
        seq: packet.seq,
        timestamp: packet.timestamp,
        marker: packet.marker,
        payload: Bytes::from_owner(packet.payload),
    };
    let progress = track.recorder.push(packet.arrival, packet.ssrc, rtp)?;
    keyframe_needed |= progress.keyframe_needed;
    Ok(keyframe_needed.then_some(packet.track))
}

/// Finishes every file of a recording. On an error, what was finished and the error.
fn finish(active: Active) -> Result<Vec<FinishedTrack>, (Vec<FinishedTrack>, std::io::Error)> {
    let now = Instant::now();
    let mut finished = Vec::new();
    let mut first_error = None;
    for (_, track) in active.tracks {
        let id = track.id;
        match track.recorder.finish(now) {
            Ok(writer) => {
                let size = writer
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|file| file.metadata())
                    .map(|m| m.len());
                match size {
                    Ok(file_size) => finished.push(FinishedTrack {
                        track: id,
                        file_size,
                    }),
                    Err(error) => {
                        first_error.get_or_insert(error);
                    }
                }
            }
            Err(error) => {
                first_error.get_or_insert(std::io::Error::other(error.to_string()));
            }
        }
    }
    match first_error {
        None => Ok(finished),
        Some(error) => Err((finished, error)),
    }
}

/// Whether the file system holding `dir` has `min_free` bytes for an unprivileged writer;
/// the reason to stop when not.
pub(super) fn check_free_space(dir: &Path, min_free: u64) -> Result<(), String> {
    match free_bytes(dir) {
        Ok(free) if free < min_free => Err(format!(
            "the disk is full: {} MB free, {} MB needed",
            free >> 20,
            min_free >> 20
        )),
        Ok(_) => Ok(()),
        Err(error) => Err(format!("checking free space: {error}")),
    }
}

/// Bytes available to an unprivileged writer on the file system holding `dir`.
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("a path with a NUL byte"))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is NUL-terminated and `stat` is valid for writes; statvfs fills it
    // when it returns 0, and only then is it read.
    let stat = unsafe {
        if libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        stat.assume_init()
    };
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}
