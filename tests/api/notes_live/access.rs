//! Live connections follow changes of access: a revoked or downgraded share, a deleted or
//! private note, and a token offered as a subprotocol.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{LiveNote, close_code, receives_update, update_frame};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_share_or_deleting_the_note_closes_live_connections() {
    let live = LiveNote::start("shared").await;
    let mut reader = live.connect(&live.reader).await;
    let mut owner = live.connect(&live.owner).await;

    let (_, shares) = live
        .app
        .get(
            &format!("/api/workbook/notes/{}/shares", live.id),
            Some(&live.owner),
        )
        .await;
    let reader_user = shares["shares"]
        .as_array()
        .unwrap()
        .iter()
        .find(|share| share["email"] == "reader@example.com")
        .unwrap()["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = live
        .app
        .call(
            Method::DELETE,
            &format!("/api/workbook/notes/{}/shares/{reader_user}", live.id),
            Some(&live.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(close_code(&mut reader).await, 4403);

    let (status, _) = live
        .app
        .call(
            Method::DELETE,
            &format!("/api/workbook/notes/{}", live.id),
            Some(&live.owner),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(close_code(&mut owner).await, 4404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downgraded_share_stops_editing_and_making_the_note_private_closes_it() {
    use futures_util::SinkExt;

    let live = LiveNote::start("").await;
    let mut owner = live.connect(&live.owner).await;
    let mut writer = live.connect(&live.writer).await;

    writer.send(update_frame("while allowed. ")).await.unwrap();
    assert!(receives_update(&mut owner, Duration::from_secs(5)).await);

    // Downgraded to read while connected: from now on its edits reach no one.
    let (status, body) = live
        .app
        .post(
            &format!("/api/workbook/notes/{}/shares", live.id),
            Some(&live.owner),
            json!({"email": "writer@example.com", "permission": "read"}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    writer
        .send(update_frame("after the downgrade. "))
        .await
        .unwrap();
    assert!(!receives_update(&mut owner, Duration::from_secs(1)).await);
    assert_eq!(live.rest_note().await["content"], "while allowed. ");

    // Private again: every share is revoked and the shared connection closes with 4403.
    let (status, body) = live.put(&live.owner, json!({"isPrivate": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(close_code(&mut writer).await, 4403);
    // The owner's connection is untouched and still edits.
    owner
        .send(update_frame("the owner goes on. "))
        .await
        .unwrap();
    let mut content = Value::Null;
    for _ in 0..50 {
        content = live.rest_note().await["content"].clone();
        if content
            .as_str()
            .is_some_and(|c| c.contains("the owner goes on. "))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        content
            .as_str()
            .is_some_and(|c| c.contains("while allowed. ")
                && c.contains("the owner goes on. ")
                && !c.contains("after the downgrade")),
        "{content}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_may_come_as_a_subprotocol_which_is_echoed() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let live = LiveNote::start("body").await;
    let url = format!("{}/{}", live.ws_base, live.id);
    let mut request = url.as_str().into_client_request().unwrap();
    let offered = format!("y-websocket, {}", live.owner);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", offered.parse().unwrap());
    let (mut client, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    let chosen = response.headers()["sec-websocket-protocol"]
        .to_str()
        .unwrap();
    assert_eq!(chosen, live.owner);
    // Admitted: the room greets with its sync step 1 (message 0, sync type 0).
    let greeting = tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(&greeting, Message::Binary(b) if b.starts_with(&[0, 0])),
        "{greeting:?}"
    );

    // A bad token offered the same way: the upgrade completes, then 4401.
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "not-a-token".parse().unwrap());
    let (mut refused, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "not-a-token");
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(5), refused.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => break u16::from(frame.code),
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, 4401);
}
