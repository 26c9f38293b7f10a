//! Starting and stopping the server: state from configuration, then serve until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::attempts::SignInAttempts;
use crate::auth::tokens::{TokenKeys, load_or_create_secret};
use crate::config::Config;
use crate::db::Db;
use crate::db::note_documents::{self, DbNoteStore};
use crate::db::session_log::DbSessionLog;
use crate::http::listener;
use crate::http::rate_limit::RateLimits;
use crate::hub::Hub;
use crate::hub::ballot::BallotSecret;
use crate::hub::media::{MediaEngine, NoMedia};
use crate::recording::RecorderParts;
use crate::state::{AppState, NoteRooms};
use crate::telemetry::OpenCount;
use crate::transcription::Transcription;
use crate::{api, telemetry};
use crdt::RoomsConfig;

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let data_dir = &config.storage.data_dir;
    let db = open_database(&config).await?;
    crate::auth::cookies::warn_if_insecure(&config);
    let secret = load_or_create_secret(&config.auth.secret, data_dir)
        .context("loading the signing secret")?;
    let keys = Arc::new(TokenKeys::new(
        &secret,
        &config.auth.issuer,
        config.access_ttl(),
    ));
    let transcription = Arc::new(Transcription::new(&config.transcription));
    transcription
        .start(db.clone(), data_dir.clone())
        .await
        .context("starting the transcription workers")?;
    let mut rooms_config = RoomsConfig::default();
    rooms_config.limits.max_connections = config.notes.max_connections_per_room;
    rooms_config.outgoing_queue = config.notes.outgoing_queue;
    rooms_config.limits.changes_per_second = config.notes.changes_per_second;
    rooms_config.limits.change_burst = config.notes.change_burst;
    rooms_config.limits.frames_per_second = config.notes.frames_per_second;
    rooms_config.limits.frame_burst = config.notes.frame_burst;
    rooms_config.compact_after_updates = config.notes.compact_after_updates;
    rooms_config.save_text_every = Duration::from_millis(config.notes.save_text_every_ms);
    let rooms = crdt::Rooms::new(DbNoteStore::new(db.clone()), rooms_config);
    tokio::spawn(catch_up_note_texts(db.clone(), rooms.clone()));
    let started = if config.media.enabled {
        let bind = config.media.bind;
        let recording = config.recording.enabled.then(|| RecorderParts {
            config: config.recording.clone(),
            db: db.clone(),
            data_dir: data_dir.clone(),
            transcription: transcription.clone(),
        });
        let started = crate::media::start(&config.media, recording)
            .with_context(|| format!("starting the SFU on UDP {bind}"))?;
        if let Some(recorder) = &started.recorder {
            recorder
                .recover()
                .await
                .context("closing recordings a restart interrupted")?;
        }
        Some(started)
    } else {
        None
    };
    let engine: Arc<dyn MediaEngine> = match &started {
        Some(started) => started.engine.clone(),
        None => Arc::new(NoMedia),
    };
    let hub = Hub::new(
        DbSessionLog::new(db.clone()),
        engine,
        BallotSecret::derive(&secret),
        &config.hub,
    );
    let media = started.map(|started| {
        tokio::spawn(crate::media::forward_reports(hub.clone(), started.reports));
        started.media
    });
    Ok(AppState {
        hub,
        transcription,
        rate_limits: Arc::new(RateLimits::new(
            &config.rate_limits,
            keys.clone(),
            config.proxy_hops(),
        )),
        sign_in_attempts: Arc::new(SignInAttempts::new(&config.rate_limits)),
        config: Arc::new(config),
        keys,
        revocations: Arc::default(),
        metrics: telemetry::metrics_handle(),
        rooms,
        db,
        note_sockets: OpenCount::default(),
        hub_sockets: OpenCount::default(),
        media,
    })
}

/// Saves the text of notes whose log ran ahead of it when the last process died (rooms save
/// it about once a second), so REST and search show every stored edit. Loading the room is
/// what saves it; the room unloads again when idle.
async fn catch_up_note_texts(db: Db, rooms: NoteRooms) {
    let notes = match note_documents::notes_behind_their_log(&db).await {
        Ok(notes) => notes,
        Err(error) => {
            tracing::error!(%error, "finding notes whose text is behind their log");
            return;
        }
    };
    for note in notes {
        if let Err(error) = rooms
            .text(&crate::services::note_rooms::note_key(note))
            .await
        {
            tracing::warn!(%note, %error, "catching up a note's text");
        }
    }
}

/// Creates the data directory if needed (the SQLite file lives there; `migrate` and
/// `user create` may run before the server ever has), connects to the configured database
/// and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let data_dir = &config.storage.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let url = config.database_url();
    let db = Db::connect(&url, config.storage.max_connections)
        .await
        .with_context(|| format!("connecting to the {} database", backend_name(&url)))?;
    db.migrate().await.context("applying migrations")?;
    Ok(db)
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    }
}

/// Serves on `listener` until `shutdown` resolves, then lets in-flight requests finish for
/// up to the configured grace period. Connections are limited and timed out as
/// [`listener`] describes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    listener::raise_open_file_limit();
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
    let metrics = serve_metrics(&state).await?;
    api::spawn_maintenance(&state);
    let db = state.db.clone();
    let rooms = state.rooms.clone();
    let hub = state.hub.clone();
    let connections = state.config.connections.clone();
    let app = api::router(state);
    let stopping = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        // Compacts every room and closes its sockets with 4501 (clients reconnect later),
        // while the database is still open.
        rooms.shutdown().await;
        // Stores every session's departures and closes its sockets with 4501.
        hub.shutdown().await;
    };
    let open = listener::serve(listener, app, &connections, stopping).await;
    if tokio::time::timeout(grace, open.shutdown()).await.is_err() {
        tracing::warn!("grace period over; closing remaining connections");
    }
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    db.close().await;
    Ok(())
}

/// Starts the dedicated `/metrics` listener if `metrics.bind` is set; it stops with the
/// server (the caller aborts it).
async fn serve_metrics(state: &AppState) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(bind) = state.config.metrics.bind_addr() else {
        return Ok(None);
    };
    let tcp = TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the metrics listener on {bind}"))?;
    tracing::info!(%bind, "serving /metrics on its own listener");
    let app = api::metrics_router(state.clone());
    let connections = state.config.connections.clone();
    Ok(Some(tokio::spawn(async move {
        listener::serve(tcp, app, &connections, std::future::pending()).await;
    })))
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
