//! Joining a live session: `POST .../join` issues a single-use ticket, and
//! `GET .../ws?ticket=` turns it into a hub WebSocket.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use signaling::{CapabilitySet, ParticipantId, ParticipantInfo, SessionRole, capabilities_for};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::sessions::{ended, load};
use crate::auth::extract::CurrentUser;
use crate::auth::roles::Role;
use crate::db::sessions::{LiveSession, SessionStatus};
use crate::db::{self, invites, session_participants, session_tickets};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, ApiWebSocket, parse_json};
use crate::http::public_url::public_base;
use crate::http::ws_ping::Heartbeat;
use crate::hub::ticket::{self, TicketClaims, TicketError};
use crate::hub::{names, roles, socket};
use crate::media::ice::{IceServer, ice_servers};
use crate::state::AppState;

/// Larger than the hub's own frame cap (64 KiB, room for an SDP offer), so an oversized
/// frame gets the hub's `too_large` error frame; past it the socket closes with 4413.
const MAX_WS_MESSAGE: usize = 128 * 1024;
/// Small socket buffers: tungstenite's default 128 KiB read buffer is zero-filled per
/// socket, most of what an idle hub connection cost; frames past it still arrive.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

#[derive(Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinRequest {
    /// Shown to the others; 1 to 100 characters once control and bidi characters are
    /// stripped, not claiming a role in brackets ("(Host)"). Default: the account name.
    pub display_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JoinedParticipant {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JoinResponse {
    pub session: LiveSession,
    pub participant: JoinedParticipant,
    /// `host`, `cohost`, `presenter`, `participant` or `viewer`.
    #[schema(value_type = String)]
    pub role: SessionRole,
    /// What the hub lets this participant do, e.g. `["subscribe", "chat", "vote"]`.
    #[schema(value_type = Vec<String>)]
    pub capabilities: CapabilitySet,
    /// Single use, short-lived: pass it as `?ticket=` to `hubUrl`.
    pub ticket: String,
    pub ticket_expires_at: DateTime<Utc>,
    /// `ws(s)://host/api/workbook/sessions/{id}/ws`.
    pub hub_url: String,
    /// The SFU's address (`udp://ip:port`), or `null` when the server has no media. The
    /// SDP exchange itself runs over `hubUrl` (`media.*` messages).
    pub media_url: Option<String>,
    /// STUN/TURN servers for the client's `RTCPeerConnection` (TURN with time-limited
    /// credentials); empty when none are configured.
    pub ice_servers: Vec<IceServer>,
}

/// Issues a join ticket for a live session.
#[utoipa::path(post, path = "/api/workbook/sessions/{id}/join", tag = "sessions", operation_id = "joinSession",
    params(("id" = Uuid, Path)), request_body(content = JoinRequest, description = "optional"), security(("bearer" = [])),
    responses(
        (status = 200, body = JoinResponse),
        (status = 403, description = "`banned` from this session, or `invite_required` (an invite-only session)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`session_not_live` (not started) or `session_ended`", body = ErrorBody),
    ))]
pub async fn join(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<JoinResponse>> {
    let request = join_request(&body)?;
    let session = load(&state, id).await?;
    require_live(&session)?;
    let standing = session_participants::find(&state.db, id, caller.id).await?;
    if standing.as_ref().is_some_and(|s| s.banned) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "banned",
            "you were banned from this session",
        ));
    }
    if session.settings.invite_only
        && session.host_id != caller.id
        && caller.role != Role::Admin
        && !invites::is_invitee(&state.db, id, caller.id).await?
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invite_required",
            "this session is open to invited people only: ask the host for an invite link",
        ));
    }
    let name = display_name(&state, &caller, request.display_name).await?;
    let role = roles::joining_role(
        &session,
        caller.id,
        caller.role,
        standing.as_ref().and_then(|s| s.role.as_deref()),
    );
    let joining = Joining {
        participant: caller.id,
        name,
        account: caller.role,
        role,
    };
    Ok(Json(issue_ticket(&state, &headers, session, joining)))
}

/// Joining needs a live session: `session_not_live` before its start, `session_ended` after.
pub fn require_live(session: &LiveSession) -> ApiResult<()> {
    match session.status {
        SessionStatus::Scheduled => Err(ApiError::conflict(
            "session_not_live",
            "the session has not started",
        )),
        SessionStatus::Ended => Err(ended()),
        SessionStatus::Live => Ok(()),
    }
}

