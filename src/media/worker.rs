//! The worker: one task that owns the table of peers and carries out, in order, what the
//! sessions decided and what participants asked, then turns the SFU's events into reports.
//!
//! Who may do what was settled by the session before anything gets here (presence, rate,
//! `subscribe`); the SFU checks every offer against the sources the session allows. The
//! worker keeps the rest of the bookkeeping: which peer is whose, which sources a
//! moderator muted, and which peers outlive their participant's connection for a moment.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use sfu::{
    CloseReason, PeerConfig, PeerId, RoomId, SfuError, SfuEvent, SfuHandle, Source, Sources,
    TrackId,
};
use signaling::protocol::client::{MediaKind, Quality};
use signaling::{ErrorCode, HubError, MediaMessage, MediaRequest, ParticipantId};
use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use crate::hub::media::{MediaDecision, MediaReport, RecordingControl};
use crate::recording::Recorder;

/// Work for the worker, from the sessions.
#[derive(Debug)]
pub(super) enum Work {
    Decide(Uuid, MediaDecision),
    Request(Uuid, MediaRequest),
}

/// A participant in one session.
type Key = (Uuid, ParticipantId);

pub(super) struct Worker {
    sfu: SfuHandle,
    reports: mpsc::Sender<(Uuid, MediaReport)>,
    /// How long a peer outlives its participant's connection.
    grace: Duration,
    /// Present participants and the sources they may publish.
    allowed: HashMap<Key, Sources>,
    peers: HashMap<Key, PeerId>,
    owners: HashMap<PeerId, Key>,
    /// Sources switched off by a moderator or a lost capability, until the owner turns
    /// them on again.
    muted: HashSet<(Key, Source)>,
    /// Peers whose participant left, closed at the instant unless they come back.
    leaving: HashMap<Key, Instant>,
    recorder: Option<Arc<Recorder>>,
}

impl Worker {
    pub(super) fn new(
        sfu: SfuHandle,
        reports: mpsc::Sender<(Uuid, MediaReport)>,
        grace: Duration,
        recorder: Option<Arc<Recorder>>,
    ) -> Worker {
        Worker {
            sfu,
            reports,
            grace,
            allowed: HashMap::new(),
            peers: HashMap::new(),
            owners: HashMap::new(),
            muted: HashSet::new(),
            leaving: HashMap::new(),
            recorder,
        }
    }

    /// Runs until the sessions and the SFU are gone. Decisions are taken before requests
    /// so a request never overtakes the decision stored before it (a join's `Allow`).
    pub(super) async fn run(
        mut self,
        mut decisions: mpsc::UnboundedReceiver<Work>,
        mut requests: mpsc::Receiver<Work>,
        mut events: mpsc::Receiver<SfuEvent>,
    ) {
        loop {
            let next_close = self.leaving.values().min().copied();
            tokio::select! {
                biased;
                Some(work) = decisions.recv() => self.work(work).await,
                Some(work) = requests.recv() => self.work(work).await,
                Some(event) = events.recv() => self.event(event).await,
                _ = sleep_until(next_close) => self.close_departed().await,
                else => return,
            }
        }
    }

    async fn work(&mut self, work: Work) {
        match work {
            Work::Decide(session, decision) => self.decide(session, decision).await,
            Work::Request(session, request) => {
                let key = (session, request.participant);
                let result = self.request(key, request.message).await;
                let reply = MediaReport::Reply {
                    participant: request.participant,
                    reference: request.reference,
                    result,
                };
                self.report(session, reply).await;
            }
        }
    }

