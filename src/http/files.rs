//! Files served from disk with range requests (players seek by asking for a byte range).

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use std::path::Path;
use tower::ServiceExt;

use crate::error::{ApiError, ApiResult};

/// Serves `path` as `mime`, answering `Range` with 206 and `If-Range` as HTTP says;
/// a missing file is a 404.
pub async fn serve(path: &Path, mime: &str, request: Request) -> ApiResult<Response> {
    if !tokio::fs::try_exists(path).await.unwrap_or(false) {
        return Err(ApiError::not_found("file"));
    }
    let mime: mime::Mime = mime.parse().map_err(ApiError::internal)?;
    let served = tower_http::services::ServeFile::new_with_mime(path, &mime)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    Ok(served.map(Body::new))
}
