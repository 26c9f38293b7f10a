//! Notes as the REST API changes them: storage and the note's live room kept in step.
//!
//! Every function is scoped to a user: a note that is neither theirs nor shared with them is
//! 404, exactly like a missing one.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{module_link_error, note_rooms};
use crate::db;
use crate::db::notes::{NewNote, Note, NoteAccess, NoteChanges};
use crate::error::{ApiError, ApiResult, Validator};
use crate::http::extract::present;
use crate::state::AppState;

pub const MAX_TITLE: usize = 255;
/// The body cap, in characters (the guide's 10,000 is too small for shared documents).
pub const MAX_CONTENT: usize = 100_000;
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG: usize = 50;

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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

impl UpdateNote {
    /// Folder, module link and privacy are the owner's alone.
    fn owner_only(&self) -> bool {
        self.folder.is_some() || self.module_id.is_some() || self.is_private.is_some()
    }

    /// The checked and normalized changes, and the new body if there is one.
    fn validate(self) -> ApiResult<(NoteChanges, Option<String>)> {
        let mut v = Validator::new();
        if let Some(title) = &self.title {
            v.line(title, "title", 1, MAX_TITLE);
        }
        if let Some(content) = &self.content {
            v.length(content, "content", 0, MAX_CONTENT);
        }
        let tags = self.tags.as_ref().map(|t| clean_tags(t, &mut v));
        let folder = self
            .folder
            .as_ref()
            .map(|f| clean_folder(f.as_deref(), &mut v));
        v.finish()?;
        let changes = NoteChanges {
            title: self.title,
            tags,
            folder,
            module_id: self.module_id,
            is_private: self.is_private,
        };
        Ok((changes, self.content))
    }
}

/// Normalizes and checks tags: trimmed, lowercase, unique, no commas or control characters.
pub fn clean_tags(tags: &[String], v: &mut Validator) -> Vec<String> {
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
pub fn clean_folder(folder: Option<&str>, v: &mut Validator) -> Option<String> {
    let folder = folder.map(str::trim).filter(|f| !f.is_empty())?;
    v.line(folder, "folder", 1, 255);
    Some(folder.to_owned())
}

/// Checks `req` and stores it as a new note owned by `owner`.
pub async fn create(state: &AppState, owner: Uuid, req: CreateNote) -> ApiResult<Note> {
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
    db::notes::insert(&state.db, owner, new)
        .await
        .map_err(module_link_error)
}

/// The stored note `id` as `user` sees it, or 404: enough to decide access.
async fn stored_note(state: &AppState, id: Uuid, user: Uuid) -> ApiResult<Note> {
    db::notes::find(&state.db, id, user)
        .await?
        .ok_or_else(|| ApiError::not_found("note"))
}

/// The note `id` as `user` sees it, or 404, with the body as it is now. A live room
/// saves its text about once a second, and each save is a new version; it saves now
/// instead, so the text and the version answered belong together: a `PUT` based on them
/// meets 409 if anyone typed since, rather than its replacement erasing what they typed.
pub async fn visible_note(state: &AppState, id: Uuid, user: Uuid) -> ApiResult<Note> {
    // Saving first and reading the row once gives a text at least as new as the room's at
    // the save, and the version stored with it. A failed save matters only to a caller who
    // may see the note.
    let saved = state
        .rooms
        .save_loaded_text(&note_rooms::note_key(id))
        .await;
    let note = stored_note(state, id, user).await?;
    saved.map_err(note_rooms::room_error)?;
    Ok(note)
}

/// The note if `user` owns it: 404 when invisible, 403 when only shared.
pub async fn owned_note(state: &AppState, id: Uuid, user: Uuid) -> ApiResult<Note> {
    let note = stored_note(state, id, user).await?;
    if note.permission != NoteAccess::Owner {
        return Err(ApiError::forbidden("only the note's owner may do this"));
    }
    Ok(note)
}

/// Applies `req` if its version is still current (409 otherwise) and answers the note as
/// it is afterwards. A new body goes through the note's room as one edit, so live editors
/// see it; if anyone typed since the version was read, it is 409 and nothing is written.
/// Access is decided before the fields are checked: 404 and 403 come before 422.
pub async fn update(state: &AppState, id: Uuid, user: Uuid, req: UpdateNote) -> ApiResult<Note> {
    let note = visible_note(state, id, user).await?;
    if !note.permission.can_edit() {
        return Err(ApiError::forbidden(
            "this note is shared with you read-only",
        ));
    }
    if req.owner_only() && note.permission != NoteAccess::Owner {
        return Err(ApiError::forbidden(
            "only the owner changes folder, module link or privacy",
        ));
    }
    let version = req.version;
    let (changes, content) = req.validate()?;
    // Shares a privacy change is about to revoke: their live connections close afterwards.
    let revoked = if changes.is_private == Some(true) {
        db::shares::list(&state.db, id).await?
    } else {
        Vec::new()
    };
    let room = note_rooms::note_key(id);
    // Holding the room from here to the replacement keeps a live edit from landing between
    // the version check and the replacement, which would erase it; `note.content` is the
    // text of the version just read.
    let body = match content {
        Some(content) => {
            let hold = state.rooms.hold_text(&room, note.content).await;
            Some((hold.map_err(note_rooms::room_error)?, content))
        }
        None => None,
    };
    // Returning early drops the hold, which releases the room unchanged.
    let applied = db::notes::update(&state.db, id, version, &changes)
        .await
        .map_err(module_link_error)?;
    if !applied {
        return Err(ApiError::conflict(
            "version_conflict",
            format!(
                "the note changed since version {}; fetch it and apply your change again",
                version
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
    visible_note(state, id, user).await
}

/// Deletes a note (owner only) and closes its live room.
pub async fn delete(state: &AppState, id: Uuid, user: Uuid) -> ApiResult<()> {
    owned_note(state, id, user).await?;
    db::notes::delete(&state.db, id).await?;
    state.rooms.close_note(&note_rooms::note_key(id)).await;
    Ok(())
}
