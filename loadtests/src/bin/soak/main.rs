//! Soak: minutes of mixed load against one release server, to show that memory stays flat
//! and nothing fails. All at once: note rooms with live editors and a listener (reconnecting
//! every minute), a busy session (chat, polls with votes, Q&A with upvotes; participants
//! rejoin every two minutes), REST reads and writes, and uploads that are transcribed and
//! deleted. Prints connections, messages, errors and the server's RSS at the start, after
//! the warm-up, every minute and at the end. Bounded: every loop ends at the deadline.
//!
//! ```sh
//! scripts/soak.sh 10     # builds, makes the speech file, pins server and generator
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use loadtests::session;
use loadtests::yclient::Measurement;
use loadtests::{ProcessUsage, Server, ServerArgs, account};

mod hub;
mod notes;
mod rest;

#[derive(Parser, Clone)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Minutes of load, the warm-up included.
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Seconds of load before the "warm" reading that growth is measured against.
    #[arg(long, default_value_t = 90)]
    warmup_secs: u64,
    /// Note rooms, each with this many editors typing and one listener.
    #[arg(long, default_value_t = 4)]
    rooms: usize,
    #[arg(long, default_value_t = 4)]
    editors: usize,
    /// Session participants, the host included.
    #[arg(long, default_value_t = 30)]
    participants: usize,
    /// Chat messages per second in the session.
    #[arg(long, default_value_t = 5)]
    chat_rate: u32,
    /// REST clients, each doing one request per `rest_interval_ms`.
    #[arg(long, default_value_t = 4)]
    rest_clients: usize,
    #[arg(long, default_value_t = 200)]
    rest_interval_ms: u64,
    /// A speech recording (WAV) uploaded and transcribed every `upload_every_secs`.
    #[arg(long)]
    speech: PathBuf,
    #[arg(long, default_value_t = 30)]
    upload_every_secs: u64,
}

/// What the hub, REST and upload parts count (note rooms count in a [`Measurement`]).
#[derive(Default)]
pub struct Counters {
    /// WebSockets open now (notes and hub).
    pub open: AtomicU64,
    /// WebSockets opened since the start.
    pub opened: AtomicU64,
    /// Hub frames sent and received.
    pub hub_sent: AtomicU64,
    pub hub_received: AtomicU64,
    /// REST requests answered (uploads and their polling included).
    pub requests: AtomicU64,
    /// Uploads transcribed (their transcript checked) and deleted.
    pub transcribed: AtomicU64,
    pub errors: AtomicU64,
    first_errors: std::sync::Mutex<Vec<String>>,
}

impl Counters {
    /// Counts an error; the first few distinct ones are printed at the end.
    pub fn error(&self, what: impl std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let what = what.to_string();
        let mut first = self.first_errors.lock().expect("not poisoned");
        if first.len() < 10 && !first.contains(&what) {
            first.push(what);
        }
    }

    /// A socket opened; the returned guard counts it closed when dropped.
    pub fn socket(self: &Arc<Self>) -> OpenSocket {
        self.open.fetch_add(1, Ordering::Relaxed);
        self.opened.fetch_add(1, Ordering::Relaxed);
        OpenSocket(self.clone())
    }
}

