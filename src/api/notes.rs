//! `/api/workbook/notes`: create, read, list (with full-text search), update, delete.
//!
//! Every route is scoped to the caller: a note that is neither theirs nor shared with them
//! answers 404, exactly like a missing one. Read-shares may read; write-shares may also
//! change title, body and tags; only the owner changes folder, module link, privacy, shares,
//! or deletes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::note_rooms;
use crate::auth::extract::CurrentUser;
use crate::db::notes::{NewNote, Note, NoteChanges, NoteFilter};
use crate::db::{self, search};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::Page;
use crate::state::AppState;

pub const MAX_TITLE: usize = 255;
/// The body cap, in characters (the guide's 10,000 is too small for shared documents).
pub const MAX_CONTENT: usize = 100_000;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG: usize = 50;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateNote {
    /// 1 to 255 characters.
    pub title: String,
    /// Markdown, at most 100,000 characters.
    #[serde(default)]
    pub content: String,
    /// At most 10 tags of 1 to 50 characters, no commas; stored lowercase.
    #[serde(default)]
    pub tags: Vec<String>,
    pub folder: Option<String>,
    pub module_id: Option<Uuid>,
    /// Private notes cannot be shared. Default true.
    #[serde(default = "default_private")]
    pub is_private: bool,
}

fn default_private() -> bool {
    true
}

/// A change to a note. `version` is the version the change is based on; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateNote {
    pub version: i64,
    pub title: Option<String>,
    pub content: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `null` removes the note from its folder.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable)]
    pub folder: Option<Option<String>>,
    /// `null` unlinks the module.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub module_id: Option<Option<Uuid>>,
    /// Making a note private revokes all its shares.
    pub is_private: Option<bool>,
}

/// Distinguishes a field sent as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

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

/// Normalizes and checks tags: trimmed, lowercase, unique, no commas or control characters.
fn clean_tags(tags: &[String], v: &mut Validator) -> Vec<String> {
    let mut clean: Vec<String> = tags.iter().map(|t| t.trim().to_lowercase()).collect();
    clean.sort();
    clean.dedup();
    v.check(clean.len() <= MAX_TAGS, "tags", "at most 10 tags");
    let ok = clean.iter().all(|t| {
        (1..=MAX_TAG).contains(&t.chars().count())
            && !t.contains(',')
            && !t.chars().any(char::is_control)
    });
    v.check(
        ok,
        "tags",
        "each tag must be 1 to 50 characters without commas",
    );
    clean
}

/// An empty folder means none.
fn clean_folder(folder: Option<&str>, v: &mut Validator) -> Option<String> {
    let folder = folder.map(str::trim).filter(|f| !f.is_empty())?;
    v.line(folder, "folder", 1, 255);
    Some(folder.to_owned())
}

/// 422 for a module link that points nowhere.
fn module_link_error(err: sqlx::Error) -> ApiError {
    let fk = err
        .as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation());
    if fk {
        ApiError::invalid_field("moduleId", "no such module")
    } else {
        err.into()
    }
}

/// Creates a note owned by the caller.
#[utoipa::path(post, path = "/api/workbook/notes", tag = "notes",
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
    let mut v = Validator::new();
    v.line(&req.title, "title", 1, MAX_TITLE)
        .length(&req.content, "content", 0, MAX_CONTENT);
    let tags = clean_tags(&req.tags, &mut v);
    let folder = clean_folder(req.folder.as_deref(), &mut v);
    v.finish()?;
    let new = NewNote {
        title: &req.title,
        content: &req.content,
        tags: &tags,
        folder: folder.as_deref(),
        module_id: req.module_id,
        is_private: req.is_private,
    };
    let note = db::notes::insert(&state.db, caller.id, new)
        .await
        .map_err(module_link_error)?;
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
#[utoipa::path(get, path = "/api/workbook/notes/{id}", tag = "notes",
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
    let note = visible_note(&state, id, &caller).await?;
    Ok(Json(NoteResponse {
        success: true,
        note,
    }))
}

