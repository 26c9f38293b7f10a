//! One track from RTP packets to its file: a [`ReorderBuffer`] in front of the writer its
//! codec needs, driven on the caller's time like the parts it is made of.
//!
//! Feed packets with [`TrackRecorder::push`] and the time with
//! [`TrackRecorder::handle_timeout`] when [`TrackRecorder::poll_timeout`] comes; both write
//! what became ready. A packet from a new SSRC (the publisher restarted its stream) flushes
//! the old one and starts a new RTP timeline where the wall clock says it belongs.

use std::io::{self, Seek, Write};
use std::time::{Duration, Instant};

use crate::Error;
use crate::h264::{H264Depacketizer, H264Event};
use crate::ivf::{IvfCodec, IvfWriter};
use crate::ogg_opus::OggOpusWriter;
use crate::reorder::{Input, OrderedPacket, Output, ReorderBuffer, RtpPacket};
use crate::vp8::{Vp8Depacketizer, Vp8Event};
use crate::vp9::Vp9Depacketizer;

/// Audio at 50 packets/s: a window of 64 packets, a hole given up after 200 ms.
const AUDIO_WINDOW: (u16, Duration) = (64, Duration::from_millis(200));
/// Video sends a keyframe as a burst of hundreds of packets; a retransmission takes a
/// round trip or two.
const VIDEO_WINDOW: (u16, Duration) = (512, Duration::from_millis(500));

/// The codecs written to files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackCodec {
    /// Into Ogg Opus.
    Opus,
    /// Into IVF.
    Vp8,
    /// Into IVF.
    Vp9,
    /// Into a raw Annex-B stream (`.h264`).
    H264,
}

enum Sink<W: Write> {
    Opus(OggOpusWriter<W>),
    /// VP8 or VP9 into IVF: the same file, frames assembled by the codec's depacketizer.
    Ivf {
        frames: Frames,
        ivf: IvfWriter<W>,
    },
    /// Annex-B has no container: each access unit is appended and flushed as it completes
    /// (so the file holds no timing; the manifest's first packet places it).
    H264 {
        depacketizer: H264Depacketizer,
        out: W,
    },
}

/// What the caller may want to act on after an input.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// A video frame was lost: ask the publisher for a keyframe (throttling is the caller's).
    pub keyframe_needed: bool,
}

/// See the module docs.
pub struct TrackRecorder<W: Write> {
    reorder: ReorderBuffer,
    sink: Sink<W>,
    /// The RTP stream being written, and when the recording started (for a new stream's
    /// place on the timeline).
    ssrc: Option<u32>,
    started: Instant,
    deadline: Option<Instant>,
    malformed: u64,
}

impl<W: Write + Seek> TrackRecorder<W> {
    /// An Opus track into an Ogg Opus file whose time 0 is `started` (the recording's start):
    /// a track that begins later begins with silence. Writes the headers at once.
    pub fn opus(out: W, serial: u32, started: Instant, now: Instant) -> io::Result<Self> {
        let lead_in = now.saturating_duration_since(started);
        let sink = Sink::Opus(OggOpusWriter::new(out, serial, lead_in)?);
        Ok(Self::with(sink, AUDIO_WINDOW, started))
    }

    /// A VP8 track into an IVF file whose time 0 is `started`; nothing is written before
    /// the first keyframe.
    pub fn vp8(out: W, started: Instant, now: Instant) -> Self {
        let lead_in = now.saturating_duration_since(started);
        let sink = Sink::Ivf {
            frames: Frames::Vp8(Vp8Depacketizer::default()),
            ivf: IvfWriter::new(out, IvfCodec::Vp8, lead_in),
        };
        Self::with(sink, VIDEO_WINDOW, started)
    }

    /// A VP9 track (its base spatial layer), as [`Self::vp8`].
    pub fn vp9(out: W, started: Instant, now: Instant) -> Self {
        let lead_in = now.saturating_duration_since(started);
        let sink = Sink::Ivf {
            frames: Frames::Vp9(Vp9Depacketizer::default()),
            ivf: IvfWriter::new(out, IvfCodec::Vp9, lead_in),
        };
        Self::with(sink, VIDEO_WINDOW, started)
    }

