//! Account management: password change, profile edit, and the admin's accounts (search,
//! disable, delete, reset links), on a real server and database.

use std::time::Duration;

use figment::providers::Serialized;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_password_change_keeps_this_login_and_ends_the_others,
    the_profile_changes_name_and_email,
    a_disabled_account_is_shut_out_at_once,
    a_reset_link_works_once,
    a_reset_link_expires,
    an_admin_deletes_an_account_with_its_data,
    admins_search_accounts,
    account_management_is_for_admins_and_not_on_oneself,
);

/// `POST /auth/login`: status and body.
async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    app.post(
        "/api/workbook/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

/// A login of `email`: its access and refresh tokens.
async fn signed_in(app: &TestApp, email: &str, password: &str) -> (String, String) {
    let (status, body) = login(app, email, password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["token"].as_str().unwrap().to_owned(),
        body["refreshToken"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(app: &TestApp, refresh_token: &str) -> StatusCode {
    let body = json!({"refreshToken": refresh_token});
    app.post("/api/workbook/auth/refresh", None, body).await.0
}

async fn me(app: &TestApp, token: &str) -> (StatusCode, Value) {
    app.get("/api/workbook/auth/me", Some(token)).await
}

/// The fields a 422 names.
fn fields(status: StatusCode, body: &Value) -> Vec<String> {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect()
}

/// Registers `email` (password `password123`); returns its id.
async fn register(app: &TestApp, email: &str) -> String {
    let body = app.register(email, "password123").await;
    body["user"]["id"].as_str().unwrap().to_owned()
}

async fn a_password_change_keeps_this_login_and_ends_the_others(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    register(&app, "pat@example.com").await;
    let (here, here_refresh) = signed_in(&app, "pat@example.com", "password123").await;
    let (there, there_refresh) = signed_in(&app, "pat@example.com", "password123").await;
    let path = "/api/workbook/me/password";

    let (status, body) = app
        .post(
            path,
            Some(&here),
            json!({"currentPassword": "password123", "newPassword": "short"}),
        )
        .await;
    assert_eq!(fields(status, &body), ["newPassword"]);
    let (status, body) = app
        .post(
            path,
            Some(&here),
            json!({"currentPassword": "password123", "newPassword": "long enough", "extra": 1}),
        )
        .await;
    assert_eq!(fields(status, &body), ["extra"]);
    let (status, _) = app
        .post(
            path,
            Some(&here),
            json!({"currentPassword": "wrong password", "newPassword": "new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&app, &there).await.0,
        StatusCode::OK,
        "nothing changed yet"
    );

    let (status, body) = app
        .post(
            path,
            Some(&here),
            json!({"currentPassword": "password123", "newPassword": "new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // The other login is over, its access token at once; this one goes on.
    assert_eq!(me(&app, &there).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &there_refresh).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(me(&app, &here).await.0, StatusCode::OK);
    assert_eq!(refresh(&app, &here_refresh).await, StatusCode::OK);
    assert_eq!(
        login(&app, "pat@example.com", "password123").await.0,
        StatusCode::UNAUTHORIZED
    );
    signed_in(&app, "pat@example.com", "new password").await;
}

async fn the_profile_changes_name_and_email(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    register(&app, "taken@example.com").await;
    register(&app, "sam@example.com").await;
    let (token, _) = signed_in(&app, "sam@example.com", "password123").await;
    let patch = |body: Value| app.call(Method::PATCH, "/api/workbook/me", Some(&token), Some(body));

    let (status, body) = patch(json!({"name": "  Sam Smith "})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["name"], "Sam Smith");
    assert_eq!(body["user"]["email"], "sam@example.com");

    let (status, body) = patch(json!({"name": " ", "email": "not-an-email"})).await;
    assert_eq!(fields(status, &body), ["name", "email", "currentPassword"]);
    let (status, body) = patch(json!({"displayName": "x"})).await;
    assert_eq!(fields(status, &body), ["displayName"]);
    // The same email, however written, is no change and needs no password.
    let (status, body) = patch(json!({"email": " SAM@example.com"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = patch(json!({"email": "new@example.com"})).await;
    assert_eq!(fields(status, &body), ["currentPassword"]);
    let (status, _) =
        patch(json!({"email": "new@example.com", "currentPassword": "wrong password"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) =
        patch(json!({"email": "Taken@example.com", "currentPassword": "password123"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "email_taken");

    let (status, body) =
        patch(json!({"email": "New@Example.com", "currentPassword": "password123"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["email"], "new@example.com");
    assert_eq!(me(&app, &token).await.1["user"]["email"], "new@example.com");
    signed_in(&app, "new@example.com", "password123").await;
    assert_eq!(
        login(&app, "sam@example.com", "password123").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_disabled_account_is_shut_out_at_once(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let id = register(&app, "dana@example.com").await;
    let (token, refresh_token) = signed_in(&app, "dana@example.com", "password123").await;
    let users = format!("/api/workbook/admin/users/{id}");

    let (status, body) = app
        .post(&format!("{users}/disable"), Some(&admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["disabledAt"].is_string(), "{body}");

    let (status, body) = me(&app, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "account_disabled");
    assert_eq!(
        refresh(&app, &refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = login(&app, "dana@example.com", "password123").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "account_disabled");
    // A wrong password learns nothing about the account.
    let (status, body) = login(&app, "dana@example.com", "wrong password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");

    let (status, body) = app
        .post(&format!("{users}/enable"), Some(&admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["disabledAt"].is_null(), "{body}");
    // Enabled again, it signs in anew: the logins that were ended stay ended.
    assert_eq!(
        refresh(&app, &refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    let (token, _) = signed_in(&app, "dana@example.com", "password123").await;
    assert_eq!(me(&app, &token).await.0, StatusCode::OK);
}

/// Issues a reset link for `id` as `admin`; returns the response body.
async fn reset_link(app: &TestApp, admin: &str, id: &str) -> Value {
    let path = format!("/api/workbook/admin/users/{id}/password-reset");
    let (status, body) = app.post(&path, Some(admin), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn reset(app: &TestApp, token: &Value, new_password: &str) -> (StatusCode, Value) {
    app.post(
        "/api/workbook/auth/password-reset",
        None,
        json!({"token": token, "newPassword": new_password}),
    )
    .await
}

async fn a_reset_link_works_once(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let id = register(&app, "rey@example.com").await;
    let (token, refresh_token) = signed_in(&app, "rey@example.com", "password123").await;

    let replaced = reset_link(&app, &admin, &id).await;
    let link = reset_link(&app, &admin, &id).await;
    let url = link["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!(
            "/reset-password#token={}",
            link["token"].as_str().unwrap()
        )),
        "{link}"
    );
    let expires: chrono::DateTime<chrono::Utc> =
        link["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(59) && left <= chrono::Duration::hours(1));
    // The token is stored hashed: the database never holds it.
    let stored: Vec<u8> = workbook::on_pool!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT token_hash FROM password_resets"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_ne!(stored, link["token"].as_str().unwrap().as_bytes());

    let (status, body) = reset(&app, &link["token"], "short").await;
    assert_eq!(fields(status, &body), ["newPassword"]);
    let (status, body) = reset(&app, &replaced["token"], "brand new password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a newer link replaced it");
    assert_eq!(body["error"]["code"], "invalid_reset_link");

    let (status, body) = reset(&app, &link["token"], "brand new password").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Signed out everywhere; the new password signs in, the old one no longer.
    assert_eq!(me(&app, &token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "rey@example.com", "password123").await.0,
        StatusCode::UNAUTHORIZED
    );
    signed_in(&app, "rey@example.com", "brand new password").await;

    let (status, body) = reset(&app, &link["token"], "another password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "used once: {body}");
    signed_in(&app, "rey@example.com", "brand new password").await;
}

async fn a_reset_link_expires(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("auth.password_reset_ttl_secs", 1))
    })
    .await
    else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let id = register(&app, "eve@example.com").await;
    let link = reset_link(&app, &admin, &id).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = reset(&app, &link["token"], "brand new password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "invalid_reset_link");
    signed_in(&app, "eve@example.com", "password123").await;
}

async fn an_admin_deletes_an_account_with_its_data(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    let id = register(&app, "del@example.com").await;
    register(&app, "friend@example.com").await;
    let (token, refresh_token) = signed_in(&app, "del@example.com", "password123").await;
    let note = app
        .create_note(&token, json!({"title": "Mine", "isPrivate": false}))
        .await;
    let note_path = format!("/api/workbook/notes/{}", note["id"].as_str().unwrap());
    let (status, _) = app
        .post(
            &format!("{note_path}/shares"),
            Some(&token),
            json!({"email": "friend@example.com", "permission": "read"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (friend_token, _) = signed_in(&app, "friend@example.com", "password123").await;
    assert_eq!(
        app.get(&note_path, Some(&friend_token)).await.0,
        StatusCode::OK
    );
    reset_link(&app, &admin, &id).await;

    let users = format!("/api/workbook/admin/users/{id}");
    let (status, body) = app.call(Method::DELETE, &users, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    assert_eq!(me(&app, &token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "del@example.com", "password123").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(&note_path, Some(&friend_token)).await.0,
        StatusCode::NOT_FOUND,
        "the shared note went with its owner"
    );
    let uuid: uuid::Uuid = id.parse().unwrap();
    for table in ["notes", "refresh_tokens", "password_resets", "users"] {
        let column = if table == "users" {
            "id"
        } else if table == "notes" {
            "owner_id"
        } else {
            "user_id"
        };
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let left: i64 = workbook::on_pool!(&app.state.db, |pool| sqlx::query_scalar(
            sqlx::AssertSqlSafe(sql.as_str())
        )
        .bind(uuid)
        .fetch_one(pool)
        .await
        .unwrap());
        assert_eq!(left, 0, "{table} still holds the account's rows");
    }
    let (status, _) = app.call(Method::DELETE, &users, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn admins_search_accounts(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin = app.user_with_role("admin@example.com", "admin").await;
    for email in ["alice@school.org", "bob@school.org", "carol@home.net"] {
        register(&app, email).await;
    }
    let search = |q: &str| {
        let path = format!("/api/workbook/admin/users?q={q}");
        let admin = admin.clone();
        let app = &app;
        async move {
            let (status, body) = app.get(&path, Some(&admin)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let emails: Vec<String> = body["users"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["email"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(body["total"], emails.len());
            emails
        }
    };
    assert_eq!(
        search("SCHOOL").await,
        ["alice@school.org", "bob@school.org"]
    );
    assert_eq!(search("carol").await, ["carol@home.net"]);
    // The name matches too ("Test User" for everyone here); wildcards are literal.
    assert_eq!(search("test%20user").await.len(), 4);
    assert!(search("%25").await.is_empty());
    assert!(search("_").await.is_empty());
    assert_eq!(search("").await.len(), 4);
    let (status, body) = app
        .get(
            &format!("/api/workbook/admin/users?q={}", "x".repeat(256)),
            Some(&admin),
        )
        .await;
    assert_eq!(fields(status, &body), ["q"]);
}

async fn account_management_is_for_admins_and_not_on_oneself(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let admin_id = register(&app, "root@example.com").await;
    workbook::db::users::set_role(
        &app.state.db,
        admin_id.parse().unwrap(),
        workbook::auth::roles::Role::Admin,
    )
    .await
    .unwrap();
    let (admin, _) = signed_in(&app, "root@example.com", "password123").await;
    let id = register(&app, "plain@example.com").await;
    let (user, _) = signed_in(&app, "plain@example.com", "password123").await;

    for target in [&id, &admin_id] {
        let users = format!("/api/workbook/admin/users/{target}");
        for (method, path) in [
            (Method::GET, "/api/workbook/admin/users".to_owned()),
            (Method::POST, format!("{users}/disable")),
            (Method::POST, format!("{users}/enable")),
            (Method::POST, format!("{users}/password-reset")),
            (Method::DELETE, users.clone()),
        ] {
            let (status, body) = app.call(method.clone(), &path, Some(&user), None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
        }
    }

    let users = format!("/api/workbook/admin/users/{admin_id}");
    let (status, body) = app
        .post(&format!("{users}/disable"), Some(&admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "own_account");
    let (status, body) = app.call(Method::DELETE, &users, Some(&admin), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "own_account");
    assert_eq!(me(&app, &admin).await.0, StatusCode::OK);

    let missing = format!("/api/workbook/admin/users/{}", uuid::Uuid::new_v4());
    for (method, path) in [
        (Method::POST, format!("{missing}/disable")),
        (Method::POST, format!("{missing}/enable")),
        (Method::POST, format!("{missing}/password-reset")),
        (Method::DELETE, missing.clone()),
    ] {
        let (status, _) = app.call(method.clone(), &path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
}
