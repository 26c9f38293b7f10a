//! Configuration: `configs/default.toml` compiled in, then an optional file, then the
//! environment (`WORKBOOK_<SECTION>__<KEY>`, `DATABASE_URL`, `REDIS_URL`).
//!
//! Every value is checked at start so a bad one fails with a message naming its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// The embedded defaults; also documents every key.
pub const DEFAULT_TOML: &str = include_str!("../configs/default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub rate_limits: RateLimitsConfig,
    pub log: LogConfig,
    pub cluster: ClusterConfig,
    pub transcription: TranscriptionConfig,
    pub notes: NotesConfig,
    #[serde(default)]
    pub hub: HubConfig,
    pub metrics: MetricsConfig,
    pub connections: ConnectionsConfig,
    pub media: MediaConfig,
    pub recording: RecordingConfig,
}

/// Session recording (see `configs/default.toml` and `docs/RECORDING.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingConfig {
    /// Whether hosts may record (needs `[media] enabled`).
    pub enabled: bool,
    /// Free disk space, in MB, below which a recording does not start, and stops.
    pub min_free_mb: u64,
    /// Packets queued from the SFU to the writer before new ones are dropped.
    pub queue_packets: usize,
}

/// The embedded SFU and the ICE servers clients are given (see `configs/default.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    pub enabled: bool,
    pub bind: SocketAddr,
    /// Empty, or the IP address announced in ICE candidates (checked at load).
    pub public_ip: String,
    pub reconnect_grace_secs: u64,
    pub max_peers: usize,
    /// Also accept ICE over TCP on the same port number.
    pub tcp: bool,
    pub stun_urls: Vec<String>,
    pub turn_urls: Vec<String>,
    pub turn_secret: String,
    pub turn_ttl_secs: u64,
}

impl MediaConfig {
    /// The announced address, if one is configured.
    pub fn public_ip(&self) -> Option<std::net::IpAddr> {
        self.public_ip.parse().ok()
    }
}

/// Limits and timeouts of every listener's connections (see `configs/default.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsConfig {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub idle_secs: u64,
    pub header_read_secs: u64,
    pub body_progress_secs: u64,
    pub ping_secs: u64,
    pub pong_timeout_secs: u64,
}

/// Where `/metrics` is served: off the public listener unless a token is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// A dedicated listener serving only `/metrics`; empty = none.
    pub bind: String,
    /// A bearer token a scraper presents; empty = `/metrics` answers 404 on the public
    /// listener (and the dedicated listener asks for no token).
    pub token: String,
}

impl MetricsConfig {
    /// The dedicated listener's address, if one is configured (checked at load).
    pub fn bind_addr(&self) -> Option<SocketAddr> {
        self.bind.parse().ok()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotesConfig {
    pub max_connections_per_room: usize,
    pub outgoing_queue: usize,
    pub changes_per_second: u32,
    pub change_burst: u32,
    pub frames_per_second: u32,
    pub frame_burst: u32,
    pub compact_after_updates: u64,
    pub save_text_every_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub public_url: String,
    pub trust_forwarded_for: bool,
    /// Reverse proxies in front of the server that append to `X-Forwarded-For`.
    pub trusted_proxies: usize,
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub secret: String,
    pub issuer: String,
    pub access_ttl_secs: u64,
    pub refresh_ttl_secs: u64,
    pub ticket_ttl_secs: u64,
    /// Seconds after a rotation in which the same refresh token gets the same successor.
    pub refresh_grace_secs: u64,
    pub secure_cookies: bool,
    /// How long an admin-issued password-reset link stays usable.
    pub password_reset_ttl_secs: u64,
    /// Whether anyone may create an account (`POST /auth/register`); false makes an
    /// invite-only server: admins create accounts, invite links admit guests.
    pub allow_registration: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    pub json_body_bytes: usize,
    /// Most bytes of note text one export may render.
    pub export_bytes: usize,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub max: u32,
    pub window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsConfig {
    pub auth: RateLimit,
    pub notes: RateLimit,
    pub audio: RateLimit,
    pub api: RateLimit,
    pub failed_logins_per_account: RateLimit,
    pub failed_logins_per_address: RateLimit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    pub redis_url: String,
}

/// The `[transcription]` section. Its engine keys (`engine`, `model_path`, `threads`,
/// `language`, `base_url`, `api_key`, `model`, `timeout_secs`) are read by the `transcribe`
/// crate's own type; the keys of the engine not chosen are ignored. Serde cannot refuse
/// unknown keys beside a flattened field, so this section alone does not.
#[derive(Debug, Clone, Deserialize)]
pub struct TranscriptionConfig {
    #[serde(flatten)]
    pub engine: transcribe::EngineConfig,
    pub workers: usize,
    pub max_upload_bytes: u64,
}

/// The live-session hub's queues.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubConfig {
    pub outgoing_queue: usize,
    pub room_queue: usize,
    pub idle_secs: u64,
    /// Per-participant token bucket for hub messages: burst and refill per second.
    pub rate_burst: u32,
    pub rate_per_second: u32,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            outgoing_queue: 512,
            room_queue: 4096,
            idle_secs: 60,
            rate_burst: 20,
            rate_per_second: 10,
        }
    }
}

