//! An Ogg Opus file (RFC 7845) written as the packets of one audio track arrive.
//!
//! The file's timeline is the recording's: sample `n` of the decoded file plays `n / 48000`
//! seconds after the recording started, so tracks line up by position alone and a
//! transcript's timestamps are recording offsets. Three choices keep it so:
//!
//! - **Granule positions come from RTP time.** A packet's place is its RTP timestamp
//!   relative to the track's first packet (both 48 kHz for Opus). Where that leaves a gap
//!   (DTX, a muted or stalled sender, lost packets), silent packets fill it, so every
//!   granule position stays the sum of the packet durations before it, as RFC 7845 §4
//!   requires, and the gap keeps its length when played.
//! - **A late track starts with silence** (`lead_in`), rather than with a non-zero first
//!   granule position or an offset kept only in the manifest: every player, `ffprobe`, and
//!   the transcriber then agree on where the track's audio is, at a cost of ~150 bytes per
//!   second of silence.
//! - **Pre-skip is 0.** Pre-skip removes the encoder's lookahead (312 samples for libopus)
//!   from the start of a stream that begins at the encoder's first packet. A recording
//!   joins the browser's encoder mid-stream, behind silence or not, and pre-skip would move
//!   every sample 6.5 ms earlier than its granule position says; with 0 the file's time is
//!   the RTP time exactly (the 6.5 ms encoder delay is the same on every track).
//!
//! The header declares two channels: WebRTC negotiates `opus/48000/2`, and each packet
//! says whether it is mono or stereo, which a decoder follows.
//!
//! Pages end after at least a second of audio and the writer is flushed, so a process
//! killed at any moment leaves a file that plays up to its last complete page (readers
//! skip a torn page at the end). [`OggOpusWriter::finish`] writes the end-of-stream page.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

use crate::Error;
use crate::opus::{self, SAMPLE_RATE};
use crate::reorder::OrderedPacket;

/// Audio per page: a crash loses at most this much (plus one packet).
const PAGE_SAMPLES: u64 = SAMPLE_RATE;

/// How far a timeline's RTP time may run ahead of the wall time since its first packet
/// arrived before it is distrusted. Slack for a first packet that came late (jitter, the
/// reorder buffer) and for a sender's clock running fast (100 ppm is 0.36 s an hour);
/// without a bound, a timestamp jump (a buggy or hostile sender) writes hours of silence.
const WALL_SLACK: Duration = Duration::from_secs(2);

/// The vendor string of the OpusTags header.
const VENDOR: &str = "workbook";

/// Writes one Opus track into an Ogg Opus stream.
pub struct OggOpusWriter<W: Write> {
    ogg: PacketWriter<'static, W>,
    serial: u32,
    /// Which RTP timestamp plays at which position (in samples from the start of the file);
    /// `None` until the first packet of a timeline.
    anchor: Option<Anchor>,
    /// Where the first packet of the next timeline plays.
    next_start: u64,
    /// The end of the audio handed over so far, in samples: the granule position.
    end: u64,
    /// The granule position at the start of the page being filled.
    page_start: u64,
    /// The last packet, kept back so [`Self::finish`] can mark it end of stream.
    held: Option<(Vec<u8>, u64)>,
    /// When the first packet of the timeline arrived, and where it plays: the file may not
    /// run further ahead of the wall time since then than [`WALL_SLACK`].
    origin: Option<(Instant, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    rtp: u64,
    position: u64,
}

impl<W: Write> OggOpusWriter<W> {
    /// Writes the headers (each on its page, RFC 7845 §3) and flushes them. The track's
    /// first packet plays `lead_in` after the start of the file; `serial` is the Ogg stream
    /// serial number (random in principle; one stream per file here).
    pub fn new(out: W, serial: u32, lead_in: Duration) -> io::Result<Self> {
        let mut ogg = PacketWriter::new(out);
        ogg.write_packet(opus_head(), serial, PacketWriteEndInfo::EndPage, 0)?;
        ogg.write_packet(opus_tags(), serial, PacketWriteEndInfo::EndPage, 0)?;
        ogg.inner_mut().flush()?;
        Ok(Self {
            ogg,
            serial,
            anchor: None,
            next_start: samples(lead_in),
            end: 0,
            page_start: 0,
            held: None,
            origin: None,
        })
    }

    /// Writes the next packet of the track, after the silence that its timestamp says
    /// came before it. A packet whose length cannot be read is refused and changes nothing.
    pub fn push(&mut self, packet: &OrderedPacket) -> Result<(), Error> {
        let duration = opus::packet_samples(&packet.payload).ok_or(Error::MalformedOpus)?;
        let start = self.place(packet);
        for (silent, duration) in opus::silence(start.saturating_sub(self.end)) {
            self.append(silent.to_vec(), duration)?;
        }
        self.append(packet.payload.to_vec(), duration)?;
        Ok(())
    }

