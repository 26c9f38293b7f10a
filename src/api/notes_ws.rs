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
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::Response;
use crdt::{Access, CloseCode, NoteId, UserId};
use serde::Deserialize;
use uuid::Uuid;

use super::note_socket;
use crate::db;
use crate::error::ErrorBody;
use crate::services::note_rooms;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LiveParams {
    /// The caller's access JWT.
    pub token: Option<String>,
}

/// Who joins which room with what access, once the token and the note check out.
pub struct Admission {
    pub note: NoteId,
    pub user: UserId,
    pub access: Access,
}

/// Opens the note's live document (WebSocket, y-websocket protocol). See
/// `docs/NOTES_PROTOCOL.md` for messages and close codes.
#[utoipa::path(get, path = "/api/workbook/notes/ws/{noteId}", tag = "notes",
    params(
        ("noteId" = Uuid, Path),
        ("token" = Option<String>, Query, description = "access JWT (or send it as a `Sec-WebSocket-Protocol` value)"),
    ),
    responses(
        (status = 101, description = "switching to the y-websocket protocol; refusals close with 4401 (bad token), 4403 (no access) or 4404 (no such note)"),
        (status = 426, description = "not a WebSocket upgrade request", body = ErrorBody),
    ))]
pub async fn connect(
    State(state): State<AppState>,
    Path(note): Path<String>,
    Query(params): Query<LiveParams>,
    ApiWebSocket(mut upgrade): ApiWebSocket,
) -> Response {
    // Always choose a protocol when the client offered some, or it fails the handshake.
    let protocol_token = choose_protocol_token(&state, &mut upgrade);
    let token = params.token.or(protocol_token);
    let admission = admit(&state, &note, token.as_deref()).await;
    let max_frame = state.rooms.config().limits.max_frame_bytes;
    let rooms = state.rooms.clone();
    let sockets = state.note_sockets.clone();
    // Small buffers: tungstenite's default 128 KiB read buffer is zero-filled per socket,
    // which made an idle connection cost ~130 KB; frames past the buffer still arrive.
    upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_message_size(max_frame)
        .max_frame_size(max_frame)
        .on_upgrade(move |socket| async move {
            let _open = sockets.open();
            note_socket::serve(socket, rooms, admission).await;
        })
}

const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

/// The first offered subprotocol that is a valid access token, echoed as the chosen one.
/// If none is, the first offered is echoed anyway, so the client accepts the upgrade and
/// reads the 4401 close instead of failing the handshake.
fn choose_protocol_token(state: &AppState, upgrade: &mut WebSocketUpgrade) -> Option<String> {
    let offered: Vec<HeaderValue> = upgrade
        .requested_protocols()
        .filter(|value| value.to_str().is_ok())
        .cloned()
        .collect();
    let valid = offered.iter().find(|value| {
        let token = value.to_str().unwrap_or_default();
        state.keys.verify_access(token).is_some()
    });
    let chosen = valid.or(offered.first())?;
    upgrade.set_selected_protocol(chosen.clone());
    valid
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Checks the token (4401), the note (4404) and the caller's access to it (4403).
async fn admit(state: &AppState, note: &str, token: Option<&str>) -> Result<Admission, CloseCode> {
    let claims = token
        .and_then(|token| state.keys.verify_access(token))
        .ok_or(CloseCode::BadToken)?;
    let id = Uuid::parse_str(note).map_err(|_| CloseCode::NoSuchNote)?;
    let permission = match db::notes::access(&state.db, id, claims.sub).await {
        Ok(Some(Some(permission))) => permission,
        Ok(Some(None)) => return Err(CloseCode::NoAccess),
        Ok(None) => return Err(CloseCode::NoSuchNote),
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
