//! Where a request carries its credentials: the access token in `Authorization: Bearer` or
//! in the HTTP-only access cookie, and the refresh cookie. Below the shared state, so the
//! rate limiter and the caller extractor can both use it; the first of them to look verifies
//! the token and leaves the answer in the request for the other.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;

use super::tokens::{AccessClaims, TokenKeys};

pub const ACCESS_COOKIE: &str = "workbook_access";
pub const REFRESH_COOKIE: &str = "workbook_refresh";

/// The outcome of verifying a request's access token (`None`: missing or invalid), kept in
/// its extensions.
#[derive(Clone)]
struct Verified(Option<AccessClaims>);

/// The claims of the request's access token if it verifies. Only the first call per request
/// verifies the JWT (an HMAC and a JSON parse); later ones read what it left in `parts`.
pub fn access_claims(parts: &mut Parts, keys: &TokenKeys) -> Option<AccessClaims> {
    if let Some(Verified(claims)) = parts.extensions.get::<Verified>() {
        return claims.clone();
    }
    let claims = bearer_or_cookie(&parts.headers).and_then(|token| keys.verify_access(token));
    parts.extensions.insert(Verified(claims.clone()));
    claims
}

/// The access token of a request: the bearer token, else the access cookie.
pub fn bearer_or_cookie(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).or_else(|| cookie(headers, ACCESS_COOKIE))
}

/// The token of `Authorization: Bearer <token>`. The scheme is matched case-insensitively
/// (RFC 7235 §2.1: `bearer` and `BEARER` are the same scheme), and any run of spaces may
/// separate it from the token.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
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

    #[test]
    fn the_scheme_is_case_insensitive() {
        for value in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "bEaReR   abc",
            " Bearer abc ",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer_or_cookie(&headers), Some("abc"), "{value:?}");
        }
        for value in ["Basic abc", "Bearerabc", "Bearer", "Bearer  ", "Token abc"] {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer_or_cookie(&headers), None, "{value:?}");
        }
    }

    fn keys(secret: &[u8]) -> TokenKeys {
        TokenKeys::new(secret, "workbook", std::time::Duration::from_secs(60))
    }

    fn request_with(token: &str) -> Parts {
        let request = axum::http::Request::builder()
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body(())
            .unwrap();
        request.into_parts().0
    }

    #[test]
    fn a_request_verifies_its_token_once() {
        let signer = keys(b"0123456789abcdef0123456789abcdef");
        let id = uuid::Uuid::new_v4();
        let role = super::super::roles::Role::User;
        let token = signer.issue_access(id, "a@b.c", role, uuid::Uuid::new_v4());
        let mut parts = request_with(&token);
        assert_eq!(access_claims(&mut parts, &signer).map(|c| c.sub), Some(id));
        // Keys that would refuse the token: the answer comes from the first verification.
        let other = keys(b"another secret, another secret!!");
        assert_eq!(access_claims(&mut parts, &other).map(|c| c.sub), Some(id));
        // A fresh request with those keys is refused, and that too is remembered.
        let mut parts = request_with(&token);
        assert!(access_claims(&mut parts, &other).is_none());
        assert!(access_claims(&mut parts, &signer).is_none());
    }
}
