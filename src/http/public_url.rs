//! The server's address as its clients reach it, for the links it hands out (a session's
//! hub socket, a password-reset link).

use axum::http::{HeaderMap, header};

use crate::config::ServerConfig;

/// `server.public_url` when it is an http(s) URL, else `http://` and the `Host` the client
/// used; never with a trailing slash.
pub fn public_base(server: &ServerConfig, headers: &HeaderMap) -> String {
    let public = server.public_url.trim_end_matches('/');
    if public.starts_with("https://") || public.starts_with("http://") {
        return public.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}
