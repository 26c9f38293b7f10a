//! REST load: login throughput, `GET /auth/me`, note search over a large corpus, and the
//! original guide's load-test scenario (login, modules, notes, progress).
//!
//! ```sh
//! cargo build --release -p workbook -p loadtests
//! target/release/rest --notes 100000                       # SQLite
//! target/release/rest --notes 100000 --postgres postgres://postgres@127.0.0.1:5432/postgres
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use loadtests::account::{self, PASSWORD};
use loadtests::{Latencies, ProcessUsage, Server, ServerArgs, words};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Notes in the search corpus.
    #[arg(long, default_value_t = 100_000)]
    notes: usize,
    /// Accounts the notes are spread over.
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients per phase.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Concurrent clients of the search phase, one run per value, e.g. `1,4,32`
    /// (default: `--concurrency`).
    #[arg(long, value_delimiter = ',')]
    search_concurrency: Vec<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let server = args.server.start().await?;
    let backend = args.server.backend();
    println!(
        "# REST load on {backend}, {} clients, {} s per phase\n",
        args.concurrency, args.seconds
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let duration = Duration::from_secs(args.seconds);

    let emails = (0..args.users).map(|i| format!("load{i}@example.com"));
    let tokens = account::register_many(&client, &server.base, emails, args.concurrency).await?;
    login_phase(&client, &server, &args, duration).await;
    me_phase(&client, &server, &tokens, &args, duration).await;
    seed_notes(&client, &server.base, &tokens, args.notes, args.concurrency).await?;
    let search_clients = match args.search_concurrency.as_slice() {
        [] => vec![args.concurrency],
        list => list.to_vec(),
    };
    for clients in search_clients {
        search_phase(&client, &server, &tokens, clients, duration).await;
    }
    mix_phase(&client, &server, &args, duration).await?;
    Ok(())
}

/// Runs `concurrency` workers calling `op` until `duration` passes; returns the latencies
/// of successful calls, the number of failures, and the elapsed time.
async fn closed_loop<F, Fut>(
    concurrency: usize,
    duration: Duration,
    op: F,
) -> (Latencies, u64, Duration)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let op = op.clone();
            tokio::spawn(async move {
                let (mut latencies, mut failures, mut i) = (Latencies::new(), 0u64, 0u64);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if op(worker, i).await {
                        latencies.record(t.elapsed());
                    } else {
                        failures += 1;
                    }
                    i += 1;
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut all = Latencies::new();
    let mut failures = 0;
    for worker in workers {
        let (latencies, failed) = worker.await.expect("worker panicked");
        all.merge(&latencies);
        failures += failed;
    }
    (all, failures, started.elapsed())
}

fn report(
    name: &str,
    server: &Server,
    before: Option<ProcessUsage>,
    result: (Latencies, u64, Duration),
) {
    let (latencies, failures, elapsed) = result;
    let rate = latencies.count() as f64 / elapsed.as_secs_f64();
    let after = ProcessUsage::read(server.pid);
    let cpu = match (before, after) {
        (Some(b), Some(a)) => format!(
            ", server CPU {:.0}%",
            100.0 * (a.cpu_seconds - b.cpu_seconds) / elapsed.as_secs_f64()
        ),
        _ => String::new(),
    };
    let rss = after
        .map(|a| format!(", RSS {} MiB", a.rss_bytes / (1024 * 1024)))
        .unwrap_or_default();
    println!(
        "- **{name}**: {rate:.0} req/s, {}, {failures} failed{cpu}{rss}",
        latencies.summary()
    );
}

async fn login_phase(client: &reqwest::Client, server: &Server, args: &Args, duration: Duration) {
    let (client, base, users) = (client.clone(), server.base.clone(), args.users);
    let before = ProcessUsage::read(server.pid);
    let result = closed_loop(args.concurrency, duration, move |worker, i| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let email = format!("load{}@example.com", (worker + i as usize) % users);
            let response = client
                .post(format!("{base}/api/workbook/auth/login"))
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await;
            matches!(response, Ok(r) if r.status().is_success())
        }
    })
    .await;
    report(
        "POST /auth/login (Argon2id, 19 MiB, t=2)",
        server,
        before,
        result,
    );
}

async fn me_phase(
    client: &reqwest::Client,
    server: &Server,
    tokens: &[String],
    args: &Args,
    duration: Duration,
) {
    let (client, base, tokens) = (
        client.clone(),
        server.base.clone(),
        Arc::new(tokens.to_vec()),
    );
    let before = ProcessUsage::read(server.pid);
    let result = closed_loop(args.concurrency, duration, move |worker, _| {
        let (client, base, token) = (
            client.clone(),
            base.clone(),
            tokens[worker % tokens.len()].clone(),
        );
        async move {
            let response = client
                .get(format!("{base}/api/workbook/auth/me"))
                .bearer_auth(token)
                .send()
                .await;
            matches!(response, Ok(r) if r.status().is_success())
        }
    })
    .await;
    report("GET /auth/me", server, before, result);
}

