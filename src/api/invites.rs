//! Invite links to a session. A host (or cohost) creates a link with the role it grants,
//! a use limit and an expiry; whoever opens it joins as a guest (a display name, no account)
//! or, signed in, as themselves: accepting an invite is what lets an account into an
//! invite-only session. Tokens are shown once and stored hashed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use signaling::SessionRole;
use utoipa::ToSchema;
use uuid::Uuid;

use super::session_join::{JoinResponse, Joining, issue_ticket, require_live};
use super::sessions::{ended, load, load_moderated};
use crate::auth::extract::CurrentUser;
use crate::auth::roles::Role;
use crate::auth::tokens::{hash_opaque_token, new_opaque_token};
use crate::db::invites::{self, Invite, NewInvite};
use crate::db::session_participants;
use crate::db::sessions::{LiveSession, SessionStatus};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::public_url::public_base;
use crate::hub::{names, roles};
use crate::state::AppState;

/// Roles an invite may grant: never a moderator's.
const INVITE_ROLES: [&str; 3] = ["presenter", "participant", "viewer"];

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateInvite {
    /// `presenter`, `participant` (default) or `viewer`.
    pub role: Option<String>,
    /// Whether people without an account may join with it (default true).
    pub guests: Option<bool>,
    /// 1 to 10,000; absent: no limit.
    pub max_uses: Option<i64>,
    /// 1 to 43,200 (30 days); absent: valid until the session ends.
    pub expires_in_minutes: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvite {
    #[serde(flatten)]
    pub invite: Invite,
    /// Shown only now; the server keeps a hash.
    pub token: String,
    /// The link to hand out: `<public url>/invite#token=<token>` (the browser client's page;
    /// the token stays in the fragment, out of server logs).
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct InviteList {
    /// Newest first.
    pub invites: Vec<Invite>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InviteToken {
    pub token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestRequest {
    pub token: String,
    /// 1 to 100 characters, like any display name.
    pub display_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestRejoin {
    pub guest_id: Uuid,
    pub secret: String,
}

/// What an invite opens, for the page that shows it before joining.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteView {
    pub session: LiveSession,
    pub role: String,
    pub guests: bool,
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub session_id: Uuid,
}

/// A guest's identity: rejoin with it (`POST /sessions/{id}/guest-join`) after a drop.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuestPass {
    pub id: Uuid,
    /// Shown only now; the server keeps a hash.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct GuestJoined {
    pub guest: GuestPass,
    pub join: JoinResponse,
}

/// Creates an invite link for a session that has not ended.
#[utoipa::path(post, path = "/api/workbook/sessions/{id}/invites", tag = "sessions", operation_id = "createSessionInvite",
    params(("id" = Uuid, Path)), request_body = CreateInvite, security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedInvite),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`session_ended`", body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CreateInvite>,
) -> ApiResult<(StatusCode, Json<CreatedInvite>)> {
    let session = load_moderated(&state, &caller, id).await?;
    if session.status == SessionStatus::Ended {
        return Err(ended());
    }
    let role = req.role.as_deref().unwrap_or("participant");
    Validator::new()
        .check(
            INVITE_ROLES.contains(&role),
            "role",
            "must be presenter, participant or viewer",
        )
        .check(
            req.max_uses.is_none_or(|n| (1..=10_000).contains(&n)),
            "maxUses",
            "must be 1 to 10000",
        )
        .check(
            req.expires_in_minutes
                .is_none_or(|m| (1..=43_200).contains(&m)),
            "expiresInMinutes",
            "must be 1 to 43200 (30 days)",
        )
        .finish()?;
    let (token, hash) = new_opaque_token();
    let invite = invites::create(
        &state.db,
        NewInvite {
            session: id,
            token_hash: &hash,
            role,
            guests: req.guests.unwrap_or(true),
            max_uses: req.max_uses,
            expires_at: req
                .expires_in_minutes
                .map(|m| Utc::now() + Duration::minutes(m)),
            created_by: caller.id,
        },
    )
    .await?;
    let url = format!(
        "{}/invite#token={token}",
        public_base(&state.config.server, &headers)
    );
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvite { invite, token, url }),
    ))
}

