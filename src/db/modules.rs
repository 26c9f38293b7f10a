//! Workshop modules as one learner sees them: every read carries that learner's progress
//! and whether the module is locked for them (a prerequisite they have not completed).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::progress::{Progress, ProgressStatus};
use super::{BeginWrite, Db};
use crate::on_pool;

/// More modules than a workshop could teach; bounds reorder requests and the prerequisite
/// graph that writes walk.
pub const MAX_MODULES: i64 = 1000;

/// Stored as its serde spelling; an unknown stored value is a decoding error, not a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Difficulty {
    Beginner,
    Intermediate,
    Advanced,
}

impl Difficulty {
    /// A difficulty as a request spells it.
    pub fn parse(s: &str) -> Option<Difficulty> {
        match s {
            "beginner" => Some(Difficulty::Beginner),
            "intermediate" => Some(Difficulty::Intermediate),
            "advanced" => Some(Difficulty::Advanced),
            _ => None,
        }
    }
}

/// What a module teaches, stored as one JSON document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModuleContent {
    /// At most 50, each 1 to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub objectives: Vec<String>,
    /// At most 50, each 1 to 2,000 characters.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub materials: Vec<String>,
    /// At most 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub exercises: Vec<Exercise>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Exercise {
    /// 1 to 255 characters, one line.
    #[schema(min_length = 1, max_length = 255)]
    pub title: String,
    /// At most 2,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

/// A module with the viewer's lock state and progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Module {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// Position in the workshop; lists are sorted by it.
    pub order: i64,
    /// Expected duration in minutes.
    pub duration: i64,
    pub difficulty: Difficulty,
    pub content: ModuleContent,
    /// Modules to complete before this one, in workshop order.
    pub prerequisites: Vec<Uuid>,
    /// The live session this module is taught in, if any.
    pub linked_session_id: Option<Uuid>,
    /// True while any prerequisite is not `completed` by the viewer.
    pub is_locked: bool,
    /// The viewer's progress; `null` before their first report.
    pub progress: Option<Progress>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct ModuleRow {
    id: Uuid,
    title: String,
    description: String,
    order_index: i64,
    duration_minutes: i64,
    difficulty: Difficulty,
    content: Json<ModuleContent>,
    linked_session_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    progress_status: Option<ProgressStatus>,
    progress_percent: Option<i64>,
    time_spent_minutes: Option<i64>,
    last_accessed_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
}

/// One prerequisite edge of a listed module, with whether the viewer completed it.
#[derive(FromRow)]
struct PrerequisiteRow {
    module_id: Uuid,
    prerequisite_id: Uuid,
    completed: bool,
}

