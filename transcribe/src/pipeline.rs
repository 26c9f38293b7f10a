//! The path every audio source takes: detect → decode → mono → 16 kHz → split at silences →
//! engine → segments with absolute times. Streams the file: memory stays at one piece (30 s)
//! plus decoder buffers, whatever the recording's length.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::decode::MonoDecoder;
use crate::engine::{Engine, Segment};
use crate::error::{Error, Result};
use crate::probe::probe;
use crate::resample::{Resampler16k, TARGET_RATE};
use crate::vad::{Piece, Splitter};

/// The result of transcribing one recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Length of the decoded audio.
    pub duration_secs: f64,
    /// In time order; `start`/`end` are seconds from the start of the recording.
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// All segment texts joined with spaces, for search indexing.
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self.segments.iter().map(|s| s.text.as_str()).collect();
        texts.join(" ")
    }
}

/// Transcribe a file with `engine`, calling `progress` with the fraction done (0.0–1.0) after
/// each piece. Blocking: run it on a blocking thread (see [`crate::engine`]).
pub fn transcribe_file<E>(path: &Path, engine: &E, progress: impl FnMut(f32)) -> Result<Transcript>
where
    E: Engine + ?Sized,
{
    transcribe_file_cancellable(path, engine, &AtomicBool::new(false), progress)
}

/// [`transcribe_file`] that stops with [`Error::Cancelled`] at the next piece (≤ 30 s of audio)
/// once `cancel` is set.
pub fn transcribe_file_cancellable<E>(
    path: &Path,
    engine: &E,
    cancel: &AtomicBool,
    mut progress: impl FnMut(f32),
) -> Result<Transcript>
where
    E: Engine + ?Sized,
{
    let expected_secs = probe(path)?.duration_secs;
    let (mut decoder, _) = MonoDecoder::open(path)?;
    let mut resampler = Resampler16k::new(decoder.sample_rate())?;
    let mut splitter = Splitter::new();
    let mut job = Job {
        engine,
        cancel,
        expected_secs,
        segments: Vec::new(),
    };
    let mut decoded = Vec::new();
    let mut resampled = Vec::new();
    let mut total_samples = 0u64;
    loop {
        decoded.clear();
        resampled.clear();
        let more = decoder.next_chunk(&mut decoded)?;
        if more {
            resampler.push(&decoded, &mut resampled)?;
        } else {
            resampler.finish(&mut resampled)?;
        }
        total_samples += resampled.len() as u64;
        for piece in splitter.push(&resampled) {
            job.run(&piece, &mut progress)?;
        }
        if !more {
            break;
        }
    }
    if let Some(piece) = splitter.finish() {
        job.run(&piece, &mut progress)?;
    }
    if total_samples == 0 {
        return Err(Error::Empty);
    }
    progress(1.0);
    Ok(Transcript {
        duration_secs: total_samples as f64 / f64::from(TARGET_RATE),
        segments: job.segments,
    })
}

struct Job<'a, E: ?Sized> {
    engine: &'a E,
    cancel: &'a AtomicBool,
    expected_secs: f64,
    segments: Vec<Segment>,
}

impl<E: Engine + ?Sized> Job<'_, E> {
    fn run(&mut self, piece: &Piece, progress: &mut impl FnMut(f32)) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        if piece.has_speech() {
            let skip = piece.speech_start();
            let samples = &piece.samples[skip..];
            let rate = f64::from(crate::resample::TARGET_RATE);
            let offset = piece.offset_secs() + skip as f64 / rate;
            let length = samples.len() as f64 / rate;
            for segment in self.engine.transcribe(samples)? {
                let start = segment.start.clamp(0.0, length);
                let end = segment.end.clamp(start, length);
                self.segments.push(Segment {
                    start: offset + start,
                    end: offset + end,
                    ..segment
                });
            }
        }
        if self.expected_secs > 0.0 {
            let done = (piece.offset_secs() + piece.duration_secs()) / self.expected_secs;
            progress(done.min(1.0) as f32);
        }
        Ok(())
    }
}
