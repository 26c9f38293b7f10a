//! The browser client (`web/`), served at `/` from the files `npm run build` leaves in
//! `web/dist`. A release binary carries them inside (rust-embed); a debug build reads the
//! folder at run time, so a rebuilt client shows on reload.
//!
//! Every path that is not the server's own (`/api/`, `/metrics`) and names no file gets
//! `index.html`, so a reload on any client route works. Files under `/assets/` carry a content
//! hash in their name and are cached for a year; everything else is revalidated by `ETag`.
//! A `.gz` twin made by the build is sent to clients that accept gzip.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Dist;

const INDEX: &str = "index.html";

/// Content hashes in the name: the bytes behind a name never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The page may talk to its own origin only (WebSockets included); CodeMirror and Preact set
/// inline styles, so styles allow them.
const CSP: &str = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data: blob:; \
     media-src 'self' blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The router's fallback: a client file, `index.html` for a client route, or the API's JSON 404.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if !(method == Method::GET || method == Method::HEAD) || is_server_path(path) {
        return ApiError::no_route().into_response();
    }
    let name = path.trim_start_matches('/');
    let (name, file) = match Dist::get(name) {
        Some(file) if !name.is_empty() => (name, file),
        // A missing file (a stale hashed asset, a typo) is a 404, not a page of HTML.
        _ if names_a_file(name) => return ApiError::no_route().into_response(),
        _ => match Dist::get(INDEX) {
            Some(file) => (INDEX, file),
            None => return not_built(),
        },
    };
    respond(name, file, &headers)
}

fn respond(name: &str, file: EmbeddedFile, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut headers = HeaderMap::new();
    let cache = if name.starts_with("assets/") {
        IMMUTABLE
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if name == INDEX {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if matches(request.get(header::IF_NONE_MATCH), &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if let Ok(value) = HeaderValue::from_str(file.metadata.mimetype()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let gzipped = accepts_gzip(request)
        .then(|| Dist::get(&format!("{name}.gz")))
        .flatten();
    let body = match gzipped {
        Some(gz) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            gz.data
        }
        None => file.data,
    };
    (headers, Body::from(body)).into_response()
}

/// Paths the server answers itself; they never fall back to the client.
fn is_server_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || path == "/metrics"
}

/// A last segment with an extension (`app.js`, `favicon.svg`) names a file, not a route.
fn names_a_file(name: &str) -> bool {
    name.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn matches(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        })
}

/// A server built without the client (no `web/dist`): say how to build it.
fn not_built() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The web client is not built into this server. Run `scripts/setup.sh build` (it runs \
         `npm ci && npm run build` in web/), then rebuild the server.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_routes_fall_back_and_file_names_do_not() {
        assert!(!names_a_file("notes/0b5a2d1e-1c1f-4e57-9c55-7a3f1f0b2a11"));
        assert!(!names_a_file(""));
        assert!(names_a_file("assets/index-abc123.js"));
        assert!(names_a_file("favicon.svg"));
        assert!(is_server_path("/api/workbook/notes"));
        assert!(is_server_path("/metrics"));
        assert!(!is_server_path("/apiary"));
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("gzip;q=0, br"));
        assert!(!with("identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn etags_match_exactly_or_by_star() {
        let etag = "\"abc\"";
        assert!(matches(
            Some(&HeaderValue::from_static("\"x\", \"abc\"")),
            etag
        ));
        assert!(matches(Some(&HeaderValue::from_static("*")), etag));
        assert!(!matches(Some(&HeaderValue::from_static("\"abcd\"")), etag));
        assert!(!matches(None, etag));
    }
}
