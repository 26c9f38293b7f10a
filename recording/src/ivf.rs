//! An IVF file of VP8 or VP9 frames, written as they are assembled.
//!
//! IVF is the simplest container VP8 and VP9 have: a 32-byte header, then each frame behind a
//! 12-byte header (size, timestamp). Nothing is interleaved or indexed, so a frame is on
//! disk as soon as it is written, and a file cut anywhere plays up to its last whole frame.
//! The header's 32-bit field at offset 24 is only known at the end; [`IvfWriter::finish`]
//! seeks back to fill it in. libvpx calls it the frame count, but ffmpeg reads it as the
//! stream's duration in time-base units (its own IVF muxer writes that, which equals the
//! frame count only with a time base of one frame). With RTP's 1/90000 time base, a frame
//! count there made `ffprobe` report 21 frames as 0.000233 s; so the writer puts the
//! duration there, as ffmpeg does, and neither libvpx's reader nor ffmpeg's needs the
//! count to decode. A file that was never finished has 0 there: ffmpeg then reports no
//! duration but reads every frame to the end of the file.
//!
//! Timestamps are RTP time: the time base is 1/90000 s, and a frame's timestamp is its RTP
//! timestamp relative to the first frame, plus the track's `lead_in` (when it started after
//! the recording). A late track so starts at its offset, with nothing before it.

use std::io::{self, Seek, SeekFrom, Write};
use std::time::Duration;

/// A whole video frame (VP8 or VP9), ready for the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFrame {
    /// The extended RTP timestamp (90 kHz) shared by the frame's packets.
    pub timestamp: u64,
    /// The picture size a keyframe announces; `None` for an interframe (and for a
    /// keyframe whose size the packets did not say).
    pub keyframe_size: Option<(u16, u16)>,
    /// The codec's bitstream of the frame, payload descriptors removed.
    pub data: Vec<u8>,
}

/// The codecs an IVF file holds here, by their FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IvfCodec {
    Vp8,
    Vp9,
}

impl IvfCodec {
    fn fourcc(self) -> &'static [u8; 4] {
        match self {
            IvfCodec::Vp8 => b"VP80",
            IvfCodec::Vp9 => b"VP90",
        }
    }
}

/// The RTP clock rate of video, the file's time base.
const CLOCK_RATE: u64 = 90_000;

/// Where the length (duration or frame count, see above) sits in the header.
const LENGTH_OFFSET: u64 = 24;

/// Writes one VP8 track into an IVF file.
pub struct IvfWriter<W: Write> {
    out: W,
    codec: IvfCodec,
    lead_in: u64,
    /// The RTP timestamp of the first frame, once the header is written.
    first_timestamp: Option<u64>,
    /// The current RTP timeline: a frame's pts is its timestamp minus the first, plus
    /// the second (`first_timestamp` and `lead_in` until a [`Self::resync`]).
    timeline: Option<(u64, u64)>,
    /// Where the next frame plays after a [`Self::resync`], in 1/90000 s.
    resync_at: Option<u64>,
    /// The timestamp of the last frame written.
    last_pts: u64,
    frames: u32,
}

impl<W: Write> IvfWriter<W> {
    /// Nothing is written until the first frame, whose (keyframe) size goes in the header.
    /// The first frame plays `lead_in` after the start of the recording.
    pub fn new(out: W, codec: IvfCodec, lead_in: Duration) -> Self {
        let lead_in = ticks(lead_in);
        Self {
            out,
            codec,
            lead_in,
            first_timestamp: None,
            timeline: None,
            resync_at: None,
            last_pts: 0,
            frames: 0,
        }
    }

    /// Appends `frame` and flushes. Frames come from a [`crate::vp8::Vp8Depacketizer`], so
    /// the first is a keyframe and each one can be decoded.
    pub fn write(&mut self, frame: &VideoFrame) -> io::Result<()> {
        if self.first_timestamp.is_none() {
            self.out
                .write_all(&header(self.codec, frame.keyframe_size.unwrap_or_default()))?;
            self.first_timestamp = Some(frame.timestamp);
            self.timeline = Some((frame.timestamp, self.lead_in));
        }
        if let Some(at) = self.resync_at.take() {
            // Strictly after the last frame: players drop a frame whose pts goes back.
            self.timeline = Some((frame.timestamp, at.max(self.last_pts + 1)));
        }
        let (base, offset) = self.timeline.unwrap_or((frame.timestamp, self.lead_in));
        let pts = frame.timestamp.saturating_sub(base) + offset;
        let size = u32::try_from(frame.data.len()).map_err(io::Error::other)?;
        self.out.write_all(&size.to_le_bytes())?;
        self.out.write_all(&pts.to_le_bytes())?;
        self.out.write_all(&frame.data)?;
        self.out.flush()?;
        self.last_pts = pts;
        self.frames += 1;
        Ok(())
    }

    /// The next frame starts a new RTP timeline (the publisher restarted its stream) and
    /// plays `at` after the start of the recording, or right after the last frame if that
    /// is later.
    pub fn resync(&mut self, at: Duration) {
        self.resync_at = Some(ticks(at));
    }

