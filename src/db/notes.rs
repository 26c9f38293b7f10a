//! Notes with their tags, as seen by one user: every read is scoped to notes the user owns
//! or has been shared, and carries that user's permission.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{BeginWrite, Db};
use crate::on_pool;

/// What the caller may do with a note. Read from the database as `owner` or the share's
/// permission; an unknown value is a decoding error, not a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum NoteAccess {
    Owner,
    Write,
    Read,
}

impl NoteAccess {
    pub fn can_edit(self) -> bool {
        matches!(self, NoteAccess::Owner | NoteAccess::Write)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Note {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    /// The body as Markdown: the text of the note's live Yjs document.
    pub content: String,
    pub tags: Vec<String>,
    pub folder: Option<String>,
    pub module_id: Option<Uuid>,
    pub is_private: bool,
    /// Increments on every change; updates must name the version they were based on.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The caller's permission: `owner`, `write` or `read`.
    pub permission: NoteAccess,
}

#[derive(FromRow)]
pub(crate) struct NoteRow {
    id: Uuid,
    owner_id: Uuid,
    title: String,
    content: String,
    folder: Option<String>,
    module_id: Option<Uuid>,
    is_private: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    permission: NoteAccess,
    tags: Option<String>,
}

impl From<NoteRow> for Note {
    fn from(row: NoteRow) -> Note {
        let mut tags: Vec<String> = row
            .tags
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        tags.sort();
        Note {
            id: row.id,
            owner_id: row.owner_id,
            title: row.title,
            content: row.content,
            tags,
            folder: row.folder,
            module_id: row.module_id,
            is_private: row.is_private,
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
            permission: row.permission,
        }
    }
}

/// The columns of a note as `viewer` (`$1`) sees it, with `s` the viewer's share row.
/// Tags are aggregated with `,`, which tags may not contain.
macro_rules! note_columns {
    () => {
        "SELECT n.id, n.owner_id, n.title, n.content, n.folder, n.module_id, n.is_private,
                n.version, n.created_at, n.updated_at,
                CASE WHEN n.owner_id = $1 THEN 'owner' ELSE s.permission END AS permission,
                (SELECT string_agg(t.tag, ',') FROM note_tags t WHERE t.note_id = n.id) AS tags"
    };
}
pub(crate) use note_columns;

/// Joins the viewer's share row (`$1`) to notes `n`.
macro_rules! viewer_share {
    () => {
        " LEFT JOIN note_shares s ON s.note_id = n.id AND s.user_id = $1 "
    };
}
pub(crate) use viewer_share;

macro_rules! select_notes {
    () => {
        concat!(note_columns!(), " FROM notes n", viewer_share!())
    };
}

/// The fields of a new note.
pub struct NewNote<'a> {
    pub title: &'a str,
    pub content: &'a str,
    pub tags: &'a [String],
    pub folder: Option<&'a str>,
    pub module_id: Option<Uuid>,
    pub is_private: bool,
}

pub async fn insert(db: &Db, owner: Uuid, new: NewNote<'_>) -> Result<Note, sqlx::Error> {
    let id = Uuid::new_v4();
    let now = Utc::now();
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        sqlx::query(
            "INSERT INTO notes (id, owner_id, title, content, folder, module_id, is_private,
                                version, created_at, updated_at, content_seq)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8, $9)",
        )
        .bind(id)
        .bind(owner)
        .bind(new.title)
        .bind(new.content)
        .bind(new.folder)
        .bind(new.module_id)
        .bind(new.is_private)
        .bind(now)
        // The text reflects the seed update below, if there is one.
        .bind(i64::from(!new.content.is_empty()))
        .execute(&mut *tx)
        .await?;
        for tag in new.tags {
            sqlx::query(
                "INSERT INTO note_tags (note_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
        }
        if !new.content.is_empty() {
            // The body's document starts with this update, so the first room load has it.
            sqlx::query("INSERT INTO note_updates (note_id, seq, data) VALUES ($1, 1, $2)")
                .bind(id)
                .bind(crdt::seed_update(new.content))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(())
    })?;
    find(db, id, owner).await?.ok_or(sqlx::Error::RowNotFound)
}

/// The note if `viewer` owns it or it is shared with them; `None` otherwise, so a stranger
/// cannot tell a hidden note from a missing one.
pub async fn find(db: &Db, id: Uuid, viewer: Uuid) -> Result<Option<Note>, sqlx::Error> {
    let sql = concat!(
        select_notes!(),
        "WHERE n.id = $2 AND (n.owner_id = $1 OR s.user_id IS NOT NULL)"
    );
    let row: Option<NoteRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(viewer)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(Note::from))
}

/// Filters for listing notes; every filter narrows the result.
#[derive(Debug, Default)]
pub struct NoteFilter {
    /// Notes carrying all of these tags (lowercase, no commas).
    pub tags: Vec<String>,
    pub folder: Option<String>,
    pub module_id: Option<Uuid>,
    /// Only notes shared with the viewer (true) or only their own (false).
    pub shared: Option<bool>,
}

impl NoteFilter {
    /// `,a,b,`: the tag list as one parameter, matched with LIKE per stored tag.
    pub(crate) fn tag_list(&self) -> String {
        format!(",{},", self.tags.join(","))
    }

    pub(crate) fn shared_code(&self) -> i64 {
        match self.shared {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        }
    }
}

