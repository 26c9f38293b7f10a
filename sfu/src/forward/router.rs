//! The router: who receives which track, which layer, with which numbers.
//!
//! A sans-IO state machine in str0m's shape: [`Router::handle_input`] takes one [`Input`]
//! (a peer or track coming or going, a subscription choice, a bandwidth estimate, a packet's
//! metadata, a keyframe request, the time), then [`Router::poll_output`] yields [`Output`]s
//! until [`Output::Timeout`]. It never sees payload bytes: for a packet it answers with one
//! [`Output::Forward`] per subscriber that gets it, carrying the rewritten numbers, and the
//! caller writes the one shared payload to each.
//!
//! Rules:
//! - every peer of a room subscribes to every track the others publish, never to its own;
//! - a muted track, or a subscription set to nothing, is not forwarded (video resumes on a
//!   keyframe, with the numbers continuing seamlessly);
//! - video goes to each subscriber on one layer, chosen from its estimate and preference
//!   ([`layer::choose`]), switched only on a keyframe of the new layer;
//! - a subscription starts once its stream is ready ([`Input::Ready`]);
//! - a keyframe is requested when a subscriber starts, switches or asks for one, through
//!   the track's per-layer [`KeyframeThrottle`];
//! - [`Output::Demand`] tells when nobody can use a video track any more (or again), so the
//!   publisher can be asked to pause its encoder.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::keyframe::KeyframeThrottle;
use super::layer::{self, Layer, LayerMeter, MAX_LAYERS, Quality};
use super::rewrite::Rewriter;
use crate::ids::{PeerId, RoomId, TrackId};

/// At most one keyframe request per publisher layer per this interval.
pub const KEYFRAME_INTERVAL: Duration = Duration::from_secs(1);

/// How often layer choices are revisited without a new estimate (layers appear and vanish).
const REALLOCATE_EVERY: Duration = Duration::from_millis(500);
/// What one forwarded audio track counts for in [`Router::wanted_bitrates`] (Opus speech
/// with headers stays below it).
pub const AUDIO_BPS: u64 = 64_000;

/// Audio or video, which decides the RTP clock and whether layers and keyframes matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TrackKind {
    /// 48 kHz, forwarded as is.
    Audio,
    /// 90 kHz, layers and keyframes.
    Video,
}

/// One incoming RTP packet, as the router needs it (no payload).
#[derive(Debug, Clone, Copy)]
pub struct Packet {
    /// The published track it belongs to.
    pub track: TrackId,
    /// The simulcast layer (0 without simulcast).
    pub layer: Layer,
    /// Extended sequence number.
    pub seq: u64,
    /// Extended RTP timestamp.
    pub time: u64,
    /// Whether it starts a keyframe (always false for audio).
    pub keyframe: bool,
    /// Payload size, for the layer bitrates.
    pub bytes: usize,
}

/// Everything that can happen to the router.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    /// A peer joined `room`: it subscribes to every track there.
    PeerAdded { peer: PeerId, room: RoomId },
    /// A peer left: its tracks and subscriptions go.
    PeerRemoved { peer: PeerId },
    /// `publisher` published a track.
    TrackAdded {
        track: TrackId,
        publisher: PeerId,
        kind: TrackKind,
    },
    /// A published track stopped.
    TrackRemoved { track: TrackId },
    /// A track was muted or unmuted (by its publisher or a host): muted means not forwarded.
    Muted { track: TrackId, muted: bool },
    /// A subscriber's choice for one track: a quality, or `None` for nothing.
    Subscribe {
        subscriber: PeerId,
        track: TrackId,
        quality: Option<Quality>,
    },
    /// A subscriber's bandwidth estimate (TWCC/GCC) changed.
    Estimate { subscriber: PeerId, bps: u64 },
    /// `subscriber`'s stream for `track` can carry packets now: its m-line is negotiated and
    /// its DTLS is up. Until then nothing is forwarded and no keyframe asked for on its
    /// behalf, because a keyframe written earlier would be lost and the subscriber's own
    /// request for another would wait out the throttle.
    Ready { subscriber: PeerId, track: TrackId },
    /// A subscriber lost a picture (PLI/FIR) on a track it receives.
    KeyframeNeeded { subscriber: PeerId, track: TrackId },
    /// An RTP packet arrived.
    Packet(Packet),
    /// Time passed.
    Timeout,
}

