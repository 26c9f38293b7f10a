//! The load generator's webrtc-rs participants against the real server: a third WebRTC stack
//! (after aiortc and Chromium in `tests/api/media.rs`) publishing and receiving through the
//! hub's `media.*` messages, and a check that the SFU load figures count what they claim.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use loadtests::media_peer::{Participant, Received, Traffic, epoch, micros_since_epoch};
use loadtests::{Server, account, session};

/// The server binary `cargo test` built beside this test: `target/<profile>/workbook`.
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<test>");
    profile_dir.join(format!("workbook{}", std::env::consts::EXE_SUFFIX))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webrtc_rs_peers_publish_and_receive_through_the_hub() -> anyhow::Result<()> {
    epoch();
    let server = Server::start(&server_binary(), None, None).await?;
    let http = reqwest::Client::new();
    let host = session::premium_host(&server, &http).await?;
    let id = session::start(&http, &server.base, &host).await?;
    let (socket, _) = session::join_welcomed(&http, &server.base, &id, &host).await?;
    let own = Arc::new(Received::default());
    let publisher = Participant::new(socket, own.clone()).await?;

    let emails = ["ann@webrtc.test", "bob@webrtc.test"].map(String::from);
    let tokens = account::register_many(&http, &server.base, emails, 2).await?;
    let mut subscribers = Vec::new();
    for socket in session::join_all(&http, &server.base, &id, tokens).await? {
        let received = Arc::new(Received::default());
        let subscriber = Participant::receiver(socket, received.clone()).await?;
        subscribers.push((subscriber, received));
    }

    let traffic = Traffic::default();
    publisher.publish(0x1000).await?.spawn(&traffic);
    publisher.wait_connected(Duration::from_secs(20)).await?;
    for (s, _) in &subscribers {
        s.wait_connected(Duration::from_secs(20)).await?;
    }
    // Counted from a settled start (subscriptions begin at a keyframe once ready), by send
    // time, so what the server's pacer still held at the start does not count.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent_before = traffic.sent();
    let from = micros_since_epoch();
    for (_, r) in &subscribers {
        r.open_window(from);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let to = micros_since_epoch();
    for (_, r) in &subscribers {
        r.close_window(to);
    }
    let sent_during = traffic.sent() - sent_before;
    // What was still on its way arrives.
    tokio::time::sleep(Duration::from_secs(2)).await;
    traffic.stop();
    let during: Vec<u64> = subscribers
        .iter()
        .map(|(_, r)| r.sent_in_window.load(Ordering::Relaxed))
        .collect();

    // 250 packets/s of audio and video.
    assert!(sent_during >= 600, "the publisher sent {sent_during}");
    for got in &during {
        let ratio = *got as f64 / sent_during as f64;
        assert!(
            (0.97..=1.03).contains(&ratio),
            "a subscriber got {got} of {sent_during} packets"
        );
    }
    assert_eq!(
        own.packets.load(Ordering::Relaxed),
        0,
        "the publisher never receives its own tracks"
    );

    publisher.close().await;
    for (s, _) in &subscribers {
        s.close().await;
    }
    Ok(())
}
