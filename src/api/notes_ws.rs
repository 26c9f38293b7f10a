//! `GET /api/workbook/notes/ws/{noteId}`: the live note, over the y-websocket protocol.
//!
//! The URL has the shape the npm `y-websocket` provider builds (`base/{room}?token=...`), so
//! `new WebsocketProvider(base, noteId, doc, { params: { token } })` connects unmodified. The
//! access token may instead come as a `Sec-WebSocket-Protocol` value (browsers cannot set
//! headers on a WebSocket); the server then echoes it as the chosen protocol.
//!
//! Refusals are close codes on an accepted upgrade, never HTTP errors: a browser sees an
//! HTTP error as a network failure and retries forever, while 44xx stops the provider.

use crate::http::extract::ApiWebSocket;
use crate::http::ws_ping::Heartbeat;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use crdt::CloseCode;
use serde::Deserialize;
use uuid::Uuid;

use super::note_socket::{self, Admission};
use crate::auth::extract::CurrentUser;
use crate::auth::tokens::AccessClaims;
use crate::db;
use crate::error::ErrorBody;
use crate::services::note_rooms;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LiveParams {
    /// The caller's access JWT.
    pub token: Option<String>,
}

/// Opens the note's live document (WebSocket, y-websocket protocol). See
/// `docs/NOTES_PROTOCOL.md` for messages and close codes.
#[utoipa::path(get, path = "/api/workbook/notes/ws/{noteId}", tag = "notes", operation_id = "connectNoteSocket",
    params(
        ("noteId" = Uuid, Path),
        ("token" = Option<String>, Query, description = "access JWT (or send it as a `Sec-WebSocket-Protocol` value)"),
    ),
    responses(
        (status = 101, description = "switching to the y-websocket protocol; refusals close with 4401 (bad token) or 4404 (no such note, or not the caller's to see)"),
        (status = 426, description = "not a WebSocket upgrade request", body = ErrorBody),
    ))]
pub async fn connect(
    State(state): State<AppState>,
    Path(note): Path<String>,
    Query(params): Query<LiveParams>,
    ApiWebSocket(mut upgrade): ApiWebSocket,
) -> Response {
    // Always choose a protocol when the client offered some, or it fails the handshake.
    let protocol_claims = choose_protocol_token(&state, &mut upgrade);
    // Each token is verified once: the query's here, the offered ones while choosing.
    let claims = match params.token {
        Some(token) => state.keys.verify_access(&token),
        None => protocol_claims,
    };
    let admission = admit(&state, &note, claims).await;
    let max_frame = state.rooms.config().limits.max_frame_bytes;
    let rooms = state.rooms.clone();
    let sockets = state.note_sockets.clone();
    let heartbeat = Heartbeat::new(&state.config.connections);
    // Small buffers: tungstenite's default 128 KiB read buffer is zero-filled per socket,
    // which made an idle connection cost ~130 KB; frames past the buffer still arrive.
    upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
        .on_upgrade(move |socket| async move {
            let _open = sockets.open();
            note_socket::serve(socket, rooms, admission, heartbeat).await;
        })
}

const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// The first offered subprotocol that is a valid access token, echoed as the chosen one,
/// with its claims. If none is, the first offered is echoed anyway, so the client accepts
/// the upgrade and reads the 4401 close instead of failing the handshake.
fn choose_protocol_token(state: &AppState, upgrade: &mut WebSocketUpgrade) -> Option<AccessClaims> {
    let offered: Vec<HeaderValue> = upgrade
        .requested_protocols()
        .filter(|value| value.to_str().is_ok())
        .cloned()
        .collect();
    let valid = offered.iter().find_map(|value| {
        let token = value.to_str().unwrap_or_default();
        state
            .keys
            .verify_access(token)
            .map(|claims| (value, claims))
    });
    let chosen = valid
        .as_ref()
        .map(|(value, _)| *value)
        .or(offered.first())?;
    upgrade.set_selected_protocol(chosen.clone());
    valid.map(|(_, claims)| claims)
}

/// Checks the token and its login (4401), then the note and the caller's access to it: 4404
/// both for a missing note and for one the caller may not see, as REST answers 404 for
/// both, so the code tells nothing about notes that are not the caller's.
async fn admit(
    state: &AppState,
    note: &str,
    claims: Option<AccessClaims>,
) -> Result<Admission, CloseCode> {
    let claims = claims.ok_or(CloseCode::BadToken)?;
    match CurrentUser::from_claims(state, &claims).await {
        Ok(_) => {}
        Err(error) if error.status == StatusCode::UNAUTHORIZED => return Err(CloseCode::BadToken),
        Err(_) => return Err(CloseCode::StorageFailed),
    }
    let id = Uuid::parse_str(note).map_err(|_| CloseCode::NoSuchNote)?;
    let permission = match db::notes::access(&state.db, id, claims.sub).await {
        Ok(Some(Some(permission))) => permission,
        Ok(Some(None) | None) => return Err(CloseCode::NoSuchNote),
        Err(error) => {
            tracing::warn!(%error, "checking live note access failed");
            return Err(CloseCode::StorageFailed);
        }
    };
    Ok(Admission {
        note: note_rooms::note_key(id),
        user: note_rooms::user_key(claims.sub),
        access: note_rooms::live_access(permission),
    })
}
