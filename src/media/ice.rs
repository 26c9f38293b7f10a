//! The ICE servers `join` gives a client: the configured STUN URLs, and the TURN URLs with
//! time-limited credentials in the TURN REST API form that coturn's `use-auth-secret`
//! checks (username `<expiry unix time>:<participant>`, password
//! `base64(HMAC-SHA1(secret, username))`), so no TURN password is ever handed out for good.

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::MediaConfig;

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// The ICE servers for `participant`, with TURN credentials valid until `now` plus
/// `turn_ttl_secs`.
pub fn ice_servers(config: &MediaConfig, participant: Uuid, now: DateTime<Utc>) -> Vec<IceServer> {
    let mut servers = Vec::new();
    if !config.stun_urls.is_empty() {
        servers.push(IceServer {
            urls: config.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if !config.turn_urls.is_empty() {
        let expires = now.timestamp() + i64::try_from(config.turn_ttl_secs).unwrap_or(i64::MAX / 2);
        let username = format!("{expires}:{participant}");
        servers.push(IceServer {
            urls: config.turn_urls.clone(),
            credential: Some(turn_password(&config.turn_secret, &username)),
            username: Some(username),
        });
    }
    servers
}

fn turn_password(secret: &str, username: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn config(stun: &[&str], turn: &[&str]) -> MediaConfig {
        let toml = crate::config::DEFAULT_TOML;
        let mut config = crate::config::Config::from_figment(figment::Figment::from(
            <figment::providers::Toml as figment::providers::Format>::string(toml),
        ))
        .unwrap()
        .media;
        config.stun_urls = stun.iter().map(|s| s.to_string()).collect();
        config.turn_urls = turn.iter().map(|s| s.to_string()).collect();
        config.turn_secret = "north-wind-secret-0001".into();
        config.turn_ttl_secs = 3600;
        config
    }

    #[test]
    fn no_servers_configured_gives_none() {
        assert!(ice_servers(&config(&[], &[]), Uuid::nil(), Utc::now()).is_empty());
    }

    #[test]
    fn turn_credentials_follow_the_turn_rest_api() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let participant = Uuid::from_u128(7);
        let servers = ice_servers(
            &config(
                &["stun:127.0.0.1:3478"],
                &["turn:127.0.0.1:3478?transport=udp"],
            ),
            participant,
            now,
        );
        assert_eq!(servers[0].urls, ["stun:127.0.0.1:3478"]);
        assert_eq!(servers[0].username, None);
        let turn = &servers[1];
        assert_eq!(
            turn.username.as_deref(),
            Some("1767229200:00000000-0000-0000-0000-000000000007")
        );
        // As Python's hmac computes it (and coturn checks it) for the same secret and name.
        assert_eq!(
            turn.credential.as_deref(),
            Some("Jr0xI0M9Jb9L368Ld2I1+koLwDU=")
        );
    }
}