    async fn decide(&mut self, session: Uuid, decision: MediaDecision) {
        match decision {
            MediaDecision::Allow {
                participant,
                sources,
            } => {
                let key = (session, participant);
                self.leaving.remove(&key);
                let sources: Vec<Source> = sources.into_iter().map(source_of).collect();
                let allowed = Sources::of(&sources);
                self.allowed.insert(key, allowed);
                if let Some(&peer) = self.peers.get(&key) {
                    for source in [Source::Microphone, Source::Camera, Source::Screen] {
                        if !allowed.contains(source) {
                            self.muted.insert((key, source));
                        }
                    }
                    let _ = self.sfu.set_may_publish(peer, allowed).await;
                }
            }
            MediaDecision::Mute {
                participant,
                source,
            } => {
                let (key, source) = ((session, participant), source_of(source));
                self.muted.insert((key, source));
                if let Some(&peer) = self.peers.get(&key) {
                    let _ = self.sfu.set_muted(peer, source, true).await;
                }
            }
            MediaDecision::Publishing {
                participant,
                sources,
            } => self.unmute((session, participant), sources).await,
            MediaDecision::Left { participant } => {
                let key = (session, participant);
                self.allowed.remove(&key);
                if self.peers.contains_key(&key) {
                    self.leaving.insert(key, Instant::now() + self.grace);
                } else {
                    self.forget(key);
                }
            }
            MediaDecision::Removed { participant, .. } => {
                self.close((session, participant)).await;
            }
            MediaDecision::Record(control) => self.record(session, control).await,
            MediaDecision::Ended => {
                self.record(session, RecordingControl::Stop).await;
                let _ = self.sfu.end_room(RoomId(session.as_u128())).await;
                let keys: Vec<Key> = self
                    .allowed
                    .keys()
                    .chain(self.peers.keys())
                    .copied()
                    .collect();
                for key in keys.into_iter().filter(|(s, _)| *s == session) {
                    self.forget(key);
                }
            }
        }
    }

    /// Starts, pauses, resumes or stops the session's recording: the recorder is ready
    /// before the SFU copies packets to it, and the copying stops before the files close.
    async fn record(&mut self, session: Uuid, control: RecordingControl) {
        let Some(recorder) = self.recorder.clone() else {
            return;
        };
        let room = RoomId(session.as_u128());
        match control {
            RecordingControl::Start { by } => match recorder.start_recording(session, by).await {
                Ok(()) => {
                    let _ = self.sfu.set_recording(room, true).await;
                }
                Err(reason) => {
                    tracing::warn!(%session, %reason, "recording could not start");
                    self.report(session, MediaReport::RecordingFailed { reason })
                        .await;
                }
            },
            RecordingControl::Pause => {
                let _ = self.sfu.set_recording(room, false).await;
                recorder.pause(session, true).await;
            }
            RecordingControl::Resume => {
                recorder.pause(session, false).await;
                let _ = self.sfu.set_recording(room, true).await;
            }
            RecordingControl::Stop => {
                let _ = self.sfu.set_recording(room, false).await;
                // Finishing files and queuing transcripts must not hold up media.
                tokio::spawn(async move { recorder.stop(session).await });
            }
        }
    }

    /// The owner switched sources on: those a moderator muted are forwarded again.
    async fn unmute(&mut self, key: Key, sources: Vec<MediaKind>) {
        let allowed = self.allowed.get(&key).copied().unwrap_or(Sources::NONE);
        for source in sources.into_iter().map(source_of) {
            if allowed.contains(source)
                && self.muted.remove(&(key, source))
                && let Some(&peer) = self.peers.get(&key)
            {
                let _ = self.sfu.set_muted(peer, source, false).await;
            }
        }
    }

