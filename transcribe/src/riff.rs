//! What a WAV file's chunks say, checked against the file itself before any decoder sees it.
//!
//! A header is the uploader's claim: a `data` size of 0xFFFFFFFF on a 2 KB file would make
//! 37 hours, and a sample rate of 0 made the decoder panic. Walking the chunk list is a few
//! reads, so it is done here rather than trusted to symphonia.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::{Error, Result};

/// A WAV file's format and how many whole frames of samples it really holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WavFacts {
    pub sample_rate: u32,
    pub channels: u16,
    /// Whole frames in the `data` chunk, as far as the file actually goes.
    pub frames: u64,
}

impl WavFacts {
    pub(crate) fn duration_secs(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate)
    }
}

/// Reads the `fmt ` and `data` chunks; a format that cannot describe audio (no channels, a
/// sample rate or block size of 0) or a file without both chunks is [`Error::Decode`].
pub(crate) fn inspect(path: &Path) -> Result<WavFacts> {
    let mut file = File::open(path)?;
    let file_len = file.metadata()?.len();
    let mut riff = [0u8; 12];
    file.read_exact(&mut riff)
        .map_err(|_| corrupt("shorter than a RIFF header"))?;
    let mut format: Option<(u16, u32, u16)> = None;
    let mut at = 12u64;
    while at + 8 <= file_len {
        let mut head = [0u8; 8];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut head)?;
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        let body = at + 8;
        match &head[..4] {
            b"fmt " => {
                let mut fmt = [0u8; 16];
                file.read_exact(&mut fmt)
                    .map_err(|_| corrupt("the fmt chunk is cut short"))?;
                let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
                let sample_rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
                let block_align = u16::from_le_bytes([fmt[12], fmt[13]]);
                format = Some(validated(channels, sample_rate, block_align)?);
            }
            b"data" => {
                let (channels, sample_rate, block_align) =
                    format.ok_or_else(|| corrupt("the data chunk comes before the format"))?;
                let present = size.min(file_len - body);
                return Ok(WavFacts {
                    sample_rate,
                    channels,
                    frames: present / u64::from(block_align),
                });
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        at = body + size + (size & 1);
    }
    Err(corrupt("no data chunk"))
}

fn validated(channels: u16, sample_rate: u32, block_align: u16) -> Result<(u16, u32, u16)> {
    if sample_rate == 0 {
        return Err(corrupt("the sample rate is 0"));
    }
    if channels == 0 {
        return Err(corrupt("the channel count is 0"));
    }
    if block_align == 0 {
        return Err(corrupt("the block size is 0"));
    }
    Ok((channels, sample_rate, block_align))
}

fn corrupt(what: &str) -> Error {
    Error::Decode(format!("corrupt WAV: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit mono WAV header claiming `data_size`, followed by `samples` zero samples.
    fn wav(sample_rate: u32, data_size: u32, samples: usize) -> Vec<u8> {
        let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
        out.extend(b"LIST\x03\0\0\0abc\0"); // an odd-sized chunk to skip, with its pad byte
        out.extend(b"fmt \x10\0\0\0\x01\0\x01\0");
        out.extend(sample_rate.to_le_bytes());
        out.extend((sample_rate * 2).to_le_bytes());
        out.extend(b"\x02\0\x10\0data");
        out.extend(data_size.to_le_bytes());
        out.extend(vec![0u8; samples * 2]);
        out
    }

    fn inspect_bytes(bytes: &[u8]) -> Result<WavFacts> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        inspect(file.path())
    }

    #[test]
    fn frames_come_from_the_file_not_the_declared_size() {
        let facts = inspect_bytes(&wav(16_000, 0xFFFF_FFFF, 1000)).unwrap();
        assert_eq!(facts.frames, 1000);
        assert_eq!(facts.duration_secs(), 1000.0 / 16_000.0);
        let honest = inspect_bytes(&wav(8_000, 400, 1000)).unwrap();
        assert_eq!(honest.frames, 200);
    }

    #[test]
    fn impossible_formats_are_refused() {
        let err = inspect_bytes(&wav(0, 100, 50)).unwrap_err().to_string();
        assert!(err.contains("sample rate is 0"), "{err}");
        assert!(inspect_bytes(b"RIFF\0\0\0\0WAVE").is_err());
    }
}