/// The note `id` as `caller` sees it, or 404, with the body as it is now. A live room
/// saves its text about once a second, and each save is a new version; it saves now
/// instead, so the text and the version answered belong together: a `PUT` based on them
/// meets 409 if anyone typed since, rather than its replacement erasing what they typed.
pub async fn visible_note(state: &AppState, id: Uuid, caller: &CurrentUser) -> ApiResult<Note> {
    // Saving first and reading the row once gives a text at least as new as the room's at
    // the save, and the version stored with it. A failed save matters only to a caller who
    // may see the note.
    let saved = state
        .rooms
        .save_loaded_text(&note_rooms::note_key(id))
        .await;
    let note = stored_note(state, id, caller).await?;
    saved.map_err(note_rooms::room_error)?;
    Ok(note)
}

/// The stored note `id` as `caller` sees it, or 404: enough to decide access.
async fn stored_note(state: &AppState, id: Uuid, caller: &CurrentUser) -> ApiResult<Note> {
    db::notes::find(&state.db, id, caller.id)
        .await?
        .ok_or_else(|| ApiError::not_found("note"))
}

/// My notes and the notes shared with me, filtered, optionally searched.
#[utoipa::path(get, path = "/api/workbook/notes", tag = "notes",
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
#[utoipa::path(put, path = "/api/workbook/notes/{id}", tag = "notes",
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
    let note = visible_note(&state, id, &caller).await?;
    if !note.permission.can_edit() {
        return Err(ApiError::forbidden(
            "this note is shared with you read-only",
        ));
    }
    let owner_only = req.folder.is_some() || req.module_id.is_some() || req.is_private.is_some();
    if owner_only && note.permission != db::notes::NoteAccess::Owner {
        return Err(ApiError::forbidden(
            "only the owner changes folder, module link or privacy",
        ));
    }
    let mut v = Validator::new();
    if let Some(title) = &req.title {
        v.line(title, "title", 1, MAX_TITLE);
    }
    if let Some(content) = &req.content {
        v.length(content, "content", 0, MAX_CONTENT);
    }
    let tags = req.tags.as_ref().map(|t| clean_tags(t, &mut v));
    let folder = req
        .folder
        .as_ref()
        .map(|f| clean_folder(f.as_deref(), &mut v));
    v.finish()?;
    let changes = NoteChanges {
        title: req.title,
        tags,
        folder,
        module_id: req.module_id,
        is_private: req.is_private,
    };
    // Shares a privacy change is about to revoke: their live connections close afterwards.
    let revoked = if req.is_private == Some(true) {
        db::shares::list(&state.db, id).await?
    } else {
        Vec::new()
    };
    let room = note_rooms::note_key(id);
    // A new body goes through the room, so live editors see it. Holding the room from here
    // to the replacement keeps a live edit from landing between the version check and the
    // replacement, which would erase it; `note.content` is the text of the version just read.
    let body = match req.content {
        Some(content) => {
            let hold = state.rooms.hold_text(&room, note.content).await;
            Some((hold.map_err(note_rooms::room_error)?, content))
        }
        None => None,
    };
    // Returning early drops the hold, which releases the room unchanged.
    let applied = db::notes::update(&state.db, id, req.version, &changes)
        .await
        .map_err(module_link_error)?;
    if !applied {
        return Err(ApiError::conflict(
            "version_conflict",
            format!(
                "the note changed since version {}; fetch it and apply your change again",
                req.version
            ),
        ));
    }
    // The store writes the body (and bumps the version once more) when it is stored.
    let replaced = match body {
        Some((hold, content)) => hold.replace(content).await,
        None => Ok(()),
    };
    // Once the hold is over (the room answers nothing else while held), and whether or not
    // the body could be replaced: the shares are gone from the database either way.
    for share in revoked {
        let user = note_rooms::user_key(share.user_id);
        state.rooms.set_access(&room, &user, None).await;
    }
    replaced.map_err(note_rooms::room_error)?;
    let note = visible_note(&state, id, &caller).await?;
    Ok(Json(NoteResponse {
        success: true,
        note,
    }))
}

/// Deletes a note (owner only).
#[utoipa::path(delete, path = "/api/workbook/notes/{id}", tag = "notes",
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
    owned_note(&state, id, &caller).await?;
    db::notes::delete(&state.db, id).await?;
    state.rooms.close_note(&note_rooms::note_key(id)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The note if the caller owns it: 404 when invisible, 403 when only shared.
pub async fn owned_note(state: &AppState, id: Uuid, caller: &CurrentUser) -> ApiResult<Note> {
    let note = stored_note(state, id, caller).await?;
    if note.permission != db::notes::NoteAccess::Owner {
        return Err(ApiError::forbidden("only the note's owner may do this"));
    }
    Ok(note)
}
