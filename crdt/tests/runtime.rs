//! The room runtime with the in-memory store: real tasks and channels, simulated time.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use crdt::{
    Access, CloseCode, Connection, MemoryStore, NoteId, NoteStore, Outgoing, Rooms, RoomsConfig,
    RoomsError, Snapshot, StoreError, StoredNote, UpdateFeed, UserId,
};
use support::{YClient, is_doc_update};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{sleep, timeout};

/// A client connected through the runtime, answering the room like the npm provider.
struct Remote {
    client: YClient,
    conn: Connection,
}

impl Remote {
    async fn join<S: NoteStore>(
        rooms: &Rooms<S>,
        note: &NoteId,
        user: &str,
        access: Access,
    ) -> Remote {
        let conn = rooms
            .connect(note, UserId::from(user), access)
            .await
            .expect("joins");
        let mut remote = Remote {
            client: YClient::new(),
            conn,
        };
        for frame in remote.client.hello() {
            remote.send(frame).await;
        }
        remote.pump_until(|c| c.synced).await;
        remote
    }

    async fn send(&self, frame: Bytes) {
        self.conn.sink.send(frame).await.expect("room alive");
    }

    async fn append(&mut self, chunk: &str) {
        let frame = self.client.append(chunk);
        self.send(frame).await;
    }

    /// The next thing the room wrote, if any within `within`.
    async fn next(&mut self, within: Duration) -> Option<Outgoing> {
        timeout(within, self.conn.outbox.recv()).await.ok()
    }

    /// Reads and answers frames until `done` holds; panics on close or after 5 s.
    async fn pump_until(&mut self, done: impl Fn(&YClient) -> bool) {
        while !done(&self.client) {
            match self.next(Duration::from_secs(5)).await {
                Some(Outgoing::Frame(frame)) => {
                    for reply in self.client.handle(&frame) {
                        self.send(reply).await;
                    }
                }
                other => panic!("expected a frame, got {other:?}"),
            }
        }
    }

    /// The close code the room sends next, skipping frames; panics after 5 s.
    async fn closed_with(&mut self) -> CloseCode {
        loop {
            match self.next(Duration::from_secs(5)).await {
                Some(Outgoing::Frame(_)) => continue,
                Some(Outgoing::Close(code)) => return code,
                None => panic!("not closed within 5 s"),
            }
        }
    }
}

fn note_in(store: &MemoryStore, id: &str) -> NoteId {
    let note = NoteId::from(id);
    store.create_note(&note);
    note
}

#[tokio::test(start_paused = true)]
async fn clients_converge_and_rest_reads_the_text() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut bob = Remote::join(&rooms, &note, "bob", Access::Write).await;

    ann.append("hello").await;
    bob.pump_until(|c| c.text() == "hello").await;
    bob.append(" world").await;
    ann.pump_until(|c| c.text() == "hello world").await;

    assert_eq!(rooms.text(&note).await.unwrap(), "hello world");
    assert_eq!(store.update_count(&note), 2);
    // The store's plain-text view follows within a second.
    sleep(Duration::from_secs(2)).await;
    assert_eq!(store.text(&note).as_deref(), Some("hello world"));
}

#[tokio::test(start_paused = true)]
async fn a_loaded_room_saves_its_text_when_asked_and_an_unloaded_one_is_not_loaded() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    rooms.save_loaded_text(&note).await.unwrap();
    assert_eq!(rooms.loaded_rooms(), 0);
    assert_eq!(store.text(&note).as_deref(), Some(""));

    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    ann.append("typed").await;
    rooms.text(&note).await.unwrap(); // the room has taken the edit
    // Without waiting for the room's next save (simulated time stands still).
    assert_eq!(store.text(&note).as_deref(), Some(""));
    rooms.save_loaded_text(&note).await.unwrap();
    assert_eq!(store.text(&note).as_deref(), Some("typed"));
}

/// A store whose appends wait for a permit, or fail when told to; text saves and
/// compactions wait for a permit of their own (plenty unless a test takes them away).
#[derive(Clone)]
struct GatedStore {
    inner: MemoryStore,
    permits: Arc<Semaphore>,
    upkeep_permits: Arc<Semaphore>,
    fail: Arc<AtomicBool>,
    appends: Arc<AtomicUsize>,
}

impl GatedStore {
    async fn upkeep_gate(&self) {
        self.upkeep_permits
            .acquire()
            .await
            .expect("gate open")
            .forget();
    }
}