/// Who is joining, as the hub will know them.
pub struct Joining {
    pub participant: Uuid,
    pub name: String,
    /// The account's role; `user` for a guest.
    pub account: Role,
    pub role: SessionRole,
}

/// A ticket for `joining` to connect to `session`'s hub, with everything the client needs.
pub fn issue_ticket(
    state: &AppState,
    headers: &HeaderMap,
    session: LiveSession,
    joining: Joining,
) -> JoinResponse {
    let account = roles::account(joining.account);
    let info = ParticipantInfo {
        participant: ParticipantId(joining.participant),
        name: joining.name.clone(),
        account,
        role: joining.role,
        capabilities: capabilities_for(account, joining.role),
        hidden: false,
    };
    let claims = TicketClaims::new(
        session.id,
        &info,
        &state.keys.issuer,
        state.config.auth.ticket_ttl_secs,
    );
    JoinResponse {
        hub_url: hub_url(state, headers, session.id),
        participant: JoinedParticipant {
            id: joining.participant,
            name: joining.name,
        },
        role: joining.role,
        capabilities: info.capabilities,
        ticket: ticket::issue(&state.keys, &claims),
        ticket_expires_at: claims.expires_at(),
        session,
        media_url: state.media.as_ref().map(|media| media.media_url()),
        ice_servers: match state.media {
            Some(_) => ice_servers(&state.config.media, joining.participant, Utc::now()),
            None => Vec::new(),
        },
    }
}

/// The body is optional: empty means the defaults.
fn join_request(body: &[u8]) -> ApiResult<JoinRequest> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(JoinRequest::default());
    }
    parse_json(body)
}

async fn display_name(
    state: &AppState,
    caller: &CurrentUser,
    requested: Option<String>,
) -> ApiResult<String> {
    let name = match requested {
        Some(name) => name,
        None => {
            db::users::find_by_id(&state.db, caller.id)
                .await?
                .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?
                .name
        }
    };
    names::clean(&name).map_err(|error| ApiError::invalid_field("displayName", error.to_string()))
}

/// The public URL when configured, else the address the client used.
fn hub_url(state: &AppState, headers: &HeaderMap, id: Uuid) -> String {
    let base = public_base(&state.config.server, headers);
    let socket_base = match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base.trim_start_matches("http://")),
    };
    format!("{socket_base}/api/workbook/sessions/{id}/ws")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HubQuery {
    /// The join ticket from `POST .../join` (missing: 401 `invalid_ticket`, like a bad one).
    pub ticket: Option<String>,
    /// The last event seq this client saw (reconnect): the missed events follow the welcome.
    pub last_seq: Option<u64>,
}

/// The hub WebSocket (see `docs/HUB_PROTOCOL.md`). The ticket is checked before the
/// upgrade, so a refused ticket is an HTTP error.
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/ws", tag = "sessions", operation_id = "connectSessionHub",
    params(("id" = Uuid, Path), HubQuery),
    responses(
        (status = 101, description = "switching to the hub protocol"),
        (status = 401, description = "`invalid_ticket` (missing, bad, expired) or `ticket_used`", body = ErrorBody),
        (status = 403, description = "`wrong_session`: the ticket is for another session", body = ErrorBody),
        (status = 426, description = "not a WebSocket upgrade request", body = ErrorBody),
    ))]
pub async fn websocket(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<HubQuery>,
    ApiWebSocket(upgrade): ApiWebSocket,
) -> ApiResult<Response> {
    let presented = query.ticket.as_deref().unwrap_or_default();
    let claims = ticket::verify(&state.keys, presented, id).map_err(ticket_error)?;
    if !session_tickets::consume(&state.db, claims.jti, id, claims.expires_at()).await? {
        return Err(ticket_error(TicketError::Used));
    }
    let (hub, sockets) = (state.hub.clone(), state.hub_sockets.clone());
    let heartbeat = Heartbeat::new(&state.config.connections);
    let info = claims.participant();
    Ok(upgrade
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |ws| async move {
            let _open = sockets.open();
            socket::serve(ws, hub, id, info, query.last_seq, heartbeat).await;
        }))
}

fn ticket_error(err: TicketError) -> ApiError {
    let message = err.to_string();
    match err {
        TicketError::Invalid => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_ticket", message),
        TicketError::Used => ApiError::new(StatusCode::UNAUTHORIZED, "ticket_used", message),
        TicketError::WrongSession => ApiError::new(StatusCode::FORBIDDEN, "wrong_session", message),
    }
}
