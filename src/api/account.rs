//! `/api/workbook/me`: everything of mine, exported or deleted (the guide's privacy rights).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::extract::CurrentUser;
use crate::auth::password;
use crate::db::notes::{Note, NoteFilter};
use crate::db::progress::Progress;
use crate::db::recordings::Recording;
use crate::db::shares::Share;
use crate::db::transcripts::StoredSegment;
use crate::db::{self, users::User};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::services::note_rooms;
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

/// Deletes my account and everything that is mine.
#[utoipa::path(delete, path = "/api/workbook/me", tag = "account", operation_id = "deleteMyAccount",
    request_body = DeleteAccount, security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, description = "wrong password or token", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(req): ApiJson<DeleteAccount>,
) -> ApiResult<StatusCode> {
    let (_, hash) = db::users::find_by_email(&state.db, &caller.email)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    if !password::verify(req.password, hash).await? {
        return Err(ApiError::unauthorized("wrong password"));
    }
    let files = db::recordings::files_of(&state.db, caller.id).await?;
    let owned = db::notes::owned_ids(&state.db, caller.id).await?;
    let shared = NoteFilter {
        shared: Some(true),
        ..NoteFilter::default()
    };
    let (shared_with_me, _) = db::notes::list(&state.db, caller.id, &shared, i64::MAX, 0).await?;
    db::users::delete(&state.db, caller.id).await?;
    for (id, format) in files {
        let path = crate::transcription::audio_path(&state.config.storage.data_dir, id, &format);
        super::audio::remove_file(&path).await;
    }
    // Close the account's live note connections: its notes are gone, its shares too.
    for id in owned {
        state.rooms.close_note(&note_rooms::note_key(id)).await;
    }
    let me = note_rooms::user_key(caller.id);
    for note in shared_with_me {
        let key = note_rooms::note_key(note.id);
        state.rooms.set_access(&key, &me, None).await;
    }
    tracing::info!(user = %caller.id, "account deleted at its owner's request");
    Ok(StatusCode::NO_CONTENT)
}
