//! `/api/workbook/modules`: the workshop's modules. Everyone signed in reads them (each
//! with their own lock state and progress); admins create, change, delete and reorder.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::auth::roles::Permission;
use crate::db::modules::{
    Difficulty, MAX_MODULES, Module, ModuleContent, ModuleFields, ModuleFilter, ModuleWriteError,
    ReorderError,
};
use crate::db::{self};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery, present};
use crate::http::pagination::Page;
use crate::state::AppState;

const MAX_TITLE: usize = 255;
const MAX_DESCRIPTION: usize = 5000;
const MAX_ORDER: i64 = 1_000_000;
const MAX_DURATION: i64 = 10_000;
const MAX_ITEMS: usize = 50;
const MAX_ITEM: usize = 2000;
const MAX_PREREQUISITES: usize = 20;
const MAX_SEARCH: usize = 200;

/// A new module.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateModule {
    /// 1 to 255 characters, one line.
    #[schema(min_length = 1, max_length = 255)]
    pub title: String,
    /// At most 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// 0 to 1,000,000; default: after the last module.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub order: Option<i64>,
    /// Minutes, 0 to 10,000.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub duration: i64,
    #[schema(value_type = Difficulty)]
    pub difficulty: String,
    /// At most 50 objectives, 50 materials and 50 exercises; texts up to 2,000 characters,
    /// exercise titles up to 255.
    #[serde(default)]
    pub content: ModuleContent,
    /// At most 20 existing modules.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub prerequisites: Vec<Uuid>,
    /// A live session (not checked: sessions are not stored yet).
    pub linked_session_id: Option<Uuid>,
}

/// A change to a module: absent fields stay as they are; `content` and `prerequisites`
/// are replaced as a whole. Limits as on create; prerequisites must not lead back here.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateModule {
    #[schema(min_length = 1, max_length = 255)]
    pub title: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub order: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000)]
    pub duration: Option<i64>,
    #[schema(value_type = Option<Difficulty>)]
    pub difficulty: Option<String>,
    pub content: Option<ModuleContent>,
    #[schema(max_items = 20)]
    pub prerequisites: Option<Vec<Uuid>>,
    /// `null` unlinks the session.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub linked_session_id: Option<Option<Uuid>>,
}

