//! How long a login lasts: logout and theft detection end its access tokens at once, and a
//! double-fired refresh is one rotation, not theft. On both databases.

use figment::providers::Serialized;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::auth::refresh;
use crate::harness::{Backend, TestApp};
use crate::note_admission::{admission, owned_note};
use crate::on_both_backends;

on_both_backends!(
    logout_ends_the_logins_access_tokens_at_once,
    a_reused_refresh_token_ends_the_logins_access_tokens_after_the_grace,
    a_double_fired_refresh_gets_one_rotation,
    a_spent_token_replayed_after_its_successor_was_used_revokes_the_login,
);

/// A server whose spent refresh tokens get `secs` of grace.
pub async fn with_refresh_grace(backend: Backend, secs: u64) -> Option<TestApp> {
    TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("auth.refresh_grace_secs", secs))
    })
    .await
}

async fn login(app: &TestApp, email: &str) -> Value {
    let (status, body) = app
        .post(
            "/api/workbook/auth/login",
            None,
            json!({"email": email, "password": "password123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn me(app: &TestApp, session: &Value) -> StatusCode {
    app.get("/api/workbook/auth/me", session["token"].as_str())
        .await
        .0
}

fn refresh_token(session: &Value) -> &str {
    session["refreshToken"].as_str().unwrap()
}

async fn logout_ends_the_logins_access_tokens_at_once(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let first = app.register("kim@example.com", "password123").await;
    let (status, rotated) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let other_login = login(&app, "kim@example.com").await;
    let (note, _) = owned_note(&app, "owner@example.com").await;
    let kim = first["token"].as_str().unwrap();
    assert_eq!(me(&app, &first).await, StatusCode::OK);
    assert_eq!(admission(&app, &note, kim).await, Err(4404));

    let (status, _) = app
        .post(
            "/api/workbook/auth/logout",
            None,
            json!({"refreshToken": refresh_token(&rotated)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Both access tokens of that login stop working now, not in 15 minutes...
    assert_eq!(me(&app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &rotated).await, StatusCode::UNAUTHORIZED);
    assert_eq!(admission(&app, &note, kim).await, Err(4401));
    // ... on rate-limited routes and others alike, while the other login is untouched.
    let (status, _) = app.get("/api/workbook/notes", Some(kim)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &other_login).await, StatusCode::OK);
}

async fn a_reused_refresh_token_ends_the_logins_access_tokens_after_the_grace(backend: Backend) {
    let Some(app) = with_refresh_grace(backend, 1).await else {
        return;
    };
    let first = app.register("lee@example.com", "password123").await;
    let (status, rotated) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    // Past the grace, a spent token is theft: the whole login ends, access tokens too.
    let (status, body) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(me(&app, &rotated).await, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, refresh_token(&rotated)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_double_fired_refresh_gets_one_rotation(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let first = app.register("max@example.com", "password123").await;
    let token = refresh_token(&first);
    let ((status_a, a), (status_b, b)) = tokio::join!(refresh(&app, token), refresh(&app, token));
    assert_eq!(
        (status_a, status_b),
        (StatusCode::OK, StatusCode::OK),
        "{a} {b}"
    );
    assert_eq!(refresh_token(&a), refresh_token(&b));
    // A third copy arriving after both answered, still within the grace, gets it too.
    let (status, c) = refresh(&app, token).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(refresh_token(&c), refresh_token(&a));
    // The login lives on: every access token works and the successor rotates normally.
    for session in [&first, &a, &b, &c] {
        assert_eq!(me(&app, session).await, StatusCode::OK);
    }
    let (status, next) = refresh(&app, refresh_token(&a)).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_ne!(refresh_token(&next), refresh_token(&a));
}

async fn a_spent_token_replayed_after_its_successor_was_used_revokes_the_login(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let first = app.register("ned@example.com", "password123").await;
    let (status, second) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, third) = refresh(&app, refresh_token(&second)).await;
    assert_eq!(status, StatusCode::OK);
    // Within the grace, but its successor is spent: not a twin request, a replay.
    let (status, _) = refresh(&app, refresh_token(&first)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &third).await, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, refresh_token(&third)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
