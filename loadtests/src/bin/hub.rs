//! Live-session hub load: one session, N participants on WebSockets, chat at a fixed
//! rate; reports send → receive latency at every participant, and the server's CPU and
//! memory.
//!
//! ```sh
//! cargo build --release -p workbook -p loadtests
//! target/release/hub --participants 1000 --rate 20 --seconds 30
//! ```
//!
//! To keep the generator off the server's core, pin each (the server inherits the
//! generator's CPUs unless `--server-cpus` says otherwise):
//!
//! ```sh
//! taskset -c 1 target/release/hub --server-cpus 0 --participants 5000 --rate 20
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use loadtests::account;
use loadtests::session::{self, SETUP_CONCURRENCY, Socket};
use loadtests::{Latencies, ProcessUsage, ServerArgs};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Connected participants (the host included).
    #[arg(long, default_value_t = 1000)]
    participants: usize,
    /// Chat messages per second, spread over the participants.
    #[arg(long, default_value_t = 20)]
    rate: u32,
    /// Seconds of chat.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.participants < 2 || args.rate == 0 {
        bail!("need at least 2 participants and a rate above 0");
    }
    let server = args.server.start().await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let host = session::premium_host(&server, &http).await?;
    let session_id = session::start(&http, &server.base, &host).await?;

    let setup = Instant::now();
    let mut tokens = vec![host];
    let emails = (1..args.participants).map(|n| format!("p{n}@load.test"));
    tokens.extend(account::register_many(&http, &server.base, emails, SETUP_CONCURRENCY).await?);
    println!(
        "registered {} accounts in {:.1} s",
        tokens.len(),
        setup.elapsed().as_secs_f64()
    );
    // Password hashing leaves allocator arenas behind: measure the hub against this.
    let registered = ProcessUsage::read(server.pid).context("reading server usage")?;
    let joined = Instant::now();
    let sockets = session::join_all(&http, &server.base, &session_id, tokens).await?;
    println!(
        "connected {} participants in {:.1} s",
        sockets.len(),
        joined.elapsed().as_secs_f64()
    );
    let idle = ProcessUsage::read(server.pid).context("reading server usage")?;

    let epoch = Instant::now();
    let total = args.rate as u64 * args.seconds;
    let (writers, readers): (Vec<_>, Vec<_>) = sockets.into_iter().map(StreamExt::split).unzip();
    let deadline = Duration::from_secs(args.seconds + 5);
    let receivers: Vec<_> = readers
        .into_iter()
        .map(|reader| tokio::spawn(receive(reader, epoch, total, deadline)))
        .collect();
    let before = ProcessUsage::read(server.pid).context("reading server usage")?;
    let client_before = ProcessUsage::read(std::process::id()).context("reading own usage")?;
    let started = Instant::now();
    send(writers, epoch, args.rate, total).await?;
    let mut latencies = Latencies::new();
    let mut missing = 0;
    for receiver in receivers {
        let (own, received) = receiver.await?;
        latencies.merge(&own);
        missing += total - received;
    }
    let wall = started.elapsed().as_secs_f64();
    let after = ProcessUsage::read(server.pid).context("reading server usage")?;
    let client_after = ProcessUsage::read(std::process::id()).context("reading own usage")?;

    let backend = args.server.backend();
    println!(
        "\n# Hub: {} participants, {} msg/s for {} s, {backend}",
        args.participants, args.rate, args.seconds
    );
    println!(
        "delivery latency (send → receive, every participant): {}",
        latencies.summary()
    );
    println!("deliveries missing: {missing}");
    println!(
        "load generator CPU (same machine): {:.0}% of one core",
        (client_after.cpu_seconds - client_before.cpu_seconds) / wall * 100.0
    );
    println!(
        "server CPU during chat: {:.0}% of one core; RSS after registering {:.0} MiB, with everyone connected {:.0} MiB, after chat {:.0} MiB",
        (after.cpu_seconds - before.cpu_seconds) / wall * 100.0,
        registered.rss_bytes as f64 / 1_048_576.0,
        idle.rss_bytes as f64 / 1_048_576.0,
        after.rss_bytes as f64 / 1_048_576.0,
    );
    let connected = idle.rss_bytes.saturating_sub(registered.rss_bytes) as f64;
    let chatting = after.rss_bytes.saturating_sub(registered.rss_bytes) as f64;
    let participants = args.participants as f64;
    println!(
        "memory per hub connection (RSS growth over registering / participants): {:.1} KB connected, {:.1} KB after chat",
        connected / participants / 1000.0,
        chatting / participants / 1000.0,
    );
    println!("event commits inside the server (/metrics; summary quantiles over its last ~60 s):");
    for line in server.metrics("hub_event_commit").await? {
        println!("  {line}");
    }
    Ok(())
}

/// Sends `total` chat messages at `rate`/s, round-robin over the participants; each
/// text carries its send time (µs since `epoch`).
async fn send(
    mut writers: Vec<SplitSink<Socket, Message>>,
    epoch: Instant,
    rate: u32,
    total: u64,
) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
    let count = writers.len();
    for n in 0..total {
        tick.tick().await;
        let sent = epoch.elapsed().as_micros();
        let message = json!({"type": "chat.send", "text": format!("t{sent}")}).to_string();
        writers[n as usize % count]
            .send(Message::text(message))
            .await?;
    }
    Ok(())
}

/// Records the latency of every chat message this participant receives, until all
/// `total` arrived or the deadline passes; drains everything else.
async fn receive(
    mut reader: SplitStream<Socket>,
    epoch: Instant,
    total: u64,
    deadline: Duration,
) -> (Latencies, u64) {
    let mut latencies = Latencies::new();
    let mut received = 0;
    let end = tokio::time::Instant::now() + deadline;
    while received < total {
        let Ok(Some(Ok(message))) = tokio::time::timeout_at(end, reader.next()).await else {
            break;
        };
        let Message::Text(text) = message else {
            continue;
        };
        if let Some(sent) = sent_micros(&text) {
            let now = epoch.elapsed().as_micros();
            latencies.record(Duration::from_micros(now.saturating_sub(sent) as u64));
            received += 1;
        }
    }
    (latencies, received)
}

/// The send time in a `chat.posted` event frame, without parsing the whole JSON.
fn sent_micros(text: &str) -> Option<u128> {
    if !text.contains(r#""kind":"chat.posted""#) {
        return None;
    }
    let start = text.find(r#""text":"t"#)? + r#""text":"t"#.len();
    let digits = &text[start..];
    let end = digits.find('"')?;
    digits[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_send_time_is_read_from_a_chat_event() {
        let frame = r#"{"type":"event","seq":9,"event":{"kind":"chat.posted","message":"m","from":"p","text":"t12345"}}"#;
        assert_eq!(super::sent_micros(frame), Some(12345));
        assert_eq!(super::sent_micros(r#"{"type":"ack","ref":1}"#), None);
    }
}