    /// The next packet starts a new RTP timeline (the publisher reconnected: new SSRC, new
    /// timestamps) and plays `at` after the start of the file, or right after what is
    /// written if that is later.
    pub fn resync(&mut self, at: Duration) {
        self.anchor = None;
        self.next_start = samples(at);
        self.origin = None;
    }

    /// The end of the audio written so far, from the start of the file.
    pub fn position(&self) -> Duration {
        let nanos = u128::from(self.end) * 1_000_000_000 / u128::from(SAMPLE_RATE);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Writes the last packet on an end-of-stream page, flushes, and hands back the writer.
    /// A track that sent no packet keeps its two header pages.
    pub fn finish(mut self) -> io::Result<W> {
        if let Some((data, granule)) = self.held.take() {
            self.ogg
                .write_packet(data, self.serial, PacketWriteEndInfo::EndStream, granule)?;
        }
        let mut out = self.ogg.into_inner();
        out.flush()?;
        Ok(out)
    }

    /// Where `packet` starts, in samples from the start of the file: from its RTP time,
    /// never before the end of what is written, and never further ahead than the wall time
    /// allows. Either correction starts a new anchor.
    fn place(&mut self, packet: &OrderedPacket) -> u64 {
        let (Some(anchor), Some((first_arrival, first_position))) = (self.anchor, self.origin)
        else {
            let position = self.next_start.max(self.end);
            self.anchor = Some(Anchor {
                rtp: packet.timestamp,
                position,
            });
            self.origin = Some((packet.arrival, position));
            return position;
        };
        let wanted = anchor
            .position
            .saturating_add(packet.timestamp)
            .saturating_sub(anchor.rtp);
        let wall = packet.arrival.saturating_duration_since(first_arrival);
        let latest = first_position.saturating_add(samples(wall + WALL_SLACK));
        let position = wanted.clamp(self.end, latest.max(self.end));
        if position != wanted {
            self.anchor = Some(Anchor {
                rtp: packet.timestamp,
                position,
            });
        }
        position
    }

    /// Hands the held packet to the page and holds `data`; ends the page once it spans a
    /// second.
    fn append(&mut self, data: Vec<u8>, duration: u64) -> io::Result<()> {
        if let Some((held, granule)) = self.held.take() {
            let end_page = granule - self.page_start >= PAGE_SAMPLES;
            let info = if end_page {
                PacketWriteEndInfo::EndPage
            } else {
                PacketWriteEndInfo::NormalPacket
            };
            self.ogg.write_packet(held, self.serial, info, granule)?;
            if end_page {
                self.page_start = granule;
                self.ogg.inner_mut().flush()?;
            }
        }
        self.end += duration;
        self.held = Some((data, self.end));
        Ok(())
    }
}

fn samples(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos() * u128::from(SAMPLE_RATE) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// The identification header (RFC 7845 §5.1): version 1, two channels, pre-skip 0, input
/// rate 48 kHz (informational), no gain, mapping family 0 (mono or stereo).
fn opus_head() -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(2);
    head.extend_from_slice(&0u16.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    head
}

/// The comment header (RFC 7845 §5.2): the vendor and no comments.
fn opus_tags() -> Vec<u8> {
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(VENDOR.len() as u32).to_le_bytes());
    tags.extend_from_slice(VENDOR.as_bytes());
    tags.extend_from_slice(&0u32.to_le_bytes());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::io::Cursor;

    /// A 20 ms packet (CELT fullband) with a marker byte to find it again.
    const FRAME: u64 = 960;

    fn packet(timestamp: u64, arrival: Instant, tag: u8) -> OrderedPacket {
        let payload = Bytes::from(vec![0xFC, tag, tag]);
        OrderedPacket {
            seq: 0,
            timestamp,
            marker: false,
            payload,
            arrival,
        }
    }

    /// Every packet of the file with its page's granule position and flags, read back with
    /// the `ogg` crate.
    struct Read {
        packets: Vec<Vec<u8>>,
        /// (granule position, last packet of the stream) of each packet that ends a page.
        page_ends: Vec<(u64, bool)>,
    }

    fn read(bytes: Vec<u8>) -> Read {
        let mut reader = ogg::PacketReader::new(Cursor::new(bytes));
        let mut read = Read {
            packets: Vec::new(),
            page_ends: Vec::new(),
        };
        while let Some(p) = reader.read_packet().expect("a valid Ogg stream") {
            if p.last_in_page() {
                read.page_ends.push((p.absgp_page(), p.last_in_stream()));
            }
            read.packets.push(p.data);
        }
        read
    }

    /// The total duration of the audio packets (after the two headers).
    fn audio_samples(read: &Read) -> u64 {
        read.packets[2..]
            .iter()
            .map(|p| opus::packet_samples(p).unwrap())
            .sum()
    }

    #[test]
    fn headers_come_first_on_pages_of_their_own() {
        let file = OggOpusWriter::new(Vec::new(), 7, Duration::ZERO)
            .unwrap()
            .finish()
            .unwrap();
        let read = read(file);
        assert_eq!(read.packets.len(), 2);
        assert_eq!(&read.packets[0][..8], b"OpusHead");
        assert_eq!(read.packets[0][9], 2, "two channels");
        assert_eq!(&read.packets[0][10..12], [0, 0], "pre-skip 0");
        assert_eq!(&read.packets[1][..8], b"OpusTags");
        assert_eq!(read.page_ends, [(0, false), (0, false)]);
    }

    #[test]
    fn granule_positions_count_the_samples_and_the_last_page_ends_the_stream() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let t0 = Instant::now();
        for i in 0..120 {
            writer
                .push(&packet(
                    1_000 + i * FRAME,
                    t0 + Duration::from_millis(20 * i),
                    1,
                ))
                .unwrap();
        }
        assert_eq!(writer.position(), Duration::from_millis(2_400));
        let read = read(writer.finish().unwrap());
        assert_eq!(read.packets.len(), 2 + 120);
        // A page ends once it holds a second (50 packets), and the stream with the last.
        assert_eq!(
            read.page_ends[2..],
            [
                (50 * FRAME, false),
                (100 * FRAME, false),
                (120 * FRAME, true)
            ]
        );
    }

