//! Per-route rate limits (GCRA via `governor`), keyed by user, or by client address where
//! there is no user yet (register, login).
//!
//! The middleware's state is the limits themselves (with the token keys and the proxy
//! setting they need), not the server's `AppState`, so this module sits below `state.rs`.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
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
    trust_forwarded_for: bool,
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
    pub fn new(config: &RateLimitsConfig, keys: Arc<TokenKeys>, trust_forwarded_for: bool) -> Self {
        Self {
            auth: limiter(config.auth),
            notes: limiter(config.notes),
            audio: limiter(config.audio),
            api: limiter(config.api),
            keys,
            trust_forwarded_for,
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

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when the
/// server is configured to trust its proxy.
pub fn client_address(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// Middleware: admits the request or answers 429 with `Retry-After`.
pub async fn enforce(
    State((limits, bucket)): State<(Arc<RateLimits>, Bucket)>,
    req: Request,
    next: Next,
) -> Response {
    // Verified here once; the handler's `CurrentUser` reads the result from the request.
    let (mut parts, body) = req.into_parts();
    let user = access_claims(&mut parts, &limits.keys);
    let req = Request::from_parts(parts, body);
    let key = match (bucket, user) {
        (Bucket::Auth, _) | (_, None) => match client_address(&req, limits.trust_forwarded_for) {
            Some(ip) => Key::Address(ip),
            None => return next.run(req).await,
        },
        (_, Some(claims)) => Key::User(claims.sub),
    };
    match limits.check(bucket, &key) {
        Ok(()) => next.run(req).await,
        Err(err) => err.into_response(),
    }
}
