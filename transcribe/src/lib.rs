//! The audio pipeline every recording goes through: format detection from content, streaming
//! decode (symphonia; Ogg Opus via libopus), mono 16 kHz resampling (rubato), silence-based
//! splitting, and speech-to-text engines (local whisper.cpp or an OpenAI-compatible server).
//!
//! No HTTP server and no storage here: the server calls [`probe`] on upload and
//! [`transcribe_file`] from its job workers, on blocking threads.

mod decode;
pub mod engine;
mod error;
mod format;
mod mp4;
mod pipeline;
mod probe;
pub mod resample;
mod riff;
pub mod vad;

pub use decode::decode_to_16k_mono;
#[cfg(feature = "whisper")]
pub use engine::WhisperEngine;
pub use engine::{
    DEFAULT_MODEL_PATH, Engine, EngineConfig, OpenAiConfig, OpenAiEngine, Readiness, Segment,
    WhisperConfig, build_engine,
};
pub use error::{Error, Result};
pub use format::{AudioFormat, SNIFF_LEN, detect, detect_file};
pub use pipeline::{Transcript, transcribe_file, transcribe_file_cancellable};
pub use probe::{AudioInfo, probe};
