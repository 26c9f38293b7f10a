//! A non-decoding WebRTC participant for the SFU load: a webrtc-rs peer connection,
//! negotiated over the participant's hub socket, that publishes pre-made RTP (Opus-sized
//! audio, VP8-sized video) and counts what arrives without decoding it.
//!
//! Every payload carries the microseconds since [`epoch`] at which it was sent, so a
//! receiver in the same process measures the delay the server added (one clock, loopback).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::{MIME_TYPE_OPUS, MIME_TYPE_VP8};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

use crate::session::Socket;

const OPUS_PT: u8 = 111;
const VP8_PT: u8 = 96;
/// One Opus packet per 20 ms, the size of 32 kbit/s speech.
const AUDIO_PAYLOAD: usize = 80;
/// Video: 25 frames/s of 8 packets of 1,150 bytes, about 1.9 Mbit/s (a 720p camera).
const VIDEO_FPS: u32 = 25;
const PACKETS_PER_FRAME: u32 = 8;
const VIDEO_PAYLOAD: usize = 1_150;
/// A keyframe every 2 s.
const KEYFRAME_EVERY: u32 = 50;

/// The instant send times count from.
pub fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Microseconds since [`epoch`]: the clock send times are written in.
pub fn micros_since_epoch() -> u64 {
    epoch().elapsed().as_micros() as u64
}

/// What every participant of a run received, added up.
pub struct Received {
    pub packets: AtomicU64,
    pub bytes: AtomicU64,
    /// Delay from send to receipt, microseconds (one packet in ten).
    pub delay: Mutex<Histogram<u64>>,
    /// Packets whose send time falls in the window, whenever they arrive: unlike a count
    /// over a span of arrival times, a queue draining into the span does not inflate it.
    pub sent_in_window: AtomicU64,
    /// The window, microseconds since [`epoch`], start inclusive, end exclusive.
    window: [AtomicU64; 2],
}

impl Default for Received {
    fn default() -> Self {
        Received {
            packets: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            delay: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds")),
            sent_in_window: AtomicU64::new(0),
            window: [AtomicU64::new(u64::MAX), AtomicU64::new(u64::MAX)],
        }
    }
}

impl Received {
    pub fn reset_delay(&self) {
        self.delay.lock().unwrap().reset();
    }

    /// Counts, into [`Received::sent_in_window`], packets sent from `from` until
    /// [`Received::close_window`] (times from [`micros_since_epoch`]).
    pub fn open_window(&self, from: u64) {
        self.window[1].store(u64::MAX, Ordering::SeqCst);
        self.window[0].store(from, Ordering::SeqCst);
    }

    /// Ends the window at `to`; packets sent before it still count when they arrive.
    pub fn close_window(&self, to: u64) {
        self.window[1].store(to, Ordering::SeqCst);
    }

    fn in_window(&self, sent: u64) -> bool {
        (self.window[0].load(Ordering::Relaxed)..self.window[1].load(Ordering::Relaxed))
            .contains(&sent)
    }
}

struct Handler {
    gathered: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
    received: Arc<Received>,
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
        tokio::spawn(count(track, self.received.clone()));
    }
}

/// Counts a remote track's packets until it ends; drained promptly so the client never
/// drops (a lagging reader would look like server loss).
async fn count(track: Arc<dyn TrackRemote>, received: Arc<Received>) {
    let mut local = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let mut flushed = Instant::now();
    let mut seen = [None::<u16>; 1024];
    while let Some(event) = track.poll().await {
        let TrackRemoteEvent::OnRtpPacket(packet) = event else {
            if matches!(event, TrackRemoteEvent::OnEnded) {
                break;
            }
            continue;
        };
        // Bandwidth probes send padding and resend packets already delivered: count each
        // media packet once.
        let seq = packet.header.sequence_number;
        let slot = &mut seen[usize::from(seq) % seen.len()];
        if packet.payload.is_empty() || *slot == Some(seq) {
            continue;
        }
        *slot = Some(seq);
        received.packets.fetch_add(1, Ordering::Relaxed);
        received
            .bytes
            .fetch_add(packet.payload.len() as u64, Ordering::Relaxed);
        let sent = sent_at(&packet.payload);
        if sent.is_some_and(|sent| received.in_window(sent)) {
            received.sent_in_window.fetch_add(1, Ordering::Relaxed);
        }
        if seq % 10 == 0
            && let Some(sent) = sent
        {
            let _ = local.record(micros_since_epoch().saturating_sub(sent).max(1));
        }
        if flushed.elapsed() > Duration::from_secs(1) {
            let _ = received.delay.lock().unwrap().add(&local);
            local.reset();
            flushed = Instant::now();
        }
    }
    let _ = received.delay.lock().unwrap().add(&local);
}