/// The WHERE clause of a note listing: `$1` viewer, `$2` folder, `$3` module, `$4` shared
/// (0 any, 1 shared with me, 2 mine), `$5` tag list `,a,b,`, `$6` number of tags. Optional
/// filters are NULL or zero, so one static statement serves every combination on both
/// backends. Tags are stored lowercase, so LIKE's case rules do not differ between them.
macro_rules! note_filters {
    () => {
        "WHERE (n.owner_id = $1 OR s.user_id IS NOT NULL)
           AND ($2 IS NULL OR n.folder = $2)
           AND ($3 IS NULL OR n.module_id = $3)
           AND ($4 = 0 OR ($4 = 1 AND n.owner_id <> $1) OR ($4 = 2 AND n.owner_id = $1))
           AND ($6 = 0 OR $6 = (SELECT COUNT(*) FROM note_tags ft WHERE ft.note_id = n.id
                AND $5 LIKE '%,' || replace(replace(replace(ft.tag, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || ',%' ESCAPE '\\'))"
    };
}

/// A page of the viewer's notes, most recently updated first, and the total count.
pub async fn list(
    db: &Db,
    viewer: Uuid,
    filter: &NoteFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Note>, i64), sqlx::Error> {
    let page_sql = concat!(
        select_notes!(),
        note_filters!(),
        " ORDER BY n.updated_at DESC, n.id LIMIT $7 OFFSET $8"
    );
    let count_sql = concat!(
        "SELECT COUNT(*) FROM notes n",
        viewer_share!(),
        note_filters!()
    );
    on_pool!(db, |pool| {
        let rows: Vec<NoteRow> = bind_note_filters!(sqlx::query_as(page_sql), viewer, filter)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = bind_note_filters!(sqlx::query_scalar(count_sql), viewer, filter)
            .fetch_one(pool)
            .await?;
        Ok((rows.into_iter().map(Note::from).collect(), total))
    })
}
pub(crate) use note_filters;

/// Binds `$1`–`$6` of [`note_filters!`]: viewer, folder, module, shared, tag list, tag count.
macro_rules! bind_note_filters {
    ($query:expr, $viewer:expr, $filter:expr) => {
        $query
            .bind($viewer)
            .bind($filter.folder.clone())
            .bind($filter.module_id)
            .bind($filter.shared_code())
            .bind($filter.tag_list())
            .bind($filter.tags.len() as i64)
    };
}
pub(crate) use bind_note_filters;

/// Changes to a note's fields; `None` leaves a field as it is. The body is not among them:
/// it changes only through the note's room, which writes `content` with each stored update.
#[derive(Debug, Default)]
pub struct NoteChanges {
    pub title: Option<String>,
    pub tags: Option<Vec<String>>,
    pub folder: Option<Option<String>>,
    pub module_id: Option<Option<Uuid>>,
    pub is_private: Option<bool>,
}

/// Applies `changes` if the note is still at `expected_version`; `Ok(false)` when another
/// change came first. Making a note private revokes its shares in the same transaction.
pub async fn update(
    db: &Db,
    id: Uuid,
    expected_version: i64,
    changes: &NoteChanges,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    on_pool!(db, |pool| {
        let mut tx = pool.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE notes SET
                title = coalesce($1, title),
                folder = CASE WHEN $2 THEN $3 ELSE folder END,
                module_id = CASE WHEN $4 THEN $5 ELSE module_id END,
                is_private = coalesce($6, is_private),
                version = version + 1,
                updated_at = $7
             WHERE id = $8 AND version = $9",
        )
        .bind(&changes.title)
        .bind(changes.folder.is_some())
        .bind(changes.folder.clone().flatten())
        .bind(changes.module_id.is_some())
        .bind(changes.module_id.flatten())
        .bind(changes.is_private)
        .bind(now)
        .bind(id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        if let Some(tags) = &changes.tags {
            sqlx::query("DELETE FROM note_tags WHERE note_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for tag in tags {
                sqlx::query(
                    "INSERT INTO note_tags (note_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(tag)
                .execute(&mut *tx)
                .await?;
            }
        }
        if changes.is_private == Some(true) {
            sqlx::query("DELETE FROM note_shares WHERE note_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

/// Deletes a note (its tags and shares go with it).
pub async fn delete(db: &Db, id: Uuid) -> Result<bool, sqlx::Error> {
    let deleted = on_pool!(db, |pool| sqlx::query("DELETE FROM notes WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(deleted > 0)
}

/// Every note `owner` owns, oldest first (exports).
pub async fn all_owned(db: &Db, owner: Uuid) -> Result<Vec<Note>, sqlx::Error> {
    let sql = concat!(
        select_notes!(),
        "WHERE n.owner_id = $1 ORDER BY n.created_at, n.id"
    );
    let rows: Vec<NoteRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(owner)
        .fetch_all(pool)
        .await)?;
    Ok(rows.into_iter().map(Note::from).collect())
}

/// What `viewer` may do with note `id`: `None` when there is no such note, `Some(None)`
/// when it exists but is neither theirs nor shared with them.
pub async fn access(
    db: &Db,
    id: Uuid,
    viewer: Uuid,
) -> Result<Option<Option<NoteAccess>>, sqlx::Error> {
    let sql = concat!(
        "SELECT CASE WHEN n.owner_id = $1 THEN 'owner' ELSE s.permission END FROM notes n",
        viewer_share!(),
        "WHERE n.id = $2"
    );
    on_pool!(db, |pool| sqlx::query_scalar(sql)
        .bind(viewer)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Ids of the notes `owner` owns (to close their rooms before the account goes).
pub async fn owned_ids(db: &Db, owner: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT id FROM notes WHERE owner_id = $1"
    )
    .bind(owner)
    .fetch_all(pool)
    .await)
}
