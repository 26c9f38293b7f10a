//! The one error type of the audio pipeline; each variant maps onto one HTTP answer in the server.

use std::io;

/// Everything that can go wrong between an uploaded file and its transcript.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The content is none of WAV, MP3, M4A/AAC or Ogg Opus (the server answers 415).
    #[error("unsupported audio format")]
    Unsupported,
    /// The file could not be read.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The container or codec data is corrupt or uses a feature the decoders lack.
    #[error("cannot decode audio: {0}")]
    Decode(String),
    /// The file decoded to no samples at all.
    #[error("the audio contains no samples")]
    Empty,
    /// The sample-rate converter rejected its input.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// The Whisper model file is missing or invalid.
    #[error("cannot load model: {0}")]
    Model(String),
    /// The speech-to-text engine failed on this audio.
    #[error("transcription failed: {0}")]
    Engine(String),
    /// The HTTP transcription server could not be reached or answered badly.
    #[error("transcription server error: {0}")]
    Http(String),
    /// The caller asked to stop.
    #[error("cancelled")]
    Cancelled,
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, Error>;
