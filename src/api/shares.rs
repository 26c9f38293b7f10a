//! `/api/workbook/notes/{id}/shares`: the owner shares a note by email, lists and revokes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crdt::Access;

use crate::auth::extract::CurrentUser;
use crate::db::{self, shares::Share};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath};
use crate::services::note_rooms;
use crate::services::notes::owned_note;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// The account to share with.
    pub email: String,
    /// `read` or `write`.
    pub permission: String,
}

#[derive(Serialize, ToSchema)]
pub struct ShareList {
    pub shares: Vec<Share>,
}

/// Shares the note, or changes an existing share's permission.
#[utoipa::path(post, path = "/api/workbook/notes/{id}/shares", tag = "notes", operation_id = "shareNote",
    params(("id" = Uuid, Path)), request_body = ShareRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = ShareList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such note, or no account with that email", body = ErrorBody),
        (status = 409, description = "the note is private", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn share(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ShareRequest>,
) -> ApiResult<(StatusCode, Json<ShareList>)> {
    let note = owned_note(&state, id, caller.id).await?;
    Validator::new()
        .check(
            matches!(req.permission.as_str(), "read" | "write"),
            "permission",
            "must be read or write",
        )
        .length(&req.email, "email", 3, 255)
        .finish()?;
    if note.is_private {
        return Err(ApiError::conflict(
            "note_private",
            "private notes cannot be shared; set isPrivate to false first",
        ));
    }
    let email = req.email.trim().to_lowercase();
    let (user, _) = db::users::find_by_email(&state.db, &email)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if user.id == caller.id {
        return Err(ApiError::invalid_field(
            "email",
            "you already own this note",
        ));
    }
    db::shares::upsert(&state.db, id, user.id, &req.permission).await?;
    let access = if req.permission == "write" {
        Access::Write
    } else {
        Access::Read
    };
    let (note, user) = (note_rooms::note_key(id), note_rooms::user_key(user.id));
    state.rooms.set_access(&note, &user, Some(access)).await;
    let shares = db::shares::list(&state.db, id).await?;
    Ok((StatusCode::CREATED, Json(ShareList { shares })))
}

/// Who the note is shared with (owner only).
#[utoipa::path(get, path = "/api/workbook/notes/{id}/shares", tag = "notes", operation_id = "listNoteShares",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = ShareList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ShareList>> {
    owned_note(&state, id, caller.id).await?;
    let shares = db::shares::list(&state.db, id).await?;
    Ok(Json(ShareList { shares }))
}

/// Revokes one user's share (owner only).
#[utoipa::path(delete, path = "/api/workbook/notes/{id}/shares/{userId}", tag = "notes", operation_id = "revokeNoteShare",
    params(("id" = Uuid, Path), ("userId" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "revoked"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, user_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    owned_note(&state, id, caller.id).await?;
    if db::shares::revoke(&state.db, id, user_id).await? {
        let (note, user) = (note_rooms::note_key(id), note_rooms::user_key(user_id));
        state.rooms.set_access(&note, &user, None).await;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("share"))
    }
}
