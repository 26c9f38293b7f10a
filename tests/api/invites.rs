//! Invite links: guests join a live session without an account, within the link's uses and
//! time; accounts accept one to enter an invite-only session; sign-ups can be turned off.

use figment::providers::Serialized;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::hub_client::{HubClient, join, live_session, ws_url};
use crate::on_both_backends;

on_both_backends!(
    guests_join_through_an_invite_within_its_uses_and_time,
    an_invite_only_session_admits_invited_accounts_only,
    only_moderators_manage_invites_and_revoked_links_admit_nobody,
    registration_can_be_turned_off,
);

async fn invite(app: &TestApp, host: &str, session: &str, body: Value) -> Value {
    let (status, created) = app
        .post(
            &format!("/api/workbook/sessions/{session}/invites"),
            Some(host),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// `POST /invites/accept` of `invite` as the account `token`.
async fn accept(app: &TestApp, token: &str, invite: &Value) -> (StatusCode, Value) {
    app.post(
        "/api/workbook/invites/accept",
        Some(token),
        json!({"token": invite["token"]}),
    )
    .await
}

async fn as_guest(app: &TestApp, token: &str, name: &str) -> (StatusCode, Value) {
    app.post(
        "/api/workbook/invites/guest",
        None,
        json!({"token": token, "displayName": name}),
    )
    .await
}

async fn guests_join_through_an_invite_within_its_uses_and_time(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let session = live_session(&app, &host, json!({})).await;
    let created = invite(
        &app,
        &host,
        &session,
        json!({"role": "viewer", "maxUses": 2}),
    )
    .await;
    let token = created["token"].as_str().unwrap();
    assert!(
        created["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/invite#token={token}"))
    );
    assert_eq!(created["uses"], 0);

    let (status, view) = app
        .post(
            "/api/workbook/invites/lookup",
            None,
            json!({"token": token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["session"]["title"], "Workshop");
    assert_eq!(view["role"], "viewer");

    // A guest joins with a display name: a ticket the hub takes, with the invite's role.
    let (status, joined) = as_guest(&app, token, "Gus").await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    let ticket = joined["join"]["ticket"].as_str().unwrap();
    let mut gus = HubClient::open(&ws_url(&app, &session, ticket, None))
        .await
        .unwrap();
    let welcome = gus.next().await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["participant"]["name"], "Gus");
    assert_eq!(welcome["participant"]["role"], "viewer");
    assert!(
        !welcome["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("raise_hand"))
    );
    gus.send(json!({"type": "chat.send", "text": "hello from a guest"}))
        .await;
    gus.event("chat.posted").await;

    // The guest's pass gets a new ticket after a drop; a wrong secret gets nothing.
    let guest = &joined["guest"];
    let rejoin = format!("/api/workbook/sessions/{session}/guest-join");
    let (status, again) = app
        .post(
            &rejoin,
            None,
            json!({"guestId": guest["id"], "secret": guest["secret"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["participant"]["id"], guest["id"]);
    let (status, _) = app
        .post(
            &rejoin,
            None,
            json!({"guestId": guest["id"], "secret": "guess"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Two uses: the third guest is refused.
    let (status, _) = as_guest(&app, token, "Gina").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = as_guest(&app, token, "Gert").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "invite_used_up");

    // An expired link admits nobody.
    let timed = invite(&app, &host, &session, json!({"expiresInMinutes": 1})).await;
    sqlx_expire(&app, timed["id"].as_str().unwrap()).await;
    let (status, body) = as_guest(&app, timed["token"].as_str().unwrap(), "Late").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "invite_expired");

    // Bad input: an empty name, an unknown token.
    let open = invite(&app, &host, &session, json!({})).await;
    let (status, body) = as_guest(&app, open["token"].as_str().unwrap(), "  ").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "displayName");
    let (status, _) = as_guest(&app, "no-such-token", "Nobody").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An invite for accounts only refuses guests.
    let members = invite(&app, &host, &session, json!({"guests": false})).await;
    let (status, body) = as_guest(&app, members["token"].as_str().unwrap(), "Gus").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "guests_not_allowed");
}

/// Moves an invite's expiry into the past, as time would.
async fn sqlx_expire(app: &TestApp, invite: &str) {
    let id: uuid::Uuid = invite.parse().unwrap();
    let past = chrono::Utc::now() - chrono::Duration::minutes(5);
    match &app.state.db {
        workbook::db::Db::Sqlite(pool) => {
            sqlx::query("UPDATE session_invites SET expires_at = $1 WHERE id = $2")
                .bind(past)
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
        }
        workbook::db::Db::Postgres(pool) => {
            sqlx::query("UPDATE session_invites SET expires_at = $1 WHERE id = $2")
                .bind(past)
                .bind(id)
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn an_invite_only_session_admits_invited_accounts_only(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let session = live_session(&app, &host, json!({"inviteOnly": true})).await;
    let path = format!("/api/workbook/sessions/{session}/join");

    let (status, body) = app.post(&path, Some(&ann), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "invite_required");
    join(&app, &session, &host).await;

    let created = invite(
        &app,
        &host,
        &session,
        json!({"role": "presenter", "maxUses": 1}),
    )
    .await;
    let (status, accepted) = accept(&app, &ann, &created).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["sessionId"], session.as_str());
    // Accepting again takes no second use.
    let (status, _) = accept(&app, &ann, &created).await;
    assert_eq!(status, StatusCode::OK);
    let joined = join(&app, &session, &ann).await;
    assert_eq!(joined["role"], "presenter", "the invite's role");

    // The one use is spent: Bob stays out.
    let (status, body) = accept(&app, &bob, &created).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    let (status, _) = app.post(&path, Some(&bob), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn only_moderators_manage_invites_and_revoked_links_admit_nobody(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let session = live_session(&app, &host, json!({})).await;
    let path = format!("/api/workbook/sessions/{session}/invites");

    let (status, _) = app.post(&path, Some(&ann), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&path, Some(&ann)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for bad in [
        json!({"role": "host"}),
        json!({"maxUses": 0}),
        json!({"expiresInMinutes": 50000}),
        json!({"rol": "viewer"}),
    ] {
        let (status, body) = app.post(&path, Some(&host), bad.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }

    let created = invite(&app, &host, &session, json!({})).await;
    let (status, list) = app.get(&path, Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["invites"].as_array().unwrap().len(), 1);
    assert!(
        list["invites"][0].get("token").is_none(),
        "tokens are shown once"
    );

    let id = created["id"].as_str().unwrap();
    let (status, _) = app
        .call(Method::DELETE, &format!("{path}/{id}"), Some(&host), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = as_guest(&app, created["token"].as_str().unwrap(), "Gus").await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(body["error"]["code"], "invite_revoked");

    // Ended: no new invites, no guests.
    let (status, _) = app
        .post(
            &format!("/api/workbook/sessions/{session}/end"),
            Some(&host),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.post(&path, Some(&host), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

async fn registration_can_be_turned_off(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |figment| {
        figment.merge(Serialized::default("auth.allow_registration", false))
    })
    .await
    else {
        return;
    };
    let (status, body) = app
        .post(
            "/api/workbook/auth/register",
            None,
            json!({"email": "new@example.com", "name": "New", "password": "password123"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "registration_closed");
}
