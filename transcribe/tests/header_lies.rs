//! Issue 16, finding 6: a duration comes from the content, never from what a header claims,
//! and a WAV whose format cannot be decoded is refused before any decoder runs (no panic,
//! not even a contained one).

use std::sync::atomic::{AtomicUsize, Ordering};

use transcribe::{Error, decode_to_16k_mono, probe};

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// A 16-bit mono WAV at `rate` whose `data` chunk claims `claimed` bytes and holds
/// `samples` samples of a quiet ramp.
fn wav(rate: u32, claimed: u32, samples: usize) -> Vec<u8> {
    let mut out = b"RIFF\xff\xff\xff\xffWAVEfmt \x10\0\0\0\x01\0\x01\0".to_vec();
    out.extend(rate.to_le_bytes());
    out.extend(rate.wrapping_mul(2).to_le_bytes());
    out.extend(b"\x02\0\x10\0data");
    out.extend(claimed.to_le_bytes());
    for i in 0..samples {
        out.extend(((i % 200) as i16 - 100).to_le_bytes());
    }
    out
}

/// MPEG-1 layer III, 128 kb/s, 44.1 kHz, stereo: 417-byte frames of 1152 samples. The first
/// carries an `Info` tag claiming 0xFFFFFFFF frames (4.9 years); `frames` silent frames
/// follow.
fn mp3(frames: usize) -> Vec<u8> {
    const HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0x00];
    const FRAME_LEN: usize = 417;
    let mut info = vec![0u8; FRAME_LEN];
    info[..4].copy_from_slice(&HEADER);
    // After the 32 bytes of stereo side information.
    info[36..40].copy_from_slice(b"Info");
    info[40..44].copy_from_slice(&1u32.to_be_bytes()); // the frame count is present
    info[44..48].copy_from_slice(&u32::MAX.to_be_bytes());
    let mut out = info;
    for _ in 0..frames {
        let mut frame = vec![0u8; FRAME_LEN];
        frame[..4].copy_from_slice(&HEADER);
        out.extend(frame);
    }
    out
}

fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    file
}

// One test function: the panic hook is process-wide.
#[test]
fn durations_come_from_content_and_bad_formats_fail_before_decoding() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |panic| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        report(panic);
    }));

    // 2 KB of samples under a data size of 0xFFFFFFFF (37 hours at 16 kHz).
    let file = write(&wav(16_000, u32::MAX, 1_000));
    let info = probe(file.path()).unwrap();
    assert_eq!(info.duration_secs, 1_000.0 / 16_000.0);

    // Three real frames after an Info frame claiming 0xFFFFFFFF.
    let file = write(&mp3(3));
    let info = probe(file.path()).unwrap();
    assert!(
        info.duration_secs < 0.2,
        "stored as {} s, the file holds at most 4 frames (0.1 s)",
        info.duration_secs
    );

    // A sample rate of 0: refused with a clear error, by probe and by the decoder.
    let file = write(&wav(0, 2_000, 1_000));
    for result in [
        probe(file.path()).map(|_| ()),
        decode_to_16k_mono(file.path()).map(|_| ()),
    ] {
        match result {
            Err(Error::Decode(message)) => {
                assert!(message.contains("sample rate is 0"), "{message}")
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "a decoder panicked on input"
    );
}
