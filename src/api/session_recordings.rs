//! A session's recordings: list them with their tracks, download a track (with range
//! requests), read the transcript with speakers, share one with the session, delete one.
//!
//! Hosts, cohosts and admins see every recording of the session; a participant of the
//! session sees only recordings the host shared; anyone else gets 404, as for a session
//! they cannot see.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::sessions::load;
use crate::auth::extract::CurrentUser;
use crate::auth::roles::Role;
use crate::db::session_recordings::{self, RecordingStatus, RecordingTrack, SessionRecording};
use crate::db::sessions::LiveSession;
use crate::db::{jobs, recordings, session_participants};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::recording::moments;
use crate::recording::recording_dir;
use crate::recording::transcript::{self, MergedTranscript, SpeakerSegment};
use crate::state::AppState;
use crate::transcription::audio_path;

/// A recording with its tracks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecordingView {
    #[serde(flatten)]
    pub recording: SessionRecording,
    pub tracks: Vec<RecordingTrackView>,
}

/// A track and where to fetch it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecordingTrackView {
    #[serde(flatten)]
    pub track: RecordingTrack,
    /// The file (`audio/ogg`, `video/x-ivf` or `video/h264`); append `#t=SECONDS` to play
    /// an audio track from a moment.
    pub media_url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionRecordingList {
    pub recordings: Vec<SessionRecordingView>,
}

/// What may be changed of a recording.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRecordingUpdate {
    /// Whether the session's participants may list and download it.
    pub shared: bool,
}

/// How far the caller may go with a session's recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Host, cohost or admin: everything.
    Manage,
    /// A participant of the session: shared recordings, read only.
    Shared,
}

async fn access(state: &AppState, caller: &CurrentUser, session: Uuid) -> ApiResult<Access> {
    let found = load(state, session).await?;
    if found.host_id == caller.id || caller.role == Role::Admin {
        return Ok(Access::Manage);
    }
    match session_participants::find(&state.db, session, caller.id).await? {
        Some(p) if matches!(p.role.as_deref(), Some("host" | "cohost")) => Ok(Access::Manage),
        Some(p) if !p.banned => Ok(Access::Shared),
        _ => Err(ApiError::not_found("session")),
    }
}

/// The recording if it belongs to `session` and the caller may see it.
async fn visible(
    state: &AppState,
    caller: &CurrentUser,
    session: Uuid,
    id: Uuid,
) -> ApiResult<(Access, SessionRecording)> {
    let access = access(state, caller, session).await?;
    match session_recordings::find(&state.db, id).await? {
        Some(r) if r.session_id == session && (access == Access::Manage || r.shared) => {
            Ok((access, r))
        }
        _ => Err(ApiError::not_found("recording")),
    }
}

/// A recording found by its id alone, with its session, if the caller may see it.
pub(crate) async fn visible_recording(
    state: &AppState,
    caller: &CurrentUser,
    id: Uuid,
) -> ApiResult<(SessionRecording, LiveSession)> {
    let recording = session_recordings::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("recording"))?;
    let (_, recording) = visible(state, caller, recording.session_id, id).await?;
    let session = load(state, recording.session_id).await?;
    Ok((recording, session))
}

fn manage_only(access: Access) -> ApiResult<()> {
    match access {
        Access::Manage => Ok(()),
        Access::Shared => Err(ApiError::forbidden(
            "only the host, a cohost or an admin may do this",
        )),
    }
}

/// The public path of a track's file.
pub fn media_url(session: Uuid, recording: Uuid, track: Uuid) -> String {
    format!("/api/workbook/sessions/{session}/recordings/{recording}/tracks/{track}/media")
}

async fn view(state: &AppState, recording: SessionRecording) -> ApiResult<SessionRecordingView> {
    let tracks = session_recordings::tracks(&state.db, recording.id)
        .await?
        .into_iter()
        .map(|track| RecordingTrackView {
            media_url: media_url(recording.session_id, recording.id, track.id),
            track,
        })
        .collect();
    Ok(SessionRecordingView { recording, tracks })
}