    #[test]
    fn a_silence_gap_keeps_its_length() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let t0 = Instant::now();
        writer.push(&packet(0, t0, 1)).unwrap();
        // DTX or a muted sender: the next packet is 1.5 s later in RTP and wall time.
        let later = 72_000;
        writer
            .push(&packet(later, t0 + Duration::from_millis(1_500), 2))
            .unwrap();
        let read = read(writer.finish().unwrap());
        assert_eq!(audio_samples(&read), later + FRAME);
        assert_eq!(read.page_ends.last(), Some(&(later + FRAME, true)));
        let last = read.packets.last().unwrap();
        assert_eq!(last[1], 2, "the real packet comes after the silence");
        assert!(
            read.packets[3..read.packets.len() - 1]
                .iter()
                .all(|p| p.ends_with(&[0xFF, 0xFE]))
        );
    }

    #[test]
    fn a_late_track_starts_with_silence() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::from_millis(2_500)).unwrap();
        writer.push(&packet(123_456, Instant::now(), 1)).unwrap();
        let read = read(writer.finish().unwrap());
        assert_eq!(audio_samples(&read), 120_000 + FRAME);
        assert_eq!(read.packets.last().unwrap()[1], 1);
    }

    #[test]
    fn timestamps_that_go_back_continue_after_what_is_written() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let t0 = Instant::now();
        writer.push(&packet(100_000, t0, 1)).unwrap();
        // The sender restarted its timestamps on the same SSRC.
        writer.push(&packet(0, t0, 2)).unwrap();
        writer.push(&packet(FRAME, t0, 3)).unwrap();
        let read = read(writer.finish().unwrap());
        assert_eq!(
            audio_samples(&read),
            3 * FRAME,
            "no rewind, and no gap after it"
        );
    }

    #[test]
    fn a_timestamp_jump_beyond_the_wall_time_is_not_believed() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let t0 = Instant::now();
        writer.push(&packet(0, t0, 1)).unwrap();
        // Hours ahead in RTP time, moments later on the wall clock: the file runs at most
        // WALL_SLACK (2 s) ahead of the wall time since the first packet.
        for (i, ts) in [(1, 1 << 31), (2, (1 << 31) + FRAME), (3, 1 << 32)] {
            writer
                .push(&packet(ts, t0 + Duration::from_millis(20 * i), 2))
                .unwrap();
        }
        let written = writer.position();
        assert!(written <= Duration::from_millis(2_080), "{written:?}");
        assert!(written >= Duration::from_millis(2_000), "{written:?}");
    }

    #[test]
    fn a_reconnect_continues_the_file_at_its_offset() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let t0 = Instant::now();
        writer.push(&packet(5_000, t0, 1)).unwrap();
        writer.resync(Duration::from_secs(3));
        writer
            .push(&packet(777, t0 + Duration::from_secs(3), 2))
            .unwrap();
        assert_eq!(writer.position(), Duration::from_millis(3_020));
    }

    #[test]
    fn a_malformed_packet_is_refused_and_changes_nothing() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let bad = OrderedPacket {
            payload: Bytes::new(),
            ..packet(0, Instant::now(), 0)
        };
        assert!(matches!(writer.push(&bad), Err(Error::MalformedOpus)));
        assert_eq!(writer.position(), Duration::ZERO);
    }

    #[test]
    fn pages_are_flushed_as_they_end() {
        let mut writer = OggOpusWriter::new(Vec::new(), 1, Duration::ZERO).unwrap();
        let t0 = Instant::now();
        for i in 0..60 {
            writer
                .push(&packet(i * FRAME, t0 + Duration::from_millis(20 * i), 1))
                .unwrap();
        }
        // Dropped without finish, as a crash would: the first second is in the output.
        let unfinished = writer.ogg.inner().clone();
        let read = read(unfinished);
        assert_eq!(read.page_ends[2..], [(50 * FRAME, false)]);
    }
}
