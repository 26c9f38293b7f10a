//! `/api/workbook/progress`: learners report their progress through modules and read it
//! back; admins see how every module is going.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::extract::CurrentUser;
use crate::auth::roles::Permission;
use crate::db::progress::{LearnerProgress, ModuleStats, Progress, ProgressReport, ProgressStatus};
use crate::db::{self};
use crate::error::{ApiError, ApiResult, ErrorBody, Validator};
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::Page;
use crate::state::AppState;

/// The most minutes one report may add: a day.
const MAX_MINUTES_PER_REPORT: i64 = 1440;

/// A progress report for one module.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProgressRequest {
    /// 0 to 100; stored as 100 when `status` is `completed`.
    #[schema(minimum = 0, maximum = 100)]
    pub progress_percent: i64,
    /// Minutes spent since the previous report, 0 to 1440, added to the total. Default 0.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1440)]
    pub time_spent_minutes: i64,
    /// Default: from the percent — 0 is `not_started`, 100 is `completed`, anything
    /// between is `in_progress`.
    #[schema(value_type = Option<ProgressStatus>)]
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressResponse {
    pub success: bool,
    pub progress: Progress,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressList {
    /// One entry per module I reported progress in, in workshop order.
    pub progress: Vec<Progress>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressStats {
    /// Every module, in workshop order.
    pub modules: Vec<ModuleStats>,
}

#[derive(Serialize, ToSchema)]
pub struct LearnerList {
    /// Every account, most recently active first.
    pub learners: Vec<LearnerProgress>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LearnersQuery {
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletionsQuery {
    /// How many days back, today included: 1 to 365, default 30.
    pub days: Option<i64>,
}

/// Completions on one day (UTC).
#[derive(Serialize, ToSchema)]
pub struct DayCount {
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub completed: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CompletionHistory {
    /// One entry per day, oldest first, days without completions included.
    pub days: Vec<DayCount>,
}

/// Reports my progress in a module. The server sets `lastAccessedAt`, and `completedAt`
/// when the status becomes `completed` (cleared if it later moves back).
#[utoipa::path(post, path = "/api/workbook/progress/{moduleId}", tag = "progress", operation_id = "reportProgress",
    params(("moduleId" = Uuid, Path)), request_body = ProgressRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProgressResponse),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`module_locked`: a prerequisite is not completed",
            body = ErrorBody),
        (status = 422, body = ErrorBody),
    ))]
