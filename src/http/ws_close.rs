//! The one way the server closes a WebSocket it accepted (note rooms and the hub alike).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};

/// How long a closing socket waits for the client's answering close frame.
const CLOSE_DRAIN: Duration = Duration::from_secs(2);

/// Sends a close frame with `code` and `reason` (waiting at most `send_timeout` behind what
/// the socket already holds, so a slow consumer that catches up still learns its code),
/// then reads until the client answers or [`CLOSE_DRAIN`] passes.
pub async fn close(mut socket: WebSocket, code: u16, reason: &'static str, send_timeout: Duration) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    let sent = tokio::time::timeout(send_timeout, socket.send(Message::Close(Some(frame))));
    if !matches!(sent.await, Ok(Ok(()))) {
        return;
    }
    let drained = tokio::time::timeout(CLOSE_DRAIN, async {
        loop {
            match socket.recv().await {
                Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
                // Unreadable input (the rest of an oversized frame) ends the stream: hold
                // the socket until the deadline, so the client reads our close frame before
                // dropping it resets the connection.
                Some(Err(_)) | None => std::future::pending::<()>().await,
            }
        }
    });
    let _ = drained.await;
}
