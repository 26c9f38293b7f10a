//! Session recording end to end: aiortc speakers publish through the SFU while the host
//! records; the files are probed with `ffprobe`, the manifest read, and the transcript made
//! by the real Whisper model checked for who said what, and when.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::audio::{convert, prerequisites};
use crate::harness::{Backend, TestApp};
use crate::hub_client::{join, live_session, ws_url};
use crate::media::{ONE_AT_A_TIME, installed, run_script};
use crate::on_both_backends;

on_both_backends!(
    two_speakers_are_recorded_transcribed_and_attributed,
    a_full_disk_stops_the_recording_with_a_reason,
);

pub(crate) const ANN_SAYS: &str = "The quick brown fox jumps over the lazy dog.";
pub(crate) const ANN_WORDS: &[&str] = &["quick", "brown", "fox", "lazy", "dog"];
const BOB_SAYS: &str = "Please open the workbook and write your answers in the notes.";
const BOB_WORDS: &[&str] = &["open", "workbook", "write", "answers", "notes"];

/// `text` spoken by espeak-ng as 48 kHz mono WAV, as aiortc sends it.
pub(crate) fn speech_48k(dir: &Path, name: &str, text: &str) -> PathBuf {
    let raw = dir.join(format!("{name}-raw.wav"));
    let status = Command::new("espeak-ng")
        .arg("-w")
        .arg(&raw)
        .arg(text)
        .status()
        .unwrap();
    assert!(status.success());
    let wav = dir.join(format!("{name}.wav"));
    convert(
        &raw,
        &wav,
        &["-ar", "48000", "-ac", "1", "-c:a", "pcm_s16le"],
    );
    wav
}

/// `ffprobe`'s view of a file: codec and duration of its first stream.
pub(crate) fn probe(path: &Path) -> (String, f64) {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "ffprobe {}", path.display());
    let probed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let codec = probed["streams"][0]["codec_name"]
        .as_str()
        .unwrap_or_default();
    let duration = probed["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(f64::NAN);
    (codec.to_owned(), duration)
}

