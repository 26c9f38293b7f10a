//! The HTTP-only auth cookies a browser client relies on: set at sign-in and refresh,
//! cleared at logout. They are `Secure` only when `auth.secure_cookies` says so, because a
//! plain-http deployment (a laptop, a LAN workshop) could not use them otherwise; the server
//! warns at start when that setting contradicts an https `server.public_url`.

use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};

use super::credentials::{ACCESS_COOKIE, REFRESH_COOKIE};
use crate::config::{AuthConfig, Config};

/// Sets both token cookies, each living as long as its token.
pub fn set(headers: &mut HeaderMap, auth: &AuthConfig, access: &str, refresh: &str) {
    append(headers, auth, ACCESS_COOKIE, access, auth.access_ttl_secs);
    append(
        headers,
        auth,
        REFRESH_COOKIE,
        refresh,
        auth.refresh_ttl_secs,
    );
}

/// Clears both token cookies, with the attributes they were set with.
pub fn clear(headers: &mut HeaderMap, auth: &AuthConfig) {
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        append(headers, auth, name, "", 0);
    }
}

fn append(headers: &mut HeaderMap, auth: &AuthConfig, name: &str, value: &str, max_age: u64) {
    let secure = if auth.secure_cookies { "; Secure" } else { "" };
    let path = path(name);
    let cookie = format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path={path}; Max-Age={max_age}{secure}"
    );
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        headers.append(SET_COOKIE, cookie);
    }
}

/// The refresh cookie is only ever sent to the auth routes.
fn path(name: &str) -> &'static str {
    if name == REFRESH_COOKIE {
        "/api/workbook/auth"
    } else {
        "/"
    }
}

/// Whether the server is public over https while its cookies lack `Secure`, so a browser
/// would also send them over plain http (to a downgraded or mistyped `http://` link).
pub fn insecure_over_https(config: &Config) -> bool {
    let public_url = config.server.public_url.trim().to_ascii_lowercase();
    public_url.starts_with("https://") && !config.auth.secure_cookies
}

/// Logged once at start: see [`insecure_over_https`].
pub fn warn_if_insecure(config: &Config) {
    if insecure_over_https(config) {
        tracing::warn!(
            public_url = %config.server.public_url,
            "auth cookies lack Secure although server.public_url is https: set auth.secure_cookies = true"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_TOML;
    use figment::Figment;
    use figment::providers::{Format, Serialized, Toml};

    fn config(public_url: &str, secure_cookies: bool) -> Config {
        Config::from_figment(
            Figment::from(Toml::string(DEFAULT_TOML))
                .merge(Serialized::default("server.public_url", public_url))
                .merge(Serialized::default("auth.secure_cookies", secure_cookies)),
        )
        .unwrap()
    }

    #[test]
    fn only_https_without_secure_cookies_is_flagged() {
        assert!(insecure_over_https(&config(
            "https://workshop.example",
            false
        )));
        assert!(insecure_over_https(&config(
            "HTTPS://workshop.example",
            false
        )));
        assert!(!insecure_over_https(&config(
            "https://workshop.example",
            true
        )));
        assert!(!insecure_over_https(&config("http://10.0.0.5:8080", false)));
        assert!(!insecure_over_https(&config("", false)));
    }
}