impl NoteStore for GatedStore {
    async fn load(&self, note: &NoteId) -> Result<StoredNote, StoreError> {
        self.inner.load(note).await
    }

    async fn append(&self, note: &NoteId, updates: &[Bytes]) -> Result<u64, StoreError> {
        self.permits.acquire().await.expect("gate open").forget();
        self.appends.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("disk full".into()));
        }
        self.inner.append(note, updates).await
    }

    async fn save_text(
        &self,
        note: &NoteId,
        text: &str,
        through_seq: u64,
    ) -> Result<(), StoreError> {
        self.upkeep_gate().await;
        self.inner.save_text(note, text, through_seq).await
    }

    async fn compact(&self, note: &NoteId, snapshot: Snapshot) -> Result<(), StoreError> {
        self.upkeep_gate().await;
        self.inner.compact(note, snapshot).await
    }
}

fn gated() -> (GatedStore, NoteId) {
    let inner = MemoryStore::new();
    let note = note_in(&inner, "gated");
    let store = GatedStore {
        inner,
        permits: Arc::new(Semaphore::new(0)),
        upkeep_permits: Arc::new(Semaphore::new(Semaphore::MAX_PERMITS)),
        fail: Arc::new(AtomicBool::new(false)),
        appends: Arc::new(AtomicUsize::new(0)),
    };
    (store, note)
}

#[tokio::test(start_paused = true)]
async fn updates_are_stored_before_anyone_receives_them() {
    let (store, note) = gated();
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut bob = Remote::join(&rooms, &note, "bob", Access::Write).await;

    ann.append("durable").await;
    assert_eq!(
        bob.next(Duration::from_secs(2)).await,
        None,
        "relayed before stored"
    );
    assert_eq!(store.inner.update_count(&note), 0);

    store.permits.add_permits(1);
    let Some(Outgoing::Frame(frame)) = bob.next(Duration::from_secs(5)).await else {
        panic!("update relayed once stored");
    };
    assert!(is_doc_update(&frame));
    assert_eq!(store.inner.update_count(&note), 1);
}

/// What a cluster's publisher would send to the other nodes: every stored update.
struct Published(mpsc::UnboundedSender<(NoteId, Vec<Bytes>)>);

impl UpdateFeed for Published {
    fn persisted(&self, note: &NoteId, updates: &[Bytes], _last_seq: u64) {
        let _ = self.0.send((note.clone(), updates.to_vec()));
    }
}