async fn seed_notes(
    client: &reqwest::Client,
    base: &str,
    tokens: &[String],
    n: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let vocabulary = Arc::new(words::vocabulary(5000));
    let per_worker = n.div_ceil(concurrency);
    let tasks: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (client, base, tokens, vocabulary) = (client.clone(), base.to_owned(), tokens.to_vec(), vocabulary.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(worker as u64);
                for i in (worker * per_worker)..((worker + 1) * per_worker).min(n) {
                    let title = words::sentence(&mut rng, &vocabulary, 4);
                    let content = (0..6).map(|_| words::sentence(&mut rng, &vocabulary, 12)).collect::<Vec<_>>().join(".\n");
                    let response = client
                        .post(format!("{base}/api/workbook/notes"))
                        .bearer_auth(&tokens[i % tokens.len()])
                        .json(&json!({"title": title, "content": content, "tags": [format!("t{}", i % 20)]}))
                        .send()
                        .await?;
                    response.error_for_status()?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "- seeded {n} notes over {} users in {elapsed:.1} s ({:.0} creates/s)",
        tokens.len(),
        n as f64 / elapsed
    );
    Ok(())
}

async fn search_phase(
    client: &reqwest::Client,
    server: &Server,
    tokens: &[String],
    concurrency: usize,
    duration: Duration,
) {
    // Other work on the machine changes these numbers most; say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split(' ').next().unwrap_or("?").to_owned();
    let vocabulary = Arc::new(words::vocabulary(5000));
    let (client, base, tokens) = (
        client.clone(),
        server.base.clone(),
        Arc::new(tokens.to_vec()),
    );
    let before = ProcessUsage::read(server.pid);
    let result = closed_loop(concurrency, duration, move |worker, i| {
        let mut rng = StdRng::seed_from_u64((worker as u64) << 32 | i);
        let query = format!(
            "{} {}",
            words::zipf_word(&mut rng, &vocabulary),
            words::zipf_word(&mut rng, &vocabulary)
        );
        let (client, base, token) = (
            client.clone(),
            base.clone(),
            tokens[(worker + i as usize) % tokens.len()].clone(),
        );
        async move {
            let response = client
                .get(format!("{base}/api/workbook/notes"))
                .query(&[("search", query.as_str()), ("limit", "20")])
                .bearer_auth(token)
                .send()
                .await;
            matches!(response, Ok(r) if r.status().is_success())
        }
    })
    .await;
    report(
        &format!(
            "GET /notes?search= (two words, ranked, snippets), {concurrency} clients, \
             load average {load} at the start"
        ),
        server,
        before,
        result,
    );
}

/// The guide's Artillery scenario: each virtual user logs in, then lists modules, lists notes
/// and posts progress, in a loop.
async fn mix_phase(
    client: &reqwest::Client,
    server: &Server,
    args: &Args,
    duration: Duration,
) -> anyhow::Result<()> {
    server.cli(
        &[
            "user",
            "create",
            "--email",
            "admin@load.test",
            "--name",
            "Admin",
            "--role",
            "admin",
        ],
        "admin-password\n",
    )?;
    let admin: Value = client
        .post(format!("{}/api/workbook/auth/login", server.base))
        .json(&json!({"email": "admin@load.test", "password": "admin-password"}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let admin_token = admin["token"].as_str().unwrap_or_default().to_owned();
    let mut module_ids = Vec::new();
    for i in 0..10 {
        let module: Value = client
            .post(format!("{}/api/workbook/modules", server.base))
            .bearer_auth(&admin_token)
            .json(&json!({"title": format!("Module {i}"), "description": "load test module", "order": i,
                          "duration": 30, "difficulty": "beginner",
                          "content": {"objectives": [], "materials": [], "exercises": []}}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        module_ids.push(
            module["module"]["id"]
                .as_str()
                .or(module["id"].as_str())
                .unwrap_or_default()
                .to_owned(),
        );
    }
    let module_ids = Arc::new(module_ids);
    let (client, base, users) = (client.clone(), server.base.clone(), args.users);
    let before = ProcessUsage::read(server.pid);
    let result = closed_loop(args.concurrency, duration, move |worker, i| {
        let (client, base, module_ids) = (client.clone(), base.clone(), module_ids.clone());
        async move {
            let email = format!("load{}@example.com", (worker * 7 + i as usize) % users);
            let Ok(login) = client
                .post(format!("{base}/api/workbook/auth/login"))
                .json(&json!({"email": email, "password": PASSWORD}))
                .send()
                .await
            else {
                return false;
            };
            let Ok(login) = login.json::<Value>().await else { return false };
            let token = login["token"].as_str().unwrap_or_default().to_owned();
            let module = &module_ids[i as usize % module_ids.len()];
            let calls = [
                client.get(format!("{base}/api/workbook/modules")).bearer_auth(&token),
                client.get(format!("{base}/api/workbook/notes")).bearer_auth(&token),
                client
                    .post(format!("{base}/api/workbook/progress/{module}"))
                    .bearer_auth(&token)
                    .json(&json!({"progressPercent": 25, "timeSpentMinutes": 1, "status": "in_progress"})),
            ];
            for call in calls {
                match call.send().await {
                    Ok(r) if r.status().is_success() => {}
                    _ => return false,
                }
            }
            true
        }
    })
    .await;
    report(
        "guide scenario (login + modules + notes + progress), per iteration",
        server,
        before,
        result,
    );
    Ok(())
}
