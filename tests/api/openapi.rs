//! The OpenAPI document and the handlers agree: schemathesis generates requests from the
//! document and checks every response against it (no 500, documented status codes, content
//! types and schemas).

use std::path::Path;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    schemathesis_finds_no_disagreement,
    operation_ids_are_unique_and_name_their_resource,
    the_router_answers_no_method_the_document_omits,
    the_api_explorer_is_served_from_the_binary,
);

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// The served document, as JSON.
async fn document(app: &TestApp) -> serde_json::Value {
    let (status, document) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    document
}

/// Every operation of the document: method, path, operation.
fn operations(document: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                operations.push((method.clone(), path.clone(), operation.clone()));
            }
        }
    }
    operations
}

/// Every operation the server answers, as `METHOD path`: the document must list exactly these
/// (routes are declared once, by their handlers' annotations, for router and document alike).
const OPERATIONS: &[&str] = &[
    "DELETE /api/workbook/admin/users/{id}",
    "DELETE /api/workbook/audio/{id}",
    "DELETE /api/workbook/me",
    "DELETE /api/workbook/modules/{id}",
    "DELETE /api/workbook/notes/{id}",
    "DELETE /api/workbook/notes/{id}/shares/{userId}",
    "DELETE /api/workbook/sessions/{id}/recordings/{recordingId}",
    "GET /api/health",
    "GET /api/workbook/admin/users",
    "GET /api/workbook/audio",
    "GET /api/workbook/audio/{id}",
    "GET /api/workbook/audio/{id}/file",
    "GET /api/workbook/auth/me",
    "GET /api/workbook/me/export",
    "GET /api/workbook/moments/{recordingId}",
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
    "GET /api/workbook/sessions/{id}/recordings",
    "GET /api/workbook/sessions/{id}/recordings/{recordingId}",
    "GET /api/workbook/sessions/{id}/recordings/{recordingId}/tracks/{trackId}/media",
    "GET /api/workbook/sessions/{id}/recordings/{recordingId}/transcript",
    "GET /api/workbook/sessions/{id}/ws",
    "GET /metrics",
    "PATCH /api/workbook/admin/users/{id}",
    "PATCH /api/workbook/me",
    "PATCH /api/workbook/notes/{id}",
    "PATCH /api/workbook/sessions/{id}",
    "PATCH /api/workbook/sessions/{id}/recordings/{recordingId}",
    "POST /api/workbook/admin/users/{id}/disable",
    "POST /api/workbook/admin/users/{id}/enable",
    "POST /api/workbook/admin/users/{id}/password-reset",
    "POST /api/workbook/audio",
    "POST /api/workbook/audio/transcribe",
    "POST /api/workbook/audio/{id}/transcription/cancel",
    "POST /api/workbook/auth/login",
    "POST /api/workbook/auth/logout",
    "POST /api/workbook/auth/password-reset",
    "POST /api/workbook/auth/refresh",
    "POST /api/workbook/auth/register",
    "POST /api/workbook/me/password",
    "POST /api/workbook/modules",
    "POST /api/workbook/modules/reorder",
    "POST /api/workbook/notes",
    "POST /api/workbook/notes/{id}/shares",
    "POST /api/workbook/progress/{moduleId}",
    "POST /api/workbook/sessions",
    "POST /api/workbook/sessions/{id}/end",
    "POST /api/workbook/sessions/{id}/join",
    "POST /api/workbook/sessions/{id}/guest-join",
    "POST /api/workbook/sessions/{id}/invites",
    "GET /api/workbook/sessions/{id}/invites",
    "DELETE /api/workbook/sessions/{id}/invites/{inviteId}",
    "POST /api/workbook/invites/lookup",
    "POST /api/workbook/invites/accept",
    "POST /api/workbook/invites/guest",
    "GET /api/workbook/progress/learners",
    "GET /api/workbook/progress/completions",
    "POST /api/workbook/sessions/{id}/start",
    "PUT /api/workbook/modules/{id}",
    "PUT /api/workbook/notes/{id}",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_route() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let document = document(&app).await;
    let mut listed: Vec<String> = operations(&document)
        .into_iter()
        .map(|(method, path, _)| format!("{} {path}", method.to_uppercase()))
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

/// Code generators name a client's methods after `operationId`s and documentation links to
/// them: each is unique and says what it acts on (`listNotes`, never a bare `list`).
async fn operation_ids_are_unique_and_name_their_resource(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let mut ids: Vec<String> = operations(&document(&app).await)
        .into_iter()
        .map(|(method, path, operation)| {
            let id = operation["operationId"].as_str();
            let id = id.unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(
                id.starts_with(|c: char| c.is_ascii_lowercase())
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{id} is not camelCase"
            );
            let bare = [
                "list", "get", "create", "update", "patch", "delete", "export", "file",
            ];
            assert!(
                !bare.contains(&id),
                "{method} {path}: {id} names no resource"
            );
            id.to_owned()
        })
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationIds");
}

/// Walks the router through the document: every method the document does not list for a
/// path must be refused with 405, so no route answers without being documented.
async fn the_router_answers_no_method_the_document_omits(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("walker@example.com", "admin").await;
    let document = document(&app).await;
    let id = uuid::Uuid::new_v4().to_string();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete: String = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    id.as_str()
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            if item.get(method).is_some() {
                continue;
            }
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) = app
                .call(method.clone(), &concrete, Some(&admin), None)
                .await;
            assert_eq!(
                status,
                reqwest::StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is routed but not documented: {body}"
            );
        }
    }
}

/// Swagger UI is served from the binary: its page and every file the page loads answer from
/// this server, none from elsewhere, and it reads the server's document.
async fn the_api_explorer_is_served_from_the_binary(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (status, page) = app.get("/api/docs/", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let page = page.as_str().unwrap().to_owned();
    let mut loaded = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in page.split(attribute).skip(1) {
            loaded.push(piece.split('"').next().unwrap().to_owned());
        }
    }
    assert!(loaded.iter().any(|file| file.ends_with(".js")), "{page}");
    for file in &loaded {
        assert!(!file.contains("//"), "{file} is not served by this server");
        let (status, _) = app
            .get(
                &format!("/api/docs/{}", file.trim_start_matches("./")),
                None,
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{file}");
    }
    let (status, initializer) = app.get("/api/docs/swagger-initializer.js", None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(
        initializer.as_str().unwrap().contains("/api/openapi.json"),
        "{initializer}"
    );
}