pub async fn report(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiPath(module_id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ProgressRequest>,
) -> ApiResult<Json<ProgressResponse>> {
    let report = validate(&req)?;
    let module = db::modules::find(&state.db, caller.id, module_id)
        .await?
        .ok_or_else(|| ApiError::not_found("module"))?;
    if module.is_locked {
        return Err(ApiError::conflict(
            "module_locked",
            "complete this module's prerequisites first",
        ));
    }
    let progress = db::progress::record(&state.db, caller.id, module_id, report)
        .await?
        .ok_or_else(|| ApiError::not_found("module"))?;
    Ok(Json(ProgressResponse {
        success: true,
        progress,
    }))
}

fn validate(req: &ProgressRequest) -> ApiResult<ProgressReport> {
    let status = match req.status.as_deref() {
        Some(status) => ProgressStatus::parse(status),
        None => Some(status_from_percent(req.progress_percent)),
    };
    Validator::new()
        .check(
            (0..=100).contains(&req.progress_percent),
            "progressPercent",
            "must be 0 to 100",
        )
        .check(
            (0..=MAX_MINUTES_PER_REPORT).contains(&req.time_spent_minutes),
            "timeSpentMinutes",
            "must be 0 to 1440",
        )
        .check(
            status.is_some(),
            "status",
            "must be not_started, in_progress or completed",
        )
        .finish()?;
    Ok(ProgressReport {
        status: status.unwrap_or(ProgressStatus::InProgress),
        progress_percent: req.progress_percent,
        time_spent_minutes: req.time_spent_minutes,
    })
}

fn status_from_percent(percent: i64) -> ProgressStatus {
    match percent {
        ..=0 => ProgressStatus::NotStarted,
        100.. => ProgressStatus::Completed,
        _ => ProgressStatus::InProgress,
    }
}

/// My progress in every module I reported on.
#[utoipa::path(get, path = "/api/workbook/progress", tag = "progress", operation_id = "listMyProgress",
    security(("bearer" = [])),
    responses((status = 200, body = ProgressList), (status = 401, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> ApiResult<Json<ProgressList>> {
    let progress = db::progress::list_for_user(&state.db, caller.id).await?;
    Ok(Json(ProgressList { progress }))
}

/// Per-module completion statistics over all learners (admins).
#[utoipa::path(get, path = "/api/workbook/progress/stats", tag = "progress", operation_id = "getProgressStats",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProgressStats),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn stats(
    State(state): State<AppState>,
    caller: CurrentUser,
) -> ApiResult<Json<ProgressStats>> {
    caller.require(Permission::AdminAccess)?;
    let modules = db::progress::stats(&state.db).await?;
    Ok(Json(ProgressStats { modules }))
}

/// Each learner's progress over all modules (admins).
#[utoipa::path(get, path = "/api/workbook/progress/learners", tag = "progress", operation_id = "listLearnerProgress",
    params(LearnersQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = LearnerList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn learners(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<LearnersQuery>,
) -> ApiResult<Json<LearnerList>> {
    caller.require(Permission::AdminAccess)?;
    let page = Page::new(query.limit, query.offset)?;
    let learners = db::progress::learners(&state.db, page.limit, page.offset).await?;
    Ok(Json(LearnerList { learners }))
}

/// Modules completed per day over the last `days` days (admins), for a chart.
#[utoipa::path(get, path = "/api/workbook/progress/completions", tag = "progress", operation_id = "getCompletionHistory",
    params(CompletionsQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = CompletionHistory),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
    ))]
pub async fn completions(
    State(state): State<AppState>,
    caller: CurrentUser,
    ApiQuery(query): ApiQuery<CompletionsQuery>,
) -> ApiResult<Json<CompletionHistory>> {
    caller.require(Permission::AdminAccess)?;
    let days = query.days.unwrap_or(30);
    Validator::new()
        .check((1..=365).contains(&days), "days", "must be 1 to 365")
        .finish()?;
    let today = Utc::now().date_naive();
    let first = today - Duration::days(days - 1);
    let since = first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let times = db::progress::completions_since(&state.db, since).await?;
    Ok(Json(CompletionHistory {
        days: per_day(first, today, times.iter().map(|at| at.date_naive())),
    }))
}

/// One count per day from `first` to `last`, zeros included.
fn per_day(
    first: NaiveDate,
    last: NaiveDate,
    dates: impl Iterator<Item = NaiveDate>,
) -> Vec<DayCount> {
    let mut counts: BTreeMap<NaiveDate, i64> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (d, 0))
        .collect();
    for date in dates {
        if let Some(count) = counts.get_mut(&date) {
            *count += 1;
        }
    }
    counts
        .into_iter()
        .map(|(date, completed)| DayCount { date, completed })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_are_counted_per_day_with_empty_days_kept() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        let counts = per_day(day(1), day(3), [day(1), day(3), day(3), day(9)].into_iter());
        let counts: Vec<_> = counts.iter().map(|c| (c.date, c.completed)).collect();
        assert_eq!(counts, [(day(1), 1), (day(2), 0), (day(3), 2)]);
    }

    #[test]
    fn a_missing_status_follows_the_percent() {
        assert_eq!(status_from_percent(0), ProgressStatus::NotStarted);
        assert_eq!(status_from_percent(1), ProgressStatus::InProgress);
        assert_eq!(status_from_percent(99), ProgressStatus::InProgress);
        assert_eq!(status_from_percent(100), ProgressStatus::Completed);
    }
}
