//! The command line: `workbook [serve]`, `workbook migrate`, `workbook user ...` (account
//! management, working on the database directly, with or without a running server),
//! `workbook transcribe`.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::auth::password::{self, NewPassword};
use crate::auth::revocation::Revocations;
use crate::auth::roles::Role;
use crate::config::Config;
use crate::db::users::User;
use crate::error::{ApiError, Validator};
use crate::services::accounts;
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
    /// List the accounts, oldest first: id, email, role, status, name.
    List {
        /// Only accounts whose email or name contains this (case-insensitively).
        #[arg(long)]
        search: Option<String>,
    },
    /// Change an account's role.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Set a new password and sign the account out everywhere. The password is read from a
    /// prompt, or from stdin when piped.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Disable an account: it cannot sign in, and its logins end.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Delete an account and everything that is its own.
    Delete {
        #[arg(long)]
        email: String,
        /// Confirms the deletion, which cannot be undone.
        #[arg(long)]
        yes: bool,
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
        Command::User(command) => user(config, command).await,
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

async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
    let db = server::open_database(&config).await?;
    // This process's own: a running server learns of revoked logins from the database
    // within seconds, and of a disabled or deleted account at its next request.
    let revocations = Revocations::default();
    match command {
        UserCommand::Create { email, name, role } => {
            let hash = password::hash(read_new_password()?)
                .await
                .map_err(api_error)?;
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
        }
        UserCommand::List { search } => {
            let search = search.as_deref().map(str::trim).filter(|s| !s.is_empty());
            let (users, _) = db::users::list(&db, search, i64::MAX, 0).await?;
            for user in &users {
                let status = if user.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{status}\t{}",
                    user.id,
                    user.email,
                    user.role.as_str(),
                    user.name
                );
            }
            eprintln!("{} account(s)", users.len());
        }
        UserCommand::SetRole { email, role } => {
            let user = find(&db, &email).await?;
            db::users::set_role(&db, user.id, role).await?;
            println!("{} is now {}", user.email, role.as_str());
        }
        UserCommand::ResetPassword { email } => {
            let user = find(&db, &email).await?;
            let new_password = read_new_password()?;
            accounts::set_password(&db, &revocations, user.id, new_password, None)
                .await
                .map_err(api_error)?;
            println!(
                "password set for {}; all its logins are signed out",
                user.email
            );
        }
        UserCommand::Disable { email } => {
            let user = find(&db, &email).await?;
            accounts::set_disabled(&db, &revocations, user.id, true)
                .await
                .map_err(api_error)?;
            println!("disabled {}; all its logins are signed out", user.email);
        }
        UserCommand::Enable { email } => {
            let user = find(&db, &email).await?;
            accounts::set_disabled(&db, &revocations, user.id, false)
                .await
                .map_err(api_error)?;
            println!("enabled {}", user.email);
        }
        UserCommand::Delete { email, yes } => {
            let user = find(&db, &email).await?;
            if !yes {
                bail!(
                    "deleting {} removes its notes, recordings and progress for good: pass --yes",
                    user.email
                );
            }
            // A running server's live note connections are not this process's to close:
            // they end when they next authenticate.
            let _erased = accounts::erase(&db, &config.storage.data_dir, user.id)
                .await
                .map_err(api_error)?;
            println!("deleted {} and everything that was its own", user.email);
        }
    }
    db.close().await;
    Ok(())
}

/// The account with this email (compared as stored: trimmed and lower-cased).
async fn find(db: &db::Db, email: &str) -> anyhow::Result<User> {
    let email = email.trim().to_lowercase();
    match db::users::find_by_email(db, &email).await? {
        Some((user, _)) => Ok(user),
        None => bail!("no account with email {email}"),
    }
}

fn api_error(err: ApiError) -> anyhow::Error {
    anyhow::anyhow!(err.message)
}

/// A new password, held to the same rule as the API's.
fn read_new_password() -> anyhow::Result<String> {
    let password = read_password()?;
    Validator::new()
        .new_password(&password, "password")
        .finish()
        .map_err(|err| {
            let reasons: Vec<String> = err.fields.into_iter().map(|f| f.message).collect();
            anyhow::anyhow!("the password {}", reasons.join(" and "))
        })?;
    Ok(password)
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
