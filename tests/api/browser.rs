//! The browser client (`web/`) as the server serves it, and its workbook pages end to end in
//! headless Chromium (`tests/browser/workbook.mjs`): two people in separate browser contexts,
//! real Yjs editing, the real Whisper model.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};
use serde_json::json;

use crate::audio::{SENTENCE, prerequisites, speech};
use crate::harness::{Backend, TestApp};
use crate::media::{chromium_installed, installed, run_client};
use crate::modules::{create_module, id_of, module_body};

/// Where the end-to-end test leaves its screenshots (a CI artifact).
const ARTIFACTS: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/browser");

fn client_built() -> bool {
    installed("web/dist/index.html", "the web client (web/dist)").is_some()
}

/// Chromium with the media tests' launcher, and axe for the page checks.
fn browser_installed() -> bool {
    let what = "the browser client end to end";
    chromium_installed(what)
        && installed("tests/browser/node_modules/@axe-core/playwright", what).is_some()
}

/// An account called `name` (`name@example.com`, password `password123`) with `role`: its
/// access token and id.
async fn named_user(app: &TestApp, name: &str, role: &str) -> (String, String) {
    let email = format!("{}@example.com", name.to_lowercase());
    let token = app.user_with_role(&email, role).await;
    let (status, body) = app
        .call(
            reqwest::Method::PATCH,
            "/api/workbook/me",
            Some(&token),
            Some(json!({ "name": name })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    (token, id)
}

/// Runs `node tests/browser/<script> <config>`; its last stdout line is its findings.
async fn run_browser(script: &str, config: &serde_json::Value) -> serde_json::Value {
    std::fs::create_dir_all(ARTIFACTS).unwrap();
    let config = config.to_string();
    let limit = Duration::from_secs(240);
    let findings = run_client(
        Path::new("node"),
        "tests/browser",
        script,
        &[&config],
        limit,
    )
    .await;
    eprintln!("{script}: {findings}");
    findings
}

/// `/` and every client route answer the client's page; its hashed assets are cached for a
/// year and sent gzipped to whoever accepts it; the server's own paths keep their JSON 404.
#[tokio::test]
async fn the_server_serves_the_client_with_deep_links_and_cached_assets() {
    if !client_built() {
        return;
    }
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let http = reqwest::Client::builder().no_gzip().build().unwrap();

    let index = http.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(index.headers()[CACHE_CONTROL], "no-cache");
    assert!(index.headers().contains_key("content-security-policy"));
    let etag = index.headers()[ETAG].clone();
    let page = index.text().await.unwrap();
    assert!(page.contains("<div id=\"app\">"), "{page}");

    for route in [
        "/notes/6a1f6a1e-2b8c-4a51-9d0e-0c1a2b3c4d5e",
        "/modules",
        "/reset-password",
    ] {
        let deep = http.get(app.url(route)).send().await.unwrap();
        assert_eq!(deep.status(), StatusCode::OK, "{route}");
        assert_eq!(
            deep.text().await.unwrap(),
            page,
            "{route} is the client's page"
        );
    }
    let unchanged = http
        .get(app.url("/"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    let script = page
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("index.html loads a script");
    assert!(script.starts_with("/assets/"), "{script}");
    let gzipped = http
        .get(app.url(script))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status(), StatusCode::OK);
    assert_eq!(
        gzipped.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(gzipped.headers()[CONTENT_ENCODING], "gzip");
    let gzipped_len = gzipped.bytes().await.unwrap().len();
    let plain = http.get(app.url(script)).send().await.unwrap();
    assert!(!plain.headers().contains_key(CONTENT_ENCODING));
    let plain_len = plain.bytes().await.unwrap().len();
    assert!(gzipped_len < plain_len, "{gzipped_len} < {plain_len}");

    // A missing file is a 404, not the page; the API's paths keep their JSON errors.
    for path in [
        "/assets/index-gone.js",
        "/api/nothing",
        "/api/workbook/nothing",
    ] {
        let (status, body) = app.get(path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let post = http.post(app.url("/modules")).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
}

/// Ada (an admin) and Bob in two browser contexts: sign-in and sign-up, modules unlocking as
/// Bob completes a prerequisite, a note Ada shares and both edit at once (seeing each other's
/// cursors, Bob offline for a while), search, Bob's upload and voice note transcribed, and
/// the admin's dashboard. axe finds no serious violation on any page; screenshots land in
/// `target/tmp/browser/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_use_the_workbook_pages_in_chromium() {
    if !(browser_installed() && client_built() && prerequisites()) {
        return;
    }
    let _turn = crate::media::ONE_AT_A_TIME.lock().await;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (admin, _) = named_user(&app, "Ada", "admin").await;
    let basics = create_module(&app, &admin, module_body("Basics", json!({}))).await;
    create_module(
        &app,
        &admin,
        module_body("Deeper", json!({"prerequisites": [id_of(&basics)]})),
    )
    .await;
    let audio = tempfile::tempdir().unwrap();
    let wav = speech(audio.path(), SENTENCE);

    let config = json!({
        "base": app.base,
        "admin": {"email": "ada@example.com", "password": "password123"},
        "modules": ["Basics", "Deeper"],
        "wav": wav,
        "spoken": ["fox", "dog", "workbook", "notes", "answers"],
        "artifacts": ARTIFACTS,
    });
    let findings = run_browser("workbook.mjs", &config).await;
    assert_eq!(
        findings["pages"],
        json!(["modules", "note", "search", "audio", "voice note"])
    );
    assert_eq!(findings["screenshots"].as_array().unwrap().len(), 6);
    for shot in findings["screenshots"].as_array().unwrap() {
        assert!(Path::new(shot.as_str().unwrap()).is_file(), "{shot}");
    }
}

/// Ada hosts a live session from the sessions page; Bob joins it, Carol as a guest through
/// an invite link. Ada's camera and microphone reach both through the SFU, Bob (made a
/// presenter) shares his screen, chat, a poll, an upvoted question and a raised hand
/// round-trip, and her mute stops his audio. Carol's connection drops for longer than the
/// server keeps her peer: she catches up on the chat and gets video again. The recording's
/// transcript then names both speakers and plays from a clicked line, and Ada's dashboard
/// counts the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_runs_a_live_session_in_chromium() {
    if !(browser_installed() && client_built() && prerequisites()) {
        return;
    }
    let _turn = crate::media::ONE_AT_A_TIME.lock().await;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let mut people = serde_json::Map::new();
    // Carol has no account: she joins as a guest from Ada's invite link.
    for (name, role) in [("Ada", "admin"), ("Bob", "user")] {
        let (_, id) = named_user(&app, name, role).await;
        people.insert(
            name.to_owned(),
            json!({"email": format!("{}@example.com", name.to_lowercase()), "password": "password123", "id": id}),
        );
    }
    let audio = tempfile::tempdir().unwrap();
    let wav = crate::recording::speech_48k(audio.path(), "everyone", SENTENCE);
    let config = json!({
        "base": app.base,
        "people": people,
        "artifacts": ARTIFACTS,
        "wav": wav,
        "spoken": ["workbook", "notes", "answers", "fox", "dog"],
    });
    let findings = run_browser("session.mjs", &config).await;
    assert_eq!(findings["muted"], true);
    assert_eq!(findings["rejoined"], true);
    assert!(findings["transcript"].as_str().unwrap().contains("bob:"));
    // #, attendance, chat messages (Carol's and Ada's), votes, questions, hands.
    assert_eq!(
        findings["engagement"],
        json!(["1", "3", "2", "1", "1", "1"])
    );
    assert_eq!(findings["screenshots"].as_array().unwrap().len(), 2);
}
