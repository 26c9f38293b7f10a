//! Accounts: confirming a password, setting a new one, disabling, erasing. The API (the
//! account itself, or an admin) and the command line go through the same functions, so a
//! password set anywhere ends the same logins and an account deleted anywhere takes the
//! same data with it.

use std::net::IpAddr;
use std::path::Path;

use uuid::Uuid;

use crate::auth::password;
use crate::auth::revocation::Revocations;
use crate::db::notes::NoteFilter;
use crate::db::users::User;
use crate::db::{self, Db};
use crate::error::{ApiError, ApiResult};
use crate::services::note_rooms;
use crate::state::AppState;

/// 401 unless `password` is the current password of the account `email`. Wrong guesses
/// count against the failed sign-in budgets of the account and of `address`, like sign-ins.
pub async fn confirm_password(
    state: &AppState,
    email: &str,
    address: Option<IpAddr>,
    password: String,
) -> ApiResult<()> {
    let attempt = state.sign_in_attempts.begin(email, address)?;
    let (_, hash) = db::users::find_by_email(&state.db, email)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
    if !password::verify(password, hash).await? {
        return Err(ApiError::unauthorized("wrong password"));
    }
    attempt.succeeded();
    Ok(())
}

/// Sets the password of `user` and revokes every login of the account but `keep` (a
/// password change keeps the caller's own); false when there is no such account.
pub async fn set_password(
    db: &Db,
    revocations: &Revocations,
    user: Uuid,
    new_password: String,
    keep: Option<Uuid>,
) -> ApiResult<bool> {
    let hash = password::hash(new_password).await?;
    if !db::users::set_password_hash(db, user, &hash).await? {
        return Ok(false);
    }
    revocations.revoke_user(db, user, keep).await?;
    Ok(true)
}

/// Disables an account, ending all its logins, or enables it again (its logins stay
/// ended: it signs in anew); `None` when there is no such account.
pub async fn set_disabled(
    db: &Db,
    revocations: &Revocations,
    user: Uuid,
    disabled: bool,
) -> ApiResult<Option<User>> {
    let updated = db::users::set_disabled(db, user, disabled).await?;
    if disabled && updated.is_some() {
        revocations.revoke_user(db, user, None).await?;
    }
    Ok(updated)
}

/// An account deleted from the database and the disk, whose live note connections are
/// still to be closed.
#[must_use = "close the deleted account's live note connections"]
pub struct Erased {
    user: Uuid,
    owned_notes: Vec<Uuid>,
    shared_with_me: Vec<Uuid>,
}

/// Deletes the account and everything that is its own: its rows (notes, shares, progress,
/// tokens, recordings, reset links: ON DELETE CASCADE) and its audio files. Notes others
/// shared with it stay theirs. `None` when there is no such account.
pub async fn erase(db: &Db, data_dir: &Path, user: Uuid) -> ApiResult<Option<Erased>> {
    let files = db::recordings::files_of(db, user).await?;
    let owned_notes = db::notes::owned_ids(db, user).await?;
    let shared = NoteFilter {
        shared: Some(true),
        ..NoteFilter::default()
    };
    let (shared_with_me, _) = db::notes::list(db, user, &shared, i64::MAX, 0).await?;
    if !db::users::delete(db, user).await? {
        return Ok(None);
    }
    for (id, format) in files {
        let path = crate::transcription::audio_path(data_dir, id, &format);
        crate::api::audio::remove_file(&path).await;
    }
    Ok(Some(Erased {
        user,
        owned_notes,
        shared_with_me: shared_with_me.into_iter().map(|note| note.id).collect(),
    }))
}

impl Erased {
    /// Closes the live note connections of this server: the account's notes are gone, and
    /// so are its shares of others' notes.
    pub async fn close_connections(self, rooms: &crate::state::NoteRooms) {
        for id in self.owned_notes {
            rooms.close_note(&note_rooms::note_key(id)).await;
        }
        let me = note_rooms::user_key(self.user);
        for id in self.shared_with_me {
            rooms.set_access(&note_rooms::note_key(id), &me, None).await;
        }
    }
}

/// Deletes the account on a running server: [`erase`], then its live connections.
pub async fn delete(state: &AppState, user: Uuid) -> ApiResult<bool> {
    let Some(erased) = erase(&state.db, &state.config.storage.data_dir, user).await? else {
        return Ok(false);
    };
    erased.close_connections(&state.rooms).await;
    Ok(true)
}
