//! Every error case answers its status in the one JSON shape, never a 500.

use figment::providers::Serialized;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    error_statuses_and_shape,
    validation_reports_every_field,
    rate_limits_answer_429_with_retry_after,
);

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

async fn error_statuses_and_shape(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("root@example.com", "admin").await;
    let register = app.url("/api/workbook/auth/register");

    let response = app
        .client
        .post(&register)
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_error(
        status,
        &response.json().await.unwrap(),
        StatusCode::BAD_REQUEST,
        "bad_json",
    );

    let response = app
        .client
        .post(&register)
        .body("email=x")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let (status, body) = app
        .post("/api/workbook/auth/register", None, json!({"email": 5}))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    let (status, body) = app.get("/api/workbook/auth/me", Some("nope")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

    let user = app.user_with_role("plain@example.com", "user").await;
    let (status, body) = app.get("/api/workbook/admin/users", Some(&user)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");

    let missing = uuid::Uuid::new_v4();
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/workbook/admin/users/{missing}"),
            Some(&admin),
            Some(json!({"role": "user"})),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            "/api/workbook/admin/users/not-a-uuid",
            Some(&admin),
            Some(json!({"role": "user"})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    app.register("twice@example.com", "password123").await;
    let (status, body) = app
        .post(
            "/api/workbook/auth/register",
            None,
            json!({"email": "TWICE@example.com", "name": "Again", "password": "password123"}),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, "email_taken");

    // The server answers before reading the whole body and closes that connection, so the
    // oversized request gets a client of its own.
    let huge = "x".repeat(2 * 1024 * 1024);
    let response = reqwest::Client::new()
        .post(&register)
        .json(&json!({"email": "big@example.com", "name": huge, "password": "password123"}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );

    let (status, body) = app.get("/api/workbook/no-such-route", None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get("/api/workbook/auth/login", None).await;
    assert_error(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

async fn validation_reports_every_field(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (status, body) = app
        .post(
            "/api/workbook/auth/register",
            None,
            json!({"email": "not-an-email", "name": "", "password": "short"}),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let mut fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["email", "name", "password"]);
}

async fn rate_limits_answer_429_with_retry_after(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default(
            "rate_limits.auth",
            json!({"max": 2, "window_secs": 900}),
        ))
    })
    .await
    else {
        return;
    };
    let login = json!({"email": "x@example.com", "password": "whatever1"});
    for _ in 0..2 {
        let (status, _) = app
            .post("/api/workbook/auth/login", None, login.clone())
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app
        .client
        .post(app.url("/api/workbook/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
}