/// The send time a payload carries after its 2-byte header.
fn sent_at(payload: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = payload.get(2..10)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

type HubSink = SplitSink<Socket, Message>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// One participant: its peer connection and its hub socket.
pub struct Participant {
    pc: Arc<dyn PeerConnection>,
    gathered: Arc<AtomicBool>,
    connected: Arc<AtomicBool>,
    sink: Arc<tokio::sync::Mutex<HubSink>>,
    pending: Pending,
    next_id: AtomicU64,
    /// Set by [`Participant::close`]: renegotiations the others' departures cause are moot.
    closing: AtomicBool,
}

impl Participant {
    /// A peer connection on loopback whose received packets count into `received`, driven
    /// by `socket` (already welcomed): server offers are answered as they come.
    pub async fn new(socket: Socket, received: Arc<Received>) -> anyhow::Result<Arc<Participant>> {
        let mut media = MediaEngine::default();
        media.register_default_codecs()?;
        // NACK, RTCP reports and TWCC feedback, as a browser sends them: the server's
        // bandwidth estimate (and so its pacing) depends on the feedback.
        let registry = register_default_interceptors(Registry::new(), &mut media)?;
        let gathered = Arc::new(AtomicBool::new(false));
        let connected = Arc::new(AtomicBool::new(false));
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_handler(Arc::new(Handler {
                gathered: gathered.clone(),
                connected: connected.clone(),
                received,
            }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await?;
        let (sink, mut stream) = socket.split();
        let participant = Arc::new(Participant {
            pc: Arc::new(pc),
            gathered,
            connected,
            sink: Arc::new(tokio::sync::Mutex::new(sink)),
            pending: Arc::default(),
            next_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
        });
        let reader = participant.clone();
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                reader.on_frame(frame);
            }
        });
        Ok(participant)
    }

    fn on_frame(self: &Arc<Self>, frame: Value) {
        match frame["type"].as_str() {
            Some("ack" | "error") => {
                let waiting = frame["ref"]
                    .as_u64()
                    .and_then(|id| self.pending.lock().unwrap().remove(&id));
                if let Some(waiting) = waiting {
                    let _ = waiting.send(frame);
                }
            }
            Some("media.offer") => {
                let me = self.clone();
                let sdp = frame["sdp"].as_str().unwrap_or_default().to_owned();
                tokio::spawn(async move {
                    if let Err(error) = me.answer(sdp).await
                        && !me.closing.load(Ordering::Relaxed)
                    {
                        eprintln!("answering a server offer failed: {error:#}");
                    }
                });
            }
            _ => {}
        }
    }

    /// Sends a hub request and waits for its ack's result.
    pub async fn request(&self, mut message: Value) -> anyhow::Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        message["id"] = json!(id);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        self.sink
            .lock()
            .await
            .send(Message::text(message.to_string()))
            .await?;
        let answer = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .context("no answer within 30 s")??;
        if answer["type"] != "ack" {
            bail!("{} refused: {answer}", message["type"]);
        }
        Ok(answer["result"].clone())
    }

    async fn local_sdp(&self, desc: RTCSessionDescription) -> anyhow::Result<String> {
        self.pc.set_local_description(desc).await?;
        for _ in 0..500 {
            if self.gathered.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(self
            .pc
            .local_description()
            .await
            .context("no local description")?
            .sdp)
    }

    async fn answer(&self, offer: String) -> anyhow::Result<()> {
        self.pc
            .set_remote_description(RTCSessionDescription::offer(offer)?)
            .await?;
        let answer = self.pc.create_answer(None).await?;
        let sdp = self.local_sdp(answer).await?;
        self.request(json!({"type": "media.answer", "sdp": sdp}))
            .await?;
        Ok(())
    }

    /// A participant that only receives: [`Participant::new`], then `media.join`.
    pub async fn receiver(
        socket: Socket,
        received: Arc<Received>,
    ) -> anyhow::Result<Arc<Participant>> {
        let participant = Participant::new(socket, received).await?;
        participant.request(json!({"type": "media.join"})).await?;
        Ok(participant)
    }

    /// Publishes a microphone and a camera; returns the sender that feeds them.
    pub async fn publish(&self, ssrc_base: u32) -> anyhow::Result<Sender> {
        let audio = local_track(RtpCodecKind::Audio, MIME_TYPE_OPUS, 48_000, 2, ssrc_base);
        let video = local_track(RtpCodecKind::Video, MIME_TYPE_VP8, 90_000, 0, ssrc_base + 1);
        self.pc
            .add_track(audio.clone() as Arc<dyn TrackLocal>)
            .await?;
        self.pc
            .add_track(video.clone() as Arc<dyn TrackLocal>)
            .await?;
        let offer = self.pc.create_offer(None).await?;
        let sdp = self.local_sdp(offer).await?;
        let tracks: serde_json::Map<String, Value> = sfu::offer::sending_lines(&sdp)?
            .into_iter()
            .map(|line| {
                let source = if line.audio { "microphone" } else { "camera" };
                (line.mid, json!(source))
            })
            .collect();
        let result = self
            .request(json!({"type": "media.offer", "sdp": sdp, "tracks": tracks}))
            .await?;
        let answer = result["sdp"].as_str().context("no answer sdp")?.to_owned();
        self.pc
            .set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        Ok(Sender {
            audio,
            video,
            ssrc_base,
        })
    }

    /// Waits until ICE and DTLS are up.
    pub async fn wait_connected(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        while !self.connected.load(Ordering::SeqCst) {
            if Instant::now() > deadline {
                bail!("not connected within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        let _ = self.pc.close().await;
    }
}

fn local_track(
    kind: RtpCodecKind,
    mime: &str,
    clock: u32,
    channels: u16,
    ssrc: u32,
) -> Arc<TrackLocalStaticRTP> {
    let id = format!("load-{ssrc}");
    Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("stream-{ssrc}"),
        id.clone(),
        id,
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

/// What a run's senders share: the signal to stop and the count of packets sent.
#[derive(Clone, Default)]
pub struct Traffic {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
}

impl Traffic {
    /// Packets sent so far by every sender of this traffic.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Stops every sender (each ends after its current tick).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Feeds one publisher's two tracks.
pub struct Sender {
    audio: Arc<TrackLocalStaticRTP>,
    video: Arc<TrackLocalStaticRTP>,
    ssrc_base: u32,
}

/// Packets every publisher sends per second.
pub const PACKETS_PER_SECOND: u64 = 50 + (VIDEO_FPS * PACKETS_PER_FRAME) as u64;

impl Sender {
    /// Sends audio every 20 ms and a video frame every 40 ms until `traffic` stops,
    /// counting the packets into it.
    pub fn spawn(self, traffic: &Traffic) {
        let Traffic { stop, sent } = traffic.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let (mut audio_seq, mut video_seq, mut i) = (0u16, 0u16, 0u32);
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let opus = packet(
                    OPUS_PT,
                    audio_seq,
                    i * 960,
                    self.ssrc_base,
                    [0, 0],
                    AUDIO_PAYLOAD,
                    true,
                );
                audio_seq = audio_seq.wrapping_add(1);
                let _ = self.audio.write_rtp(opus).await;
                sent.fetch_add(1, Ordering::Relaxed);
                if i % 2 == 0 {
                    let frame = i / 2;
                    let keyframe = frame % KEYFRAME_EVERY == 0;
                    for p in 0..PACKETS_PER_FRAME {
                        // VP8 descriptor (S=1 on a frame's first packet), then the frame
                        // tag's P bit: 0 on a keyframe.
                        let header = [if p == 0 { 0x10 } else { 0x00 }, u8::from(!keyframe)];
                        let last = p + 1 == PACKETS_PER_FRAME;
                        let vp8 = packet(
                            VP8_PT,
                            video_seq,
                            frame * 3_600,
                            self.ssrc_base + 1,
                            header,
                            VIDEO_PAYLOAD,
                            last,
                        );
                        video_seq = video_seq.wrapping_add(1);
                        let _ = self.video.write_rtp(vp8).await;
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                i += 1;
            }
        });
    }
}

/// One RTP packet: `header`, the send time, then filler up to `len` bytes.
fn packet(
    pt: u8,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    header: [u8; 2],
    len: usize,
    marker: bool,
) -> rtc::rtp::packet::Packet {
    let mut payload = Vec::with_capacity(len);
    payload.extend_from_slice(&header);
    payload.extend_from_slice(&micros_since_epoch().to_be_bytes());
    payload.resize(len, 0x5a);
    rtc::rtp::packet::Packet {
        header: rtc::rtp::header::Header {
            version: 2,
            payload_type: pt,
            sequence_number: seq,
            timestamp,
            marker,
            ssrc,
            ..Default::default()
        },
        payload: bytes::Bytes::from(payload),
    }
}
