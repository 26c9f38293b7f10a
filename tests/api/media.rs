//! The SFU end to end through the hub: independent WebRTC peers (aiortc in Python, headless
//! Chromium driven from Node) negotiate over the hub socket and exchange real media through
//! the server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::hub_client::{join, live_session, ws_url};

/// Held by each media test for its whole run. They measure real-time rates (packets a
/// second, a first frame within a second); on two cores, a browser decoding a dozen videos
/// beside the aiortc peers starved them (27 frames a second instead of 50), so they take
/// turns.
pub(crate) static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `path` (absolute, or relative to the workspace) when it exists, else `None`: a skip
/// outside CI, a failure in CI, where `scripts/setup.sh test` has installed it.
pub(crate) fn installed(path: &str, what: &str) -> Option<PathBuf> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if full.exists() {
        return Some(full);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {path} is missing: run scripts/setup.sh test"
    );
    eprintln!("SKIPPED: {what} ({path} missing; run scripts/setup.sh test)");
    None
}

/// Whether headless Chromium and playwright-core are installed (see [`installed`]).
pub(crate) fn chromium_installed(what: &str) -> bool {
    let browser = installed("/usr/bin/chromium", what).is_some();
    browser && installed("tests/media/node_modules/playwright-core", what).is_some()
}

/// Runs `program tests/media/<script> args`; its last stdout line is JSON.
pub(crate) async fn run_script(program: &Path, script: &str, args: &[&str]) -> Value {
    run_client(
        program,
        "tests/media",
        script,
        args,
        Duration::from_secs(90),
    )
    .await
}

/// Runs `program <dir>/<script> args` (`dir` relative to the workspace) within `limit`;
/// fails the test unless it exits 0 with a JSON last line of stdout, which it returns.
pub(crate) async fn run_client(
    program: &Path,
    dir: &str,
    script: &str,
    args: &[&str],
    limit: Duration,
) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(script);
    let run = tokio::process::Command::new(program)
        .arg(path)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(limit, run)
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within {limit:?}"))
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// aiortc publishes a 440 Hz tone; a second aiortc peer receives it through the SFU at
/// 440 Hz. A host's mute stops the packets within a second and the owner's `media.state`
/// brings them back; removing the publisher closes its peer. Media touches no storage, so
/// one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aiortc_tone_crosses_the_sfu_and_moderation_acts_on_the_packets() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let host_joined = join(&app, &id, &host).await;
    let ann_joined = join(&app, &id, &ann).await;
    let host_url = ws_url(&app, &id, host_joined["ticket"].as_str().unwrap(), None);
    let ann_url = ws_url(&app, &id, ann_joined["ticket"].as_str().unwrap(), None);
    let ann_id = ann_joined["participant"]["id"].as_str().unwrap();
    let health = format!("{}/api/health", app.base);
    let Some(python) = installed(".venv/bin/python", "aiortc media test") else {
        return;
    };
    let out = run_script(
        &python,
        "aiortc_peers.py",
        &[&host_url, &ann_url, ann_id, &health],
    )
    .await;

    eprintln!("aiortc through the SFU: {out}");
    let signal = &out["track_signal"];
    assert_eq!(signal["participant"], ann_id, "{out}");
    assert_eq!(signal["source"], "microphone", "{out}");
    assert_eq!(signal["live"], true, "{out}");
    // The subscriber's m-line names the publisher and the track (msid).
    let msid = format!(
        "a=msid:{} {}",
        ann_id.replace('-', ""),
        signal["track"].as_str().unwrap()
    );
    assert!(
        out["host_sdp_msid"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == &msid),
        "{msid} in {out}"
    );

    let hz = out["dominant_hz"].as_f64().expect("audio arrived");
    assert!(
        (hz - 440.0).abs() < 5.0,
        "dominant frequency {hz} Hz: {out}"
    );
    assert!(out["analysed_samples"].as_u64().unwrap() > 48_000, "{out}");

    assert!(
        out["frames_in_second_before_mute"].as_u64().unwrap() > 30,
        "{out}"
    );
    assert_eq!(out["frames_1s_to_3s_after_mute"], 0, "{out}");
    assert!(
        out["frames_1s_to_2s_after_unmute"].as_u64().unwrap() > 30,
        "{out}"
    );

    assert_eq!(out["peers_before_remove"], 2, "{out}");
    assert_eq!(out["peers_after_remove"], 1, "{out}");
    assert!(out["peer_closed_ms"].as_f64().unwrap() < 1_000.0, "{out}");
    assert_eq!(out["ann_close_code"], 4400, "{out}");
}

