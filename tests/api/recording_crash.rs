//! A server killed with `kill -9` in the middle of a recording: after a restart the files
//! play up to the crash, the recording is marked interrupted, and its transcript is made.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::audio::prerequisites;
use crate::harness::{Server, free_port, register_at, workbook_binary};
use crate::media::{ONE_AT_A_TIME, installed};
use crate::recording::{ANN_SAYS, ANN_WORDS, probe, speech_48k};

async fn call(method: reqwest::Method, url: &str, token: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_killed_with_the_server_plays_up_to_the_crash_and_is_transcribed() {
    if !prerequisites() {
        return;
    }
    let Some(python) = installed(".venv/bin/python", "recording crash test") else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let data = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    // A host may record: premium, made with the CLI before the server starts.
    let mut create = workbook_binary(data.path())
        .args([
            "user",
            "create",
            "--email",
            "host@example.com",
            "--name",
            "Host",
        ])
        .args(["--role", "premium"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"password123\n")
        .unwrap();
    assert!(create.wait().unwrap().success());

    let port = free_port();
    let mut server = Server::start(data.path(), port).await;
    let base = server.base.clone();
    let login: Value = reqwest::Client::new()
        .post(format!("{base}/api/workbook/auth/login"))
        .json(&json!({"email": "host@example.com", "password": "password123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let host = login["token"].as_str().unwrap().to_owned();
    let ann = register_at(&base, "ann@example.com").await;
    let post = reqwest::Method::POST;
    let session = call(
        post.clone(),
        &format!("{base}/api/workbook/sessions"),
        &host,
        json!({"title": "Crash", "scheduledStart": "2030-01-01T10:00:00Z"}),
    )
    .await;
    let id = session["id"].as_str().unwrap().to_owned();
    let sessions = format!("{base}/api/workbook/sessions/{id}");
    call(post.clone(), &format!("{sessions}/start"), &host, json!({})).await;
    let host_joined = call(post.clone(), &format!("{sessions}/join"), &host, json!({})).await;
    let ann_joined = call(post.clone(), &format!("{sessions}/join"), &ann, json!({})).await;
    let ws = |joined: &Value| {
        let ticket = joined["ticket"].as_str().unwrap();
        format!(
            "{}/ws?ticket={ticket}",
            sessions.replacen("http://", "ws://", 1)
        )
    };
    let ann_wav = speech_48k(scratch.path(), "ann", ANN_SAYS);

    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/media/aiortc_recording.py");
    let mut peers = tokio::process::Command::new(&python)
        .arg(script)
        .arg("hold")
        .args([ws(&host_joined), ws(&ann_joined)])
        .arg(ann_joined["participant"]["id"].as_str().unwrap())
        .arg(&ann_wav)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(peers.stdout.take().unwrap()).lines();
    let started = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the recording starts within 30 s")
        .unwrap();
    assert_eq!(started.as_deref(), Some(r#"{"recording": true}"#));
    let recording_started = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    server.kill_9();
    let recorded_for = recording_started.elapsed().as_secs_f64();
    peers.kill().await.unwrap();

    let server = Server::start(data.path(), port).await;
    let get = reqwest::Method::GET;
    let list = call(
        get.clone(),
        &format!("{sessions}/recordings"),
        &host,
        Value::Null,
    )
    .await;
    let recording = &list["recordings"][0];
    assert_eq!(recording["status"], "interrupted", "{list}");
    assert!(recording["stopReason"].is_string(), "{recording}");
    let tracks = recording["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 1, "{recording}");
    assert!(tracks[0]["fileSize"].as_i64().unwrap() > 0, "{recording}");
    let recording_id = recording["id"].as_str().unwrap();
    let file = data
        .path()
        .join("recordings")
        .join(recording_id)
        .join(tracks[0]["fileName"].as_str().unwrap());
    let (codec, duration) = probe(&file);
    assert_eq!(codec, "opus");
    // Pages are flushed each second: at most about that much is lost.
    assert!(
        duration > recorded_for - 2.0 && duration <= recorded_for + 0.5,
        "{duration} s of {recorded_for} s"
    );

    // Its transcript is queued at restart.
    let transcript_url = format!("{sessions}/recordings/{recording_id}/transcript");
    let waited = Instant::now();
    let transcript = loop {
        let transcript = call(get.clone(), &transcript_url, &host, Value::Null).await;
        if transcript["tracks"][0]["status"] == "done" {
            break transcript;
        }
        assert_ne!(transcript["tracks"][0]["status"], "failed", "{transcript}");
        assert!(waited.elapsed() < Duration::from_secs(120), "{transcript}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let text = transcript["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    let heard = ANN_WORDS.iter().filter(|w| text.contains(*w)).count();
    // tiny.en mishears espeak's "brown fox" and "dog" now and then ("groundhog", "log").
    assert!(heard >= 2, "heard {heard} of {ANN_WORDS:?} in {transcript}");
    drop(server);
}
