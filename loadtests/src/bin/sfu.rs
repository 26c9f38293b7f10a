//! SFU forwarding load: one publisher (Opus 50 packets/s and VP8 at ~1.9 Mbit/s) fanned out
//! to N subscribers, and rooms of four participants who all publish a camera and a
//! microphone. Every client is a non-decoding webrtc-rs peer negotiated over the hub
//! socket. Reports, per step, the packets/s the subscribers received and the server says it
//! forwarded, loss, the delay the server added (send to receipt on one clock) and the
//! server's CPU.
//!
//! ```text
//! taskset -c 1 target/release/sfu --server-cpus 0 --fanout 50,100,200,400 --rooms 5,10,20
//! ```
//!
//! With `--compare-recording`, each rooms step runs twice on fresh servers, the second time
//! with every room recorded (each host sends `recording.start`): the cost of recording
//! every track of a four-person session, side by side with the same load.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use futures_util::StreamExt;
use loadtests::media_peer::{
    PACKETS_PER_SECOND, Participant, Received, Traffic, epoch, micros_since_epoch,
};
use loadtests::session::{self, SETUP_CONCURRENCY};
use loadtests::{ProcessUsage, Server, ServerArgs, account};
use serde_json::json;

/// How long a step waits, after its window, for packets sent in it.
const DRAIN: Duration = Duration::from_secs(2);

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    /// Subscriber counts of the fan-out steps (one publisher each).
    #[arg(long, value_delimiter = ',', default_value = "10,50,100")]
    fanout: Vec<usize>,
    /// Room counts of the rooms steps (four publishing participants each); empty: none.
    #[arg(long, value_delimiter = ',')]
    rooms: Vec<usize>,
    /// Seconds measured per step, after the warm-up.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of traffic before measuring.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Runs each rooms step again with every room recorded.
    #[arg(long)]
    compare_recording: bool,
}

/// One step's participants, their senders and what they received.
struct Step {
    participants: Vec<Arc<Participant>>,
    received: Arc<Received>,
    traffic: Traffic,
    /// Receivers per published packet.
    fanout: u64,
    publishers: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    epoch();
    println!(
        "| load | publishers | subscribers per track | sent pkt/s | expected pkt/s | received pkt/s | server forwarded pkt/s | loss | added delay p50 / p99 | server CPU | generator CPU | recorder dropped |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for &n in &args.fanout {
        let server = args.server.start().await?;
        let step = fanout(&server, n)
            .await
            .with_context(|| format!("fan-out to {n}"))?;
        measure(&args, &server, &format!("1 → {n}"), step).await?;
    }
    let recording: &[bool] = if args.compare_recording {
        &[false, true]
    } else {
        &[false]
    };
    for &rooms in &args.rooms {
        for &record in recording {
            let server = args.server.start().await?;
            let step = rooms_of_four(&server, rooms, record)
                .await
                .with_context(|| format!("{rooms} rooms"))?;
            let label = match record {
                true => format!("{rooms} rooms × 4, recorded"),
                false => format!("{rooms} rooms × 4"),
            };
            measure(&args, &server, &label, step).await?;
        }
    }
    Ok(())
}

/// A host publishing, `n` accounts receiving.
async fn fanout(server: &Server, n: usize) -> anyhow::Result<Step> {
    let http = reqwest::Client::new();
    let host = session::premium_host(server, &http).await?;
    let id = session::start(&http, &server.base, &host).await?;
    let received = Arc::new(Received::default());
    let (socket, _) = session::join_welcomed(&http, &server.base, &id, &host).await?;
    let publisher = Participant::new(socket, received.clone()).await?;
    let emails = (0..n).map(|i| format!("sub{i}@load.test"));
    let tokens = account::register_many(&http, &server.base, emails, SETUP_CONCURRENCY).await?;
    let sockets = session::join_all(&http, &server.base, &id, tokens).await?;
    let mut participants = vec![publisher.clone()];
    for socket in sockets {
        participants.push(Participant::receiver(socket, received.clone()).await?);
    }
    let traffic = Traffic::default();
    publisher.publish(0x1000).await?.spawn(&traffic);
    for p in &participants {
        p.wait_connected(Duration::from_secs(60)).await?;
    }
    Ok(Step {
        participants,
        received,
        traffic,
        fanout: n as u64,
        publishers: 1,
    })
}

