//! Issue 16, WebSocket ping/pong deadlines: a note-room or hub peer that never answers the
//! server's pings is closed `connections.pong_timeout_secs` after one; a peer that answers
//! (as browsers and tungstenite do by themselves) stays. No storage is involved, so SQLite
//! only.

use std::time::Duration;

use figment::Figment;
use figment::providers::Serialized;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{Backend, TestApp};
use crate::hub_client::{Cast, join, live_session, ws_url};

/// Generous against the 1 s + 1 s the tests configure, for a loaded machine; the server
/// before the deadline kept such a peer for as long as TCP held.
const CUT_WITHIN: Duration = Duration::from_secs(8);
const OPCODE_PING: u8 = 0x9;

fn fast_pings(figment: Figment) -> Figment {
    figment
        .merge(Serialized::default("connections.ping_secs", 1))
        .merge(Serialized::default("connections.pong_timeout_secs", 1))
}

/// Completes a WebSocket handshake on `path` by hand and returns the socket: a peer that
/// reads but never writes, so it never answers a ping.
async fn silent_peer(app: &TestApp, path: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// Reads the server's (unmasked) frames until it closes the socket; their opcodes, or
/// `None` when the socket is still open after [`CUT_WITHIN`].
async fn opcodes_until_closed(tcp: &mut TcpStream) -> Option<Vec<u8>> {
    let mut opcodes = Vec::new();
    let read = async {
        loop {
            let Ok(first) = tcp.read_u8().await else {
                return;
            };
            opcodes.push(first & 0x0f);
            let Ok(short) = tcp.read_u8().await else {
                return;
            };
            let len = match short & 0x7f {
                126 => tcp.read_u16().await.map(u64::from),
                127 => tcp.read_u64().await,
                n => Ok(u64::from(n)),
            };
            let Ok(len) = len else { return };
            let mut payload = vec![0u8; usize::try_from(len).unwrap()];
            if tcp.read_exact(&mut payload).await.is_err() {
                return;
            }
        }
    };
    tokio::time::timeout(CUT_WITHIN, read).await.ok()?;
    Some(opcodes)
}

/// True when a tungstenite client that keeps reading (and so answers pings) is still open
/// after `for_how_long`.
async fn answering_peer_stays<S>(ws: &mut S, for_how_long: Duration) -> bool
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let reading = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return false,
                Some(Ok(_)) => {}
            }
        }
    };
    tokio::time::timeout(for_how_long, reading).await.is_err()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_peer_that_never_answers_pings_is_closed() {
    let app = TestApp::start_with(Backend::Sqlite, fast_pings)
        .await
        .unwrap();
    let token = app.user_with_role("pinged@example.com", "user").await;
    let note = app.create_note(&token, json!({"title": "t"})).await;
    let path = format!(
        "/api/workbook/notes/ws/{}?token={token}",
        note["id"].as_str().unwrap()
    );

    let mut silent = silent_peer(&app, &path).await;
    let opcodes = opcodes_until_closed(&mut silent)
        .await
        .expect("a peer that never answers pings is closed");
    assert!(opcodes.contains(&OPCODE_PING), "{opcodes:?}");

    let url = app.base.replacen("http://", "ws://", 1) + &path;
    let (mut answering, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert!(answering_peer_stays(&mut answering, Duration::from_secs(4)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_peer_that_never_answers_pings_is_closed() {
    let app = TestApp::start_with(Backend::Sqlite, fast_pings)
        .await
        .unwrap();
    let cast = Cast::sign_up(&app).await;
    let id = live_session(&app, &cast.host, json!({})).await;

    let ticket = join(&app, &id, &cast.ann).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut silent = silent_peer(
        &app,
        &format!("/api/workbook/sessions/{id}/ws?ticket={ticket}"),
    )
    .await;
    let opcodes = opcodes_until_closed(&mut silent)
        .await
        .expect("a peer that never answers pings is closed");
    assert!(opcodes.contains(&OPCODE_PING), "{opcodes:?}");

    let ticket = join(&app, &id, &cast.bob).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut answering, _) = tokio_tungstenite::connect_async(ws_url(&app, &id, &ticket, None))
        .await
        .unwrap();
    assert!(answering_peer_stays(&mut answering, Duration::from_secs(4)).await);
}
