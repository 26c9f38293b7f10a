//! `/api/workbook/admin/*`: user and role management (needs `admin.access`).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::auth::roles::{Permission, Role};
use crate::db::{self, users::User};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::Page;
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
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Lists all accounts.
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
    let (users, total) = db::users::list(&state.db, page.limit, page.offset).await?;
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