/// `rooms` sessions of a host and three presenters, everyone publishing; each host records
/// its session when `record`.
async fn rooms_of_four(server: &Server, rooms: usize, record: bool) -> anyhow::Result<Step> {
    let http = reqwest::Client::new();
    let host = session::premium_host(server, &http).await?;
    let emails = (0..rooms * 3).map(|i| format!("p{i}@load.test"));
    let tokens = account::register_many(&http, &server.base, emails, SETUP_CONCURRENCY).await?;
    let received = Arc::new(Received::default());
    let traffic = Traffic::default();
    let mut participants = Vec::new();
    for (room, tokens) in tokens.chunks(3).enumerate() {
        let id = session::start(&http, &server.base, &host).await?;
        let (socket, _) = session::join_welcomed(&http, &server.base, &id, &host).await?;
        let moderator = Participant::new(socket, received.clone()).await?;
        let mut members = vec![moderator.clone()];
        for token in tokens {
            let (socket, welcome) = session::join_welcomed(&http, &server.base, &id, token).await?;
            let who = welcome["participant"]["participant"].clone();
            let member = Participant::new(socket, received.clone()).await?;
            moderator
                .request(json!({"type": "mod.set_role", "participant": who, "role": "presenter"}))
                .await?;
            members.push(member);
        }
        for (i, member) in members.iter().enumerate() {
            let ssrc = 0x1000 + (room * 4 + i) as u32 * 2;
            // The role change reaches the SFU through the session: retry until it has.
            let sender = loop {
                match member.publish(ssrc).await {
                    Ok(sender) => break sender,
                    Err(e) if e.to_string().contains("forbidden") => {
                        tokio::time::sleep(Duration::from_millis(50)).await
                    }
                    Err(e) => return Err(e),
                }
            };
            sender.spawn(&traffic);
        }
        if record {
            moderator
                .request(json!({"type": "recording.start"}))
                .await?;
        }
        participants.extend(members);
    }
    for p in &participants {
        p.wait_connected(Duration::from_secs(60)).await?;
    }
    Ok(Step {
        participants,
        received,
        traffic,
        fanout: 3,
        publishers: (rooms * 4) as u64,
    })
}

async fn measure(args: &Args, server: &Server, label: &str, step: Step) -> anyhow::Result<()> {
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let me = std::process::id();
    let before = Snapshot::take(server, me, &step, true).await?;
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    let after = Snapshot::take(server, me, &step, false).await?;
    // Packets sent in the window that are still on their way count when they arrive.
    tokio::time::sleep(DRAIN).await;
    step.traffic.stop();
    let secs = after.at.duration_since(before.at).as_secs_f64();
    let rate = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / secs;
    let sent = rate(before.sent, after.sent);
    let expected = sent * step.fanout as f64;
    let received = step.received.sent_in_window.load(Ordering::Relaxed) as f64 / secs;
    let forwarded = rate(before.forwarded, after.forwarded);
    let loss = if expected > 0.0 {
        (1.0 - received / expected).max(0.0) * 100.0
    } else {
        f64::NAN
    };
    let delay = step.received.delay.lock().unwrap().clone();
    let cpu = |a: f64, b: f64| (b - a) / secs * 100.0;
    println!(
        "| {label} | {} | {} | {sent:.0} (nominal {}) | {expected:.0} | {received:.0} | {forwarded:.0} | {loss:.2} % | {:.2} / {:.2} ms | {:.0} % | {:.0} % | {} |",
        step.publishers,
        step.fanout,
        step.publishers * PACKETS_PER_SECOND,
        delay.value_at_quantile(0.5) as f64 / 1000.0,
        delay.value_at_quantile(0.99) as f64 / 1000.0,
        cpu(before.server_cpu, after.server_cpu),
        cpu(before.own_cpu, after.own_cpu),
        after.recording_dropped - before.recording_dropped,
    );
    futures_util::stream::iter(step.participants)
        .for_each_concurrent(SETUP_CONCURRENCY, |p| async move { p.close().await })
        .await;
    Ok(())
}

/// Counters at one instant.
struct Snapshot {
    at: Instant,
    sent: u64,
    forwarded: u64,
    recording_dropped: u64,
    server_cpu: f64,
    own_cpu: f64,
}

impl Snapshot {
    /// The counters now; `fresh` starts the delay histogram over and opens the window of
    /// send times whose packets count as received, the other closes it.
    async fn take(server: &Server, me: u32, step: &Step, fresh: bool) -> anyhow::Result<Snapshot> {
        let total = |lines: Vec<String>| {
            lines
                .iter()
                .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
                .sum::<f64>() as u64
        };
        let forwarded = total(server.metrics("sfu_forwarded_packets_total").await?);
        let recording_dropped = total(
            server
                .metrics("sfu_recording_dropped_packets_total")
                .await?,
        );
        if fresh {
            step.received.reset_delay();
            step.received.open_window(micros_since_epoch());
        } else {
            step.received.close_window(micros_since_epoch());
        }
        Ok(Snapshot {
            at: Instant::now(),
            sent: step.traffic.sent(),
            forwarded,
            recording_dropped,
            server_cpu: ProcessUsage::read(server.pid).map_or(0.0, |u| u.cpu_seconds),
            own_cpu: ProcessUsage::read(me).map_or(0.0, |u| u.cpu_seconds),
        })
    }
}
