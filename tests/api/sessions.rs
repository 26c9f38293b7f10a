//! Live sessions over REST: scheduling, listing, permissions, the lifecycle, join tickets.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Backend, TestApp};
use crate::hub_client::{join, live_session};

async fn rest_lifecycle_and_permissions(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let user = app.user_with_role("user@example.com", "user").await;
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let new = json!({"title": "Rust workshop", "scheduledStart": "2030-01-01T10:00:00Z",
                     "scheduledEnd": "2030-01-01T12:00:00Z", "settings": {"lobby": false}});

    // Scheduling needs sessions.host; fields are validated.
    let (status, _) = app
        .post("/api/workbook/sessions", Some(&user), new.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            "/api/workbook/sessions",
            Some(&host),
            json!({"title": "two\nlines", "scheduledStart": "2030-01-01T10:00:00Z",
                     "scheduledEnd": "2029-01-01T10:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        fields.contains(&"title".into()) && fields.contains(&"scheduledEnd".into()),
        "{body}"
    );
    let (status, session) = app
        .post("/api/workbook/sessions", Some(&host), new.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    assert_eq!(session["status"], "scheduled");
    let id = session["id"].as_str().unwrap();
    let (_, other) = app
        .post("/api/workbook/sessions", Some(&admin), new.clone())
        .await;

    // Listing: upcoming, mine, paging.
    let (status, list) = app
        .get(
            "/api/workbook/sessions?status=upcoming&limit=1",
            Some(&user),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (list["total"].as_i64(), list["hasMore"].as_bool()),
        (Some(2), Some(true))
    );
    let (_, mine) = app
        .get("/api/workbook/sessions?mine=true", Some(&host))
        .await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["sessions"][0]["id"], id);
    let (status, _) = app
        .get("/api/workbook/sessions?status=someday", Some(&user))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.get("/api/workbook/sessions", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Only the host (or an admin) updates, starts and ends.
    let path = format!("/api/workbook/sessions/{id}");
    let (status, _) = app
        .call(
            Method::PATCH,
            &path,
            Some(&user),
            Some(json!({"title": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, updated) = app
        .call(
            Method::PATCH,
            &path,
            Some(&host),
            Some(json!({"title": "Rust, live", "settings": {"lobby": true}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (
            updated["title"].as_str(),
            updated["settings"]["lobby"].as_bool()
        ),
        (Some("Rust, live"), Some(true))
    );
    let (status, body) = app
        .post(&format!("{path}/join"), Some(&user), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("session_not_live"))
    );
    let (status, _) = app
        .post(&format!("{path}/start"), Some(&user), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, started) = app
        .post(&format!("{path}/start"), Some(&host), json!({}))
        .await;
    assert_eq!(
        (status, started["status"].as_str()),
        (StatusCode::OK, Some("live"))
    );
    assert!(started["startedAt"].is_string());
    let (status, _) = app
        .post(&format!("{path}/start"), Some(&host), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, live) = app
        .get("/api/workbook/sessions?status=live", Some(&user))
        .await;
    assert_eq!(live["total"], 1);

    // Exports are for the host and cohosts.
    let (status, _) = app.get(&format!("{path}/export"), Some(&user)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&format!("{path}/attendance"), Some(&host)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = app
        .post(&format!("{path}/end"), Some(&user), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, ended) = app
        .post(&format!("{path}/end"), Some(&host), json!({}))
        .await;
    assert_eq!(
        (status, ended["status"].as_str()),
        (StatusCode::OK, Some("ended"))
    );
    let (status, _) = app
        .post(&format!("{path}/end"), Some(&host), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = app
        .post(&format!("{path}/join"), Some(&user), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("session_ended"))
    );
    let (_, past) = app
        .get("/api/workbook/sessions?status=past", Some(&user))
        .await;
    assert_eq!(past["sessions"][0]["id"], id);

    // An admin may run anyone's session; unknown ids are 404.
    let other = other["id"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/workbook/sessions/{other}/start"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .get(
            &format!("/api/workbook/sessions/{}", uuid::Uuid::new_v4()),
            Some(&user),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn join_returns_role_capabilities_and_ticket(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let user = app.user_with_role("user@example.com", "user").await;
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let id = live_session(&app, &host, json!({})).await;

    let joined = join(&app, &id, &host).await;
    assert_eq!(joined["role"], "host");
    let caps = joined["capabilities"].as_array().unwrap();
    assert!(
        caps.contains(&json!("admin_room")) && caps.contains(&json!("control_recording")),
        "{joined}"
    );
    assert!(
        joined["hubUrl"]
            .as_str()
            .unwrap()
            .starts_with("ws://127.0.0.1:")
    );
    assert!(
        joined["hubUrl"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/api/workbook/sessions/{id}/ws"))
    );
    // The SFU's announced UDP address; no STUN or TURN servers are configured here.
    let media = joined["mediaUrl"].as_str().unwrap();
    let (_, health) = app.get("/api/health", None).await;
    assert_eq!(
        media,
        format!("udp://127.0.0.1:{}", health["media"]["port"]),
        "{health}"
    );
    assert_eq!(joined["iceServers"], json!([]));
    assert_eq!(joined["ticket"].as_str().unwrap().split('.').count(), 3);

    let joined = join(&app, &id, &user).await;
    assert_eq!(joined["role"], "participant");
    assert_eq!(joined["participant"]["name"], "Test User");
    assert_eq!(
        joined["capabilities"],
        json!([
            "subscribe",
            "chat",
            "direct_message",
            "vote",
            "ask",
            "raise_hand"
        ])
    );
    let joined = join(&app, &id, &admin).await;
    assert_eq!(joined["role"], "host");

    // Display names: 1 to 100 characters once control and bidi characters are stripped.
    let path = format!("/api/workbook/sessions/{id}/join");
    let (status, body) = app
        .post(&path, Some(&user), json!({"displayName": "Ann B."}))
        .await;
    assert_eq!(
        (status, body["participant"]["name"].as_str()),
        (StatusCode::OK, Some("Ann B."))
    );
    for bad in ["", "\u{202E}\n", &"x".repeat(101)] {
        let (status, body) = app
            .post(&path, Some(&user), json!({"displayName": bad}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {body}");
    }
    // A public URL, when configured, wins over the Host header.
    let Some(public) = TestApp::start_with(backend, |f| {
        f.merge(figment::providers::Serialized::default(
            "server.public_url",
            "https://workshops.example",
        ))
    })
    .await
    else {
        return;
    };
    let host = public.user_with_role("host@example.com", "premium").await;
    let id = live_session(&public, &host, json!({})).await;
    assert_eq!(
        join(&public, &id, &host).await["hubUrl"],
        format!("wss://workshops.example/api/workbook/sessions/{id}/ws")
    );
}

/// `join` hands out the configured ICE servers, TURN with time-limited credentials for the
/// caller; with media off there is no `mediaUrl` and health reports no media.
async fn join_gives_ice_servers_or_no_media_when_it_is_off(backend: Backend) {
    use figment::providers::Serialized;
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default(
            "media.stun_urls",
            ["stun:127.0.0.1:3478"],
        ))
        .merge(Serialized::default(
            "media.turn_urls",
            ["turn:127.0.0.1:3478"],
        ))
        .merge(Serialized::default(
            "media.turn_secret",
            "a-shared-turn-secret",
        ))
    })
    .await
    else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let id = live_session(&app, &host, json!({})).await;
    let joined = join(&app, &id, &host).await;
    let servers = joined["iceServers"].as_array().unwrap();
    assert_eq!(servers[0], json!({"urls": ["stun:127.0.0.1:3478"]}));
    assert_eq!(servers[1]["urls"], json!(["turn:127.0.0.1:3478"]));
    let username = servers[1]["username"].as_str().unwrap();
    let (expires, user) = username.split_once(':').unwrap();
    assert_eq!(user, joined["participant"]["id"].as_str().unwrap());
    let expires: i64 = expires.parse().unwrap();
    let in_a_day = chrono::Utc::now().timestamp() + 86_400;
    assert!((in_a_day - expires).abs() < 60, "{username}");
    assert_eq!(servers[1]["credential"].as_str().unwrap().len(), 28);

    let Some(off) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("media.enabled", false))
    })
    .await
    else {
        return;
    };
    let host = off.user_with_role("host@example.com", "premium").await;
    let id = live_session(&off, &host, json!({})).await;
    let joined = join(&off, &id, &host).await;
    assert_eq!(joined["mediaUrl"], serde_json::Value::Null, "{joined}");
    assert_eq!(joined["iceServers"], json!([]));
    let (_, health) = off.get("/api/health", None).await;
    assert_eq!(health["media"], serde_json::Value::Null, "{health}");
}

crate::on_both_backends!(
    rest_lifecycle_and_permissions,
    join_returns_role_capabilities_and_ticket,
    join_gives_ice_servers_or_no_media_when_it_is_off
);
