//! One shard: every peer on one UDP socket, driven as one sans-IO state machine.
//!
//! The shard owns the peers' str0m instances, the [`Router`] and the [`SpeakerDetector`].
//! Network input and time come in through [`Shard::handle_input`]; commands from the session
//! are methods that answer at once ([`Shard::apply_offer`] returns the SDP answer);
//! [`Shard::poll_output`] yields datagrams to send, events for the session, and finally the
//! time to be woken. No socket, clock or task inside: the runtime moves the bytes.
//!
//! A datagram is demultiplexed by its source address (remembered once a peer accepted it)
//! and otherwise by asking each peer's [`Rtc::accepts`] (STUN carries the ICE username, so
//! a new address finds its peer). A datagram nobody accepts is counted and dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use str0m::bwe::{Bitrate, BweKind};
use str0m::format::PayloadParams;
use str0m::media::{KeyframeRequestKind, MediaKind, Mid, Rid};
use str0m::net::{Protocol, Receive, TcpType, Transmit};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};
use str0m::{Candidate, Event, IceConnectionState, Input as RtcInput, Output as RtcOutput};

use crate::config::Limits;
use crate::error::SfuError;
use crate::event::{CloseReason, SfuEvent};
use crate::forward::codec::is_keyframe;
use crate::forward::layer::Quality;
use crate::forward::router::{Input, Output, Packet, Router, TrackKind};
use crate::ids::{PeerId, RoomId, Source, Sources, TrackId};
use crate::peer::{Peer, PeerConfig, ToOpen};
use crate::record::{RecordedPacket, SenderReport};
use crate::speaker::SpeakerDetector;
use crate::stats::{Counters, ShardCounters};

/// The least a subscriber's estimator is asked to probe for.
const MIN_DESIRED: Bitrate = Bitrate::kbps(300);
/// Network input and time.
#[derive(Debug)]
pub enum ShardInput<'a> {
    /// A UDP datagram, or one RFC 4571 frame of an ICE-TCP connection, from `source`.
    Datagram {
        /// UDP or TCP.
        protocol: Protocol,
        /// The sender.
        source: SocketAddr,
        /// Its bytes.
        contents: &'a [u8],
    },
    /// Time passed (the last [`ShardOutput::Timeout`] is due).
    Timeout,
}

/// What the runtime must do.
#[derive(Debug)]
pub enum ShardOutput {
    /// Send a datagram.
    Transmit(Transmit),
    /// Hand an event to the session.
    Event(SfuEvent),
    /// Hand a packet of a recorded room to the recorder.
    Record(RecordedPacket),
    /// Nothing more until this time (or new input).
    Timeout(Instant),
}

/// A published track's place.
#[derive(Debug, Clone, Copy)]
struct TrackInfo {
    publisher: PeerId,
    mid: Mid,
    source: Source,
}

/// See the module docs.
pub struct Shard {
    local: SocketAddr,
    /// What every peer announces: the UDP host candidate, and a passive TCP one on the
    /// same address when the runtime listens for ICE-TCP.
    candidates: Vec<Candidate>,
    limits: Limits,
    peers: HashMap<PeerId, Peer>,
    by_addr: HashMap<SocketAddr, PeerId>,
    tracks: HashMap<TrackId, TrackInfo>,
    router: Router,
    router_timeout: Instant,
    speaker: SpeakerDetector,
    /// Rooms whose published packets are copied to the recorder.
    recorded: HashSet<RoomId>,
    out: VecDeque<ShardOutput>,
    dirty: Vec<PeerId>,
    renegotiate: Vec<PeerId>,
    /// Cumulative NACKs per subscriber m-line, from str0m's egress stats, to count deltas.
    nacks: HashMap<(PeerId, Mid, Option<Rid>), u64>,
    next_peer: u64,
    next_track: u64,
    counters: Counters,
    now: Instant,
}

