//! Moves bytes between one WebSocket and its note room, then closes with the room's code.
//!
//! One loop reads the socket, writes the room's outbox and pings: a client that stops
//! reading blocks the write, its bounded outbox fills, and the room closes it with 4500
//! instead of buffering without end; a client that stops answering pings is dropped (see
//! [`Heartbeat`]).

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use crdt::{Access, CloseCode, Connection, NoteId, Outbox, Outgoing, UserId};
use futures_util::SinkExt;

use crate::http::ws_close;
use crate::http::ws_ping::{Beat, Heartbeat};
use crate::state::NoteRooms;

/// Who joins which room with what access, once the token and the note check out (the
/// handshake in `notes_ws` decides it; this module only serves it).
pub struct Admission {
    pub note: NoteId,
    pub user: UserId,
    pub access: Access,
}

/// A write the client has not taken for this long means it is gone, not slow.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames written with one flush at most, so a busy connection still yields to others.
const MAX_COALESCED: usize = 32;

/// Serves one admitted (or refused) WebSocket until either side ends it.
pub async fn serve(
    mut socket: WebSocket,
    rooms: NoteRooms,
    admission: Result<Admission, CloseCode>,
    heartbeat: Heartbeat,
) {
    let code = match admission {
        Err(code) => Some(code),
        Ok(admission) => {
            match rooms
                .connect(&admission.note, admission.user, admission.access)
                .await
            {
                Ok(connection) => relay(&mut socket, connection, heartbeat).await,
                Err(error) => Some(error.close_code()),
            }
        }
    };
    if let Some(code) = code {
        close(socket, code).await;
    }
}

/// Relays until the room closes the connection (its code) or the client goes or stops
/// answering pings (`None`). Returning drops the room's sink, which tells the room the
/// client left.
async fn relay(
    socket: &mut WebSocket,
    connection: Connection,
    mut heartbeat: Heartbeat,
) -> Option<CloseCode> {
    let Connection {
        sink, mut outbox, ..
    } = connection;
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming? {
                Ok(Message::Binary(frame)) => {
                    if sink.send(frame).await.is_err() {
                        return Some(CloseCode::RoomUnloading);
                    }
                }
                // The protocol is binary only.
                Ok(Message::Text(_)) => return Some(CloseCode::BadMessage),
                Ok(Message::Pong(_)) => heartbeat.pong(),
                Ok(Message::Ping(_)) => {}
                Ok(Message::Close(_)) => return None,
                Err(error) => return read_error(error),
            },
            beat = heartbeat.next() => match beat {
                Beat::Ping => {
                    let sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Ping(Bytes::new())));
                    if !matches!(sent.await, Ok(Ok(()))) {
                        return None;
                    }
                }
                Beat::Late => return None,
            },
            outgoing = outbox.recv() => match outgoing {
                Outgoing::Frame(frame) => {
                    let sent = tokio::time::timeout(SEND_TIMEOUT, write_queued(socket, frame, &mut outbox));
                    if !matches!(sent.await, Ok(Ok(()))) {
                        return None;
                    }
                }
                Outgoing::Close(code) => return Some(code),
            },
        }
    }
}

/// Writes `first` and whatever else the outbox already holds (up to [`MAX_COALESCED`]
/// frames), then flushes once: under load a connection's frames pile up while it waits for
/// a core, and writing them together saves a system call per frame.
async fn write_queued(
    socket: &mut WebSocket,
    first: Bytes,
    outbox: &mut Outbox,
) -> Result<(), axum::Error> {
    socket.feed(Message::Binary(first)).await?;
    for _ in 1..MAX_COALESCED {
        let Some(frame) = outbox.try_frame() else {
            break;
        };
        socket.feed(Message::Binary(frame)).await?;
    }
    socket.flush().await
}

/// A message over the size limit is the client's to fix (4413, so it stops resending it);
/// any other read error means the socket is gone.
fn read_error(error: axum::Error) -> Option<CloseCode> {
    match error.into_inner().downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => Some(CloseCode::TooLarge),
        _ => None,
    }
}

/// Counts the close by code for `/metrics`, then closes (see [`ws_close::close`]).
async fn close(socket: WebSocket, code: CloseCode) {
    metrics::counter!("note_socket_closes_total", "code" => code.code().to_string()).increment(1);
    ws_close::close(socket, code.code(), code.reason(), SEND_TIMEOUT).await;
}