#[tokio::test(start_paused = true)]
async fn an_update_stored_on_one_node_reaches_the_other_nodes_clients_and_is_stored_once() {
    let (store, note) = gated();
    let (publish, mut published) = mpsc::unbounded_channel();
    let config = RoomsConfig::default();
    let node1 = Rooms::with_feed(store.clone(), config.clone(), Arc::new(Published(publish)));
    let node2 = Rooms::new(store.inner.clone(), config);
    let mut ann = Remote::join(&node1, &note, "ann", Access::Write).await;
    let mut rita = Remote::join(&node2, &note, "rita", Access::Read).await;

    ann.append("typed on node 1").await;
    sleep(Duration::from_secs(2)).await;
    assert!(published.try_recv().is_err(), "published before stored");

    store.permits.add_permits(1);
    let (stored, updates) = published.recv().await.expect("published once stored");
    assert_eq!(store.inner.update_count(&note), 1);
    for update in updates {
        node2.apply_remote(&stored, update).await.expect("applies");
    }
    rita.pump_until(|c| c.text() == "typed on node 1").await;
    assert_eq!(node2.text(&note).await.unwrap(), "typed on node 1");
    assert_eq!(store.inner.update_count(&note), 1, "not stored again");

    let garbage = Bytes::from_static(&[9, 9, 9]);
    let refused = node2.apply_remote(&note, garbage).await;
    assert!(
        matches!(refused, Err(RoomsError::Corrupt(_))),
        "{refused:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn frames_queued_together_are_stored_and_relayed_as_one_update() {
    let (store, note) = gated();
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut bob = Remote::join(&rooms, &note, "bob", Access::Write).await;

    ann.append("a").await;
    sleep(Duration::from_millis(10)).await; // the room now waits at the gate with "a"
    for chunk in ["b", "c", "d", "e"] {
        ann.append(chunk).await; // queue up behind it
    }
    store.permits.add_permits(10);
    let mut relayed = Vec::new();
    while relayed.len() < 2 {
        let Some(Outgoing::Frame(frame)) = bob.next(Duration::from_secs(5)).await else {
            panic!("bob gets the edits");
        };
        if is_doc_update(&frame) {
            bob.client.handle(&frame);
            relayed.push(frame);
        }
    }
    assert_eq!(
        bob.client.text(),
        "abcde",
        "\"a\" alone, then \"bcde\" merged"
    );
    assert_eq!(store.appends.load(Ordering::SeqCst), 2);
    assert_eq!(store.inner.update_count(&note), 2);
}

#[tokio::test(start_paused = true)]
async fn edits_are_relayed_while_a_snapshot_is_being_written() {
    let (mut store, note) = gated();
    store.permits.add_permits(100);
    store.upkeep_permits = Arc::new(Semaphore::new(0));
    let config = RoomsConfig {
        compact_after_updates: 2,
        save_text_every: Duration::from_secs(3600), // only compactions take the gate
        ..Default::default()
    };
    let rooms = Rooms::new(store.clone(), config);
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut bob = Remote::join(&rooms, &note, "bob", Access::Read).await;

    // The compaction after "b" waits at its gate; "c" and "d" do not wait for it.
    let typing = async {
        for chunk in ["a", "b", "c", "d"] {
            ann.append(chunk).await;
            rooms.text(&note).await.unwrap(); // one stored update each
        }
    };
    timeout(Duration::from_secs(5), typing)
        .await
        .expect("the room answers while its compaction waits");
    bob.pump_until(|c| c.text() == "abcd").await;
    assert_eq!(store.inner.update_count(&note), 4);
    assert!(store.inner.snapshot(&note).is_none());

    store.upkeep_permits.add_permits(1);
    while store.inner.snapshot(&note).is_none() {
        sleep(Duration::from_millis(10)).await;
    }
    let snapshot = store.inner.snapshot(&note).unwrap();
    assert_eq!((snapshot.through_seq, snapshot.text.as_str()), (2, "ab"));
    assert_eq!(
        store.inner.update_count(&note),
        2,
        "\"c\" and \"d\" stay in the log"
    );

    // The next store starts the next compaction, which takes in what the first left.
    store.upkeep_permits.add_permits(1);
    ann.append("e").await;
    bob.pump_until(|c| c.text() == "abcde").await;
    while store.inner.snapshot(&note).unwrap().through_seq < 5 {
        sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(store.inner.update_count(&note), 0);
    assert_eq!(store.inner.snapshot(&note).unwrap().text, "abcde");
}

#[tokio::test(start_paused = true)]
async fn failed_store_closes_everyone_4502_and_relays_nothing() {
    let (store, note) = gated();
    store.permits.add_permits(100);
    store.fail.store(true, Ordering::SeqCst);
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut bob = Remote::join(&rooms, &note, "bob", Access::Write).await;

    ann.append("lost?").await;
    assert_eq!(ann.closed_with().await, CloseCode::StorageFailed);
    assert_eq!(
        bob.next(Duration::from_secs(5)).await,
        Some(Outgoing::Close(CloseCode::StorageFailed))
    );
    assert_eq!(bob.client.text(), "");

    // The client still holds its edit and resends it on reconnect.
    store.fail.store(false, Ordering::SeqCst);
    let retry = rooms
        .connect(&note, UserId::from("ann"), Access::Write)
        .await
        .unwrap();
    let mut ann = Remote {
        client: ann.client,
        conn: retry,
    };
    ann.client.synced = false;
    for frame in ann.client.hello() {
        ann.send(frame).await;
    }
    ann.pump_until(|c| c.synced).await;
    assert_eq!(rooms.text(&note).await.unwrap(), "lost?");
}

#[tokio::test(start_paused = true)]
async fn rest_replacement_reaches_connected_clients_and_loads_idle_notes() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let idle = note_in(&store, "n2");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Read).await;

    rooms
        .replace_text(&note, "# From REST\n".into())
        .await
        .unwrap();
    assert_eq!(
        store.update_count(&note),
        1,
        "stored before replace_text returns"
    );
    assert_eq!(
        store.text(&note).as_deref(),
        Some("# From REST\n"),
        "a REST caller reads its own write"
    );
    ann.pump_until(|c| c.text() == "# From REST\n").await;

    rooms.replace_text(&idle, "cold".into()).await.unwrap();
    assert_eq!(rooms.text(&idle).await.unwrap(), "cold");
}

