//! Request bodies: a field error names the field (`title`, `tags[2]`) in plain words, and a
//! field the request does not have (`titel`) is refused on every route, never ignored.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::modules::module_body;
use crate::on_both_backends;

on_both_backends!(
    field_errors_name_the_field,
    unknown_fields_are_refused_everywhere,
);

/// The `(field, message)` pairs of a 422 answer.
fn field_errors(status: StatusCode, body: &Value) -> Vec<(String, String)> {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "validation_failed", "{body}");
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap().to_owned();
            (text("field"), text("message"))
        })
        .collect()
}

async fn field_errors_name_the_field(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("writer@example.com", "user").await;
    let notes = "/api/workbook/notes";
    let (status, body) = app
        .post(
            notes,
            Some(&token),
            json!({"title": "t", "tags": ["a", "b", 3]}),
        )
        .await;
    assert_eq!(
        field_errors(status, &body),
        [("tags[2]".into(), "must be a string, not integer `3`".into())]
    );
    let (status, body) = app.post(notes, Some(&token), json!({"tags": []})).await;
    assert_eq!(
        field_errors(status, &body),
        [("title".into(), "is required".into())]
    );
    let (status, body) = app
        .post(
            notes,
            Some(&token),
            json!({"title": "t", "moduleId": "nope"}),
        )
        .await;
    assert_eq!(field_errors(status, &body)[0].0, "moduleId");
}

async fn unknown_fields_are_refused_everywhere(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("host@example.com", "admin").await;
    let note = app.create_note(&admin, json!({"title": "Week one"})).await;
    let note_path = format!("/api/workbook/notes/{}", note["id"].as_str().unwrap());
    let (_, module) = app
        .post(
            "/api/workbook/modules",
            Some(&admin),
            module_body("Intro", json!({})),
        )
        .await;
    let module_id = module["module"]["id"].as_str().unwrap().to_owned();
    let module_path = format!("/api/workbook/modules/{module_id}");

    let with_typo = |mut body: Value| {
        body["titel"] = json!("typo");
        body
    };
    let cases = [
        (
            Method::POST,
            "/api/workbook/auth/register".to_owned(),
            json!({"email": "n@example.com", "name": "N", "password": "password123"}),
        ),
        (
            Method::POST,
            "/api/workbook/auth/login".to_owned(),
            json!({"email": "n@example.com", "password": "password123"}),
        ),
        (
            Method::POST,
            "/api/workbook/notes".to_owned(),
            json!({"title": "x"}),
        ),
        (Method::PUT, note_path.clone(), json!({"version": 1})),
        (Method::PATCH, note_path.clone(), json!({"version": 1})),
        (
            Method::POST,
            "/api/workbook/modules".to_owned(),
            module_body("Other", json!({})),
        ),
        (
            Method::PUT,
            module_path.clone(),
            json!({"title": "Renamed"}),
        ),
        (
            Method::POST,
            format!("/api/workbook/progress/{module_id}"),
            json!({"progressPercent": 5}),
        ),
        (
            Method::POST,
            "/api/workbook/sessions".to_owned(),
            json!({"title": "Live", "scheduledStart": "2030-01-01T10:00:00Z"}),
        ),
    ];
    for (method, path, body) in cases {
        let (status, answer) = app
            .call(method.clone(), &path, Some(&admin), Some(with_typo(body)))
            .await;
        let fields = field_errors(status, &answer);
        assert_eq!(fields[0].0, "titel", "{method} {path}: {answer}");
        assert!(fields[0].1.starts_with("is not a field"), "{answer}");
    }
    // Nothing was written by the refused changes.
    let (_, current) = app.get(&note_path, Some(&admin)).await;
    assert_eq!(current["note"]["version"], 1, "{current}");
    let (_, current) = app.get(&module_path, Some(&admin)).await;
    assert_eq!(current["module"]["title"], "Intro", "{current}");
}
