//! What a session leaves behind: the minutes (`.../export`) and attendance with
//! engagement (`.../attendance`), both computed from the stored event log. Host and
//! cohosts only; available during and after the session.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use signaling::ParticipantId;
use signaling::export::{
    Minutes, MinutesTranscriptLine, RecordingSpan, attendance, attendance_csv,
};
use utoipa::IntoParams;
use uuid::Uuid;

use super::sessions::load_moderated;
use crate::auth::extract::CurrentUser;
use crate::db;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// Leaving for less than this and coming back counts as one attendance interval.
const RECONNECT_MERGE_SECS: i64 = 60;

#[derive(Deserialize, Clone, Copy, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Json,
    Md,
    Csv,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `json` (default), `md` or `csv`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The minutes: participants, public chat, polls with results, questions, hands, and for
/// a recorded session the transcript with speakers and where each answer is in the
/// recording. Never direct messages, deleted messages, voters or anonymous askers.
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/export", tag = "sessions", operation_id = "exportSession",
    params(("id" = Uuid, Path), ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "the minutes: JSON, Markdown (`text/markdown`) or CSV (`text/csv`)", body = Object),
        (status = 403, description = "not the host or a cohost", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn export(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    load_moderated(&state, &caller, id).await?;
    let events = db::session_events::all(&state.db, id)
        .await
        .map_err(ApiError::internal)?;
    let (spans, transcript) = recordings_of(&state, id).await?;
    let minutes = Minutes::from_events(&events).with_recordings(&spans, transcript);
    let name = |extension| format!("session-{id}-minutes.{extension}");
    Ok(match query.format.unwrap_or_default() {
        ExportFormat::Json => file("application/json", name("json"), minutes.to_json()),
        ExportFormat::Md => file(
            "text/markdown; charset=utf-8",
            name("md"),
            minutes.to_markdown(),
        ),
        ExportFormat::Csv => file("text/csv; charset=utf-8", name("csv"), minutes.to_csv()),
    })
}

/// Per participant: attendance intervals (reconnects within 60 s merged), total time,
/// and engagement (chat messages, named votes, named questions, hands).
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/attendance", tag = "sessions", operation_id = "getSessionAttendance",
    params(("id" = Uuid, Path), ExportQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"participants\": [...]}`, or CSV (`text/csv`)", body = Object),
        (status = 403, description = "not the host or a cohost", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn attendance_report(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    load_moderated(&state, &caller, id).await?;
    let events = db::session_events::all(&state.db, id)
        .await
        .map_err(ApiError::internal)?;
    let records = attendance(&events, chrono::Duration::seconds(RECONNECT_MERGE_SECS));
    Ok(match query.format.unwrap_or_default() {
        ExportFormat::Csv => file(
            "text/csv; charset=utf-8",
            format!("session-{id}-attendance.csv"),
            attendance_csv(&records),
        ),
        _ => axum::Json(serde_json::json!({ "participants": records })).into_response(),
    })
}

/// A download: its type, and the file name a browser saves it as.
fn file(content_type: &'static str, name: String, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The session's recordings and their transcripts (merged by speaker), for the minutes.
async fn recordings_of(
    state: &AppState,
    session: Uuid,
) -> ApiResult<(Vec<RecordingSpan>, Vec<MinutesTranscriptLine>)> {
    let mut spans = Vec::new();
    let mut lines = Vec::new();
    for recording in db::session_recordings::list(&state.db, session).await? {
        spans.push(RecordingSpan {
            recording: recording.id,
            started_at: recording.started_at,
            stopped_at: recording.stopped_at,
        });
        let tracks = db::session_recordings::tracks(&state.db, recording.id).await?;
        let merged = crate::recording::transcript::merged(&state.db, &tracks).await?;
        lines.extend(merged.segments.into_iter().map(|s| MinutesTranscriptLine {
            recording: recording.id,
            offset_secs: s.start_secs,
            end_secs: s.end_secs,
            participant: ParticipantId(s.participant_id),
            speaker: s.display_name,
            text: s.text,
        }));
    }
    Ok((spans, lines))
}
