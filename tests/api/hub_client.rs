//! A hub test client over a real WebSocket, and helpers to set up a live session.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::harness::{Backend, TestApp};

const WAIT: Duration = Duration::from_secs(10);

/// The stored payloads of a session's events whose kind starts with `kind_prefix`.
pub async fn stored(app: &TestApp, session: &str, kind_prefix: &str) -> Vec<String> {
    let id: uuid::Uuid = session.parse().unwrap();
    let events = workbook::db::session_events::all(&app.state.db, id)
        .await
        .unwrap();
    events
        .into_iter()
        .filter(|e| e.event.kind().starts_with(kind_prefix))
        .map(|e| e.to_json())
        .collect()
}

/// The participant id in a `POST .../join` answer.
pub fn user_id(joined: &Value) -> String {
    joined["participant"]["id"].as_str().unwrap().to_owned()
}

/// The participant id in a `welcome` frame.
pub fn participant_id(welcome: &Value) -> String {
    welcome["participant"]["participant"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A server whose hub lets one participant send many messages at once (tests that send
/// more than the default burst of 20).
pub async fn unthrottled(backend: Backend) -> Option<TestApp> {
    TestApp::start_with(backend, |f| {
        use figment::providers::Serialized;
        f.merge(Serialized::default("hub.rate_burst", 1000))
            .merge(Serialized::default("hub.rate_per_second", 1000))
    })
    .await
}

/// The usual people of a hub test: a premium host and the plain users ann, bob and carol.
pub struct Cast {
    pub host: String,
    pub ann: String,
    pub bob: String,
    pub carol: String,
}

impl Cast {
    pub async fn sign_up(app: &TestApp) -> Cast {
        Cast {
            host: app.user_with_role("host@example.com", "premium").await,
            ann: app.user_with_role("ann@example.com", "user").await,
            bob: app.user_with_role("bob@example.com", "user").await,
            carol: app.user_with_role("carol@example.com", "user").await,
        }
    }
}

/// One of the cast, joined: their client, participant id and welcome.
pub struct Joined {
    pub client: HubClient,
    pub id: String,
    pub welcome: Value,
}

impl Joined {
    pub async fn new(app: &TestApp, session: &str, token: &str) -> Joined {
        let (client, welcome) = HubClient::join(app, session, token).await;
        Joined {
            client,
            id: participant_id(&welcome),
            welcome,
        }
    }
}

/// The usual start of a hub test: the cast signed up, a live session with `settings` that
/// the host runs, and the host, ann and bob joined in that order (carol stays out, for a
/// late join).
pub struct Stage {
    pub cast: Cast,
    pub id: String,
    pub host: Joined,
    pub ann: Joined,
    pub bob: Joined,
}

impl Stage {
    pub async fn open(app: &TestApp, settings: Value) -> Stage {
        let cast = Cast::sign_up(app).await;
        let id = live_session(app, &cast.host, settings).await;
        let host = Joined::new(app, &id, &cast.host).await;
        let ann = Joined::new(app, &id, &cast.ann).await;
        let bob = Joined::new(app, &id, &cast.bob).await;
        Stage {
            cast,
            id,
            host,
            ann,
            bob,
        }
    }
}

/// Schedules and starts a session hosted by `host`; returns its id.
pub async fn live_session(app: &TestApp, host: &str, settings: Value) -> String {
    let (status, session) = app
        .post(
            "/api/workbook/sessions",
            Some(host),
            json!({"title": "Workshop", "scheduledStart": "2030-01-01T10:00:00Z", "settings": settings}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/workbook/sessions/{id}/start"),
            Some(host),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

/// `POST .../join` as `token`; panics unless 200.
pub async fn join(app: &TestApp, session: &str, token: &str) -> Value {
    let (status, body) = app
        .post(
            &format!("/api/workbook/sessions/{session}/join"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub fn ws_url(app: &TestApp, session: &str, ticket: &str, last_seq: Option<u64>) -> String {
    let base = app.base.replacen("http://", "ws://", 1);
    let mut url = format!("{base}/api/workbook/sessions/{session}/ws?ticket={ticket}");
    if let Some(seq) = last_seq {
        url.push_str(&format!("&last_seq={seq}"));
    }
    url
}

pub struct HubClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The highest event seq seen.
    pub last_seq: u64,
    next_id: u64,
    /// Frames read past while waiting for an answer, returned by `next` first.
    skipped: VecDeque<Value>,
}

impl HubClient {
    /// Joins `session` as `token` and returns the client and its welcome frame.
    pub async fn join(app: &TestApp, session: &str, token: &str) -> (HubClient, Value) {
        Self::resume(app, session, token, None).await
    }

    /// Joins and returns the client with its participant id.
    pub async fn join_with_id(app: &TestApp, session: &str, token: &str) -> (HubClient, String) {
        let (client, welcome) = Self::join(app, session, token).await;
        (client, participant_id(&welcome))
    }

    /// Joins with `?last_seq=`.
    pub async fn resume(
        app: &TestApp,
        session: &str,
        token: &str,
        last_seq: Option<u64>,
    ) -> (HubClient, Value) {
        let ticket = join(app, session, token).await["ticket"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut client = Self::open(&ws_url(app, session, &ticket, last_seq))
            .await
            .expect("the hub accepts a fresh ticket");
        let welcome = client.next().await;
        assert_eq!(welcome["type"], "welcome", "{welcome}");
        client.last_seq = welcome["seq"].as_u64().unwrap();
        (client, welcome)
    }

    pub async fn open(url: &str) -> Result<HubClient, tokio_tungstenite::tungstenite::Error> {
        let (ws, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(HubClient {
            ws,
            last_seq: 0,
            next_id: 1,
            skipped: VecDeque::new(),
        })
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.unwrap();
    }

    pub async fn send(&mut self, message: Value) {
        self.send_raw(Message::text(message.to_string())).await;
    }

    /// The next text frame as JSON (pings skipped); panics on close or timeout.
    pub async fn next(&mut self) -> Value {
        if let Some(frame) = self.skipped.pop_front() {
            return frame;
        }
        self.read().await
    }

    async fn read(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame within the wait")
                .expect("the socket is open")
                .expect("a valid frame");
            match message {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    if value["type"] == "event" {
                        self.last_seq = value["seq"].as_u64().unwrap();
                    }
                    return value;
                }
                Message::Close(frame) => panic!("closed: {frame:?}; read past: {:?}", self.skipped),
                _ => continue,
            }
        }
    }

    /// Reads frames until one matches.
    pub async fn until(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = self.next().await;
            if matches(&frame) {
                return frame;
            }
        }
    }

    /// Reads frames up to and including the first that matches; returns them all.
    pub async fn frames_until(&mut self, matches: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut frames = Vec::new();
        loop {
            let frame = self.next().await;
            let done = matches(&frame);
            frames.push(frame);
            if done {
                return frames;
            }
        }
    }

    /// The next event frame of this kind.
    pub async fn event(&mut self, kind: &str) -> Value {
        self.until(|f| f["type"] == "event" && f["event"]["kind"] == kind)
            .await
    }

    /// Sends `message` with a fresh `id` and returns its answer (`ack`, `error`, `pong`
    /// or `snapshot`); other frames read meanwhile stay for `next`.
    pub async fn request(&mut self, mut message: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        message["id"] = json!(id);
        self.send(message).await;
        loop {
            let frame = self.read().await;
            if frame["ref"] == json!(id) || frame["type"] == "snapshot" {
                return frame;
            }
            self.skipped.push_back(frame);
        }
    }

    /// Like `request`, asserting an ack; returns its result.
    pub async fn ok(&mut self, message: Value) -> Value {
        let answer = self.request(message).await;
        assert_eq!(answer["type"], "ack", "{answer}");
        answer["result"].clone()
    }

    /// Reads until the server closes; the close code (frames before it are skipped).
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("closed within the wait")
            {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// The HTTP status a refused WebSocket handshake answered.
pub async fn refused_status(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}
