//! The OpenAPI document and the handlers agree: schemathesis generates requests from the
//! document and checks every response against it (no 500, documented status codes, content
//! types and schemas).

use std::path::Path;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(schemathesis_finds_no_disagreement);

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
