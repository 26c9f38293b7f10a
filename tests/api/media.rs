//! The SFU end to end through the hub: independent WebRTC peers (aiortc, in Python)
//! negotiate over the hub socket and exchange real media through the server.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Backend, TestApp};
use crate::hub_client::{join, live_session, ws_url};

/// The project's Python, or `None` (a skip outside CI) when `scripts/setup.sh test` has not
/// run.
fn python() -> Option<std::path::PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but .venv is missing: run scripts/setup.sh test"
    );
    eprintln!("SKIPPED: aiortc media test (.venv missing; run scripts/setup.sh test)");
    None
}

/// Runs `tests/media/<script>` with `args`; its last stdout line is JSON.
async fn run_script(script: &str, args: &[&str]) -> Option<Value> {
    let python = python()?;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/media")
        .join(script);
    let run = tokio::process::Command::new(python)
        .arg(path)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the peers finish within 90 s")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    Some(serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}")))
}

/// aiortc publishes a 440 Hz tone; a second aiortc peer receives it through the SFU at
/// 440 Hz. A host's mute stops the packets within a second and the owner's `media.state`
/// brings them back; removing the publisher closes its peer. Media touches no storage, so
/// one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aiortc_tone_crosses_the_sfu_and_moderation_acts_on_the_packets() {
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
    let Some(out) = run_script("aiortc_peers.py", &[&host_url, &ann_url, ann_id, &health]).await
    else {
        return;
    };

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