#[tokio::test(start_paused = true)]
async fn a_room_loaded_after_a_crash_catches_its_text_up_with_the_log() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    // A process that stored an update and died before its next text save.
    let update = Bytes::from(crdt::seed_update("typed before the crash"));
    store.append(&note, &[update]).await.unwrap();
    assert_eq!(store.text(&note).as_deref(), Some(""));

    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let _ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    assert_eq!(store.text(&note).as_deref(), Some("typed before the crash"));
}

#[tokio::test(start_paused = true)]
async fn oversized_rest_replacement_is_refused() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let config = RoomsConfig {
        limits: crdt::Limits {
            max_document_bytes: 100,
            ..Default::default()
        },
        ..Default::default()
    };
    let rooms = Rooms::new(store.clone(), config);
    let result = rooms.replace_text(&note, "x".repeat(200)).await;
    assert_eq!(result, Err(RoomsError::DocumentTooLarge { limit: 100 }));
    assert_eq!(rooms.text(&note).await.unwrap(), "");
}

/// A note whose room holds `typed`, typed by "ann", who stays connected.
async fn typed_note(typed: &str) -> (MemoryStore, NoteId, Rooms<MemoryStore>, Remote) {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    ann.append(typed).await;
    rooms.text(&note).await.unwrap(); // the room has taken the edit
    (store, note, rooms, ann)
}

#[tokio::test(start_paused = true)]
async fn a_held_replacement_is_refused_once_the_text_moved_and_applied_while_it_has_not() {
    let (store, note, rooms, mut ann) = typed_note("typed live").await;

    let stale = rooms.hold_text(&note, String::new()).await;
    assert_eq!(stale.err(), Some(RoomsError::TextChanged));
    assert_eq!(rooms.text(&note).await.unwrap(), "typed live");

    let hold = rooms.hold_text(&note, "typed live".into()).await.unwrap();
    hold.replace("from REST".into()).await.unwrap();
    assert_eq!(
        store.text(&note).as_deref(),
        Some("from REST"),
        "stored before replace returns"
    );
    ann.pump_until(|c| c.text() == "from REST").await;
}

#[tokio::test(start_paused = true)]
async fn a_live_edit_sent_while_the_room_is_held_lands_after_the_replacement() {
    let (_store, note, rooms, mut ann) = typed_note("draft").await;

    let hold = rooms.hold_text(&note, "draft".into()).await.unwrap();
    ann.append(" and more").await;
    // Time enough for the room to take the edit, were it not held. Had it taken it, the
    // replacement (from "draft and more" to "final") would delete it.
    sleep(Duration::from_millis(100)).await;
    hold.replace("final".into()).await.unwrap();

    // Both inserts sit where "draft" was; Yjs orders two inserts at one place by client id.
    let text = rooms.text(&note).await.unwrap();
    assert!(
        ["final and more", " and morefinal"].contains(&text.as_str()),
        "the live edit survives: {text:?}"
    );
    ann.pump_until(|c| c.text() == text).await;
}

#[tokio::test(start_paused = true)]
async fn a_hold_ends_when_dropped_or_after_five_seconds_without_changing_anything() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());

    drop(rooms.hold_text(&note, String::new()).await.unwrap());
    assert_eq!(rooms.text(&note).await.unwrap(), "");

    let forgotten = rooms.hold_text(&note, String::new()).await.unwrap();
    let started = tokio::time::Instant::now();
    let text = timeout(Duration::from_secs(6), rooms.text(&note)).await;
    assert_eq!(text.expect("released within 6 s").unwrap(), "");
    assert!(started.elapsed() >= Duration::from_secs(5));
    assert_eq!(
        forgotten.replace("too late".into()).await,
        Err(RoomsError::Unavailable)
    );
    assert_eq!(rooms.text(&note).await.unwrap(), "");
    assert_eq!(store.update_count(&note), 0);
}

#[tokio::test(start_paused = true)]
async fn update_log_is_compacted_after_n_updates() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let config = RoomsConfig {
        compact_after_updates: 5,
        ..Default::default()
    };
    let rooms = Rooms::new(store.clone(), config.clone());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    for i in 0..12 {
        ann.append(&i.to_string()).await;
        rooms.text(&note).await.unwrap(); // one update per append, not one batch
    }
    let text = rooms.text(&note).await.unwrap();
    assert_eq!(text, "01234567891011");

    let snapshot = store.snapshot(&note).expect("compacted");
    assert_eq!(snapshot.through_seq, 10);
    assert_eq!(snapshot.text, "0123456789");
    assert_eq!(store.update_count(&note), 2);

    let elsewhere = Rooms::new(store.clone(), config);
    assert_eq!(elsewhere.text(&note).await.unwrap(), text);
}

