//! End to end through real sockets with an independent WebRTC stack (webrtc-rs 0.21):
//! two peers publish pre-made Opus and VP8 RTP through our SFU on loopback, and each must
//! receive the other's tracks, never its own, and nothing of a track a host muted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use sfu::{
    ParticipantId, PeerConfig, PeerId, RoomId, SfuConfig, SfuEvent, SfuHandle, Source, Sources,
};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

const ROOM: RoomId = RoomId(77);
const ALICE: ParticipantId = ParticipantId(0xA11CE);
const BOB: ParticipantId = ParticipantId(0xB0B);
const OPUS_PT: u8 = 111;
const VP8_PT: u8 = 96;

/// What one client received, per remote track (stream id / track id), and whose payloads.
#[derive(Default)]
struct Received {
    /// Packets per "stream_id/track_id".
    packets: Mutex<HashMap<String, u64>>,
    /// Packets whose payload carried this client's own marker byte.
    own: AtomicU64,
}

struct Handler {
    gathered: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
    received: Arc<Received>,
    marker: u8,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.gathered.store(true, Ordering::SeqCst);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        if state == RTCPeerConnectionState::Connected {
            self.connected.store(true, Ordering::SeqCst);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let received = self.received.clone();
        let marker = self.marker;
        // Drained promptly on its own task: a lagging reader drops packets client-side.
        tokio::spawn(async move {
            let key = format!("{}/{}", track.stream_id().await, track.track_id().await);
            while let Some(event) = track.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(p) => {
                        if p.payload.first() == Some(&marker) {
                            received.own.fetch_add(1, Ordering::SeqCst);
                        }
                        *received
                            .packets
                            .lock()
                            .unwrap()
                            .entry(key.clone())
                            .or_default() += 1;
                    }
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }
}

/// A webrtc-rs client of the SFU: one peer connection, its own tracks, what it received.
struct Client {
    pc: Box<dyn PeerConnection>,
    gathered: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
    received: Arc<Received>,
    peer: PeerId,
}

fn track(
    kind: RtpCodecKind,
    mime: &str,
    clock: u32,
    channels: u16,
    id: &str,
    ssrc: u32,
) -> Arc<TrackLocalStaticRTP> {
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        "local".to_owned(),
        id.to_owned(),
        id.to_owned(),
        kind,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: mime.to_owned(),
                clock_rate: clock,
                channels,
                sdp_fmtp_line: String::new(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    )))
}

impl Client {
    async fn new(
        sfu: &SfuHandle,
        participant: ParticipantId,
        may_publish: Sources,
        marker: u8,
    ) -> Client {
        let mut media = MediaEngine::default();
        media.register_default_codecs().unwrap();
        let gathered = Arc::new(AtomicBool::new(false));
        let connected = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Received::default());
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_handler(Arc::new(Handler {
                gathered: gathered.clone(),
                connected: connected.clone(),
                received: received.clone(),
                marker,
            }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await
            .unwrap();
        let peer = sfu
            .add_peer(PeerConfig {
                room: ROOM,
                participant,
                may_publish,
            })
            .await
            .unwrap();
        Client {
            pc: Box::new(pc),
            gathered,
            connected,
            received,
            peer,
        }
    }

    /// Sets the local description and waits for gathering (done once, on the first),
    /// returning the SDP with its candidates.
    async fn local_sdp(&self, desc: RTCSessionDescription) -> String {
        self.pc.set_local_description(desc).await.unwrap();
        wait_for("ICE gathering", || self.gathered.load(Ordering::SeqCst)).await;
        self.pc.local_description().await.unwrap().sdp
    }

    /// Publishes through an offer declaring each sending m-line's source (in m-line order).
    async fn publish(&self, sfu: &SfuHandle, sources: &[Source]) -> Result<(), sfu::SfuError> {
        let offer = self.pc.create_offer(None).await.unwrap();
        let sdp = self.local_sdp(offer).await;
        let lines = sfu::offer::sending_lines(&sdp).unwrap();
        let mids = lines.into_iter().map(|line| line.mid);
        let declared = mids.zip(sources.iter().copied()).collect();
        let answer = sfu.apply_offer(self.peer, sdp, declared).await?;
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer).unwrap())
            .await
            .unwrap();
        Ok(())
    }

    /// Answers a server offer.
    async fn answer(&self, sfu: &SfuHandle, offer: String) {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer).unwrap())
            .await
            .unwrap();
        let answer = self.pc.create_answer(None).await.unwrap();
        let sdp = self.local_sdp(answer).await;
        sfu.apply_answer(self.peer, sdp).await.unwrap();
    }

    async fn wait_connected(&self) {
        wait_for("connection", || self.connected.load(Ordering::SeqCst)).await;
    }

    fn packets(&self) -> HashMap<String, u64> {
        self.received.packets.lock().unwrap().clone()
    }
}

