//! The busy session: every account joins; chat goes round the participants, a question is
//! asked every ten seconds and upvoted by some who see it, the host runs a poll every half
//! minute that everyone votes in. Each participant leaves and rejoins every two minutes or
//! so. Every frame answered with an `error` counts as an error.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::{SinkExt, StreamExt};
use loadtests::session::{self, Socket};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::Load;

/// About how long a participant stays before rejoining.
const STAY: Duration = Duration::from_secs(120);
/// Commands waiting for one participant; more are dropped while it rejoins.
const QUEUE: usize = 64;

/// Starts the session, one task per participant and one that drives the traffic.
pub async fn spawn(
    tasks: &mut JoinSet<()>,
    load: &Arc<Load>,
    participants: usize,
    chat_rate: u32,
) -> anyhow::Result<()> {
    let session = session::start(&load.http, &load.base, &load.tokens[0]).await?;
    let mut seats = Vec::with_capacity(participants);
    for seat in 0..participants {
        let (commands, inbox) = mpsc::channel(QUEUE);
        seats.push(commands);
        tasks.spawn(participant(load.clone(), session.clone(), seat, inbox));
    }
    tasks.spawn(drive(load.clone(), seats, chat_rate.max(1)));
    Ok(())
}

/// Chat at `chat_rate`, round-robin; every 10 s a question instead, every 30 s the host's poll.
async fn drive(load: Arc<Load>, seats: Vec<mpsc::Sender<Value>>, chat_rate: u32) {
    let mut tick = tokio::time::interval(Duration::from_secs(1) / chat_rate);
    let every = |secs: u64| u64::from(chat_rate) * secs;
    for n in 1u64.. {
        tick.tick().await;
        if !load.running() {
            break;
        }
        let (seat, command) = if n % every(30) == 0 {
            let question = format!("Poll {n}: which option?");
            let options = ["first", "second", "third"];
            (
                0,
                json!({"type": "poll.create", "question": question, "options": options}),
            )
        } else if n % every(10) == 0 {
            let text = format!("Question {n}: how does this scale?");
            (
                n as usize % seats.len(),
                json!({"type": "qa.ask", "text": text}),
            )
        } else {
            let text = format!("chat line {n}");
            (
                n as usize % seats.len(),
                json!({"type": "chat.send", "text": text}),
            )
        };
        // A participant that is rejoining misses it: the load stays bounded.
        let _ = seats[seat].try_send(command);
    }
}

/// One account: joins, takes part until its stay ends, rejoins, until the deadline.
async fn participant(
    load: Arc<Load>,
    session: String,
    seat: usize,
    mut inbox: mpsc::Receiver<Value>,
) {
    let token = &load.tokens[seat];
    while load.running() {
        let socket = match session::join(&load.http, &load.base, &session, token).await {
            Ok(socket) => socket,
            Err(error) => {
                load.counters.error(format!("hub join: {error:#}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let _open = load.counters.socket();
        let stay = STAY.mul_f64(0.5 + rand::random::<f64>());
        let until = (Instant::now() + stay).min(load.deadline);
        if let Err(error) = take_part(&load, socket, &mut inbox, until, seat == 0).await {
            load.counters.error(format!("hub: {error:#}"));
        }
    }
}

/// Sends what the driver hands over, answers what others do, counts every frame.
async fn take_part(
    load: &Load,
    socket: Socket,
    inbox: &mut mpsc::Receiver<Value>,
    until: Instant,
    host: bool,
) -> anyhow::Result<()> {
    let (mut sink, mut stream) = socket.split();
    let counters = &load.counters;
    let mut next_id = 0u64;
    loop {
        let mut outgoing = tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => break,
            command = inbox.recv() => match command {
                Some(command) => Some(command),
                None => break,
            },
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    counters.hub_received.fetch_add(1, Ordering::Relaxed);
                    let frame: Value = serde_json::from_str(&text)?;
                    if frame["type"] == "error" {
                        counters.error(format!("hub error frame: {}", frame["error"]));
                    }
                    answer(&frame, host)
                }
                Some(Ok(Message::Close(close))) => bail!("closed by the server: {close:?}"),
                Some(Ok(_)) => None,
                Some(Err(error)) => return Err(error.into()),
                None => bail!("socket ended"),
            },
        };
        if let Some(command) = outgoing.as_mut() {
            next_id += 1;
            command["id"] = json!(next_id);
            sink.send(Message::text(command.to_string())).await?;
            counters.hub_sent.fetch_add(1, Ordering::Relaxed);
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(Message::Close(None))).await;
    Ok(())
}

/// What a participant does on seeing a frame: the host opens the poll it created (for 10 s),
/// everyone votes in an opened poll, a third upvote a new question.
fn answer(frame: &Value, host: bool) -> Option<Value> {
    // The ack of a vote names the poll too, with the choices.
    if host && frame["type"] == "ack" && frame["result"]["choices"].is_null() {
        let poll = frame["result"]["poll"].as_str()?;
        return Some(json!({"type": "poll.open", "poll": poll, "duration_secs": 10}));
    }
    let event = &frame["event"];
    match event["kind"].as_str()? {
        "poll.opened" => {
            let choice = rand::random_range(0..3);
            Some(json!({"type": "poll.vote", "poll": event["poll"], "choices": [choice]}))
        }
        "qa.asked" if rand::random_range(0..3) == 0 => {
            Some(json!({"type": "qa.upvote", "question": event["question"]}))
        }
        _ => None,
    }
}
