//! The shard without sockets: commands, offers built by a second str0m instance, garbage.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use str0m::Rtc;
use str0m::media::{Direction, MediaKind};

use super::*;
use crate::ids::{ParticipantId, Sources};
use crate::stats::ShardCounters;

const ROOM: RoomId = RoomId(5);

fn shard() -> (Shard, Counters) {
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let counters: Counters = Arc::new(ShardCounters::default());
    let shard = Shard::new(
        addr,
        addr,
        Limits::default(),
        counters.clone(),
        Instant::now(),
    )
    .unwrap();
    (shard, counters)
}

fn peer(shard: &mut Shard, who: u128, may_publish: Sources) -> PeerId {
    let config = PeerConfig {
        room: ROOM,
        participant: ParticipantId(who),
        may_publish,
    };
    shard.add_peer(Instant::now(), config).unwrap()
}

/// A client offer sending one m-line of `kind`, made by an independent str0m instance.
fn client_offer(kind: MediaKind) -> (String, String) {
    let mut client = Rtc::builder().build(Instant::now());
    let mut change = client.sdp_api();
    let mid = change.add_media(kind, Direction::SendOnly, None, None, None);
    let (offer, _pending) = change.apply().unwrap();
    (offer.to_sdp_string(), mid.to_string())
}

fn events(shard: &mut Shard) -> Vec<SfuEvent> {
    let mut v = Vec::new();
    loop {
        match shard.poll_output() {
            ShardOutput::Event(e) => v.push(e),
            ShardOutput::Transmit(_) | ShardOutput::Record(_) => {}
            ShardOutput::Timeout(_) => return v,
        }
    }
}

#[test]
fn an_allowed_offer_is_answered_as_ice_lite_dtls_server_and_announced() {
    let (mut shard, _) = shard();
    let alice = peer(&mut shard, 1, Sources::ALL);
    let bob = peer(&mut shard, 2, Sources::NONE);
    let (sdp, mid) = client_offer(MediaKind::Audio);
    let answer = shard
        .apply_offer(Instant::now(), alice, &sdp, &[(mid, Source::Microphone)])
        .unwrap();
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(
        answer.contains("a=setup:passive"),
        "the server is the DTLS server: {answer}"
    );
    assert!(
        answer.contains("a=candidate:") && answer.contains("127.0.0.1 40000"),
        "{answer}"
    );
    // Not asserted here: str0m announces the published m-line (MediaAdded, so
    // TrackPublished and the offer to Bob) only once the peer is connected, which needs a
    // real ICE/DTLS exchange; the webrtc-rs end-to-end test covers that path.
    let _ = (bob, events(&mut shard));
}

#[test]
fn an_offer_for_a_source_not_allowed_is_refused_and_changes_nothing() {
    let (mut shard, _) = shard();
    let viewer = peer(&mut shard, 1, Sources::of(&[Source::Microphone]));
    let (sdp, mid) = client_offer(MediaKind::Video);
    let refused = shard.apply_offer(
        Instant::now(),
        viewer,
        &sdp,
        &[(mid.clone(), Source::Screen)],
    );
    assert_eq!(refused, Err(SfuError::NotAllowed(Source::Screen)));
    let undeclared = shard.apply_offer(Instant::now(), viewer, &sdp, &[]);
    assert!(matches!(undeclared, Err(SfuError::UndeclaredTrack { .. })));
    assert!(events(&mut shard).is_empty());
    assert!(shard.tracks.is_empty());
}

#[test]
fn malformed_sdp_and_candidate_floods_get_typed_errors() {
    let (mut shard, _) = shard();
    let p = peer(&mut shard, 1, Sources::ALL);
    let now = Instant::now();
    assert!(matches!(
        shard.apply_offer(now, p, "v=0\r\nnonsense", &[]),
        Err(SfuError::MalformedSdp(_))
    ));
    assert_eq!(
        shard.apply_answer(now, p, "v=0"),
        Err(SfuError::NoPendingOffer)
    );
    assert!(matches!(
        shard.add_candidate(now, p, "candidate:garbage"),
        Err(SfuError::MalformedCandidate(_))
    ));
    let line = "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host";
    for _ in 0..Limits::default().max_remote_candidates {
        shard.add_candidate(now, p, line).unwrap();
    }
    assert_eq!(
        shard.add_candidate(now, p, line),
        Err(SfuError::TooManyCandidates)
    );
    assert_eq!(
        shard.add_candidate(now, PeerId(99), line),
        Err(SfuError::NoSuchPeer(PeerId(99)))
    );
}

#[test]
fn garbage_datagrams_are_counted_and_dropped_without_touching_peers() {
    let (mut shard, counters) = shard();
    let p = peer(&mut shard, 1, Sources::ALL);
    let from: SocketAddr = "127.0.0.1:5555".parse().unwrap();
    for junk in [&b"hello"[..], &[0u8; 0], &[0xff; 1500], &[0x80, 0x60, 0, 1]] {
        shard.handle_input(
            Instant::now(),
            ShardInput::Datagram {
                protocol: Protocol::Udp,
                source: from,
                contents: junk,
            },
        );
    }
    assert_eq!(counters.snapshot().dropped_datagrams, 4);
    assert!(shard.peers.contains_key(&p));
}

#[test]
fn closing_a_peer_reports_it_and_ending_a_room_closes_everyone() {
    let (mut shard, _) = shard();
    let a = peer(&mut shard, 1, Sources::ALL);
    let b = peer(&mut shard, 2, Sources::ALL);
    shard.close_peer(Instant::now(), a).unwrap();
    let ev = events(&mut shard);
    assert!(ev.contains(&SfuEvent::PeerClosed {
        peer: a,
        room: ROOM,
        participant: ParticipantId(1),
        reason: CloseReason::Requested
    }));
    assert_eq!(
        shard.close_peer(Instant::now(), a),
        Err(SfuError::NoSuchPeer(a))
    );
    shard.end_room(Instant::now(), ROOM);
    let ev = events(&mut shard);
    assert!(ev.contains(&SfuEvent::PeerClosed {
        peer: b,
        room: ROOM,
        participant: ParticipantId(2),
        reason: CloseReason::RoomEnded
    }));
    assert!(shard.peers.is_empty());
}
