//! Transcription jobs: queue (or retry) and cancel. Progress and results are read with the
//! recording (`GET /api/workbook/audio/{id}`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::audio::owned_recording;
use crate::auth::extract::CurrentUser;
use crate::db::jobs;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranscribeRequest {
    pub recording_id: Uuid,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscribeResponse {
    pub success: bool,
    /// The job's id.
    pub transcription_id: Uuid,
    /// `queued`.
    pub status: jobs::JobStatus,
}

#[derive(Serialize, ToSchema)]
pub struct CancelResponse {
    pub success: bool,
}

/// Queues the recording for transcription and answers at once. Queuing a recording whose job
/// failed, was cancelled or is done runs it again (retry).
#[utoipa::path(post, path = "/api/workbook/audio/transcribe", tag = "audio", operation_id = "transcribeAudio",
    request_body = TranscribeRequest, security(("bearer" = [])),
    responses(
        (status = 202, body = TranscribeResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "a job for this recording is already queued or running", body = ErrorBody),
    ))]
pub async fn transcribe(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(req): ApiJson<TranscribeRequest>,
) -> ApiResult<(StatusCode, Json<TranscribeResponse>)> {
    owned_recording(&state, req.recording_id, &caller).await?;
    let job = jobs::enqueue(&state.db, req.recording_id)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "job_active",
                "this recording is already queued or being transcribed",
            )
        })?;
    state.transcription.job_queued();
    Ok((
        StatusCode::ACCEPTED,
        Json(TranscribeResponse {
            success: true,
            transcription_id: job.id,
            status: job.status,
        }),
    ))
}

/// Cancels the recording's queued or running job.
#[utoipa::path(post, path = "/api/workbook/audio/{id}/transcription/cancel", tag = "audio", operation_id = "cancelTranscription",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = CancelResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "no queued or running job", body = ErrorBody),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CancelResponse>> {
    owned_recording(&state, id, &caller).await?;
    if !jobs::cancel(&state.db, id).await? {
        return Err(ApiError::conflict(
            "no_active_job",
            "nothing is queued or running",
        ));
    }
    if let Some(job) = jobs::for_recording(&state.db, id).await? {
        state.transcription.cancel(job.id);
    }
    Ok(Json(CancelResponse { success: true }))
}
