//! What survives a crash (`kill -9`), a shutdown (SIGTERM), and a REST write racing a live
//! edit; and the metrics that follow sockets and rooms as they open and close.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::Child;

use super::{
    LiveNote, close_code, finish, lines, next_line, node_clients_ready, raw_client,
    receives_update, run_client, spawn_client, update_frame,
};
use crate::harness::{create_note_at, free_port, register_at, wait_healthy, workbook_binary};

/// The real binary serving on `port` with its data in `data_dir` (SQLite), once it answers;
/// with its base URL.
async fn serve(data_dir: &Path, port: u16) -> (Child, String) {
    let server = tokio::process::Command::from(workbook_binary(data_dir))
        .env("WORKBOOK_SERVER__BIND", format!("127.0.0.1:{port}"))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(
        wait_healthy(&base).await,
        "server at {base} did not come up"
    );
    (server, base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_edit_loses_nothing_a_client_had_seen() {
    if !node_clients_ready() {
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let port = free_port();
    let (mut server, base) = serve(data_dir.path(), port).await;
    let token = register_at(&base, "crash@example.com").await;
    let id = create_note_at(
        &base,
        &token,
        json!({"title": "Crash", "content": "start;"}),
    )
    .await;

    let ws_base = format!("ws://127.0.0.1:{port}/api/workbook/notes/ws");
    let mut observer = spawn_client("crash_observer.mjs", &[&ws_base, &id, &token]);
    let mut out = lines(&mut observer);
    assert_eq!(next_line(&mut out, "crash_observer.mjs").await, "ready");
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    let result = finish(observer, out, "crash_observer.mjs").await;
    let seen = result["seen"].as_str().unwrap();
    assert!(seen.starts_with("start;edit 0;"), "{seen}");

    let port = free_port();
    let (_restarted, base) = serve(data_dir.path(), port).await;
    // Search reads only the stored text, which trailed the log when the process died: the
    // restarted server catches it up by itself, before anyone opens the note.
    let last_seen = seen.trim_end_matches(';').rsplit(';').next().unwrap();
    let number = last_seen.trim_start_matches("edit ");
    let mut hits = Value::Null;
    for _ in 0..100 {
        hits = get_json(
            &client,
            &format!("{base}/api/workbook/search?q={number}"),
            &token,
        )
        .await;
        if hits["hits"][0]["id"] == id.as_str() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hits["hits"][0]["id"], id.as_str(), "{hits}");

    let ws_base = format!("ws://127.0.0.1:{port}/api/workbook/notes/ws");
    let stored = run_client("dump.mjs", &[&ws_base, &id, &token]).await;
    let stored = stored["text"].as_str().unwrap();
    eprintln!(
        "kill -9: the observer had seen {} edits, the writer sent {}, the restarted server has {}",
        seen.matches(';').count() - 1,
        result["edits"],
        stored.matches(';').count() - 1
    );
    assert!(
        stored.starts_with(seen),
        "lost edits: saw {seen:?}, stored {stored:?}"
    );
    let note: Value = get_json(&client, &format!("{base}/api/workbook/notes/{id}"), &token).await;
    assert_eq!(note["note"]["content"], stored);
}

/// `GET url` as `token`, answered with JSON.
async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_live_connections_with_4501() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut server, base) = serve(data_dir.path(), port).await;
    let token = register_at(&base, "term@example.com").await;
    let id = create_note_at(&base, &token, json!({"title": "Term", "content": "body"})).await;
    let url = format!("ws://127.0.0.1:{port}/api/workbook/notes/ws/{id}?token={token}");
    let mut live = raw_client(&url, None).await;

    let pid = server.id().unwrap().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(signalled.success());
    assert_eq!(close_code(&mut live).await, 4501);
    let stopped = tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .expect("server stops after SIGTERM")
        .unwrap();
    assert!(stopped.success(), "{stopped:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_based_on_text_read_before_a_live_edit_gets_409_and_erases_nothing() {
    use futures_util::SinkExt;

    let live = LiveNote::start("").await;
    let mut owner = live.connect(&live.owner).await;
    let mut writer = live.connect(&live.writer).await;
    writer.send(update_frame("first. ")).await.unwrap();
    assert!(receives_update(&mut owner, Duration::from_secs(5)).await);

    // A REST client reads the text and its version; someone types before it writes back,
    // well within the second after which the room would save the text by itself.
    let read = live.rest_note().await;
    assert_eq!(read["content"], "first. ");
    writer
        .send(update_frame("typed meanwhile. "))
        .await
        .unwrap();
    assert!(receives_update(&mut owner, Duration::from_secs(5)).await);
    let (status, body) = live
        .put_based_on(
            &live.owner,
            read["version"].clone(),
            json!({"content": "rewritten. "}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "version_conflict");

    // Read again, the text has the live edit, and a change based on it applies.
    let current = live.rest_note().await;
    let text = current["content"].as_str().unwrap();
    assert!(
        text.contains("first. ") && text.contains("typed meanwhile. "),
        "{current}"
    );
    let (status, body) = live
        .put(&live.owner, json!({"content": "rewritten. "}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["note"]["content"], "rewritten. ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_open_sockets_loaded_rooms_append_waits_and_closes() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let live = LiveNote::start("").await;
    let app = &live.app;
    app.metric_becomes("note_sockets_open", 0.0).await;
    app.metric_becomes("note_rooms_loaded", 0.0).await;
    let mut owner = live.connect(&live.owner).await;
    let mut writer = live.connect(&live.writer).await;
    app.metric_becomes("note_sockets_open", 2.0).await;
    app.metric_becomes("note_rooms_loaded", 1.0).await;

    // The histogram is the process's, shared with other tests: it must count this edit.
    let appends_before = app.metric("note_append_seconds_count").await.unwrap_or(0.0);
    writer.send(update_frame("hello")).await.unwrap();
    assert!(receives_update(&mut owner, Duration::from_secs(2)).await);
    let appends = app.metric("note_append_seconds_count").await.unwrap_or(0.0);
    assert!(appends > appends_before, "{appends_before} → {appends}");

    let closes = r#"note_socket_closes_total{code="4413"}"#;
    let closes_before = app.metric(closes).await.unwrap_or(0.0);
    let limit = app.state.rooms.config().limits.max_frame_bytes;
    writer
        .send(Message::binary(vec![0; limit + 1024]))
        .await
        .unwrap();
    assert_eq!(close_code(&mut writer).await, 4413);
    let closed = app.metric(closes).await.unwrap_or(0.0);
    assert!(closed > closes_before, "{closes_before} → {closed}");
    app.metric_becomes("note_sockets_open", 1.0).await;
    drop(owner);
    app.metric_becomes("note_sockets_open", 0.0).await;
}
