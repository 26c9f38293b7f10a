//! Starting and stopping the server: state from configuration, then serve until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::auth::tokens::{TokenKeys, load_or_create_secret};
use crate::config::Config;
use crate::db::Db;
use crate::db::note_documents::{self, DbNoteStore};
use crate::http::rate_limit::RateLimits;
use crate::hub::Registry;
use crate::hub::ballot::BallotSecret;
use crate::state::{AppState, NoteRooms};
use crate::telemetry::OpenCount;
use crate::transcription::Transcription;
use crate::{api, telemetry};
use crdt::RoomsConfig;

/// Opens the database (applying migrations) and builds the shared state.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let data_dir = &config.storage.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let db = open_database(&config).await?;
    let secret = load_or_create_secret(&config.auth.secret, data_dir)
        .context("loading the signing secret")?;
    let keys = TokenKeys::new(&secret, &config.auth.issuer, config.access_ttl());
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
    let hub = Registry::new(
        db.clone(),
        BallotSecret::derive(&secret),
        config.hub.clone(),
    );
    Ok(AppState {
        hub,
        transcription,
        rate_limits: Arc::new(RateLimits::new(&config.rate_limits)),
        config: Arc::new(config),
        keys: Arc::new(keys),
        metrics: telemetry::metrics_handle(),
        rooms,
        db,
        note_sockets: OpenCount::default(),
        hub_sockets: OpenCount::default(),
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

/// Connects to the configured database and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
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
/// up to the configured grace period.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let grace = Duration::from_secs(state.config.server.shutdown_grace_secs);
    api::spawn_maintenance(&state);
    let db = state.db.clone();
    let rooms = state.rooms.clone();
    let app = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    // Without TCP_NODELAY small WebSocket frames wait for delayed ACKs (~40 ms).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests");
        // Compacts every room and closes its sockets with 4501 (clients reconnect later),
        // while the database is still open.
        rooms.shutdown().await;
        let _ = stopping_tx.send(());
    });
    let server = tokio::spawn(server.into_future());
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result??,
        _ = async { let _ = stopping_rx.await; tokio::time::sleep(grace).await } => {
            tracing::warn!("grace period over; closing remaining connections");
        }
    }
    db.close().await;
    Ok(())
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
