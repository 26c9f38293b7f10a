//! A real server on an ephemeral loopback port, on SQLite or on a fresh PostgreSQL database.
//!
//! PostgreSQL comes from `WORKBOOK_TEST_POSTGRES_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test gets its own database, dropped
//! afterwards. Unset, the PostgreSQL half of each test says loudly that it skipped — unless
//! `CI` is set, where skipping is an error.

use std::net::SocketAddr;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;
use workbook::config::{Config, DEFAULT_TOML};
use workbook::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _data_dir: tempfile::TempDir,
    _postgres: Option<PostgresDb>,
}

/// The bearer token tests scrape `/metrics` with (off the public listener without one).
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

/// Generous limits so tests are never throttled unless they mean to be.
fn test_figment(data_dir: &std::path::Path, database_url: &str) -> Figment {
    Figment::from(Toml::string(DEFAULT_TOML))
        .merge(Serialized::default("storage.data_dir", data_dir))
        .merge(Serialized::default("storage.database_url", database_url))
        .merge(Serialized::default("storage.max_connections", 5))
        .merge(Serialized::default("server.shutdown_grace_secs", 1))
        .merge(Serialized::default("log.filter", "warn"))
        .merge(Serialized::default("metrics.token", METRICS_TOKEN))
        // Tests run side by side: each SFU on a port of its own.
        .merge(Serialized::default("media.bind", "127.0.0.1:0"))
        // whisper.cpp's threads spin-wait; with tests running side by side one is fastest.
        .merge(Serialized::default("transcription.threads", 1))
        .merge(Serialized::default(
            "rate_limits",
            json!({
                "auth": {"max": 10000, "window_secs": 60},
                "notes": {"max": 10000, "window_secs": 60},
                "audio": {"max": 10000, "window_secs": 60},
                "api": {"max": 10000, "window_secs": 60},
            }),
        ))
}

impl TestApp {
    /// Starts a server, or `None` when PostgreSQL is asked for but not configured.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |f| f).await
    }

    /// Like [`start`], with extra configuration layered on the test defaults.
    pub async fn start_with(
        backend: Backend,
        configure: impl FnOnce(Figment) -> Figment,
    ) -> Option<TestApp> {
        let data_dir = tempfile::tempdir().unwrap();
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(PostgresDb::create().await?),
        };
        let url = match &postgres {
            Some(pg) => pg.url.clone(),
            None => String::new(),
        };
        let config = Config::from_figment(configure(test_figment(data_dir.path(), &url))).unwrap();
        let state = workbook::server::build_state(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = state.clone();
        tokio::spawn(async move {
            workbook::server::serve(listener, served, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Some(TestApp {
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            state,
            shutdown: Some(tx),
            _data_dir: data_dir,
            _postgres: postgres,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer token and JSON body; returns status and JSON.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    /// The value of the `/metrics` sample whose name and labels are `series` exactly (as
    /// Prometheus prints them, e.g. `name{label="value"}`), if it is there.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let text = self.get("/metrics", Some(METRICS_TOKEN)).await.1;
        let text = text.as_str().expect("/metrics is text");
        text.lines().find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
    }

    /// Waits until the `/metrics` sample `series` has `value`: gauges are read when scraped,
    /// and a socket's end reaches the server a moment after the client's.
    pub async fn metric_becomes(&self, series: &str, value: f64) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let now = self.metric(series).await;
            if now == Some(value) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{series} stayed {now:?}, expected {value}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Registers an account and returns the register response.
    pub async fn register(&self, email: &str, password: &str) -> Value {
        let (status, body) = self
            .post(
                "/api/workbook/auth/register",
                None,
                json!({"email": email, "name": "Test User", "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Creates a note from `body` as `token`; returns the note.
    pub async fn create_note(&self, token: &str, body: Value) -> Value {
        let (status, created) = self.post("/api/workbook/notes", Some(token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["note"].clone()
    }

    /// Registers an account with the given role and returns a fresh access token for it.
    pub async fn user_with_role(&self, email: &str, role: &str) -> String {
        let body = self.register(email, "password123").await;
        let id = body["user"]["id"].as_str().unwrap().parse().unwrap();
        let role = workbook::auth::roles::Role::parse(role).unwrap();
        workbook::db::users::set_role(&self.state.db, id, role)
            .await
            .unwrap()
            .unwrap();
        // A login of its own, never revoked.
        let login = uuid::Uuid::new_v4();
        self.state.keys.issue_access(id, email, role, login)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The real `workbook` binary with its data in `data_dir` (SQLite), quiet logs, and no
/// database or log settings inherited from the environment.
pub fn workbook_binary(data_dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_workbook"));
    command
        .env("WORKBOOK_STORAGE__DATA_DIR", data_dir)
        .env("WORKBOOK_LOG__FILTER", "warn")
        .env("WORKBOOK_MEDIA__BIND", "127.0.0.1:0")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    command
}

/// The real binary serving on `port` with its data in a directory, killed (and reaped) when
/// dropped; for tests that stop a server the hard way and start it again.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
}

impl Server {
    pub async fn start(data_dir: &std::path::Path, port: u16) -> Server {
        let child = workbook_binary(data_dir)
            .env("WORKBOOK_SERVER__BIND", format!("127.0.0.1:{port}"))
            .spawn()
            .unwrap();
        // Owned by `Server` at once, so its Drop reaps the process on every path.
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        assert!(wait_healthy(&server.base).await, "the server did not start");
        server
    }

    /// `kill -9`: no shutdown, nothing flushed that was not flushed already.
    pub fn kill_9(&mut self) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Registers `email` (password `password123`) on the server at `base`, one running as its
/// own process rather than a [`TestApp`]; returns the access token.
pub async fn register_at(base: &str, email: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/workbook/auth/register"))
        .json(&json!({"email": email, "name": "Test User", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Creates a note from `body` as `token` on the server at `base` (see [`register_at`]);
/// returns its id.
pub async fn create_note_at(base: &str, token: &str, body: Value) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/workbook/notes"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    created["note"]["id"].as_str().unwrap().to_owned()
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits up to 10 s for `GET {base}/api/health` to answer 200.
pub async fn wait_healthy(base: &str) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("{base}/api/health")).send().await
            && response.status() == StatusCode::OK
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A throwaway PostgreSQL database.
struct PostgresDb {
    admin_url: String,
    name: String,
    url: String,
}

impl PostgresDb {
    async fn create() -> Option<PostgresDb> {
        let Ok(admin_url) = std::env::var("WORKBOOK_TEST_POSTGRES_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "CI is set but WORKBOOK_TEST_POSTGRES_URL is not: PostgreSQL tests may not skip in CI"
                );
            }
            eprintln!(
                "SKIPPED: PostgreSQL half of this test (set WORKBOOK_TEST_POSTGRES_URL to run it)"
            );
            return None;
        };
        let name = format!("wb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        let (base, _) = admin_url.rsplit_once('/').expect("URL has a database path");
        let url = format!("{base}/{name}");
        Some(PostgresDb {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime; use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        })
        .join();
    }
}

/// Runs each named `async fn(Backend)` as two tests: `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::harness::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::harness::Backend::Postgres).await
                }
            }
        )*
    };
}
