//! An audio upload as the server receives it: `POST /api/workbook/audio` with any body
//! under the multipart boundary [`BOUNDARY`], through the real router (auth, rate limit, body limit, multipart
//! parsing, streaming to disk, probing, the database row) on a SQLite server in a temporary
//! directory. The answer must be 201 or a 4xx error, never a 5xx or a panic, and a refused
//! upload must leave no file behind.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, header};
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use libfuzzer_sys::fuzz_target;

#[path = "shared/panics.rs"]
mod panics;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use workbook::auth::roles::Role;
use workbook::config::{Config, DEFAULT_TOML};
use workbook::state::AppState;

/// Fixed, so seeds (real forms made by scripts/fuzz.sh) stay valid; the body is what varies.
const BOUNDARY: &str = "workbook-fuzz-boundary";

struct Server {
    runtime: Runtime,
    state: AppState,
    token: String,
    audio_dir: PathBuf,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        // Kept for the life of the process: each fuzzing process has its own server.
        let dir = tempfile::tempdir().unwrap().keep();
        let figment = Figment::from(Toml::string(DEFAULT_TOML))
            .merge(Serialized::default("storage.data_dir", &dir))
            .merge(Serialized::default("log.filter", "off"))
            .merge(Serialized::default(
                "transcription.max_upload_bytes",
                1 << 20,
            ))
            .merge(Serialized::default("rate_limits.audio.max", u32::MAX));
        let config = Config::from_figment(figment).unwrap();
        let (state, token) = runtime.block_on(async {
            let state = workbook::server::build_state(config).await.unwrap();
            let user =
                workbook::db::users::insert(&state.db, "f@example.com", "F", "x", Role::Premium)
                    .await
                    .unwrap();
            let token =
                state
                    .keys
                    .issue_access(user.id, &user.email, user.role, uuid::Uuid::new_v4());
            (state, token)
        });
        Server {
            runtime,
            state,
            token,
            audio_dir: dir.join("audio"),
        }
    })
}

fuzz_target!(init: panics::contained_panics_are_not_findings(), |body: &[u8]| {
    let server = server();
    let request = Request::post("/api/workbook/audio")
        .header(header::AUTHORIZATION, format!("Bearer {}", server.token))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body.to_vec()))
        .unwrap();
    let router = workbook::api::router(server.state.clone());
    let status = server
        .runtime
        .block_on(router.oneshot(request))
        .unwrap()
        .status();
    assert!(
        status.as_u16() == 201 || status.is_client_error(),
        "upload answered {status}"
    );
    let leftovers = std::fs::read_dir(&server.audio_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".part"))
        .count();
    assert_eq!(leftovers, 0, "a partial upload was left behind");
});
