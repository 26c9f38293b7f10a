//! Uploads and transcription through the API, with the real bundled Whisper model and speech
//! made by espeak-ng, converted with ffmpeg.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    every_format_is_transcribed_and_searchable,
    uploads_are_checked,
    jobs_can_be_cancelled_and_retried,
    a_refused_upload_leaves_no_file,
);

pub const SENTENCE: &str = "The quick brown fox jumps over the lazy dog. \
                        Please open the workbook and write your answers in the notes.";
const KEY_WORDS: &[&str] = &[
    "quick", "brown", "fox", "lazy", "dog", "open", "write", "answers", "notes",
];

/// Skips loudly (or fails in CI) when the model or the speech tools are missing.
pub fn prerequisites() -> bool {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ggml-tiny.en.bin");
    let tools = ["espeak-ng", "ffmpeg"]
        .iter()
        .all(|tool| Command::new(tool).arg("--help").output().is_ok());
    if model.is_file() && tools {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("transcription prerequisites missing: run scripts/setup.sh test");
    }
    eprintln!("SKIPPED: the Whisper model or espeak-ng/ffmpeg is missing (scripts/setup.sh test)");
    false
}

/// Speech of `text` as WAV in `dir`, and converted copies.
pub fn speech(dir: &Path, text: &str) -> PathBuf {
    let wav = dir.join("speech.wav");
    let status = Command::new("espeak-ng")
        .arg("-w")
        .arg(&wav)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success());
    wav
}

pub fn convert(input: &Path, output: &Path, args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-y", "-loglevel", "error", "-i"])
        .arg(input)
        .args(args)
        .arg(output)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
}

