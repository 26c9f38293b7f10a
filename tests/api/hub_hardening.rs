//! Issue 16, finding 11 (hub): what an outside probe found, each fixed and checked here.

use reqwest::StatusCode;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, TestApp};
use crate::hub_client::{HubClient, Joined, Stage, live_session};

/// A frame over the socket's 128 KiB limit gets the documented close code (4413
/// `too_large`), not a dropped TCP connection; one over the hub's 64 KiB frame cap but
/// under 128 KiB still gets an `error` frame and the connection stays.
async fn hub_frame_over_64_kib_closes_with_too_large(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let Stage { ann, .. } = Stage::open(&app, json!({})).await;
    let mut a = ann.client;
    let big = json!({"type": "chat.send", "text": "x".repeat(70 * 1024)});
    a.send(big).await;
    let error = a.until(|f| f["type"] == "error").await;
    assert_eq!(error["code"], "too_large", "{error}");
    assert_eq!(a.request(json!({"type": "ping"})).await["type"], "pong");

    let huge = json!({"type": "chat.send", "text": "x".repeat(140 * 1024)}).to_string();
    a.send_raw(Message::text(huge)).await;
    assert_eq!(a.closed().await, Some(4413));
}

/// Display names lose control and bidi-override characters (U+202E shows "tsoH" as
/// "Host"), may not claim a role in brackets, and every participant carries its role in
/// the protocol instead.
async fn hub_display_names_are_plain_text_and_roles_travel_in_the_protocol(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let path = format!("/api/workbook/sessions/{id}/join");

    let (status, body) = app
        .post(
            &path,
            Some(&ann),
            json!({"displayName": "Ann\u{202E}tsoH\u{2066}\n"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["participant"]["name"], "AnntsoH");
    for claim in ["Prem (Host)", "Al [moderator]", "\u{202E}\u{200F}"] {
        let (status, body) = app
            .post(&path, Some(&ann), json!({"displayName": claim}))
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{claim:?}: {body}"
        );
        assert_eq!(body["error"]["fields"][0]["field"], "displayName", "{body}");
    }

    // The ticket carries the cleaned name; the others see it with the real role.
    let mut h = Joined::new(&app, &id, &host).await;
    let (status, joined) = app
        .post(&path, Some(&ann), json!({"displayName": "Ann\u{202E}tsoH"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    let url = crate::hub_client::ws_url(&app, &id, joined["ticket"].as_str().unwrap(), None);
    let mut a = HubClient::open(&url).await.unwrap();
    let welcome = a.next().await;
    assert_eq!(welcome["participant"]["name"], "AnntsoH", "{welcome}");
    assert_eq!(welcome["participant"]["role"], "participant", "{welcome}");
    let seen = h.client.event("participant.joined").await;
    assert_eq!(seen["event"]["info"]["name"], "AnntsoH", "{seen}");
    assert_eq!(seen["event"]["info"]["role"], "participant", "{seen}");
    assert_eq!(h.welcome["participant"]["role"], "host");
}

crate::on_both_backends!(
    hub_frame_over_64_kib_closes_with_too_large,
    hub_display_names_are_plain_text_and_roles_travel_in_the_protocol
);
