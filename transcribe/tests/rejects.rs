//! Content that is not supported audio gets typed errors, whatever the file is called.

use transcribe::{Error, decode_to_16k_mono, detect_file, probe, transcribe_file};

struct NeverCalled;

impl transcribe::Engine for NeverCalled {
    fn transcribe(&self, _: &[f32]) -> transcribe::Result<Vec<transcribe::Segment>> {
        panic!("the engine must not see unsupported input")
    }
    fn readiness(&self) -> transcribe::Readiness {
        transcribe::Readiness::Ready
    }
    fn describe(&self) -> String {
        "never".into()
    }
}

#[test]
fn text_file_named_mp3_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.mp3");
    std::fs::write(&path, "These are meeting notes, not audio.\n").unwrap();
    assert!(matches!(detect_file(&path), Err(Error::Unsupported)));
    assert!(matches!(probe(&path), Err(Error::Unsupported)));
    assert!(matches!(
        transcribe_file(&path, &NeverCalled, |_| {}),
        Err(Error::Unsupported)
    ));
}

#[test]
fn truncated_wav_header_is_a_decode_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.wav");
    std::fs::write(&path, b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0").unwrap();
    assert!(matches!(decode_to_16k_mono(&path), Err(Error::Decode(_))));
    assert!(matches!(probe(&path), Err(Error::Decode(_))));
}

#[test]
fn empty_and_missing_files_give_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.m4a");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(probe(&empty), Err(Error::Unsupported)));
    assert!(matches!(
        probe(&dir.path().join("absent.wav")),
        Err(Error::Io(_))
    ));
}

#[test]
fn garbage_after_an_ogg_opus_header_is_a_decode_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.opus");
    let mut bytes = b"OggS\0\x02".to_vec();
    bytes.resize(26, 0);
    bytes.extend_from_slice(&[1, 19]);
    bytes.extend_from_slice(b"OpusHead\x01\x01\0\0\x80\xbb\0\0\0\0\0");
    std::fs::write(&path, &bytes).unwrap();
    let result = decode_to_16k_mono(&path);
    assert!(matches!(result, Err(Error::Decode(_))), "{result:?}");
}