/// A session's invite links (without their tokens).
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/invites", tag = "sessions", operation_id = "listSessionInvites",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = InviteList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<InviteList>> {
    load_moderated(&state, &caller, id).await?;
    Ok(Json(InviteList {
        invites: invites::list(&state.db, id).await?,
    }))
}

/// Revokes an invite link: it admits nobody from now on (who joined with it stays).
#[utoipa::path(delete, path = "/api/workbook/sessions/{id}/invites/{inviteId}", tag = "sessions", operation_id = "revokeSessionInvite",
    params(("id" = Uuid, Path), ("inviteId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, invite)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    load_moderated(&state, &caller, id).await?;
    if !invites::revoke(&state.db, id, invite).await? {
        return Err(ApiError::not_found("invite"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What an invite link opens (public: the link is the credential).
#[utoipa::path(post, path = "/api/workbook/invites/lookup", tag = "sessions", operation_id = "lookUpInvite",
    request_body = InviteToken,
    responses(
        (status = 200, body = InviteView),
        (status = 404, description = "`not_found`: no such invite", body = ErrorBody),
        (status = 410, description = "`invite_revoked`, `invite_expired` or `invite_used_up`", body = ErrorBody),
    ))]
pub async fn lookup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<InviteToken>,
) -> ApiResult<Json<InviteView>> {
    let invite = usable(&state, &req.token).await?;
    let session = load(&state, invite.session_id).await?;
    Ok(Json(InviteView {
        session,
        role: invite.role,
        guests: invite.guests,
        expires_at: invite.expires_at,
    }))
}

/// Accepts an invite as the signed-in account: it may then join the session, invite-only
/// or not, with `POST /sessions/{id}/join`. The first acceptance takes one use.
#[utoipa::path(post, path = "/api/workbook/invites/accept", tag = "sessions", operation_id = "acceptInvite",
    request_body = InviteToken, security(("bearer" = [])),
    responses(
        (status = 200, body = Accepted),
        (status = 404, body = ErrorBody), (status = 409, description = "`session_ended`", body = ErrorBody),
        (status = 410, description = "`invite_revoked`, `invite_expired` or `invite_used_up`", body = ErrorBody),
    ))]
pub async fn accept(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(req): ApiJson<InviteToken>,
) -> ApiResult<Json<Accepted>> {
    let invite = invites::find_by_token(&state.db, &hash_opaque_token(&req.token))
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let session = load(&state, invite.session_id).await?;
    if session.status == SessionStatus::Ended {
        return Err(ended());
    }
    // Accepting again (another device, a reload) is no new use, and works after the link
    // ran out: the account is already in.
    if !invites::is_invitee(&state.db, session.id, caller.id).await? {
        check(&invite)?;
        take_use(&state, &invite).await?;
        invites::accept(&state.db, session.id, caller.id, invite.id).await?;
        if let Some(role) = roles::parse(&invite.role) {
            grant_role(&state, session.id, caller.id, role).await?;
        }
    }
    Ok(Json(Accepted {
        session_id: session.id,
    }))
}

/// Joins a live session as a guest through an invite that admits guests: the answer is a
/// join ticket like `POST /sessions/{id}/join`'s, and the guest's id and secret for rejoining.
#[utoipa::path(post, path = "/api/workbook/invites/guest", tag = "sessions", operation_id = "joinAsGuest",
    request_body = GuestRequest,
    responses(
        (status = 201, body = GuestJoined),
        (status = 403, description = "`guests_not_allowed` by this invite", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`session_not_live` or `session_ended`", body = ErrorBody),
        (status = 410, description = "`invite_revoked`, `invite_expired` or `invite_used_up`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn guest(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<GuestRequest>,
) -> ApiResult<(StatusCode, Json<GuestJoined>)> {
    let invite = usable(&state, &req.token).await?;
    if !invite.guests {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "guests_not_allowed",
            "this invite is for people with an account: sign in first",
        ));
    }
    let name = names::clean(&req.display_name)
        .map_err(|error| ApiError::invalid_field("displayName", error.to_string()))?;
    let session = load(&state, invite.session_id).await?;
    require_live(&session)?;
    take_use(&state, &invite).await?;
    let (secret, secret_hash) = new_opaque_token();
    let id = invites::add_guest(
        &state.db,
        session.id,
        invite.id,
        &name,
        &secret_hash,
        &invite.role,
    )
    .await?;
    let role = roles::parse(&invite.role).unwrap_or(SessionRole::Viewer);
    let joining = Joining {
        participant: id,
        name,
        account: Role::User,
        role,
    };
    let join = issue_ticket(&state, &headers, session, joining);
    Ok((
        StatusCode::CREATED,
        Json(GuestJoined {
            guest: GuestPass { id, secret },
            join,
        }),
    ))
}

