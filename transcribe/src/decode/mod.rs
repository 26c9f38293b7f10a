//! Streaming decoders that turn any supported container into mono f32 chunks at the file's own
//! sample rate. Files are read through small buffers, never loaded whole.

pub(crate) mod ogg_opus;
pub(crate) mod symphonia_source;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::{AudioFormat, detect_file};
use crate::resample::Resampler16k;

pub(crate) use ogg_opus::OggOpusDecoder;
pub(crate) use symphonia_source::SymphoniaDecoder;

/// Corrupt packets tolerated before a file is declared undecodable: a few damaged frames in a
/// long recording should not lose the whole transcript.
const MAX_BAD_PACKETS: u32 = 64;

/// A decoder of whichever kind the file's content needs.
pub(crate) enum MonoDecoder {
    Symphonia(SymphoniaDecoder),
    OggOpus(OggOpusDecoder),
}

impl MonoDecoder {
    /// Detect the format from the content and open the matching decoder.
    pub(crate) fn open(path: &Path) -> Result<(Self, AudioFormat)> {
        let format = detect_file(path)?;
        let decoder = contain_panics(|| match format {
            AudioFormat::OggOpus => OggOpusDecoder::open(path).map(MonoDecoder::OggOpus),
            other => SymphoniaDecoder::open(path, other).map(MonoDecoder::Symphonia),
        })?;
        Ok((decoder, format))
    }

    pub(crate) fn sample_rate(&self) -> u32 {
        match self {
            MonoDecoder::Symphonia(d) => d.sample_rate(),
            MonoDecoder::OggOpus(d) => d.sample_rate(),
        }
    }

    /// Append the next decoded chunk (mono) to `out`; `false` once the stream has ended.
    pub(crate) fn next_chunk(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        contain_panics(|| match self {
            MonoDecoder::Symphonia(d) => d.next_chunk(out),
            MonoDecoder::OggOpus(d) => d.next_chunk(out),
        })
    }
}

/// Run parser code on untrusted bytes, turning a panic into [`Error::Decode`]: demuxers and
/// decoders have panicked on crafted input before, and a bad upload must fail its own job only.
pub(crate) fn contain_panics<T>(parse: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(parse))
        .unwrap_or_else(|_| Err(Error::Decode("the decoder failed on malformed data".into())))
}

/// Average interleaved frames of `channels` samples into mono, appending to `out`.
pub(crate) fn downmix_into(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

/// Decode a whole file to 16 kHz mono. Holds the result in memory (64 KB per second of audio):
/// meant for short clips, tests and benchmarks; the pipeline streams instead.
pub fn decode_to_16k_mono(path: &Path) -> Result<Vec<f32>> {
    let (mut decoder, _) = MonoDecoder::open(path)?;
    let mut resampler = Resampler16k::new(decoder.sample_rate())?;
    let mut chunk = Vec::new();
    let mut output = Vec::new();
    while decoder.next_chunk(&mut chunk)? {
        resampler.push(&chunk, &mut output)?;
        chunk.clear();
    }
    resampler.finish(&mut output)?;
    if output.is_empty() {
        return Err(Error::Empty);
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_each_frame() {
        let mut out = vec![];
        downmix_into(&[1.0, 0.0, 0.5, 0.5, -1.0, 1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, 0.0]);
    }
}
