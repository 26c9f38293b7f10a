//! The client address behind reverse proxies: only the `X-Forwarded-For` entries that the
//! trusted proxies wrote count, so a client cannot buy fresh rate limits by writing its own.

use figment::providers::Serialized;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(rotating_the_client_written_entries_gives_no_extra_password_guesses);

/// A server behind `proxies` trusted proxies allowing three sign-in attempts per address.
async fn behind_proxies(backend: Backend, proxies: usize) -> Option<TestApp> {
    TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("server.trust_forwarded_for", true))
            .merge(Serialized::default("server.trusted_proxies", proxies))
            .merge(Serialized::default(
                "rate_limits.auth",
                json!({"max": 3, "window_secs": 900}),
            ))
    })
    .await
}

/// A wrong-password login arriving with this `X-Forwarded-For`.
async fn guess(app: &TestApp, forwarded_for: &str) -> StatusCode {
    app.client
        .post(app.url("/api/workbook/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"email": "victim@example.com", "password": "guess-1234"}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Three wrong guesses pass (401) whatever the client wrote before `trusted`, the entries
/// the proxies wrote; the fourth is refused (429).
async fn three_guesses_then_limited(app: &TestApp, trusted: &str) {
    for forged in ["10.0.0.1", "10.0.1.1", "10.0.2.1", "10.9.9.9"] {
        let header = format!("{forged}, {trusted}");
        let expected = if forged == "10.9.9.9" {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(guess(app, &header).await, expected, "{header}");
    }
}

async fn rotating_the_client_written_entries_gives_no_extra_password_guesses(backend: Backend) {
    let Some(app) = behind_proxies(backend, 1).await else {
        return;
    };
    // Our proxy appends 203.0.113.7, the address it saw; the client rotates what it writes
    // before that, which used to be the rate limit's key.
    three_guesses_then_limited(&app, "203.0.113.7").await;
    assert_eq!(
        guess(&app, "203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy keeps its own budget.
    assert_eq!(guess(&app, "203.0.113.8").await, StatusCode::UNAUTHORIZED);
    drop(app);

    // Two proxies: the second entry from the right is what the outer proxy saw.
    let Some(app) = behind_proxies(backend, 2).await else {
        return;
    };
    three_guesses_then_limited(&app, "198.51.100.4, 10.1.1.1").await;
}