impl ModuleRow {
    fn into_module(self, prerequisites: &[PrerequisiteRow]) -> Module {
        let mine: Vec<&PrerequisiteRow> = prerequisites
            .iter()
            .filter(|p| p.module_id == self.id)
            .collect();
        let progress = match (self.progress_status, self.last_accessed_at) {
            (Some(status), Some(last_accessed_at)) => Some(Progress {
                module_id: self.id,
                status,
                progress_percent: self.progress_percent.unwrap_or(0),
                time_spent_minutes: self.time_spent_minutes.unwrap_or(0),
                last_accessed_at,
                completed_at: self.completed_at,
            }),
            _ => None,
        };
        Module {
            id: self.id,
            title: self.title,
            description: self.description,
            order: self.order_index,
            duration: self.duration_minutes,
            difficulty: self.difficulty,
            content: self.content.0,
            prerequisites: mine.iter().map(|p| p.prerequisite_id).collect(),
            linked_session_id: self.linked_session_id,
            is_locked: mine.iter().any(|p| !p.completed),
            progress,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A module's columns joined with the viewer's (`$1`) progress row `p`.
macro_rules! select_modules {
    () => {
        "SELECT m.id, m.title, m.description, m.order_index, m.duration_minutes, m.difficulty,
                m.content, m.linked_session_id, m.created_at, m.updated_at,
                p.status AS progress_status, p.progress_percent, p.time_spent_minutes,
                p.last_accessed_at, p.completed_at
         FROM modules m LEFT JOIN progress p ON p.module_id = m.id AND p.user_id = $1 "
    };
}

/// Prerequisite edges of the modules selected by the `IN (...)` that follows, each with
/// whether the viewer (`$1`) completed the prerequisite; in workshop order.
macro_rules! select_prerequisites {
    () => {
        "SELECT mp.module_id, mp.prerequisite_id,
                (pp.status IS NOT NULL AND pp.status = 'completed') AS completed
         FROM module_prerequisites mp
         JOIN modules pm ON pm.id = mp.prerequisite_id
         LEFT JOIN progress pp ON pp.module_id = mp.prerequisite_id AND pp.user_id = $1
         WHERE mp.module_id IN "
    };
}

macro_rules! prerequisite_order {
    () => {
        " ORDER BY pm.order_index, pm.created_at, pm.id"
    };
}

/// The list filter: `$2` a lowercase `LIKE` pattern over `search_text`, `$3` a difficulty.
macro_rules! list_filter {
    () => {
        " WHERE ($2 IS NULL OR m.search_text LIKE $2 ESCAPE '!')
            AND ($3 IS NULL OR m.difficulty = $3) "
    };
}

macro_rules! module_order {
    () => {
        " ORDER BY m.order_index, m.created_at, m.id "
    };
}

/// Narrows a module listing.
#[derive(Debug, Default)]
pub struct ModuleFilter {
    /// Case-insensitive substring of the title or description.
    pub search: Option<String>,
    pub difficulty: Option<Difficulty>,
}

impl ModuleFilter {
    /// `%needle%`, lowercased like `search_text`, with `LIKE` wildcards escaped by `!`.
    fn pattern(&self) -> Option<String> {
        self.search.as_ref().map(|s| {
            let mut pattern = String::from("%");
            for c in s.to_lowercase().chars() {
                if matches!(c, '%' | '_' | '!') {
                    pattern.push('!');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        })
    }
}

/// The text the substring filter matches: lowercase, so both backends fold case alike.
fn search_text(title: &str, description: &str) -> String {
    format!("{title}\n{description}").to_lowercase()
}

/// A page of modules in workshop order as `viewer` sees them, and the total matching.
pub async fn list(
    db: &Db,
    viewer: Uuid,
    filter: &ModuleFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Module>, i64), sqlx::Error> {
    let pattern = filter.pattern();
    let difficulty = filter.difficulty;
    let page_sql = concat!(
        select_modules!(),
        list_filter!(),
        module_order!(),
        "LIMIT $4 OFFSET $5"
    );
    let prerequisites_sql = concat!(
        select_prerequisites!(),
        "(SELECT m.id FROM modules m",
        list_filter!(),
        module_order!(),
        "LIMIT $4 OFFSET $5)",
        prerequisite_order!()
    );
    let count_sql = concat!(
        "SELECT COUNT(*) FROM modules m
         LEFT JOIN progress p ON p.module_id = m.id AND p.user_id = $1",
        list_filter!()
    );
    let (rows, prerequisites, total): (Vec<ModuleRow>, Vec<PrerequisiteRow>, i64) =
        on_pool!(db, |pool| {
            let rows = sqlx::query_as(page_sql)
                .bind(viewer)
                .bind(&pattern)
                .bind(difficulty)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let prerequisites = sqlx::query_as(prerequisites_sql)
                .bind(viewer)
                .bind(&pattern)
                .bind(difficulty)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total = sqlx::query_scalar(count_sql)
                .bind(viewer)
                .bind(&pattern)
                .bind(difficulty)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, prerequisites, total))
        })?;
    let modules = rows
        .into_iter()
        .map(|row| row.into_module(&prerequisites))
        .collect();
    Ok((modules, total))
}

/// One module as `viewer` sees it.
pub async fn find(db: &Db, viewer: Uuid, id: Uuid) -> Result<Option<Module>, sqlx::Error> {
    let module_sql = concat!(select_modules!(), "WHERE m.id = $2");
    let prerequisites_sql = concat!(select_prerequisites!(), "($2)", prerequisite_order!());
    let found: Option<(ModuleRow, Vec<PrerequisiteRow>)> = on_pool!(db, |pool| {
        let row: Option<ModuleRow> = sqlx::query_as(module_sql)
            .bind(viewer)
            .bind(id)
            .fetch_optional(pool)
            .await?;
        match row {
            None => Ok::<_, sqlx::Error>(None),
            Some(row) => {
                let prerequisites = sqlx::query_as(prerequisites_sql)
                    .bind(viewer)
                    .bind(id)
                    .fetch_all(pool)
                    .await?;
                Ok(Some((row, prerequisites)))
            }
        }
    })?;
    Ok(found.map(|(row, prerequisites)| row.into_module(&prerequisites)))
}

/// Ids of the modules taught in live session `session_id`, so the sessions service can
/// credit attendance with [`super::progress::credit_completion`].
pub async fn linked_to_session(db: &Db, session_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_scalar(concat!(
        "SELECT m.id FROM modules m WHERE m.linked_session_id = $1",
        module_order!()
    ))
    .bind(session_id)
    .fetch_all(pool)
    .await)
}

/// Every field of a module as an admin writes it.
#[derive(Debug, Clone)]
pub struct ModuleFields {
    pub title: String,
    pub description: String,
    /// `None` on create: after the last module.
    pub order: Option<i64>,
    pub duration: i64,
    pub difficulty: Difficulty,
    pub content: ModuleContent,
    pub prerequisites: Vec<Uuid>,
    pub linked_session_id: Option<Uuid>,
}

/// Why a module write was refused.
#[derive(Debug, thiserror::Error)]
pub enum ModuleWriteError {
    #[error("prerequisite {0} does not exist")]
    UnknownPrerequisite(Uuid),
    #[error("the prerequisites would form a cycle")]
    PrerequisiteCycle,
    #[error("there are already {MAX_MODULES} modules")]
    TooManyModules,
    #[error("module not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// PostgreSQL serializes prerequisite-graph writes with this transaction-scoped advisory
/// lock, so two concurrent edits cannot together close a cycle. SQLite needs none: each
/// write transaction below starts with a write, which holds the database's one write lock.
const GRAPH_LOCK_SQL: &str = "SELECT pg_advisory_xact_lock(7202611)";

fn graph_lock(db: &Db) -> Option<&'static str> {
    match db {
        Db::Sqlite(_) => None,
        Db::Postgres(_) => Some(GRAPH_LOCK_SQL),
    }
}

/// Creates a module; its prerequisites must exist.
pub async fn insert(db: &Db, fields: &ModuleFields) -> Result<Uuid, ModuleWriteError> {
    let id = Uuid::new_v4();
    let now = Utc::now();
    let search = search_text(&fields.title, &fields.description);
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO modules (id, title, description, search_text, order_index,
                                  duration_minutes, difficulty, content, linked_session_id,
                                  created_at, updated_at)
             VALUES ($1, $2, $3, $4,
                     COALESCE($5, (SELECT COALESCE(MAX(order_index), 0) + 1 FROM modules)),
                     $6, $7, $8, $9, $10, $10)",
        )
        .bind(id)
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(&search)
        .bind(fields.order)
        .bind(fields.duration)
        .bind(fields.difficulty)
        .bind(Json(&fields.content))
        .bind(fields.linked_session_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM modules")
            .fetch_one(&mut *tx)
            .await?;
        if count > MAX_MODULES {
            return Err(ModuleWriteError::TooManyModules);
        }
        for prerequisite in &fields.prerequisites {
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM modules WHERE id = $1")
                .bind(prerequisite)
                .fetch_one(&mut *tx)
                .await?;
            if exists == 0 {
                return Err(ModuleWriteError::UnknownPrerequisite(*prerequisite));
            }
            sqlx::query(
                "INSERT INTO module_prerequisites (module_id, prerequisite_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(prerequisite)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok::<_, ModuleWriteError>(())
    })?;
    Ok(id)
}

/// Replaces every field of module `id`; its new prerequisites must exist and must not lead
/// back to it.
pub async fn update(db: &Db, id: Uuid, fields: &ModuleFields) -> Result<(), ModuleWriteError> {
    let now = Utc::now();
    let search = search_text(&fields.title, &fields.description);
    let lock = graph_lock(db);
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE modules SET title = $2, description = $3, search_text = $4,
                    order_index = COALESCE($5, order_index), duration_minutes = $6,
                    difficulty = $7, content = $8, linked_session_id = $9, updated_at = $10
             WHERE id = $1",
        )
        .bind(id)
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(&search)
        .bind(fields.order)
        .bind(fields.duration)
        .bind(fields.difficulty)
        .bind(Json(&fields.content))
        .bind(fields.linked_session_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(ModuleWriteError::NotFound);
        }
        if let Some(lock) = lock {
            sqlx::query(lock).execute(&mut *tx).await?;
        }
        for prerequisite in &fields.prerequisites {
            let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM modules WHERE id = $1")
                .bind(prerequisite)
                .fetch_one(&mut *tx)
                .await?;
            if exists == 0 {
                return Err(ModuleWriteError::UnknownPrerequisite(*prerequisite));
            }
        }
        let edges: Vec<(Uuid, Uuid)> =
            sqlx::query_as("SELECT module_id, prerequisite_id FROM module_prerequisites")
                .fetch_all(&mut *tx)
                .await?;
        if creates_cycle(id, &fields.prerequisites, &edges) {
            return Err(ModuleWriteError::PrerequisiteCycle);
        }
        sqlx::query("DELETE FROM module_prerequisites WHERE module_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for prerequisite in &fields.prerequisites {
            sqlx::query(
                "INSERT INTO module_prerequisites (module_id, prerequisite_id) VALUES ($1, $2)",
            )
            .bind(id)
            .bind(prerequisite)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok::<_, ModuleWriteError>(())
    })
}