/// A new join ticket for a guest (after a dropped connection), with its role as a moderator
/// last set it.
#[utoipa::path(post, path = "/api/workbook/sessions/{id}/guest-join", tag = "sessions", operation_id = "rejoinAsGuest",
    params(("id" = Uuid, Path)), request_body = GuestRejoin,
    responses(
        (status = 200, body = JoinResponse),
        (status = 401, description = "`unauthorized`: no such guest or a wrong secret", body = ErrorBody),
        (status = 403, description = "`banned`", body = ErrorBody),
        (status = 409, description = "`session_not_live` or `session_ended`", body = ErrorBody),
    ))]
pub async fn rejoin(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<GuestRejoin>,
) -> ApiResult<Json<JoinResponse>> {
    let guest = invites::find_guest(&state.db, id, req.guest_id)
        .await?
        .filter(|g| g.secret_hash == hash_opaque_token(&req.secret))
        .ok_or_else(|| ApiError::unauthorized("unknown guest or wrong secret"))?;
    if guest.banned {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "banned",
            "you were banned from this session",
        ));
    }
    let session = load(&state, id).await?;
    require_live(&session)?;
    let joining = Joining {
        participant: guest.id,
        name: guest.display_name,
        account: Role::User,
        role: roles::parse(&guest.role).unwrap_or(SessionRole::Viewer),
    };
    Ok(Json(issue_ticket(&state, &headers, session, joining)))
}

/// The invite behind `token` if it still admits someone; a typed refusal otherwise.
async fn usable(state: &AppState, token: &str) -> ApiResult<Invite> {
    let invite = invites::find_by_token(&state.db, &hash_opaque_token(token))
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    check(&invite)?;
    Ok(invite)
}

fn check(invite: &Invite) -> ApiResult<()> {
    let gone = |code, message| Err(ApiError::new(StatusCode::GONE, code, message));
    if invite.revoked_at.is_some() {
        return gone("invite_revoked", "this invite was revoked");
    }
    if invite.expires_at.is_some_and(|at| at <= Utc::now()) {
        return gone("invite_expired", "this invite has expired");
    }
    if invite.max_uses.is_some_and(|max| invite.uses >= max) {
        return gone(
            "invite_used_up",
            "this invite has been used as often as it may be",
        );
    }
    Ok(())
}

/// Takes one use, atomically; losing a race for the last use is `invite_used_up`.
async fn take_use(state: &AppState, invite: &Invite) -> ApiResult<()> {
    if invites::take_use(&state.db, invite.id, Utc::now()).await? {
        return Ok(());
    }
    let current = invites::find(&state.db, invite.id).await?;
    check(current.as_ref().unwrap_or(invite))?;
    Err(ApiError::new(
        StatusCode::GONE,
        "invite_used_up",
        "this invite has been used as often as it may be",
    ))
}

/// An invited account joins with the invite's role unless a moderator already gave one.
async fn grant_role(
    state: &AppState,
    session: Uuid,
    user: Uuid,
    role: SessionRole,
) -> ApiResult<()> {
    let standing = session_participants::find(&state.db, session, user).await?;
    if standing.and_then(|s| s.role).is_none() {
        session_participants::set_role(&state.db, session, user, roles::name(role)).await?;
    }
    Ok(())
}
