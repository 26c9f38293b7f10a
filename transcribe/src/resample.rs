//! Streaming conversion of mono audio to the 16 kHz Whisper expects, with rubato's FFT
//! resampler (fixed ratio, anti-aliased). Input arrives in decoder-sized chunks of any length.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Error, Result};

/// The sample rate every engine receives.
pub const TARGET_RATE: u32 = 16_000;
/// Input frames per FFT call: large enough to be efficient, small enough to stay cache-friendly.
const CHUNK: usize = 1024;

/// Converts a stream of mono samples at `from` Hz into 16 kHz, keeping output aligned with the
/// input (the resampler's start-up delay is trimmed) and exactly `ceil(n * 16000 / from)` long.
pub struct Resampler16k {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    scratch: Vec<f32>,
    delay_left: usize,
    consumed: u64,
    produced: u64,
    from: u32,
}

fn resample_error(err: impl std::fmt::Display) -> Error {
    Error::Resample(err.to_string())
}

impl Resampler16k {
    /// A converter from `from` Hz; a pass-through when the input is already 16 kHz.
    pub fn new(from: u32) -> Result<Self> {
        if from == 0 {
            return Err(Error::Resample("input sample rate is zero".into()));
        }
        let inner = if from == TARGET_RATE {
            None
        } else {
            let fft = Fft::new(
                from as usize,
                TARGET_RATE as usize,
                CHUNK,
                1,
                FixedSync::Input,
            )
            .map_err(resample_error)?;
            Some(fft)
        };
        let delay_left = inner.as_ref().map_or(0, |r| r.output_delay());
        let scratch = vec![0.0; inner.as_ref().map_or(0, |r| r.output_frames_max())];
        Ok(Resampler16k {
            inner,
            pending: Vec::with_capacity(CHUNK * 2),
            scratch,
            delay_left,
            consumed: 0,
            produced: 0,
            from,
        })
    }

    /// Feed input samples; whatever output is ready is appended to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.consumed += input.len() as u64;
        if self.inner.is_none() {
            out.extend_from_slice(input);
            self.produced += input.len() as u64;
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        let mut start = 0;
        while self.pending.len() - start >= CHUNK {
            self.process(start, None, out)?;
            start += CHUNK;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Flush the tail: the last partial chunk, then zeros until the delayed output is complete.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.inner.is_none() {
            return Ok(());
        }
        let expected = (self.consumed * u64::from(TARGET_RATE)).div_ceil(u64::from(self.from));
        let tail = self.pending.len();
        self.pending.resize(CHUNK, 0.0);
        self.process(0, Some(tail), out)?;
        self.pending.fill(0.0);
        while self.produced < expected {
            self.process(0, Some(0), out)?;
        }
        let excess = (self.produced - expected) as usize;
        out.truncate(out.len().saturating_sub(excess));
        self.produced = expected;
        self.pending.clear();
        Ok(())
    }

    fn process(&mut self, start: usize, partial: Option<usize>, out: &mut Vec<f32>) -> Result<()> {
        let Some(resampler) = self.inner.as_mut() else {
            return Ok(());
        };
        let input = InterleavedSlice::new(&self.pending[start..start + CHUNK], 1, CHUNK)
            .map_err(resample_error)?;
        let capacity = self.scratch.len();
        let mut output =
            InterleavedSlice::new_mut(&mut self.scratch, 1, capacity).map_err(resample_error)?;
        let mut indexing = Indexing::new();
        indexing.partial_len = partial;
        let (_, written) = resampler
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(resample_error)?;
        let trimmed = self.delay_left.min(written);
        self.delay_left -= trimmed;
        out.extend_from_slice(&self.scratch[trimmed..written]);
        self.produced += (written - trimmed) as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    fn sine(freq: f32, rate: u32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| (2.0 * PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    fn resample_in_chunks(input: &[f32], from: u32, chunk: usize) -> Vec<f32> {
        let mut r = Resampler16k::new(from).unwrap();
        let mut out = vec![];
        for piece in input.chunks(chunk) {
            r.push(piece, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        out
    }

    /// Zero crossings per second estimate the frequency of a clean sine.
    fn frequency(samples: &[f32], rate: u32) -> f32 {
        let crossings = samples
            .windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count();
        crossings as f32 / 2.0 / (samples.len() as f32 / rate as f32)
    }

    #[test]
    fn keeps_length_frequency_and_alignment_at_common_rates() {
        for from in [8_000, 22_050, 44_100, 48_000] {
            let input = sine(440.0, from, 2.0);
            let out = resample_in_chunks(&input, from, 777);
            let expected = (input.len() as u64 * 16_000).div_ceil(u64::from(from)) as usize;
            assert_eq!(out.len(), expected, "length at {from} Hz");
            let f = frequency(&out[1_000..out.len() - 1_000], 16_000);
            assert!((f - 440.0).abs() < 2.0, "{from} Hz gave {f} Hz");
            // Alignment: the sine starts at zero going up, so sample 10 (0.625 ms) is positive
            // and about 0.5 * sin(2π·440·0.000625).
            let want = 0.5 * (2.0 * PI * 440.0 * 10.0 / 16_000.0).sin();
            assert!(
                (out[10] - want).abs() < 0.05,
                "{from} Hz misaligned: {}",
                out[10]
            );
        }
    }

    #[test]
    fn removes_content_above_the_new_nyquist() {
        let input = sine(10_000.0, 48_000, 1.0);
        let out = resample_in_chunks(&input, 48_000, 4096);
        let rms = (out.iter().map(|s| s * s).sum::<f32>() / out.len() as f32).sqrt();
        assert!(rms < 0.01, "10 kHz leaked through at rms {rms}");
    }

    #[test]
    fn passes_16k_through_untouched() {
        let input = sine(300.0, 16_000, 0.5);
        assert_eq!(resample_in_chunks(&input, 16_000, 100), input);
    }

    #[test]
    fn handles_input_shorter_than_one_chunk() {
        let out = resample_in_chunks(&[0.1; 100], 48_000, 100);
        assert_eq!(out.len(), 34);
    }

    #[test]
    fn rejects_zero_rate() {
        assert!(matches!(Resampler16k::new(0), Err(Error::Resample(_))));
    }
}
