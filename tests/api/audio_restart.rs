//! A server killed with `kill -9` in the middle of a transcription finishes the job after a
//! restart: the queue is in the database, and a job found running at start runs again.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::audio::{SENTENCE, assert_heard, prerequisites, speech, upload, wait_for_job};
use crate::harness::{Server, free_port, register_at};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_interrupted_by_kill_9_finishes_after_restart() {
    if !prerequisites() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let audio = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server::start(data.path(), port).await;
    let client = reqwest::Client::new();
    let token = register_at(&server.base, "k@example.com").await;
    let long = speech(audio.path(), &[SENTENCE; 10].join(" "));
    let (status, body) = upload(&server.base, &token, &long, "Long").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["recording"]["id"].as_str().unwrap().to_owned();
    let queued = client
        .post(format!("{}/api/workbook/audio/transcribe", server.base))
        .bearer_auth(&token)
        .json(&json!({"recordingId": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(queued.status(), StatusCode::ACCEPTED);

    // Wait until the job is running, then kill the server without warning.
    let mut running = false;
    for _ in 0..300 {
        let detail: Value = client
            .get(format!("{}/api/workbook/audio/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if detail["transcription"]["status"] == "running" {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(running, "the job never started");
    server.kill_9();

    let server = Server::start(data.path(), port).await;
    let detail = wait_for_job(&server.base, &token, &id, Duration::from_secs(300)).await;
    assert_eq!(detail["transcription"]["status"], "done", "{detail}");
    assert!(
        detail["transcription"]["attempts"].as_i64() >= Some(2),
        "{detail}"
    );
    assert_heard(&detail);
}