    /// How many frames are written.
    pub fn frames(&self) -> u32 {
        self.frames
    }
}

impl<W: Write + Seek> IvfWriter<W> {
    /// Fills in the length, flushes, and hands back the writer (at its end). A track that
    /// never sent a keyframe leaves an empty file.
    pub fn finish(mut self) -> io::Result<W> {
        if self.first_timestamp.is_some() {
            self.out.seek(SeekFrom::Start(LENGTH_OFFSET))?;
            self.out.write_all(&self.duration().to_le_bytes())?;
            self.out.seek(SeekFrom::End(0))?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// The duration as ffmpeg's IVF muxer computes it: the span from the first frame to the
    /// last, plus one average frame interval for the last frame's own display time.
    fn duration(&self) -> u32 {
        let span = self.last_pts - self.lead_in;
        let frames = u64::from(self.frames);
        let duration = span * frames / frames.saturating_sub(1).max(1);
        u32::try_from(duration).unwrap_or(u32::MAX)
    }
}

/// A duration in the file's time base (1/90000 s).
fn ticks(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros() * u128::from(CLOCK_RATE) / 1_000_000).unwrap_or(u64::MAX)
}

/// The file header: signature, version 0, header size, FourCC, size, time base
/// (denominator then numerator), length (0 until [`IvfWriter::finish`]), unused.
fn header(codec: IvfCodec, (width, height): (u16, u16)) -> [u8; 32] {
    let mut header = [0u8; 32];
    header[..4].copy_from_slice(b"DKIF");
    header[6..8].copy_from_slice(&32u16.to_le_bytes());
    header[8..12].copy_from_slice(codec.fourcc());
    header[12..14].copy_from_slice(&width.to_le_bytes());
    header[14..16].copy_from_slice(&height.to_le_bytes());
    header[16..20].copy_from_slice(&(CLOCK_RATE as u32).to_le_bytes());
    header[20..24].copy_from_slice(&1u32.to_le_bytes());
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn frame(timestamp: u64, keyframe_size: Option<(u16, u16)>, data: &[u8]) -> VideoFrame {
        VideoFrame {
            timestamp,
            keyframe_size,
            data: data.to_vec(),
        }
    }

    fn le32(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    /// (size, timestamp) of each frame after the header.
    fn frames(file: &[u8]) -> Vec<(u32, u64)> {
        let mut at = 32;
        let mut frames = Vec::new();
        while at + 12 <= file.len() {
            let size = le32(file, at);
            let pts = u64::from_le_bytes(file[at + 4..at + 12].try_into().unwrap());
            frames.push((size, pts));
            at += 12 + size as usize;
        }
        frames
    }

    #[test]
    fn header_then_frames_with_rtp_timestamps_and_the_length_on_finish() {
        let mut writer = IvfWriter::new(Cursor::new(Vec::new()), IvfCodec::Vp8, Duration::ZERO);
        writer
            .write(&frame(1_000_000, Some((640, 480)), &[1, 2, 3]))
            .unwrap();
        writer.write(&frame(1_003_000, None, &[4, 5])).unwrap();
        assert_eq!(writer.frames(), 2);
        let unfinished = writer.out.get_ref().clone();
        assert_eq!(
            le32(&unfinished, 24),
            0,
            "the length is unknown until the end"
        );

        let file = writer.finish().unwrap().into_inner();
        assert_eq!(&file[..4], b"DKIF");
        assert_eq!(&file[8..12], b"VP80");
        assert_eq!(
            (le32(&file, 12) & 0xffff, le32(&file, 12) >> 16),
            (640, 480)
        );
        assert_eq!(
            (le32(&file, 16), le32(&file, 20)),
            (90_000, 1),
            "time base 1/90000"
        );
        // Two frames 3,000 ticks apart last 6,000 ticks, as ffmpeg counts.
        assert_eq!(le32(&file, 24), 6_000);
        assert_eq!(frames(&file), [(3, 0), (2, 3_000)]);
        assert_eq!(file[32 + 12..32 + 15], [1, 2, 3]);
    }

    #[test]
    fn a_late_track_starts_at_its_offset() {
        let mut writer = IvfWriter::new(
            Cursor::new(Vec::new()),
            IvfCodec::Vp8,
            Duration::from_millis(1_500),
        );
        writer.write(&frame(42, Some((320, 240)), &[1])).unwrap();
        writer.write(&frame(42 + 9_000, None, &[2])).unwrap();
        let file = writer.finish().unwrap().into_inner();
        assert_eq!(frames(&file), [(1, 135_000), (1, 144_000)]);
    }

    #[test]
    fn a_track_without_frames_leaves_an_empty_file() {
        let writer = IvfWriter::new(Cursor::new(Vec::new()), IvfCodec::Vp8, Duration::ZERO);
        assert!(writer.finish().unwrap().into_inner().is_empty());
    }
}
