//! An uploaded file through what the server does with it: format detection from its first
//! bytes, probing (format, duration, rate, channels: WAV, MP3, M4A/AAC, Ogg Opus demuxers),
//! and for files that probe, the full decode to 16 kHz mono the transcription jobs run.
//! Errors are fine; a panic that escapes the pipeline, a hang, or a duration that is not a
//! finite, non-negative number are findings. A panic the pipeline contains (an upstream
//! demuxer's bug the server survives) is not, unless `WORKBOOK_FUZZ_STRICT=1` (see
//! `contained_panics_are_not_findings`).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "shared/panics.rs"]
mod panics;

/// One scratch file per fuzzing process, in memory when /dev/shm exists: probing reads a path.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = PathBuf::from("/dev/shm");
        let dir = if dir.is_dir() {
            dir
        } else {
            std::env::temp_dir()
        };
        dir.join(format!("workbook-fuzz-audio-{}", std::process::id()))
    })
}

fuzz_target!(init: panics::contained_panics_are_not_findings(), |data: &[u8]| {
    let detected = transcribe::detect(&data[..data.len().min(transcribe::SNIFF_LEN)]);
    let path = scratch();
    std::fs::write(path, data).expect("writing the scratch file");
    let probed = transcribe::probe(path);
    if let Ok(info) = &probed {
        assert!(
            info.duration_secs.is_finite() && info.duration_secs >= 0.0,
            "duration {} from {} bytes",
            info.duration_secs,
            data.len()
        );
        assert_eq!(Some(info.format), detected.as_ref().ok().copied());
        let _ = transcribe::decode_to_16k_mono(path);
    }
});
