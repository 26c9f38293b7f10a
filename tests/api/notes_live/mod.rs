//! Live notes against a real server on loopback, by subject: clients nobody on this project
//! wrote (`interop`), a client that stops reading or sends too much (`backpressure`), what
//! survives crashes, shutdowns and concurrent writes (`lifecycle`), and connections following
//! changes of access (`access`). Shared here: the interop client runner, a prepared note
//! and a raw WebSocket client.
//!
//! The Node clients live in `tests/interop` (installed by `scripts/setup.sh test`); without
//! them these tests say loudly that they skipped, or fail when `CI` is set.

mod access;
mod backpressure;
mod interop;
mod lifecycle;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::harness::{Backend, TestApp};

/// Longest any one client script may run.
const SCRIPT_LIMIT: Duration = Duration::from_secs(90);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Whether the Node clients are installed: if not, skip loudly, or fail under CI.
fn node_clients_ready() -> bool {
    if interop_dir().join("node_modules/y-websocket").is_dir() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but tests/interop/node_modules is missing: run scripts/setup.sh test"
    );
    eprintln!(
        "SKIPPED: live-note interop test (tests/interop/node_modules missing; run scripts/setup.sh test)"
    );
    false
}

/// Starts an interop client: `node SCRIPT ARGS` or, for `.py`, the project's venv Python.
fn spawn_client(script: &str, args: &[&str]) -> Child {
    let program = if script.ends_with(".py") {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(".venv/bin/python")
            .into_os_string()
    } else {
        "node".into()
    };
    Command::new(program)
        .arg(script)
        .args(args)
        .current_dir(interop_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {script}: {e}"))
}

/// The client's stdout, line by line.
fn lines(child: &mut Child) -> Lines<BufReader<ChildStdout>> {
    BufReader::new(child.stdout.take().unwrap()).lines()
}

/// The next stdout line, failing the test when the client ends or takes too long.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>, script: &str) -> String {
    tokio::time::timeout(SCRIPT_LIMIT, lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{script} printed nothing for {SCRIPT_LIMIT:?}"))
        .unwrap()
        .unwrap_or_else(|| panic!("{script} ended early"))
}

/// Waits for the client to succeed; its last stdout line is its JSON result.
async fn finish(mut child: Child, mut lines: Lines<BufReader<ChildStdout>>, script: &str) -> Value {
    let mut last = String::new();
    while let Some(line) = tokio::time::timeout(SCRIPT_LIMIT, lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{script} did not finish within {SCRIPT_LIMIT:?}"))
        .unwrap()
    {
        last = line;
    }
    let status = child.wait().await.unwrap();
    assert!(
        status.success(),
        "{script} failed ({status}); see its stderr above"
    );
    serde_json::from_str(&last).unwrap_or_else(|_| panic!("{script} printed {last:?}"))
}

/// Runs a client script to the end and returns its JSON result.
async fn run_client(script: &str, args: &[&str]) -> Value {
    let mut child = spawn_client(script, args);
    let out = lines(&mut child);
    finish(child, out, script).await
}

/// A note owned by `owner@example.com`, shared for writing with `writer@` and for reading
/// with `reader@`; `stranger@` has no access.
struct LiveNote {
    app: TestApp,
    /// `ws://.../api/workbook/notes/ws`, the provider's base URL.
    ws_base: String,
    id: String,
    owner: String,
    writer: String,
    reader: String,
    stranger: String,
}

impl LiveNote {
    async fn start(content: &str) -> LiveNote {
        let app = TestApp::start(Backend::Sqlite).await.unwrap();
        let owner = app.user_with_role("owner@example.com", "user").await;
        let writer = app.user_with_role("writer@example.com", "user").await;
        let reader = app.user_with_role("reader@example.com", "user").await;
        let stranger = app.user_with_role("stranger@example.com", "user").await;
        let created = app
            .create_note(
                &owner,
                json!({"title": "Live", "content": content, "isPrivate": false}),
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        for (email, permission) in [
            ("writer@example.com", "write"),
            ("reader@example.com", "read"),
        ] {
            let (status, body) = app
                .post(
                    &format!("/api/workbook/notes/{id}/shares"),
                    Some(&owner),
                    json!({"email": email, "permission": permission}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let ws_base = format!(
            "{}/api/workbook/notes/ws",
            app.base.replace("http://", "ws://")
        );
        LiveNote {
            app,
            ws_base,
            id,
            owner,
            writer,
            reader,
            stranger,
        }
    }

    /// `PUT`s `changes` to the note as `token`, based on its current version.
    async fn put(&self, token: &str, changes: Value) -> (StatusCode, Value) {
        let version = self.rest_note().await["version"].clone();
        self.put_based_on(token, version, changes).await
    }

    /// `PUT`s `changes` to the note as `token`, based on `version`.
    async fn put_based_on(
        &self,
        token: &str,
        version: Value,
        mut changes: Value,
    ) -> (StatusCode, Value) {
        changes["version"] = version;
        self.app
            .call(
                Method::PUT,
                &format!("/api/workbook/notes/{}", self.id),
                Some(token),
                Some(changes),
            )
            .await
    }

    async fn rest_note(&self) -> Value {
        let (status, body) = self
            .app
            .get(
                &format!("/api/workbook/notes/{}", self.id),
                Some(&self.owner),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["note"].clone()
    }

    /// A raw WebSocket to the note's room as `token`.
    async fn connect(
        &self,
        token: &str,
    ) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
        let url = format!("{}/{}?token={token}", self.ws_base, self.id);
        raw_client(&url, None).await
    }
}

/// A raw WebSocket client; `recv_buffer` shrinks its kernel receive buffer so a client that
/// stops reading pushes back on the server quickly.
async fn raw_client(
    url: &str,
    recv_buffer: Option<u32>,
) -> tokio_tungstenite::WebSocketStream<tokio::net::TcpStream> {
    let address = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size).unwrap();
    }
    let stream = socket.connect(address).await.unwrap();
    let (mut client, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    // The room greets every connection it admits with sync step 1 (message 0, sync type 0);
    // until then the connection may not be in the room yet and would miss what follows.
    let greeting = tokio::time::timeout(SCRIPT_LIMIT, futures_util::StreamExt::next(&mut client))
        .await
        .expect("the room greets a new connection");
    assert!(
        matches!(&greeting, Some(Ok(tokio_tungstenite::tungstenite::Message::Binary(b))) if b.starts_with(&[0, 0])),
        "expected sync step 1, got {greeting:?}"
    );
    client
}

/// Whether a frame is a document update (y-websocket message 0, sync type 2).
fn is_update(message: &tokio_tungstenite::tungstenite::Message) -> bool {
    matches!(message, tokio_tungstenite::tungstenite::Message::Binary(b) if b.starts_with(&[0, 2]))
}

/// Reads until the server's close frame and returns its code.
async fn close_code(client: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) -> u16 {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(Duration::from_secs(1), client.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => return u16::from(frame.code),
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame within a second, got {other:?}"),
        }
    }
}

/// A y-websocket update message (sync message 0, update 2) inserting `text` as a fresh client.
fn update_frame(text: &str) -> tokio_tungstenite::tungstenite::Message {
    let update = crdt::seed_update(text);
    let mut frame = vec![0u8, 2];
    let mut len = update.len();
    while len >= 0x80 {
        frame.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    frame.push(len as u8);
    frame.extend_from_slice(&update);
    tokio_tungstenite::tungstenite::Message::binary(frame)
}

/// Whether a document update reaches `client` within `within`.
async fn receives_update(
    client: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    within: Duration,
) -> bool {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, client.next()).await {
            Ok(Some(Ok(message))) if is_update(&message) => return true,
            Ok(Some(Ok(_))) => {}
            _ => return false,
        }
    }
}
