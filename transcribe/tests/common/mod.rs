//! Test speech made on the spot with Debian tools (espeak-ng, ffmpeg, sox), the model location,
//! and the rule for missing prerequisites: skip loudly, or fail when `CI` is set.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

use transcribe::{Segment, Transcript};

pub const SENTENCE: &str = "The quick brown fox jumps over the lazy dog. \
                            Please open the workbook and write your answers in the notes.";
pub const KEY_WORDS: &[&str] = &[
    "quick", "brown", "fox", "lazy", "dog", "open", "write", "answers", "notes",
];
/// tiny.en mishears synthetic speech (~20% word error rate): ask for a clear majority only.
pub const MIN_KEY_WORDS: usize = 5;

/// Returns `true` when the caller should skip; panics instead when `CI` is set.
pub fn skip(reason: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{reason} (CI is set, so this test must not skip)");
    }
    eprintln!("SKIPPED: {reason}");
    true
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ggml model: `WORKBOOK_WHISPER_MODEL`, else the one scripts/fetch-model.sh makes.
pub fn model_path() -> PathBuf {
    std::env::var_os("WORKBOOK_WHISPER_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(transcribe::DEFAULT_MODEL_PATH))
}

fn tool_present(name: &str) -> bool {
    let version_flag = if name == "ffmpeg" {
        "-version"
    } else {
        "--version"
    };
    Command::new(name)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A temporary directory of generated audio; `None` (after [`skip`]) without the tools.
pub struct Audio {
    pub dir: tempfile::TempDir,
}

impl Audio {
    pub fn new() -> Option<Audio> {
        for tool in ["espeak-ng", "ffmpeg", "sox"] {
            if !tool_present(tool)
                && skip(&format!(
                    "{tool} is not installed (scripts/setup-transcribe.sh)"
                ))
            {
                return None;
            }
        }
        Some(Audio {
            dir: tempfile::tempdir().expect("temp dir"),
        })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `text` spoken by espeak-ng as a 22.05 kHz mono WAV.
    pub fn speech(&self, name: &str, text: &str) -> PathBuf {
        let out = self.path(name);
        run(Command::new("espeak-ng").arg("-w").arg(&out).arg(text));
        out
    }

    /// Convert with ffmpeg; `args` go between input and output (codec, rate, channels).
    pub fn convert(&self, input: &Path, name: &str, args: &[&str]) -> PathBuf {
        let out = self.path(name);
        run(Command::new("ffmpeg")
            .args(["-y", "-loglevel", "error", "-i"])
            .arg(input)
            .args(args)
            .arg(&out));
        out
    }

    /// Concatenate files (same rate and channels) with sox.
    pub fn concat(&self, inputs: &[&Path], name: &str) -> PathBuf {
        let out = self.path(name);
        run(Command::new("sox").args(inputs).arg(&out));
        out
    }

    /// `seconds` of silence at 22.05 kHz mono 16-bit, matching espeak-ng's output.
    pub fn silence(&self, name: &str, seconds: f64) -> PathBuf {
        let out = self.path(name);
        run(Command::new("sox")
            .args(["-n", "-r", "22050", "-c", "1", "-b", "16"])
            .arg(&out)
            .args(["trim", "0", &seconds.to_string()]));
        out
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("spawn tool");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Duration of a file as sox measures it, the reference for our own probe.
pub fn sox_duration(path: &Path) -> f64 {
    let output = Command::new("soxi")
        .arg("-D")
        .arg(path)
        .output()
        .expect("soxi");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("soxi duration")
}

pub fn words(segments: &[Segment]) -> Vec<String> {
    segments
        .iter()
        .flat_map(|s| s.text.split_whitespace())
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        })
        .collect()
}

/// The key words of [`SENTENCE`] found in `segments`.
pub fn key_words_heard(segments: &[Segment]) -> Vec<&'static str> {
    let heard = words(segments);
    KEY_WORDS
        .iter()
        .copied()
        .filter(|k| heard.iter().any(|w| w == k))
        .collect()
}

pub fn assert_heard_sentence(segments: &[Segment]) {
    let found = key_words_heard(segments);
    assert!(
        found.len() >= MIN_KEY_WORDS,
        "only {found:?} of {KEY_WORDS:?} in {segments:#?}"
    );
}

/// Timestamps lie within the audio, in order, and cover the speech from start to end.
pub fn assert_sensible_times(transcript: &Transcript, speech_start: f64, speech_end: f64) {
    let segments = &transcript.segments;
    assert!(!segments.is_empty(), "no segments");
    for pair in segments.windows(2) {
        assert!(pair[0].start <= pair[1].start, "out of order: {pair:?}");
    }
    for s in segments {
        assert!(
            0.0 <= s.start && s.start <= s.end && s.end <= transcript.duration_secs + 0.01,
            "bad times {s:?} in {}s",
            transcript.duration_secs
        );
        assert_eq!(s.speaker, None);
    }
    let first = segments.first().map_or(0.0, |s| s.start);
    let last = segments.last().map_or(0.0, |s| s.end);
    assert!(
        (first - speech_start).abs() < 1.5,
        "first segment at {first}, speech at {speech_start}"
    );
    assert!(
        (last - speech_end).abs() < 2.0,
        "last segment ends {last}, speech ends {speech_end}"
    );
}
