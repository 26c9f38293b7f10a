//! The binary itself: the `user` commands, `migrate`, config errors naming the key, and a graceful
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

/// Runs `workbook user <args>` on `data_dir` with `stdin` piped in; returns whether it
/// succeeded, its stdout and its stderr.
fn user_command(data_dir: &std::path::Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = workbook(data_dir)
        .arg("user")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every `user` command works on a data directory nothing ran on before, and together they
/// manage an account from creation to deletion.
#[test]
fn user_commands_manage_accounts_from_a_fresh_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = |name: &str| dir.path().join(name).join("data");
    for args in [
        &["list"][..],
        &["set-role", "--email", "x@example.com", "--role", "admin"],
        &["disable", "--email", "x@example.com"],
        &["enable", "--email", "x@example.com"],
        &["delete", "--email", "x@example.com", "--yes"],
        &["reset-password", "--email", "x@example.com"],
    ] {
        let data = fresh(args[0]);
        let (ok, stdout, stderr) = user_command(&data, args, "s3cret-password\n");
        // On an empty database: `list` lists nothing, the others find no such account.
        if args[0] == "list" {
            assert!(ok && stdout.is_empty(), "{stderr}");
        } else {
            assert!(!ok, "{args:?}: {stdout}");
            assert!(
                stderr.contains("no account with email x@example.com"),
                "{stderr}"
            );
        }
    }

    let data = fresh("lifecycle");
    let create = ["create", "--email", "Kim@Example.com", "--name", "Kim"];
    let (ok, _, stderr) = user_command(&data, &create, "short\n");
    assert!(!ok && stderr.contains("8 to 128 characters"), "{stderr}");
    let (ok, _, stderr) = user_command(&data, &create, "s3cret-password\n");
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = user_command(
        &data,
        &[
            "set-role",
            "--email",
            "kim@example.com",
            "--role",
            "premium",
        ],
        "",
    );
    assert!(
        ok && stdout.contains("kim@example.com is now premium"),
        "{stdout}"
    );
    let (ok, stdout, _) = user_command(&data, &["disable", "--email", "kim@example.com"], "");
    assert!(ok, "{stdout}");
    let (_, stdout, _) = user_command(&data, &["list", "--search", "KIM"], "");
    assert!(
        stdout.contains("\tkim@example.com\tpremium\tdisabled\tKim"),
        "{stdout}"
    );
    let (ok, _, _) = user_command(&data, &["enable", "--email", "kim@example.com"], "");
    assert!(ok);
    let (_, stdout, _) = user_command(&data, &["list"], "");
    assert!(stdout.contains("\tpremium\tactive\t"), "{stdout}");
    let (_, stdout, _) = user_command(&data, &["list", "--search", "nobody"], "");
    assert!(stdout.is_empty(), "{stdout}");

    let reset = ["reset-password", "--email", "kim@example.com"];
    let (ok, _, stderr) = user_command(&data, &reset, "short\n");
    assert!(!ok && stderr.contains("8 to 128 characters"), "{stderr}");
    let (ok, stdout, stderr) = user_command(&data, &reset, "another-password\n");
    assert!(
        ok && stdout.contains("password set for kim@example.com"),
        "{stderr}"
    );

    let (ok, _, stderr) = user_command(&data, &["delete", "--email", "kim@example.com"], "");
    assert!(!ok && stderr.contains("--yes"), "{stderr}");
    let (ok, _, stderr) = user_command(
        &data,
        &["delete", "--email", "kim@example.com", "--yes"],
        "",
    );
    assert!(ok, "{stderr}");
    let (_, stdout, _) = user_command(&data, &["list"], "");
    assert!(stdout.is_empty(), "{stdout}");
}

/// The commands work beside a running server, which honours them: a password reset signs
/// the account out, a disabled account's access token is refused at its next request.
#[tokio::test]
async fn user_commands_take_effect_on_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = crate::harness::Server::start(dir.path(), free_port()).await;
    let token = register_at(&server.base, "lee@example.com").await;
    let client = reqwest::Client::new();
    let me = async |token: &str| {
        client
            .get(format!("{}/api/workbook/auth/me", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };
    let login = async |password: &str| {
        let response = client
            .post(format!("{}/api/workbook/auth/login", server.base))
            .json(&serde_json::json!({"email": "lee@example.com", "password": password}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        (
            status,
            body["token"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(me(&token).await, reqwest::StatusCode::OK);

    let data = dir.path().to_owned();
    let run = move |args: &'static [&'static str], stdin: &'static str| {
        let data = data.clone();
        tokio::task::spawn_blocking(move || user_command(&data, args, stdin))
    };
    let (ok, _, stderr) = run(
        &["reset-password", "--email", "lee@example.com"],
        "another-password\n",
    )
    .await
    .unwrap();
    assert!(ok, "{stderr}");
    let (status, _) = login("password123").await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    let (status, token) = login("another-password").await;
    assert_eq!(status, reqwest::StatusCode::OK);

    let (ok, _, stderr) = run(&["disable", "--email", "lee@example.com"], "")
        .await
        .unwrap();
    assert!(ok, "{stderr}");
    assert_eq!(me(&token).await, reqwest::StatusCode::UNAUTHORIZED);
    let (status, _) = login("another-password").await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
}