/// Polls the transcript until every track's job is done.
async fn finished_transcript(app: &TestApp, path: &str, token: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, body) = app.get(path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let tracks = body["tracks"].as_array().cloned().unwrap_or_default();
        let done = !tracks.is_empty() && tracks.iter().all(|t| t["status"] == "done");
        if done {
            return body;
        }
        assert!(
            tracks.iter().all(|t| t["status"] != "failed"),
            "a transcription failed: {body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "transcripts not done: {body}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Where `words` were said in the merged transcript: the start of the first segment by
/// `speaker` (a participant id) holding any of them, and how many of them anyone else was
/// credited with.
fn said(transcript: &Value, speaker: &str, words: &[&str]) -> (Option<f64>, usize) {
    let segments = transcript["segments"].as_array().unwrap();
    let heard = |segment: &Value| {
        let text = segment["text"].as_str().unwrap_or_default().to_lowercase();
        words.iter().filter(|w| text.contains(*w)).count()
    };
    let start = segments
        .iter()
        .filter(|s| s["participantId"] == speaker && heard(s) > 0)
        .map(|s| s["startSecs"].as_f64().unwrap())
        .next();
    let misattributed = segments
        .iter()
        .filter(|s| s["participantId"] != speaker)
        .map(heard)
        .sum();
    (start, misattributed)
}

async fn two_speakers_are_recorded_transcribed_and_attributed(backend: Backend) {
    if !prerequisites() {
        return;
    }
    let Some(python) = installed(".venv/bin/python", "recording test") else {
        return;
    };
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let outsider = app.user_with_role("eve@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let joined = [
        join(&app, &id, &host).await,
        join(&app, &id, &ann).await,
        join(&app, &id, &bob).await,
    ];
    let url = |j: &Value| ws_url(&app, &id, j["ticket"].as_str().unwrap(), None);
    let participant = |j: &Value| j["participant"]["id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let ann_wav = speech_48k(dir.path(), "ann", ANN_SAYS);
    let bob_wav = speech_48k(dir.path(), "bob", BOB_SAYS);
    let (ann_id, bob_id) = (participant(&joined[1]), participant(&joined[2]));
    let args = [
        url(&joined[0]),
        url(&joined[1]),
        url(&joined[2]),
        ann_id.clone(),
        bob_id.clone(),
        ann_wav.display().to_string(),
        bob_wav.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_script(&python, "aiortc_recording.py", &args).await;
    eprintln!("recording two aiortc speakers: {out}");

    // Consent first, to everyone; refused without the capability.
    let notices = out["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 3, "{out}");
    assert!(
        notices
            .iter()
            .all(|n| n.as_str().unwrap_or_default().contains("being recorded")),
        "{out}"
    );
    assert!(
        out["ann_start"].as_str().unwrap().contains("forbidden"),
        "{out}"
    );
    assert_eq!(out["paused"], "recording.paused");
    assert_eq!(out["resumed"], "recording.resumed");

    // One stopped recording with a file per microphone.
    let list_path = format!("/api/workbook/sessions/{id}/recordings");
    let started = Instant::now();
    let recording = loop {
        let (status, list) = app.get(&list_path, Some(&host)).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let recording = list["recordings"][0].clone();
        if recording["status"] == "stopped" {
            break recording;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let recording_id = recording["id"].as_str().unwrap().to_owned();
    let tracks = recording["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 2, "{recording}");
    let stopped_at = out["stopped_at"].as_f64().unwrap();
    let files = app
        .state
        .config
        .storage
        .data_dir
        .join("recordings")
        .join(&recording_id);
    for track in tracks {
        assert_eq!(track["codec"], "opus", "{track}");
        assert_eq!(track["source"], "microphone", "{track}");
        let (codec, duration) = probe(&files.join(track["fileName"].as_str().unwrap()));
        assert_eq!(codec, "opus");
        // Every file spans the recording, pause included: silence keeps its length.
        assert!(
            (duration - stopped_at).abs() < 1.0,
            "{track}: {duration} s, recording {stopped_at} s"
        );
    }

    // The manifest aligns the tracks: both start at the recording's start, each names its
    // publisher, and the pause is there.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(files.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "stopped", "{manifest}");
    assert_eq!(manifest["recordingId"], recording_id.as_str());
    let pauses = manifest["pauses"].as_array().unwrap();
    assert_eq!(pauses.len(), 1, "{manifest}");
    assert!(pauses[0]["to"].as_f64().unwrap() > pauses[0]["from"].as_f64().unwrap());
    let mut publishers: Vec<&str> = manifest["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["participantId"].as_str().unwrap())
        .collect();
    publishers.sort();
    let mut expected = [ann_id.as_str(), bob_id.as_str()];
    expected.sort();
    assert_eq!(publishers, expected, "{manifest}");
    for track in manifest["tracks"].as_array().unwrap() {
        assert_eq!(track["clockRate"], 48_000);
        assert!(track["startedSecs"].as_f64().unwrap() < 0.5, "{track}");
        assert!(track["firstPacket"]["wallClock"].is_string(), "{track}");
    }

    // Who said what, when: each sentence credited to its speaker, in order, within a
    // second of when it was said.
    let transcript_path = format!("{list_path}/{recording_id}/transcript");
    let transcript = finished_transcript(&app, &transcript_path, &host).await;
    let (ann_start, ann_elsewhere) = said(&transcript, &ann_id, ANN_WORDS);
    let (bob_start, bob_elsewhere) = said(&transcript, &bob_id, BOB_WORDS);
    let (ann_start, bob_start) = (
        ann_start.unwrap_or_else(|| panic!("ann's words not heard: {transcript}")),
        bob_start.unwrap_or_else(|| panic!("bob's words not heard: {transcript}")),
    );
    assert_eq!(
        ann_elsewhere + bob_elsewhere,
        0,
        "misattributed: {transcript}"
    );
    let ann_at = out["ann_at"].as_f64().unwrap();
    let bob_at = out["bob_at"].as_f64().unwrap();
    assert!(
        (ann_start - ann_at).abs() < 1.0,
        "ann at {ann_at}: {transcript}"
    );
    assert!(
        (bob_start - bob_at).abs() < 1.0,
        "bob at {bob_at}: {transcript}"
    );
    let speakers: Vec<&str> = transcript["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["participantId"].as_str().unwrap())
        .collect();
    let first_bob = speakers.iter().position(|s| *s == bob_id).unwrap();
    assert!(
        speakers[..first_bob].contains(&ann_id.as_str()),
        "ann speaks first: {speakers:?}"
    );

    // The minutes carry the transcript with speakers and times.
    let export = format!("/api/workbook/sessions/{id}/export");
    let (status, minutes) = app.get(&export, Some(&host)).await;
    assert_eq!(status, StatusCode::OK);
    let lines = minutes["transcript"].as_array().unwrap();
    assert_eq!(
        lines.len(),
        transcript["segments"].as_array().unwrap().len()
    );
    assert!(
        lines
            .iter()
            .all(|l| l["recording"] == recording_id.as_str())
    );
    let (_, markdown) = app.get(&format!("{export}?format=md"), Some(&host)).await;
    let markdown = markdown.as_str().unwrap();
    assert!(markdown.contains("## Transcript"), "{markdown}");
    assert!(markdown.contains("]` **Test User**: "), "{markdown}");

    // From a word to the moment: search finds it with the session, recording and offset.
    let (status, found) = app
        .get("/api/workbook/search?q=lazy%20dog", Some(&host))
        .await;
    assert_eq!(status, StatusCode::OK);
    let moment = found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|h| h.get("moment"))
        .unwrap_or_else(|| panic!("no transcript moment: {found}"));
    assert_eq!(moment["sessionId"], id.as_str());
    assert_eq!(moment["sessionRecordingId"], recording_id.as_str());
    assert_eq!(moment["participantId"], ann_id.as_str());
    assert_eq!(moment["speaker"], "Test User");
    assert!(
        (moment["offset"].as_f64().unwrap() - ann_at).abs() < 1.0,
        "{moment}"
    );

    // A note links to the moment; the API resolves it and the export prints it.
    let link = format!("workbook://moments/{recording_id}?t={:.1}", ann_at);
    let (status, resolved) = app
        .get(
            &format!("/api/workbook/moments/{recording_id}?t={ann_at:.1}"),
            Some(&host),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["sessionId"], id.as_str());
    assert_eq!(
        resolved["segment"]["participantId"],
        ann_id.as_str(),
        "{resolved}"
    );
    assert_eq!(resolved["link"], link.as_str());
    assert!(
        resolved["mediaUrl"].as_str().unwrap().contains("#t="),
        "{resolved}"
    );
    let note = app
        .create_note(
            &host,
            json!({"title": "Follow-up", "content": format!("See {link}.")}),
        )
        .await;
    let export = format!(
        "/api/workbook/notes/{}/export?format=md",
        note["id"].as_str().unwrap()
    );
    let (_, markdown) = app.get(&export, Some(&host)).await;
    let markdown = markdown.as_str().unwrap();
    assert!(
        markdown.contains("See [Workshop, recording at 0:01]."),
        "{markdown}"
    );
    let (status, _) = app
        .get(
            &format!("/api/workbook/moments/{recording_id}"),
            Some(&outsider),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Access: a participant sees nothing until the host shares; an outsider never does.
    let ann_track = tracks
        .iter()
        .find(|t| t["participantId"] == ann_id.as_str())
        .unwrap();
    let media = ann_track["mediaUrl"].as_str().unwrap();
    let (status, _) = app.get(media, Some(&ann)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "unshared");
    let (_, list) = app.get(&list_path, Some(&ann)).await;
    assert_eq!(list["recordings"], json!([]), "unshared: {list}");
    let recording_path = format!("{list_path}/{recording_id}");
    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            &recording_path,
            Some(&ann),
            Some(json!({"shared": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a participant cannot share");
    let (status, shared) = app
        .call(
            reqwest::Method::PATCH,
            &recording_path,
            Some(&host),
            Some(json!({"shared": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    let (status, _) = app.get(&list_path, Some(&outsider)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a participant");

    // Range requests: 206 with exactly the bytes asked for.
    let whole = std::fs::read(files.join(ann_track["fileName"].as_str().unwrap())).unwrap();
    let full = app
        .client
        .get(app.url(media))
        .bearer_auth(&ann)
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["content-type"], "audio/ogg");
    assert_eq!(full.bytes().await.unwrap().as_ref(), whole.as_slice());
    let part = app
        .client
        .get(app.url(media))
        .bearer_auth(&ann)
        .header("range", "bytes=100-299")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &whole[100..300]);

    // Deleting takes the files and the transcripts with it.
    let (status, _) = app
        .call(reqwest::Method::DELETE, &recording_path, Some(&ann), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a participant cannot delete");
    let (status, _) = app
        .call(reqwest::Method::DELETE, &recording_path, Some(&host), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!files.exists());
    let (_, found) = app
        .get("/api/workbook/search?q=lazy%20dog", Some(&host))
        .await;
    assert_eq!(found["hits"], json!([]), "{found}");
}

/// A disk under `recording.min_free_mb` stops the recording with a hub event that says
/// why, and nothing is left recording.
async fn a_full_disk_stops_the_recording_with_a_reason(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, |config| {
        // More free space than any disk has.
        config.merge(figment::providers::Serialized::default(
            "recording.min_free_mb",
            u64::MAX >> 21,
        ))
    })
    .await
    else {
        return;
    };
    let stage = crate::hub_client::Stage::open(&app, json!({})).await;
    let (mut host, mut ann) = (stage.host.client, stage.ann.client);
    host.ok(json!({"type": "recording.start"})).await;
    ann.event("recording.started").await;
    let stopped = ann.event("recording.stopped").await;
    let reason = stopped["event"]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("disk is full"), "{stopped}");
    let (_, list) = app
        .get(
            &format!("/api/workbook/sessions/{}/recordings", stage.id),
            Some(&stage.cast.host),
        )
        .await;
    assert_eq!(
        list["recordings"],
        json!([]),
        "nothing was recorded: {list}"
    );
    // The session goes on: a new attempt is answered the same way, not refused.
    host.ok(json!({"type": "recording.start"})).await;
    ann.event("recording.started").await;
}
