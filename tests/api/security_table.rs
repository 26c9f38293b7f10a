//! docs/SECURITY.md's route table is the truth: it lists exactly the OpenAPI document's
//! operations, and each route refuses a caller without the credential its rule names.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(security_table_matches_the_router);

/// One row: method, path, rule.
fn documented_routes() -> Vec<(String, String, String)> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/SECURITY.md")).unwrap();
    let table = doc
        .split("<!-- routes:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- routes:end -->").next())
        .expect("SECURITY.md has the routes table between its markers");
    table
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| Method"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            (
                cells[0].to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect()
}

async fn security_table_matches_the_router(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let rows = documented_routes();
    let (_, openapi) = app.get("/api/openapi.json", None).await;
    let mut operations = BTreeSet::new();
    let mut with_body = BTreeSet::new();
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = method.to_uppercase();
            if operation.get("requestBody").is_some() {
                with_body.insert((method.clone(), path.clone()));
            }
            operations.insert((method, path.clone()));
        }
    }
    let listed: BTreeSet<_> = rows
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    assert_eq!(listed.len(), rows.len(), "a route is listed twice");
    assert_eq!(
        listed, operations,
        "SECURITY.md's table and the OpenAPI document list different operations"
    );

    let user = app.user_with_role("plain@example.com", "user").await;
    let some_id = uuid::Uuid::new_v4().to_string();
    for (method, path, rule) in &rows {
        let concrete: String = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    some_id.as_str()
                } else {
                    part
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let body = with_body
            .contains(&(method.to_string(), path.clone()))
            .then(|| Value::Object(Default::default()));
        let anonymous = app
            .call(method.clone(), &concrete, None, body.clone())
            .await;
        match rule.as_str() {
            "public" => assert_ne!(anonymous.0, StatusCode::UNAUTHORIZED, "{method} {path}"),
            "signed in" | "metrics token" | "refresh token" | "admin.access" | "sessions.host" => {
                assert_eq!(
                    anonymous.0,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path}: {}",
                    anonymous.1
                )
            }
            // The socket refuses with close 4401 after the upgrade (tests/api/notes_live.rs);
            // a plain request is not an upgrade.
            // The hub socket checks its ticket on the upgrade request itself
            // (tests/api/hub.rs); a plain request is refused as not an upgrade first.
            "signed in (socket)" | "join ticket (socket)" => {
                assert_ne!(anonymous.0, StatusCode::OK, "{method} {path}")
            }
            other => panic!("{method} {path}: unknown rule {other:?}"),
        }
        if matches!(rule.as_str(), "admin.access" | "sessions.host") {
            let (status, answer) = app.call(method.clone(), &concrete, Some(&user), body).await;
            // A body the route cannot parse is refused (422) before the handler checks the
            // permission; without a body there is nothing to parse first.
            let refused = status == StatusCode::FORBIDDEN
                || (status == StatusCode::UNPROCESSABLE_ENTITY
                    && with_body.contains(&(method.to_string(), path.clone())));
            assert!(
                refused,
                "{method} {path} as a plain user: {status} {answer}"
            );
        }
    }
}