/// Polls `done` every 20 ms for up to 10 s.
async fn wait_for(what: &str, done: impl Fn() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no {what} within 10 s");
}

/// One RTP packet; the marker bit is set (each video frame here is one packet).
fn rtp(pt: u8, seq: u32, timestamp: u32, ssrc: u32, payload: Vec<u8>) -> rtc::rtp::packet::Packet {
    rtc::rtp::packet::Packet {
        header: rtc::rtp::header::Header {
            version: 2,
            payload_type: pt,
            sequence_number: seq as u16,
            timestamp,
            marker: true,
            ssrc,
            ..Default::default()
        },
        payload: bytes::Bytes::from(payload),
    }
}

/// Sends Opus (20 ms) and VP8 (30 fps, a keyframe every second) RTP until `stop`, with
/// `marker` as every payload's first byte so receivers can tell whose it is.
fn send_media(
    audio: Arc<TrackLocalStaticRTP>,
    a_ssrc: u32,
    video: Arc<TrackLocalStaticRTP>,
    v_ssrc: u32,
    marker: u8,
    stop: Arc<AtomicBool>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let mut i: u32 = 0;
        while !stop.load(Ordering::SeqCst) {
            tick.tick().await;
            let opus = rtp(OPUS_PT, i, i.wrapping_mul(960), a_ssrc, vec![marker; 80]);
            let _ = audio.write_rtp(opus).await;
            if i.is_multiple_of(2) {
                let frame = i / 2;
                // VP8 descriptor (S=1, partition 0), then a frame tag: P=0 keyframe, P=1 not.
                let mut payload = vec![0x10, if frame.is_multiple_of(25) { 0x00 } else { 0x01 }];
                payload.extend(std::iter::repeat_n(marker, 900));
                let vp8 = rtp(VP8_PT, frame, frame.wrapping_mul(3000), v_ssrc, payload);
                let _ = video.write_rtp(vp8).await;
            }
            i += 1;
        }
    });
}

