//! One participant's WebRTC peer: a str0m [`Rtc`] in RTP mode and what the SFU knows of it.
//!
//! The str0m instance is ICE-lite (the server has one public address and never gathers) and
//! answers a browser's `actpass` with `passive`, so it is the DTLS server and browsers pick
//! AES-GCM SRTP. This module keeps the SDP bookkeeping of one peer: which of its m-lines are
//! published tracks (and their declared source), which m-lines carry other peers' tracks to
//! it, and the server-initiated offers that add or stop those.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use str0m::bwe::Bitrate;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::{Codec, PayloadParams};
use str0m::media::{Direction, MediaKind, Mid, Pt, Rid};
use str0m::{Candidate, Rtc};

use crate::error::SfuError;
use crate::forward::codec::VideoCodec;
use crate::forward::layer::{Layer, MAX_LAYERS};
use crate::ids::{ParticipantId, PeerId, RoomId, Source, Sources, TrackId};
use crate::offer;

/// Who a new peer is and what it may publish, from the session.
#[derive(Debug, Clone, Copy)]
pub struct PeerConfig {
    /// The forwarding group (session).
    pub room: RoomId,
    /// The participant, carried into events.
    pub participant: ParticipantId,
    /// Sources this peer may publish (the hub's capabilities), checked on every offer.
    pub may_publish: Sources,
}

/// A track this peer publishes.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub track: TrackId,
    pub source: Source,
    /// Simulcast rids in order of first appearance; the index is the router's layer.
    rids: Vec<Option<Rid>>,
    /// Per payload type: its params and, for video, the codec for keyframe detection.
    codecs: Vec<(Pt, Option<PayloadParams>, Option<VideoCodec>)>,
}

impl Incoming {
    /// The layer number of `rid` (assigned on first sight; `None` past [`MAX_LAYERS`]).
    pub fn layer(&mut self, rid: Option<Rid>) -> Option<Layer> {
        if let Some(i) = self.rids.iter().position(|r| *r == rid) {
            return Some(i as Layer);
        }
        if self.rids.len() == MAX_LAYERS {
            return None;
        }
        self.rids.push(rid);
        Some((self.rids.len() - 1) as Layer)
    }

    /// The rid of a layer number.
    pub fn rid(&self, layer: Layer) -> Option<Rid> {
        self.rids.get(usize::from(layer)).copied().flatten()
    }

    /// The params and video codec of payload type `pt` as the publisher negotiated it.
    pub fn codec(&mut self, rtc: &Rtc, pt: Pt) -> (Option<PayloadParams>, Option<VideoCodec>) {
        if let Some((_, p, c)) = self.codecs.iter().find(|(p, _, _)| *p == pt) {
            return (*p, *c);
        }
        let params = rtc.codec_config().find(|p| p.pt() == pt).cloned();
        let codec = params.as_ref().and_then(|p| match p.spec().codec {
            Codec::Vp8 => Some(VideoCodec::Vp8),
            Codec::Vp9 => Some(VideoCodec::Vp9),
            Codec::H264 => Some(VideoCodec::H264),
            _ => None,
        });
        if self.codecs.len() < 16 {
            self.codecs.push((pt, params, codec));
        }
        (params, codec)
    }
}

/// Another peer's track this peer receives, on one of its m-lines.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub mid: Mid,
    /// Whether the m-line is negotiated (the answer arrived) and can carry packets.
    pub ready: bool,
    /// Publisher payload type → ours, matched once per payload type.
    pts: Vec<(Pt, Option<Pt>)>,
}

impl Outgoing {
    /// The payload type to send a publisher's `pt` with, matched by codec parameters.
    pub fn pt(
        &mut self,
        rtc: &Rtc,
        publisher_pt: Pt,
        params: Option<&PayloadParams>,
    ) -> Option<Pt> {
        if let Some((_, ours)) = self.pts.iter().find(|(p, _)| *p == publisher_pt) {
            return *ours;
        }
        let ours = params.and_then(|p| rtc.codec_config().match_params(*p).map(|m| m.pt()));
        if self.pts.len() < 16 {
            self.pts.push((publisher_pt, ours));
        }
        ours
    }
}

/// A subscription waiting for an m-line: the track, its kind and its SDP `msid`.
#[derive(Debug, Clone)]
pub(crate) struct ToOpen {
    pub track: TrackId,
    pub kind: MediaKind,
    pub stream_id: String,
}

/// See the module docs.
pub(crate) struct Peer {
    pub id: PeerId,
    pub config: PeerConfig,
    pub rtc: Rtc,
    /// When str0m wants time next.
    pub timeout: Instant,
    created: Instant,
    pub connected: bool,
    remote_candidates: usize,
    /// Sources declared for the m-lines of the offers so far.
    declared: HashMap<Mid, Source>,
    /// Tracks this peer publishes, by m-line.
    pub incoming: HashMap<Mid, Incoming>,
    /// Tracks this peer receives.
    pub outgoing: HashMap<TrackId, Outgoing>,
    to_open: Vec<ToOpen>,
    to_close: Vec<Mid>,
    pending: Option<(SdpPendingOffer, Vec<ToOpen>)>,
}

/// How long a peer may take to connect (ICE and DTLS) before it is closed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

