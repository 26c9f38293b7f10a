//! `GET /api/health` and `GET /metrics`.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use subtle::ConstantTimeEq;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy` when every check is `ok`; `degraded` (still 200) when only the
    /// transcription engine is not ready; `unhealthy` (503) when the database or the data
    /// directory fails.
    pub status: &'static str,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    pub checks: BTreeMap<&'static str, Check>,
    /// The SFU, or `null` when media is off.
    pub media: Option<MediaHealth>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MediaHealth {
    /// The UDP port every WebRTC peer uses.
    pub port: u16,
    /// The announced address (`udp://ip:port`), as `join` gives it.
    pub url: String,
    /// Peers connected now.
    pub peers: u64,
}

#[derive(Serialize, ToSchema)]
pub struct Check {
    /// `ok` or `error`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Check {
    fn from_result(result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Check {
                status: "ok",
                message: None,
            },
            Err(message) => Check {
                status: "error",
                message: Some(message),
            },
        }
    }
}

/// Reports the database, the data directory and the transcription engine; 503 when the
/// database or the data directory fails.
#[utoipa::path(get, path = "/api/health", tag = "operations", operation_id = "getHealth",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> impl IntoResponse {
    let mut checks = BTreeMap::new();
    checks.insert("database", Check::from_result(check_database(&state).await));
    checks.insert("dataDir", Check::from_result(check_data_dir(&state).await));
    checks.insert(
        "transcription",
        Check::from_result(state.transcription.readiness().await),
    );
    // The node can serve without the transcription engine (jobs wait or fail with the
    // reason), so a missing engine degrades it rather than taking it out of rotation.
    let failing = |name: &str| checks.get(name).is_some_and(|c| c.status != "ok");
    let (status, word) = if failing("database") || failing("dataDir") {
        (StatusCode::SERVICE_UNAVAILABLE, "unhealthy")
    } else if failing("transcription") {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "healthy")
    };
    let media = state.media.as_ref().map(|media| MediaHealth {
        port: media.port(),
        url: media.media_url(),
        peers: media.stats().total().peers,
    });
    let body = Health {
        status: word,
        timestamp: chrono::Utc::now(),
        checks,
        media,
    };
    (status, Json(body))
}

async fn check_database(state: &AppState) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err("timed out after 2 s".into()),
    }
}

/// Writes and removes a probe file: the directory exists, is writable and has room.
async fn check_data_dir(state: &AppState) -> Result<(), String> {
    let probe = state.config.storage.data_dir.join(".health-probe");
    tokio::fs::write(&probe, b"ok")
        .await
        .map_err(|e| format!("{}: {e}", state.config.storage.data_dir.display()))?;
    tokio::fs::remove_file(&probe)
        .await
        .map_err(|e| e.to_string())
}

/// Prometheus text exposition of every metric, on the public listener only for a scraper
/// presenting `metrics.token` as a bearer token: per-route traffic and socket counts are
/// not for everyone. Without a configured token it answers 404, as if there were no route.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "getMetrics",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "`metrics.token` is set and was not presented", body = ErrorBody),
        (status = 404, description = "no `metrics.token` is set: served only on `metrics.bind`", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let token = &state.config.metrics.token;
    if token.is_empty() {
        return Err(ApiError::not_found("route"));
    }
    scrape_guarded(&state, &headers)
}

/// `/metrics` on the dedicated `metrics.bind` listener: the token is asked for only when
/// one is configured, since that listener is meant for loopback or a private network.
pub async fn metrics_dedicated(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    scrape_guarded(&state, &headers)
}

fn scrape_guarded(state: &AppState, headers: &HeaderMap) -> ApiResult<Response> {
    let token = &state.config.metrics.token;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, credentials)| credentials.trim());
    // Compared in constant time so the token cannot be guessed a byte at a time.
    if !token.is_empty() && !bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
        return Err(ApiError::unauthorized("a valid metrics token is required"));
    }
    Ok(render_metrics(state))
}

fn render_metrics(state: &AppState) -> Response {
    // What is live is read now rather than tracked as it changes.
    let gauges = [
        ("note_rooms_loaded", state.rooms.loaded_rooms()),
        ("note_sockets_open", state.note_sockets.get()),
        ("hub_sessions_loaded", state.hub.running_sessions()),
        ("hub_sockets_open", state.hub_sockets.get()),
    ];
    for (name, value) in gauges {
        metrics::gauge!(name).set(value as f64);
    }
    if let Some(media) = &state.media {
        media.export_metrics();
    }
    (
        [("content-type", "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
