//! The local Whisper engine's settings: parsed in every build, so a configuration file reads
//! the same whether or not this build has the engine (the `whisper` feature).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WhisperConfig {
    /// A whisper.cpp ggml model file (`models/ggml-tiny.en.bin` by default).
    pub model_path: PathBuf,
    /// CPU threads per transcription.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Spoken language code (`en`, `de`, …) for multilingual models; `None` detects it.
    /// English-only models always use `en`.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub language: Option<String>,
    /// 1 decodes greedily (fastest); more runs a beam search of that width.
    #[serde(default = "default_beam_size")]
    pub beam_size: usize,
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
}

fn default_beam_size() -> usize {
    1
}

impl WhisperConfig {
    pub fn new(model_path: PathBuf) -> Self {
        WhisperConfig {
            model_path,
            threads: default_threads(),
            language: None,
            beam_size: default_beam_size(),
        }
    }
}
