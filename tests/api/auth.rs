//! Accounts and tokens: register, login, me, refresh rotation and reuse, logout, and the
//! tokens that must be refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use figment::providers::Serialized;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::login_lifetime::with_refresh_grace;
use crate::on_both_backends;

on_both_backends!(
    register_login_me,
    refresh_rotates_and_reuse_revokes_the_family,
    logout_revokes_the_refresh_token,
    bad_tokens_are_refused,
    cookies_authenticate,
    roles_guard_admin_routes,
    the_bearer_scheme_is_case_insensitive,
    secure_cookies_are_set_and_cleared_secure,
);

async fn register_login_me(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let registered = app.register("Ada@Example.com", "correct horse").await;
    assert_eq!(registered["user"]["email"], "ada@example.com");
    assert_eq!(registered["user"]["role"], "user");
    assert!(registered["user"].get("passwordHash").is_none());

    let (status, login) = app
        .post(
            "/api/workbook/auth/login",
            None,
            json!({"email": "ada@example.com", "password": "correct horse"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let token = login["token"].as_str().unwrap();
    let (status, me) = app.get("/api/workbook/auth/me", Some(token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["id"], registered["user"]["id"]);

    for (email, password) in [
        ("ada@example.com", "wrong horse"),
        ("nobody@example.com", "x"),
    ] {
        let (status, body) = app
            .post(
                "/api/workbook/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

pub async fn refresh(app: &TestApp, refresh_token: &str) -> (StatusCode, Value) {
    app.post(
        "/api/workbook/auth/refresh",
        None,
        json!({"refreshToken": refresh_token}),
    )
    .await
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    // No grace: any replay of a spent token is theft (login_lifetime.rs tests the grace).
    let Some(app) = with_refresh_grace(backend, 0).await else {
        return;
    };
    let first = app.register("bob@example.com", "password123").await;
    let first_refresh = first["refreshToken"].as_str().unwrap();

    let (status, second) = refresh(&app, first_refresh).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let second_refresh = second["refreshToken"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    let (status, _) = app
        .get("/api/workbook/auth/me", second["token"].as_str())
        .await;
    assert_eq!(status, StatusCode::OK);

    // Replaying the rotated token is theft: it fails and takes the whole family down.
    let (status, body) = refresh(&app, first_refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = refresh(&app, second_refresh).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another login is another family, untouched.
    let (status, other) = app
        .post(
            "/api/workbook/auth/login",
            None,
            json!({"email": "bob@example.com", "password": "password123"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = refresh(&app, other["refreshToken"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

async fn logout_revokes_the_refresh_token(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let session = app.register("carol@example.com", "password123").await;
    let refresh_token = session["refreshToken"].as_str().unwrap();
    let (status, body) = app
        .post(
            "/api/workbook/auth/logout",
            None,
            json!({"refreshToken": refresh_token}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    let (status, _) = refresh(&app, refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

async fn bad_tokens_are_refused(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let session = app.register("dave@example.com", "password123").await;
    let good = session["token"].as_str().unwrap();
    let id = session["user"]["id"].as_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = |aud: &str, exp: i64| {
        json!({"sub": id, "email": "dave@example.com", "role": "admin", "iss": "workbook",
               "aud": aud, "iat": now - 1000, "exp": exp})
    };

    let expired = app
        .state
        .keys
        .access
        .encode(&claims("workbook-api", now - 600));
    let wrong_audience = app
        .state
        .keys
        .access
        .encode(&claims("another-service", now + 600));
    let ticket_as_access = app
        .state
        .keys
        .ticket
        .encode(&claims("workbook-api", now + 600));
    let alg_none = format!(
        "{}.{}.",
        encode_part(&json!({"alg": "none", "typ": "JWT"})),
        encode_part(&claims("workbook-api", now + 600))
    );
    let mut tampered = good.to_owned();
    let payload_start = tampered.find('.').unwrap() + 1;
    let forged_payload = encode_part(&claims("workbook-api", now + 600));
    let payload_end = tampered.rfind('.').unwrap();
    tampered.replace_range(payload_start..payload_end, &forged_payload);

    for (what, token) in [
        ("expired", expired.as_str()),
        ("wrong audience", &wrong_audience),
        ("signed with the ticket key", &ticket_as_access),
        ("alg none", &alg_none),
        ("tampered payload", &tampered),
        ("garbage", "not.a.jwt"),
    ] {
        let (status, body) = app.get("/api/workbook/auth/me", Some(token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
    }
    let (status, _) = app.get("/api/workbook/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn cookies_authenticate(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    app.register("erin@example.com", "password123").await;
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let response = browser
        .post(app.url("/api/workbook/auth/login"))
        .json(&json!({"email": "erin@example.com", "password": "password123"}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().all(|c| c.contains("HttpOnly")),
        "{cookies:?}"
    );
    let me = browser
        .get(app.url("/api/workbook/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // The refresh cookie alone rotates the session.
    let refreshed = browser
        .post(app.url("/api/workbook/auth/refresh"))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let logout = browser
        .post(app.url("/api/workbook/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::OK);
    let me = browser
        .get(app.url("/api/workbook/auth/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

async fn roles_guard_admin_routes(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let user = app.user_with_role("frank@example.com", "user").await;
    let premium = app.user_with_role("gina@example.com", "premium").await;
    let admin = app.user_with_role("hal@example.com", "admin").await;
    for token in [&user, &premium] {
        let (status, body) = app.get("/api/workbook/admin/users", Some(token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let (status, body) = app.get("/api/workbook/admin/users", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 3);
    assert_eq!(body["hasMore"], false);

    let frank = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "frank@example.com")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            &format!("/api/workbook/admin/users/{frank}"),
            Some(&admin),
            Some(json!({"role": "premium"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "premium");
}

async fn the_bearer_scheme_is_case_insensitive(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let session = app.register("ivy@example.com", "password123").await;
    let token = session["token"].as_str().unwrap();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .client
            .get(app.url("/api/workbook/auth/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "scheme {scheme}");
    }
    let response = app
        .client
        .get(app.url("/api/workbook/auth/me"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// The `Set-Cookie` values of a response.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn secure_cookies_are_set_and_cleared_secure(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(Serialized::default("auth.secure_cookies", true))
    })
    .await
    else {
        return;
    };
    let session = app.register("jo@example.com", "password123").await;
    let login = app
        .client
        .post(app.url("/api/workbook/auth/login"))
        .json(&json!({"email": "jo@example.com", "password": "password123"}))
        .send()
        .await
        .unwrap();
    let logout = app
        .client
        .post(app.url("/api/workbook/auth/logout"))
        .json(&json!({"refreshToken": session["refreshToken"]}))
        .send()
        .await
        .unwrap();
    for (what, cookies) in [
        ("login", set_cookies(&login)),
        ("logout", set_cookies(&logout)),
    ] {
        assert_eq!(cookies.len(), 2, "{what}: {cookies:?}");
        for cookie in cookies {
            assert!(cookie.ends_with("; Secure"), "{what}: {cookie}");
            assert!(
                cookie.contains("HttpOnly; SameSite=Strict"),
                "{what}: {cookie}"
            );
        }
    }
}
