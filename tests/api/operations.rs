//! Health, metrics and the OpenAPI document.

use reqwest::StatusCode;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(health_reports_each_check, metrics_count_requests_per_route);

async fn health_reports_each_check(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (status, body) = app.get("/api/health", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["dataDir"]["status"], "ok");

    // A data directory that cannot be written makes the server unhealthy.
    std::fs::remove_dir_all(&app.state.config.storage.data_dir).unwrap();
    let (status, body) = app.get("/api/health", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["checks"]["dataDir"]["status"], "error");
}

async fn metrics_count_requests_per_route(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.get("/api/workbook/auth/me", None).await;
    let series = r#"http_requests_total{method="GET",route="/api/workbook/auth/me",status="401"}"#;
    let count = app.metric(series).await;
    assert!(
        count.is_some_and(|count| count >= 1.0),
        "{series}: {count:?}"
    );
    let text = app
        .get("/metrics", Some(crate::harness::METRICS_TOKEN))
        .await
        .1;
    assert!(
        text.as_str()
            .unwrap()
            .contains("http_request_duration_seconds_bucket")
    );
}