/// Whether making `module` require `prerequisites` closes a cycle: true when `module` is
/// reachable from one of them over the existing `(module, prerequisite)` edges.
fn creates_cycle(module: Uuid, prerequisites: &[Uuid], edges: &[(Uuid, Uuid)]) -> bool {
    let mut requires: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for &(from, to) in edges {
        requires.entry(from).or_default().push(to);
    }
    let mut seen: HashSet<Uuid> = HashSet::new();
    let mut stack: Vec<Uuid> = prerequisites.to_vec();
    while let Some(next) = stack.pop() {
        if next == module {
            return true;
        }
        if seen.insert(next) {
            stack.extend(requires.get(&next).into_iter().flatten().copied());
        }
    }
    false
}

/// Deletes a module. Its progress rows and its prerequisite edges go with it, so modules
/// that required it no longer do; notes linked to it keep existing, unlinked.
pub async fn delete(db: &Db, id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = on_pool!(db, |pool| sqlx::query("DELETE FROM modules WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(deleted > 0)
}

/// Why a reorder was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReorderError {
    #[error("ids must name every module exactly once")]
    NotAPermutation,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Gives the modules the positions 1, 2, 3, ... in the order of `ids`, which must name
/// every module exactly once.
pub async fn reorder(db: &Db, ids: &[Uuid]) -> Result<(), ReorderError> {
    let now = Utc::now();
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    if unique.len() != ids.len() {
        return Err(ReorderError::NotAPermutation);
    }
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        for (position, id) in (1_i64..).zip(ids) {
            let updated =
                sqlx::query("UPDATE modules SET order_index = $1, updated_at = $2 WHERE id = $3")
                    .bind(position)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if updated == 0 {
                return Err(ReorderError::NotAPermutation);
            }
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM modules")
            .fetch_one(&mut *tx)
            .await?;
        if count != ids.len() as i64 {
            return Err(ReorderError::NotAPermutation);
        }
        tx.commit().await?;
        Ok::<_, ReorderError>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_are_found_through_the_existing_graph() {
        let [a, b, c, d] = [(); 4].map(|_| Uuid::new_v4());
        // b requires a, c requires b.
        let edges = [(b, a), (c, b)];
        assert!(creates_cycle(a, &[c], &edges), "a -> c -> b -> a");
        assert!(creates_cycle(a, &[a], &edges), "self");
        assert!(!creates_cycle(d, &[c, a], &edges));
        assert!(!creates_cycle(c, &[a], &edges), "a second path is no cycle");
    }

    #[test]
    fn search_patterns_escape_like_wildcards() {
        let filter = ModuleFilter {
            search: Some("50%_Off!".into()),
            difficulty: None,
        };
        assert_eq!(filter.pattern().unwrap(), "%50!%!_off!!%");
    }
}
