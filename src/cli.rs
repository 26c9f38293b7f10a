//! The command line: `workbook [serve]`, `workbook migrate`, `workbook user create`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::auth::{password, roles::Role};
use crate::config::Config;
use crate::{db, server, telemetry};

#[derive(Parser)]
#[command(
    name = "workbook",
    version,
    about = "Self-hosted server for live workshops"
)]
pub struct Cli {
    /// Configuration file layered over the embedded defaults (configs/default.toml).
    #[arg(long, global = true, env = "WORKBOOK_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Transcribe an audio file (WAV, MP3, M4A, Ogg Opus) with the configured engine and
    /// print its timestamped segments.
    Transcribe {
        /// The audio file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from a prompt, or from stdin when piped.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "user", value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "expected user, premium or admin".to_owned())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    telemetry::init_logs(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            server::open_database(&config).await?;
            println!("migrations applied to {}", config.database_url());
            Ok(())
        }
        Command::User(UserCommand::Create { email, name, role }) => {
            create_user(config, email, name, role).await
        }
        Command::Transcribe { file } => transcribe_file(config, file).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.server.bind;
    let state = server::build_state(config).await?;
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    tracing::info!(address = %bind, database = state.db.backend(), "workbook listening");
    server::serve(listener, state, server::shutdown_signal()).await
}

async fn create_user(
    config: Config,
    email: String,
    name: String,
    role: Role,
) -> anyhow::Result<()> {
    let password = read_password()?;
    if !(8..=128).contains(&password.chars().count()) {
        bail!("the password must be 8 to 128 characters");
    }
    let db = server::open_database(&config).await?;
    let hash = password::hash(password)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let email = email.trim().to_lowercase();
    let user = db::users::insert(&db, &email, name.trim(), &hash, role)
        .await
        .map_err(|err| {
            if db::is_unique_violation(&err) {
                anyhow::anyhow!("an account with email {email} already exists")
            } else {
                err.into()
            }
        })?;
    println!(
        "created {} {} ({})",
        user.role.as_str(),
        user.email,
        user.id
    );
    Ok(())
}

/// Never from argv (it would show in `ps` and shell history).
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        Ok(rpassword::prompt_password("Password: ")?)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Prints `[start → end] text` per segment, with a progress bar when stderr is a terminal.
async fn transcribe_file(config: Config, file: PathBuf) -> anyhow::Result<()> {
    let engine_config = config.transcription.engine;
    let segments = tokio::task::spawn_blocking(move || {
        let engine = transcribe::build_engine(&engine_config)?;
        let bar = indicatif::ProgressBar::new(1000).with_style(
            indicatif::ProgressStyle::with_template("{bar:40} {percent:>3}% {elapsed} {msg}")
                .expect("constant template"),
        );
        bar.set_message(engine.describe());
        let transcript = transcribe::transcribe_file(&file, engine.as_ref(), |done| {
            bar.set_position((done * 1000.0) as u64);
        });
        bar.finish_and_clear();
        transcript
    })
    .await??;
    for segment in segments.segments {
        println!(
            "[{} → {}] {}",
            timestamp(segment.start),
            timestamp(segment.end),
            segment.text.trim()
        );
    }
    Ok(())
}

/// `mm:ss.cc`, or `h:mm:ss.cc` past an hour.
fn timestamp(seconds: f64) -> String {
    let centis = (seconds.max(0.0) * 100.0).round() as u64;
    let (h, m, s, c) = (
        centis / 360_000,
        centis / 6000 % 60,
        centis / 100 % 60,
        centis % 100,
    );
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{c:02}")
    } else {
        format!("{m:02}:{s:02}.{c:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::timestamp;

    #[test]
    fn timestamps_read_like_a_player() {
        assert_eq!(timestamp(0.0), "00:00.00");
        assert_eq!(timestamp(65.432), "01:05.43");
        assert_eq!(timestamp(3725.5), "1:02:05.50");
    }
}