/// A configuration value that is present but unusable, named by its key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl Config {
    /// Defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_TOML));
        if let Some(path) = file {
            figment = figment.merge(Toml::file_exact(path));
        }
        Self::from_figment(figment.merge(env_overrides()))
    }

    /// Builds and validates a configuration from any figment (tests layer their own values).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(describe)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        let url = &self.storage.database_url;
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return invalid(
                "storage.database_url",
                "must be empty, sqlite:..., or postgres://...",
            );
        }
        if self.storage.max_connections < 2 {
            // The note writer keeps one connection for itself.
            return invalid("storage.max_connections", "must be at least 2");
        }
        for (key, ttl) in [
            ("auth.access_ttl_secs", self.auth.access_ttl_secs),
            ("auth.refresh_ttl_secs", self.auth.refresh_ttl_secs),
            ("auth.ticket_ttl_secs", self.auth.ticket_ttl_secs),
            (
                "auth.password_reset_ttl_secs",
                self.auth.password_reset_ttl_secs,
            ),
        ] {
            if ttl == 0 {
                return invalid(key, "must be greater than 0");
            }
        }
        if self.server.trusted_proxies == 0 {
            return invalid("server.trusted_proxies", "must be at least 1");
        }
        if !self.auth.secret.is_empty() && self.auth.secret.len() < 32 {
            return invalid("auth.secret", "must be at least 32 characters (or empty)");
        }
        if self.limits.json_body_bytes < 1024 {
            return invalid("limits.json_body_bytes", "must be at least 1024");
        }
        if self.limits.export_bytes == 0 {
            return invalid("limits.export_bytes", "must be at least 1");
        }
        for (key, limit) in [
            ("rate_limits.auth", self.rate_limits.auth),
            ("rate_limits.notes", self.rate_limits.notes),
            ("rate_limits.audio", self.rate_limits.audio),
            ("rate_limits.api", self.rate_limits.api),
            (
                "rate_limits.failed_logins_per_account",
                self.rate_limits.failed_logins_per_account,
            ),
            (
                "rate_limits.failed_logins_per_address",
                self.rate_limits.failed_logins_per_address,
            ),
        ] {
            if limit.max == 0 || limit.window_secs == 0 {
                return invalid(key, "max and window_secs must be greater than 0");
            }
        }
        let notes = &self.notes;
        for (key, value) in [
            (
                "notes.max_connections_per_room",
                notes.max_connections_per_room,
            ),
            ("notes.outgoing_queue", notes.outgoing_queue),
            (
                "notes.changes_per_second",
                notes.changes_per_second as usize,
            ),
            ("notes.change_burst", notes.change_burst as usize),
            ("notes.frames_per_second", notes.frames_per_second as usize),
            ("notes.frame_burst", notes.frame_burst as usize),
            (
                "notes.compact_after_updates",
                usize::try_from(notes.compact_after_updates).unwrap_or(usize::MAX),
            ),
            (
                "notes.save_text_every_ms",
                usize::try_from(notes.save_text_every_ms).unwrap_or(usize::MAX),
            ),
        ] {
            if value == 0 {
                return invalid(key, "must be at least 1");
            }
        }
        match &self.transcription.engine {
            transcribe::EngineConfig::OpenAi(openai) if !openai.base_url.starts_with("http") => {
                return invalid(
                    "transcription.base_url",
                    "must be an http(s) URL for engine openai",
                );
            }
            transcribe::EngineConfig::Whisper(whisper) if whisper.threads == 0 => {
                return invalid("transcription.threads", "must be at least 1");
            }
            _ => {}
        }
        if self.transcription.workers == 0 {
            return invalid("transcription.workers", "must be at least 1");
        }
        if self.hub.outgoing_queue == 0 || self.hub.room_queue == 0 {
            return invalid("hub", "outgoing_queue and room_queue must be at least 1");
        }
        if self.hub.rate_burst == 0 || self.hub.rate_per_second == 0 {
            return invalid("hub", "rate_burst and rate_per_second must be at least 1");
        }
        let connections = &self.connections;
        for (key, value) in [
            ("connections.max_connections", connections.max_connections),
            (
                "connections.max_connections_per_address",
                connections.max_connections_per_address,
            ),
            (
                "connections.idle_secs",
                usize::try_from(connections.idle_secs).unwrap_or(usize::MAX),
            ),
            (
                "connections.header_read_secs",
                usize::try_from(connections.header_read_secs).unwrap_or(usize::MAX),
            ),
            (
                "connections.body_progress_secs",
                usize::try_from(connections.body_progress_secs).unwrap_or(usize::MAX),
            ),
            (
                "connections.ping_secs",
                usize::try_from(connections.ping_secs).unwrap_or(usize::MAX),
            ),
            (
                "connections.pong_timeout_secs",
                usize::try_from(connections.pong_timeout_secs).unwrap_or(usize::MAX),
            ),
        ] {
            if value == 0 {
                return invalid(key, "must be at least 1");
            }
        }
        if !self.metrics.bind.is_empty() && self.metrics.bind_addr().is_none() {
            return invalid(
                "metrics.bind",
                "must be empty or an address like 127.0.0.1:9464",
            );
        }
        if !self.metrics.token.is_empty() && self.metrics.token.len() < 16 {
            return invalid("metrics.token", "must be at least 16 characters (or empty)");
        }
        self.validate_media()?;
        let redis = &self.cluster.redis_url;
        if !(redis.is_empty() || redis.starts_with("redis://") || redis.starts_with("rediss://")) {
            return invalid("cluster.redis_url", "must be empty or redis://...");
        }
        Ok(())
    }

    fn validate_media(&self) -> Result<(), ConfigError> {
        let media = &self.media;
        let invalid = |key, message: &str| {
            Err(ConfigError::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        if !media.enabled {
            return Ok(());
        }
        if !media.public_ip.is_empty() && media.public_ip().is_none() {
            return invalid("media.public_ip", "must be empty or an IP address");
        }
        if media.bind.ip().is_unspecified() && media.public_ip.is_empty() {
            return invalid(
                "media.public_ip",
                "must be set when media.bind is an unspecified address (0.0.0.0 or ::)",
            );
        }
        if media.max_peers == 0 {
            return invalid("media.max_peers", "must be at least 1");
        }
        let urls = media.stun_urls.iter().chain(&media.turn_urls);
        if let Some(bad) = urls.clone().find(|u| !is_ice_url(u)) {
            let message = format!("`{bad}` is not a stun:, stuns:, turn: or turns: URL");
            return invalid("media.stun_urls / media.turn_urls", &message);
        }
        if !media.turn_urls.is_empty() && media.turn_secret.len() < 16 {
            return invalid(
                "media.turn_secret",
                "must be at least 16 characters when turn_urls are set",
            );
        }
        if media.turn_ttl_secs == 0 {
            return invalid("media.turn_ttl_secs", "must be at least 1");
        }
        Ok(())
    }

    /// The database URL actually used: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        if self.storage.database_url.is_empty() {
            let path = self.storage.data_dir.join("workbook.db");
            format!("sqlite://{}?mode=rwc", path.display())
        } else {
            self.storage.database_url.clone()
        }
    }

    /// How many `X-Forwarded-For` entries, counted from the right, were written by proxies
    /// the server trusts: none unless `server.trust_forwarded_for` is on.
    pub fn proxy_hops(&self) -> usize {
        if self.server.trust_forwarded_for {
            self.server.trusted_proxies
        } else {
            0
        }
    }

    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.access_ttl_secs)
    }

    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.refresh_ttl_secs)
    }

    pub fn password_reset_ttl(&self) -> Duration {
        Duration::from_secs(self.auth.password_reset_ttl_secs)
    }
}

