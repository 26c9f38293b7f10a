//! `/api/workbook/auth/*`: register, login, refresh, logout, me.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::cookies;
use crate::auth::credentials::{REFRESH_COOKIE, cookie};
use crate::auth::extract::{ClientAddress, CurrentUser};
use crate::auth::password::{self, NewPassword};
use crate::auth::roles::Role;
use crate::auth::tokens::{hash_opaque_token, new_opaque_token};
use crate::db::{self, is_unique_violation, users::User};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, parse_json};
use crate::services::accounts;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// At most 255 characters; compared case-insensitively.
    pub email: String,
    /// 1 to 255 characters.
    pub name: String,
    /// 8 to 128 characters.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token; may instead come from the HTTP-only refresh cookie.
    pub refresh_token: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordResetRequest {
    /// The token of the reset link.
    pub token: String,
    /// 8 to 128 characters.
    pub new_password: String,
}

/// Tokens issued on register, login and refresh.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Access JWT for `Authorization: Bearer`.
    pub token: String,
    pub refresh_token: String,
    /// Seconds until `token` expires.
    pub expires_in: u64,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
}

#[derive(Serialize, ToSchema)]
pub struct SuccessResponse {
    pub success: bool,
}

/// Emails are stored and compared trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// 409 `email_taken` for a unique violation on the email (the only unique column a write
/// to an account can hit), any other error as it is.
pub fn email_taken(err: sqlx::Error) -> ApiError {
    if is_unique_violation(&err) {
        ApiError::conflict("email_taken", "an account with this email already exists")
    } else {
        err.into()
    }
}

/// Creates an account with the `user` role and signs it in.
#[utoipa::path(post, path = "/api/workbook/auth/register", tag = "auth", operation_id = "register",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = AuthResponse),
        (status = 403, description = "`registration_closed`: `auth.allow_registration` is off", body = ErrorBody),
        (status = 409, description = "email already registered", body = ErrorBody),
        (status = 422, description = "invalid fields", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> ApiResult<Response> {
    if !state.config.auth.allow_registration {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "registration_closed",
            "this server does not take sign-ups: ask an admin for an account, or a host for an invite link",
        ));
    }
    let email = normalize_email(&req.email);
    Validator::new()
        .email(&email, "email")
        .line(req.name.trim(), "name", 1, 255)
        .new_password(&req.password, "password")
        .finish()?;
    let hash = password::hash(req.password).await?;
    let user = db::users::insert(&state.db, &email, req.name.trim(), &hash, Role::User)
        .await
        .map_err(email_taken)?;
    let response = sign_in(&state, user, uuid::Uuid::new_v4()).await?;
    Ok((StatusCode::CREATED, response).into_response())
}

/// Exchanges email and password for tokens. Failed attempts are limited per account and
/// per client address (`rate_limits.failed_logins_*`); past either, every attempt, a right
/// password too, is answered 429 with `Retry-After` until the budget recovers. A disabled
/// account's right password is answered 403 `account_disabled`.
#[utoipa::path(post, path = "/api/workbook/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "wrong email or password", body = ErrorBody),
        (status = 403, description = "`account_disabled`: the right password of a disabled account", body = ErrorBody),
        (status = 422, description = "invalid fields", body = ErrorBody),
        (status = 429, description = "too many requests or failed sign-ins", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    Validator::new()
        .length(&req.email, "email", 1, 255)
        .length(&req.password, "password", 1, password::MAX_CHARS)
        .finish()?;
    let email = normalize_email(&req.email);
    let attempt = state.sign_in_attempts.begin(&email, address)?;
    let found = db::users::find_by_email(&state.db, &email).await?;
    // Verify against a dummy hash for unknown emails so both paths cost the same.
    let stored = found
        .as_ref()
        .map_or_else(|| password::dummy_hash().to_owned(), |(_, h)| h.clone());
    let matches = password::verify(req.password, stored).await?;
    match found {
        Some((user, _)) if matches => {
            attempt.succeeded();
            if user.disabled_at.is_some() {
                return Err(ApiError::account_disabled(StatusCode::FORBIDDEN));
            }
            sign_in(&state, user, uuid::Uuid::new_v4()).await
        }
        _ => Err(ApiError::unauthorized("invalid email or password")),
    }
}

/// Rotates a refresh token (never a disabled account's). Presenting one that was already used revokes its whole login,
/// access tokens included, except within `auth.refresh_grace_secs` of its rotation while its
/// successor is unused: a double-fired refresh then gets the same new token as the first.
#[utoipa::path(post, path = "/api/workbook/auth/refresh", tag = "auth", operation_id = "refreshLogin",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = AuthResponse),
        (status = 401, description = "unknown, expired, revoked or reused token", body = ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let presented = presented_refresh_token(&headers, &body)?
        .ok_or_else(|| ApiError::unauthorized("missing refresh token"))?;
    let invalid = || ApiError::unauthorized("invalid refresh token");
    let presented_hash = hash_opaque_token(&presented);
    let token = db::refresh_tokens::find_by_hash(&state.db, &presented_hash)
        .await?
        .ok_or_else(invalid)?;
    if token.revoked_at.is_some() || token.expires_at <= Utc::now() {
        return Err(invalid());
    }
    let user = db::users::find_by_id(&state.db, token.user_id)
        .await?
        .filter(|user| user.disabled_at.is_none())
        .ok_or_else(invalid)?;
    let (successor, successor_hash) = state.keys.refresh_successor(&presented);
    let expires = Utc::now() + state.config.refresh_ttl();
    // `rotate` is false when a concurrent refresh of the same token rotated it first.
    let rotated = token.rotated_at.is_none()
        && db::refresh_tokens::rotate(&state.db, &token, &successor_hash, expires).await?;
    if !rotated && !double_fired(&state, &presented_hash, &successor_hash).await? {
        return Err(reuse_detected(&state, token.family_id).await);
    }
    let access = state
        .keys
        .issue_access(user.id, &user.email, user.role, token.family_id);
    Ok(tokens_response(&state, None, access, successor))
}

