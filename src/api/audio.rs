//! `/api/workbook/audio`: upload, list, read, download and delete recordings.
//!
//! An upload is streamed to disk as it arrives (never held in memory), capped at
//! `transcription.max_upload_bytes`; its format is detected from the content, never from the
//! name, and its duration read before it is accepted.

use std::path::Path;

use axum::Json;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::db::jobs::{Job, JobStatus};
use crate::db::recordings::{self, Recording};
use crate::db::transcripts::{self, StoredSegment};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::Page;
use crate::services::recordings::{self as service, Upload, UploadedFile};
use crate::state::AppState;
use crate::transcription::audio_path;

/// The multipart form of an upload (for the API document).
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadForm {
    /// The audio file: WAV, MP3, M4A/AAC or Ogg Opus, at most 100 MB.
    #[schema(value_type = String, format = Binary)]
    pub audio: Vec<u8>,
    /// 1 to 255 characters.
    pub title: String,
    pub module_id: Option<Uuid>,
}

#[derive(Serialize, ToSchema)]
pub struct RecordingResponse {
    pub success: bool,
    pub recording: Recording,
}

/// A recording with its transcription: the job, and the transcript once done.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingDetail {
    pub recording: Recording,
    pub transcription: Option<Job>,
    /// The segments, in time order, when the job is done.
    pub segments: Option<Vec<StoredSegment>>,
    /// All segment texts joined, when the job is done.
    pub text: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingList {
    pub recordings: Vec<Recording>,
    pub total: i64,
    pub has_more: bool,
}

#[derive(serde::Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

fn multipart_error(err: MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large("the upload is larger than allowed")
    } else {
        ApiError::bad_request("bad_multipart", err.body_text())
    }
}

/// Uploads a recording (multipart fields `audio`, `title`, optional `moduleId`).
#[utoipa::path(post, path = "/api/workbook/audio", tag = "audio", operation_id = "uploadAudio",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    security(("bearer" = [])),
    responses(
        (status = 201, body = RecordingResponse),
        (status = 400, description = "not a multipart form", body = ErrorBody),
        (status = 413, description = "over 100 MB", body = ErrorBody),
        (status = 415, description = "not WAV, MP3, M4A or Ogg Opus", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    caller: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<RecordingResponse>)> {
    let multipart = multipart.map_err(|rejection| {
        ApiError::unsupported_media_type(format!("expected multipart/form-data: {rejection}"))
    })?;
    let upload = read_form(&state, multipart).await?;
    let recording = service::store(&state, caller.id, upload).await?;
    Ok((
        StatusCode::CREATED,
        Json(RecordingResponse {
            success: true,
            recording,
        }),
    ))
}

/// Reads the form's fields, streaming the audio to a file as it arrives (never held in
/// memory) and failing with 413 past `transcription.max_upload_bytes`.
async fn read_form(state: &AppState, mut multipart: Multipart) -> ApiResult<Upload> {
    let max = state.config.transcription.max_upload_bytes;
    let mut upload = Upload::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("audio") => {
                let name = field
                    .file_name()
                    .unwrap_or("audio")
                    .chars()
                    .take(255)
                    .collect();
                let (file, path) = service::upload_file(&state.config.storage.data_dir).await?;
                let size = stream_to_file(field, file, max).await?;
                upload.audio = Some(UploadedFile { path, size, name });
            }
            Some("title") => upload.title = Some(small_text(field, "title").await?),
            Some("moduleId") => {
                let text = small_text(field, "moduleId").await?;
                let id = text
                    .trim()
                    .parse::<Uuid>()
                    .map_err(|_| ApiError::invalid_field("moduleId", "must be a UUID"))?;
                upload.module_id = Some(id);
            }
            _ => {}
        }
    }
    Ok(upload)
}

/// Writes the field to `file`, failing with 413 past `max` bytes.
async fn stream_to_file(
    mut field: Field<'_>,
    mut file: tokio::fs::File,
    max: u64,
) -> ApiResult<i64> {
    let mut written: u64 = 0;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        written += chunk.len() as u64;
        if written > max {
            return Err(ApiError::payload_too_large(format!(
                "the audio file is larger than {max} bytes"
            )));
        }
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.sync_all().await.map_err(ApiError::internal)?;
    Ok(written as i64)
}

/// A short text field, read with a cap so a huge "title" cannot fill memory.
async fn small_text(mut field: Field<'_>, name: &str) -> ApiResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > 4096 {
            return Err(ApiError::invalid_field(name, "too long"));
        }
    }
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_field(name, "must be UTF-8 text"))
}

/// The recording if the caller owns it, or 404.
pub async fn owned_recording(
    state: &AppState,
    id: Uuid,
    caller: &CurrentUser,
) -> ApiResult<Recording> {
    recordings::find(&state.db, id, caller.id)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))
}

/// My recordings, newest first.
#[utoipa::path(get, path = "/api/workbook/audio", tag = "audio", operation_id = "listAudio",
    params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = RecordingList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<RecordingList>> {
    let page = Page::new(query.limit, query.offset)?;
    let (recordings, total) =
        recordings::list(&state.db, caller.id, page.limit, page.offset).await?;
    let has_more = page.has_more(recordings.len(), total);
    Ok(Json(RecordingList {
        recordings,
        total,
        has_more,
    }))
}

/// A recording with its job state and, when done, its transcript.
#[utoipa::path(get, path = "/api/workbook/audio/{id}", tag = "audio", operation_id = "getAudio",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = RecordingDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RecordingDetail>> {
    let recording = owned_recording(&state, id, &caller).await?;
    let job = crate::db::jobs::for_recording(&state.db, id).await?;
    let (segments, text) = if job.as_ref().is_some_and(|j| j.status == JobStatus::Done) {
        let segments = transcripts::segments(&state.db, id).await?;
        let text = segments
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        (Some(segments), Some(text))
    } else {
        (None, None)
    };
    Ok(Json(RecordingDetail {
        recording,
        transcription: job,
        segments,
        text,
    }))
}

/// The audio file, with range requests (so a player can seek to a search hit's `start`).
#[utoipa::path(get, path = "/api/workbook/audio/{id}/file", tag = "audio", operation_id = "downloadAudioFile",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the file", content_type = "audio/*"),
              (status = 206, description = "a range of the file"),
              (status = 404, body = ErrorBody)))]
pub async fn file(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    request: Request,
) -> ApiResult<Response> {
    let recording = owned_recording(&state, id, &caller).await?;
    let path = audio_path(&state.config.storage.data_dir, id, &recording.format);
    let format = transcribe::AudioFormat::from_extension(&recording.format).ok_or_else(|| {
        ApiError::internal(format!(
            "recording {id} has an unknown format {:?}",
            recording.format
        ))
    })?;
    crate::http::files::serve(&path, format.mime_type(), request).await
}

/// Deletes a recording, its transcript and its file; a running job is cancelled.
#[utoipa::path(delete, path = "/api/workbook/audio/{id}", tag = "audio", operation_id = "deleteAudio",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let recording = owned_recording(&state, id, &caller).await?;
    if let Some(job) = crate::db::jobs::for_recording(&state.db, id).await? {
        state.transcription.cancel(job.id);
    }
    recordings::delete(&state.db, id).await?;
    remove_file(&audio_path(
        &state.config.storage.data_dir,
        id,
        &recording.format,
    ))
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a stored file; a file already gone is fine.
pub async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!(path = %path.display(), error = %err, "could not remove an audio file");
        }
        _ => {}
    }
}
