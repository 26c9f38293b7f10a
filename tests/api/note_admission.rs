//! Who the live-note WebSocket lets in, and what it tells those it refuses: raw WebSocket
//! clients against a real server, on both databases.

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(a_note_the_caller_may_not_see_is_refused_like_a_missing_one);

/// What the live endpoint answers `token` for `note`: `Ok(())` when it greets the client
/// with sync step 1, else the close code it sent.
pub async fn admission(app: &TestApp, note: &str, token: &str) -> Result<(), u16> {
    let url = format!(
        "{}/api/workbook/notes/ws/{note}?token={token}",
        app.base.replace("http://", "ws://")
    );
    let (mut client, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), client.next()).await;
    match first {
        Ok(Some(Ok(Message::Binary(frame)))) if frame.starts_with(&[0, 0]) => Ok(()),
        Ok(Some(Ok(Message::Close(Some(frame))))) => Err(u16::from(frame.code)),
        other => panic!("expected sync step 1 or a close frame, got {other:?}"),
    }
}

/// A note owned by a new account, and that account's token.
pub async fn owned_note(app: &TestApp, email: &str) -> (String, String) {
    let owner = app.user_with_role(email, "user").await;
    let (status, created) = app
        .post(
            "/api/workbook/notes",
            Some(&owner),
            json!({"title": "Mine", "content": "not yours"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (created["note"]["id"].as_str().unwrap().to_owned(), owner)
}

async fn a_note_the_caller_may_not_see_is_refused_like_a_missing_one(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let (note, owner) = owned_note(&app, "owner@example.com").await;
    let stranger = app.user_with_role("stranger@example.com", "user").await;
    let missing = uuid::Uuid::new_v4().to_string();

    // REST answers 404 for both; so does the WebSocket, with 4404.
    for id in [&note, &missing] {
        let (status, _) = app
            .get(&format!("/api/workbook/notes/{id}"), Some(&stranger))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(admission(&app, id, &stranger).await, Err(4404), "{id}");
    }
    assert_eq!(admission(&app, "not-a-uuid", &stranger).await, Err(4404));
    assert_eq!(admission(&app, &note, "not-a-token").await, Err(4401));
    assert_eq!(admission(&app, &note, &owner).await, Ok(()));
}
