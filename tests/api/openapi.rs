//! The OpenAPI document and the handlers agree: schemathesis generates requests from the
//! document and checks every response against it (no 500, documented status codes, content
//! types and schemas).

use std::path::Path;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(schemathesis_finds_no_disagreement);

/// Every operation the server answers, as `METHOD path`: the document must list exactly these
/// (routes are declared once, by their handlers' annotations, for router and document alike).
const OPERATIONS: &[&str] = &[
    "DELETE /api/workbook/audio/{id}",
    "DELETE /api/workbook/me",
    "DELETE /api/workbook/modules/{id}",
    "DELETE /api/workbook/notes/{id}",
    "DELETE /api/workbook/notes/{id}/shares/{userId}",
    "GET /api/health",
    "GET /api/workbook/admin/users",
    "GET /api/workbook/audio",
    "GET /api/workbook/audio/{id}",
    "GET /api/workbook/audio/{id}/file",
    "GET /api/workbook/auth/me",
    "GET /api/workbook/me/export",
    "GET /api/workbook/modules",
    "GET /api/workbook/modules/{id}",
    "GET /api/workbook/notes",
    "GET /api/workbook/notes/export",
    "GET /api/workbook/notes/ws/{noteId}",
    "GET /api/workbook/notes/{id}",
    "GET /api/workbook/notes/{id}/export",
    "GET /api/workbook/notes/{id}/shares",
    "GET /api/workbook/progress",
    "GET /api/workbook/progress/stats",
    "GET /api/workbook/search",
    "GET /api/workbook/sessions",
    "GET /api/workbook/sessions/{id}",
    "GET /api/workbook/sessions/{id}/attendance",
    "GET /api/workbook/sessions/{id}/export",
    "GET /api/workbook/sessions/{id}/ws",
    "GET /metrics",
    "PATCH /api/workbook/admin/users/{id}",
    "PATCH /api/workbook/notes/{id}",
    "PATCH /api/workbook/sessions/{id}",
    "POST /api/workbook/audio",
    "POST /api/workbook/audio/transcribe",
    "POST /api/workbook/audio/{id}/transcription/cancel",
    "POST /api/workbook/auth/login",
    "POST /api/workbook/auth/logout",
    "POST /api/workbook/auth/refresh",
    "POST /api/workbook/auth/register",
    "POST /api/workbook/modules",
    "POST /api/workbook/modules/reorder",
    "POST /api/workbook/notes",
    "POST /api/workbook/notes/{id}/shares",
    "POST /api/workbook/progress/{moduleId}",
    "POST /api/workbook/sessions",
    "POST /api/workbook/sessions/{id}/end",
    "POST /api/workbook/sessions/{id}/join",
    "POST /api/workbook/sessions/{id}/start",
    "PUT /api/workbook/modules/{id}",
    "PUT /api/workbook/notes/{id}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_route() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (status, document) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let mut listed: Vec<String> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|key| matches!(key.as_str(), "get" | "put" | "post" | "delete" | "patch"))
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    listed.sort();
    let mut expected: Vec<String> = OPERATIONS.iter().map(|o| o.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    // The errors every route of a kind can answer are added to each operation.
    let register = &document["paths"]["/api/workbook/auth/register"]["post"]["responses"];
    for code in ["400", "413", "415", "422", "429"] {
        assert!(
            register.get(code).is_some(),
            "register lacks {code}: {register}"
        );
    }
}

async fn schemathesis_finds_no_disagreement(backend: Backend) {
    let st = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/st");
    if !st.exists() {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{} is missing: scripts/setup.sh test installs it",
                st.display()
            );
        }
        eprintln!("SKIPPED: schemathesis is not installed (run scripts/setup.sh test)");
        return;
    }
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let output = tokio::process::Command::new(&st)
        .args([
            "run",
            &app.url("/api/openapi.json"),
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--header",
            &format!("Authorization: Bearer {admin}"),
            "--max-examples",
            "25",
            "--generation-deterministic",
            // Deleting the test's own account would leave the rest of the run unauthorized.
            "--exclude-path",
            "/api/workbook/me",
        ])
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
