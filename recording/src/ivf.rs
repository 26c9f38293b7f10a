//! An IVF file of VP8 frames, written as they are assembled.
//!
//! IVF is the simplest container VP8 has: a 32-byte header, then each frame behind a
//! 12-byte header (size, timestamp). Nothing is interleaved or indexed, so a frame is on
//! disk as soon as it is written, and a file cut anywhere plays up to its last whole frame.
//! The header's frame count is only known at the end; [`IvfWriter::finish`] seeks back to
//! fill it in. A file that was never finished says 0 frames, which readers ignore (ffmpeg
//! reads frames until the end of the file).
//!
//! Timestamps are RTP time: the time base is 1/90000 s, and a frame's timestamp is its RTP
//! timestamp relative to the first frame, plus the track's `lead_in` (when it started after
//! the recording). A late track so starts at its offset, with nothing before it.

use std::io::{self, Seek, SeekFrom, Write};
use std::time::Duration;

use crate::vp8::Vp8Frame;

/// The RTP clock rate of video, the file's time base.
const CLOCK_RATE: u64 = 90_000;

/// Where the frame count sits in the header.
const FRAME_COUNT_OFFSET: u64 = 24;

/// Writes one VP8 track into an IVF file.
pub struct IvfWriter<W: Write> {
    out: W,
    lead_in: u64,
    /// The RTP timestamp of the first frame, once the header is written.
    first_timestamp: Option<u64>,
    frames: u32,
}

impl<W: Write> IvfWriter<W> {
    /// Nothing is written until the first frame, whose (keyframe) size goes in the header.
    /// The first frame plays `lead_in` after the start of the recording.
    pub fn new(out: W, lead_in: Duration) -> Self {
        let lead_in = u64::try_from(lead_in.as_micros() * u128::from(CLOCK_RATE) / 1_000_000)
            .unwrap_or(u64::MAX);
        Self {
            out,
            lead_in,
            first_timestamp: None,
            frames: 0,
        }
    }

    /// Appends `frame` and flushes. Frames come from a [`crate::vp8::Vp8Depacketizer`], so
    /// the first is a keyframe and each one can be decoded.
    pub fn write(&mut self, frame: &Vp8Frame) -> io::Result<()> {
        let first = match self.first_timestamp {
            Some(first) => first,
            None => {
                self.out
                    .write_all(&header(frame.keyframe_size.unwrap_or_default()))?;
                *self.first_timestamp.insert(frame.timestamp)
            }
        };
        let pts = frame.timestamp.saturating_sub(first) + self.lead_in;
        let size = u32::try_from(frame.data.len()).map_err(io::Error::other)?;
        self.out.write_all(&size.to_le_bytes())?;
        self.out.write_all(&pts.to_le_bytes())?;
        self.out.write_all(&frame.data)?;
        self.out.flush()?;
        self.frames += 1;
        Ok(())
    }

    /// How many frames are written.
    pub fn frames(&self) -> u32 {
        self.frames
    }
}

impl<W: Write + Seek> IvfWriter<W> {
    /// Fills in the frame count, flushes, and hands back the writer (at its end). A track
    /// that never sent a keyframe leaves an empty file.
    pub fn finish(mut self) -> io::Result<W> {
        if self.first_timestamp.is_some() {
            self.out.seek(SeekFrom::Start(FRAME_COUNT_OFFSET))?;
            self.out.write_all(&self.frames.to_le_bytes())?;
            self.out.seek(SeekFrom::End(0))?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The file header: signature, version 0, header size, FourCC, size, time base
/// (denominator then numerator), frame count (0 until [`IvfWriter::finish`]), unused.
fn header((width, height): (u16, u16)) -> [u8; 32] {
    let mut header = [0u8; 32];
    header[..4].copy_from_slice(b"DKIF");
    header[6..8].copy_from_slice(&32u16.to_le_bytes());
    header[8..12].copy_from_slice(b"VP80");
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

    fn frame(timestamp: u64, keyframe_size: Option<(u16, u16)>, data: &[u8]) -> Vp8Frame {
        Vp8Frame {
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
    fn header_then_frames_with_rtp_timestamps_and_the_count_on_finish() {
        let mut writer = IvfWriter::new(Cursor::new(Vec::new()), Duration::ZERO);
        writer
            .write(&frame(1_000_000, Some((640, 480)), &[1, 2, 3]))
            .unwrap();
        writer.write(&frame(1_003_000, None, &[4, 5])).unwrap();
        assert_eq!(writer.frames(), 2);
        let unfinished = writer.out.get_ref().clone();
        assert_eq!(
            le32(&unfinished, 24),
            0,
            "the count is unknown until the end"
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
        assert_eq!(le32(&file, 24), 2);
        assert_eq!(frames(&file), [(3, 0), (2, 3_000)]);
        assert_eq!(file[32 + 12..32 + 15], [1, 2, 3]);
    }

    #[test]
    fn a_late_track_starts_at_its_offset() {
        let mut writer = IvfWriter::new(Cursor::new(Vec::new()), Duration::from_millis(1_500));
        writer.write(&frame(42, Some((320, 240)), &[1])).unwrap();
        writer.write(&frame(42 + 9_000, None, &[2])).unwrap();
        let file = writer.finish().unwrap().into_inner();
        assert_eq!(frames(&file), [(1, 135_000), (1, 144_000)]);
    }

    #[test]
    fn a_track_without_frames_leaves_an_empty_file() {
        let writer = IvfWriter::new(Cursor::new(Vec::new()), Duration::ZERO);
        assert!(writer.finish().unwrap().into_inner().is_empty());
    }
}