/// An ICE server URL as RFC 7064 / 7065 spell them.
fn is_ice_url(url: &str) -> bool {
    ["stun:", "stuns:", "turn:", "turns:"]
        .iter()
        .any(|scheme| url.starts_with(scheme) && url.len() > scheme.len())
}

/// One line per problem, each naming its key in the file's spelling (`server.bind`) and
/// where the value came from.
fn describe(error: figment::Error) -> ConfigError {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_lowercase();
            let source = e.metadata.as_ref().map(|m| m.name.to_string());
            match source {
                Some(source) => format!("key `{key}`: {} (from {source})", e.kind),
                None => format!("key `{key}`: {}", e.kind),
            }
        })
        .collect();
    ConfigError::Parse(lines.join("; "))
}

/// `WORKBOOK_SECTION__KEY` variables plus the conventional unprefixed URLs.
fn env_overrides() -> Figment {
    Figment::new()
        .merge(
            Env::prefixed("WORKBOOK_")
                .filter(|key| key.as_str().contains("__"))
                .split("__"),
        )
        .merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "storage.database_url".into()),
        )
        .merge(
            Env::raw()
                .only(&["REDIS_URL"])
                .map(|_| "cluster.redis_url".into()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    fn with(key: &str, value: impl serde::Serialize) -> Result<Config, ConfigError> {
        Config::from_figment(
            Figment::from(Toml::string(DEFAULT_TOML)).merge(Serialized::default(key, value)),
        )
    }

    #[test]
    fn embedded_defaults_are_valid() {
        let config = with("server.public_url", "").unwrap();
        assert_eq!(config.server.bind.to_string(), "127.0.0.1:8080");
        assert!(
            config
                .database_url()
                .starts_with("sqlite://./data/workbook.db")
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = with("server.bind", "not-an-address")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.bind"), "{err}");
        let err = with("storage.database_url", "mysql://x")
            .unwrap_err()
            .to_string();
        assert!(err.contains("storage.database_url"), "{err}");
        let err = with("auth.access_ttl_secs", 0).unwrap_err().to_string();
        assert!(err.contains("auth.access_ttl_secs"), "{err}");
        let err = with("notes.changes_per_second", 0).unwrap_err().to_string();
        assert!(err.contains("notes.changes_per_second"), "{err}");
        let err = with("notes.save_text_every_ms", 0).unwrap_err().to_string();
        assert!(err.contains("notes.save_text_every_ms"), "{err}");
        let err = with("storage.max_connections", 1).unwrap_err().to_string();
        assert!(err.contains("storage.max_connections"), "{err}");
        let err = with("transcription.threads", 0).unwrap_err().to_string();
        assert!(err.contains("transcription.threads"), "{err}");
        let err = with("transcription.engine", "vosk")
            .unwrap_err()
            .to_string();
        assert!(err.contains("vosk"), "{err}");
    }

    #[test]
    fn transcription_keys_read_as_before() {
        let config = with("transcription.language", "").unwrap();
        let transcribe::EngineConfig::Whisper(whisper) = &config.transcription.engine else {
            panic!("whisper is the default engine");
        };
        assert_eq!(whisper.model_path, Path::new("models/ggml-tiny.en.bin"));
        assert_eq!((whisper.threads, whisper.language.as_deref()), (2, None));
        let config = Config::from_figment(
            Figment::from(Toml::string(DEFAULT_TOML))
                .merge(Serialized::default("transcription.engine", "openai"))
                .merge(Serialized::default(
                    "transcription.base_url",
                    "http://127.0.0.1:9",
                ))
                .merge(Serialized::default("transcription.language", "de")),
        )
        .unwrap();
        let transcribe::EngineConfig::OpenAi(openai) = &config.transcription.engine else {
            panic!("engine = openai");
        };
        assert_eq!(openai.model, "whisper-1");
        assert_eq!(openai.api_key, None);
        assert_eq!(openai.language.as_deref(), Some("de"));
        assert_eq!(openai.timeout_secs, 300);
    }

    #[test]
    fn unknown_keys_in_a_section_are_refused() {
        let err = with("server.bnid", "x").unwrap_err().to_string();
        assert!(err.contains("bnid"), "{err}");
    }
}
