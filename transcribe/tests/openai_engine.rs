//! The HTTP engine against a real OpenAI-compatible server: faster-whisper-server 0.0.3 (from
//! .venv/faster-whisper, made by scripts/setup-transcribe.sh) on loopback, serving the same
//! tiny.en model in its CTranslate2 form (models/ct2-tiny.en, made by scripts/fetch-model.sh).

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Audio, SENTENCE, assert_heard_sentence, assert_sensible_times, skip, sox_duration};
use transcribe::{Engine, Error, OpenAiConfig, OpenAiEngine, Readiness, transcribe_file};

/// A faster-whisper-server child process, stopped when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn start_server() -> Option<Server> {
    let root = common::repo_root();
    let binary = root.join(".venv/faster-whisper/bin/faster-whisper-server");
    let model: PathBuf = root.join("models/ct2-tiny.en");
    if !binary.is_file() {
        skip(
            "faster-whisper-server is not installed in .venv/faster-whisper (scripts/setup-transcribe.sh)",
        );
        return None;
    }
    if !model.join("model.bin").is_file() {
        skip("models/ct2-tiny.en is missing (scripts/fetch-model.sh)");
        return None;
    }
    let port = free_port();
    let child = Command::new(binary)
        .arg(&model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .env("HF_HUB_OFFLINE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start faster-whisper-server");
    Some(Server {
        child,
        base_url: format!("http://127.0.0.1:{port}"),
    })
}

fn engine_for(base_url: &str) -> OpenAiEngine {
    OpenAiEngine::new(OpenAiConfig {
        base_url: base_url.to_owned(),
        api_key: Some("test-key".into()),
        model: "tiny.en".into(),
        language: Some("en".into()),
        timeout_secs: 120,
    })
}

fn wait_ready(engine: &OpenAiEngine) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match engine.readiness() {
            Readiness::Ready => return,
            Readiness::NotReady(why) if Instant::now() > deadline => {
                panic!("faster-whisper-server never became ready: {why}")
            }
            Readiness::NotReady(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

#[test]
fn transcribes_through_faster_whisper_server() {
    let Some(audio) = Audio::new() else { return };
    let Some(server) = start_server() else { return };
    let engine = engine_for(&server.base_url);
    wait_ready(&engine);
    let wav = audio.speech("sentence.wav", SENTENCE);
    let mp3 = audio.convert(&wav, "sentence.mp3", &["-c:a", "libmp3lame", "-b:a", "64k"]);
    let reference = sox_duration(&wav);
    let transcript = transcribe_file(&mp3, &engine, |_| {}).expect("transcribe over HTTP");
    assert_heard_sentence(&transcript.segments);
    assert_sensible_times(&transcript, 0.0, reference);
}

#[test]
fn unreachable_server_is_not_ready_and_fails_typed() {
    let engine = engine_for(&format!("http://127.0.0.1:{}", free_port()));
    assert!(matches!(engine.readiness(), Readiness::NotReady(_)));
    let result = engine.transcribe(&[0.1; 16_000]);
    assert!(matches!(result, Err(Error::Http(_))), "{result:?}");
}
