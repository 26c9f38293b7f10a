//! The HTTP API: one module per resource, wired into one router here.

pub mod account;
pub mod admin;
pub mod audio;
pub mod auth;
pub mod export;
pub mod health;
pub mod invites;
pub mod modules;
pub mod note_socket;
pub mod notes;
pub mod notes_ws;
pub mod openapi;
pub mod progress;
pub mod search;
pub mod session_exports;
pub mod session_join;
pub mod session_recordings;
pub mod sessions;
pub mod shares;
pub mod transcriptions;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::http::headers;
use crate::http::rate_limit::{self, Bucket};
use crate::state::AppState;
use crate::telemetry;

/// Every route of the server. Each documented route is declared once, by its handler's
/// `#[utoipa::path]` (method and path); `routes!` adds it to the router and to the OpenAPI
/// document together. One `routes!` per path; a group shares its rate-limit bucket.
pub fn router(state: AppState) -> Router {
    let limited = |bucket: Bucket| {
        from_fn_with_state((state.rate_limits.clone(), bucket), rate_limit::enforce)
    };

    let credentials = OpenApiRouter::new()
        // Invite links are credentials too: guessing them is throttled like passwords.
        .routes(routes!(invites::lookup))
        .routes(routes!(invites::guest))
        .routes(routes!(invites::rejoin))
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::reset_password))
        .route_layer(limited(Bucket::Auth));
    let session = OpenApiRouter::new()
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .route_layer(limited(Bucket::Api));
    let admin = OpenApiRouter::new()
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::set_role, admin::delete_user))
        .routes(routes!(admin::disable_user))
        .routes(routes!(admin::enable_user))
        .routes(routes!(admin::create_password_reset))
        .route_layer(limited(Bucket::Api));

    let notes = OpenApiRouter::new()
        .routes(routes!(notes::list, notes::create))
        .routes(routes!(export::all))
        .routes(routes!(
            notes::get,
            notes::update,
            notes::patch,
            notes::delete
        ))
        .routes(routes!(export::one))
        .routes(routes!(shares::list, shares::share))
        .routes(routes!(shares::revoke))
        .route_layer(limited(Bucket::Notes));
    let uploads = OpenApiRouter::new()
        .routes(routes!(audio::upload))
        .layer(DefaultBodyLimit::max(upload_body_limit(&state)))
        .route_layer(limited(Bucket::Audio));
    let audio = OpenApiRouter::new()
        .routes(routes!(audio::list))
        .routes(routes!(transcriptions::transcribe))
        .routes(routes!(audio::get, audio::delete))
        .routes(routes!(audio::file))
        .routes(routes!(transcriptions::cancel))
        .route_layer(limited(Bucket::Api))
        .merge(uploads);
    let account = OpenApiRouter::new()
        .routes(routes!(account::delete, account::update_profile))
        .routes(routes!(account::change_password))
        .routes(routes!(account::export))
        .routes(routes!(search::search))
        .route_layer(limited(Bucket::Api));

    let modules = OpenApiRouter::new()
        .routes(routes!(modules::list, modules::create))
        .routes(routes!(modules::reorder))
        .routes(routes!(modules::get, modules::update, modules::delete))
        .route_layer(limited(Bucket::Api));
    let progress = OpenApiRouter::new()
        .routes(routes!(progress::mine))
        .routes(routes!(progress::stats))
        .routes(routes!(progress::learners))
        .routes(routes!(progress::completions))
        .routes(routes!(progress::report))
        .route_layer(limited(Bucket::Api));

    // Not rate-limited per request: refusals must be close codes, never HTTP 429, and each
    // room caps its connections and every connection's message rate.
    let live_notes = OpenApiRouter::new().routes(routes!(notes_ws::connect));

    let sessions = OpenApiRouter::new()
        .routes(routes!(sessions::schedule, sessions::list))
        .routes(routes!(sessions::get, sessions::update))
        .routes(routes!(sessions::start))
        .routes(routes!(sessions::end))
        .routes(routes!(session_join::join))
        .routes(routes!(invites::create, invites::list))
        .routes(routes!(invites::revoke))
        .routes(routes!(invites::accept))
        .routes(routes!(session_join::websocket))
        .routes(routes!(session_exports::export))
        .routes(routes!(session_exports::attendance_report))
        .routes(routes!(session_recordings::list))
        .routes(routes!(
            session_recordings::get,
            session_recordings::update,
            session_recordings::delete
        ))
        .routes(routes!(session_recordings::media))
        .routes(routes!(session_recordings::transcript))
        .routes(routes!(session_recordings::moment))
        .route_layer(limited(Bucket::Api));

    let (routes, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(credentials)
        .merge(session)
        .merge(admin)
        .merge(modules)
        .merge(progress)
        .merge(notes)
        .merge(live_notes)
        .merge(audio)
        .merge(sessions)
        .merge(account)
        .routes(routes!(health::health))
        .routes(routes!(health::metrics))
        .split_for_parts();

    routes
        .route("/api/openapi.json", openapi::serve(document))
        .merge(openapi::explorer())
        .route_layer(from_fn(telemetry::track_http))
        // Everything else is the browser client's (its files and its routes).
        .fallback(crate::http::client::serve)
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
        .route("/metrics", axum::routing::get(health::metrics_dedicated))
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
    ApiError::no_route()
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

/// Once a minute: drops idle rate-limit and failed-sign-in keys and the records of expired
/// join tickets, so all stay bounded.
pub fn spawn_maintenance(state: &AppState) {
    let limits = state.rate_limits.clone();
    let sign_in_attempts = state.sign_in_attempts.clone();
    let db = state.db.clone();
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limits.forget_idle();
            sign_in_attempts.forget_idle();
            if let Err(err) = crate::db::session_tickets::prune(&db, chrono::Utc::now()).await {
                tracing::warn!(error = %err, "pruning used join tickets failed");
            }
        }
    });
}
