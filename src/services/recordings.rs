//! Audio uploads turned into recordings: the streamed file is checked, moved into place and
//! recorded, and removed again on any failure on the way.

use std::path::{Path, PathBuf};

use tempfile::TempPath;
use uuid::Uuid;

use super::module_link_error;
use crate::db::recordings::{self, Recording};
use crate::error::{ApiError, ApiResult, Validator};
use crate::state::AppState;
use crate::transcription::audio_path;

/// The longest title, in characters.
pub const MAX_TITLE: usize = 255;

/// An upload as the form carried it, before any check.
#[derive(Default)]
pub struct Upload {
    pub title: Option<String>,
    pub module_id: Option<Uuid>,
    pub audio: Option<UploadedFile>,
}

/// The audio part of an upload, streamed to disk.
pub struct UploadedFile {
    /// Removed when dropped, so a failed upload never leaves its file behind.
    pub path: TempPath,
    pub size: i64,
    /// The name the client gave, kept for display only.
    pub name: String,
}

/// A new, empty file for an upload to stream into, in the audio directory so that keeping
/// it is a rename. Removed when the returned path is dropped.
pub async fn upload_file(data_dir: &Path) -> ApiResult<(tokio::fs::File, TempPath)> {
    let dir = data_dir.join("audio");
    let created = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        tempfile::Builder::new()
            .prefix("upload-")
            .suffix(".part")
            .tempfile_in(&dir)
    })
    .await
    .map_err(ApiError::internal)?;
    let (file, path) = created.map_err(ApiError::internal)?.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

/// Checks the form, detects the format and duration from the content (never the name),
/// moves the file into place and records it for `owner`.
pub async fn store(state: &AppState, owner: Uuid, upload: Upload) -> ApiResult<Recording> {
    const MISSING: &str = "the audio file is missing";
    let title = upload.title.unwrap_or_default();
    let mut v = Validator::new();
    v.line(title.trim(), "title", 1, MAX_TITLE)
        .check(upload.audio.is_some(), "audio", MISSING);
    v.finish()?;
    let audio = upload
        .audio
        .ok_or_else(|| ApiError::invalid_field("audio", MISSING))?;
    let info = probe(audio.path.to_path_buf()).await?;
    let recording = Recording {
        id: Uuid::new_v4(),
        user_id: owner,
        module_id: upload.module_id,
        title: title.trim().to_owned(),
        file_name: audio.name,
        format: info.format.extension().to_owned(),
        file_size: audio.size,
        duration_secs: info.duration_secs,
        created_at: chrono::Utc::now(),
    };
    let stored = keep_as(
        audio.path,
        audio_path(
            &state.config.storage.data_dir,
            recording.id,
            &recording.format,
        ),
    )
    .await?;
    // Until the row exists the file is still removed on any failure.
    recordings::insert(&state.db, &recording, recordings::Origin::Upload)
        .await
        .map_err(module_link_error)?;
    stored.keep().map_err(ApiError::internal)?;
    Ok(recording)
}

/// Renames the upload to `path`; the file there is still removed when the returned guard is
/// dropped.
async fn keep_as(upload: TempPath, path: PathBuf) -> ApiResult<TempPath> {
    tokio::task::spawn_blocking(move || {
        upload.persist(&path).map_err(|err| err.error)?;
        TempPath::try_from_path(path)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
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
