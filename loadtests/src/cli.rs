//! Command-line options every generator shares: which server binary, which database, and
//! which CPUs the server runs on.

use std::path::{Path, PathBuf};

use crate::Server;

/// Flattened into each generator's arguments (`#[command(flatten)]`).
#[derive(clap::Args, Clone)]
pub struct ServerArgs {
    /// The server binary to measure.
    #[arg(long, default_value = "target/release/workbook")]
    pub server_bin: PathBuf,
    /// Admin URL of a PostgreSQL server: the server stores in a fresh database there.
    /// Default: SQLite.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Pin every server under test to these CPUs (a `taskset -c` list, e.g. `0`). Run the
    /// generator itself on the others (`taskset -c 1 target/release/notes ...`): on a small
    /// machine an unpinned generator decides the tail as much as the server does.
    #[arg(long)]
    pub server_cpus: Option<String>,
}

impl ServerArgs {
    /// Starts `--server-bin`.
    pub async fn start(&self) -> anyhow::Result<Server> {
        self.start_binary(&self.server_bin).await
    }

    /// Starts another build of the server with the same database and pinning.
    pub async fn start_binary(&self, binary: &Path) -> anyhow::Result<Server> {
        Server::start(
            binary,
            self.postgres.as_deref(),
            self.server_cpus.as_deref(),
        )
        .await
    }

    /// The storage backend, for report headings.
    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}
