//! The session task against an in-memory log: what it stores, what it delivers, and when.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use signaling::{
    AccountRole, HubError, MediaMessage, MediaRequest, ParticipantId, ParticipantInfo, SessionRole,
    StoredEvent, capabilities_for,
};
use uuid::Uuid;

use super::Hub;
use super::ballot::BallotSecret;
use super::connection::Outgoing;
use super::log::{LoadedSession, LogError, SessionLog};
use super::media::{MediaDecision, MediaEngine, MediaReport, NoMedia};
use super::sink::Connection;
use crate::config::HubConfig;
use signaling::CloseCode;
use signaling::protocol::client::MediaKind;

/// A log in memory (of one session, or of several in the test that says so) that counts
/// its loads and can be told to fail.
#[derive(Clone, Default)]
struct MemoryLog {
    events: Arc<Mutex<Vec<(Uuid, StoredEvent)>>>,
    loads: Arc<Mutex<Vec<Uuid>>>,
    failing: Arc<Mutex<bool>>,
    /// A session whose load never finishes.
    stuck: Option<Uuid>,
}

impl MemoryLog {
    fn seqs(&self) -> Vec<u64> {
        let events = self.events.lock().unwrap();
        events.iter().map(|(_, e)| e.seq).collect()
    }

    fn kinds(&self) -> Vec<&'static str> {
        let events = self.events.lock().unwrap();
        events.iter().map(|(_, e)| e.event.kind()).collect()
    }
}

impl SessionLog for MemoryLog {
    async fn load(&self, session: Uuid) -> Result<LoadedSession, LogError> {
        self.loads.lock().unwrap().push(session);
        if self.stuck == Some(session) {
            std::future::pending::<()>().await;
        }
        // Slow enough that concurrent joins overlap with it.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let events = self.events.lock().unwrap();
        Ok(LoadedSession {
            lobby: false,
            events: events
                .iter()
                .filter(|(id, _)| *id == session)
                .map(|(_, e)| e.clone())
                .collect(),
        })
    }

    async fn append(&self, session: Uuid, events: &[&StoredEvent]) -> Result<(), LogError> {
        if *self.failing.lock().unwrap() {
            return Err(LogError::backend(std::io::Error::other("disk full")));
        }
        let mut stored = self.events.lock().unwrap();
        stored.extend(events.iter().map(|e| (session, (*e).clone())));
        Ok(())
    }
}

fn hub(log: &MemoryLog) -> Hub<MemoryLog> {
    with_media(log, Arc::new(NoMedia))
}

fn with_media(log: &MemoryLog, media: Arc<dyn MediaEngine>) -> Hub<MemoryLog> {
    Hub::new(
        log.clone(),
        media,
        BallotSecret::derive(b"0123456789abcdef0123456789abcdef"),
        &HubConfig::default(),
    )
}

fn participant(name: &str) -> ParticipantInfo {
    ParticipantInfo {
        participant: ParticipantId(Uuid::new_v4()),
        name: name.into(),
        account: AccountRole::User,
        role: SessionRole::Participant,
        capabilities: capabilities_for(AccountRole::User, SessionRole::Participant),
        hidden: false,
    }
}

/// Connects `who` to `session` and reads its welcome.
async fn welcomed(hub: &Hub<MemoryLog>, session: Uuid, who: ParticipantInfo) -> Connection {
    let mut connection = hub.connect(session, who, None).await.unwrap();
    assert_eq!(next_json(&mut connection).await["type"], "welcome");
    connection
}

