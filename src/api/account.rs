//! `/api/workbook/me`: my profile and password, and everything of mine, exported or deleted
//! (the guide's privacy rights).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{MeResponse, email_taken, normalize_email};
use crate::auth::extract::{ClientAddress, CurrentUser};
use crate::auth::password::{self, NewPassword};
use crate::db::notes::{Note, NoteFilter};
use crate::db::progress::Progress;
use crate::db::recordings::Recording;
use crate::db::shares::Share;
use crate::db::transcripts::StoredSegment;
use crate::db::{self, users::User};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::ApiJson;
use crate::services::accounts;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnedNote {
    #[serde(flatten)]
    pub note: Note,
    pub shares: Vec<Share>,
}

/// All data held about the caller.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountExport {
    pub exported_at: chrono::DateTime<chrono::Utc>,
    pub user: User,
    /// Notes I own, with whom each is shared.
    pub notes: Vec<OwnedNote>,
    /// Notes others share with me (their content is theirs; listed for reference).
    pub shared_with_me: Vec<Note>,
    pub progress: Vec<Progress>,
    /// My uploads with their transcripts.
    pub recordings: Vec<RecordingExport>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingExport {
    #[serde(flatten)]
    pub recording: Recording,
    pub segments: Vec<StoredSegment>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    /// The current password, confirming the deletion.
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// 8 to 128 characters.
    pub new_password: String,
}

/// The fields to change; absent ones stay.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileUpdate {
    /// 1 to 255 characters.
    pub name: Option<String>,
    /// At most 255 characters; compared case-insensitively. Changing it needs
    /// `currentPassword`.
    pub email: Option<String>,
    pub current_password: Option<String>,
}

/// Everything stored about me, as one JSON document.
#[utoipa::path(get, path = "/api/workbook/me/export", tag = "account", operation_id = "exportMyData",
    security(("bearer" = [])),
    responses((status = 200, body = AccountExport), (status = 401, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> ApiResult<Json<AccountExport>> {
    let user = db::users::find_by_id(&state.db, caller.id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    let mut notes = Vec::new();
    for note in db::notes::all_owned(&state.db, caller.id).await? {
        let shares = db::shares::list(&state.db, note.id).await?;
        notes.push(OwnedNote { note, shares });
    }
    let shared = NoteFilter {
        shared: Some(true),
        ..NoteFilter::default()
    };
    let (shared_with_me, _) = db::notes::list(&state.db, caller.id, &shared, i64::MAX, 0).await?;
    let progress = db::progress::list_for_user(&state.db, caller.id).await?;
    let (uploads, _) = db::recordings::list(&state.db, caller.id, i64::MAX, 0).await?;
    let mut recordings = Vec::with_capacity(uploads.len());
    for recording in uploads {
        let segments = db::transcripts::segments(&state.db, recording.id).await?;
        recordings.push(RecordingExport {
            recording,
            segments,
        });
    }
    Ok(Json(AccountExport {
        exported_at: chrono::Utc::now(),
        user,
        notes,
        shared_with_me,
        progress,
        recordings,
    }))
}

/// Deletes my account and everything that is mine. A wrong password counts as a failed
/// sign-in.
#[utoipa::path(delete, path = "/api/workbook/me", tag = "account", operation_id = "deleteMyAccount",
    request_body = DeleteAccount, security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "wrong password or token", body = ErrorBody),
        (status = 429, description = "too many failed sign-ins", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    ClientAddress(address): ClientAddress,
    ApiJson(req): ApiJson<DeleteAccount>,
) -> ApiResult<StatusCode> {
    accounts::confirm_password(&state, &caller.email, address, req.password).await?;
    accounts::delete(&state, caller.id).await?;
    tracing::info!(user = %caller.id, "account deleted at its owner's request");
    Ok(StatusCode::NO_CONTENT)
}

/// Changes my password. Every other login of mine is signed out (its refresh and access
/// tokens revoked); this one stays. A wrong current password counts as a failed sign-in.
#[utoipa::path(post, path = "/api/workbook/me/password", tag = "account", operation_id = "changeMyPassword",
    request_body = PasswordChange, security(("bearer" = [])),
    responses(
        (status = 204, description = "changed"),
        (status = 401, description = "wrong current password, or token", body = ErrorBody),
        (status = 422, description = "invalid fields", body = ErrorBody),
        (status = 429, description = "too many failed sign-ins", body = ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: CurrentUser,
    ClientAddress(address): ClientAddress,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    Validator::new()
        .length(
            &req.current_password,
            "currentPassword",
            1,
            password::MAX_CHARS,
        )
        .new_password(&req.new_password, "newPassword")
        .finish()?;
    accounts::confirm_password(&state, &caller.email, address, req.current_password).await?;
    let keep = Some(caller.login);
    accounts::set_password(
        &state.db,
        &state.revocations,
        caller.id,
        req.new_password,
        keep,
    )
    .await?;
    tracing::info!(user = %caller.id, "password changed; other logins revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// Changes my display name and/or email. A new email needs `currentPassword` too, since
/// it is what signs in.
#[utoipa::path(patch, path = "/api/workbook/me", tag = "account", operation_id = "updateMyProfile",
    request_body = ProfileUpdate, security(("bearer" = [])),
    responses(
        (status = 200, body = MeResponse),
        (status = 401, description = "wrong current password, or token", body = ErrorBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "invalid fields", body = ErrorBody),
        (status = 429, description = "too many failed sign-ins", body = ErrorBody),
    ))]
pub async fn update_profile(
    State(state): State<AppState>,
    caller: CurrentUser,
    ClientAddress(address): ClientAddress,
    ApiJson(req): ApiJson<ProfileUpdate>,
) -> ApiResult<Json<MeResponse>> {
    let name = req.name.as_deref().map(str::trim);
    let email = req.email.as_deref().map(normalize_email);
    let new_email = email.as_deref().filter(|email| *email != caller.email);
    let mut validator = Validator::new();
    if let Some(name) = name {
        validator.line(name, "name", 1, 255);
    }
    if let Some(email) = new_email {
        validator.email(email, "email").check(
            req.current_password.is_some(),
            "currentPassword",
            "is required to change the email",
        );
    }
    validator.finish()?;
    if let (Some(_), Some(current)) = (new_email, req.current_password) {
        accounts::confirm_password(&state, &caller.email, address, current).await?;
    }
    let user = db::users::update_profile(&state.db, caller.id, name, new_email)
        .await
        .map_err(email_taken)?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    Ok(Json(MeResponse { user }))
}
