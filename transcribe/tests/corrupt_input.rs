//! Damaged files of every supported format give a result or a typed error, never a panic that
//! escapes: each file is a real ffmpeg encoding with bytes overwritten at pseudo-random places.

mod common;

use common::{Audio, SENTENCE};
use transcribe::{Error, decode_to_16k_mono, probe};

/// A small deterministic generator (64-bit LCG) so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn corrupted_files_never_escape_as_panics() {
    let Some(audio) = Audio::new() else { return };
    let wav = audio.speech("sentence.wav", SENTENCE);
    let files = [
        wav.clone(),
        audio.convert(&wav, "s.mp3", &["-c:a", "libmp3lame", "-b:a", "64k"]),
        audio.convert(&wav, "s.m4a", &["-c:a", "aac", "-b:a", "64k"]),
        audio.convert(&wav, "s.opus", &["-c:a", "libopus", "-b:a", "32k"]),
    ];
    let mut rng = Lcg(42);
    for original in &files {
        let bytes = std::fs::read(original).unwrap();
        for round in 0..25 {
            let mut damaged = bytes.clone();
            // Keep the first 16 bytes so detection still routes into the real parser.
            for _ in 0..(1 + round % 8) {
                let at = 16 + (rng.next() as usize) % (damaged.len() - 16);
                damaged[at] = rng.next() as u8;
            }
            if round % 5 == 4 {
                damaged.truncate(16 + (rng.next() as usize) % (damaged.len() - 16));
            }
            let path = audio.path("damaged");
            std::fs::write(&path, &damaged).unwrap();
            for result in [
                probe(&path).map(|_| ()),
                decode_to_16k_mono(&path).map(|_| ()),
            ] {
                if let Err(e) = result {
                    assert!(
                        matches!(e, Error::Decode(_) | Error::Empty | Error::Unsupported),
                        "{original:?} round {round}: unexpected {e:?}"
                    );
                }
            }
        }
    }
}
