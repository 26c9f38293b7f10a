//! Issue 16, findings 7 and 8: hygiene headers on every response, and `/metrics` off the
//! public listener unless a token or a listener of its own is configured.

use figment::providers::Serialized;
use reqwest::StatusCode;

use crate::harness::{Backend, METRICS_TOKEN, TestApp, free_port};
use crate::on_both_backends;

on_both_backends!(
    response_headers_forbid_sniffing_referrers_and_caching_private_data,
    metrics_are_off_the_public_listener_by_default,
    metrics_answer_only_the_configured_token,
    metrics_on_their_own_listener,
);

async fn response_headers_forbid_sniffing_referrers_and_caching_private_data(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("headers@example.com", "user").await;
    let login = app
        .client
        .post(app.url("/api/workbook/auth/login"))
        .json(&serde_json::json!({"email": "headers@example.com", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let requests = [
        (login, true),
        (get(&app, "/api/workbook/notes", Some(&token)).await, true),
        (
            get(&app, "/api/workbook/notes/export?format=md", Some(&token)).await,
            true,
        ),
        (get(&app, "/api/workbook/notes", None).await, true),
        (get(&app, "/api/workbook/no-such-route", None).await, true),
        (get(&app, "/api/health", None).await, false),
        (get(&app, "/no-such-route", None).await, false),
    ];
    for (response, private) in requests {
        let url = response.url().to_string();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{url}");
        if private {
            assert_eq!(headers["cache-control"], "no-store", "{url}");
        }
    }
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn metrics_are_off_the_public_listener_by_default(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("metrics.token", ""))
    })
    .await
    else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    for token in [None, Some(admin.as_str()), Some(METRICS_TOKEN)] {
        let (status, body) = app.get("/metrics", token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
}

async fn metrics_answer_only_the_configured_token(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    for token in [
        None,
        Some(admin.as_str()),
        Some("test-metrics-token-01234567"),
    ] {
        let (status, body) = app.get("/metrics", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, body) = app.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.as_str().unwrap().contains("http_requests_total"));
}

async fn metrics_on_their_own_listener(backend: Backend) {
    let port = free_port();
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("metrics.token", ""))
            .merge(Serialized::default(
                "metrics.bind",
                format!("127.0.0.1:{port}"),
            ))
    })
    .await
    else {
        return;
    };
    // The listener binds as the server starts; the public one answering means it is up.
    assert!(crate::harness::wait_healthy(&app.base).await);
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.text().await.unwrap().contains("note_sockets_open"));
    let other = reqwest::get(format!("http://127.0.0.1:{port}/api/health"))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let (status, _) = app.get("/metrics", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
