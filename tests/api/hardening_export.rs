//! Issue 16, finding 1: exports are linear in their input, run off the async threads, and
//! refuse more text than `limits.export_bytes` with a typed 413.

use std::time::Duration;

use figment::providers::Serialized;
use reqwest::StatusCode;
use uuid::Uuid;
use workbook::db::notes::{NewNote, insert};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    export_of_a_huge_word_leaves_the_server_answering,
    export_over_the_limit_is_refused_with_413,
);

/// A note stored directly: the live document has no 100k-character cap, REST does.
async fn owner_with_note(app: &TestApp, content: &str) -> (String, Uuid) {
    let registered = app.register("exporter@example.com", "password123").await;
    let owner: Uuid = registered["user"]["id"].as_str().unwrap().parse().unwrap();
    let note = insert(
        &app.state.db,
        owner,
        NewNote {
            title: "huge",
            content,
            tags: &[],
            folder: None,
            module_id: None,
            is_private: true,
        },
    )
    .await
    .unwrap();
    (registered["token"].as_str().unwrap().to_owned(), note.id)
}

async fn export_of_a_huge_word_leaves_the_server_answering(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    // One 3-million-character word: cutting it quadratically took minutes of CPU on the
    // async workers (the test runtime has two, like the probe's two exports).
    let (token, note) = owner_with_note(&app, &"w".repeat(3_000_000)).await;
    let export = |path: String| {
        let request = app.client.get(app.url(&path)).bearer_auth(&token).send();
        async move {
            let response = request.await.unwrap();
            (response.status(), response.bytes().await.unwrap())
        }
    };
    let one = tokio::spawn(export(format!(
        "/api/workbook/notes/{note}/export?format=pdf"
    )));
    let all = tokio::spawn(export("/api/workbook/notes/export?format=pdf".to_owned()));
    while !(one.is_finished() && all.is_finished()) {
        let health = app.client.get(app.url("/api/health")).send();
        let answered = tokio::time::timeout(Duration::from_secs(2), health).await;
        assert!(
            answered.is_ok(),
            "health did not answer within 2 s during the exports"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for export in [one, all] {
        let (status, body) = export.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert!(body.starts_with(b"%PDF-1.4"));
        // Every character of the word is on some page: 3 million `w`s in 80-ish columns.
        let ws = body.iter().filter(|&&b| b == b'w').count();
        assert!(ws >= 3_000_000, "{ws} characters printed");
    }
}

async fn export_over_the_limit_is_refused_with_413(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("limits.export_bytes", 10_000))
    })
    .await
    else {
        return;
    };
    let (token, note) = owner_with_note(&app, &"word ".repeat(2_001)).await;
    for path in [
        format!("/api/workbook/notes/{note}/export?format=md"),
        "/api/workbook/notes/export?format=json".to_owned(),
        "/api/workbook/notes/export?format=pdf".to_owned(),
    ] {
        let (status, body) = app.get(&path, Some(&token)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        assert_eq!(body["error"]["code"], "export_too_large", "{body}");
    }
}
