//! `/api/workbook/admin/*`: account management (needs `admin.access`): find accounts,
//! change roles, disable, delete, issue password-reset links.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::auth::roles::{Permission, Role};
use crate::auth::tokens::new_opaque_token;
use crate::db::{self, users::User};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::Page;
use crate::http::public_url::public_base;
use crate::services::accounts;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserList {
    pub users: Vec<User>,
    pub total: i64,
    pub has_more: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUpdate {
    pub role: Role,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Only accounts whose email or name contains this (case-insensitively); at most 255
    /// characters.
    pub q: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Lists the accounts, oldest first, or those matching `q`.
#[utoipa::path(get, path = "/api/workbook/admin/users", tag = "admin", operation_id = "listUsers",
    params(UserListQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = UserList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<UserListQuery>,
) -> ApiResult<Json<UserList>> {
    caller.require(Permission::AdminAccess)?;
    let page = Page::new(query.limit, query.offset)?;
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if let Some(q) = search {
        Validator::new().line(q, "q", 1, 255).finish()?;
    }
    let (users, total) = db::users::list(&state.db, search, page.limit, page.offset).await?;
    let has_more = page.has_more(users.len(), total);
    Ok(Json(UserList {
        users,
        total,
        has_more,
    }))
}

/// Changes an account's role, effective on the account's next request.
#[utoipa::path(patch, path = "/api/workbook/admin/users/{id}", tag = "admin", operation_id = "setUserRole",
    params(("id" = Uuid, Path)), request_body = RoleUpdate, security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn set_role(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(update): ApiJson<RoleUpdate>,
) -> ApiResult<Json<User>> {
    caller.require(Permission::AdminAccess)?;
    db::users::set_role(&state.db, id, update.role)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("user"))
}

/// A one-time password-reset link.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetLink {
    /// Posted with the new password to `POST /api/workbook/auth/password-reset`.
    pub token: String,
    /// `<server.public_url>/reset-password#token=<token>`, for a web client's reset page:
    /// the fragment never reaches a server or its logs.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// 403 `own_account`: an admin neither disables nor deletes the account they act with.
fn not_yourself(caller: &CurrentUser, id: Uuid, action: &str) -> ApiResult<()> {
    if caller.id == id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "own_account",
            format!("you cannot {action} your own account"),
        ));
    }
    Ok(())
}

/// Disables an account: it cannot sign in or refresh, and its access tokens are refused
/// from now on.
#[utoipa::path(post, path = "/api/workbook/admin/users/{id}/disable", tag = "admin", operation_id = "disableUser",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not an admin, or `own_account`", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn disable_user(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<User>> {
    set_disabled(&state, &caller, id, true).await
}

/// Enables a disabled account again; it signs in anew.
#[utoipa::path(post, path = "/api/workbook/admin/users/{id}/enable", tag = "admin", operation_id = "enableUser",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn enable_user(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<User>> {
    set_disabled(&state, &caller, id, false).await
}

async fn set_disabled(
    state: &AppState,
    caller: &CurrentUser,
    id: Uuid,
    disabled: bool,
) -> ApiResult<Json<User>> {
    caller.require(Permission::AdminAccess)?;
    if disabled {
        not_yourself(caller, id, "disable")?;
    }
    let user = accounts::set_disabled(&state.db, &state.revocations, id, disabled)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    tracing::info!(admin = %caller.id, user = %id, disabled, "account access changed");
    Ok(Json(user))
}

/// Deletes an account and everything that is its own, as `DELETE /api/workbook/me` does.
#[utoipa::path(delete, path = "/api/workbook/admin/users/{id}", tag = "admin", operation_id = "deleteUser",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not an admin, or `own_account`", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    caller.require(Permission::AdminAccess)?;
    not_yourself(&caller, id, "delete")?;
    if !accounts::delete(&state, id).await? {
        return Err(ApiError::not_found("user"));
    }
    tracing::info!(admin = %caller.id, user = %id, "account deleted by an admin");
    Ok(StatusCode::NO_CONTENT)
}

/// Issues a password-reset link for an account, usable once within
/// `auth.password_reset_ttl_secs` (1 h); a new link replaces the last. Hand it to the
/// account's owner: there is no mail.
#[utoipa::path(post, path = "/api/workbook/admin/users/{id}/password-reset", tag = "admin", operation_id = "createPasswordResetLink",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 201, body = PasswordResetLink),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn create_password_reset(
    State(state): State<AppState>,
    caller: CurrentUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<PasswordResetLink>)> {
    caller.require(Permission::AdminAccess)?;
    if db::users::find_by_id(&state.db, id).await?.is_none() {
        return Err(ApiError::not_found("user"));
    }
    let (token, hash) = new_opaque_token();
    let expires_at = Utc::now() + state.config.password_reset_ttl();
    db::password_resets::issue(&state.db, id, &hash, expires_at).await?;
    let url = format!(
        "{}/reset-password#token={token}",
        public_base(&state.config.server, &headers)
    );
    tracing::info!(admin = %caller.id, user = %id, "password-reset link issued");
    Ok((
        StatusCode::CREATED,
        Json(PasswordResetLink {
            token,
            url,
            expires_at,
        }),
    ))
}
