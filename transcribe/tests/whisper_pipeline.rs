//! The whole pipeline with the real bundled model (models/ggml-tiny.en.bin) on espeak-ng speech
//! in every supported container.

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use common::{Audio, SENTENCE, assert_heard_sentence, assert_sensible_times, skip, sox_duration};
use transcribe::{
    AudioFormat, Engine, Error, Readiness, WhisperConfig, WhisperEngine, probe, transcribe_file,
    transcribe_file_cancellable,
};

/// One model load for the whole test binary; `None` after a loud skip when the file is absent.
fn engine() -> Option<&'static WhisperEngine> {
    static ENGINE: OnceLock<Option<WhisperEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let path = common::model_path();
            if !path.is_file() {
                skip(&format!(
                    "model {} missing: run scripts/fetch-model.sh",
                    path.display()
                ));
                return None;
            }
            let mut config = WhisperConfig::new(path);
            // One thread each: tests run in parallel, and whisper.cpp's spinning thread barriers
            // collapse when threads outnumber free cores (measured 6x slower at 2 threads on a
            // loaded 2-core machine).
            config.threads = 1;
            Some(WhisperEngine::new(&config).expect("load the bundled model"))
        })
        .as_ref()
}

/// Transcribe `file` and check format, duration, words and timestamps against the WAV source.
fn check_transcription(
    engine: &WhisperEngine,
    file: &Path,
    (format, channels): (AudioFormat, u16),
    reference: f64,
) {
    let info = probe(file).expect("probe");
    assert_eq!((info.format, info.channels), (format, channels));
    assert!(
        (info.duration_secs - reference).abs() < 0.1,
        "{format:?} probed {}s, source is {reference}s",
        info.duration_secs
    );
    let mut reported = vec![];
    let transcript = transcribe_file(file, engine, |p| reported.push(p)).expect("transcribe");
    assert!((transcript.duration_secs - reference).abs() < 0.1);
    assert_eq!(reported.last(), Some(&1.0));
    assert!(
        reported.windows(2).all(|w| w[0] <= w[1]),
        "progress went back: {reported:?}"
    );
    assert_heard_sentence(&transcript.segments);
    assert_sensible_times(&transcript, 0.0, reference);
}

/// Generate the sentence as WAV and convert it with ffmpeg; `None` when skipping.
fn sentence_as(
    name: &str,
    args: &[&str],
) -> Option<(&'static WhisperEngine, Audio, std::path::PathBuf, f64)> {
    let audio = Audio::new()?;
    let engine = engine()?;
    let wav = audio.speech("sentence.wav", SENTENCE);
    let reference = sox_duration(&wav);
    let file = if args.is_empty() {
        wav
    } else {
        audio.convert(&wav, name, args)
    };
    Some((engine, audio, file, reference))
}

#[test]
fn wav_is_transcribed() {
    if let Some((engine, _audio, file, reference)) = sentence_as("", &[]) {
        check_transcription(engine, &file, (AudioFormat::Wav, 1), reference);
    }
}

#[test]
fn stereo_44k_mp3_is_transcribed() {
    let args = [
        "-ac",
        "2",
        "-ar",
        "44100",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "96k",
    ];
    if let Some((engine, _audio, file, reference)) = sentence_as("sentence.mp3", &args) {
        check_transcription(engine, &file, (AudioFormat::Mp3, 2), reference);
    }
}

#[test]
fn m4a_aac_is_transcribed() {
    let args = ["-ar", "48000", "-c:a", "aac", "-b:a", "64k"];
    if let Some((engine, _audio, file, reference)) = sentence_as("sentence.m4a", &args) {
        check_transcription(engine, &file, (AudioFormat::M4a, 1), reference);
    }
}

#[test]
fn stereo_ogg_opus_is_transcribed() {
    let args = ["-ac", "2", "-c:a", "libopus", "-b:a", "32k"];
    if let Some((engine, _audio, file, reference)) = sentence_as("sentence.opus", &args) {
        check_transcription(engine, &file, (AudioFormat::OggOpus, 2), reference);
    }
}

/// Two sentences 25 s apart make a 40 s recording: the splitter must cut in the silence, skip
/// the silent stretch, and the second sentence's segments must carry absolute times.
#[test]
fn long_recording_is_split_and_keeps_absolute_times() {
    let Some(audio) = Audio::new() else { return };
    let Some(engine) = engine() else { return };
    let first = audio.speech("first.wav", "The quick brown fox jumps over the lazy dog.");
    let second = audio.speech(
        "second.wav",
        "Please open the workbook and write your answers in the notes.",
    );
    let gap = audio.silence("gap.wav", 25.0);
    let long = audio.concat(&[&first, &gap, &second], "long.wav");
    let second_start = sox_duration(&first) + 25.0;
    let transcript = transcribe_file(&long, engine, |_| {}).expect("transcribe");
    let early: Vec<_> = transcript
        .segments
        .iter()
        .filter(|s| s.end < 20.0)
        .cloned()
        .collect();
    let late: Vec<_> = transcript
        .segments
        .iter()
        .filter(|s| s.start >= 20.0)
        .cloned()
        .collect();
    assert_eq!(
        early.len() + late.len(),
        transcript.segments.len(),
        "{transcript:#?}"
    );
    let early_words = common::words(&early);
    let late_words = common::words(&late);
    assert!(
        early_words
            .iter()
            .any(|w| w == "dog" || w == "fox" || w == "lazy"),
        "{early:?}"
    );
    assert!(
        late_words
            .iter()
            .any(|w| w == "notes" || w == "answers" || w == "open"),
        "{late:?}"
    );
    let late_start = late.first().map_or(0.0, |s| s.start);
    assert!(
        (late_start - second_start).abs() < 1.5,
        "second sentence at {late_start}, expected {second_start}"
    );
}

#[test]
fn cancelled_job_stops_with_a_typed_error() {
    let Some((engine, _audio, file, _)) = sentence_as("", &[]) else {
        return;
    };
    let cancel = AtomicBool::new(true);
    let result = transcribe_file_cancellable(&file, engine, &cancel, |_| {});
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
}

#[test]
fn loaded_engine_reports_ready() {
    if let Some(engine) = engine() {
        assert_eq!(engine.readiness(), Readiness::Ready);
        assert_eq!(engine.describe(), "whisper:ggml-tiny.en.bin");
    }
}

/// whisper.cpp ignores input under one second; the engine pads it so short words still count.
#[test]
fn a_single_short_word_is_heard() {
    let Some(audio) = Audio::new() else { return };
    let Some(engine) = engine() else { return };
    let word = audio.speech("word.wav", "Hello.");
    assert!(sox_duration(&word) < 1.0);
    let transcript = transcribe_file(&word, engine, |_| {}).expect("transcribe");
    let heard = common::words(&transcript.segments);
    assert!(heard.iter().any(|w| w == "hello"), "{transcript:#?}");
}

#[test]
fn missing_model_is_a_model_error() {
    let config = WhisperConfig::new("/nonexistent/ggml-model.bin".into());
    assert!(matches!(WhisperEngine::new(&config), Err(Error::Model(_))));
}
