//! Any OpenAI-compatible `POST {base}/v1/audio/transcriptions` server (OpenAI itself,
//! faster-whisper-server, whisper.cpp's server, LocalAI, …).
//!
//! Blocking `ureq` rather than an async client: the pipeline already runs on a blocking worker
//! (decoding and local inference are CPU work), one request per piece is sequential anyway,
//! and ureq adds no runtime and few dependencies. Each piece is sent as a 16 kHz 16-bit WAV
//! (≤ 30 s, ≤ 1 MB), with `response_format=verbose_json` so segments come back timed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::wav::encode_wav_16k;
use super::{Engine, Readiness, Segment};
use crate::error::{Error, Result};

/// Largest response body accepted (a 30 s piece yields a few KB of JSON).
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// The readiness probe must answer quickly or the server counts as down.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);
const BOUNDARY: &str = "----workbook-transcribe-3f9a1c";

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct OpenAiConfig {
    /// Scheme, host and port, e.g. `http://127.0.0.1:8000` (`/v1/...` is appended).
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub api_key: Option<String>,
    /// The `model` form field, e.g. `whisper-1`, or the model directory a local server loaded.
    pub model: String,
    /// Language hint (`en`, …); the server detects it when `None`.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    pub language: Option<String>,
    /// Upper bound for one request, upload and transcription included.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    300
}

pub struct OpenAiEngine {
    config: OpenAiConfig,
    agent: ureq::Agent,
}

#[derive(Deserialize)]
struct VerboseJson {
    #[serde(default)]
    segments: Vec<VerboseSegment>,
}

#[derive(Deserialize)]
struct VerboseSegment {
    start: f64,
    end: f64,
    text: String,
}

impl OpenAiEngine {
    pub fn new(config: OpenAiConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(config.timeout_secs.max(1))))
            .http_status_as_error(false)
            .build()
            .new_agent();
        OpenAiEngine { config, agent }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn authorise<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.config.api_key {
            Some(key) => request.header("Authorization", format!("Bearer {key}")),
            None => request,
        }
    }

    fn form(&self, wav: &[u8]) -> Vec<u8> {
        let mut body = Vec::with_capacity(wav.len() + 1024);
        let mut field = |name: &str, value: &str| {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        };
        field("model", &self.config.model);
        field("response_format", "verbose_json");
        if let Some(language) = &self.config.language {
            field("language", language);
        }
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"piece.wav\"\r\nContent-Type: audio/wav\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(wav);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        body
    }
}

impl OpenAiEngine {
    /// A short authenticated GET; the status, or why there was none.
    fn probe(&self, path: &str) -> std::result::Result<ureq::http::StatusCode, ureq::Error> {
        let request = self
            .agent
            .get(self.url(path))
            .config()
            .timeout_global(Some(READINESS_TIMEOUT))
            .build();
        self.authorise(request).call().map(|r| r.status())
    }
}

fn http_error(err: ureq::Error) -> Error {
    Error::Http(err.to_string())
}

impl Engine for OpenAiEngine {
    fn transcribe(&self, samples: &[f32]) -> Result<Vec<Segment>> {
        let body = self.form(&encode_wav_16k(samples));
        let request = self
            .agent
            .post(self.url("/v1/audio/transcriptions"))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            );
        let mut response = self
            .authorise(request)
            .send(&body[..])
            .map_err(http_error)?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_string()
            .map_err(http_error)?;
        if !status.is_success() {
            let excerpt: String = text.chars().take(300).collect();
            return Err(Error::Http(format!("HTTP {status}: {excerpt}")));
        }
        let parsed: VerboseJson = serde_json::from_str(&text)
            .map_err(|e| Error::Http(format!("unexpected response: {e}")))?;
        Ok(parsed
            .segments
            .into_iter()
            .filter(|s| !s.text.trim().is_empty())
            .map(|s| Segment {
                start: s.start,
                end: s.end,
                text: s.text.trim().to_owned(),
                speaker: None,
            })
            .collect())
    }

    /// `GET {base}/v1/models` (OpenAI and most servers), falling back to `GET {base}/health`
    /// for servers without a models list (faster-whisper-server answers 404 there).
    fn readiness(&self) -> Readiness {
        match self.probe("/v1/models") {
            Ok(status) if status.is_success() => Readiness::Ready,
            Ok(status) if status == 404 => match self.probe("/health") {
                Ok(status) if status.is_success() => Readiness::Ready,
                Ok(status) => Readiness::NotReady(format!("health check answered HTTP {status}")),
                Err(e) => Readiness::NotReady(e.to_string()),
            },
            Ok(status) => Readiness::NotReady(format!("HTTP {status}")),
            Err(e) => Readiness::NotReady(e.to_string()),
        }
    }

    fn describe(&self) -> String {
        format!("openai:{}", self.config.base_url)
    }
}
