//! A client that stops reading while the room is flooded is closed with 4500, holding a
//! bounded amount for it; a frame over the limit is closed with 4413.

use std::time::Duration;

use super::{LiveNote, SCRIPT_LIMIT, close_code, is_update, raw_client};

/// Resident memory of this process (server and test together), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_with_4500_while_others_keep_up() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    const FLOOD: usize = 1500;
    const CHUNK: usize = 16 * 1024;
    let live = LiveNote::start("").await;
    let url = format!("{}/{}?token={}", live.ws_base, live.id, live.owner);
    let mut slow = raw_client(&url, Some(4096)).await;
    let mut fast = raw_client(&url, None).await;
    let fast_reader = tokio::spawn(async move {
        let mut updates = 0;
        while updates < FLOOD {
            match fast.next().await {
                Some(Ok(message)) if is_update(&message) => updates += 1,
                Some(Ok(Message::Close(frame))) => {
                    panic!("the reading client was closed: {frame:?}")
                }
                Some(Ok(_)) => {}
                other => panic!("the reading client lost its socket: {other:?}"),
            }
        }
        updates
    });

    // Another editor floods the room (each replacement is a 16 KiB update for everyone).
    let before = rss_kib();
    let note = workbook::services::note_rooms::note_key(live.id.parse().unwrap());
    for i in 0..FLOOD {
        let fill = if i % 2 == 0 { "a" } else { "b" };
        live.app
            .state
            .rooms
            .replace_text(&note, fill.repeat(CHUNK))
            .await
            .unwrap();
    }
    let grown_kib = rss_kib().saturating_sub(before);
    let delivered = tokio::time::timeout(SCRIPT_LIMIT, fast_reader)
        .await
        .expect("the reading client kept up")
        .unwrap();
    assert_eq!(delivered, FLOOD);

    // The slow client now reads what the server still held for it, then the close.
    let mut held = 0;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(10), slow.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(message))) => held += usize::from(is_update(&message)),
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    eprintln!(
        "slow consumer: {held} of {FLOOD} updates were held for it; process RSS grew {grown_kib} KiB during a {} MiB flood",
        FLOOD * CHUNK / (1024 * 1024)
    );
    assert_eq!(code, Some(4500));
    // Bounded: the outbox (256 frames) plus what the two socket buffers hold, not the flood.
    let outbox = live.app.state.rooms.config().outgoing_queue;
    assert!(
        held <= outbox + 64,
        "the server held {held} of {FLOOD} updates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_is_closed_with_4413() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;

    let live = LiveNote::start("").await;
    let url = format!("{}/{}?token={}", live.ws_base, live.id, live.writer);
    let mut client = raw_client(&url, None).await;
    let limit = live.app.state.rooms.config().limits.max_frame_bytes;
    let mut frame = vec![0u8, 2];
    frame.resize(limit + 1024, 0);
    client.send(Message::binary(frame)).await.unwrap();
    assert_eq!(close_code(&mut client).await, 4413);
}
