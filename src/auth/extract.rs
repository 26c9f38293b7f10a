//! The authenticated caller, taken from the request's access token, the permission guard
//! every protected handler uses, and the client's address for sign-in throttling.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use uuid::Uuid;

use super::credentials::{access_claims, bearer_or_cookie};
use super::roles::{Permission, Role};
use super::tokens::AccessClaims;
use crate::error::{ApiError, ApiResult};
use crate::http::rate_limit::request_address;
use crate::state::AppState;

/// The caller of a request: the account named by a verified access token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// The login the access token belongs to (its refresh-token family).
    pub login: Uuid,
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
        let claims = access_claims(parts, &state.keys).ok_or_else(|| {
            if bearer_or_cookie(&parts.headers).is_some() {
                ApiError::unauthorized("invalid or expired access token")
            } else {
                ApiError::unauthorized("missing access token")
            }
        })?;
        Self::from_claims(state, &claims).await
    }
}

impl CurrentUser {
    /// The caller a verified access token names, unless the account is gone (401) or
    /// disabled (401 `account_disabled`) or the login was revoked (401). Both are read on every
    /// request (the revocations through their cache), so logout, theft detection, a deleted
    /// or disabled account or a changed role take effect at once rather than when the token
    /// expires.
    pub async fn from_claims(state: &AppState, claims: &AccessClaims) -> ApiResult<Self> {
        let user = crate::db::users::find_by_id(&state.db, claims.sub)
            .await?
            .ok_or_else(|| ApiError::unauthorized("this account no longer exists"))?;
        // Before the login: disabling revokes every login too, and this says why.
        if user.disabled_at.is_some() {
            return Err(ApiError::account_disabled(StatusCode::UNAUTHORIZED));
        }
        if state.revocations.is_revoked(&state.db, claims.fam).await? {
            return Err(ApiError::unauthorized(
                "this login was signed out or revoked",
            ));
        }
        Ok(CurrentUser {
            id: user.id,
            email: user.email,
            role: user.role,
            login: claims.fam,
        })
    }
}

/// The client's address, as the rate limits key it (behind trusted proxies, the one the
/// outermost proxy saw); `None` when the connection has none (tests driving the router).
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(request_address(parts, state.config.proxy_hops())))
    }
}
