//! How the pipeline drives an engine: which pieces it sends, and how piece-relative times become
//! absolute. A recording fake engine stands in for Whisper here; the real model is exercised in
//! whisper_pipeline.rs.

use std::path::Path;
use std::sync::Mutex;

use transcribe::{Engine, Readiness, Result, Segment, transcribe_file};

/// Answers every piece with one segment at 1–2 s and remembers the piece lengths.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<usize>>,
}

impl Engine for Recorder {
    fn transcribe(&self, samples: &[f32]) -> Result<Vec<Segment>> {
        self.calls.lock().unwrap().push(samples.len());
        Ok(vec![Segment {
            start: 1.0,
            end: 2.0,
            text: "x".into(),
            speaker: None,
        }])
    }
    fn readiness(&self) -> Readiness {
        Readiness::Ready
    }
    fn describe(&self) -> String {
        "recorder".into()
    }
}

/// Write 16 kHz mono 16-bit PCM: `(seconds, loud)` stretches of a 300 Hz tone or silence.
fn write_wav(path: &Path, stretches: &[(f64, bool)]) {
    let mut samples: Vec<i16> = vec![];
    for &(seconds, loud) in stretches {
        let n = (seconds * 16_000.0) as usize;
        samples.extend((0..n).map(|i| {
            if loud {
                ((i as f32 * 2.0 * std::f32::consts::PI * 300.0 / 16_000.0).sin() * 8_000.0) as i16
            } else {
                0
            }
        }));
    }
    let data_len = (samples.len() * 2) as u32;
    let mut bytes = b"RIFF".to_vec();
    bytes.extend((36 + data_len).to_le_bytes());
    bytes.extend(b"WAVEfmt ");
    bytes.extend(16u32.to_le_bytes());
    bytes.extend(1u16.to_le_bytes());
    bytes.extend(1u16.to_le_bytes());
    bytes.extend(16_000u32.to_le_bytes());
    bytes.extend(32_000u32.to_le_bytes());
    bytes.extend(2u16.to_le_bytes());
    bytes.extend(16u16.to_le_bytes());
    bytes.extend(b"data");
    bytes.extend(data_len.to_le_bytes());
    bytes.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn silent_pieces_are_skipped_and_times_are_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("speech-gap-speech.wav");
    write_wav(&path, &[(10.0, true), (70.0, false), (10.0, true)]);
    let engine = Recorder::default();
    let mut progress = vec![];
    let transcript = transcribe_file(&path, &engine, |p| progress.push(p)).unwrap();

    assert!((transcript.duration_secs - 90.0).abs() < 1e-6);
    let calls = engine.calls.lock().unwrap().clone();
    assert_eq!(
        calls.len(),
        2,
        "the silent middle piece must not reach the engine: {calls:?}"
    );
    assert!(calls.iter().all(|&n| n <= 30 * 16_000));
    let starts: Vec<f64> = transcript.segments.iter().map(|s| s.start).collect();
    assert_eq!(starts.len(), 2);
    assert!((starts[0] - 1.0).abs() < 1e-9);
    // The last piece starts where the previous one was cut (in the silence), 60–80 s in.
    let last_piece_start = 90.0 - calls[1] as f64 / 16_000.0;
    assert!(
        (60.0..=80.0).contains(&last_piece_start),
        "{last_piece_start}"
    );
    assert!((starts[1] - (last_piece_start + 1.0)).abs() < 1e-9);
    assert!(progress.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(progress.last(), Some(&1.0));
    assert_eq!(transcript.text(), "x x");
}

#[test]
fn segment_times_are_clamped_to_their_piece() {
    struct Overshoot;
    impl Engine for Overshoot {
        fn transcribe(&self, _: &[f32]) -> Result<Vec<Segment>> {
            Ok(vec![Segment {
                start: -0.5,
                end: 99.0,
                text: "late".into(),
                speaker: None,
            }])
        }
        fn readiness(&self) -> Readiness {
            Readiness::Ready
        }
        fn describe(&self) -> String {
            "overshoot".into()
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    write_wav(&path, &[(4.0, true)]);
    let transcript = transcribe_file(&path, &Overshoot, |_| {}).unwrap();
    assert_eq!(transcript.segments.len(), 1);
    assert_eq!(transcript.segments[0].start, 0.0);
    assert!((transcript.segments[0].end - 4.0).abs() < 1e-9);
}