/// The new workshop order: every module's id exactly once, first to last.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorderRequest {
    #[schema(max_items = 1000)]
    pub ids: Vec<Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ModuleListQuery {
    /// Case-insensitive substring of the title or description, up to 200 characters.
    pub search: Option<String>,
    #[param(value_type = Option<Difficulty>)]
    pub difficulty: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModuleList {
    pub modules: Vec<Module>,
    pub total: i64,
    pub has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ModuleResponse {
    pub success: bool,
    pub module: Module,
}

#[derive(Serialize, ToSchema)]
pub struct ModulePosition {
    pub id: Uuid,
    pub order: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReorderResponse {
    pub success: bool,
    /// Every module with its new position.
    pub modules: Vec<ModulePosition>,
}

/// Lists modules in workshop order, each with the caller's lock state and progress.
#[utoipa::path(get, path = "/api/workbook/modules", tag = "modules", operation_id = "listModules",
    params(ModuleListQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ModuleList),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<ModuleListQuery>,
) -> ApiResult<Json<ModuleList>> {
    let page = Page::new(query.limit, query.offset)?;
    let filter = list_filter(&query)?;
    let (modules, total) =
        db::modules::list(&state.db, caller.id, &filter, page.limit, page.offset).await?;
    let has_more = page.has_more(modules.len(), total);
    Ok(Json(ModuleList {
        modules,
        total,
        has_more,
    }))
}

/// An empty search means none.
fn list_filter(query: &ModuleListQuery) -> ApiResult<ModuleFilter> {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let difficulty = query.difficulty.as_deref().map(Difficulty::parse);
    let mut v = Validator::new();
    if let Some(search) = search {
        v.line(search, "search", 1, MAX_SEARCH);
    }
    v.check(
        difficulty.is_none_or(|d| d.is_some()),
        "difficulty",
        "must be beginner, intermediate or advanced",
    )
    .finish()?;
    Ok(ModuleFilter {
        search: search.map(str::to_owned),
        difficulty: difficulty.flatten(),
    })
}

/// One module with the caller's lock state and progress.
#[utoipa::path(get, path = "/api/workbook/modules/{id}", tag = "modules", operation_id = "getModule",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = ModuleResponse),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ModuleResponse>> {
    let module = find(&state, &caller, id).await?;
    Ok(Json(ModuleResponse {
        success: true,
        module,
    }))
}

async fn find(state: &AppState, caller: &CurrentUser, id: Uuid) -> ApiResult<Module> {
    db::modules::find(&state.db, caller.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("module"))
}

/// Creates a module (admins).
#[utoipa::path(post, path = "/api/workbook/modules", tag = "modules", operation_id = "createModule",
    request_body = CreateModule, security(("bearer" = [])),
    responses(
        (status = 201, body = ModuleResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "the module limit is reached", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(req): ApiJson<CreateModule>,
) -> ApiResult<(StatusCode, Json<ModuleResponse>)> {
    caller.require(Permission::AdminAccess)?;
    let difficulty = Difficulty::parse(&req.difficulty);
    let fields = ModuleFields {
        title: req.title.trim().to_owned(),
        description: req.description,
        order: req.order,
        duration: req.duration,
        difficulty: difficulty.unwrap_or(Difficulty::Beginner),
        content: req.content,
        prerequisites: dedup(req.prerequisites),
        linked_session_id: req.linked_session_id,
    };
    let mut v = Validator::new();
    v.check(
        difficulty.is_some(),
        "difficulty",
        "must be beginner, intermediate or advanced",
    );
    validate(&fields, &mut v);
    v.finish()?;
    let id = db::modules::insert(&state.db, &fields)
        .await
        .map_err(write_error)?;
    let module = find(&state, &caller, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(ModuleResponse {
            success: true,
            module,
        }),
    ))
}

/// Changes a module (admins).
#[utoipa::path(put, path = "/api/workbook/modules/{id}", tag = "modules", operation_id = "updateModule",
    params(("id" = Uuid, Path)), request_body = UpdateModule, security(("bearer" = [])),
    responses(
        (status = 200, body = ModuleResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<UpdateModule>,
) -> ApiResult<Json<ModuleResponse>> {
    caller.require(Permission::AdminAccess)?;
    let current = find(&state, &caller, id).await?;
    let difficulty = req.difficulty.as_deref().map(Difficulty::parse);
    let fields = ModuleFields {
        title: req.title.map_or(current.title, |t| t.trim().to_owned()),
        description: req.description.unwrap_or(current.description),
        order: Some(req.order.unwrap_or(current.order)),
        duration: req.duration.unwrap_or(current.duration),
        difficulty: difficulty.flatten().unwrap_or(current.difficulty),
        content: req.content.unwrap_or(current.content),
        prerequisites: dedup(req.prerequisites.unwrap_or(current.prerequisites)),
        linked_session_id: req.linked_session_id.unwrap_or(current.linked_session_id),
    };
    let mut v = Validator::new();
    v.check(
        difficulty.is_none_or(|d| d.is_some()),
        "difficulty",
        "must be beginner, intermediate or advanced",
    )
    .check(
        !fields.prerequisites.contains(&id),
        "prerequisites",
        "a module cannot require itself",
    );
    validate(&fields, &mut v);
    v.finish()?;
    db::modules::update(&state.db, id, &fields)
        .await
        .map_err(write_error)?;
    let module = find(&state, &caller, id).await?;
    Ok(Json(ModuleResponse {
        success: true,
        module,
    }))
}

/// Deletes a module (admins), with everyone's progress in it. Modules that required it no
/// longer do; notes linked to it are unlinked.
#[utoipa::path(delete, path = "/api/workbook/modules/{id}", tag = "modules", operation_id = "deleteModule",
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
    caller.require(Permission::AdminAccess)?;
    if db::modules::delete(&state.db, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("module"))
    }
}

