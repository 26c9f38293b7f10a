//! `/api/workbook/audio`: upload, list, read, download and delete recordings.
//!
//! An upload is streamed to disk as it arrives (never held in memory), capped at
//! `transcription.max_upload_bytes`; its format is detected from the content, never from the
//! name, and its duration read before it is accepted.

use std::path::{Path, PathBuf};

use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::db::jobs::Job;
use crate::db::recordings::{self, Recording};
use crate::db::transcripts::{self, StoredSegment};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::Page;
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

/// Removes a partial upload unless it was kept.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn multipart_error(err: MultipartError) -> ApiError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large("the upload is larger than allowed")
    } else {
        ApiError::bad_request("bad_multipart", err.body_text())
    }
}

/// Uploads a recording (multipart fields `audio`, `title`, optional `moduleId`).
#[utoipa::path(post, path = "/api/workbook/audio", tag = "audio",
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
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<(StatusCode, Json<RecordingResponse>)> {
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::unsupported_media_type(format!("expected multipart/form-data: {rejection}"))
    })?;
    let dir = state.config.storage.data_dir.join("audio");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let max = state.config.transcription.max_upload_bytes;
    let (mut title, mut module_id, mut file_name) = (None, None, String::from("audio"));
    let mut upload: Option<(TempFile, i64)> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("audio") => {
                file_name = field
                    .file_name()
                    .unwrap_or("audio")
                    .chars()
                    .take(255)
                    .collect();
                let temp = dir.join(format!("upload-{}.part", Uuid::new_v4()));
                let guard = TempFile(Some(temp.clone()));
                let size = stream_to_file(field, &temp, max).await?;
                upload = Some((guard, size));
            }
            Some("title") => title = Some(small_text(field, "title").await?),
            Some("moduleId") => {
                let text = small_text(field, "moduleId").await?;
                let id = text
                    .trim()
                    .parse::<Uuid>()
                    .map_err(|_| ApiError::invalid_field("moduleId", "must be a UUID"))?;
                module_id = Some(id);
            }
            _ => {}
        }
    }
    let title = title.unwrap_or_default();
    let mut v = Validator::new();
    v.line(title.trim(), "title", 1, 255).check(
        upload.is_some(),
        "audio",
        "the audio file is missing",
    );
    v.finish()?;
    let (mut temp, size) = upload.expect("checked above");
    let temp_path = temp.0.clone().expect("not yet kept");
    let info = probe(temp_path.clone()).await?;
    let recording = Recording {
        id: Uuid::new_v4(),
        user_id: caller.id,
        module_id,
        title: title.trim().to_owned(),
        file_name,
        format: info.format.extension().to_owned(),
        file_size: size,
        duration_secs: info.duration_secs,
        created_at: chrono::Utc::now(),
    };
    let final_path = audio_path(
        &state.config.storage.data_dir,
        recording.id,
        &recording.format,
    );
    tokio::fs::rename(&temp_path, &final_path)
        .await
        .map_err(ApiError::internal)?;
    temp.0 = None;
    // Until the row exists the file is still removed on any failure.
    let mut stored = TempFile(Some(final_path));
    recordings::insert(&state.db, &recording)
        .await
        .map_err(|err| {
            let fk = err
                .as_database_error()
                .is_some_and(|e| e.is_foreign_key_violation());
            if fk {
                ApiError::invalid_field("moduleId", "no such module")
            } else {
                err.into()
            }
        })?;
    stored.0 = None;
    Ok((
        StatusCode::CREATED,
        Json(RecordingResponse {
            success: true,
            recording,
        }),
    ))
}

/// Writes the field to `path`, failing with 413 past `max` bytes.
async fn stream_to_file(mut field: Field<'_>, path: &Path, max: u64) -> ApiResult<i64> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
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

/// Detects the format and reads the duration, on a blocking thread.
async fn probe(path: PathBuf) -> ApiResult<transcribe::AudioInfo> {
    let probed = tokio::task::spawn_blocking(move || transcribe::probe(&path))
        .await
        .map_err(ApiError::internal)?;
    probed.map_err(|err| match err {
        transcribe::Error::Unsupported => {
            ApiError::unsupported_media_type("the file is not WAV, MP3, M4A/AAC or Ogg Opus audio")
        }
        transcribe::Error::Io(e) => ApiError::internal(e),
        other => ApiError::invalid_field("audio", format!("the audio cannot be read: {other}")),
    })
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
#[utoipa::path(get, path = "/api/workbook/audio", tag = "audio",
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
#[utoipa::path(get, path = "/api/workbook/audio/{id}", tag = "audio",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = RecordingDetail), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<RecordingDetail>> {
    let recording = owned_recording(&state, id, &caller).await?;
    let job = crate::db::jobs::for_recording(&state.db, id).await?;
    let (segments, text) = if job.as_ref().is_some_and(|j| j.status == "done") {
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
#[utoipa::path(get, path = "/api/workbook/audio/{id}/file", tag = "audio",
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
    let mime = mime_for(&recording.format);
    let served = tower_http::services::ServeFile::new_with_mime(path, &mime)
        .oneshot(request)
        .await
        .map_err(ApiError::internal)?;
    Ok(served.map(Body::new))
}

fn mime_for(format: &str) -> mime::Mime {
    let name = match format {
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        _ => "audio/ogg",
    };
    name.parse().expect("constant MIME types parse")
}

/// Deletes a recording, its transcript and its file; a running job is cancelled.
#[utoipa::path(delete, path = "/api/workbook/audio/{id}", tag = "audio",
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
