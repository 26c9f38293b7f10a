//! Speech-to-text engines behind one interface, picked by configuration.
//!
//! Every engine call is blocking (local inference is CPU-bound for seconds; the HTTP engine
//! waits on a socket), so async callers run the whole pipeline inside
//! `tokio::task::spawn_blocking` or on a dedicated worker thread, never on an async thread.

mod openai;
mod wav;
#[cfg(feature = "whisper")]
mod whisper;
mod whisper_config;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Result;

pub use openai::{OpenAiConfig, OpenAiEngine};
#[cfg(feature = "whisper")]
pub use whisper::WhisperEngine;
pub use whisper_config::WhisperConfig;

/// Where the project's fetch script puts the bundled tiny.en model, relative to the repository.
pub const DEFAULT_MODEL_PATH: &str = "models/ggml-tiny.en.bin";

/// One stretch of recognised speech. Times are seconds: relative to the samples given to
/// [`Engine::transcribe`], absolute (from the start of the recording) in a
/// [`Transcript`](crate::Transcript).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Who spoke; filled by session recordings (one track per speaker), `None` for uploads.
    pub speaker: Option<String>,
}

/// Whether an engine can take work now, for `/api/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    NotReady(String),
}

/// A speech-to-text engine. Implementations are shared between worker threads.
pub trait Engine: Send + Sync {
    /// Transcribe 16 kHz mono samples (at most a few tens of seconds; the pipeline splits long
    /// audio). Blocking: see the module documentation.
    fn transcribe(&self, samples: &[f32]) -> Result<Vec<Segment>>;

    /// Whether the engine can serve requests (model loaded, server reachable). Blocking for the
    /// HTTP engine (one short request).
    fn readiness(&self) -> Readiness;

    /// A short label for logs and the health report, such as `whisper:ggml-tiny.en.bin`.
    fn describe(&self) -> String;
}

/// Engine selection as it appears in the server's configuration file, e.g.
/// `engine = "whisper"`, `model_path = "models/ggml-tiny.en.bin"`, `threads = 2`, or
/// `engine = "openai"`, `base_url = "http://127.0.0.1:8000"`, `model = "whisper-1"`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "engine", rename_all = "snake_case")]
pub enum EngineConfig {
    Whisper(WhisperConfig),
    #[serde(rename = "openai")]
    OpenAi(OpenAiConfig),
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig::Whisper(WhisperConfig::new(PathBuf::from(DEFAULT_MODEL_PATH)))
    }
}

/// For optional text settings: an empty string (what a configuration file or an environment
/// variable can say for "unset") is `None`, as an absent value is.
pub(crate) fn empty_as_none<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    let value: Option<String> = Option::deserialize(d)?;
    Ok(value.filter(|v| !v.is_empty()))
}

/// Build the configured engine, shareable between worker threads. Loading a Whisper model
/// takes a moment and reads the whole file: call this on a blocking thread at start-up.
/// A build without the `whisper` feature (the fuzz targets, which skip the C++ build) refuses
/// the Whisper engine with [`crate::Error::Model`].
pub fn build_engine(config: &EngineConfig) -> Result<Arc<dyn Engine>> {
    Ok(match config {
        #[cfg(feature = "whisper")]
        EngineConfig::Whisper(c) => Arc::new(WhisperEngine::new(c)?),
        #[cfg(not(feature = "whisper"))]
        EngineConfig::Whisper(_) => {
            return Err(crate::Error::Model(
                "this build has no local Whisper engine (the `whisper` feature)".into(),
            ));
        }
        EngineConfig::OpenAi(c) => Arc::new(OpenAiEngine::new(c.clone())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_both_engine_kinds() {
        let whisper: EngineConfig =
            serde_json::from_str(r#"{"engine":"whisper","model_path":"m.bin","threads":3}"#)
                .unwrap();
        let EngineConfig::Whisper(w) = whisper else {
            panic!("wrong kind")
        };
        assert_eq!((w.model_path, w.threads), (PathBuf::from("m.bin"), 3));
        let openai: EngineConfig = serde_json::from_str(
            r#"{"engine":"openai","base_url":"http://127.0.0.1:9","model":"tiny"}"#,
        )
        .unwrap();
        let EngineConfig::OpenAi(o) = openai else {
            panic!("wrong kind")
        };
        assert_eq!((o.api_key, o.timeout_secs), (None, 300));
    }

    #[test]
    fn an_empty_language_or_key_is_none() {
        let openai: EngineConfig = serde_json::from_str(
            r#"{"engine":"openai","base_url":"http://x","model":"m","api_key":"","language":""}"#,
        )
        .unwrap();
        let EngineConfig::OpenAi(o) = openai else {
            panic!("wrong kind")
        };
        assert_eq!((o.api_key, o.language), (None, None));
        let whisper: EngineConfig =
            serde_json::from_str(r#"{"engine":"whisper","model_path":"m","language":""}"#).unwrap();
        let EngineConfig::Whisper(w) = whisper else {
            panic!("wrong kind")
        };
        assert_eq!(w.language, None);
    }

    #[test]
    fn building_a_whisper_engine_without_its_model_fails_typed() {
        let config = EngineConfig::Whisper(WhisperConfig::new("/nonexistent.bin".into()));
        assert!(matches!(build_engine(&config), Err(crate::Error::Model(_))));
        let http = EngineConfig::OpenAi(OpenAiConfig {
            base_url: "http://127.0.0.1:9".into(),
            api_key: None,
            model: "m".into(),
            language: None,
            timeout_secs: 1,
        });
        assert_eq!(
            build_engine(&http).unwrap().describe(),
            "openai:http://127.0.0.1:9"
        );
    }
}