/// A store whose compactions always fail, counting the attempts.
#[derive(Clone, Default)]
struct NoCompaction {
    inner: MemoryStore,
    attempts: Arc<AtomicUsize>,
}

impl NoteStore for NoCompaction {
    async fn load(&self, note: &NoteId) -> Result<StoredNote, StoreError> {
        self.inner.load(note).await
    }

    async fn append(&self, note: &NoteId, updates: &[Bytes]) -> Result<u64, StoreError> {
        self.inner.append(note, updates).await
    }

    async fn save_text(&self, note: &NoteId, text: &str, seq: u64) -> Result<(), StoreError> {
        self.inner.save_text(note, text, seq).await
    }

    async fn compact(&self, _note: &NoteId, _snapshot: Snapshot) -> Result<(), StoreError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        Err(StoreError::Backend("read-only".into()))
    }
}

/// Real time: with the bug this guards against, the room retried at once, forever, and
/// simulated time would never move on.
#[tokio::test]
async fn a_failing_idle_compaction_is_retried_after_a_pause_not_at_once() {
    let store = NoCompaction::default();
    let note = note_in(&store.inner, "n1");
    let config = RoomsConfig {
        compact_when_idle: Duration::from_millis(50),
        ..Default::default()
    };
    let rooms = Rooms::new(store.clone(), config);
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    ann.append("kept in the log").await;
    rooms.text(&note).await.unwrap();
    sleep(Duration::from_millis(500)).await;
    let attempts = store.attempts.load(Ordering::SeqCst);
    assert!(
        (1..=15).contains(&attempts),
        "{attempts} compactions in 0.5 s"
    );
    assert_eq!(
        store.inner.update_count(&note),
        1,
        "the log is still complete"
    );
}

#[tokio::test(start_paused = true)]
async fn idle_room_unloads_and_reloads_with_its_text() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let config = RoomsConfig {
        unload_after: Duration::from_secs(5),
        ..Default::default()
    };
    let rooms = Rooms::new(store.clone(), config);
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    ann.append("kept").await;
    assert_eq!(rooms.text(&note).await.unwrap(), "kept");
    drop(ann);

    sleep(Duration::from_secs(3)).await;
    assert_eq!(rooms.loaded_rooms(), 1, "not idle long enough");
    sleep(Duration::from_secs(4)).await;
    assert_eq!(rooms.loaded_rooms(), 0);
    assert_eq!(store.update_count(&note), 0, "compacted on unload");
    assert_eq!(store.snapshot(&note).unwrap().text, "kept");

    let mut bob = Remote::join(&rooms, &note, "bob", Access::Read).await;
    assert_eq!(bob.client.text(), "kept");
    assert_eq!(rooms.loaded_rooms(), 1);
    bob.pump_until(|c| c.synced).await;
}

/// Rooms over one note whose connections queue at most `frames` outgoing frames.
fn rooms_queueing(frames: usize) -> (Rooms<MemoryStore>, NoteId) {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let config = RoomsConfig {
        outgoing_queue: frames,
        ..Default::default()
    };
    (Rooms::new(store, config), note)
}

#[tokio::test(start_paused = true)]
async fn slow_consumer_is_closed_4500_and_its_queue_stays_bounded() {
    let (rooms, note) = rooms_queueing(8);
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let slow = Remote::join(&rooms, &note, "sam", Access::Read).await;

    for i in 0..40 {
        ann.append(&format!("line {i}\n")).await;
        rooms.text(&note).await.unwrap(); // let the room deliver before checking
        assert!(
            slow.conn.outbox.queued() <= 8,
            "queue grew to {}",
            slow.conn.outbox.queued()
        );
    }
    let mut slow = slow;
    assert_eq!(
        slow.conn.outbox.recv().await,
        Outgoing::Close(CloseCode::SlowConsumer)
    );

    // The room keeps serving everyone else.
    let carl = Remote::join(&rooms, &note, "carl", Access::Read).await;
    assert_eq!(carl.client.text(), rooms.text(&note).await.unwrap());
    assert!(carl.client.text().ends_with("line 39\n"));
}