/// The session's recordings, oldest first, with their tracks.
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/recordings", tag = "recordings", operation_id = "listSessionRecordings",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = SessionRecordingList),
        (status = 404, description = "no such session, or not a participant of it", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<SessionRecordingList>> {
    let access = access(&state, &caller, id).await?;
    let mut recordings = Vec::new();
    for recording in session_recordings::list(&state.db, id).await? {
        if access == Access::Manage || recording.shared {
            recordings.push(view(&state, recording).await?);
        }
    }
    Ok(Json(SessionRecordingList { recordings }))
}

/// One recording with its tracks.
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/recordings/{recordingId}", tag = "recordings", operation_id = "getSessionRecording",
    params(("id" = Uuid, Path), ("recordingId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = SessionRecordingView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, recording_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<SessionRecordingView>> {
    let (_, recording) = visible(&state, &caller, id, recording_id).await?;
    Ok(Json(view(&state, recording).await?))
}

/// Shares the recording with the session's participants, or stops sharing it.
#[utoipa::path(patch, path = "/api/workbook/sessions/{id}/recordings/{recordingId}", tag = "recordings", operation_id = "updateSessionRecording",
    params(("id" = Uuid, Path), ("recordingId" = Uuid, Path)), request_body = SessionRecordingUpdate,
    security(("bearer" = [])),
    responses(
        (status = 200, body = SessionRecordingView),
        (status = 403, description = "not the host, a cohost or an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, recording_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<SessionRecordingUpdate>,
) -> ApiResult<Json<SessionRecordingView>> {
    let (access, mut recording) = visible(&state, &caller, id, recording_id).await?;
    manage_only(access)?;
    session_recordings::set_shared(&state.db, recording_id, body.shared).await?;
    recording.shared = body.shared;
    Ok(Json(view(&state, recording).await?))
}

/// Deletes a stopped recording: its files, its rows and its transcripts.
#[utoipa::path(delete, path = "/api/workbook/sessions/{id}/recordings/{recordingId}", tag = "recordings", operation_id = "deleteSessionRecording",
    params(("id" = Uuid, Path), ("recordingId" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 403, description = "not the host, a cohost or an admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`recording_live`: stop it first", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, recording_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let (access, recording) = visible(&state, &caller, id, recording_id).await?;
    manage_only(access)?;
    if matches!(
        recording.status,
        RecordingStatus::Recording | RecordingStatus::Paused
    ) {
        return Err(ApiError::conflict(
            "recording_live",
            "the recording is still running: stop it first",
        ));
    }
    let data_dir = &state.config.storage.data_dir;
    for track in session_recordings::tracks(&state.db, recording_id).await? {
        let Some(audio) = track.transcript_id else {
            continue;
        };
        if let Some(job) = jobs::for_recording(&state.db, audio).await? {
            state.transcription.cancel(job.id);
        }
        recordings::delete(&state.db, audio).await?;
        let format = transcribe::AudioFormat::OggOpus.extension();
        super::audio::remove_file(&audio_path(data_dir, audio, format)).await;
    }
    session_recordings::delete(&state.db, recording_id).await?;
    let dir = recording_dir(data_dir, recording_id);
    if let Err(error) = tokio::fs::remove_dir_all(&dir).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %dir.display(), %error, "could not remove a recording's files");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A track's file, with range requests. Ogg Opus (`audio/ogg`) for audio, IVF
/// (`video/x-ivf`) for VP8 and VP9 video, Annex-B (`video/h264`) for H.264; every file starts at the recording's start, so a
/// transcript's `startSecs` is the file's time (`…/media#t=SECONDS`).
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/recordings/{recordingId}/tracks/{trackId}/media", tag = "recordings", operation_id = "downloadRecordingTrack",
    params(("id" = Uuid, Path), ("recordingId" = Uuid, Path), ("trackId" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the file", content_type = "audio/ogg"),
        (status = 206, description = "a range of the file"),
        (status = 404, body = ErrorBody),
    ))]
pub async fn media(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, recording_id, track_id)): ApiPath<(Uuid, Uuid, Uuid)>,
    request: Request,
) -> ApiResult<Response> {
    visible(&state, &caller, id, recording_id).await?;
    let track = session_recordings::tracks(&state.db, recording_id)
        .await?
        .into_iter()
        .find(|t| t.id == track_id)
        .ok_or_else(|| ApiError::not_found("track"))?;
    let mime = match track.codec.as_str() {
        "opus" => "audio/ogg",
        "h264" => "video/h264",
        _ => "video/x-ivf",
    };
    let path = recording_dir(&state.config.storage.data_dir, recording_id).join(&track.file_name);
    crate::http::files::serve(&path, mime, request).await
}

/// The transcript: every audio track's segments in time order, each with its speaker,
/// and where each track's transcription is (they are queued when the recording stops).
#[utoipa::path(get, path = "/api/workbook/sessions/{id}/recordings/{recordingId}/transcript", tag = "recordings", operation_id = "getRecordingTranscript",
    params(("id" = Uuid, Path), ("recordingId" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = MergedTranscript), (status = 404, body = ErrorBody)))]
