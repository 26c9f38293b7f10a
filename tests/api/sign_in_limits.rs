//! Sign-in limits that fit a classroom: a class behind one address registers and signs in,
//! while guessing a password is refused with `Retry-After`. Reads are never throttled at a
//! group's write limit.

use std::time::{Duration, Instant};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use reqwest::StatusCode;
use serde_json::{Value, json};
use workbook::config::DEFAULT_TOML;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_class_signs_in_from_one_address_while_guessing_is_throttled,
    failures_on_many_accounts_are_throttled_per_address,
    reads_are_not_throttled_at_the_write_limit,
);

/// A server with the shipped rate limits (the harness raises them for other tests).
async fn with_default_limits(backend: Backend) -> Option<TestApp> {
    let defaults: Value = Figment::from(Toml::string(DEFAULT_TOML))
        .extract_inner("rate_limits")
        .unwrap();
    TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("rate_limits", defaults))
    })
    .await
}

/// A login as `email` with `password`: the status and `Retry-After`, if any.
async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Option<u64>) {
    let response = app
        .client
        .post(app.url("/api/workbook/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    (response.status(), retry_after)
}

async fn a_class_signs_in_from_one_address_while_guessing_is_throttled(backend: Backend) {
    let Some(app) = with_default_limits(backend).await else {
        return;
    };
    let started = Instant::now();
    for i in 0..30 {
        let email = format!("student{i}@example.com");
        app.register(&email, "password123").await;
        assert_eq!(
            login(&app, &email, "password123").await,
            (StatusCode::OK, None),
            "{email}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(60));

    // Someone guesses student0's password: ten wrong tries are answered 401, the eleventh
    // and later 429 with the time until one more try is allowed.
    for try_number in 1..=20 {
        let (status, retry_after) =
            login(&app, "student0@example.com", &format!("guess-{try_number}")).await;
        if try_number <= 10 {
            assert_eq!(status, StatusCode::UNAUTHORIZED, "try {try_number}");
        } else {
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "try {try_number}");
            let retry_after = retry_after.expect("a 429 carries Retry-After");
            assert!((1..=900).contains(&retry_after), "{retry_after}");
        }
    }
    // The guessed account waits, the right password too; the rest of the class does not.
    assert_eq!(
        login(&app, "student0@example.com", "password123").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        login(&app, "student1@example.com", "password123").await.0,
        StatusCode::OK
    );
    // The whole class signs in again.
    for i in 1..30 {
        let email = format!("student{i}@example.com");
        assert_eq!(login(&app, &email, "password123").await.0, StatusCode::OK);
    }
}

async fn failures_on_many_accounts_are_throttled_per_address(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default(
            "rate_limits.failed_logins_per_address",
            json!({"max": 3, "window_secs": 900}),
        ))
    })
    .await
    else {
        return;
    };
    app.register("real@example.com", "password123").await;
    // Successful sign-ins use up nothing.
    for _ in 0..5 {
        assert_eq!(
            login(&app, "real@example.com", "password123").await.0,
            StatusCode::OK
        );
    }
    // One common password tried on many accounts, existing or not.
    for i in 0..3 {
        let email = format!("someone{i}@example.com");
        assert_eq!(
            login(&app, &email, "password1").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, retry_after) = login(&app, "real@example.com", "password1").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after.is_some_and(|secs| (1..=300).contains(&secs)));
}

async fn reads_are_not_throttled_at_the_write_limit(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default(
            "rate_limits.notes",
            json!({"max": 2, "window_secs": 900}),
        ))
    })
    .await
    else {
        return;
    };
    let token = app.register("editor@example.com", "password123").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let note = app.create_note(&token, json!({"title": "one"})).await;
    let id = note["id"].as_str().unwrap();
    for _ in 0..20 {
        let (status, _) = app.get("/api/workbook/notes", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app
            .get(&format!("/api/workbook/notes/{id}"), Some(&token))
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    app.create_note(&token, json!({"title": "two"})).await;
    let (status, body) = app
        .post(
            "/api/workbook/notes",
            Some(&token),
            json!({"title": "three"}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}
