//! `/api/workbook/notes`: create, read, list (with full-text search), update, delete.
//!
//! Every route is scoped to the caller: a note that is neither theirs nor shared with them
//! answers 404, exactly like a missing one. Read-shares may read; write-shares may also
//! change title, body and tags; only the owner changes folder, module link, privacy, shares,
//! or deletes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::db::notes::{Note, NoteFilter};
use crate::db::{self, search};
use crate::error::{ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::Page;
use crate::services::notes::{self as service, CreateNote, UpdateNote, clean_folder, clean_tags};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Full-text query; results are then ranked by relevance and carry a snippet.
    pub search: Option<String>,
    /// Comma-separated tags; a note must carry all of them.
    pub tags: Option<String>,
    pub folder: Option<String>,
    pub module_id: Option<Uuid>,
    /// `true`: only notes shared with me; `false`: only mine.
    pub shared: Option<bool>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoteItem {
    #[serde(flatten)]
    pub note: Note,
    /// With `search`: the best matching passage, HTML-escaped, matches in `<mark>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// With `search`: relevance, higher is better.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NoteList {
    pub notes: Vec<NoteItem>,
    /// Every note that matches, on all pages (exact, with or without `search`).
    pub total: i64,
    pub has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct NoteResponse {
    pub success: bool,
    pub note: Note,
}

/// Creates a note owned by the caller.
#[utoipa::path(post, path = "/api/workbook/notes", tag = "notes", operation_id = "createNote",
    request_body = CreateNote, security(("bearer" = [])),
    responses(
        (status = 201, body = NoteResponse),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(req): ApiJson<CreateNote>,
) -> ApiResult<(StatusCode, Json<NoteResponse>)> {
    let note = service::create(&state, caller.id, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(NoteResponse {
            success: true,
            note,
        }),
    ))
}

/// The note, if the caller owns it or it is shared with them, with its body as it is now
/// (live edits included) and the version that counts them.
#[utoipa::path(get, path = "/api/workbook/notes/{id}", tag = "notes", operation_id = "getNote",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = NoteResponse),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<NoteResponse>> {
    let note = service::visible_note(&state, id, caller.id).await?;
    Ok(Json(NoteResponse {
        success: true,
        note,
    }))
}

/// My notes and the notes shared with me, filtered, optionally searched.
#[utoipa::path(get, path = "/api/workbook/notes", tag = "notes", operation_id = "listNotes",
    params(ListQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = NoteList),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<NoteList>> {
    let page = Page::new(query.limit, query.offset)?;
    let mut v = Validator::new();
    let tags: Vec<String> = query
        .tags
        .as_deref()
        .map(|t| {
            t.split(',')
                .filter(|t| !t.trim().is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let tags = clean_tags(&tags, &mut v);
    let folder = clean_folder(query.folder.as_deref(), &mut v);
    let words = query.search.as_deref().map(search::words);
    if let Some(words) = &words {
        v.check(
            !words.is_empty(),
            "search",
            "must contain at least one word",
        );
    }
    v.finish()?;
    let filter = NoteFilter {
        tags,
        folder,
        module_id: query.module_id,
        shared: query.shared,
    };
    let (notes, total): (Vec<NoteItem>, i64) = match words {
        Some(words) => {
            let (hits, total) = search::notes(
                &state.db,
                caller.id,
                &words,
                &filter,
                page.limit,
                page.offset,
            )
            .await?;
            let items = hits
                .into_iter()
                .map(|hit| NoteItem {
                    note: hit.note,
                    snippet: Some(hit.snippet),
                    rank: Some(hit.rank),
                })
                .collect();
            (items, total)
        }
        None => {
            let (notes, total) =
                db::notes::list(&state.db, caller.id, &filter, page.limit, page.offset).await?;
            let items = notes
                .into_iter()
                .map(|note| NoteItem {
                    note,
                    snippet: None,
                    rank: None,
                })
                .collect();
            (items, total)
        }
    };
    let has_more = page.has_more(notes.len(), total);
    Ok(Json(NoteList {
        notes,
        total,
        has_more,
    }))
}

/// Updates a note if `version` is still current (409 otherwise). A new `content` is applied
/// to the note's live document as one edit, which live editors receive; if anyone typed
/// since `version` was read, the answer is 409 and nothing is written.
#[utoipa::path(put, path = "/api/workbook/notes/{id}", tag = "notes", operation_id = "updateNote",
    params(("id" = Uuid, Path)), request_body = UpdateNote, security(("bearer" = [])),
    responses(
        (status = 200, body = NoteResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateNote>,
) -> ApiResult<Json<NoteResponse>> {
    let note = service::update(&state, id, caller.id, req).await?;
    Ok(Json(NoteResponse {
        success: true,
        note,
    }))
}

/// The same change as `PUT`, under the method clients use for partial updates.
#[utoipa::path(patch, path = "/api/workbook/notes/{id}", tag = "notes", operation_id = "patchNote",
    params(("id" = Uuid, Path)), request_body = UpdateNote, security(("bearer" = [])),
    responses(
        (status = 200, body = NoteResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn patch(
    state: State<AppState>,
    caller: CurrentUser,
    id: ApiPath<Uuid>,
    req: ApiJson<UpdateNote>,
) -> ApiResult<Json<NoteResponse>> {
    update(state, caller, id, req).await
}

/// Deletes a note (owner only).
#[utoipa::path(delete, path = "/api/workbook/notes/{id}", tag = "notes", operation_id = "deleteNote",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    service::delete(&state, id, caller.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
