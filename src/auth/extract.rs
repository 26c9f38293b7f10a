//! The authenticated caller, taken from `Authorization: Bearer` or the HTTP-only access
//! cookie, and the permission guard every protected handler uses.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use uuid::Uuid;

use super::roles::{Permission, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub const ACCESS_COOKIE: &str = "workbook_access";
pub const REFRESH_COOKIE: &str = "workbook_refresh";

/// The caller of a request: the account named by a verified access token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
}

impl CurrentUser {
    /// The guard: 403 unless the caller's role grants `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.role.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this requires the {} permission",
                permission.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer_or_cookie(&parts.headers)
            .ok_or_else(|| ApiError::unauthorized("missing access token"))?;
        let claims = state
            .keys
            .verify_access(token)
            .ok_or_else(|| ApiError::unauthorized("invalid or expired access token"))?;
        // The account is read on every request, so a deleted account or a changed role takes
        // effect at once rather than when the token expires.
        let user = crate::db::users::find_by_id(&state.db, claims.sub)
            .await?
            .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
        Ok(CurrentUser {
            id: user.id,
            email: user.email,
            role: user.role,
        })
    }
}

/// The access token of a request: the bearer token, else the access cookie.
pub fn bearer_or_cookie(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    bearer.or_else(|| cookie(headers, ACCESS_COOKIE))
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_token_wins_over_the_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; workbook_access=from-cookie".parse().unwrap());
        assert_eq!(bearer_or_cookie(&headers), Some("from-cookie"));
        headers.insert(AUTHORIZATION, "Bearer from-header".parse().unwrap());
        assert_eq!(bearer_or_cookie(&headers), Some("from-header"));
    }
}
