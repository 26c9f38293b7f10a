//! Per-route rate limits (GCRA via `governor`), keyed by user, or by client address where
//! there is no user yet (register, login). A route group's limit is for its writes: reads
//! (`GET`, `HEAD`) count against the `api` limit whatever their group, so an editor listing
//! notes is not throttled at the notes write limit. Failed sign-ins have budgets of their
//! own (`auth::attempts`).
//!
//! The middleware's state is the limits themselves (with the token keys and the proxy
//! setting they need), not the server's `AppState`, so this module sits below `state.rs`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use crate::auth::credentials::access_claims;
use crate::auth::tokens::TokenKeys;
use crate::config::{RateLimit, RateLimitsConfig};
use crate::error::ApiError;

/// The route groups with their own limit.
#[derive(Debug, Clone, Copy)]
pub enum Bucket {
    Auth,
    Notes,
    Audio,
    Api,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(Uuid),
    Address(IpAddr),
}

pub struct RateLimits {
    auth: DefaultKeyedRateLimiter<Key>,
    notes: DefaultKeyedRateLimiter<Key>,
    audio: DefaultKeyedRateLimiter<Key>,
    api: DefaultKeyedRateLimiter<Key>,
    /// To key a signed-in caller's requests by user.
    keys: Arc<TokenKeys>,
    /// Trusted reverse proxies in front of the server (0: the socket peer is the client).
    proxy_hops: usize,
}

fn limiter(limit: RateLimit) -> DefaultKeyedRateLimiter<Key> {
    let max = NonZeroU32::new(limit.max).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs(limit.window_secs) / max.get();
    let quota = Quota::with_period(period.max(Duration::from_nanos(1)))
        .expect("period is non-zero")
        .allow_burst(max);
    RateLimiter::keyed(quota)
}

impl RateLimits {
    pub fn new(config: &RateLimitsConfig, keys: Arc<TokenKeys>, proxy_hops: usize) -> Self {
        Self {
            auth: limiter(config.auth),
            notes: limiter(config.notes),
            audio: limiter(config.audio),
            api: limiter(config.api),
            keys,
            proxy_hops,
        }
    }

    fn check(&self, bucket: Bucket, key: &Key) -> Result<(), ApiError> {
        let limiter = match bucket {
            Bucket::Auth => &self.auth,
            Bucket::Notes => &self.notes,
            Bucket::Audio => &self.audio,
            Bucket::Api => &self.api,
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::rate_limited(wait.as_secs_f64().ceil() as u64)
        })
    }

    /// Forgets keys whose limit has fully recovered, so the maps stay bounded.
    pub fn forget_idle(&self) {
        for limiter in [&self.auth, &self.notes, &self.audio, &self.api] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// The client's address: the socket peer, or, behind `proxy_hops` trusted reverse proxies,
/// the address the outermost of them saw, which is the `proxy_hops`-th `X-Forwarded-For`
/// entry from the right. Each proxy appends the address it received the request from, so
/// entries further left were written by the client and prove nothing (keying on them gave
/// unlimited password guesses). With fewer entries than hops the request did not come
/// through every proxy, and the peer is used.
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    proxy_hops: usize,
) -> Option<IpAddr> {
    let Some(nth_from_right) = proxy_hops.checked_sub(1) else {
        return peer;
    };
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .rev()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.rsplit(','))
        .nth(nth_from_right)
        .and_then(|entry| parse_address(entry.trim()))
        .or(peer)
}

/// The client address of a request as the limits key it (see [`client_address`]).
pub fn request_address(parts: &Parts, proxy_hops: usize) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    client_address(&parts.headers, peer, proxy_hops)
}

/// An `X-Forwarded-For` entry: an address, or an address with a port as some proxies write.
fn parse_address(entry: &str) -> Option<IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// Middleware: admits the request or answers 429 with `Retry-After`.
pub async fn enforce(
    State((limits, bucket)): State<(Arc<RateLimits>, Bucket)>,
    req: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let bucket = if matches!(parts.method, Method::GET | Method::HEAD) {
        Bucket::Api
    } else {
        bucket
    };
    // Verified here once; the handler's `CurrentUser` reads the result from the request.
    // Register and login are keyed by address whatever token they carry.
    let user = match bucket {
        Bucket::Auth => None,
        _ => access_claims(&mut parts, &limits.keys).map(|claims| claims.sub),
    };
    let key = match user {
        Some(id) => Some(Key::User(id)),
        None => request_address(&parts, limits.proxy_hops).map(Key::Address),
    };
    let req = Request::from_parts(parts, body);
    let Some(key) = key else {
        return next.run(req).await;
    };
    match limits.check(bucket, &key) {
        Ok(()) => next.run(req).await,
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(X_FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn the_entry_a_trusted_proxy_wrote_is_the_client() {
        let peer = ip("10.0.0.1");
        // The client wrote "6.6.6.6"; our one proxy appended the address it saw.
        let one_proxy = forwarded(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(client_address(&one_proxy, peer, 1), ip("203.0.113.7"));
        assert_eq!(client_address(&one_proxy, peer, 2), ip("6.6.6.6"));
        // Not trusted: the socket peer, whatever the header says.
        assert_eq!(client_address(&one_proxy, peer, 0), peer);
        // Two proxies, each appending; a header split over lines counts as one list.
        let two_proxies = forwarded(&["1.1.1.1, 203.0.113.7", "10.0.0.9"]);
        assert_eq!(client_address(&two_proxies, peer, 2), ip("203.0.113.7"));
        assert_eq!(
            client_address(&forwarded(&["[2001:db8::1]:4711"]), peer, 1),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn too_few_or_unreadable_entries_fall_back_to_the_peer() {
        let peer = ip("10.0.0.1");
        assert_eq!(client_address(&HeaderMap::new(), peer, 1), peer);
        assert_eq!(client_address(&forwarded(&["203.0.113.7"]), peer, 2), peer);
        assert_eq!(client_address(&forwarded(&["unknown"]), peer, 1), peer);
    }
}
