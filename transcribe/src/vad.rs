//! Energy-based splitting of a 16 kHz stream into pieces an engine can take in one go.
//!
//! Whisper looks at 30 s windows, so long audio is cut into pieces of at most [`MAX_PIECE_SECS`].
//! Each cut falls in a quiet stretch between [`MIN_PIECE_SECS`] and [`MAX_PIECE_SECS`]: the
//! latest [`GAP_SECS`] window that is silent or about as quiet as the quietest one, so words
//! are not split and pieces stay long (each costs Whisper a full 30 s window). Pieces without any frame louder
//! than [`SPEECH_DBFS`] are marked silent: engines hallucinate on silence, so they are skipped.
//! Thresholds (20 ms frames, RMS in dB relative to full scale):
//! - speech: a frame louder than −45 dBFS for at least 100 ms in total;
//! - cut: the latest 300 ms window, 10–30 s into the piece, whose mean RMS is below −50 dBFS
//!   or within 1.5× of the quietest window's.

use crate::resample::TARGET_RATE;

/// Longest piece handed to an engine (Whisper's window).
pub const MAX_PIECE_SECS: f64 = 30.0;
/// Shortest piece when a cut has to be made (a cut is searched for after this).
pub const MIN_PIECE_SECS: f64 = 10.0;
/// Width of the quiet stretch a cut is centred in.
pub const GAP_SECS: f64 = 0.3;
/// A gap window quieter than this (mean frame RMS) is silence, whatever else the piece holds.
pub const SILENCE_DBFS: f32 = -50.0;
/// A gap window within this factor of the quietest one's energy counts as just as good a cut.
pub const QUIET_MARGIN: f32 = 1.5;
/// A 20 ms frame louder than this counts as sound.
pub const SPEECH_DBFS: f32 = -45.0;
/// Total loud time a piece needs to be worth transcribing.
pub const MIN_SPEECH_SECS: f64 = 0.1;
/// Quiet kept before the first loud frame when a piece's leading silence is skipped.
pub const LEAD_MARGIN_SECS: f64 = 0.2;

const FRAME: usize = (TARGET_RATE / 50) as usize;
const MAX_PIECE: usize = (MAX_PIECE_SECS * TARGET_RATE as f64) as usize;
const MIN_PIECE: usize = (MIN_PIECE_SECS * TARGET_RATE as f64) as usize;
const GAP_FRAMES: usize = (GAP_SECS * 50.0) as usize;

/// A stretch of 16 kHz mono audio and where it starts in the whole recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// Index of the first sample in the whole stream.
    pub start_sample: u64,
    pub samples: Vec<f32>,
}

impl Piece {
    /// Start of the piece in seconds from the beginning of the recording.
    pub fn offset_secs(&self) -> f64 {
        self.start_sample as f64 / f64::from(TARGET_RATE)
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / f64::from(TARGET_RATE)
    }

    /// The first sample worth handing to an engine: the first loud frame, less
    /// [`LEAD_MARGIN_SECS`]. Whisper dates the first words of a piece at its start, so a
    /// piece that opens with seconds of silence (a speaker's track in a session recording)
    /// would have them dated too early; skipping the silence puts them where they are.
    pub fn speech_start(&self) -> usize {
        let threshold = 10f32.powf(SPEECH_DBFS / 20.0);
        let first_loud = self
            .samples
            .chunks(FRAME)
            .position(|frame| rms(frame) > threshold)
            .unwrap_or(0);
        let margin = (LEAD_MARGIN_SECS * 50.0) as usize;
        first_loud.saturating_sub(margin) * FRAME
    }

    /// Whether the piece holds enough sound to be worth transcribing.
    pub fn has_speech(&self) -> bool {
        let threshold = 10f32.powf(SPEECH_DBFS / 20.0);
        let loud = self
            .samples
            .chunks(FRAME)
            .filter(|frame| rms(frame) > threshold)
            .count();
        loud as f64 * FRAME as f64 / f64::from(TARGET_RATE) >= MIN_SPEECH_SECS
    }
}

fn rms(frame: &[f32]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    (frame.iter().map(|s| s * s).sum::<f32>() / frame.len() as f32).sqrt()
}

/// Incremental splitter: push samples as they are decoded, take pieces as they are cut. Holds
/// at most one piece's worth of audio (30 s, ~2 MB) plus the last pushed chunk.
#[derive(Debug, Default)]
pub struct Splitter {
    buffer: Vec<f32>,
    buffer_start: u64,
}

impl Splitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add samples; returns every piece that can be cut now.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut rest = samples;
        while !rest.is_empty() {
            let room = MAX_PIECE.saturating_sub(self.buffer.len()).max(1);
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.buffer.extend_from_slice(now);
            rest = later;
            if self.buffer.len() >= MAX_PIECE {
                pieces.push(self.cut(quietest_cut(&self.buffer)));
            }
        }
        pieces
    }

    /// Whatever is left once the stream has ended.
    pub fn finish(mut self) -> Option<Piece> {
        let len = self.buffer.len();
        (len > 0).then(|| self.cut(len))
    }

    fn cut(&mut self, at: usize) -> Piece {
        let rest = self.buffer.split_off(at);
        let piece = Piece {
            start_sample: self.buffer_start,
            samples: std::mem::replace(&mut self.buffer, rest),
        };
        self.buffer_start += at as u64;
        piece
    }
}