/// The next server offer for `peer`, keeping the other events seen on the way.
async fn next_offer(
    events: &mut mpsc::Receiver<SfuEvent>,
    seen: &mut Vec<SfuEvent>,
    peer: PeerId,
) -> String {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("an offer within 10 s")
            .expect("the SFU is running");
        match e {
            SfuEvent::Offer { peer: p, sdp, .. } if p == peer => return sdp,
            other => seen.push(other),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_webrtc_rs_peers_exchange_opus_and_vp8_and_a_mute_stops_forwarding() {
    let (sfu, mut events) = sfu::start(SfuConfig::new("127.0.0.1:0".parse().unwrap())).unwrap();
    let mut seen = Vec::new();

    // Alice publishes a microphone and a camera.
    let alice = Client::new(&sfu, ALICE, Sources::ALL, 0xA1).await;
    let (a_audio_ssrc, a_video_ssrc) = (0x1111, 0x2222);
    let a_audio = track(
        RtpCodecKind::Audio,
        MIME_TYPE_OPUS,
        48_000,
        2,
        "alice-mic",
        a_audio_ssrc,
    );
    let a_video = track(
        RtpCodecKind::Video,
        MIME_TYPE_VP8,
        90_000,
        0,
        "alice-cam",
        a_video_ssrc,
    );
    alice
        .pc
        .add_track(a_audio.clone() as Arc<dyn TrackLocal>)
        .await
        .unwrap();
    alice
        .pc
        .add_track(a_video.clone() as Arc<dyn TrackLocal>)
        .await
        .unwrap();
    alice
        .publish(&sfu, &[Source::Microphone, Source::Camera])
        .await
        .unwrap();
    alice.wait_connected().await;
    let stop = Arc::new(AtomicBool::new(false));
    send_media(
        a_audio,
        a_audio_ssrc,
        a_video,
        a_video_ssrc,
        0xA1,
        stop.clone(),
    );

    // Bob may publish only his microphone; he receives Alice's tracks by a server offer.
    let bob = Client::new(&sfu, BOB, Sources::of(&[Source::Microphone]), 0xB0).await;
    let offer = next_offer(&mut events, &mut seen, bob.peer).await;
    bob.answer(&sfu, offer).await;
    bob.wait_connected().await;

    // Bob publishes audio, then video he may not publish: the second offer is refused.
    let (b_audio_ssrc, b_video_ssrc) = (0x3333, 0x4444);
    let b_audio = track(
        RtpCodecKind::Audio,
        MIME_TYPE_OPUS,
        48_000,
        2,
        "bob-mic",
        b_audio_ssrc,
    );
    bob.pc
        .add_track(b_audio.clone() as Arc<dyn TrackLocal>)
        .await
        .unwrap();
    bob.publish(&sfu, &[Source::Microphone]).await.unwrap();
    let offer = next_offer(&mut events, &mut seen, alice.peer).await;
    alice.answer(&sfu, offer).await;
    let b_video = track(
        RtpCodecKind::Video,
        MIME_TYPE_VP8,
        90_000,
        0,
        "bob-cam",
        b_video_ssrc,
    );
    send_media(
        b_audio,
        b_audio_ssrc,
        b_video.clone(),
        b_video_ssrc,
        0xB0,
        stop.clone(),
    );

    tokio::time::sleep(Duration::from_secs(2)).await;
    let alice_stream = ALICE.to_string();
    let bob_stream = BOB.to_string();
    let at_bob = bob.packets();
    let at_alice = alice.packets();
    let from_alice: u64 = at_bob
        .iter()
        .filter(|(k, _)| k.starts_with(&alice_stream))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(
        at_bob.len(),
        2,
        "Bob receives Alice's microphone and camera: {at_bob:?}"
    );
    assert!(
        from_alice > 80,
        "Bob got {from_alice} packets from Alice in 2 s: {at_bob:?}"
    );
    assert!(
        at_bob.keys().all(|k| k.starts_with(&alice_stream)),
        "{at_bob:?}"
    );
    assert_eq!(
        at_alice.len(),
        1,
        "Alice receives Bob's microphone: {at_alice:?}"
    );
    assert!(
        at_alice.keys().all(|k| k.starts_with(&bob_stream)),
        "{at_alice:?}"
    );
    assert!(at_alice.values().sum::<u64>() > 40, "{at_alice:?}");
    // Nobody ever receives their own media back.
    assert_eq!(bob.received.own.load(Ordering::SeqCst), 0);
    assert_eq!(alice.received.own.load(Ordering::SeqCst), 0);
    let published: Vec<(ParticipantId, Source)> = seen
        .iter()
        .filter_map(|e| match e {
            SfuEvent::TrackPublished {
                participant,
                source,
                ..
            } => Some((*participant, *source)),
            _ => None,
        })
        .collect();
    assert!(published.contains(&(ALICE, Source::Microphone)), "{seen:?}");
    assert!(published.contains(&(ALICE, Source::Camera)), "{seen:?}");

    // A camera Bob has no capability for is refused, with a typed error.
    bob.pc
        .add_track(b_video as Arc<dyn TrackLocal>)
        .await
        .unwrap();
    let refused = bob
        .publish(&sfu, &[Source::Microphone, Source::Camera])
        .await;
    assert_eq!(refused, Err(sfu::SfuError::NotAllowed(Source::Camera)));

    // A host mutes Alice's microphone: within a second nothing more of it reaches Bob,
    // while her camera keeps flowing.
    sfu.set_muted(alice.peer, Source::Microphone, true)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let muted_at = bob.packets();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let later = bob.packets();
    let audio_key = |m: &HashMap<String, u64>| {
        let mut v: Vec<(String, u64)> = m
            .iter()
            .filter(|(k, _)| k.starts_with(&alice_stream))
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        v.sort();
        v
    };
    let (before, after) = (audio_key(&muted_at), audio_key(&later));
    let grew: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| a.1 > b.1)
        .map(|(b, _)| b.0.clone())
        .collect();
    assert_eq!(
        grew.len(),
        1,
        "only the camera still flows: {before:?} -> {after:?}"
    );

    let stats = sfu.stats().total();
    assert!(stats.forwarded_packets > 100, "{stats:?}");
    assert_eq!(stats.peers, 2);
    assert_eq!(stats.tracks, 3);

    // Closing a peer stops its tracks for everyone.
    sfu.close_peer(alice.peer).await.unwrap();
    let mut closed = false;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
        if let SfuEvent::PeerClosed { peer, .. } = e {
            assert_eq!(peer, alice.peer);
            closed = true;
            break;
        }
    }
    assert!(closed);
    stop.store(true, Ordering::SeqCst);
}