pub async fn upload(app_base: &str, token: &str, file: &Path, title: &str) -> (StatusCode, Value) {
    let bytes = std::fs::read(file).unwrap();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let form = Form::new()
        .text("title", title.to_owned())
        .part("audio", Part::bytes(bytes).file_name(name));
    let response = reqwest::Client::new()
        .post(format!("{app_base}/api/workbook/audio"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls the recording until its job leaves queued/running; returns the final detail.
pub async fn wait_for_job(base: &str, token: &str, id: &str, limit: Duration) -> Value {
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let detail: Value = client
            .get(format!("{base}/api/workbook/audio/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = detail["transcription"]["status"].as_str().unwrap_or("none");
        if !matches!(status, "queued" | "running") {
            return detail;
        }
        assert!(
            started.elapsed() < limit,
            "job still {status} after {limit:?}: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn assert_heard(detail: &Value) {
    let text = detail["text"].as_str().unwrap_or_default().to_lowercase();
    let heard: Vec<&str> = KEY_WORDS
        .iter()
        .copied()
        .filter(|w| text.contains(w))
        .collect();
    // tiny.en mishears synthetic speech (~20 % word error rate): a clear majority suffices.
    assert!(heard.len() >= 5, "heard only {heard:?} in {detail}");
}

async fn every_format_is_transcribed_and_searchable(backend: Backend) {
    if !prerequisites() {
        return;
    }
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("listener@example.com", "user").await;
    let dir = tempfile::tempdir().unwrap();
    let wav = speech(dir.path(), SENTENCE);
    let mp3 = dir.path().join("speech.mp3");
    convert(
        &wav,
        &mp3,
        &[
            "-ac",
            "2",
            "-ar",
            "44100",
            "-c:a",
            "libmp3lame",
            "-b:a",
            "96k",
        ],
    );
    let m4a = dir.path().join("speech.m4a");
    convert(&wav, &m4a, &["-c:a", "aac", "-b:a", "96k"]);
    let opus = dir.path().join("speech.ogg");
    convert(&wav, &opus, &["-c:a", "libopus", "-b:a", "32k"]);

    for (file, format) in [(&wav, "wav"), (&mp3, "mp3"), (&m4a, "m4a"), (&opus, "opus")] {
        let (status, body) = upload(&app.base, &token, file, &format!("Lecture {format}")).await;
        assert_eq!(status, StatusCode::CREATED, "{format}: {body}");
        let recording = &body["recording"];
        assert_eq!(recording["format"], format);
        let duration = recording["durationSecs"].as_f64().unwrap();
        assert!(
            (4.0..12.0).contains(&duration),
            "{format}: duration {duration}"
        );
        let id = recording["id"].as_str().unwrap();

        let (status, queued) = app
            .post(
                "/api/workbook/audio/transcribe",
                Some(&token),
                json!({"recordingId": id}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        assert_eq!(queued["status"], "queued");
        let detail = wait_for_job(&app.base, &token, id, Duration::from_secs(120)).await;
        assert_eq!(
            detail["transcription"]["status"], "done",
            "{format}: {detail}"
        );
        assert_heard(&detail);
        let segments = detail["segments"].as_array().unwrap();
        let mut previous_end = 0.0;
        for segment in segments {
            let (start, end) = (
                segment["startSecs"].as_f64().unwrap(),
                segment["endSecs"].as_f64().unwrap(),
            );
            assert!(
                start >= previous_end - 0.01 && start < end && end <= duration + 0.5,
                "{format}: {segment}"
            );
            previous_end = end;
        }
    }

    let (status, found) = app
        .get("/api/workbook/search?q=lazy%20dog", Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK);
    let hits: Vec<&Value> = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "transcript")
        .collect();
    assert!(!hits.is_empty(), "{found}");
    let hit = hits[0];
    assert_eq!(hit["recordingId"], hit["id"]);
    let start = hit["start"].as_f64().unwrap();
    assert!((0.0..10.0).contains(&start), "{hit}");
    assert!(hit["snippet"].as_str().unwrap().contains("<mark>"), "{hit}");

    // The recording's own file is served for playback from that moment.
    let file = app
        .client
        .get(app.url(&format!(
            "/api/workbook/audio/{}/file",
            hit["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(file.bytes().await.unwrap().len(), 100);

    // Nobody else finds or reads it.
    let other = app.user_with_role("other@example.com", "user").await;
    let (_, theirs) = app
        .get("/api/workbook/search?q=lazy%20dog", Some(&other))
        .await;
    assert!(theirs["hits"].as_array().unwrap().is_empty(), "{theirs}");
    let (status, _) = app
        .get(
            &format!("/api/workbook/audio/{}", hit["id"].as_str().unwrap()),
            Some(&other),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn uploads_are_checked(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("uploader@example.com", "user").await;
    let dir = tempfile::tempdir().unwrap();

    let text = dir.path().join("notes.mp3");
    std::fs::write(&text, "this is a text file, not audio\n".repeat(50)).unwrap();
    let (status, body) = upload(&app.base, &token, &text, "fake").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert_eq!(body["error"]["code"], "unsupported_media_type");

    // 101 MB: refused with 413 while streaming, and nothing is left behind.
    let big = vec![0u8; 101 * 1024 * 1024];
    let form = Form::new()
        .text("title", "too big")
        .part("audio", Part::bytes(big).file_name("big.wav"));
    let response = reqwest::Client::new()
        .post(app.url("/api/workbook/audio"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await;
    match response {
        Ok(response) => assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE),
        // The server may answer and close before the client finished sending.
        Err(err) => assert!(err.is_request() || err.is_body(), "{err}"),
    }
    let audio_dir = app.state.config.storage.data_dir.join("audio");
    let leftovers: Vec<_> = std::fs::read_dir(&audio_dir)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let (status, body) = upload(&app.base, &token, &text, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let response = app
        .client
        .post(app.url("/api/workbook/audio"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, _) = app
        .post(
            "/api/workbook/audio/transcribe",
            Some(&token),
            json!({"recordingId": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn jobs_can_be_cancelled_and_retried(backend: Backend) {
    if !prerequisites() {
        return;
    }
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("owner@example.com", "user").await;
    let dir = tempfile::tempdir().unwrap();
    let long = speech(dir.path(), &[SENTENCE; 8].join(" "));
    let (status, body) = upload(&app.base, &token, &long, "Long lecture").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["recording"]["id"].as_str().unwrap().to_owned();

    let transcribe = json!({"recordingId": id});
    let (status, _) = app
        .post(
            "/api/workbook/audio/transcribe",
            Some(&token),
            transcribe.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = app
        .post(
            "/api/workbook/audio/transcribe",
            Some(&token),
            transcribe.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "job_active");

    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/workbook/audio/{id}/transcription/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let detail = wait_for_job(&app.base, &token, &id, Duration::from_secs(60)).await;
    assert_eq!(detail["transcription"]["status"], "cancelled", "{detail}");
    assert!(detail["segments"].is_null());

    // Queuing again is the retry.
    let (status, _) = app
        .post("/api/workbook/audio/transcribe", Some(&token), transcribe)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let detail = wait_for_job(&app.base, &token, &id, Duration::from_secs(300)).await;
    assert_eq!(detail["transcription"]["status"], "done", "{detail}");
    // Cancelled while queued it never ran; cancelled while running it did.
    assert!(
        detail["transcription"]["attempts"].as_i64() >= Some(1),
        "{detail}"
    );
    assert_heard(&detail);

    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/workbook/audio/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let audio_dir = app.state.config.storage.data_dir.join("audio");
    assert_eq!(std::fs::read_dir(&audio_dir).unwrap().count(), 0);
}

/// One second of 16 kHz mono 16-bit silence as a WAV file.
fn silent_wav() -> Vec<u8> {
    let data_len: u32 = 16_000 * 2;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&32_000u32.to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.resize(wav.len() + data_len as usize, 0);
    wav
}

/// An upload refused after its file was probed and moved into place (a module that does not
/// exist) removes the file; an accepted one keeps exactly its own.
async fn a_refused_upload_leaves_no_file(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let token = app.user_with_role("uploader@example.com", "user").await;
    let send = |module: Option<String>| {
        let mut form = Form::new()
            .text("title", "Silence")
            .part("audio", Part::bytes(silent_wav()).file_name("silence.wav"));
        if let Some(module) = module {
            form = form.text("moduleId", module);
        }
        app.client
            .post(app.url("/api/workbook/audio"))
            .bearer_auth(&token)
            .multipart(form)
            .send()
    };
    let audio_dir = app.state.config.storage.data_dir.join("audio");
    let files = || -> Vec<PathBuf> {
        std::fs::read_dir(&audio_dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };

    let refused = send(Some(uuid::Uuid::new_v4().to_string())).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "moduleId", "{body}");
    assert!(files().is_empty(), "{:?}", files());

    let accepted = send(None).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::CREATED);
    let body: Value = accepted.json().await.unwrap();
    let id = body["recording"]["id"].as_str().unwrap();
    assert_eq!(body["recording"]["format"], "wav", "{body}");
    assert_eq!(files(), vec![audio_dir.join(format!("{id}.wav"))]);
}