    async fn request(
        &mut self,
        key: Key,
        message: MediaMessage,
    ) -> Result<Option<serde_json::Value>, HubError> {
        if !self.allowed.contains_key(&key) {
            return Err(HubError::wrong_state("not present in the session"));
        }
        match message {
            MediaMessage::Join => {
                self.peer(key).await?;
                Ok(None)
            }
            MediaMessage::Offer { sdp, tracks } => {
                let peer = self.peer(key).await?;
                let declared = tracks
                    .into_iter()
                    .map(|(mid, kind)| (mid, source_of(kind)))
                    .collect();
                let answer = self.sfu.apply_offer(peer, sdp, declared).await;
                Ok(Some(json!({ "sdp": answer.map_err(refusal)? })))
            }
            MediaMessage::Answer { sdp } => {
                let peer = self.existing(key)?;
                self.sfu.apply_answer(peer, sdp).await.map_err(refusal)?;
                Ok(None)
            }
            MediaMessage::Candidate { candidate } => {
                let peer = self.existing(key)?;
                self.sfu
                    .add_candidate(peer, candidate)
                    .await
                    .map_err(refusal)?;
                Ok(None)
            }
            MediaMessage::Subscribe { track, quality } => {
                let peer = self.existing(key)?;
                let track = parse_track(&track)?;
                let quality = match quality {
                    Quality::Low => Some(sfu::Quality::Low),
                    Quality::Medium => Some(sfu::Quality::Medium),
                    Quality::High => Some(sfu::Quality::High),
                    Quality::Off => None,
                };
                self.sfu
                    .subscribe(peer, track, quality)
                    .await
                    .map_err(refusal)?;
                Ok(None)
            }
            MediaMessage::Leave => {
                self.close(key).await;
                Ok(None)
            }
        }
    }

    /// The participant's peer, added on first use.
    async fn peer(&mut self, key: Key) -> Result<PeerId, HubError> {
        if let Some(&peer) = self.peers.get(&key) {
            return Ok(peer);
        }
        let config = PeerConfig {
            room: RoomId(key.0.as_u128()),
            participant: sfu::ParticipantId(key.1.0.as_u128()),
            may_publish: self.allowed.get(&key).copied().unwrap_or(Sources::NONE),
        };
        let peer = self.sfu.add_peer(config).await.map_err(refusal)?;
        self.peers.insert(key, peer);
        self.owners.insert(peer, key);
        Ok(peer)
    }

    fn existing(&self, key: Key) -> Result<PeerId, HubError> {
        self.peers.get(&key).copied().ok_or_else(|| {
            HubError::wrong_state("no media peer: send media.offer or media.join first")
        })
    }

    /// Closes the participant's peer now and forgets them.
    async fn close(&mut self, key: Key) {
        if let Some(&peer) = self.peers.get(&key) {
            let _ = self.sfu.close_peer(peer).await;
        }
        self.forget(key);
    }

    fn forget(&mut self, key: Key) {
        if let Some(peer) = self.peers.remove(&key) {
            self.owners.remove(&peer);
        }
        self.allowed.remove(&key);
        self.leaving.remove(&key);
        self.muted.retain(|(k, _)| *k != key);
    }

    /// Closes the peers whose participant did not come back in time.
    async fn close_departed(&mut self) {
        let now = Instant::now();
        let due: Vec<Key> = self
            .leaving
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(key, _)| *key)
            .collect();
        for key in due {
            self.close(key).await;
        }
    }

    async fn event(&mut self, event: SfuEvent) {
        let (session, report) = match event {
            SfuEvent::Offer { peer, sdp, .. } => {
                let Some(&(session, participant)) = self.owners.get(&peer) else {
                    return;
                };
                (session, MediaReport::Offer { participant, sdp })
            }
            SfuEvent::TrackPublished {
                room,
                participant,
                track,
                source,
            } => (
                session_of(room),
                track_report(participant, track, source, true),
            ),
            SfuEvent::TrackStopped {
                room,
                participant,
                track,
                source,
            } => (
                session_of(room),
                track_report(participant, track, source, false),
            ),
            SfuEvent::TrackDemand {
                room,
                participant,
                track,
                used,
            } => {
                let participant = participant_of(participant);
                let track = track.to_string();
                (
                    session_of(room),
                    MediaReport::Demand {
                        participant,
                        track,
                        used,
                    },
                )
            }
            SfuEvent::ActiveSpeaker { room, participant } => {
                let Some(participant) = participant else {
                    return;
                };
                let participant = participant_of(participant);
                (session_of(room), MediaReport::ActiveSpeaker { participant })
            }
            SfuEvent::PeerClosed { peer, reason, .. } => {
                let Some(key) = self.owners.remove(&peer) else {
                    return;
                };
                self.peers.remove(&key);
                self.leaving.remove(&key);
                if reason != CloseReason::Requested && reason != CloseReason::RoomEnded {
                    tracing::info!(session = %key.0, participant = %key.1.0, ?reason, "media peer closed");
                }
                return;
            }
        };
        self.report(session, report).await;
    }

    async fn report(&self, session: Uuid, report: MediaReport) {
        // The hub's side stops only with the server.
        let _ = self.reports.send((session, report)).await;
    }
}

