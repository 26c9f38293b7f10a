//! Note exports: one note or all of mine, as Markdown, JSON or PDF.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

use uuid::Uuid;

use super::session_recordings;
use crate::auth::extract::CurrentUser;
use crate::db::{self, notes::Note};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::export::{self, ExportError, Format};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::recording::moments;
use crate::services::notes::visible_note;
use crate::state::AppState;

/// Recordings looked up for one export's moment links.
const MAX_MOMENT_LOOKUPS: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `md`, `json` or `pdf`.
    pub format: Format,
}

/// One note I can read, as a file.
#[utoipa::path(get, path = "/api/workbook/notes/{id}/export", tag = "notes", operation_id = "exportNote",
    params(("id" = Uuid, Path), ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/markdown"), (Vec<Note> = "application/json"),
            (Vec<u8> = "application/pdf"))),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, description = "more note text than `limits.export_bytes`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn one(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let note = visible_note(&state, id, caller.id).await?;
    let title = note.title.clone();
    file(&state, &caller, title, query.format, vec![note]).await
}

/// All notes I own, as one file.
#[utoipa::path(get, path = "/api/workbook/notes/export", tag = "notes", operation_id = "exportNotes",
    params(ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "the file", content(
            (String = "text/markdown"), (Vec<Note> = "application/json"),
            (Vec<u8> = "application/pdf"))),
        (status = 401, body = ErrorBody),
        (status = 413, description = "more note text than `limits.export_bytes`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn all(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let notes = db::notes::all_owned(&state.db, caller.id).await?;
    file(&state, &caller, "notes".to_owned(), query.format, notes).await
}

async fn file(
    state: &AppState,
    caller: &CurrentUser,
    title: String,
    format: Format,
    notes: Vec<Note>,
) -> ApiResult<Response> {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        export::file_name(&title, format)
    );
    let moments = match format {
        Format::Json => HashMap::new(),
        Format::Md | Format::Pdf => moment_titles(state, caller, &notes).await,
    };
    let limit = state.config.limits.export_bytes;
    let body = export::render(title, format, notes, limit, moments)
        .await
        .map_err(|error| match error {
            ExportError::TooLarge { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "export_too_large",
                error.to_string(),
            ),
            ExportError::Failed(_) => ApiError::internal(error),
        })?;
    Ok((
        [
            (CONTENT_TYPE, format.content_type().to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The session title of each recording the notes link to that the caller may see (at most
/// [`MAX_MOMENT_LOOKUPS`] recordings; the rest print without a title).
async fn moment_titles(
    state: &AppState,
    caller: &CurrentUser,
    notes: &[Note],
) -> HashMap<Uuid, String> {
    let mut recordings: Vec<Uuid> = notes
        .iter()
        .flat_map(|n| moments::find(&n.content))
        .map(|(_, link)| link.recording)
        .collect();
    recordings.sort();
    recordings.dedup();
    let mut titles = HashMap::new();
    for recording in recordings.into_iter().take(MAX_MOMENT_LOOKUPS) {
        if let Ok((_, session)) =
            session_recordings::visible_recording(state, caller, recording).await
        {
            titles.insert(recording, session.title);
        }
    }
    titles
}
