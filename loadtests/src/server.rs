//! The real `workbook` binary, started on a free loopback port with its own data directory
//! (and optionally a fresh PostgreSQL database), stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::Connection;

/// The bearer token the load tests scrape the server's `/metrics` with.
const METRICS_TOKEN: &str = "loadtest-metrics-token-0123";

pub struct Server {
    pub base: String,
    pub pid: u32,
    child: Child,
    binary: PathBuf,
    env: Vec<(String, String)>,
    _data_dir: TempDir,
}

/// A directory removed on drop (kept small: no dependency for one function).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    /// Starts `binary serve`, on `cpus` only if given (a `taskset -c` list). With
    /// `postgres_admin_url`, a new database is created for the run. Rate limits (per route
    /// and per note connection) are lifted so the limiter does not shape the measurement.
    pub async fn start(
        binary: &Path,
        postgres_admin_url: Option<&str>,
        cpus: Option<&str>,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let data_dir = std::env::temp_dir().join(format!("workbook-load-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&data_dir)?;
        let mut env = vec![
            (
                "WORKBOOK_SERVER__BIND".to_owned(),
                format!("127.0.0.1:{port}"),
            ),
            (
                "WORKBOOK_STORAGE__DATA_DIR".to_owned(),
                data_dir.display().to_string(),
            ),
            ("WORKBOOK_LOG__FILTER".to_owned(), "warn".to_owned()),
            ("WORKBOOK_MEDIA__BIND".to_owned(), "127.0.0.1:0".to_owned()),
            // `/metrics` is off the public listener unless a token is configured.
            (
                "WORKBOOK_METRICS__TOKEN".to_owned(),
                METRICS_TOKEN.to_owned(),
            ),
            (
                "WORKBOOK_STORAGE__MAX_CONNECTIONS".to_owned(),
                "16".to_owned(),
            ),
            // Every simulated client comes from 127.0.0.1.
            (
                "WORKBOOK_CONNECTIONS__MAX_CONNECTIONS_PER_ADDRESS".to_owned(),
                "100000".to_owned(),
            ),
        ];
        for bucket in ["AUTH", "NOTES", "AUDIO", "API"] {
            env.push((
                format!("WORKBOOK_RATE_LIMITS__{bucket}__MAX"),
                "100000000".to_owned(),
            ));
            env.push((
                format!("WORKBOOK_RATE_LIMITS__{bucket}__WINDOW_SECS"),
                "1".to_owned(),
            ));
        }
        for limit in [
            "CHANGES_PER_SECOND",
            "CHANGE_BURST",
            "FRAMES_PER_SECOND",
            "FRAME_BURST",
        ] {
            env.push((format!("WORKBOOK_NOTES__{limit}"), "1000000".to_owned()));
        }
        if let Some(admin_url) = postgres_admin_url {
            env.push((
                "DATABASE_URL".to_owned(),
                fresh_postgres_database(admin_url).await?,
            ));
        }
        let binary = binary.to_path_buf();
        let child = pinned(&binary, cpus)
            .arg("serve")
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let server = Server {
            base: format!("http://127.0.0.1:{port}"),
            pid: child.id(),
            child,
            binary,
            env,
            _data_dir: TempDir(data_dir),
        };
        server.wait_healthy().await?;
        Ok(server)
    }

    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let response = client.get(format!("{}/api/health", self.base)).send().await;
            if response.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not become healthy in 10 s")
    }

    /// The server's own `/metrics` text.
    pub async fn metrics_text(&self) -> anyhow::Result<String> {
        Ok(reqwest::Client::new()
            .get(format!("{}/metrics", self.base))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?)
    }

    /// The server's own `/metrics` lines whose names start with `prefix` (Prometheus
    /// summaries: quantiles over the exporter's last ~60 s).
    pub async fn metrics(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let text = self.metrics_text().await?;
        Ok(text
            .lines()
            .filter(|line| line.starts_with(prefix))
            .map(str::to_owned)
            .collect())
    }

    /// Runs a CLI command of the binary against the same data directory and database.
    pub fn cli(&self, args: &[&str], stdin: &str) -> anyhow::Result<()> {
        use std::io::Write;
        let mut child = Command::new(&self.binary)
            .args(args)
            .envs(self.env.iter().cloned())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(stdin.as_bytes())?;
        if !child.wait()?.success() {
            bail!("workbook {args:?} failed");
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command running `program`, under `taskset -c cpus` when given (taskset execs the
/// program, so the child's pid is the program's).
pub fn pinned(program: impl AsRef<std::ffi::OsStr>, cpus: Option<&str>) -> Command {
    match cpus {
        Some(cpus) => {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpus).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// Creates `wb_load_<random>` next to the admin URL's database and returns its URL.
async fn fresh_postgres_database(admin_url: &str) -> anyhow::Result<String> {
    let name = format!("wb_load_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("URL has a database path")?;
    Ok(format!("{base}/{name}"))
}
