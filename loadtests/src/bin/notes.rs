//! Collaborative notes load: Yjs rooms x editors x update rate over the y-websocket
//! protocol, against our server and, in the same run, the npm reference server (or an
//! earlier build of ours, `--baseline-bin`, for before and after a change).
//!
//! Three phases, each run on every server one after the other with the same load:
//! fan-out throughput at rising update rates, server memory per idle connection, and one
//! big room.
//!
//! ```sh
//! cargo build --release -p workbook -p loadtests
//! (cd tests/interop && npm ci)        # or any dir with @y/websocket-server@0.1.1 installed
//! taskset -c 1 target/release/notes --reference-dir tests/interop --server-cpus 0
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, ValueEnum};
use futures_util::StreamExt;
use loadtests::account;
use loadtests::reference::ReferenceServer;
use loadtests::yclient::{Measurement, Role, YClient};
use loadtests::{Buckets, ProcessUsage, Server, ServerArgs};
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Another build of our server (the `baseline` target), measured side by side with
    /// `--server-bin` in the same run: before and after a change.
    #[arg(long)]
    baseline_bin: Option<PathBuf>,
    /// Directory whose node_modules holds @y/websocket-server@0.1.1.
    #[arg(long, default_value = "tests/interop")]
    reference_dir: PathBuf,
    /// Servers to measure, in this order within each phase. Ratios compare the last with
    /// the first.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "reference,ours"
    )]
    targets: Vec<TargetKind>,
    /// Phases to run.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "throughput,idle,big-room"
    )]
    phases: Vec<Phase>,
    /// Throughput phase: rooms.
    #[arg(long, default_value_t = 20)]
    rooms: usize,
    /// Throughput phase: editing clients per room.
    #[arg(long, default_value_t = 5)]
    editors: usize,
    /// Throughput phase: clients per room that only listen.
    #[arg(long, default_value_t = 5)]
    listeners: usize,
    /// Throughput phase: updates per second per editor, one step per value.
    #[arg(long, value_delimiter = ',', default_value = "2,5,10,20,40")]
    rates: Vec<f64>,
    /// Seconds of typing per throughput step and in the big room.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// A step counts as sustained when at least this share of deliveries arrived...
    #[arg(long, default_value_t = 0.99)]
    min_delivered: f64,
    /// ...and its fan-out p99 stayed under this many milliseconds.
    #[arg(long, default_value_t = 50.0)]
    max_p99_ms: f64,
    /// After the throughput phase, compare both servers again under each of these p99
    /// budgets (the highest rate each sustains within it, and the ratio).
    #[arg(long, value_delimiter = ',', default_value = "10,20,25,30,50")]
    compare_p99_ms: Vec<f64>,
    /// Idle phase: connections measured.
    #[arg(long, default_value_t = 2000)]
    idle: usize,
    /// Idle phase: connections per room.
    #[arg(long, default_value_t = 100)]
    idle_room_size: usize,
    /// Big-room phase: connected clients in the one room.
    #[arg(long, default_value_t = 1000)]
    big_room: usize,
    /// Big-room phase: how many of them type.
    #[arg(long, default_value_t = 5)]
    big_room_editors: usize,
    /// Big-room phase: updates per second per editor.
    #[arg(long, default_value_t = 2.0)]
    big_room_rate: f64,
    /// Runs of each throughput step per server (alternating); the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    repeat: usize,
    /// Connections opened concurrently while setting up.
    #[arg(long, default_value_t = 32)]
    connect_parallel: usize,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum TargetKind {
    Reference,
    /// `--baseline-bin`.
    Baseline,
    /// `--server-bin`.
    Ours,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Phase {
    Throughput,
    Idle,
    BigRoom,
}

/// Time after the last update for the last deliveries to arrive.
const DRAIN: Duration = Duration::from_secs(2);

/// Time for connections to settle before memory is read.
const SETTLE: Duration = Duration::from_secs(3);

/// A server under test: where its rooms are and which process to watch.
enum Target {
    Reference(ReferenceServer),
    /// A build of ours: `--server-bin`, or `--baseline-bin` when `baseline`.
    Ours {
        server: Server,
        http: reqwest::Client,
        baseline: bool,
    },
}

/// The account that owns the load's notes.
const LOAD_EMAIL: &str = "notes-load@example.com";

impl Target {
    async fn start(kind: TargetKind, args: &Args) -> anyhow::Result<Target> {
        let cpus = args.server.server_cpus.as_deref();
        let server = match kind {
            TargetKind::Reference => {
                let reference = ReferenceServer::start(&args.reference_dir, cpus).await?;
                return Ok(Target::Reference(reference));
            }
            TargetKind::Baseline => {
                let binary = args.baseline_bin.as_deref().context("--baseline-bin")?;
                args.server.start_binary(binary).await?
            }
            TargetKind::Ours => args.server.start().await?,
        };
        let http = reqwest::Client::new();
        account::register(&http, &server.base, LOAD_EMAIL, "Notes Load").await?;
        Ok(Target::Ours {
            server,
            http,
            baseline: kind == TargetKind::Baseline,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            Target::Reference(_) => "reference (@y/websocket-server 0.1.1)",
            Target::Ours { baseline: true, .. } => "baseline (workbook, --baseline-bin)",
            Target::Ours { .. } => "ours (workbook)",
        }
    }

    /// The name in ratios and table headings.
    fn short_name(&self) -> &'static str {
        match self {
            Target::Reference(_) => "reference",
            Target::Ours { baseline: true, .. } => "baseline",
            Target::Ours { .. } => "ours",
        }
    }

    fn pid(&self) -> u32 {
        match self {
            Target::Reference(reference) => reference.pid,
            Target::Ours { server, .. } => server.pid,
        }
    }

    /// Ours: how long its rooms have waited for their appends so far (`/metrics`).
    async fn append_waits(&self) -> anyhow::Result<Buckets> {
        match self {
            Target::Reference(_) => Ok(Buckets::default()),
            Target::Ours { server, .. } => Ok(Buckets::parse(
                &server.metrics_text().await?,
                "note_append_seconds",
            )),
        }
    }

    /// WebSocket URLs of `n` fresh rooms (for ours: new notes owned by the load account).
    async fn new_rooms(&self, n: usize) -> anyhow::Result<Vec<String>> {
        let (server, http) = match self {
            Target::Reference(reference) => {
                let room = || format!("{}/load-{}", reference.base, uuid::Uuid::new_v4());
                return Ok((0..n).map(|_| room()).collect());
            }
            Target::Ours { server, http, .. } => (server, http),
        };
        // A fresh token per step: a run outlasts one (15 minutes by default).
        let token = account::login(http, &server.base, LOAD_EMAIL).await?;
        let ws_base = server.base.replacen("http://", "ws://", 1);
        let mut urls = Vec::with_capacity(n);
        for i in 0..n {
            let note = create_note(http, &server.base, &token, i).await?;
            urls.push(format!(
                "{ws_base}/api/workbook/notes/ws/{note}?token={token}"
            ));
        }
        Ok(urls)
    }
}

async fn create_note(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    i: usize,
) -> anyhow::Result<String> {
    let body: Value = http
        .post(format!("{base}/api/workbook/notes"))
        .bearer_auth(token)
        .json(&json!({"title": format!("Load room {i}"), "isPrivate": false}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(body["note"]["id"]
        .as_str()
        .context("no note id")?
        .to_owned())
}

/// Yjs client ids, unique within the run.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// Opens one synced client per URL, `parallel` handshakes at a time; fails on the first
/// client that cannot connect.
async fn connect_all(urls: Vec<String>, parallel: usize) -> anyhow::Result<Vec<YClient>> {
    let (clients, failures) = connect_each(urls, parallel).await;
    match failures.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(clients),
    }
}

/// Like [`connect_all`], but keeps going: returns the clients that connected and the errors
/// of those that did not (e.g. a room that closes newcomers with 4503 when full).
async fn connect_each(urls: Vec<String>, parallel: usize) -> (Vec<YClient>, Vec<anyhow::Error>) {
    let results: Vec<_> = futures_util::stream::iter(urls)
        .map(|url| async move {
            YClient::connect(&url, NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed)).await
        })
        .buffered(parallel)
        .collect()
        .await;
    let (mut clients, mut failures) = (Vec::new(), Vec::new());
    for result in results {
        match result {
            Ok(client) => clients.push(client),
            Err(error) => failures.push(error),
        }
    }
    (clients, failures)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    println!(
        "# Collaborative notes load ({} cores)\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    if args.phases.contains(&Phase::Throughput) {
        throughput(&args).await?;
    }
    if args.phases.contains(&Phase::Idle) {
        idle(&args).await?;
    }
    if args.phases.contains(&Phase::BigRoom) {
        big_room(&args).await?;
    }
    Ok(())
}

/// One throughput step's outcome.
#[derive(Clone)]
struct Step {
    per_editor: f64,
    offered: f64,
    updates_per_second: f64,
    delivered_share: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Ours only: the p99 of a room's wait for its appends (an upper bound, from the
    /// server's histogram buckets), the part of `p99_ms` that storing takes. NaN otherwise.
    store_p99_ms: f64,
    server_cpu: f64,
    client_cpu: f64,
    rss_mib: f64,
    dropped: f64,
    drop_reasons: Vec<String>,
}

impl Step {
    /// Column by column median of repeated runs of the same step.
    fn median(runs: &[Step]) -> Step {
        let of = |field: fn(&Step) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(field).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Step {
            per_editor: of(|s| s.per_editor),
            offered: of(|s| s.offered),
            updates_per_second: of(|s| s.updates_per_second),
            delivered_share: of(|s| s.delivered_share),
            p50_ms: of(|s| s.p50_ms),
            p99_ms: of(|s| s.p99_ms),
            store_p99_ms: of(|s| s.store_p99_ms),
            server_cpu: of(|s| s.server_cpu),
            client_cpu: of(|s| s.client_cpu),
            rss_mib: of(|s| s.rss_mib),
            dropped: of(|s| s.dropped),
            drop_reasons: runs.iter().flat_map(|s| s.drop_reasons.clone()).collect(),
        }
    }
}

async fn throughput(args: &Args) -> anyhow::Result<()> {
    println!(
        "## Fan-out throughput: {} rooms x ({} editors + {} listeners), {} s per step\n",
        args.rooms, args.editors, args.listeners, args.seconds
    );
    println!(
        "| server | per editor/s | offered updates/s | delivered updates/s | deliveries arrived | p50 ms | p99 ms | store p99 ms | server CPU | client CPU | server RSS MiB | dropped |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let targets = start_targets(args).await?;
    let mut medians: Vec<Vec<Step>> = vec![Vec::new(); targets.len()];
    let mut drops = Vec::new();
    for &rate in &args.rates {
        let mut runs: Vec<Vec<Step>> = vec![Vec::new(); targets.len()];
        for _ in 0..args.repeat {
            for (target, runs) in targets.iter().zip(&mut runs) {
                runs.push(throughput_step(target, args, rate).await?);
                settle(target).await;
            }
        }
        for ((target, runs), steps) in targets.iter().zip(&runs).zip(&mut medians) {
            let step = Step::median(runs);
            print_step(target.name(), &step);
            for reason in &step.drop_reasons {
                drops.push(format!(
                    "- {} at {rate}/s per editor: {reason}",
                    target.name()
                ));
            }
            steps.push(step);
        }
    }
    if !drops.is_empty() {
        println!("\nClients closed before the end of a step:\n");
        drops.dedup();
        drops.iter().for_each(|line| println!("{line}"));
    }
    print_sustained(args, &targets, &medians);
    for target in &targets {
        if let Target::Ours { server, .. } = target {
            println!("\nOur note writer's group commits (/metrics, over the last ~60 s):\n");
            for line in server.metrics("note_write").await? {
                println!("    {line}");
            }
        }
    }
    println!();
    Ok(())
}

/// Each server's sustained rate under the common p99 budget; for the last server against the
/// first, their ratio and the last held to the first's own p99 at its sustained step.
fn print_sustained(args: &Args, targets: &[Target], medians: &[Vec<Step>]) {
    println!(
        "\nSustained: the highest delivered rate with ≥ {:.0}% of deliveries arrived and p99 ≤ {} ms (medians of {} runs).\n",
        args.min_delivered * 100.0,
        args.max_p99_ms,
        args.repeat
    );
    let sustained: Vec<Option<&Step>> = medians
        .iter()
        .map(|steps| best_held(steps, args.min_delivered, args.max_p99_ms))
        .collect();
    for (target, best) in targets.iter().zip(&sustained) {
        match best {
            Some(step) => println!(
                "- **{}**: {:.0} updates/s at p99 {:.2} ms",
                target.name(),
                step.updates_per_second,
                step.p99_ms
            ),
            None => println!("- **{}**: no step held", target.name()),
        }
    }
    // The last target against the first: ours against the reference, or after against before.
    let (Some((first, base)), Some((last, other))) = (
        targets.first().zip(medians.first()),
        targets.last().zip(medians.last()),
    ) else {
        return;
    };
    if targets.len() < 2 {
        return;
    }
    let (a, b) = (first.short_name(), last.short_name());
    if let (Some(held_a), Some(held_b)) = (sustained[0], sustained[targets.len() - 1]) {
        println!(
            "- {b} / {a}: {:.1}x",
            held_b.updates_per_second / held_a.updates_per_second
        );
        // The same comparison held to the first one's own tail.
        match best_held(other, args.min_delivered, held_a.p99_ms) {
            Some(step) => println!(
                "- {b} with p99 ≤ the {a}'s {:.2} ms: {:.0} updates/s at p99 {:.2} ms, {:.1}x",
                held_a.p99_ms,
                step.updates_per_second,
                step.p99_ms,
                step.updates_per_second / held_a.updates_per_second
            ),
            None => println!(
                "- {b} with p99 ≤ the {a}'s {:.2} ms: no step",
                held_a.p99_ms
            ),
        }
    }
    print_budgets(args, (a, base), (b, other));
}

/// Two servers' sustained rates under each budget of `--compare-p99-ms`: a tight budget
/// counts only the steps where a server still answers fast, a loose one every step it
/// keeps up with.
fn print_budgets(args: &Args, (a, first): (&str, &[Step]), (b, last): (&str, &[Step])) {
    println!("\n| p99 budget | {a} | {b} | {b} / {a} |\n|---|---|---|---|");
    let held = |steps, budget| {
        best_held(steps, args.min_delivered, budget).map_or_else(
            || ("none".to_owned(), None),
            |step: &Step| {
                let cell = format!("{:.0}/s at {:.2} ms", step.updates_per_second, step.p99_ms);
                (cell, Some(step.updates_per_second))
            },
        )
    };
    for &budget in &args.compare_p99_ms {
        let (first_cell, first_rate) = held(first, budget);
        let (last_cell, last_rate) = held(last, budget);
        let ratio = match (first_rate, last_rate) {
            (Some(first), Some(last)) => format!("{:.1}x", last / first),
            _ => "-".to_owned(),
        };
        println!("| {budget} ms | {first_cell} | {last_cell} | {ratio} |");
    }
}

/// The step with the highest delivered rate among those that held: at least `min_delivered`
/// of the deliveries arrived, with p99 at most `max_p99_ms`.
fn best_held(steps: &[Step], min_delivered: f64, max_p99_ms: f64) -> Option<&Step> {
    steps
        .iter()
        .filter(|step| step.delivered_share >= min_delivered && step.p99_ms <= max_p99_ms)
        .max_by(|a, b| a.updates_per_second.total_cmp(&b.updates_per_second))
}

/// Waits until the server is idle again: one saturated by a step goes on working through
/// what it queued after its clients left, and would take CPU from the next server's step.
async fn settle(target: &Target) {
    const WINDOW: Duration = Duration::from_millis(250);
    for _ in 0..120 {
        let before = ProcessUsage::read(target.pid());
        tokio::time::sleep(WINDOW).await;
        if cpu_percent(before, ProcessUsage::read(target.pid()), WINDOW) < 10.0 {
            return;
        }
    }
}

/// Starts every requested server; they stay up together so each step runs on all of them
/// back to back, under the same machine conditions.
async fn start_targets(args: &Args) -> anyhow::Result<Vec<Target>> {
    let mut targets = Vec::new();
    for &kind in &args.targets {
        targets.push(Target::start(kind, args).await?);
    }
    Ok(targets)
}

fn print_step(name: &str, step: &Step) {
    println!(
        "| {name} | {} | {:.0} | {:.0} | {:.2}% | {:.2} | {:.2} | {} | {:.0}% | {:.0}% | {:.0} | {} |",
        step.per_editor,
        step.offered,
        step.updates_per_second,
        step.delivered_share * 100.0,
        step.p50_ms,
        step.p99_ms,
        if step.store_p99_ms.is_nan() {
            "-".to_owned()
        } else {
            format!("≤ {}", step.store_p99_ms)
        },
        step.server_cpu,
        step.client_cpu,
        step.rss_mib,
        step.dropped
    );
}

async fn throughput_step(target: &Target, args: &Args, per_editor: f64) -> anyhow::Result<Step> {
    let per_room = args.editors + args.listeners;
    let rooms = target.new_rooms(args.rooms).await?;
    let urls = rooms
        .iter()
        .flat_map(|room| std::iter::repeat_n(room.clone(), per_room))
        .collect();
    let clients = connect_all(urls, args.connect_parallel).await?;
    let roles = (0..clients.len()).map(|i| i % per_room < args.editors);
    let stores_before = target.append_waits().await?;
    let measured = run_clients(
        target,
        clients,
        roles,
        per_editor,
        Duration::from_secs(args.seconds),
    )
    .await;
    let stores = target.append_waits().await?;
    let sent = measured.measurement.sent.load(Ordering::Relaxed);
    let delivered = measured.measurement.delivered.load(Ordering::Relaxed);
    let expected = sent * (per_room as u64 - 1);
    let latencies = measured.measurement.latencies.lock().expect("not poisoned");
    Ok(Step {
        per_editor,
        offered: per_editor * (args.editors * args.rooms) as f64,
        updates_per_second: delivered as f64 / (per_room as f64 - 1.0) / args.seconds as f64,
        delivered_share: delivered as f64 / expected.max(1) as f64,
        p50_ms: latencies.quantile_ms(0.5),
        p99_ms: latencies.quantile_ms(0.99),
        store_p99_ms: stores.quantile_ms_since(&stores_before, 0.99),
        server_cpu: measured.server_cpu,
        client_cpu: measured.client_cpu,
        rss_mib: measured.server_rss as f64 / 1048576.0,
        dropped: measured.measurement.dropped.load(Ordering::Relaxed) as f64,
        drop_reasons: measured
            .measurement
            .drop_reasons
            .lock()
            .expect("not poisoned")
            .clone(),
    })
}

/// What one timed run of connected clients measured.
struct Measured {
    measurement: Measurement,
    /// Percent of one core while typing.
    server_cpu: f64,
    client_cpu: f64,
    server_rss: u64,
}

/// Runs every client (an editor where `editing` says so) for `typing` plus the drain time.
async fn run_clients(
    target: &Target,
    clients: Vec<YClient>,
    editing: impl Iterator<Item = bool>,
    per_editor: f64,
    typing: Duration,
) -> Measured {
    let measurement = Measurement::default();
    let start = Instant::now();
    let send_until = start + typing;
    let read_until = send_until + DRAIN;
    let server_before = ProcessUsage::read(target.pid());
    let client_before = ProcessUsage::read(std::process::id());
    let tasks: Vec<_> = clients
        .into_iter()
        .zip(editing)
        .map(|(client, editing)| {
            let role = if editing {
                Role::Editor {
                    per_second: per_editor,
                    send_until,
                }
            } else {
                Role::Listener
            };
            tokio::spawn(client.run(role, read_until, measurement.clone()))
        })
        .collect();
    tokio::time::sleep_until(send_until.into()).await;
    let server_after = ProcessUsage::read(target.pid());
    let client_after = ProcessUsage::read(std::process::id());
    for task in tasks {
        let _ = task.await;
    }
    Measured {
        measurement,
        server_cpu: cpu_percent(server_before, server_after, typing),
        client_cpu: cpu_percent(client_before, client_after, typing),
        server_rss: server_after.map_or(0, |usage| usage.rss_bytes),
    }
}

fn cpu_percent(before: Option<ProcessUsage>, after: Option<ProcessUsage>, over: Duration) -> f64 {
    match (before, after) {
        (Some(before), Some(after)) => {
            100.0 * (after.cpu_seconds - before.cpu_seconds) / over.as_secs_f64()
        }
        _ => f64::NAN,
    }
}

/// Server RSS growth per idle, synced connection. One connection per room is opened first
/// so the rooms themselves are not counted.
async fn idle(args: &Args) -> anyhow::Result<()> {
    let rooms = args.idle.div_ceil(args.idle_room_size);
    println!(
        "## Memory per idle connection: {} connections in {rooms} rooms\n",
        args.idle
    );
    for target in start_targets(args).await? {
        let urls = target.new_rooms(rooms).await?;
        let _first = connect_all(urls.clone(), args.connect_parallel).await?;
        tokio::time::sleep(SETTLE).await;
        let before = ProcessUsage::read(target.pid()).context("reading server memory")?;
        let rest = (0..args.idle)
            .map(|i| urls[i % rooms].clone())
            .collect::<Vec<_>>();
        let _idle = connect_all(rest, args.connect_parallel).await?;
        tokio::time::sleep(SETTLE).await;
        let after = ProcessUsage::read(target.pid()).context("reading server memory")?;
        let grown = after.rss_bytes.saturating_sub(before.rss_bytes);
        println!(
            "- **{}**: RSS {:.1} → {:.1} MiB, {:.1} KB per idle connection",
            target.name(),
            before.rss_bytes as f64 / 1048576.0,
            after.rss_bytes as f64 / 1048576.0,
            grown as f64 / args.idle as f64 / 1024.0
        );
    }
    println!();
    Ok(())
}

/// One room with many connected clients, a few of them typing: fan-out latency to all.
async fn big_room(args: &Args) -> anyhow::Result<()> {
    println!(
        "## One room, {} clients, {} typing at {}/s each, {} s\n",
        args.big_room, args.big_room_editors, args.big_room_rate, args.seconds
    );
    for target in start_targets(args).await? {
        let room = target.new_rooms(1).await?.remove(0);
        let (clients, refused) =
            connect_each(vec![room; args.big_room], args.connect_parallel).await;
        if let Some(first) = refused.first() {
            println!(
                "- **{}**: {} of {} clients could not join ({first:#}); measuring the {} that did",
                target.name(),
                refused.len(),
                args.big_room,
                clients.len()
            );
        }
        let receivers = clients.len().saturating_sub(1) as u64;
        let editing = (0..clients.len()).map(|i| i < args.big_room_editors);
        let measured = run_clients(
            &target,
            clients,
            editing,
            args.big_room_rate,
            Duration::from_secs(args.seconds),
        )
        .await;
        let sent = measured.measurement.sent.load(Ordering::Relaxed);
        let delivered = measured.measurement.delivered.load(Ordering::Relaxed);
        let expected = sent * receivers;
        println!(
            "- **{}**: {} updates fanned out to {} deliveries ({:.2}%), {}, server CPU {:.0}%, client CPU {:.0}%, RSS {} MiB, dropped {}",
            target.name(),
            sent,
            delivered,
            100.0 * delivered as f64 / expected.max(1) as f64,
            measured
                .measurement
                .latencies
                .lock()
                .expect("not poisoned")
                .summary(),
            measured.server_cpu,
            measured.client_cpu,
            measured.server_rss / (1024 * 1024),
            measured.measurement.dropped.load(Ordering::Relaxed)
        );
        for reason in measured
            .measurement
            .drop_reasons
            .lock()
            .expect("not poisoned")
            .iter()
        {
            println!("  - closed early: {reason}");
        }
    }
    println!();
    Ok(())
}