    /// An H.264 track into a raw Annex-B stream; nothing is written before the first IDR.
    pub fn h264(out: W, started: Instant) -> Self {
        let sink = Sink::H264 {
            depacketizer: H264Depacketizer::default(),
            out,
        };
        Self::with(sink, VIDEO_WINDOW, started)
    }

    fn with(sink: Sink<W>, (capacity, hole): (u16, Duration), started: Instant) -> Self {
        Self {
            reorder: ReorderBuffer::new(capacity, hole),
            sink,
            ssrc: None,
            started,
            deadline: None,
            malformed: 0,
        }
    }

    /// Takes a packet of RTP stream `ssrc` that arrived at `now`.
    pub fn push(&mut self, now: Instant, ssrc: u32, packet: RtpPacket) -> Result<Progress, Error> {
        let mut progress = Progress::default();
        if self.ssrc.is_some_and(|s| s != ssrc) {
            progress = self.restart(now)?;
        }
        self.ssrc = Some(ssrc);
        let more = self.drain(now, Input::Packet(packet))?;
        progress.keyframe_needed |= more.keyframe_needed;
        Ok(progress)
    }

    /// Writes what is held and starts a new RTP timeline with the next packet, placed at
    /// the wall-clock time it arrives: after a pause, sequence numbers and timestamps may
    /// have moved on by more than half their range, and a new SSRC starts from anywhere.
    pub fn restart(&mut self, now: Instant) -> Result<Progress, Error> {
        let mut progress = self.drain(now, Input::Flush)?;
        let (capacity, hole_timeout) = self.window();
        self.reorder = ReorderBuffer::new(capacity, hole_timeout);
        self.ssrc = None;
        let at = now.saturating_duration_since(self.started);
        match &mut self.sink {
            Sink::Opus(ogg) => ogg.resync(at),
            // The frame in progress ended with the old timeline.
            Sink::Ivf { frames, ivf } => {
                progress.keyframe_needed |= frames.lost().is_some();
                ivf.resync(at);
            }
            Sink::H264 { depacketizer, .. } => {
                progress.keyframe_needed |= depacketizer.lost().is_some();
            }
        }
        Ok(progress)
    }

    /// When [`Self::handle_timeout`] is due, if anything waits behind a hole.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time passed: gives up holes that waited long enough.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<Progress, Error> {
        self.drain(now, Input::Timeout)
    }

    /// Opus packets left out because their length could not be read.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Writes what is held, ends the file and hands back the writer.
    pub fn finish(mut self, now: Instant) -> Result<W, Error> {
        self.drain(now, Input::Flush)?;
        Ok(match self.sink {
            Sink::Opus(ogg) => ogg.finish()?,
            Sink::Ivf { ivf, .. } => ivf.finish()?,
            Sink::H264 { mut out, .. } => {
                out.flush()?;
                out
            }
        })
    }

    fn window(&self) -> (u16, Duration) {
        match self.sink {
            Sink::Opus(_) => AUDIO_WINDOW,
            Sink::Ivf { .. } | Sink::H264 { .. } => VIDEO_WINDOW,
        }
    }

    fn drain(&mut self, now: Instant, input: Input) -> Result<Progress, Error> {
        self.reorder.handle_input(now, input);
        let mut progress = Progress::default();
        loop {
            let keyframe_needed = match (self.reorder.poll_output(), &mut self.sink) {
                (Output::Timeout(deadline), _) => {
                    self.deadline = deadline;
                    return Ok(progress);
                }
                (Output::Packet(packet), Sink::Opus(ogg)) => {
                    match ogg.push(&packet) {
                        Err(Error::MalformedOpus) => self.malformed += 1,
                        other => other?,
                    }
                    false
                }
                // Audio needs no word of a loss: the next packet's timestamp places it.
                (Output::Lost { .. }, Sink::Opus(_)) => false,
                (Output::Packet(packet), Sink::Ivf { frames, ivf }) => {
                    write_frame(frames.push(&packet), ivf)?
                }
                (Output::Packet(packet), Sink::H264 { depacketizer, out }) => {
                    match depacketizer.push(&packet) {
                        Some(H264Event::Unit(unit)) => {
                            out.write_all(&unit.data)?;
                            out.flush().map(|()| false)?
                        }
                        Some(H264Event::KeyframeNeeded) => true,
                        None => false,
                    }
                }
                (Output::Lost { .. }, Sink::Ivf { frames, .. }) => frames.lost().is_some(),
                (Output::Lost { .. }, Sink::H264 { depacketizer, .. }) => {
                    depacketizer.lost().is_some()
                }
            };
            progress.keyframe_needed |= keyframe_needed;
        }
    }
}

