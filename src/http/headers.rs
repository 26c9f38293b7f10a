//! Response hygiene on every answer: no MIME sniffing, no referrer leaking a note's URL,
//! and nothing under `/api/workbook` (tokens, notes, exports, recordings) kept in a cache.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The prefix of every route that answers with a caller's tokens or private data.
const PRIVATE_PREFIX: &str = "/api/workbook";

/// Middleware: adds the hygiene headers, keeping any a handler set itself.
pub async fn hygiene(request: Request, next: Next) -> Response {
    let private = request.uri().path().starts_with(PRIVATE_PREFIX);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if private {
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}