/// What the caller must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Write the packet being handled to `subscriber`'s stream for `track` with these numbers.
    Forward {
        subscriber: PeerId,
        track: TrackId,
        seq: u64,
        time: u64,
    },
    /// `subscriber` needs an outgoing m-line for `track` (negotiate it).
    Open { subscriber: PeerId, track: TrackId },
    /// `subscriber`'s m-line for `track` is no longer needed.
    Close { subscriber: PeerId, track: TrackId },
    /// Ask the publisher of `track` for a keyframe on `layer`.
    RequestKeyframe { track: TrackId, layer: Layer },
    /// Whether anyone can use video `track` now; `false` means the publisher may pause it.
    Demand { track: TrackId, used: bool },
    /// Call [`Router::handle_input`] with [`Input::Timeout`] at this time.
    Timeout(Instant),
}

#[derive(Debug)]
struct Track {
    publisher: PeerId,
    kind: TrackKind,
    muted: bool,
    meter: LayerMeter,
    throttles: Vec<KeyframeThrottle>,
    subs: Vec<Subscription>,
    used: bool,
}

#[derive(Debug)]
struct Subscription {
    subscriber: PeerId,
    quality: Option<Quality>,
    /// The layer to move to (at its next keyframe).
    target: Option<Layer>,
    /// The layer being forwarded.
    current: Option<Layer>,
    rewriter: Rewriter,
    /// See [`Input::Ready`].
    ready: bool,
}

impl Subscription {
    fn active(&self, track_muted: bool) -> bool {
        self.ready && self.quality.is_some() && !track_muted
    }

    fn stop(&mut self) {
        self.target = None;
        self.current = None;
        self.rewriter.switch();
    }
}

#[derive(Debug)]
struct Peer {
    room: RoomId,
    estimate: Option<u64>,
}

/// See the module docs.
#[derive(Debug)]
pub struct Router {
    peers: HashMap<PeerId, Peer>,
    tracks: HashMap<TrackId, Track>,
    out: VecDeque<Output>,
    rng: fastrand::Rng,
    now: Instant,
    next_reallocation: Instant,
}

impl Router {
    /// An empty router at time `now`; `seed` seeds the random first sequence numbers and
    /// timestamps of outgoing streams.
    pub fn new(now: Instant, seed: u64) -> Router {
        Router {
            peers: HashMap::new(),
            tracks: HashMap::new(),
            out: VecDeque::new(),
            rng: fastrand::Rng::with_seed(seed),
            now,
            next_reallocation: now + REALLOCATE_EVERY,
        }
    }