/// Sample index at the centre of the latest quiet [`GAP_SECS`] window between the minimum and
/// the maximum piece length. "Quiet" is within [`QUIET_MARGIN`] of the quietest window (or below
/// [`SILENCE_DBFS`]): late cuts make pieces close to 30 s, and every piece costs Whisper a full
/// 30 s encoder pass however short it is.
fn quietest_cut(buffer: &[f32]) -> usize {
    let energies: Vec<f32> = buffer.chunks(FRAME).map(rms).collect();
    let first = MIN_PIECE / FRAME;
    let last = energies.len().saturating_sub(GAP_FRAMES);
    if first >= last {
        return buffer.len().min(MAX_PIECE);
    }
    let mut windows = Vec::with_capacity(last - first + 1);
    let mut sum: f32 = energies[first..first + GAP_FRAMES].iter().sum();
    windows.push(sum);
    for start in first + 1..=last {
        sum += energies[start + GAP_FRAMES - 1] - energies[start - 1];
        windows.push(sum);
    }
    let quietest = windows.iter().copied().fold(f32::INFINITY, f32::min);
    let silence = 10f32.powf(SILENCE_DBFS / 20.0) * GAP_FRAMES as f32;
    let threshold = (quietest * QUIET_MARGIN).max(silence);
    let chosen = windows.iter().rposition(|&w| w <= threshold).unwrap_or(0);
    ((first + chosen + GAP_FRAMES / 2) * FRAME).min(buffer.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: usize = TARGET_RATE as usize;

    /// A 200 Hz tone for `seconds`, or silence when `loud` is false.
    fn tone(seconds: f64, loud: bool) -> Vec<f32> {
        let n = (seconds * RATE as f64) as usize;
        (0..n)
            .map(|i| {
                if loud {
                    (i as f32 * 2.0 * std::f32::consts::PI * 200.0 / RATE as f32).sin() * 0.3
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn split_all(samples: &[f32], chunk: usize) -> Vec<Piece> {
        let mut splitter = Splitter::new();
        let mut pieces = vec![];
        for c in samples.chunks(chunk) {
            pieces.extend(splitter.push(c));
        }
        pieces.extend(splitter.finish());
        pieces
    }

    #[test]
    fn short_audio_is_one_piece() {
        let audio = tone(5.0, true);
        let pieces = split_all(&audio, 4096);
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].start_sample, 0);
        assert_eq!(pieces[0].samples, audio);
    }

    #[test]
    fn long_audio_is_cut_in_the_gap_and_offsets_add_up() {
        // 22 s of tone, 1 s of silence, 20 s of tone, 0.5 s silence, 20 s of tone.
        let mut audio = tone(22.0, true);
        audio.extend(tone(1.0, false));
        audio.extend(tone(20.0, true));
        audio.extend(tone(0.5, false));
        audio.extend(tone(20.0, true));
        let pieces = split_all(&audio, 1000);
        assert_eq!(pieces.len(), 3);
        // First cut inside the 22–23 s gap, second inside the 43–43.5 s gap.
        let cut1 = pieces[1].offset_secs();
        let cut2 = pieces[2].offset_secs();
        assert!((22.0..=23.0).contains(&cut1), "first cut at {cut1}");
        assert!((43.0..=43.5).contains(&cut2), "second cut at {cut2}");
        let mut offset = 0;
        for piece in &pieces {
            assert_eq!(piece.start_sample, offset);
            assert!(piece.duration_secs() <= MAX_PIECE_SECS);
            offset += piece.samples.len() as u64;
        }
        assert_eq!(offset, audio.len() as u64);
        let rejoined: Vec<f32> = pieces.iter().flat_map(|p| p.samples.clone()).collect();
        assert_eq!(rejoined, audio);
    }

    #[test]
    fn the_latest_of_several_pauses_is_chosen() {
        // Pauses at 12 s and 27 s: cutting at 27 s keeps the piece long.
        let mut audio = tone(12.0, true);
        audio.extend(tone(0.5, false));
        audio.extend(tone(14.5, true));
        audio.extend(tone(0.5, false));
        audio.extend(tone(10.0, true));
        let pieces = split_all(&audio, 4096);
        let cut = pieces[1].offset_secs();
        assert!((27.0..=27.5).contains(&cut), "cut at {cut}");
    }

    #[test]
    fn continuous_sound_is_cut_at_the_maximum() {
        let audio = tone(65.0, true);
        let pieces = split_all(&audio, 48_000);
        assert!(pieces.len() >= 3);
        assert!(pieces.iter().all(|p| p.duration_secs() <= MAX_PIECE_SECS));
    }

    #[test]
    fn silence_and_faint_noise_are_not_speech() {
        assert!(
            !Piece {
                start_sample: 0,
                samples: tone(3.0, false)
            }
            .has_speech()
        );
        let faint: Vec<f32> = tone(3.0, true).iter().map(|s| s * 0.01).collect();
        assert!(
            !Piece {
                start_sample: 0,
                samples: faint
            }
            .has_speech()
        );
        let mut blip = tone(2.0, false);
        blip.extend(tone(0.2, true));
        assert!(
            Piece {
                start_sample: 0,
                samples: blip
            }
            .has_speech()
        );
    }

    #[test]
    fn speech_starts_a_margin_before_the_first_loud_frame() {
        let mut samples = tone(3.0, false);
        samples.extend(tone(1.0, true));
        let piece = Piece {
            start_sample: 0,
            samples,
        };
        let start = piece.speech_start() as f64 / RATE as f64;
        assert!((start - (3.0 - LEAD_MARGIN_SECS)).abs() < 0.021, "{start}");
        let loud = Piece {
            start_sample: 0,
            samples: tone(1.0, true),
        };
        assert_eq!(loud.speech_start(), 0);
    }

    #[test]
    fn empty_stream_yields_nothing() {
        assert!(Splitter::new().finish().is_none());
    }
}
