//! One participant's WebSocket, moved to and from its session's [`Connection`]. One loop
//! reads the socket, writes the outbox and pings: a client that stops reading blocks the
//! write, its bounded outbox fills, and the session closes it with 4000 instead of
//! buffering without end; a client that stops answering pings is dropped (see
//! [`Heartbeat`]).

use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::SinkExt;
use signaling::protocol::server as frames;
use signaling::{CloseCode, ErrorCode, HubError, ParticipantInfo};
use uuid::Uuid;

use super::connection::{Outbox, Outgoing};
use super::sink::Connection;
use super::{Hub, SessionLog};
use crate::http::ws_close;
use crate::http::ws_ping::{Beat, Heartbeat};

/// A write the client has not taken for this long means it is gone, not slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames written with one flush at most, so a busy connection still yields to others.
const WRITE_BATCH: usize = 64;

/// Serves one upgraded socket until either side closes it.
pub async fn serve<L: SessionLog>(
    mut socket: WebSocket,
    hub: Hub<L>,
    session: Uuid,
    info: ParticipantInfo,
    last_seq: Option<u64>,
    heartbeat: Heartbeat,
) {
    let code = match hub.connect(session, info, last_seq).await {
        Ok(connection) => relay(&mut socket, connection, heartbeat).await,
        Err(code) => Some(code),
    };
    if let Some(code) = code {
        close(socket, code).await;
    }
}

/// Relays until the session closes the connection (its code), the client goes or stops
/// answering pings (`None`) or breaks the protocol's size limit. Returning drops the sink:
/// the session learns the client left.
async fn relay(
    socket: &mut WebSocket,
    connection: Connection,
    mut heartbeat: Heartbeat,
) -> Option<CloseCode> {
    let Connection {
        sink, mut outbox, ..
    } = connection;
    loop {
        let written = tokio::select! {
            incoming = socket.recv() => match incoming? {
                Ok(Message::Text(text)) => {
                    if sink.send(Bytes::from(text)).await.is_err() {
                        return Some(CloseCode::Resync);
                    }
                    continue;
                }
                Ok(Message::Binary(_)) => {
                    let error = HubError::new(ErrorCode::Invalid, "the hub accepts text frames only");
                    write(socket, frames::error(None, &error).into_bytes(), &mut outbox).await
                }
                Ok(Message::Pong(_)) => {
                    heartbeat.pong();
                    continue;
                }
                Ok(Message::Ping(_)) => continue,
                Ok(Message::Close(_)) => return None,
                Err(error) => return read_error(error),
            },
            outgoing = outbox.recv() => match outgoing {
                Outgoing::Frame(frame) => write(socket, frame, &mut outbox).await,
                Outgoing::Close(code) => return Some(code),
            },
            beat = heartbeat.next() => match beat {
                Beat::Ping => {
                    tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Bytes::new()))).await
                }
                Beat::Late => return None,
            },
        };
        if !matches!(written, Ok(Ok(()))) {
            return None;
        }
    }
}

type Written = Result<Result<(), axum::Error>, tokio::time::error::Elapsed>;

/// Writes `first` and whatever else the outbox already holds (up to [`WRITE_BATCH`]
/// frames), then flushes once: under load a connection's frames pile up while it waits for
/// a core, and one write for all of them saves a system call and a wake-up per frame.
async fn write(socket: &mut WebSocket, first: Bytes, outbox: &mut Outbox) -> Written {
    let batch = async {
        socket.feed(text(first)).await?;
        for _ in 1..WRITE_BATCH {
            let Some(frame) = outbox.try_frame() else {
                break;
            };
            socket.feed(text(frame)).await?;
        }
        socket.flush().await
    };
    tokio::time::timeout(SEND_TIMEOUT, batch).await
}

/// Hub frames are JSON the server encoded, so always UTF-8.
fn text(frame: Bytes) -> Message {
    match Utf8Bytes::try_from(frame) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Binary(Bytes::new()),
    }
}

/// A message over the socket's size limit is the client's to fix (4413, so it does not
/// resend it); any other read error means the socket is gone.
fn read_error(error: axum::Error) -> Option<CloseCode> {
    match error.into_inner().downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => Some(CloseCode::TooLarge),
        _ => None,
    }
}

/// Counts the close by code for `/metrics`, then closes (see [`ws_close::close`]).
async fn close(socket: WebSocket, code: CloseCode) {
    metrics::counter!("hub_socket_closes_total", "code" => code.code().to_string()).increment(1);
    ws_close::close(socket, code.code(), code.reason(), SEND_TIMEOUT).await;
}