pub async fn transcript(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath((id, recording_id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<MergedTranscript>> {
    visible(&state, &caller, id, recording_id).await?;
    let tracks = session_recordings::tracks(&state.db, recording_id).await?;
    Ok(Json(transcript::merged(&state.db, &tracks).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MomentQuery {
    /// Seconds from the recording's start (default 0).
    pub t: Option<f64>,
}

/// A moment of a recording, resolved: where it is, who was speaking and what they said.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedMoment {
    pub session_id: Uuid,
    pub session_title: String,
    pub recording_id: Uuid,
    pub offset_secs: f64,
    /// The transcript segment spoken at that moment (or starting within 5 s after it).
    pub segment: Option<SpeakerSegment>,
    /// The speaker's track (or the first audio track) from that moment: `…/media#t=`.
    pub media_url: Option<String>,
    /// The link to put in a note: `workbook://moments/{recordingId}?t={offset}` (tenths).
    pub link: String,
}

/// Resolves a note's link to a recording moment (`workbook://moments/{recordingId}?t=`).
#[utoipa::path(get, path = "/api/workbook/moments/{recordingId}", tag = "recordings", operation_id = "resolveMoment",
    params(("recordingId" = Uuid, Path), MomentQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ResolvedMoment),
        (status = 404, description = "no such recording, or not visible to the caller", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn moment(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(recording_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<MomentQuery>,
) -> ApiResult<Json<ResolvedMoment>> {
    let offset_secs = query.t.unwrap_or(0.0);
    if !offset_secs.is_finite() || offset_secs < 0.0 {
        return Err(ApiError::invalid_field(
            "t",
            "must be a number of seconds, 0 or more",
        ));
    }
    let (recording, session) = visible_recording(&state, &caller, recording_id).await?;
    let tracks = session_recordings::tracks(&state.db, recording_id).await?;
    let merged = transcript::merged(&state.db, &tracks).await?;
    let segment = merged
        .segments
        .into_iter()
        .filter(|s| s.end_secs >= offset_secs && s.start_secs <= offset_secs + 5.0)
        .min_by(|a, b| a.start_secs.total_cmp(&b.start_secs));
    let track = segment
        .as_ref()
        .map(|s| s.track_id)
        .or_else(|| tracks.iter().find(|t| t.codec == "opus").map(|t| t.id));
    let media_url = track.map(|track| {
        let url = media_url(recording.session_id, recording_id, track);
        format!("{url}#t={offset_secs:.1}")
    });
    Ok(Json(ResolvedMoment {
        session_id: recording.session_id,
        session_title: session.title,
        recording_id,
        offset_secs,
        segment,
        media_url,
        link: format!("{}{recording_id}?t={offset_secs:.1}", moments::PREFIX),
    }))
}
