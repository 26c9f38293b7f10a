//! REST reads and writes, and uploads. Each REST client works on notes of its own account
//! in a cycle (create, read, replace the body, list, search both ways, delete), one request
//! per interval; an uploader sends a speech recording, has it transcribed, checks the
//! transcript has words, and deletes it. Any answer that is not a success is an error.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::Load;

/// How long a transcription may take before it counts as failed.
const TRANSCRIBE_TIMEOUT: Duration = Duration::from_secs(180);

pub fn spawn(
    tasks: &mut JoinSet<()>,
    load: &Arc<Load>,
    clients: usize,
    interval: Duration,
    speech: Vec<u8>,
    upload_every: Duration,
) {
    // Accounts after the ones owning note rooms.
    let first = load.tokens.len() - clients - 1;
    for client in 0..clients {
        let token = load.tokens[first + client].clone();
        tasks.spawn(notes_client(load.clone(), token, interval));
    }
    let token = load.tokens[first + clients].clone();
    tasks.spawn(uploader(load.clone(), token, speech.into(), upload_every));
}

/// Sends one request, counts it, and returns its JSON (`null` for an empty body).
async fn call(load: &Load, request: RequestBuilder) -> anyhow::Result<Value> {
    let response = request.send().await?;
    load.counters.requests.fetch_add(1, Ordering::Relaxed);
    let status = response.status();
    let (method_path, body) = (response.url().path().to_owned(), response.bytes().await?);
    if !status.is_success() {
        bail!(
            "{status} from {method_path}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn request(load: &Load, token: &str, method: Method, path: &str) -> RequestBuilder {
    load.http
        .request(method, format!("{}/api/workbook{path}", load.base))
        .bearer_auth(token)
}

async fn notes_client(load: Arc<Load>, token: String, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    let mut round = 0u64;
    while load.running() {
        round += 1;
        if let Err(error) = note_cycle(&load, &token, &mut tick, round).await {
            load.counters.error(format!("REST: {error:#}"));
        }
    }
}

/// One note's life, one request per tick.
async fn note_cycle(
    load: &Load,
    token: &str,
    tick: &mut tokio::time::Interval,
    round: u64,
) -> anyhow::Result<()> {
    let word = ["workshop", "agenda", "notes", "summary"][round as usize % 4];
    tick.tick().await;
    let body = json!({"title": format!("Soak {round}"), "content": format!("# {word}\n\nfirst draft"), "tags": ["soak"]});
    let created = call(
        load,
        request(load, token, Method::POST, "/notes").json(&body),
    )
    .await?;
    let id = created["note"]["id"]
        .as_str()
        .context("no note id")?
        .to_owned();
    tick.tick().await;
    let read = call(
        load,
        request(load, token, Method::GET, &format!("/notes/{id}")),
    )
    .await?;
    let version = read["note"]["version"]
        .as_i64()
        .or(read["version"].as_i64())
        .context("no version")?;
    tick.tick().await;
    let change =
        json!({"version": version, "content": format!("# {word}\n\nsecond draft, {round}")});
    call(
        load,
        request(load, token, Method::PUT, &format!("/notes/{id}")).json(&change),
    )
    .await?;
    for path in [
        "/notes?limit=20".to_owned(),
        format!("/notes?search={word}"),
        format!("/search?q={word}"),
    ] {
        tick.tick().await;
        call(load, request(load, token, Method::GET, &path)).await?;
    }
    tick.tick().await;
    call(
        load,
        request(load, token, Method::DELETE, &format!("/notes/{id}")),
    )
    .await?;
    Ok(())
}

async fn uploader(load: Arc<Load>, token: String, speech: Arc<[u8]>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if !load.running() {
            break;
        }
        match transcribe(&load, &token, &speech).await {
            Ok(()) => {
                load.counters.transcribed.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => load.counters.error(format!("upload: {error:#}")),
        }
    }
}

/// Upload, queue the transcription, wait for it, check it, delete the recording.
async fn transcribe(load: &Load, token: &str, speech: &Arc<[u8]>) -> anyhow::Result<()> {
    let file = reqwest::multipart::Part::bytes(speech.to_vec()).file_name("speech.wav");
    let form = reqwest::multipart::Form::new()
        .text("title", "Soak recording")
        .part("audio", file);
    let uploaded = call(
        load,
        request(load, token, Method::POST, "/audio").multipart(form),
    )
    .await?;
    let id = uploaded["recording"]["id"]
        .as_str()
        .context("no recording id")?
        .to_owned();
    let queue = json!({"recordingId": id});
    call(
        load,
        request(load, token, Method::POST, "/audio/transcribe").json(&queue),
    )
    .await?;
    let started = Instant::now();
    let detail = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let detail = call(
            load,
            request(load, token, Method::GET, &format!("/audio/{id}")),
        )
        .await?;
        match detail["transcription"]["status"].as_str() {
            Some("done") => break detail,
            Some("failed" | "cancelled") => {
                bail!("transcription ended: {}", detail["transcription"])
            }
            _ if started.elapsed() > TRANSCRIBE_TIMEOUT => {
                bail!("transcription took over {TRANSCRIBE_TIMEOUT:?}")
            }
            _ => {}
        }
    };
    let text = detail["text"].as_str().unwrap_or_default();
    if !text.chars().any(char::is_alphabetic) {
        bail!("empty transcript: {detail}");
    }
    call(
        load,
        request(load, token, Method::DELETE, &format!("/audio/{id}")),
    )
    .await?;
    Ok(())
}
