//! The real binary killed with SIGKILL mid-session: everything acknowledged before the
//! kill (chat, a vote, a question) is there after a restart, and resume still works.

use std::io::Write;
use std::process::{Child, Stdio};

use serde_json::{Value, json};

use crate::hub_client::HubClient;

use crate::harness::{wait_healthy, workbook_binary as workbook};

/// A server process on `port`, healthy.
async fn serve(data_dir: &std::path::Path, port: u16) -> Child {
    let mut child = workbook(data_dir)
        .env("WORKBOOK_SERVER__BIND", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    if wait_healthy(&format!("http://127.0.0.1:{port}")).await {
        return child;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not come up");
}

/// A premium account made with the CLI (before the server runs), logged in over REST.
fn create_host(data_dir: &std::path::Path) {
    let mut child = workbook(data_dir)
        .args([
            "user",
            "create",
            "--email",
            "host@example.com",
            "--name",
            "Host",
            "--role",
            "premium",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"password123\n")
        .unwrap();
    assert!(child.wait().unwrap().success());
}

struct Remote {
    base: String,
    client: reqwest::Client,
}

impl Remote {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn hub(&self, session: &str, token: &str, last_seq: Option<u64>) -> (HubClient, Value) {
        let ticket = self
            .post(
                &format!("/api/workbook/sessions/{session}/join"),
                Some(token),
                json!({}),
            )
            .await;
        let base = self.base.replacen("http://", "ws://", 1);
        let url = ws_url_from(&base, session, ticket["ticket"].as_str().unwrap(), last_seq);
        let mut client = HubClient::open(&url).await.unwrap();
        let welcome = client.next().await;
        client.last_seq = welcome["seq"].as_u64().unwrap();
        (client, welcome)
    }
}

fn ws_url_from(base: &str, session: &str, ticket: &str, last_seq: Option<u64>) -> String {
    let mut url = format!("{base}/api/workbook/sessions/{session}/ws?ticket={ticket}");
    if let Some(seq) = last_seq {
        url.push_str(&format!("&last_seq={seq}"));
    }
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_votes_and_questions_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    create_host(dir.path());
    let mut server = serve(dir.path(), port).await;
    let remote = Remote {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
    };

    let host = remote
        .post(
            "/api/workbook/auth/login",
            None,
            json!({"email": "host@example.com", "password": "password123"}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let ann = remote
        .post(
            "/api/workbook/auth/register",
            None,
            json!({"email": "ann@example.com", "name": "Ann", "password": "password123"}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = remote
        .post(
            "/api/workbook/sessions",
            Some(&host),
            json!({"title": "Crash", "scheduledStart": "2030-01-01T10:00:00Z"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    remote
        .post(
            &format!("/api/workbook/sessions/{session}/start"),
            Some(&host),
            json!({}),
        )
        .await;

    let (mut h, _) = remote.hub(&session, &host, None).await;
    let (mut a, _) = remote.hub(&session, &ann, None).await;
    a.ok(json!({"type": "chat.send", "text": "written before the crash"}))
        .await;
    let poll = h
        .ok(json!({"type": "poll.create", "question": "Tabs?", "options": ["yes", "no"]}))
        .await["poll"]
        .clone();
    h.ok(json!({"type": "poll.open", "poll": poll})).await;
    a.ok(json!({"type": "poll.vote", "poll": poll, "choices": [1]}))
        .await;
    a.ok(json!({"type": "qa.ask", "text": "Will it survive?", "anonymous": false}))
        .await;
    a.ok(json!({"type": "hand.raise"})).await;
    let seen = a.until(|f| f["event"]["kind"] == "hand.raised").await["seq"]
        .as_u64()
        .unwrap();

    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let mut server = serve(dir.path(), port).await;

    // The host reconnects fresh: the snapshot holds everything acknowledged.
    let (_h, welcome) = remote.hub(&session, &host, None).await;
    let snapshot = &welcome["snapshot"];
    assert_eq!(
        snapshot["chat"]["messages"][0]["text"], "written before the crash",
        "{welcome}"
    );
    assert_eq!(
        snapshot["polls"][0]["tally"]["counts"],
        json!([0, 1]),
        "{welcome}"
    );
    assert_eq!(snapshot["questions"][0]["text"], "Will it survive?");
    assert_eq!(snapshot["hands"].as_array().unwrap().len(), 1, "{welcome}");
    // Ann resumes from her last seq: no snapshot, the missed events in order.
    let (mut a, welcome) = remote.hub(&session, &ann, Some(seen)).await;
    assert!(welcome.get("snapshot").is_none(), "{welcome}");
    let next = a.until(|f| f["type"] == "event").await;
    assert_eq!(next["seq"], seen + 1, "{next}");
    drop(h);
    server.kill().unwrap();
    server.wait().unwrap();
}