impl Shard {
    /// A shard whose socket is bound to `local`, announcing `announce` as its ICE candidate.
    pub fn new(
        local: SocketAddr,
        announce: SocketAddr,
        limits: Limits,
        counters: Counters,
        now: Instant,
    ) -> Result<Shard, SfuError> {
        let candidate = Candidate::host(announce, "udp")
            .map_err(|e| SfuError::MalformedCandidate(e.to_string()))?;
        Ok(Shard {
            local,
            candidates: vec![candidate],
            limits,
            peers: HashMap::new(),
            by_addr: HashMap::new(),
            tracks: HashMap::new(),
            router: Router::new(now, fastrand::u64(..)),
            router_timeout: now,
            speaker: SpeakerDetector::new(now),
            recorded: HashSet::new(),
            out: VecDeque::new(),
            dirty: Vec::new(),
            renegotiate: Vec::new(),
            nacks: HashMap::new(),
            next_peer: 1,
            next_track: 1,
            counters,
            now,
        })
    }

    /// Also announces a passive ICE-TCP candidate at `announce` (RFC 6544), for clients
    /// whose network blocks UDP; the runtime accepts the connections and frames them.
    pub fn with_tcp(mut self, announce: SocketAddr) -> Result<Shard, SfuError> {
        let tcp = Candidate::builder()
            .tcp()
            .host(announce)
            .tcptype(TcpType::Passive)
            .build()
            .map_err(|e| SfuError::MalformedCandidate(e.to_string()))?;
        self.candidates.push(tcp);
        Ok(self)
    }

    /// The most peers it takes (each may have an ICE-TCP connection).
    pub fn max_peers(&self) -> usize {
        self.limits.max_peers
    }

    /// The next thing to do; [`ShardOutput::Timeout`] when there is nothing until then.
    pub fn poll_output(&mut self) -> ShardOutput {
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        let peers = self
            .peers
            .values()
            .map(|p| p.timeout)
            .fold(self.router_timeout, Instant::min);
        ShardOutput::Timeout(peers.min(self.speaker.poll_timeout()))
    }

    /// Feeds a datagram or the time.
    pub fn handle_input(&mut self, now: Instant, input: ShardInput<'_>) {
        self.now = self.now.max(now);
        match input {
            ShardInput::Datagram {
                protocol,
                source,
                contents,
            } => self.datagram(protocol, source, contents),
            ShardInput::Timeout => self.timeout(),
        }
        self.flush();
    }

    /// Adds a peer; the server offers it the room's tracks at once (an [`SfuEvent::Offer`])
    /// when there are any, and answers its own offer with [`Shard::apply_offer`].
    pub fn add_peer(&mut self, now: Instant, config: PeerConfig) -> Result<PeerId, SfuError> {
        self.now = self.now.max(now);
        if self.peers.len() >= self.limits.max_peers {
            return Err(SfuError::Full);
        }
        let id = PeerId(self.next_peer);
        self.next_peer += 1;
        self.peers
            .insert(id, Peer::new(id, config, &self.candidates, self.now));
        self.dirty.push(id);
        self.route(
            Input::PeerAdded {
                peer: id,
                room: config.room,
            },
            None,
        );
        self.flush();
        Ok(id)
    }

