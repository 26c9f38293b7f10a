//! `GET /api/workbook/search`: one ranked list across everything the caller can read.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::db::notes::NoteFilter;
use crate::db::{search, transcripts};
use crate::error::{ApiResult, ErrorBody, Validator};
use crate::http::extract::ApiQuery;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find; all must match.
    pub q: String,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
}

/// One hit: a note, a module, or a transcript segment of one of my recordings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    /// `note`, `module` or `transcript`.
    pub kind: &'static str,
    pub id: Uuid,
    pub title: String,
    /// The best matching passage, HTML-escaped, matches in `<mark>`.
    pub snippet: String,
    /// Relevance, higher is better.
    pub rank: f64,
    /// Transcript hits: the recording (same as `id`) ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_id: Option<Uuid>,
    /// ... and the second the matching segment starts at; play it with
    /// `GET /api/workbook/audio/{recordingId}/file` from there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// A transcript of a session recording: the session, the recording, who spoke, and the
    /// speaker's track from that moment (`…/media#t=SECONDS`; every track starts at the
    /// recording's start, so `start` is the offset in the recording).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moment: Option<Moment>,
}

/// Where a transcript hit of a session recording was said.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Moment {
    pub session_id: Uuid,
    pub session_recording_id: Uuid,
    pub track_id: Uuid,
    /// Who spoke: their participant (user) id and display name.
    pub participant_id: Uuid,
    pub speaker: String,
    /// Seconds from the recording's start.
    pub offset: f64,
    pub media_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
}

/// Searches my notes, notes shared with me, modules, and the transcripts of my recordings.
#[utoipa::path(get, path = "/api/workbook/search", tag = "search", operation_id = "search",
    params(SearchQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = SearchResults),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn search(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> ApiResult<Json<SearchResults>> {
    let words = search::words(&query.q);
    let limit = query.limit.unwrap_or(20);
    Validator::new()
        .check(!words.is_empty(), "q", "must contain at least one word")
        .check(
            (1..=100).contains(&limit),
            "limit",
            "must be between 1 and 100",
        )
        .finish()?;
    let filter = NoteFilter::default();
    let (notes, _) = search::notes(&state.db, caller.id, &words, &filter, limit, 0).await?;
    let modules = search::modules(&state.db, &words, limit).await?;
    let segments = transcripts::search(&state.db, caller.id, &words, limit).await?;
    let mut hits: Vec<SearchHit> = notes
        .into_iter()
        .map(|hit| SearchHit {
            kind: "note",
            id: hit.note.id,
            title: hit.note.title,
            snippet: hit.snippet,
            rank: hit.rank,
            recording_id: None,
            start: None,
            moment: None,
        })
        .chain(modules.into_iter().map(|hit| SearchHit {
            kind: "module",
            id: hit.id,
            title: hit.title,
            snippet: hit.snippet,
            rank: hit.rank,
            recording_id: None,
            start: None,
            moment: None,
        }))
        .chain(segments.into_iter().map(|hit| SearchHit {
            kind: "transcript",
            id: hit.recording_id,
            moment: moment(&hit),
            title: hit.title,
            snippet: hit.snippet,
            rank: hit.rank,
            recording_id: Some(hit.recording_id),
            start: Some(hit.start_secs),
        }))
        .collect();
    hits.sort_by(|a, b| b.rank.total_cmp(&a.rank));
    hits.truncate(limit as usize);
    Ok(Json(SearchResults { hits }))
}

fn moment(hit: &transcripts::SegmentHit) -> Option<Moment> {
    let (session_id, session_recording_id, track_id, participant_id) = (
        hit.session_id?,
        hit.session_recording_id?,
        hit.track_id?,
        hit.participant_id?,
    );
    let url = super::session_recordings::media_url(session_id, session_recording_id, track_id);
    Some(Moment {
        session_id,
        session_recording_id,
        track_id,
        participant_id,
        speaker: hit.speaker.clone().unwrap_or_default(),
        offset: hit.start_secs,
        media_url: format!("{url}#t={:.1}", hit.start_secs),
    })
}
