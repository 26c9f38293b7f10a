//! The state every handler shares, passed explicitly through axum's `State`.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::attempts::SignInAttempts;
use crate::auth::revocation::Revocations;
use crate::auth::tokens::TokenKeys;
use crate::config::Config;
use crate::db::Db;
use crate::db::note_documents::DbNoteStore;
use crate::db::session_log::DbSessionLog;
use crate::http::rate_limit::RateLimits;
use crate::telemetry::OpenCount;
use crate::transcription::Transcription;

/// The live note rooms, stored in the server's database.
pub type NoteRooms = crdt::Rooms<DbNoteStore>;
/// The live sessions, their events stored in the server's database.
pub type SessionHub = crate::hub::Hub<DbSessionLog>;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<TokenKeys>,
    /// Revoked logins, whose access tokens are refused before they expire.
    pub revocations: Arc<Revocations>,
    pub rate_limits: Arc<RateLimits>,
    /// Failed sign-ins per account and per address (`rate_limits.failed_logins_*`).
    pub sign_in_attempts: Arc<SignInAttempts>,
    pub metrics: PrometheusHandle,
    pub transcription: Arc<Transcription>,
    /// Every note body goes through its room: WebSocket editors and REST writes alike.
    pub rooms: NoteRooms,
    /// The live sessions running on this node.
    pub hub: SessionHub,
    /// WebSockets open on the notes endpoint and on the session hub (for `/metrics`).
    pub note_sockets: OpenCount,
    pub hub_sockets: OpenCount,
    /// The embedded SFU, unless `[media] enabled = false`.
    pub media: Option<Arc<crate::media::Media>>,
}
