//! Memory under a sign-in flood (issue 16, finding 10): N sign-ups then N sign-ins, a few at
//! a time, against each server binary given, one after the other in one run; prints the
//! server's RSS at start, after the flood, and after 10 s of rest.
//!
//! ```sh
//! cargo build --release -p workbook -p loadtests
//! taskset -c 1 target/release/signins --server-bin old/workbook --server-bin target/release/workbook
//! ```
//! The server is pinned to core 0, the generator runs where it is started.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser;
use loadtests::{ProcessUsage, Server};
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Server binaries to measure, in order (e.g. before and after a change).
    #[arg(long, required = true)]
    server_bin: Vec<PathBuf>,
    /// Accounts signed up, then signed in once each.
    #[arg(long, default_value_t = 2000)]
    accounts: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

const PASSWORD: &str = "load-test-password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "# {} sign-ups then {} sign-ins, {} at a time; server RSS in MiB\n",
        args.accounts, args.accounts, args.concurrency
    );
    println!("| server | start | after sign-ups | after sign-ins | after 10 s idle | failures |");
    println!("|---|---|---|---|---|---|");
    for binary in &args.server_bin {
        let server = Server::start(binary, None, Some("0")).await?;
        let start = rss_mib(server.pid);
        let failures = Arc::new(AtomicUsize::new(0));
        flood(&server, &args, "register", &failures).await;
        let after_signups = rss_mib(server.pid);
        flood(&server, &args, "login", &failures).await;
        let after_signins = rss_mib(server.pid);
        tokio::time::sleep(Duration::from_secs(10)).await;
        let rested = rss_mib(server.pid);
        println!(
            "| {} | {start:.0} | {after_signups:.0} | {after_signins:.0} | {rested:.0} | {} |",
            binary.display(),
            failures.load(Ordering::Relaxed)
        );
    }
    Ok(())
}

/// `accounts` calls of `/auth/{route}`, `concurrency` at a time.
async fn flood(server: &Server, args: &Args, route: &str, failures: &Arc<AtomicUsize>) {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..args.concurrency {
        let (client, next, failures) = (client.clone(), next.clone(), failures.clone());
        let url = format!("{}/api/workbook/auth/{route}", server.base);
        let accounts = args.accounts;
        clients.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= accounts {
                    return;
                }
                let body = json!({
                    "email": format!("user{i}@example.com"),
                    "name": format!("User {i}"),
                    "password": PASSWORD,
                });
                let ok = client
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for client in clients {
        let _ = client.await;
    }
}

fn rss_mib(pid: u32) -> f64 {
    ProcessUsage::read(pid).map_or(0.0, |usage| usage.rss_bytes as f64 / (1024.0 * 1024.0))
}