async fn next_json(connection: &mut Connection) -> Value {
    match connection.outbox.recv().await {
        Outgoing::Frame(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Outgoing::Close(code) => panic!("closed with {code:?}"),
    }
}

/// A connection's carrier is anything that drains its outbox: here the test, in a cluster a
/// node forwarding a client connected elsewhere. Every event frame it receives is already
/// in the log; when the log fails, nothing of the unstored event goes out.
#[tokio::test]
async fn connections_receive_only_what_the_log_has_stored() {
    let log = MemoryLog::default();
    let hub = hub(&log);
    let session = Uuid::new_v4();
    let mut ann = welcomed(&hub, session, participant("Ann")).await;

    ann.sink
        .send(br#"{"type":"chat.send","id":1,"text":"hello"}"#.as_slice().into())
        .await
        .unwrap();
    let mut events = 0;
    while events < 1 {
        let frame = next_json(&mut ann).await;
        if frame["type"] == "event" {
            let seq = frame["seq"].as_u64().unwrap();
            assert!(log.seqs().contains(&seq), "event {seq} sent before stored");
            events += 1;
        }
    }
    assert_eq!(log.kinds(), ["participant.joined", "chat.posted"]);

    *log.failing.lock().unwrap() = true;
    ann.sink
        .send(br#"{"type":"chat.send","id":2,"text":"lost"}"#.as_slice().into())
        .await
        .unwrap();
    loop {
        match ann.outbox.recv().await {
            Outgoing::Frame(bytes) => {
                let frame: Value = serde_json::from_slice(&bytes).unwrap();
                assert_ne!(frame["type"], "event", "unstored event delivered: {frame}");
            }
            Outgoing::Close(code) => {
                assert_eq!(code, CloseCode::Resync);
                break;
            }
        }
    }
    assert_eq!(log.seqs(), [1, 2]);
}

/// Shutting down closes every connection with 4501 after storing its departure, and a
/// connection attempt afterwards is told the same.
#[tokio::test]
async fn shutdown_stores_departures_and_closes_with_restarting() {
    let log = MemoryLog::default();
    let hub = hub(&log);
    let session = Uuid::new_v4();
    let mut ann = welcomed(&hub, session, participant("Ann")).await;

    hub.shutdown().await;
    assert_eq!(
        ann.outbox.recv().await,
        Outgoing::Close(CloseCode::Restarting)
    );
    assert_eq!(log.kinds(), ["participant.joined", "participant.left"]);
    assert_eq!(hub.running_sessions(), 0);
    let refused = hub.connect(session, participant("Bob"), None).await;
    assert!(matches!(refused, Err(CloseCode::Restarting)));
}

/// A session whose log never loads holds up no other session, and three joins racing for
/// each session still load it once (one task each).
#[tokio::test]
async fn sessions_open_independently_with_one_task_each() {
    let stuck = Uuid::new_v4();
    let log = MemoryLog {
        stuck: Some(stuck),
        ..MemoryLog::default()
    };
    let hub = hub(&log);
    let waiting = tokio::spawn({
        let hub = hub.clone();
        async move { hub.connect(stuck, participant("Stuck"), None).await.is_ok() }
    });
    let sessions: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
    let mut joins = Vec::new();
    for session in sessions.iter().chain(&sessions).chain(&sessions) {
        let (hub, session) = (hub.clone(), *session);
        joins.push(tokio::spawn(async move {
            hub.connect(session, participant("P"), None).await.is_ok()
        }));
    }
    for join in joins {
        assert!(join.await.unwrap());
    }
    assert!(!waiting.is_finished());
    let mut loads = log.loads.lock().unwrap().clone();
    loads.sort();
    let mut expected = sessions.clone();
    expected.push(stuck);
    expected.sort();
    assert_eq!(loads, expected);
    assert_eq!(hub.running_sessions(), sessions.len() + 1);
}

/// A media engine that records what it is told and asked.
#[derive(Default)]
struct RecordingMedia(Mutex<Vec<MediaDecision>>, Mutex<Vec<MediaRequest>>);

impl MediaEngine for RecordingMedia {
    fn decide(&self, _session: Uuid, decision: MediaDecision) {
        self.0.lock().unwrap().push(decision);
    }

    fn request(&self, _session: Uuid, request: MediaRequest) -> Result<(), HubError> {
        self.1.lock().unwrap().push(request);
        Ok(())
    }
}

fn host(name: &str) -> ParticipantInfo {
    ParticipantInfo {
        role: SessionRole::Host,
        capabilities: capabilities_for(AccountRole::Premium, SessionRole::Host),
        ..participant(name)
    }
}

/// A host's mute request reaches the media engine (after the join allowed the host every
/// source and the participant none), and a track the engine reports becomes a stored
/// `media.changed` event that participants receive; a speaker becomes a signal.
#[tokio::test]
async fn the_media_engine_hears_decisions_and_its_reports_become_events() {
    let log = MemoryLog::default();
    let media = Arc::new(RecordingMedia::default());
    let hub = with_media(&log, media.clone());
    let session = Uuid::new_v4();
    let (host_info, ann_info) = (host("Host"), participant("Ann"));
    let (host_id, ann_id) = (host_info.participant, ann_info.participant);
    let host = welcomed(&hub, session, host_info).await;
    let mut ann = welcomed(&hub, session, ann_info).await;

    let mute = format!(
        r#"{{"type":"mod.mute_request","id":1,"participant":"{}","media":"audio"}}"#,
        ann_id.0
    );
    host.sink.send(mute.into_bytes().into()).await.unwrap();
    let asked = next_json(&mut ann).await;
    assert_eq!(asked["event"]["kind"], "mod.mute_requested", "{asked}");
    assert_eq!(
        *media.0.lock().unwrap(),
        [
            MediaDecision::Allow {
                participant: host_id,
                sources: vec![MediaKind::Audio, MediaKind::Video, MediaKind::Screen],
            },
            MediaDecision::Allow {
                participant: ann_id,
                sources: vec![],
            },
            MediaDecision::Mute {
                participant: ann_id,
                source: MediaKind::Audio,
            },
        ]
    );

    let published = MediaReport::Track {
        participant: host_id,
        track: "t1".into(),
        source: MediaKind::Screen,
        live: true,
    };
    hub.media_report(session, published).await;
    let track = next_json(&mut ann).await;
    assert_eq!(track["signal"]["kind"], "media.track", "{track}");
    assert_eq!(track["signal"]["source"], "screen", "{track}");
    let changed = next_json(&mut ann).await;
    assert_eq!(changed["event"]["kind"], "media.changed", "{changed}");
    assert_eq!(changed["event"]["screen"], true);
    assert_eq!(log.kinds().last(), Some(&"media.changed"));
    // Ann may not publish: a report of her track (an engine's mistake) changes nothing.
    let refused = MediaReport::Track {
        participant: ann_id,
        track: "t2".into(),
        source: MediaKind::Video,
        live: true,
    };
    hub.media_report(session, refused).await;
    let speaking = MediaReport::ActiveSpeaker {
        participant: host_id,
    };
    hub.media_report(session, speaking).await;
    let signal = next_json(&mut ann).await;
    assert_eq!(signal["signal"]["kind"], "media.speaking", "{signal}");
    assert_eq!(log.kinds().last(), Some(&"media.changed"));
}

/// A `media.*` message reaches the engine with its request id, and the engine's answer comes
/// back as the ack; without an engine the message is refused at once.
#[tokio::test]
async fn media_requests_are_answered_by_the_engine_or_refused_without_one() {
    let log = MemoryLog::default();
    let media = Arc::new(RecordingMedia::default());
    let hub = with_media(&log, media.clone());
    let session = Uuid::new_v4();
    let ann_info = participant("Ann");
    let ann_id = ann_info.participant;
    let mut ann = welcomed(&hub, session, ann_info).await;
    let join = br#"{"type":"media.join","id":9}"#.to_vec();
    ann.sink.send(join.into()).await.unwrap();
    let request = wait_for_request(&media).await;
    assert_eq!(request.participant, ann_id);
    assert_eq!(request.message, MediaMessage::Join);
    let reply = MediaReport::Reply {
        participant: ann_id,
        reference: request.reference,
        result: Ok(None),
    };
    hub.media_report(session, reply).await;
    assert_eq!(
        next_json(&mut ann).await,
        serde_json::json!({"type": "ack", "ref": 9})
    );

    let plain = super::tests::hub(&log);
    let mut bob = welcomed(&plain, Uuid::new_v4(), participant("Bob")).await;
    let join = br#"{"type":"media.join","id":1}"#.to_vec();
    bob.sink.send(join.into()).await.unwrap();
    let refused = next_json(&mut bob).await;
    assert_eq!(refused["code"], "unavailable", "{refused}");
}

async fn wait_for_request(media: &RecordingMedia) -> MediaRequest {
    for _ in 0..200 {
        if let Some(request) = media.1.lock().unwrap().pop() {
            return request;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no media request within 2 s");
}
