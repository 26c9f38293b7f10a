//! `/api/workbook/sessions`: scheduling live sessions and their lifecycle
//! (scheduled → live → ended). Joining is in `session_join`, exports in `session_exports`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::auth::roles::{Permission, Role};
use crate::db::sessions::{ListFilter, LiveSession, SessionFields, SessionSettings, SessionStatus};
use crate::db::{self, session_participants};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::Page;
use crate::state::AppState;

const TITLE_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 5000;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    /// 1 to 200 characters, one line.
    pub title: String,
    /// Up to 5000 characters.
    #[serde(default)]
    pub description: String,
    pub scheduled_start: DateTime<Utc>,
    /// After `scheduledStart` when given.
    pub scheduled_end: Option<DateTime<Utc>>,
    #[serde(default)]
    pub settings: SessionSettings,
}

/// Only the fields given change.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionUpdate {
    pub title: Option<String>,
    pub description: Option<String>,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_end: Option<DateTime<Utc>>,
    pub settings: Option<SessionSettings>,
}

#[derive(Deserialize, Clone, Copy, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Scheduled, not started yet.
    Upcoming,
    Live,
    /// Ended.
    Past,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionListQuery {
    pub status: Option<StatusFilter>,
    /// Only sessions the caller hosts.
    pub mine: Option<bool>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionList {
    pub sessions: Vec<LiveSession>,
    pub total: i64,
    pub has_more: bool,
}

/// Schedules a session hosted by the caller.
#[utoipa::path(post, path = "/api/workbook/sessions", tag = "sessions", operation_id = "scheduleSession",
    request_body = NewSession, security(("bearer" = [])),
    responses(
        (status = 201, body = LiveSession),
        (status = 403, description = "needs `sessions.host`", body = ErrorBody),
    ))]
pub async fn schedule(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(body): ApiJson<NewSession>,
) -> ApiResult<(StatusCode, Json<LiveSession>)> {
    caller.require(Permission::SessionsHost)?;
    let fields = SessionFields {
        title: body.title,
        description: body.description,
        scheduled_start: body.scheduled_start,
        scheduled_end: body.scheduled_end,
        settings: body.settings,
    };
    validate(&fields)?;
    let session = db::sessions::insert(&state.db, caller.id, &fields).await?;
    Ok((StatusCode::CREATED, Json(session)))
}

/// Lists sessions in schedule order.
#[utoipa::path(get, path = "/api/workbook/sessions", tag = "sessions", operation_id = "listSessions",
    params(SessionListQuery), security(("bearer" = [])),
    responses((status = 200, body = SessionList)))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<SessionListQuery>,
) -> ApiResult<Json<SessionList>> {
    let page = Page::new(query.limit, query.offset)?;
    let filter = ListFilter {
        status: query.status.map(|s| match s {
            StatusFilter::Upcoming => SessionStatus::Scheduled,
            StatusFilter::Live => SessionStatus::Live,
            StatusFilter::Past => SessionStatus::Ended,
        }),
        host: query.mine.unwrap_or(false).then_some(caller.id),
    };
    let (sessions, total) = db::sessions::list(&state.db, filter, page.limit, page.offset).await?;
    let has_more = page.has_more(sessions.len(), total);
    Ok(Json(SessionList {
        sessions,
        total,
        has_more,
    }))
}

#[utoipa::path(get, path = "/api/workbook/sessions/{id}", tag = "sessions", operation_id = "getSession",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses((status = 200, body = LiveSession), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<LiveSession>> {
    Ok(Json(load(&state, id).await?))
}

/// Changes a session that has not ended (host or admin).
#[utoipa::path(patch, path = "/api/workbook/sessions/{id}", tag = "sessions", operation_id = "updateSession",
    params(("id" = Uuid, Path)), request_body = SessionUpdate, security(("bearer" = [])),
    responses(
        (status = 200, body = LiveSession),
        (status = 403, description = "not the host", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`session_ended`", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<SessionUpdate>,
) -> ApiResult<Json<LiveSession>> {
    let session = load_hosted(&state, &caller, id).await?;
    if session.status == SessionStatus::Ended {
        return Err(ended());
    }
    let fields = SessionFields {
        title: body.title.unwrap_or(session.title),
        description: body.description.unwrap_or(session.description),
        scheduled_start: body.scheduled_start.unwrap_or(session.scheduled_start),
        scheduled_end: body.scheduled_end.or(session.scheduled_end),
        settings: body.settings.unwrap_or(session.settings),
    };
    validate(&fields)?;
    db::sessions::update(&state.db, id, &fields)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("session"))
}

/// Opens the session: participants may join from now on.
#[utoipa::path(post, path = "/api/workbook/sessions/{id}/start", tag = "sessions", operation_id = "startSession",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = LiveSession),
        (status = 403, description = "not the host", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_scheduled`: already live or ended", body = ErrorBody),
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<LiveSession>> {
    load_hosted(&state, &caller, id).await?;
    db::sessions::start(&state.db, id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::conflict("not_scheduled", "the session is already live or ended"))
}

/// Ends the session; everyone connected receives `session.ended` and is disconnected.
#[utoipa::path(post, path = "/api/workbook/sessions/{id}/end", tag = "sessions", operation_id = "endSession",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = LiveSession),
        (status = 403, description = "not the host", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`session_ended`", body = ErrorBody),
    ))]
pub async fn end(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<LiveSession>> {
    let session = load_hosted(&state, &caller, id).await?;
    match session.status {
        SessionStatus::Ended => return Err(ended()),
        SessionStatus::Live => state.hub.end(id).await.map_err(ApiError::internal)?,
        SessionStatus::Scheduled => {}
    }
    db::sessions::mark_ended(&state.db, id, Utc::now()).await?;
    Ok(Json(load(&state, id).await?))
}

fn validate(fields: &SessionFields) -> ApiResult<()> {
    Validator::new()
        .length(&fields.title, "title", 1, TITLE_MAX)
        .check(
            !fields.title.contains(['\n', '\r']),
            "title",
            "must be one line",
        )
        .check(
            !fields.title.trim().is_empty(),
            "title",
            "must not be blank",
        )
        .length(&fields.description, "description", 0, DESCRIPTION_MAX)
        .check(
            fields
                .scheduled_end
                .is_none_or(|end| end > fields.scheduled_start),
            "scheduledEnd",
            "must be after scheduledStart",
        )
        .finish()
}

pub fn ended() -> ApiError {
    ApiError::conflict("session_ended", "the session has ended")
}

pub async fn load(state: &AppState, id: Uuid) -> ApiResult<LiveSession> {
    db::sessions::find(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("session"))
}

/// The session, if the caller hosts it (admins host every session).
async fn load_hosted(state: &AppState, caller: &CurrentUser, id: Uuid) -> ApiResult<LiveSession> {
    let session = load(state, id).await?;
    if session.host_id == caller.id || caller.role == Role::Admin {
        Ok(session)
    } else {
        Err(ApiError::forbidden("only the host may do this"))
    }
}

/// The session, if the caller hosts it or is a cohost in it (exports, attendance).
pub async fn load_moderated(
    state: &AppState,
    caller: &CurrentUser,
    id: Uuid,
) -> ApiResult<LiveSession> {
    let session = load(state, id).await?;
    if session.host_id == caller.id || caller.role == Role::Admin {
        return Ok(session);
    }
    let standing = session_participants::find(&state.db, id, caller.id).await?;
    match standing.and_then(|s| s.role) {
        Some(role) if role == "cohost" || role == "host" => Ok(session),
        _ => Err(ApiError::forbidden("only the host or a cohost may do this")),
    }
}
