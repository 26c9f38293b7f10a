//! A room driven like the server drives it, without sockets: connections are numbers,
//! persisted events go to a Vec, frames are parsed into each connection's inbox.
#![allow(dead_code)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use signaling::{
    AccountRole, BallotKey, CloseCode, ConnectionId, Join, JoinRefused, MediaRequest, Output,
    ParticipantId, ParticipantInfo, PollId, Session, SessionConfig, SessionRole, StoredEvent,
    capabilities_for,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A stand-in for the server's HMAC: mixes a secret with poll and participant ids.
pub fn test_ballot_key(poll: PollId, participant: ParticipantId) -> BallotKey {
    let mut key = [0x5au8; 32];
    for (i, b) in poll.0.as_bytes().iter().enumerate() {
        key[i] ^= b.rotate_left(3);
    }
    for (i, b) in participant.0.as_bytes().iter().enumerate() {
        key[16 + i] ^= b.rotate_left(5);
        key[i] = key[i].wrapping_add(*b);
    }
    BallotKey(key)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    pub id: ParticipantId,
    pub conn: ConnectionId,
}

pub struct Room {
    pub session: Session,
    pub now: DateTime<Utc>,
    pub stored: Vec<StoredEvent>,
    pub inbox: HashMap<ConnectionId, Vec<Value>>,
    pub closed: HashMap<ConnectionId, CloseCode>,
    /// Requests for the media engine, in order.
    pub media: Vec<MediaRequest>,
    next_conn: u64,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap()
}

pub fn info(name: &str, account: AccountRole, role: SessionRole) -> ParticipantInfo {
    ParticipantInfo {
        participant: ParticipantId(Uuid::new_v4()),
        name: name.to_string(),
        account,
        role,
        capabilities: capabilities_for(account, role),
        hidden: false,
    }
}

impl Room {
    /// A session on a server that records (so `recording.start` is accepted).
    pub fn new() -> Self {
        Self::with_config(SessionConfig {
            recording: true,
            ..SessionConfig::default()
        })
    }

    pub fn with_config(config: SessionConfig) -> Self {
        Self::from_session(Session::new(config, test_ballot_key), Vec::new())
    }

    pub fn from_session(session: Session, stored: Vec<StoredEvent>) -> Self {
        Self {
            session,
            now: t0(),
            stored,
            inbox: HashMap::new(),
            closed: HashMap::new(),
            media: Vec::new(),
            next_conn: 1,
        }
    }

    /// Joins a premium-account participant with `role`.
    pub fn join(&mut self, name: &str, role: SessionRole) -> Client {
        self.join_info(info(name, AccountRole::Premium, role))
    }

    pub fn join_info(&mut self, info: ParticipantInfo) -> Client {
        self.connect(info, None).expect("join accepted")
    }

    pub fn connect(
        &mut self,
        info: ParticipantInfo,
        last_seq: Option<u64>,
    ) -> Result<Client, JoinRefused> {
        let conn = ConnectionId(self.next_conn);
        self.next_conn += 1;
        let id = info.participant;
        let result = self.session.connect(
            Join {
                connection: conn,
                info,
                last_seq,
            },
            self.now,
        );
        self.drain();
        result.map(|_| Client { id, conn })
    }

    pub fn disconnect(&mut self, client: Client) {
        self.session.disconnect(client.conn, self.now);
        self.drain();
    }

    /// Sends a JSON message from `client`.
    pub fn send(&mut self, client: Client, message: Value) {
        self.send_raw(client, message.to_string().as_bytes());
    }

    pub fn send_raw(&mut self, client: Client, bytes: &[u8]) {
        self.session.handle_frame(client.conn, bytes, self.now);
        self.drain();
    }

    /// Sends and returns the ack's `result` (panics on an error frame: tests of the
    /// happy path read better that way).
    pub fn ok(&mut self, client: Client, message: Value) -> Value {
        self.send(client, message);
        let reply = self.reply(client);
        assert_eq!(reply["type"], "ack", "expected ack, got {reply}");
        reply.get("result").cloned().unwrap_or(Value::Null)
    }

    /// Sends and returns the error code.
    pub fn err(&mut self, client: Client, message: Value) -> String {
        self.send(client, message);
        let reply = self.reply(client);
        assert_eq!(reply["type"], "error", "expected error, got {reply}");
        reply["code"].as_str().unwrap().to_string()
    }

    /// The last ack/error/pong the client got.
    pub fn reply(&mut self, client: Client) -> Value {
        self.inbox
            .get(&client.conn)
            .and_then(|frames| {
                frames
                    .iter()
                    .rev()
                    .find(|f| matches!(f["type"].as_str(), Some("ack" | "error" | "pong")))
                    .cloned()
            })
            .expect("a reply")
    }

    /// Takes every frame the client received so far.
    pub fn take(&mut self, client: Client) -> Vec<Value> {
        self.inbox.remove(&client.conn).unwrap_or_default()
    }

    /// The events (`event` objects of event frames) the client received so far, taken.
    pub fn events(&mut self, client: Client) -> Vec<Value> {
        self.take(client)
            .into_iter()
            .filter(|f| f["type"] == "event")
            .map(|f| f["event"].clone())
            .collect()
    }

    /// The kinds of the events the client received so far, taken.
    pub fn kinds(&mut self, client: Client) -> Vec<String> {
        self.events(client)
            .into_iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn advance(&mut self, seconds: i64) {
        self.now += Duration::seconds(seconds);
    }

    pub fn tick(&mut self) {
        self.session.tick(self.now);
        self.drain();
    }

    /// Acts on outputs as the server would; checks persist-before-send ordering.
    pub fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Persist(event) => {
                    let expected = self.stored.last().map_or(1, |e| e.seq + 1);
                    assert_eq!(event.seq, expected, "seqs are gap-free");
                    self.stored.push(event);
                }
                Output::Send { to, frame } => {
                    let value: Value =
                        serde_json::from_str(frame.as_str()).expect("frames are JSON");
                    if let Some(seq) = value.get("seq").and_then(Value::as_u64)
                        && value["type"] == "event"
                    {
                        assert!(
                            seq <= self.stored.last().map_or(0, |e| e.seq),
                            "persisted first"
                        );
                    }
                    for conn in to {
                        assert!(!self.closed.contains_key(&conn), "no frames after close");
                        self.inbox.entry(conn).or_default().push(value.clone());
                    }
                }
                Output::Close { connection, code } => {
                    self.closed.insert(connection, code);
                }
                Output::Media(request) => self.media.push(request),
            }
        }
    }
}