    /// The participant's offer: checked against its allowed sources, then answered.
    pub fn apply_offer(
        &mut self,
        now: Instant,
        peer: PeerId,
        sdp: &str,
        declared: &[(String, Source)],
    ) -> Result<String, SfuError> {
        self.now = self.now.max(now);
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::NoSuchPeer(peer))?;
        let answer = p.apply_offer(sdp, declared)?;
        self.dirty.push(peer);
        self.renegotiate.push(peer);
        self.flush();
        Ok(answer)
    }

    /// The participant's answer to our last offer.
    pub fn apply_answer(&mut self, now: Instant, peer: PeerId, sdp: &str) -> Result<(), SfuError> {
        self.now = self.now.max(now);
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::NoSuchPeer(peer))?;
        let ready = p.apply_answer(sdp)?;
        let connected = p.connected;
        self.dirty.push(peer);
        self.renegotiate.push(peer);
        if connected {
            self.start_streams(peer, ready);
        }
        self.flush();
        Ok(())
    }

    /// A trickled remote ICE candidate (`candidate:...`, with or without `a=`).
    pub fn add_candidate(
        &mut self,
        now: Instant,
        peer: PeerId,
        candidate: &str,
    ) -> Result<(), SfuError> {
        self.now = self.now.max(now);
        let max = self.limits.max_remote_candidates;
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::NoSuchPeer(peer))?;
        p.add_candidate(candidate, max)?;
        self.dirty.push(peer);
        self.flush();
        Ok(())
    }

    /// A subscriber's choice for one track: a quality, or `None` to receive nothing of it.
    pub fn subscribe(
        &mut self,
        now: Instant,
        peer: PeerId,
        track: TrackId,
        quality: Option<Quality>,
    ) -> Result<(), SfuError> {
        self.now = self.now.max(now);
        let p = self.peers.get(&peer).ok_or(SfuError::NoSuchPeer(peer))?;
        let info = self.tracks.get(&track).ok_or(SfuError::NoSuchTrack)?;
        let same_room = self
            .peers
            .get(&info.publisher)
            .is_some_and(|q| q.config.room == p.config.room);
        if info.publisher == peer || !same_room {
            return Err(SfuError::NoSuchTrack);
        }
        self.route(
            Input::Subscribe {
                subscriber: peer,
                track,
                quality,
            },
            None,
        );
        self.flush();
        Ok(())
    }

    /// Mutes or unmutes every track of `source` the peer publishes: a muted track is not
    /// forwarded by the server, whatever the client does.
    pub fn set_muted(
        &mut self,
        now: Instant,
        peer: PeerId,
        source: Source,
        muted: bool,
    ) -> Result<(), SfuError> {
        self.now = self.now.max(now);
        if !self.peers.contains_key(&peer) {
            return Err(SfuError::NoSuchPeer(peer));
        }
        let mut ids: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.publisher == peer && t.source == source)
            .map(|(&id, _)| id)
            .collect();
        ids.sort();
        for track in ids {
            self.route(Input::Muted { track, muted }, None);
        }
        self.flush();
        Ok(())
    }

    /// Changes what a peer may publish (a role change): later offers are checked against
    /// `sources`, and its tracks of a source no longer allowed are muted at once.
    pub fn set_may_publish(
        &mut self,
        now: Instant,
        peer: PeerId,
        sources: Sources,
    ) -> Result<(), SfuError> {
        self.now = self.now.max(now);
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(SfuError::NoSuchPeer(peer))?;
        p.config.may_publish = sources;
        let mut forbidden: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|(_, t)| t.publisher == peer && !sources.contains(t.source))
            .map(|(&id, _)| id)
            .collect();
        forbidden.sort();
        for track in forbidden {
            self.route(Input::Muted { track, muted: true }, None);
        }
        self.flush();
        Ok(())
    }

    /// Closes a peer (left, removed, banned): its tracks stop for everyone.
    pub fn close_peer(&mut self, now: Instant, peer: PeerId) -> Result<(), SfuError> {
        self.now = self.now.max(now);
        if !self.peers.contains_key(&peer) {
            return Err(SfuError::NoSuchPeer(peer));
        }
        self.close(peer, CloseReason::Requested);
        self.flush();
        Ok(())
    }

    /// Closes every peer of a room (the session ended).
    pub fn end_room(&mut self, now: Instant, room: RoomId) {
        self.now = self.now.max(now);
        self.recorded.remove(&room);
        let mut ids: Vec<PeerId> = self
            .peers
            .values()
            .filter(|p| p.config.room == room)
            .map(|p| p.id)
            .collect();
        ids.sort();
        for id in ids {
            self.close(id, CloseReason::RoomEnded);
        }
        self.flush();
    }

    /// Starts (or stops) copying the room's published packets to the recorder
    /// ([`ShardOutput::Record`]). Starting asks every video publisher of the room for a
    /// keyframe, so each video file can begin at once.
    pub fn set_recording(&mut self, now: Instant, room: RoomId, on: bool) {
        self.now = self.now.max(now);
        if !on {
            self.recorded.remove(&room);
            return;
        }
        self.recorded.insert(room);
        let mut video: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|(_, info)| {
                !info.source.is_audio()
                    && self
                        .peers
                        .get(&info.publisher)
                        .is_some_and(|p| p.config.room == room)
            })
            .map(|(&track, _)| track)
            .collect();
        video.sort();
        for track in video {
            self.request_keyframe(track, 0);
        }
        self.flush();
    }

    /// Asks the publisher of `track` for a keyframe of its first layer (the recorder lost
    /// part of a frame).
    pub fn request_recording_keyframe(&mut self, now: Instant, track: TrackId) {
        self.now = self.now.max(now);
        self.request_keyframe(track, 0);
        self.flush();
    }

    /// Tells each subscriber's bandwidth estimator what its subscriptions would use, with a
    /// quarter on top, so it probes up to that instead of holding the starting estimate
    /// (str0m paces at the estimate, so a stream above it would queue).
    fn set_desired_bitrates(&mut self) {
        for (id, wanted) in self.router.wanted_bitrates() {
            if let Some(peer) = self.peers.get_mut(&id) {
                let desired = Bitrate::bps(wanted + wanted / 4).max(MIN_DESIRED);
                peer.rtc.bwe().set_bitrate(Bitrate::ZERO, desired);
                self.dirty.push(id);
            }
        }
    }

    /// `subscriber` can receive `tracks` now: negotiated and connected ([`Input::Ready`]).
    fn start_streams(&mut self, subscriber: PeerId, tracks: Vec<TrackId>) {
        for track in tracks {
            self.route(Input::Ready { subscriber, track }, None);
        }
    }

    /// Refreshes the gauges (peers, tracks, subscriptions).
    fn update_gauges(&self) {
        ShardCounters::set(&self.counters.peers, self.peers.len() as u64);
        ShardCounters::set(&self.counters.tracks, self.tracks.len() as u64);
        ShardCounters::set(
            &self.counters.subscriptions,
            self.router.active_subscriptions() as u64,
        );
    }

    fn datagram(&mut self, protocol: Protocol, source: SocketAddr, contents: &[u8]) {
        let Ok(receive) = Receive::new(protocol, source, self.local, contents) else {
            ShardCounters::add(&self.counters.dropped_datagrams, 1);
            return;
        };
        let input = RtcInput::Receive(self.now, receive);
        let known = self
            .by_addr
            .get(&source)
            .copied()
            .filter(|id| self.peers.get(id).is_some_and(|p| p.rtc.accepts(&input)));
        let Some(id) = known.or_else(|| {
            self.peers
                .values()
                .find(|p| p.rtc.accepts(&input))
                .map(|p| p.id)
        }) else {
            ShardCounters::add(&self.counters.dropped_datagrams, 1);
            return;
        };
        if known.is_none() && self.by_addr.len() < self.limits.max_addresses {
            self.by_addr.insert(source, id);
        }
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        if peer.rtc.handle_input(input).is_err() {
            self.close(id, CloseReason::Failed);
            return;
        }
        self.dirty.push(id);
    }

    fn timeout(&mut self) {
        let now = self.now;
        let mut due: Vec<PeerId> = self
            .peers
            .values()
            .filter(|p| p.timeout <= now)
            .map(|p| p.id)
            .collect();
        due.sort();
        for id in due {
            let Some(peer) = self.peers.get_mut(&id) else {
                continue;
            };
            if peer.connect_timed_out(now) {
                self.close(id, CloseReason::ConnectTimeout);
                continue;
            }
            if peer.rtc.handle_input(RtcInput::Timeout(now)).is_err() {
                self.close(id, CloseReason::Failed);
                continue;
            }
            self.dirty.push(id);
        }
        if self.router_timeout <= now {
            self.route(Input::Timeout, None);
            self.update_gauges();
            self.set_desired_bitrates();
        }
        self.speaker.handle_timeout(now);
        while let Some(c) = self.speaker.poll_change() {
            self.out
                .push_back(ShardOutput::Event(SfuEvent::ActiveSpeaker {
                    room: c.room,
                    participant: c.speaker,
                }));
        }
    }

    /// Drives every peer that has something to do until each waits for time, then sends the
    /// offers that became due.
    fn flush(&mut self) {
        while let Some(id) = self.dirty.pop() {
            self.drive(id);
        }
        self.renegotiate.sort();
        self.renegotiate.dedup();
        for id in std::mem::take(&mut self.renegotiate) {
            let Some(peer) = self.peers.get_mut(&id) else {
                continue;
            };
            if let Some(sdp) = peer.negotiate() {
                let participant = peer.config.participant;
                self.out.push_back(ShardOutput::Event(SfuEvent::Offer {
                    peer: id,
                    participant,
                    sdp,
                }));
                self.drive(id);
            }
        }
    }

    fn drive(&mut self, id: PeerId) {
        loop {
            let Some(peer) = self.peers.get_mut(&id) else {
                return;
            };
            match peer.rtc.poll_output() {
                Ok(RtcOutput::Timeout(t)) => {
                    peer.timeout = t;
                    return;
                }
                Ok(RtcOutput::Transmit(t)) => self.out.push_back(ShardOutput::Transmit(t)),
                Ok(RtcOutput::Event(e)) => self.event(id, e),
                Err(_) => {
                    self.close(id, CloseReason::Failed);
                    return;
                }
            }
        }
    }

    fn event(&mut self, id: PeerId, event: Event) {
        match event {
            Event::Connected => {
                let Some(p) = self.peers.get_mut(&id) else {
                    return;
                };
                p.connected = true;
                let mut ready: Vec<TrackId> = p
                    .outgoing
                    .iter()
                    .filter(|(_, o)| o.ready)
                    .map(|(&t, _)| t)
                    .collect();
                ready.sort();
                self.start_streams(id, ready);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) | Event::Closed => {
                self.close(id, CloseReason::Disconnected)
            }
            Event::MediaAdded(m) if m.direction.is_receiving() => self.publish(id, m.mid),
            Event::MediaChanged(m) => {
                let publishing = self
                    .peers
                    .get(&id)
                    .is_some_and(|p| p.incoming.contains_key(&m.mid));
                match (m.direction.is_receiving(), publishing) {
                    (true, false) => self.publish(id, m.mid),
                    (false, true) => self.unpublish(id, m.mid),
                    _ => {}
                }
            }
            Event::RtpPacket(pkt) => self.forward(id, pkt),
            Event::KeyframeRequest(req) => {
                ShardCounters::add(&self.counters.plis, 1);
                let track = self.peers.get(&id).and_then(|p| {
                    p.outgoing
                        .iter()
                        .find(|(_, o)| o.mid == req.mid)
                        .map(|(&t, _)| t)
                });
                if let Some(track) = track {
                    self.route(
                        Input::KeyframeNeeded {
                            subscriber: id,
                            track,
                        },
                        None,
                    );
                }
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                self.route(
                    Input::Estimate {
                        subscriber: id,
                        bps: estimate.as_u64(),
                    },
                    None,
                );
            }
            Event::MediaEgressStats(s) => {
                let total = self.nacks.entry((id, s.mid, s.rid)).or_default();
                ShardCounters::add(&self.counters.nacks, s.nacks.saturating_sub(*total));
                *total = (*total).max(s.nacks);
            }
            _ => {}
        }
    }

    /// The peer started sending on `mid`: a track, if its offer declared a source for it.
    fn publish(&mut self, id: PeerId, mid: Mid) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(source) = peer.declared(mid) else {
            return;
        };
        let track = TrackId(self.next_track);
        self.next_track += 1;
        peer.add_incoming(mid, track, source);
        let (room, participant) = (peer.config.room, peer.config.participant);
        self.tracks.insert(
            track,
            TrackInfo {
                publisher: id,
                mid,
                source,
            },
        );
        let kind = if source.is_audio() {
            TrackKind::Audio
        } else {
            TrackKind::Video
        };
        self.out
            .push_back(ShardOutput::Event(SfuEvent::TrackPublished {
                room,
                participant,
                track,
                source,
            }));
        self.route(
            Input::TrackAdded {
                track,
                publisher: id,
                kind,
            },
            None,
        );
    }

    fn unpublish(&mut self, id: PeerId, mid: Mid) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(inc) = peer.incoming.remove(&mid) else {
            return;
        };
        let (room, participant) = (peer.config.room, peer.config.participant);
        self.tracks.remove(&inc.track);
        if inc.source.is_audio() {
            self.speaker.remove(room, participant);
        }
        self.out
            .push_back(ShardOutput::Event(SfuEvent::TrackStopped {
                room,
                participant,
                track: inc.track,
                source: inc.source,
            }));
        self.route(Input::TrackRemoved { track: inc.track }, None);
    }

    fn forward(&mut self, id: PeerId, pkt: RtpPacket) {
        ShardCounters::add(&self.counters.received_packets, 1);
        let now = self.now;
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let Some((mid, rid)) = peer
            .rtc
            .direct_api()
            .stream_rx(&pkt.header.ssrc)
            .map(|s| (s.mid(), s.rid()))
        else {
            return;
        };
        let Peer {
            rtc,
            incoming,
            config,
            ..
        } = peer;
        let Some(inc) = incoming.get_mut(&mid) else {
            return;
        };
        let Some(layer) = inc.layer(rid) else { return };
        let (params, codec) = inc.codec(rtc, pkt.header.payload_type);
        let (track, audio) = (inc.track, inc.source.is_audio());
        if audio && let Some(level) = pkt.header.ext_vals.audio_level {
            let dbov = level.unsigned_abs().min(127);
            self.speaker
                .level(config.room, config.participant, dbov, now);
        }
        if layer == 0 && !self.recorded.is_empty() && self.recorded.contains(&config.room) {
            self.out.push_back(ShardOutput::Record(RecordedPacket {
                room: config.room,
                participant: config.participant,
                track,
                source: inc.source,
                codec,
                ssrc: *pkt.header.ssrc,
                seq: pkt.header.sequence_number,
                timestamp: pkt.header.timestamp,
                marker: pkt.header.marker,
                payload: pkt.payload.clone(),
                arrival: pkt.timestamp,
                sender_report: pkt.last_sender_info.map(|sr| SenderReport {
                    wall_clock: sr.ntp_time,
                    rtp_time: sr.rtp_time.numer() as u32,
                }),
            }));
        }
        let keyframe = codec.is_some_and(|c| is_keyframe(c, &pkt.payload));
        let packet = Packet {
            track,
            layer,
            seq: *pkt.seq_no,
            time: pkt.time.numer(),
            keyframe,
            bytes: pkt.payload.len(),
        };
        self.route(Input::Packet(packet), Some((&pkt, params.as_ref(), audio)));
    }

    /// Feeds the router and carries out what it says. `packet` is the one being forwarded,
    /// with its publisher's codec params and whether it is audio.
    fn route(&mut self, input: Input, packet: Option<(&RtpPacket, Option<&PayloadParams>, bool)>) {
        self.router.handle_input(self.now, input);
        loop {
            match self.router.poll_output() {
                Output::Timeout(t) => {
                    self.router_timeout = t;
                    return;
                }
                Output::Forward {
                    subscriber,
                    track,
                    seq,
                    time,
                } => {
                    if let Some((pkt, params, audio)) = packet {
                        self.write(subscriber, track, seq, time, pkt, params, audio);
                    }
                }
                Output::Open { subscriber, track } => self.open(subscriber, track),
                Output::Close { subscriber, track } => {
                    if let Some(p) = self.peers.get_mut(&subscriber) {
                        p.close(track);
                        self.renegotiate.push(subscriber);
                    }
                }
                Output::RequestKeyframe { track, layer } => self.request_keyframe(track, layer),
                Output::Demand { track, used } => {
                    let Some(info) = self.tracks.get(&track) else {
                        continue;
                    };
                    let Some(p) = self.peers.get(&info.publisher) else {
                        continue;
                    };
                    let (room, participant) = (p.config.room, p.config.participant);
                    self.out
                        .push_back(ShardOutput::Event(SfuEvent::TrackDemand {
                            room,
                            participant,
                            track,
                            used,
                        }));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        subscriber: PeerId,
        track: TrackId,
        seq: u64,
        time: u64,
        pkt: &RtpPacket,
        params: Option<&PayloadParams>,
        audio: bool,
    ) {
        let Some(sub) = self.peers.get_mut(&subscriber) else {
            return;
        };
        let Peer { rtc, outgoing, .. } = sub;
        let Some(out) = outgoing.get_mut(&track).filter(|o| o.ready) else {
            return;
        };
        let Some(pt) = out.pt(rtc, pkt.header.payload_type, params) else {
            return;
        };
        let mid = out.mid;
        let mut api = rtc.direct_api();
        let Some(tx) = api.stream_tx_by_mid(mid, None) else {
            return;
        };
        let ext = ExtensionValues {
            audio_level: pkt.header.ext_vals.audio_level,
            voice_activity: pkt.header.ext_vals.voice_activity,
            ..Default::default()
        };
        // RTP timestamps are 32 bits on the wire; the extended value only orders them here.
        let write = RtpWrite::new(
            pt,
            seq.into(),
            time as u32,
            pkt.timestamp,
            pkt.payload.clone(),
        )
        .marker(pkt.header.marker)
        .ext_vals(ext)
        .nackable(!audio);
        tx.write_rtp(write);
        ShardCounters::add(&self.counters.forwarded_packets, 1);
        ShardCounters::add(&self.counters.forwarded_bytes, pkt.payload.len() as u64);
        self.dirty.push(subscriber);
    }

    fn open(&mut self, subscriber: PeerId, track: TrackId) {
        let Some(info) = self.tracks.get(&track).copied() else {
            return;
        };
        let Some(publisher) = self.peers.get(&info.publisher) else {
            return;
        };
        let stream_id = publisher.config.participant.to_string();
        let kind = if info.source.is_audio() {
            MediaKind::Audio
        } else {
            MediaKind::Video
        };
        if let Some(p) = self.peers.get_mut(&subscriber) {
            p.open(ToOpen {
                track,
                kind,
                stream_id,
            });
            self.renegotiate.push(subscriber);
        }
    }

    fn request_keyframe(&mut self, track: TrackId, layer: u8) {
        let Some(info) = self.tracks.get(&track).copied() else {
            return;
        };
        let Some(peer) = self.peers.get_mut(&info.publisher) else {
            return;
        };
        let rid = peer.incoming.get(&info.mid).and_then(|i| i.rid(layer));
        if let Some(rx) = peer.rtc.direct_api().stream_rx_by_mid(info.mid, rid) {
            rx.request_keyframe(KeyframeRequestKind::Pli);
            ShardCounters::add(&self.counters.keyframe_requests, 1);
            self.dirty.push(info.publisher);
        }
    }

    fn close(&mut self, id: PeerId, reason: CloseReason) {
        let Some(mut peer) = self.peers.remove(&id) else {
            return;
        };
        peer.rtc.disconnect();
        let (room, participant) = (peer.config.room, peer.config.participant);
        let mut mids: Vec<Mid> = peer.incoming.keys().copied().collect();
        mids.sort();
        // Put it back just long enough to unpublish its tracks in order.
        self.peers.insert(id, peer);
        for mid in mids {
            self.unpublish(id, mid);
        }
        self.peers.remove(&id);
        self.by_addr.retain(|_, p| *p != id);
        self.nacks.retain(|(p, _, _), _| *p != id);
        self.route(Input::PeerRemoved { peer: id }, None);
        self.out.push_back(ShardOutput::Event(SfuEvent::PeerClosed {
            peer: id,
            room,
            participant,
            reason,
        }));
        self.update_gauges();
    }
}

#[cfg(test)]
mod tests;
