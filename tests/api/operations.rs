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
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("http_requests_total")
                && l.contains("route=\"/api/workbook/auth/me\"")
                && l.contains("status=\"401\"")
        })
        .unwrap_or_else(|| panic!("no counter for /me 401 in:\n{text}"));
    let count: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0);
    assert!(text.contains("http_request_duration_seconds_bucket"));
}