/// Headless Chromium, three participants in one session, all negotiated from page
/// JavaScript over the hub socket: the host, and Ann and Bob once made presenters, publish a
/// fake camera and microphone, and Ann shares a screen. Each decodes the others' cameras and
/// receives their audio over SRTP with AES-GCM, never its own; Ann's screen arrives as a
/// track of its own announced as `screen`. Carol, joining after four seconds of sending,
/// decodes her first video frame within a second of her answer (the SFU asks the
/// publishers for a keyframe when her m-lines become ready), and all four videos soon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_peers_exchange_camera_microphone_and_screen_and_a_late_one_decodes_at_once() {
    if !chromium_installed("Chromium media test") {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let bob = app.user_with_role("bob@example.com", "user").await;
    let carol = app.user_with_role("carol@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let args = [app.base.as_str(), &id, &host, &ann, &bob, &carol];
    let out = run_script(Path::new("node"), "chromium_peers.mjs", &args).await;
    eprintln!("Chromium through the SFU: {out}");

    let ids = &out["ids"];
    let names = ["host", "ann", "bob"];
    for name in names {
        let me = &out["participants"][name];
        assert_eq!(me["errors"], json!([]), "{name}: {out}");
        let cipher = me["cipher"].as_str().unwrap_or_default();
        assert!(cipher.contains("GCM"), "{name}'s SRTP cipher {cipher:?}");
        let received = me["received"].as_array().unwrap();
        assert!(
            received.iter().all(|r| r["participant"] != ids[name]),
            "{name} receives only others' tracks: {out}"
        );
        for other in names.into_iter().filter(|o| *o != name) {
            let from = |source: &str| {
                received
                    .iter()
                    .find(|r| r["participant"] == ids[other] && r["source"] == source)
                    .unwrap_or_else(|| panic!("{name} has no {source} of {other}: {out}"))
            };
            // Two seconds: Opus sends 50 packets a second, the camera 15 frames.
            let count = |r: &Value, counter: &str| r[counter].as_u64().unwrap();
            let microphone = from("microphone");
            assert_eq!(microphone["kind"], "audio", "{out}");
            assert!(count(microphone, "packetsReceived") > 50, "{name}: {out}");
            let camera = from("camera");
            assert!(count(camera, "framesDecoded") > 10, "{name}: {out}");
            if other == "ann" {
                let screen = from("screen");
                assert_eq!(screen["kind"], "video", "{out}");
                assert_ne!(screen["track"], camera["track"], "{out}");
                assert!(count(screen, "framesDecoded") > 5, "{name}: {out}");
            }
        }
    }

    let late = &out["late"];
    assert_eq!(late["errors"], json!([]), "carol: {out}");
    eprintln!(
        "late subscriber: ICE and DTLS connected {:.0} ms after the answer",
        late["connected_ms"].as_f64().unwrap_or(f64::NAN)
    );
    let videos = late["videos"].as_array().unwrap();
    assert_eq!(
        videos.len(),
        4,
        "carol decodes three cameras and a screen: {out}"
    );
    let mut first = f64::INFINITY;
    for video in videos {
        let ms = video["first_frame_ms"].as_f64().unwrap();
        eprintln!(
            "late subscriber: first {} frame of {} decoded {ms:.0} ms after the answer",
            video["source"], video["participant"]
        );
        first = first.min(ms);
    }
    assert!(first < 1_000.0, "first video frame after {first} ms: {out}");
    recorded_vp8_plays(&app, &id, &host, &out).await;
}

/// The host recorded while everyone published: each camera and the screen landed in an
/// IVF file that `ffprobe` reads as VP8 with about as many frames as were sent (15 a second
/// for cameras), each microphone in Ogg Opus.
async fn recorded_vp8_plays(app: &TestApp, session: &str, host: &str, out: &Value) {
    let list_path = format!("/api/workbook/sessions/{session}/recordings");
    let started = std::time::Instant::now();
    let recording = loop {
        let (_, list) = app.get(&list_path, Some(host)).await;
        if list["recordings"][0]["status"] == "stopped" {
            break list["recordings"][0].clone();
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let tracks = recording["tracks"].as_array().unwrap();
    let count = |codec: &str, source: &str| {
        tracks
            .iter()
            .filter(|t| t["codec"] == codec && t["source"] == source)
            .count()
    };
    assert_eq!(count("opus", "microphone"), 3, "{recording}");
    assert_eq!(count("vp8", "camera"), 3, "{recording}");
    assert_eq!(count("vp8", "screen"), 1, "{recording}");
    let seconds = out["recorded_ms"].as_f64().unwrap() / 1000.0;
    let dir = app
        .state
        .config
        .storage
        .data_dir
        .join("recordings")
        .join(recording["id"].as_str().unwrap());
    for camera in tracks.iter().filter(|t| t["source"] == "camera") {
        let file = dir.join(camera["fileName"].as_str().unwrap());
        let probe = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=codec_name,nb_read_frames",
                "-of",
                "json",
            ])
            .arg(&file)
            .output()
            .unwrap();
        assert!(probe.status.success(), "ffprobe {}", file.display());
        let probed: Value = serde_json::from_slice(&probe.stdout).unwrap();
        let stream = &probed["streams"][0];
        assert_eq!(stream["codec_name"], "vp8", "{probed}");
        let frames: f64 = stream["nb_read_frames"].as_str().unwrap().parse().unwrap();
        eprintln!("recorded camera: {frames} VP8 frames in {seconds:.1} s");
        assert!(
            frames > 15.0 * seconds * 0.6 && frames < 15.0 * seconds * 1.2,
            "{frames} frames in {seconds} s"
        );
    }
}

/// A network that blocks UDP: Chromium, left with only the SFU's passive TCP candidate,
/// connects over ICE-TCP on the same port number and the host receives Ann's camera and
/// microphone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_connects_over_ice_tcp_when_udp_is_unusable() {
    if !chromium_installed("Chromium ICE-TCP test") {
        return;
    }
    let _turn = ONE_AT_A_TIME.lock().await;
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let args = [app.base.as_str(), &id, &host, &ann];
    let out = run_script(Path::new("node"), "chromium_tcp.mjs", &args).await;
    eprintln!("Chromium over ICE-TCP: {out}");
    assert_eq!(out["errors"], json!([]), "{out}");
    assert_eq!(
        out["protocols"],
        json!({"host": "tcp", "ann": "tcp"}),
        "{out}"
    );
    let received = out["received"].as_array().unwrap();
    let of = |kind: &str| {
        received
            .iter()
            .find(|r| r["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {out}"))
    };
    assert!(
        of("audio")["packetsReceived"].as_u64().unwrap() > 50,
        "{out}"
    );
    assert!(of("video")["framesDecoded"].as_u64().unwrap() > 10, "{out}");
}