/// Whether a refresh of an already-rotated token is the twin of the refresh that rotated it
/// (a double-fired request), not a replay: rotated within the grace period, and its
/// successor, which this request derived too, still unused.
async fn double_fired(
    state: &AppState,
    token_hash: &[u8],
    successor_hash: &[u8],
) -> ApiResult<bool> {
    let grace = chrono::Duration::seconds(
        i64::try_from(state.config.auth.refresh_grace_secs).unwrap_or(i64::MAX),
    );
    // Read again: the rotation may have committed after the token was first read.
    let Some(token) = db::refresh_tokens::find_by_hash(&state.db, token_hash).await? else {
        return Ok(false);
    };
    let rotated_moments_ago = token.rotated_at.is_some_and(|at| Utc::now() - at <= grace);
    if !rotated_moments_ago {
        return Ok(false);
    }
    let successor = db::refresh_tokens::find_by_hash(&state.db, successor_hash).await?;
    Ok(successor.is_some_and(|successor| {
        successor.family_id == token.family_id
            && successor.rotated_at.is_none()
            && successor.revoked_at.is_none()
    }))
}

async fn reuse_detected(state: &AppState, family_id: uuid::Uuid) -> ApiError {
    tracing::warn!(%family_id, "refresh token reuse detected; revoking the token family");
    if let Err(err) = state.revocations.revoke(&state.db, family_id).await {
        return err.into();
    }
    ApiError::unauthorized("refresh token was already used; all sessions of this login are revoked")
}

/// Revokes the presented refresh token's login, its access tokens included, and clears the
/// auth cookies.
#[utoipa::path(post, path = "/api/workbook/auth/logout", tag = "auth", operation_id = "logout",
    request_body = RefreshRequest,
    responses((status = 200, body = SuccessResponse)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    if let Some(presented) = presented_refresh_token(&headers, &body)? {
        let found =
            db::refresh_tokens::find_by_hash(&state.db, &hash_opaque_token(&presented)).await?;
        if let Some(token) = found {
            state.revocations.revoke(&state.db, token.family_id).await?;
        }
    }
    let mut response = axum::Json(SuccessResponse { success: true }).into_response();
    cookies::clear(response.headers_mut(), &state.config.auth);
    Ok(response)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/workbook/auth/me", tag = "auth", operation_id = "getCurrentUser",
    security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, description = "missing, invalid or expired token", body = ErrorBody),
    ))]
pub async fn me(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> ApiResult<axum::Json<MeResponse>> {
    let user = db::users::find_by_id(&state.db, caller.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    Ok(axum::Json(MeResponse { user }))
}

/// Sets a new password with a one-time reset link an admin issued
/// (`POST /api/workbook/admin/users/{id}/password-reset`), and signs the account out
/// everywhere: every login's refresh and access tokens are revoked.
#[utoipa::path(post, path = "/api/workbook/auth/password-reset", tag = "auth", operation_id = "resetPassword",
    request_body = PasswordResetRequest,
    responses(
        (status = 204, description = "the password is set; sign in with it"),
        (status = 401, description = "`invalid_reset_link`: unknown, used or expired", body = ErrorBody),
        (status = 422, description = "invalid fields", body = ErrorBody),
        (status = 429, description = "rate limited", body = ErrorBody),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<StatusCode> {
    Validator::new()
        .length(&req.token, "token", 1, 256)
        .new_password(&req.new_password, "newPassword")
        .finish()?;
    let invalid = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_reset_link",
            "this reset link is unknown, used or expired",
        )
    };
    let user = db::password_resets::spend(&state.db, &hash_opaque_token(&req.token))
        .await?
        .ok_or_else(invalid)?;
    let set =
        accounts::set_password(&state.db, &state.revocations, user, req.new_password, None).await?;
    if !set {
        return Err(invalid());
    }
    tracing::info!(%user, "password set with a reset link");
    Ok(StatusCode::NO_CONTENT)
}

/// The refresh token from the (optional) JSON body, else from the refresh cookie.
fn presented_refresh_token(headers: &HeaderMap, body: &[u8]) -> ApiResult<Option<String>> {
    let from_body = if body.is_empty() {
        None
    } else {
        parse_json::<RefreshRequest>(body)?.refresh_token
    };
    Ok(from_body
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .or_else(|| cookie(headers, REFRESH_COOKIE).map(str::to_owned)))
}

/// Starts a new token family for `user` and answers with both tokens.
async fn sign_in(state: &AppState, user: User, family_id: uuid::Uuid) -> ApiResult<Response> {
    let (refresh_token, hash) = new_opaque_token();
    let expires = Utc::now() + state.config.refresh_ttl();
    db::refresh_tokens::insert(&state.db, user.id, family_id, &hash, expires).await?;
    let access = state
        .keys
        .issue_access(user.id, &user.email, user.role, family_id);
    Ok(tokens_response(state, Some(user), access, refresh_token))
}

fn tokens_response(
    state: &AppState,
    user: Option<User>,
    access: String,
    refresh_token: String,
) -> Response {
    let auth = &state.config.auth;
    let mut headers = HeaderMap::new();
    cookies::set(&mut headers, auth, &access, &refresh_token);
    let body = axum::Json(AuthResponse {
        success: true,
        user,
        token: access,
        refresh_token,
        expires_in: auth.access_ttl_secs,
    });
    (headers, body).into_response()
}
