//! The HTTP API: one module per resource, wired into one router here.

pub mod account;
pub mod admin;
pub mod audio;
pub mod auth;
pub mod export;
pub mod health;
pub mod modules;
pub mod note_rooms;
pub mod note_socket;
pub mod notes;
pub mod notes_ws;
pub mod openapi;
pub mod progress;
pub mod search;
pub mod session_exports;
pub mod session_join;
pub mod sessions;
pub mod shares;
pub mod transcriptions;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::http::headers;
use crate::http::rate_limit::{self, Bucket};
use crate::state::AppState;
use crate::telemetry;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let limited = |bucket: Bucket| {
        from_fn_with_state((state.rate_limits.clone(), bucket), rate_limit::enforce)
    };

    let credentials = Router::new()
        .route("/register", post(auth::register))
        .route("/login", post(auth::login))
        .route_layer(limited(Bucket::Auth));
    let session = Router::new()
        .route("/refresh", post(auth::refresh))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route_layer(limited(Bucket::Api));
    let admin = Router::new()
        .route("/users", get(admin::list_users))
        .route("/users/{id}", patch(admin::set_role))
        .route_layer(limited(Bucket::Api));

    let notes = Router::new()
        .route("/", get(notes::list).post(notes::create))
        .route("/export", get(export::all))
        .route(
            "/{id}",
            get(notes::get)
                .put(notes::update)
                .patch(notes::update)
                .delete(notes::delete),
        )
        .route("/{id}/export", get(export::one))
        .route("/{id}/shares", get(shares::list).post(shares::share))
        .route(
            "/{id}/shares/{user_id}",
            axum::routing::delete(shares::revoke),
        )
        .route_layer(limited(Bucket::Notes));
    let uploads = Router::new()
        .route("/", post(audio::upload))
        .layer(DefaultBodyLimit::max(upload_body_limit(&state)))
        .route_layer(limited(Bucket::Audio));
    let audio = Router::new()
        .route("/", get(audio::list))
        .route("/transcribe", post(transcriptions::transcribe))
        .route("/{id}", get(audio::get).delete(audio::delete))
        .route("/{id}/file", get(audio::file))
        .route("/{id}/transcription/cancel", post(transcriptions::cancel))
        .route_layer(limited(Bucket::Api))
        .merge(uploads);
    let account = Router::new()
        .route("/me", axum::routing::delete(account::delete))
        .route("/me/export", get(account::export))
        .route("/search", get(search::search))
        .route_layer(limited(Bucket::Api));

    let modules = Router::new()
        .route("/", get(modules::list).post(modules::create))
        .route("/reorder", post(modules::reorder))
        .route(
            "/{id}",
            get(modules::get)
                .put(modules::update)
                .delete(modules::delete),
        )
        .route_layer(limited(Bucket::Api));
    let progress = Router::new()
        .route("/", get(progress::mine))
        .route("/stats", get(progress::stats))
        .route("/{module_id}", post(progress::report))
        .route_layer(limited(Bucket::Api));

    // Not rate-limited per request: refusals must be close codes, never HTTP 429, and each
    // room caps its connections and every connection's message rate.
    let live_notes = Router::new().route("/ws/{note_id}", get(notes_ws::connect));

    let sessions = Router::new()
        .route("/", post(sessions::schedule).get(sessions::list))
        .route("/{id}", get(sessions::get).patch(sessions::update))
        .route("/{id}/start", post(sessions::start))
        .route("/{id}/end", post(sessions::end))
        .route("/{id}/join", post(session_join::join))
        .route("/{id}/ws", get(session_join::websocket))
        .route("/{id}/export", get(session_exports::export))
        .route("/{id}/attendance", get(session_exports::attendance_report))
        .route_layer(limited(Bucket::Api));

    let workbook = Router::new()
        .nest("/auth", credentials.merge(session))
        .nest("/admin", admin)
        .nest("/modules", modules)
        .nest("/progress", progress)
        .nest("/notes", notes.merge(live_notes))
        .nest("/audio", audio)
        .nest("/sessions", sessions)
        .merge(account);

    Router::new()
        .nest("/api/workbook", workbook)
        .route("/api/health", get(health::health))
        .route("/api/openapi.json", get(openapi::document))
        .route("/metrics", get(health::metrics))
        .route_layer(from_fn(telemetry::track_http))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.limits.json_body_bytes))
        // A body that stops delivering bytes fails its read; the handler's error answer
        // ends the connection (its body was not read to the end).
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            state.config.connections.body_progress_secs,
        )))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(panic_response))
        // Outermost, so panics and refusals of every layer carry the headers too.
        .layer(from_fn(headers::hygiene))
        .with_state(state)
}

/// The dedicated `metrics.bind` listener's routes: `/metrics` only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics_dedicated))
        .fallback(not_found)
        .layer(from_fn(headers::hygiene))
        .with_state(state)
}

/// Room for the file plus the multipart framing around it; the file itself is capped exactly
/// while it streams.
fn upload_body_limit(state: &AppState) -> usize {
    usize::try_from(state.config.transcription.max_upload_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

/// A panic is a bug: log it and answer 500 in the usual shape instead of dropping the
/// connection.
fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a request handler panicked").into_response()
}

/// Once a minute: drops idle rate-limit keys and the records of expired join tickets, so
/// both stay bounded.
pub fn spawn_maintenance(state: &AppState) {
    let limits = state.rate_limits.clone();
    let db = state.db.clone();
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limits.forget_idle();
            if let Err(err) = crate::db::session_tickets::prune(&db, chrono::Utc::now()).await {
                tracing::warn!(error = %err, "pruning used join tickets failed");
            }
        }
    });
}
