//! Accounts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Db;
use crate::auth::roles::Role;
use crate::on_pool;

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub subscription_tier: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When an admin disabled the account; `null` while it may sign in.
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    password_hash: String,
    role: Role,
    subscription_tier: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
}

impl UserRow {
    fn into_user(self) -> (User, String) {
        let user = User {
            id: self.id,
            email: self.email,
            name: self.name,
            role: self.role,
            subscription_tier: self.subscription_tier,
            created_at: self.created_at,
            updated_at: self.updated_at,
            disabled_at: self.disabled_at,
        };
        (user, self.password_hash)
    }
}

/// The column list, as a macro so queries stay `&'static str` literals via `concat!`.
macro_rules! columns {
    () => {
        "id, email, name, password_hash, role, subscription_tier, created_at, updated_at, \
         disabled_at"
    };
}

/// The filter of a search: `$1` is empty (everyone) or a [`like_pattern`].
macro_rules! searched {
    () => {
        concat!(
            " WHERE ($1 = '' OR lower(email) LIKE lower($1) ESCAPE '\\'",
            " OR lower(name) LIKE lower($1) ESCAPE '\\')"
        )
    };
}

/// Inserts a user; a duplicate email fails with a unique violation.
pub async fn insert(
    db: &Db,
    email: &str,
    name: &str,
    password_hash: &str,
    role: Role,
) -> Result<User, sqlx::Error> {
    let now = Utc::now();
    let sql = concat!(
        "INSERT INTO users (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, 'free', $6, $6, NULL) RETURNING ",
        columns!()
    );
    let row: UserRow = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Uuid::new_v4())
        .bind(email)
        .bind(name)
        .bind(password_hash)
        .bind(role)
        .bind(now)
        .fetch_one(pool)
        .await)?;
    Ok(row.into_user().0)
}

/// The user with this (normalized) email and their password hash.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE email = $1");
    let row: Option<UserRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(email)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(UserRow::into_user))
}

pub async fn find_by_id(db: &Db, id: Uuid) -> Result<Option<User>, sqlx::Error> {
    let sql = concat!("SELECT ", columns!(), " FROM users WHERE id = $1");
    let row: Option<UserRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| r.into_user().0))
}

/// Deletes the account; everything that references it goes with it (ON DELETE CASCADE).
pub async fn delete(db: &Db, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = on_pool!(db, |pool| sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// A page of users, oldest first, and the total count; with `search`, only those whose
/// email or name contains it (case-insensitively, as the database lowers text; `%` and `_`
/// taken literally).
pub async fn list(
    db: &Db,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), sqlx::Error> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM users",
        searched!(),
        " ORDER BY created_at, id LIMIT $2 OFFSET $3"
    );
    let pattern = search.map_or_else(String::new, like_pattern);
    let rows: Vec<UserRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await)?;
    let count = concat!("SELECT COUNT(*) FROM users", searched!());
    let total: i64 = on_pool!(db, |pool| sqlx::query_scalar(count)
        .bind(&pattern)
        .fetch_one(pool)
        .await)?;
    Ok((rows.into_iter().map(|r| r.into_user().0).collect(), total))
}

/// `%text%` for `LIKE ... ESCAPE '\'`, its own wildcards escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Changes a user's role; `None` when there is no such user.
pub async fn set_role(db: &Db, id: Uuid, role: Role) -> Result<Option<User>, sqlx::Error> {
    let sql = concat!(
        "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3 RETURNING ",
        columns!()
    );
    let row: Option<UserRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(role)
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| r.into_user().0))
}

/// Changes a user's name and/or email (`None` leaves it); `None` when there is no such
/// user. A taken email fails with a unique violation.
pub async fn update_profile(
    db: &Db,
    id: Uuid,
    name: Option<&str>,
    email: Option<&str>,
) -> Result<Option<User>, sqlx::Error> {
    let sql = concat!(
        "UPDATE users SET name = COALESCE($1, name), email = COALESCE($2, email), ",
        "updated_at = $3 WHERE id = $4 RETURNING ",
        columns!()
    );
    let row: Option<UserRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(name)
        .bind(email)
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| r.into_user().0))
}

/// Replaces a user's password hash; false when there is no such user.
pub async fn set_password_hash(db: &Db, id: Uuid, hash: &str) -> Result<bool, sqlx::Error> {
    let done = on_pool!(db, |pool| sqlx::query(
        "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3"
    )
    .bind(hash)
    .bind(Utc::now())
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Disables an account (keeping the time it was first disabled) or enables it again;
/// `None` when there is no such user.
pub async fn set_disabled(db: &Db, id: Uuid, disabled: bool) -> Result<Option<User>, sqlx::Error> {
    let sql = if disabled {
        concat!(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, $1), updated_at = $1 ",
            "WHERE id = $2 RETURNING ",
            columns!()
        )
    } else {
        concat!(
            "UPDATE users SET disabled_at = NULL, updated_at = $1 WHERE id = $2 RETURNING ",
            columns!()
        )
    };
    let row: Option<UserRow> = on_pool!(db, |pool| sqlx::query_as(sql)
        .bind(Utc::now())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| r.into_user().0))
}