pub struct OpenSocket(Arc<Counters>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What the parts share: the server, a client, the accounts, the counters and the deadline.
pub struct Load {
    pub base: String,
    pub http: reqwest::Client,
    /// Access tokens of the load accounts: the host's, then `user{n}@load.test`.
    pub tokens: Vec<String>,
    pub counters: Arc<Counters>,
    /// Note edits typed, edits delivered to other clients, and clients dropped by the server.
    pub notes: Measurement,
    pub deadline: Instant,
}

impl Load {
    pub fn running(&self) -> bool {
        Instant::now() < self.deadline
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let speech = std::fs::read(&args.speech)
        .with_context(|| format!("reading {}", args.speech.display()))?;
    let server = args.server.start().await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    // The host, one account per room, per REST client and for uploads; at least everyone
    // in the session.
    let accounts = args.participants.max(args.rooms + args.rest_clients + 2);
    let mut tokens = vec![session::premium_host(&server, &http).await?];
    let emails = (0..accounts - 1).map(|n| format!("user{n}@load.test"));
    tokens.extend(
        account::register_many(&http, &server.base, emails, session::SETUP_CONCURRENCY).await?,
    );
    let load = Arc::new(Load {
        base: server.base.clone(),
        http,
        tokens,
        counters: Arc::default(),
        notes: Measurement::default(),
        deadline: Instant::now() + Duration::from_secs_f64(args.minutes * 60.0),
    });
    let backend = args.server.backend();
    println!(
        "# Soak: {} min on {backend}: {} rooms x ({} editors + 1 listener), a session of {} \
         ({} chat/s, polls, Q&A), {} REST clients every {} ms, an upload every {} s",
        args.minutes,
        args.rooms,
        args.editors,
        args.participants,
        args.chat_rate,
        args.rest_clients,
        args.rest_interval_ms,
        args.upload_every_secs
    );
    let start = read(&server, &load, "start")?;

    let mut tasks = tokio::task::JoinSet::new();
    notes::spawn(&mut tasks, &load, args.rooms, args.editors).await?;
    hub::spawn(&mut tasks, &load, args.participants, args.chat_rate).await?;
    rest::spawn(
        &mut tasks,
        &load,
        args.rest_clients,
        Duration::from_millis(args.rest_interval_ms),
        speech,
        Duration::from_secs(args.upload_every_secs),
    );

    // Readings every minute and once when the warm-up ends.
    let began = Instant::now();
    let total = load.deadline - began;
    let warmup = Duration::from_secs(args.warmup_secs);
    let mut marks: Vec<Duration> = (1..)
        .map(|m| Duration::from_secs(60 * m))
        .take_while(|mark| *mark < total)
        .chain([warmup])
        .filter(|mark| *mark < total)
        .collect();
    marks.sort();
    marks.dedup();
    let mut warm = None;
    for mark in marks {
        tokio::time::sleep_until((began + mark).into()).await;
        let reading = read(&server, &load, &format!("{} s", mark.as_secs()))?;
        if mark == warmup {
            warm = Some(reading);
        }
    }
    tokio::time::sleep_until(load.deadline.into()).await;
    let end = read(&server, &load, "end")?;
    while tasks.join_next().await.is_some() {}
    read(&server, &load, "closed")?;

    let errors = errors(&load);
    println!("\nerrors: {errors}");
    let notes_dropped = load.notes.drop_reasons.lock().expect("not poisoned");
    let first_errors = load.counters.first_errors.lock().expect("not poisoned");
    for error in first_errors.iter().chain(notes_dropped.iter()) {
        println!("  {error}");
    }
    let mib = |usage: ProcessUsage| usage.rss_bytes as f64 / 1_048_576.0;
    let warm = warm.unwrap_or(start);
    let growth = (mib(end) - mib(warm)) / mib(warm) * 100.0;
    println!(
        "RSS: start {:.1} MiB, after warm-up {:.1} MiB, end {:.1} MiB: {growth:+.1} % after \
         warm-up (target under 5 %); server CPU {:.0} s",
        mib(start),
        mib(warm),
        mib(end),
        end.cpu_seconds - start.cpu_seconds
    );
    let passed = errors == 0 && growth < 5.0;
    println!("soak: {}", if passed { "PASS" } else { "FAIL" });
    std::process::exit(if passed { 0 } else { 1 });
}

/// Errors of every part: failed requests and connections, error frames, and note clients
/// the server dropped.
fn errors(load: &Load) -> u64 {
    load.counters.errors.load(Ordering::Relaxed) + load.notes.dropped.load(Ordering::Relaxed)
}

/// Prints one line of readings and returns the server's usage.
fn read(server: &Server, load: &Load, label: &str) -> anyhow::Result<ProcessUsage> {
    let usage = ProcessUsage::read(server.pid).context("reading the server's usage")?;
    let (c, n) = (&load.counters, &load.notes);
    let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
    println!(
        "{label:>7}: sockets {:>3} open, {:>5} opened | hub {:>6} sent, {:>7} received | \
         notes {:>6} typed, {:>6} delivered | REST {:>6} | transcribed {:>3} | errors {:>3} | \
         RSS {:>6.1} MiB",
        get(&c.open),
        get(&c.opened),
        get(&c.hub_sent),
        get(&c.hub_received),
        get(&n.sent),
        get(&n.delivered),
        get(&c.requests),
        get(&c.transcribed),
        errors(load),
        usage.rss_bytes as f64 / 1_048_576.0
    );
    Ok(usage)
}