/// The depacketizer of an IVF track.
enum Frames {
    Vp8(Vp8Depacketizer),
    Vp9(Vp9Depacketizer),
}

impl Frames {
    fn push(&mut self, packet: &OrderedPacket) -> Option<Vp8Event> {
        match self {
            Frames::Vp8(d) => d.push(packet),
            Frames::Vp9(d) => d.push(packet),
        }
    }

    fn lost(&mut self) -> Option<Vp8Event> {
        match self {
            Frames::Vp8(d) => d.lost(),
            Frames::Vp9(d) => d.lost(),
        }
    }
}

/// Writes a depacketizer's frame; whether a keyframe is needed instead.
fn write_frame<W: Write>(event: Option<Vp8Event>, ivf: &mut IvfWriter<W>) -> io::Result<bool> {
    match event {
        Some(Vp8Event::Frame(frame)) => ivf.write(&frame).map(|()| false),
        Some(Vp8Event::KeyframeNeeded) => Ok(true),
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use bytes::Bytes;

    use super::*;

    /// A 20 ms mono CELT packet (config 31, code 0) with one byte of payload.
    fn opus_packet(seq: u16, timestamp: u32) -> RtpPacket {
        RtpPacket {
            seq,
            timestamp,
            marker: false,
            payload: Bytes::from_static(&[0xf8, 0xff]),
        }
    }

    fn granule_of_last_page(bytes: &[u8]) -> u64 {
        let at = bytes
            .windows(4)
            .rposition(|w| w == b"OggS")
            .expect("an Ogg page");
        u64::from_le_bytes(bytes[at + 6..at + 14].try_into().unwrap())
    }

    #[test]
    fn packets_out_of_order_are_written_in_order_and_a_late_track_starts_with_silence() {
        let started = Instant::now();
        let at = started + Duration::from_secs(1);
        let mut track =
            TrackRecorder::opus(Cursor::new(Vec::new()), 7, started, at).expect("headers");
        for (seq, ts) in [(10, 960), (12, 2_880), (11, 1_920)] {
            track.push(at, 99, opus_packet(seq, ts)).expect("written");
        }
        let file = track.finish(at).expect("finished").into_inner();
        // One second of lead-in, then three 20 ms packets: 48,000 + 3 × 960 samples.
        assert_eq!(granule_of_last_page(&file), 48_000 + 3 * 960);
    }

    #[test]
    fn a_new_ssrc_continues_at_the_wall_clock_time_it_arrived() {
        let started = Instant::now();
        let mut track =
            TrackRecorder::opus(Cursor::new(Vec::new()), 7, started, started).expect("headers");
        track.push(started, 1, opus_packet(1, 1_000)).unwrap();
        // The publisher reconnects two seconds in with new numbers.
        let later = started + Duration::from_secs(2);
        track.push(later, 2, opus_packet(50_000, 77)).unwrap();
        let file = track.finish(later).unwrap().into_inner();
        assert_eq!(granule_of_last_page(&file), 2 * 48_000 + 960);
    }

    #[test]
    fn a_lost_video_packet_asks_for_a_keyframe_once_its_hole_times_out() {
        let started = Instant::now();
        let mut track = TrackRecorder::vp8(Cursor::new(Vec::new()), started, started);
        // VP8 descriptor: start of partition 0; an interframe (P bit set) without a marker.
        let packet = |seq: u16| RtpPacket {
            seq,
            timestamp: 3_000,
            marker: false,
            payload: Bytes::from_static(&[0x10, 0x01, 0x00, 0x00]),
        };
        track.push(started, 5, packet(1)).unwrap();
        let progress = track.push(started, 5, packet(3)).unwrap();
        assert!(!progress.keyframe_needed, "the hole is still waited for");
        let due = track.poll_timeout().expect("a hole is held");
        let progress = track.handle_timeout(due).unwrap();
        assert!(progress.keyframe_needed);
    }
}