/// Sets the workshop order (admins): `ids` lists every module once, first to last; they
/// get the positions 1, 2, 3, ...
#[utoipa::path(post, path = "/api/workbook/modules/reorder", tag = "modules", operation_id = "reorderModules",
    request_body = ReorderRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = ReorderResponse),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "ids is not every module exactly once", body = ErrorBody),
    ))]
pub async fn reorder(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiJson(req): ApiJson<ReorderRequest>,
) -> ApiResult<Json<ReorderResponse>> {
    caller.require(Permission::AdminAccess)?;
    Validator::new()
        .check(
            req.ids.len() <= MAX_MODULES as usize,
            "ids",
            "at most 1000 modules",
        )
        .finish()?;
    db::modules::reorder(&state.db, &req.ids)
        .await
        .map_err(|err| match err {
            ReorderError::NotAPermutation => {
                ApiError::invalid_field("ids", "must list every module exactly once")
            }
            ReorderError::Db(err) => err.into(),
        })?;
    let modules = (1..)
        .zip(req.ids)
        .map(|(order, id)| ModulePosition { id, order })
        .collect();
    Ok(Json(ReorderResponse {
        success: true,
        modules,
    }))
}

/// Removes repeated ids, keeping the first of each.
fn dedup(ids: Vec<Uuid>) -> Vec<Uuid> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Checks every field against the limits, naming each offending field.
fn validate(fields: &ModuleFields, v: &mut Validator) {
    v.line(&fields.title, "title", 1, MAX_TITLE)
        .length(&fields.description, "description", 0, MAX_DESCRIPTION)
        .check(
            fields.order.is_none_or(|o| (0..=MAX_ORDER).contains(&o)),
            "order",
            "must be 0 to 1000000",
        )
        .check(
            (0..=MAX_DURATION).contains(&fields.duration),
            "duration",
            "must be 0 to 10000 minutes",
        )
        .check(
            fields.prerequisites.len() <= MAX_PREREQUISITES,
            "prerequisites",
            "at most 20 prerequisites",
        );
    validate_content(&fields.content, v);
}

fn validate_content(content: &ModuleContent, v: &mut Validator) {
    for (name, items) in [
        ("content.objectives", &content.objectives),
        ("content.materials", &content.materials),
    ] {
        v.check(items.len() <= MAX_ITEMS, name, "at most 50 items");
        for (i, item) in items.iter().enumerate().take(MAX_ITEMS) {
            v.length(item, &format!("{name}[{i}]"), 1, MAX_ITEM);
        }
    }
    let exercises = &content.exercises;
    v.check(
        exercises.len() <= MAX_ITEMS,
        "content.exercises",
        "at most 50 items",
    );
    for (i, exercise) in exercises.iter().enumerate().take(MAX_ITEMS) {
        let field = format!("content.exercises[{i}]");
        v.line(&exercise.title, &format!("{field}.title"), 1, MAX_TITLE);
        if let Some(description) = &exercise.description {
            v.length(description, &format!("{field}.description"), 0, MAX_ITEM);
        }
    }
}

fn write_error(err: ModuleWriteError) -> ApiError {
    match err {
        ModuleWriteError::UnknownPrerequisite(id) => {
            ApiError::invalid_field("prerequisites", format!("no module {id}"))
        }
        ModuleWriteError::PrerequisiteCycle => {
            ApiError::invalid_field("prerequisites", "these prerequisites would form a cycle")
        }
        ModuleWriteError::TooManyModules => ApiError::conflict(
            "module_limit",
            format!("a workshop holds at most {MAX_MODULES} modules"),
        ),
        ModuleWriteError::NotFound => ApiError::not_found("module"),
        ModuleWriteError::Db(err) => err.into(),
    }
}
