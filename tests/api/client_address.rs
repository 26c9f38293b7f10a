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

async fn rotating_the_client_written_entries_gives_no_extra_password_guesses(backend: Backend) {
    let Some(app) = behind_proxies(backend, 1).await else {
        return;
    };
    // Our proxy appends 203.0.113.7, the address it saw; the client rotates what it writes
    // before that, which used to be the rate limit's key.
    for i in 0..3 {
        let forged = format!("10.0.{i}.1, 203.0.113.7");
        assert_eq!(guess(&app, &forged).await, StatusCode::UNAUTHORIZED, "{forged}");
    }
    assert_eq!(
        guess(&app, "10.9.9.9, 203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(guess(&app, "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy keeps its own budget.
    assert_eq!(guess(&app, "203.0.113.8").await, StatusCode::UNAUTHORIZED);
    drop(app);

    // Two proxies: the second from the right is what the outer proxy saw.
    let Some(app) = behind_proxies(backend, 2).await else {
        return;
    };
    for i in 0..3 {
        let forged = format!("10.0.{i}.1, 198.51.100.4, 10.1.1.1");
        assert_eq!(guess(&app, &forged).await, StatusCode::UNAUTHORIZED, "{forged}");
    }
    assert_eq!(
        guess(&app, "10.0.0.1, 198.51.100.4, 10.1.1.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
