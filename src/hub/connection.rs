//! One participant's WebSocket: a reader feeding the session's task and a writer draining
//! the connection's bounded queue, with pings to keep intermediaries from timing it out.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use signaling::protocol::server as frames;
use signaling::{CloseCode, ErrorCode, HubError, Join, ParticipantInfo};
use tokio::sync::{Notify, mpsc, oneshot};
use uuid::Uuid;

use super::registry::Registry;
use super::room::{Outgoing, RoomInput, close_message};

const PING_EVERY: Duration = Duration::from_secs(25);
/// How long a dropped slow consumer may take to read its pending bytes and the close.
const RESYNC_CLOSE_WAIT: Duration = Duration::from_secs(10);
/// Most frames written before one flush.
const WRITE_BATCH: usize = 64;
/// Attempts to reach a session task that may be retiring at the same moment.
const CONNECT_ATTEMPTS: usize = 3;

/// Serves one upgraded socket until either side closes it.
pub async fn serve(
    socket: WebSocket,
    registry: Registry,
    session: Uuid,
    info: ParticipantInfo,
    last_seq: Option<u64>,
) {
    let connection = registry.next_connection();
    let (frames_tx, frames_rx) = mpsc::channel(registry.config().outgoing_queue);
    let outgoing = Outgoing {
        frames: frames_tx,
        abort: Arc::new(Notify::new()),
    };
    let (mut sink, mut stream) = socket.split();
    let join = Join {
        connection,
        info,
        last_seq,
    };
    let room = match enter(&registry, session, join, outgoing.clone()).await {
        Ok(room) => room,
        Err(code) => {
            let close = close_message(code.code(), code.reason());
            count_if_close(&close);
            let _ = sink.send(close).await;
            return;
        }
    };
    let mut writer = tokio::spawn(write(sink, frames_rx, outgoing.abort.clone()));
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(Ok(message)) = message else { break };
                match message {
                    Message::Text(text) => {
                        let input = RoomInput::Frame { connection, bytes: text.into() };
                        if room.send(input).await.is_err() {
                            outgoing.abort.notify_one();
                            break;
                        }
                    }
                    Message::Binary(_) => reject_binary(&outgoing),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
            _ = &mut writer => break,
        }
    }
    let _ = room.send(RoomInput::Disconnect { connection }).await;
    drop(outgoing);
    writer.abort();
}

/// Joins the session's task; the close code to use when refused or unavailable.
async fn enter(
    registry: &Registry,
    session: Uuid,
    join: Join,
    outgoing: Outgoing,
) -> Result<mpsc::Sender<RoomInput>, CloseCode> {
    for _ in 0..CONNECT_ATTEMPTS {
        let room = registry.room(session).await.map_err(|err| {
            tracing::error!(%session, error = %err, "opening the session failed");
            CloseCode::Resync
        })?;
        let (reply, accepted) = oneshot::channel();
        let input = RoomInput::Connect {
            join: join.clone(),
            outgoing: outgoing.clone(),
            reply,
        };
        if room.send(input).await.is_err() {
            continue; // the task retired just now; start a new one
        }
        return match accepted.await {
            Ok(Ok(())) => Ok(room),
            Ok(Err(refused)) => Err(refused.close_code()),
            Err(_) => Err(CloseCode::Resync),
        };
    }
    Err(CloseCode::Resync)
}

/// Binary frames are not part of the protocol: answer with an error frame.
fn reject_binary(outgoing: &Outgoing) {
    let error = HubError::new(ErrorCode::Invalid, "the hub accepts text frames only");
    let frame = frames::error(None, &error).into_bytes();
    let Ok(text) = axum::extract::ws::Utf8Bytes::try_from(frame) else {
        return;
    };
    if outgoing.frames.try_send(Message::Text(text)).is_err() {
        outgoing.abort.notify_one();
    }
}

/// Sends queued frames in order; on abort (slow consumer) closes with 4000 at once.
async fn write(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut frames: mpsc::Receiver<Message>,
    abort: Arc<Notify>,
) {
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            biased;
            _ = abort.notified() => return resync(sink).await,
            message = frames.recv() => match message {
                Some(message) => message,
                None => return,
            },
            _ = ping.tick() => Message::Ping(bytes::Bytes::new()),
        };
        let mut closing = count_if_close(&message);
        // Frames that queued up meanwhile go out with one flush (fewer syscalls when
        // behind, which is when it matters).
        let batch = async {
            sink.feed(message).await?;
            for _ in 1..WRITE_BATCH {
                if closing {
                    break;
                }
                let Ok(more) = frames.try_recv() else { break };
                closing = count_if_close(&more);
                sink.feed(more).await?;
            }
            sink.flush().await
        };
        tokio::select! {
            biased;
            _ = abort.notified() => return resync(sink).await,
            sent = batch => if sent.is_err() { return },
        }
        if closing {
            return;
        }
    }
}

/// Closes with 4000 once the frames already handed to the socket are through, or gives
/// up after a while (a client that never reads).
async fn resync(mut sink: futures_util::stream::SplitSink<WebSocket, Message>) {
    let code = CloseCode::Resync;
    let close = close_message(code.code(), code.reason());
    count_if_close(&close);
    let _ = tokio::time::timeout(RESYNC_CLOSE_WAIT, sink.send(close)).await;
}

/// Whether `message` is a close frame; one about to be handed to a socket is counted here
/// by code (`/metrics`), so a close queued for a connection that was dropped before it
/// went out (a slow consumer gets 4000 instead) is not.
fn count_if_close(message: &Message) -> bool {
    let Message::Close(frame) = message else {
        return false;
    };
    let code = frame.as_ref().map_or(1005, |frame| frame.code);
    metrics::counter!("hub_socket_closes_total", "code" => code.to_string()).increment(1);
    true
}
