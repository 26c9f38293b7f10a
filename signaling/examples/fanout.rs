//! Measures the hub core alone (no sockets): a session with 1,000 participants and chat
//! at 20 messages/s of simulated time. Prints the CPU cost per chat message (validate,
//! apply, encode once, resolve 1,000 recipients), the join cost, and replay speed.
//!
//! `cargo run --release -p signaling --example fanout`

use chrono::{Duration, TimeZone, Utc};
use signaling::*;
use std::time::Instant;

const PARTICIPANTS: usize = 1000;
const MESSAGES: usize = 2400; // two minutes at 20 messages/s

fn keys(poll: PollId, user: ParticipantId) -> BallotKey {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(poll.0.as_bytes());
    key[16..].copy_from_slice(user.0.as_bytes());
    BallotKey(key)
}

fn main() {
    let mut now = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
    let mut session = Session::new(SessionConfig::default(), keys);
    let mut stored = Vec::new();
    let mut largest_frame = 0usize;
    let mut drain = |session: &mut Session, stored: &mut Vec<StoredEvent>| {
        let mut deliveries = 0usize;
        while let Some(output) = session.poll_output() {
            match output {
                Output::Persist(event) => stored.push(event),
                Output::Send { to, frame } => {
                    deliveries += to.len();
                    largest_frame = largest_frame.max(frame.as_bytes().len());
                }
                Output::Close { .. } | Output::Media(_) => {}
            }
        }
        deliveries
    };

    let started = Instant::now();
    for i in 0..PARTICIPANTS {
        let role = if i == 0 {
            SessionRole::Host
        } else {
            SessionRole::Participant
        };
        let info = ParticipantInfo {
            participant: ParticipantId(uuid::Uuid::new_v4()),
            name: format!("P{i}"),
            account: AccountRole::Premium,
            role,
            capabilities: capabilities_for(AccountRole::Premium, role),
            hidden: false,
        };
        let join = Join {
            connection: ConnectionId(i as u64),
            info,
            last_seq: None,
        };
        session.connect(join, now).expect("join");
        drain(&mut session, &mut stored);
    }
    let join_time = started.elapsed();

    let mut per_message = Vec::with_capacity(MESSAGES);
    let mut deliveries = 0;
    for m in 0..MESSAGES {
        now += Duration::milliseconds(50);
        let sender = ConnectionId(((m * 7919) % PARTICIPANTS) as u64);
        let frame = format!(
            r#"{{"type":"chat.send","id":{m},"text":"message number {m} with some text"}}"#
        );
        let t = Instant::now();
        session.handle_frame(sender, frame.as_bytes(), now);
        deliveries += drain(&mut session, &mut stored);
        per_message.push(t.elapsed());
    }
    // a late joiner: the welcome snapshot now holds 1,000 participants and chat history
    let late = ParticipantInfo {
        participant: ParticipantId(uuid::Uuid::new_v4()),
        name: "Late".into(),
        account: AccountRole::User,
        role: SessionRole::Participant,
        capabilities: capabilities_for(AccountRole::User, SessionRole::Participant),
        hidden: false,
    };
    let t = Instant::now();
    let join = Join {
        connection: ConnectionId(u64::MAX),
        info: late,
        last_seq: None,
    };
    session.connect(join, now).expect("join");
    drain(&mut session, &mut stored);
    let late_join = t.elapsed();
    per_message.sort();
    let pct = |p: f64| per_message[((per_message.len() as f64 - 1.0) * p) as usize];

    let t = Instant::now();
    let replayed = Session::replay(SessionConfig::default(), keys, stored.clone()).expect("replay");
    let replay_time = t.elapsed();
    assert_eq!(replayed.state(), session.state());

    println!("participants: {PARTICIPANTS}, chat messages: {MESSAGES}, deliveries: {deliveries}");
    println!(
        "join (incl. snapshot, joined event to all present): {:.1} µs per participant",
        join_time.as_secs_f64() * 1e6 / PARTICIPANTS as f64
    );
    println!(
        "late join with full snapshot: {late_join:?}, largest frame (that welcome): {largest_frame} bytes"
    );
    println!(
        "chat message fan-out to {PARTICIPANTS}: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.5),
        pct(0.99),
        per_message.last().unwrap()
    );
    println!(
        "replay: {} events in {:?} ({:.0} events/s)",
        stored.len(),
        replay_time,
        stored.len() as f64 / replay_time.as_secs_f64()
    );
}