impl Peer {
    /// A new peer announcing `candidates` (the shard's public address, UDP and TCP).
    pub fn new(id: PeerId, config: PeerConfig, candidates: &[Candidate], now: Instant) -> Peer {
        let mut rtc = Rtc::builder()
            .set_ice_lite(true)
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_vp9(true)
            .enable_h264(true)
            .enable_bwe(Some(Bitrate::kbps(1_000)))
            .set_stats_interval(Some(Duration::from_secs(1)))
            .build(now);
        for candidate in candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        Peer {
            id,
            config,
            rtc,
            timeout: now,
            created: now,
            connected: false,
            remote_candidates: 0,
            declared: HashMap::new(),
            incoming: HashMap::new(),
            outgoing: HashMap::new(),
            to_open: Vec::new(),
            to_close: Vec::new(),
            pending: None,
        }
    }

    /// Whether the peer took too long to connect (ICE + DTLS never completed).
    pub fn connect_timed_out(&self, now: Instant) -> bool {
        !self.connected && now >= self.created + CONNECT_TIMEOUT
    }

    /// Applies the participant's offer after the capability check; returns our answer.
    ///
    /// A server offer still waiting for its answer is dropped (the server is the polite peer
    /// of perfect negotiation): its m-lines are offered again after this exchange.
    pub fn apply_offer(
        &mut self,
        sdp: &str,
        declared: &[(String, Source)],
    ) -> Result<String, SfuError> {
        let offer =
            SdpOffer::from_sdp_string(sdp).map_err(|e| SfuError::MalformedSdp(e.to_string()))?;
        let sources = offer::check_offer(sdp, declared, self.config.may_publish)?;
        if let Some((_, opened)) = self.pending.take() {
            for o in opened {
                self.outgoing.remove(&o.track);
                self.to_open.push(o);
            }
        }
        let answer = self
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| SfuError::MalformedSdp(e.to_string()))?;
        for (mid, source) in sources {
            self.declared.insert(Mid::from(mid.as_str()), source);
        }
        Ok(answer.to_sdp_string())
    }

    /// Applies the participant's answer to our last offer; returns the tracks whose m-lines
    /// just became ready.
    pub fn apply_answer(&mut self, sdp: &str) -> Result<Vec<TrackId>, SfuError> {
        if self.pending.is_none() {
            return Err(SfuError::NoPendingOffer);
        }
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| SfuError::MalformedSdp(e.to_string()))?;
        offer::sending_lines(sdp)?;
        let Some((pending, opened)) = self.pending.take() else {
            return Err(SfuError::NoPendingOffer);
        };
        self.rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .map_err(|e| SfuError::MalformedSdp(e.to_string()))?;
        let mut ready = Vec::new();
        for o in opened {
            if let Some(out) = self.outgoing.get_mut(&o.track) {
                out.ready = true;
                ready.push(o.track);
            }
        }
        Ok(ready)
    }

    /// A trickled remote candidate (an ICE-lite server needs none, but they help a client
    /// behind NAT be found sooner). At most `max` per peer.
    pub fn add_candidate(&mut self, candidate: &str, max: usize) -> Result<(), SfuError> {
        if self.remote_candidates >= max {
            return Err(SfuError::TooManyCandidates);
        }
        let line = candidate.strip_prefix("a=").unwrap_or(candidate);
        let c = Candidate::from_sdp_string(line)
            .map_err(|e| SfuError::MalformedCandidate(e.to_string()))?;
        self.remote_candidates += 1;
        self.rtc.add_remote_candidate(c);
        Ok(())
    }

    /// The source declared for an m-line the peer sends on.
    pub fn declared(&self, mid: Mid) -> Option<Source> {
        self.declared.get(&mid).copied()
    }

    /// Starts publishing a track on `mid`.
    pub fn add_incoming(&mut self, mid: Mid, track: TrackId, source: Source) {
        self.incoming.insert(
            mid,
            Incoming {
                track,
                source,
                rids: Vec::new(),
                codecs: Vec::new(),
            },
        );
    }

    /// Queues an m-line carrying `to_open.track` to this peer.
    pub fn open(&mut self, to_open: ToOpen) {
        self.to_open.push(to_open);
    }

    /// Stops the m-line carrying `track`, if any.
    pub fn close(&mut self, track: TrackId) {
        self.to_open.retain(|o| o.track != track);
        if let Some(out) = self.outgoing.remove(&track) {
            self.to_close.push(out.mid);
        }
    }

    /// Our offer, when m-lines wait to be added or stopped and no offer is in flight.
    pub fn negotiate(&mut self) -> Option<String> {
        if self.pending.is_some() || (self.to_open.is_empty() && self.to_close.is_empty()) {
            return None;
        }
        let mut change = self.rtc.sdp_api();
        for mid in self.to_close.drain(..) {
            change.stop_media(mid);
        }
        let opened: Vec<ToOpen> = self.to_open.drain(..).collect();
        let mids: Vec<Mid> = opened
            .iter()
            .map(|o| {
                change.add_media(
                    o.kind,
                    Direction::SendOnly,
                    Some(o.stream_id.clone()),
                    Some(o.track.to_string()),
                    None,
                )
            })
            .collect();
        let (offer, pending) = change.apply()?;
        for (o, mid) in opened.iter().zip(mids) {
            self.outgoing.insert(
                o.track,
                Outgoing {
                    mid,
                    ready: false,
                    pts: Vec::new(),
                },
            );
        }
        self.pending = Some((pending, opened));
        Some(offer.to_sdp_string())
    }
}