    /// Feeds one input at time `now` (never earlier than the previous one's).
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        self.now = self.now.max(now);
        match input {
            Input::PeerAdded { peer, room } => self.add_peer(peer, room),
            Input::PeerRemoved { peer } => self.remove_peer(peer),
            Input::TrackAdded {
                track,
                publisher,
                kind,
            } => self.add_track(track, publisher, kind),
            Input::TrackRemoved { track } => self.remove_track(track),
            Input::Muted { track, muted } => self.set_muted(track, muted),
            Input::Subscribe {
                subscriber,
                track,
                quality,
            } => self.subscribe(subscriber, track, quality),
            Input::Estimate { subscriber, bps } => {
                if let Some(p) = self.peers.get_mut(&subscriber) {
                    p.estimate = Some(bps);
                    self.reallocate(Some(subscriber));
                }
            }
            Input::Ready { subscriber, track } => self.ready(subscriber, track),
            Input::KeyframeNeeded { subscriber, track } => self.keyframe_needed(subscriber, track),
            Input::Packet(p) => self.packet(p),
            Input::Timeout => self.timeout(),
        }
    }

    /// The next thing to do; [`Output::Timeout`] when there is nothing until then.
    pub fn poll_output(&mut self) -> Output {
        self.out
            .pop_front()
            .unwrap_or_else(|| Output::Timeout(self.next_timeout()))
    }

    /// The number of subscriptions currently forwarded (for stats).
    pub fn active_subscriptions(&self) -> usize {
        self.tracks
            .values()
            .map(|t| t.subs.iter().filter(|s| s.current.is_some()).count())
            .sum()
    }

    /// What each subscriber would receive if bandwidth allowed every preference: per active
    /// video subscription the measured bitrate of the layer its quality asks for, plus
    /// [`AUDIO_BPS`] per audio subscription. The shard tells each peer's bandwidth
    /// estimator so it probes up to it; otherwise its estimate (and str0m's pacer, which
    /// sends at the estimate) would stay at the starting rate and queue what does not fit.
    pub fn wanted_bitrates(&self) -> HashMap<PeerId, u64> {
        let mut wanted: HashMap<PeerId, u64> = HashMap::new();
        for t in self.tracks.values().filter(|t| !t.muted) {
            let ranked = match t.kind {
                TrackKind::Video => t.meter.ranked(self.now),
                TrackKind::Audio => Vec::new(),
            };
            for s in &t.subs {
                let Some(quality) = s.quality else { continue };
                let bps = match t.kind {
                    TrackKind::Audio => AUDIO_BPS,
                    TrackKind::Video => layer::choose(&ranked, None, quality)
                        .and_then(|l| ranked.iter().find(|(layer, _)| *layer == l))
                        .map_or(0, |&(_, bps)| bps),
                };
                *wanted.entry(s.subscriber).or_default() += bps;
            }
        }
        wanted
    }

    /// The publisher of `track`, if it exists.
    pub fn publisher(&self, track: TrackId) -> Option<PeerId> {
        self.tracks.get(&track).map(|t| t.publisher)
    }

    fn next_timeout(&self) -> Instant {
        self.tracks
            .values()
            .flat_map(|t| {
                t.throttles
                    .iter()
                    .filter_map(KeyframeThrottle::poll_timeout)
            })
            .fold(self.next_reallocation, Instant::min)
    }

    fn new_subscription(&mut self, subscriber: PeerId, kind: TrackKind) -> Subscription {
        let clock = match kind {
            TrackKind::Audio => 48_000,
            TrackKind::Video => 90_000,
        };
        Subscription {
            subscriber,
            quality: Some(Quality::High),
            target: None,
            current: None,
            rewriter: Rewriter::new(clock, self.rng.u16(..), self.rng.u32(..)),
            ready: false,
        }
    }

    fn add_peer(&mut self, peer: PeerId, room: RoomId) {
        if self.peers.contains_key(&peer) {
            return;
        }
        self.peers.insert(
            peer,
            Peer {
                room,
                estimate: None,
            },
        );
        let mut ids: Vec<(TrackId, TrackKind)> = self
            .tracks
            .iter()
            .filter(|(_, t)| self.peers.get(&t.publisher).is_some_and(|p| p.room == room))
            .map(|(&id, t)| (id, t.kind))
            .collect();
        ids.sort();
        for (id, kind) in ids {
            let sub = self.new_subscription(peer, kind);
            if let Some(t) = self.tracks.get_mut(&id) {
                t.subs.push(sub);
            }
            self.out.push_back(Output::Open {
                subscriber: peer,
                track: id,
            });
            self.update_demand(id);
        }
    }

    fn remove_peer(&mut self, peer: PeerId) {
        let own: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.publisher == peer)
            .map(|(&id, _)| id)
            .collect();
        for id in own {
            self.remove_track(id);
        }
        let mut touched = Vec::new();
        for (&id, t) in &mut self.tracks {
            let before = t.subs.len();
            t.subs.retain(|s| s.subscriber != peer);
            if t.subs.len() != before {
                touched.push(id);
            }
        }
        for id in touched {
            self.update_demand(id);
        }
        self.peers.remove(&peer);
    }

    fn add_track(&mut self, track: TrackId, publisher: PeerId, kind: TrackKind) {
        let Some(room) = self.peers.get(&publisher).map(|p| p.room) else {
            return;
        };
        if self.tracks.contains_key(&track) {
            return;
        }
        let mut subscribers: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|&(&id, p)| p.room == room && id != publisher)
            .map(|(&id, _)| id)
            .collect();
        subscribers.sort();
        let subs: Vec<Subscription> = subscribers
            .iter()
            .map(|&s| self.new_subscription(s, kind))
            .collect();
        self.tracks.insert(
            track,
            Track {
                publisher,
                kind,
                muted: false,
                meter: LayerMeter::default(),
                throttles: (0..MAX_LAYERS)
                    .map(|_| KeyframeThrottle::new(KEYFRAME_INTERVAL))
                    .collect(),
                subs,
                used: kind == TrackKind::Video,
            },
        );
        for subscriber in subscribers {
            self.out.push_back(Output::Open { subscriber, track });
        }
        self.update_demand(track);
    }

    fn remove_track(&mut self, track: TrackId) {
        if let Some(t) = self.tracks.remove(&track) {
            for s in t.subs {
                self.out.push_back(Output::Close {
                    subscriber: s.subscriber,
                    track,
                });
            }
        }
    }

    fn set_muted(&mut self, track: TrackId, muted: bool) {
        let Some(t) = self.tracks.get_mut(&track) else {
            return;
        };
        if t.muted == muted {
            return;
        }
        t.muted = muted;
        for s in &mut t.subs {
            s.stop();
        }
        self.update_demand(track);
    }

    fn subscribe(&mut self, subscriber: PeerId, track: TrackId, quality: Option<Quality>) {
        let Some(t) = self.tracks.get_mut(&track) else {
            return;
        };
        let Some(s) = t.subs.iter_mut().find(|s| s.subscriber == subscriber) else {
            return;
        };
        if s.quality == quality {
            return;
        }
        s.quality = quality;
        if quality.is_none() {
            s.stop();
        }
        self.update_demand(track);
        self.reallocate(Some(subscriber));
    }

    /// The subscription starts at the next packet, which picks its layer and asks for a
    /// keyframe then.
    fn ready(&mut self, subscriber: PeerId, track: TrackId) {
        let sub = self
            .tracks
            .get_mut(&track)
            .and_then(|t| t.subs.iter_mut().find(|s| s.subscriber == subscriber));
        if let Some(s) = sub.filter(|s| !s.ready) {
            s.ready = true;
            s.stop();
        }
    }

    fn keyframe_needed(&mut self, subscriber: PeerId, track: TrackId) {
        let now = self.now;
        let Some(t) = self
            .tracks
            .get_mut(&track)
            .filter(|t| t.kind == TrackKind::Video)
        else {
            return;
        };
        let Some(layer) = t
            .subs
            .iter()
            .find(|s| s.subscriber == subscriber)
            .and_then(|s| s.target.or(s.current))
        else {
            return;
        };
        if t.throttles[usize::from(layer)].request(now) {
            self.out.push_back(Output::RequestKeyframe { track, layer });
        }
    }

    fn packet(&mut self, p: Packet) {
        let now = self.now;
        let Some(t) = self.tracks.get_mut(&p.track) else {
            return;
        };
        if usize::from(p.layer) >= MAX_LAYERS {
            return;
        }
        t.meter.add(p.layer, p.bytes, now);
        if p.keyframe {
            t.throttles[usize::from(p.layer)].keyframe_received();
        }
        if t.muted {
            return;
        }
        let audio = t.kind == TrackKind::Audio;
        let mut ranked = None;
        for s in t.subs.iter_mut().filter(|s| s.ready) {
            let Some(quality) = s.quality else { continue };
            if s.target.is_none() {
                // A subscription that starts (or resumes): pick a layer now that one is sending.
                let ranked = ranked.get_or_insert_with(|| t.meter.ranked(now));
                s.target = if audio {
                    Some(0)
                } else {
                    layer::choose(ranked, None, quality)
                };
                // No request when this very packet is the keyframe to start from.
                if !audio
                    && let Some(l) = s.target
                    && !(p.keyframe && l == p.layer)
                    && t.throttles[usize::from(l)].request(now)
                {
                    self.out.push_back(Output::RequestKeyframe {
                        track: p.track,
                        layer: l,
                    });
                }
            }
            if s.current != Some(p.layer) {
                if s.target != Some(p.layer) || !(audio || p.keyframe) {
                    continue;
                }
                s.current = Some(p.layer);
                s.rewriter.switch();
            }
            if let Some(r) = s.rewriter.rewrite(p.seq, p.time, now) {
                self.out.push_back(Output::Forward {
                    subscriber: s.subscriber,
                    track: p.track,
                    seq: r.seq,
                    time: r.time,
                });
            }
        }
    }

    fn timeout(&mut self) {
        let now = self.now;
        for (&id, t) in &mut self.tracks {
            for (layer, k) in t.throttles.iter_mut().enumerate() {
                if k.handle_timeout(now) {
                    self.out.push_back(Output::RequestKeyframe {
                        track: id,
                        layer: layer as Layer,
                    });
                }
            }
        }
        if now >= self.next_reallocation {
            self.next_reallocation = now + REALLOCATE_EVERY;
            self.reallocate(None);
        }
    }

    /// Revisits the layer targets of one subscriber's video subscriptions (or everyone's):
    /// each gets an equal share of its estimate. A new target is asked a keyframe for.
    fn reallocate(&mut self, only: Option<PeerId>) {
        let now = self.now;
        let mut shares: HashMap<PeerId, usize> = HashMap::new();
        for t in self
            .tracks
            .values()
            .filter(|t| t.kind == TrackKind::Video && !t.muted)
        {
            for s in t.subs.iter().filter(|s| s.quality.is_some()) {
                *shares.entry(s.subscriber).or_default() += 1;
            }
        }
        let mut ids: Vec<TrackId> = self.tracks.keys().copied().collect();
        ids.sort();
        for id in ids {
            let Some(t) = self.tracks.get_mut(&id) else {
                continue;
            };
            if t.kind != TrackKind::Video {
                continue;
            }
            let ranked = t.meter.ranked(now);
            for s in &mut t.subs {
                if only.is_some_and(|p| p != s.subscriber) || !s.active(t.muted) {
                    continue;
                }
                let Some(quality) = s.quality else { continue };
                let budget = self
                    .peers
                    .get(&s.subscriber)
                    .and_then(|p| p.estimate)
                    .map(|bps| bps / shares.get(&s.subscriber).copied().unwrap_or(1).max(1) as u64);
                let target = layer::choose(&ranked, budget, quality);
                if target == s.target {
                    continue;
                }
                s.target = target;
                if let Some(l) = target
                    && target != s.current
                    && t.throttles[usize::from(l)].request(now)
                {
                    self.out.push_back(Output::RequestKeyframe {
                        track: id,
                        layer: l,
                    });
                }
            }
        }
    }

    fn update_demand(&mut self, track: TrackId) {
        let Some(t) = self.tracks.get_mut(&track) else {
            return;
        };
        if t.kind != TrackKind::Video {
            return;
        }
        let used = !t.muted && t.subs.iter().any(|s| s.quality.is_some());
        if used != t.used {
            t.used = used;
            self.out.push_back(Output::Demand { track, used });
        }
    }
}

#[cfg(test)]
mod tests;
