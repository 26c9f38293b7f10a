//! The binary itself: `user create`, `migrate`, config errors naming the key, and a graceful
//! stop on SIGTERM.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{free_port, register_at, wait_healthy, workbook_binary as workbook};

#[test]
fn user_create_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = workbook(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "Root@Example.com",
            "--name",
            "Root",
            "--role",
            "admin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-password\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("created admin root@example.com"),
        "{stdout}"
    );

    // The same email again fails with a clear message.
    let mut again = workbook(dir.path())
        .args([
            "user",
            "create",
            "--email",
            "root@example.com",
            "--name",
            "Root",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    again
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-password\n")
        .unwrap();
    let output = again.wait_with_output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists"));
}

#[test]
fn a_bad_config_value_fails_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = workbook(dir.path())
        .env("WORKBOOK_SERVER__BIND", "not-an-address")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.bind"), "{stderr}");
}

#[tokio::test]
async fn serve_answers_then_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let migrate = workbook(dir.path()).arg("migrate").output().unwrap();
    assert!(migrate.status.success());
    let mut server = workbook(dir.path())
        .env("WORKBOOK_SERVER__BIND", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_healthy(&base).await, "server did not come up");
    register_at(&base, "x@example.com").await;

    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut exited = None;
    for _ in 0..50 {
        if let Some(status) = server.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = exited.expect("server did not stop within 5 s of SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn transcribe_prints_timestamped_segments() {
    if !crate::audio::prerequisites() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let wav = crate::audio::speech(dir.path(), crate::audio::SENTENCE);
    let output = workbook(dir.path())
        .env("WORKBOOK_TRANSCRIPTION__THREADS", "1")
        .arg("transcribe")
        .arg(&wav)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let first = stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("[00:0"), "{stdout}");
    assert!(first.contains(" → "), "{stdout}");
    let lower = stdout.to_lowercase();
    let heard = ["quick", "fox", "lazy", "dog", "notes"]
        .iter()
        .filter(|w| lower.contains(*w))
        .count();
    assert!(heard >= 3, "{stdout}");

    let output = workbook(dir.path())
        .arg("transcribe")
        .arg(dir.path().join("missing.wav"))
        .output()
        .unwrap();
    assert!(!output.status.success());
}

/// `migrate` and `user create` work before `serve` ever ran: the data directory, and the
/// SQLite database in it, are created on first use.
#[test]
fn migrate_and_user_create_work_on_a_fresh_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("not/yet/there");
    let migrate = workbook(&fresh).arg("migrate").output().unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(fresh.join("workbook.db").exists());

    let other = dir.path().join("another");
    let mut create = workbook(&other)
        .args(["user", "create", "--email", "a@example.com", "--name", "A"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    create
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-password\n")
        .unwrap();
    let output = create.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created user a@example.com"));
}