#[tokio::test(start_paused = true)]
async fn queued_frames_are_taken_without_waiting_and_a_close_goes_first() {
    let (rooms, note) = rooms_queueing(4);
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut bob = Remote::join(&rooms, &note, "bob", Access::Read).await;

    for line in ["one\n", "two\n", "three\n"] {
        ann.append(line).await;
        rooms.text(&note).await.unwrap(); // let the room deliver
    }
    let queued: Vec<Bytes> = std::iter::from_fn(|| bob.conn.outbox.try_frame()).collect();
    assert_eq!(queued.len(), 3);
    for frame in &queued {
        assert!(is_doc_update(frame));
        bob.client.handle(frame);
    }
    assert_eq!(bob.client.text(), "one\ntwo\nthree\n");
    assert_eq!(bob.conn.outbox.try_frame(), None);

    // Bob falls 5 updates behind a queue of 4: closed, and the close is read before the
    // frames still queued.
    for i in 0..5 {
        ann.append(&format!("line {i}\n")).await;
        rooms.text(&note).await.unwrap();
    }
    assert_eq!(bob.conn.outbox.try_frame(), None);
    assert_eq!(
        bob.conn.outbox.recv().await,
        Outgoing::Close(CloseCode::SlowConsumer)
    );
}

#[tokio::test(start_paused = true)]
async fn access_changes_apply_to_live_connections() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    let mut gus = Remote::join(&rooms, &note, "gus", Access::Write).await;
    let mut hal = Remote::join(&rooms, &note, "hal", Access::Write).await;

    rooms.set_access(&note, &UserId::from("gus"), None).await;
    let revoked = gus.next(Duration::from_secs(1)).await;
    assert_eq!(revoked, Some(Outgoing::Close(CloseCode::NoAccess)));

    rooms
        .set_access(&note, &UserId::from("hal"), Some(Access::Read))
        .await;
    hal.pump_until(|c| !c.denied.is_empty()).await;
    hal.append("ignored").await;
    ann.append("kept").await;
    hal.pump_until(|c| c.text().contains("kept")).await;
    assert_eq!(rooms.text(&note).await.unwrap(), "kept");
    assert_eq!(ann.client.text(), "kept");
}

#[tokio::test(start_paused = true)]
async fn deleted_note_closes_4404_and_cannot_be_joined() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;

    store.delete_note(&note);
    rooms.close_note(&note).await;
    assert_eq!(ann.closed_with().await, CloseCode::NoSuchNote);
    assert_eq!(rooms.loaded_rooms(), 0);

    let refused = rooms
        .connect(&note, UserId::from("ann"), Access::Write)
        .await;
    let error = refused.err().expect("refused");
    assert_eq!(error, RoomsError::NotFound);
    assert_eq!(error.close_code().code(), 4404);
}

#[tokio::test(start_paused = true)]
async fn shutdown_compacts_and_closes_4501() {
    let store = MemoryStore::new();
    let note = note_in(&store, "n1");
    let rooms = Rooms::new(store.clone(), RoomsConfig::default());
    let mut ann = Remote::join(&rooms, &note, "ann", Access::Write).await;
    ann.append("saved").await;
    assert_eq!(rooms.text(&note).await.unwrap(), "saved");

    rooms.shutdown().await;
    assert_eq!(ann.closed_with().await, CloseCode::RoomUnloading);
    assert!(CloseCode::RoomUnloading.should_reconnect());
    assert_eq!(store.snapshot(&note).unwrap().text, "saved");
    let refused = rooms
        .connect(&note, UserId::from("bob"), Access::Read)
        .await;
    assert_eq!(refused.err(), Some(RoomsError::Unavailable));
}

#[tokio::test(start_paused = true)]
async fn loaded_rooms_are_capped() {
    let store = MemoryStore::new();
    let first = note_in(&store, "n1");
    let second = note_in(&store, "n2");
    let config = RoomsConfig {
        max_loaded_rooms: 1,
        unload_after: Duration::from_secs(5),
        ..Default::default()
    };
    let rooms = Rooms::new(store.clone(), config);
    rooms.replace_text(&first, "one".into()).await.unwrap();
    assert_eq!(rooms.text(&second).await, Err(RoomsError::Unavailable));
    sleep(Duration::from_secs(7)).await; // the first room unloads when idle
    assert_eq!(rooms.text(&second).await.unwrap(), "");
}