fn track_report(
    participant: sfu::ParticipantId,
    track: TrackId,
    source: Source,
    live: bool,
) -> MediaReport {
    MediaReport::Track {
        participant: participant_of(participant),
        track: track.to_string(),
        source: kind_of(source),
        live,
    }
}

fn session_of(room: RoomId) -> Uuid {
    Uuid::from_u128(room.0)
}

fn participant_of(participant: sfu::ParticipantId) -> ParticipantId {
    ParticipantId(Uuid::from_u128(participant.0))
}

fn source_of(kind: MediaKind) -> Source {
    match kind {
        MediaKind::Audio => Source::Microphone,
        MediaKind::Video => Source::Camera,
        MediaKind::Screen => Source::Screen,
    }
}

fn kind_of(source: Source) -> MediaKind {
    match source {
        Source::Microphone => MediaKind::Audio,
        Source::Camera => MediaKind::Video,
        Source::Screen => MediaKind::Screen,
    }
}

/// `t<number>`, the track id subscribers find in their SDP's `msid`.
fn parse_track(track: &str) -> Result<TrackId, HubError> {
    track
        .strip_prefix('t')
        .and_then(|n| n.parse().ok())
        .map(TrackId)
        .ok_or_else(|| HubError::invalid(format!("`{track}` is not a track id like t3")))
}

/// The hub error a participant sees for an SFU refusal.
fn refusal(error: SfuError) -> HubError {
    let code = match &error {
        SfuError::NotAllowed(_) => ErrorCode::Forbidden,
        SfuError::MalformedSdp(_)
        | SfuError::SdpTooLarge(_)
        | SfuError::UndeclaredTrack { .. }
        | SfuError::WrongKind { .. }
        | SfuError::MalformedCandidate(_) => ErrorCode::Invalid,
        SfuError::NoPendingOffer | SfuError::NoSuchPeer(_) => ErrorCode::WrongState,
        SfuError::TooManyCandidates => ErrorCode::LimitReached,
        SfuError::NoSuchTrack => ErrorCode::NotFound,
        SfuError::Full | SfuError::Stopped => ErrorCode::Unavailable,
    };
    HubError::new(code, error.to_string())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_ids_parse_as_the_sdp_names_them() {
        assert_eq!(parse_track("t3"), Ok(TrackId(3)));
        for bad in ["3", "t", "tx", "t-1", ""] {
            assert_eq!(
                parse_track(bad).unwrap_err().code,
                ErrorCode::Invalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn sfu_refusals_keep_their_meaning_for_the_participant() {
        assert_eq!(
            refusal(SfuError::NotAllowed(Source::Camera)).code,
            ErrorCode::Forbidden
        );
        assert_eq!(
            refusal(SfuError::MalformedSdp("x".into())).code,
            ErrorCode::Invalid
        );
        assert_eq!(
            refusal(SfuError::TooManyCandidates).code,
            ErrorCode::LimitReached
        );
        assert_eq!(refusal(SfuError::Full).code, ErrorCode::Unavailable);
    }
}
