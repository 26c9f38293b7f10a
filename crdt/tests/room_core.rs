//! The note room without sockets: real `yrs` documents as clients, simulated time, and a
//! shell that feeds inputs and polls outputs the way the runtime does.

mod support;

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use crdt::{Access, CloseCode, ConnId, Input, Limits, Output, Room, UserId};
use support::{YClient, forged_awareness, is_doc_update};

/// A room and its clients, wired together in memory. Outputs are performed in order, and
/// every client reply is fed straight back, until nothing moves. Time moves only by
/// [`Net::advance`], which wakes the room when its last timeout says so.
struct Net {
    room: Room,
    now: Instant,
    /// The room's last [`Output::Timeout`].
    wake: Instant,
    next_conn: u64,
    clients: BTreeMap<ConnId, YClient>,
    closed: Vec<(ConnId, CloseCode)>,
    persisted: Vec<Bytes>,
}

impl Net {
    fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    fn with_limits(limits: Limits) -> Self {
        let now = Instant::now();
        Net {
            room: Room::new(limits, now),
            now,
            wake: now,
            next_conn: 1,
            clients: BTreeMap::new(),
            closed: Vec::new(),
            persisted: Vec::new(),
        }
    }

    fn join(&mut self, user: &str, access: Access) -> ConnId {
        self.join_client(user, access, YClient::new())
    }

    fn join_client(&mut self, user: &str, access: Access, client: YClient) -> ConnId {
        let hello = client.hello();
        let (conn, outputs) = self.connect(user, access);
        self.clients.insert(conn, client);
        self.perform(outputs);
        for frame in hello {
            self.send(conn, frame);
        }
        conn
    }

    /// A connect with the next connection number, without a client behind it yet.
    fn connect(&mut self, user: &str, access: Access) -> (ConnId, Vec<Output>) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        let user = UserId::from(user);
        let outputs = self.input(Input::Connect {
            conn,
            user: &user,
            access,
        });
        (conn, outputs)
    }

    /// Feeds one input now and polls everything it caused.
    fn input(&mut self, input: Input<'_>) -> Vec<Output> {
        self.room
            .handle_input(self.now, input)
            .expect("input applies");
        self.drain()
    }

    /// Frames handed in together, then polled once: one batch.
    fn batch(&mut self, frames: &[(ConnId, &[u8])]) -> Vec<Output> {
        for &(conn, frame) in frames {
            let input = Input::Frame { conn, frame };
            self.room
                .handle_input(self.now, input)
                .expect("frames never fail");
        }
        self.drain()
    }

    fn drain(&mut self) -> Vec<Output> {
        let mut outputs = Vec::new();
        loop {
            match self.room.poll_output() {
                Output::Timeout(at) => {
                    self.wake = at;
                    return outputs;
                }
                output => outputs.push(output),
            }
        }
    }

    fn send(&mut self, conn: ConnId, frame: Bytes) {
        let outputs = self.input(Input::Frame {
            conn,
            frame: &frame,
        });
        self.perform(outputs);
    }

    fn leave(&mut self, conn: ConnId) {
        self.clients.remove(&conn);
        let outputs = self.input(Input::Disconnect(conn));
        self.perform(outputs);
    }

    /// Moves time on, waking the room if its timeout has come (as a shell's timer would).
    fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.wake <= self.now {
            let outputs = self.input(Input::Timeout);
            self.perform(outputs);
        }
    }

    fn client(&mut self, conn: ConnId) -> &mut YClient {
        self.clients.get_mut(&conn).expect("client connected")
    }

    fn perform(&mut self, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                Output::Persist(update) => self.persisted.push(update),
                Output::Send { to, frame } => queue.extend(self.deliver(to, &frame)),
                Output::Broadcast { to, frame } => {
                    for conn in to {
                        queue.extend(self.deliver(conn, &frame));
                    }
                }
                Output::Close { conn, code } => {
                    self.clients.remove(&conn);
                    self.closed.push((conn, code));
                }
                Output::Timeout(_) => unreachable!("drain keeps timeouts"),
            }
        }
    }

    fn deliver(&mut self, conn: ConnId, frame: &[u8]) -> Vec<Output> {
        let Some(client) = self.clients.get_mut(&conn) else {
            return Vec::new();
        };
        let replies = client.handle(frame);
        replies
            .into_iter()
            .flat_map(|reply| {
                self.input(Input::Frame {
                    conn,
                    frame: &reply,
                })
            })
            .collect()
    }
}

#[test]
fn two_clients_converge() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let b = net.join("bob", Access::Write);
    assert!(net.client(a).synced && net.client(b).synced);

    let edit = net.client(a).insert(0, "# Plan\n");
    net.send(a, edit);
    let edit = net.client(b).append("- step one\n");
    net.send(b, edit);

    assert_eq!(net.client(a).text(), "# Plan\n- step one\n");
    assert_eq!(net.client(b).text(), "# Plan\n- step one\n");
    assert_eq!(net.room.text(), "# Plan\n- step one\n");
    assert_eq!(net.persisted.len(), 2);
}

#[test]
fn late_joiner_gets_the_full_state() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    for line in ["one\n", "two\n", "three\n"] {
        let edit = net.client(a).append(line);
        net.send(a, edit);
    }
    let late = net.join("carl", Access::Read);
    assert!(net.client(late).synced);
    assert_eq!(net.client(late).text(), "one\ntwo\nthree\n");
}

#[test]
fn offline_edits_arrive_through_sync_step_2_and_are_stored_once() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let mut offline = YClient::new();
    let _never_sent = offline.insert(0, "written offline");
    let b = net.join_client("bob", Access::Write, offline);
    assert_eq!(net.client(a).text(), "written offline");
    assert_eq!(net.persisted.len(), 1);

    // Reconnecting with the same content repeats it in step 2: nothing new to store.
    net.leave(b);
    let rejoining = YClient::with_state(&net.room.encode_state());
    let b = net.join_client("bob", Access::Write, rejoining);
    assert_eq!(net.client(b).text(), "written offline");
    assert_eq!(net.persisted.len(), 1);
}

#[test]
fn read_only_edits_are_dropped_and_the_reader_is_told_once() {
    let mut net = Net::new();
    let writer = net.join("ann", Access::Write);
    let reader = net.join("rita", Access::Read);
    let edit = net.client(writer).insert(0, "shared");
    net.send(writer, edit);
    assert_eq!(net.client(reader).text(), "shared");

    for _ in 0..2 {
        let edit = net.client(reader).append(" vandalised");
        net.send(reader, edit);
    }

    assert_eq!(net.client(writer).text(), "shared");
    assert_eq!(net.room.text(), "shared");
    assert_eq!(net.persisted.len(), 1);
    assert_eq!(net.client(reader).denied, vec!["read-only".to_owned()]);
}

#[test]
fn reader_presence_is_relayed() {
    let mut net = Net::new();
    let writer = net.join("ann", Access::Write);
    let reader = net.join("rita", Access::Read);
    let presence = net.client(reader).set_presence("Rita");
    let reader_id = net.client(reader).client_id();
    net.send(reader, presence);
    assert!(net.client(writer).sees_presence_of(reader_id));
}

#[test]
fn awareness_is_removed_when_its_connection_leaves() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let b = net.join("bob", Access::Write);
    let presence = net.client(a).set_presence("Ann");
    let ann_id = net.client(a).client_id();
    net.send(a, presence);
    assert!(net.client(b).sees_presence_of(ann_id));

    // A late joiner receives present states right after the server's step 1.
    let c = net.join("carl", Access::Read);
    assert!(net.client(c).sees_presence_of(ann_id));

    net.leave(a);
    assert!(!net.client(b).sees_presence_of(ann_id));
    assert!(!net.client(c).sees_presence_of(ann_id));
    assert_eq!(net.room.awareness_count(), 0);
}

#[test]
fn a_lone_client_hears_its_own_awareness_so_its_socket_never_goes_silent() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let presence = net.client(a).set_presence("Ann");
    let outputs = net.input(Input::Frame {
        conn: a,
        frame: &presence,
    });
    assert!(
        outputs
            .iter()
            .any(|o| matches!(o, Output::Broadcast { to, .. } if to == &vec![a])),
        "{outputs:?}"
    );
}

#[test]
fn awareness_not_renewed_for_30_seconds_is_swept() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let b = net.join("bob", Access::Write);
    let presence = net.client(a).set_presence("Ann");
    let ann_id = net.client(a).client_id();
    net.send(a, presence);

    net.advance(Duration::from_secs(15));
    let renewal = net.client(a).set_presence("Ann");
    net.send(a, renewal);
    net.advance(Duration::from_secs(29));
    assert!(net.client(b).sees_presence_of(ann_id), "renewed 29 s ago");

    net.advance(Duration::from_secs(2));
    assert!(!net.client(b).sees_presence_of(ann_id), "silent for 31 s");
    assert_eq!(net.room.awareness_count(), 0);
}

#[test]
fn oversized_frame_closes_4413() {
    let limits = Limits {
        max_frame_bytes: 64,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    let a = net.join("ann", Access::Write);
    let edit = net.client(a).insert(0, &"x".repeat(100));
    net.send(a, edit);
    assert_eq!(net.closed, vec![(a, CloseCode::TooLarge)]);
    assert_eq!(net.room.text(), "");
    assert_eq!(net.room.connection_count(), 0);
}

#[test]
fn edit_past_the_document_limit_closes_4413_and_is_not_applied() {
    let limits = Limits {
        max_document_bytes: 200,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    let a = net.join("ann", Access::Write);
    let edit = net.client(a).insert(0, &"a".repeat(100));
    net.send(a, edit);
    let edit = net.client(a).append(&"b".repeat(150));
    net.send(a, edit);
    assert_eq!(net.closed, vec![(a, CloseCode::TooLarge)]);
    assert_eq!(net.room.text(), "a".repeat(100));
}

#[test]
fn updates_parked_for_missing_predecessors_count_toward_the_document_limit() {
    let limits = Limits {
        max_document_bytes: 2_000,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    let a = net.join("ann", Access::Write);
    for _ in 0..20 {
        let _withheld = net.client(a).append(&"w".repeat(300));
        let depends_on_withheld = net.client(a).append(&"p".repeat(300));
        net.send(a, depends_on_withheld);
        if !net.closed.is_empty() {
            break;
        }
    }
    assert_eq!(net.closed, vec![(a, CloseCode::TooLarge)]);
    assert!(net.room.encode_state().len() <= 2_000);
}

#[test]
fn a_full_room_turns_newcomers_away_with_4503() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    net.join("ann", Access::Write);
    net.join("bob", Access::Write);
    let (carl, outputs) = net.connect("carl", Access::Read);
    assert_eq!(
        outputs,
        vec![Output::Close {
            conn: carl,
            code: CloseCode::RoomFull
        }]
    );
    assert!(CloseCode::RoomFull.should_reconnect());
    assert_eq!(net.room.connection_count(), 2);
}

#[test]
fn flooding_edits_past_the_change_limit_closes_4429() {
    let limits = Limits {
        change_burst: 10,
        changes_per_second: 5,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    // Joining used 1 change: the client's sync step 2 reply.
    let a = net.join("ann", Access::Write);
    for _ in 0..9 {
        let edit = net.client(a).append("k");
        net.send(a, edit);
    }
    assert!(net.closed.is_empty(), "burst allowed");
    net.advance(Duration::from_secs(1)); // refills 5
    for _ in 0..5 {
        let edit = net.client(a).append("k");
        net.send(a, edit);
    }
    assert!(net.closed.is_empty(), "refill allowed");
    let edit = net.client(a).append("k");
    net.send(a, edit);
    assert_eq!(net.closed, vec![(a, CloseCode::RateLimited)]);
}

#[test]
fn echoed_awareness_costs_a_frame_not_a_change() {
    let limits = Limits {
        change_burst: 4,
        changes_per_second: 1,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    let a = net.join("ann", Access::Write);
    let b = net.join("bob", Access::Write);
    let presence = net.client(a).set_presence("Ann");
    net.send(a, presence);
    let ann_id = net.client(a).client_id();

    // The npm provider re-sends states it hears; a busy room makes every client echo a lot.
    for _ in 0..50 {
        let echo = net.client(b).awareness_of(ann_id);
        net.send(b, echo);
    }
    assert!(net.closed.is_empty(), "echoes are not changes");

    for name in ["B1", "B2", "B3", "B4"] {
        let own = net.client(b).set_presence(name);
        net.send(b, own);
    }
    assert_eq!(net.closed, vec![(b, CloseCode::RateLimited)]);
}

#[test]
fn flooding_frames_past_the_frame_limit_closes_4429() {
    let limits = Limits {
        frame_burst: 5,
        frames_per_second: 1,
        ..Limits::default()
    };
    let mut net = Net::with_limits(limits);
    let a = net.join("ann", Access::Write); // 2 frames: sync step 1, step 2
    for _ in 0..3 {
        net.send(a, Bytes::from_static(&[3])); // query awareness
    }
    assert!(net.closed.is_empty());
    net.send(a, Bytes::from_static(&[3]));
    assert_eq!(net.closed, vec![(a, CloseCode::RateLimited)]);
}

#[test]
fn malformed_frames_close_4400() {
    let frames: [&'static [u8]; 4] = [
        &[0, 2, 3, 9, 9, 9], // an update message whose update is garbage
        &[0, 2, 5, 1, 2],    // truncated: announces 5 bytes, carries 2
        &[0, 7, 0],          // unknown sync message type
        &[1, 1, 1],          // awareness claiming one entry, carrying none
    ];
    for bytes in frames {
        let mut net = Net::new();
        let a = net.join("ann", Access::Write);
        net.send(a, Bytes::from_static(bytes));
        assert_eq!(net.closed, vec![(a, CloseCode::BadMessage)], "{bytes:?}");
    }
}

#[test]
fn update_is_persisted_before_it_is_relayed() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let _b = net.join("bob", Access::Write);
    let edit = net.client(a).insert(0, "hello");
    let outputs = net.input(Input::Frame {
        conn: a,
        frame: &edit,
    });
    let persist = outputs
        .iter()
        .position(|o| matches!(o, Output::Persist(_)))
        .expect("persisted");
    let relay = outputs
        .iter()
        .position(|o| matches!(o, Output::Broadcast { frame, .. } if is_doc_update(frame)))
        .expect("relayed");
    assert!(persist < relay, "{outputs:?}");
}

/// The doc-update frames among `outputs`, with their recipients.
fn relays(outputs: &[Output]) -> Vec<(Vec<ConnId>, Bytes)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            Output::Broadcast { to, frame } if is_doc_update(frame) => {
                Some((to.clone(), frame.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn edits_handled_together_are_stored_and_relayed_as_one_update() {
    let mut net = Net::new();
    let (a, b, c) = (
        net.join("ann", Access::Write),
        net.join("bob", Access::Write),
        net.join("cy", Access::Read),
    );
    let (edit_a, edit_b) = (net.client(a).append("ann "), net.client(b).append("bob "));
    let frames = [(a, edit_a.as_ref()), (b, edit_b.as_ref())];
    let outputs = net.batch(&frames);

    let persisted = outputs.iter().filter(|o| matches!(o, Output::Persist(_)));
    assert_eq!(persisted.count(), 1, "{outputs:?}");
    let relays = relays(&outputs);
    assert_eq!(relays.len(), 1, "{outputs:?}");
    // Two authors: one frame for all; each author's own half is a no-op for it.
    assert_eq!(relays[0].0, vec![a, b, c]);
    net.perform(outputs);
    let text = net.room.text();
    assert_eq!(text.len(), "ann bob ".len());
    for conn in [a, b, c] {
        assert_eq!(net.client(conn).text(), text);
    }
}

#[test]
fn one_authors_batch_is_not_sent_back_to_it() {
    let mut net = Net::new();
    let (a, b) = (
        net.join("ann", Access::Write),
        net.join("bob", Access::Write),
    );
    let first = net.client(a).append("one ");
    let second = net.client(a).append("two");
    let frames = [(a, first.as_ref()), (a, second.as_ref())];
    let outputs = net.batch(&frames);

    let relays = relays(&outputs);
    assert_eq!(relays.len(), 1, "{outputs:?}");
    assert_eq!(relays[0].0, vec![b]);
    net.perform(outputs);
    assert_eq!(net.client(b).text(), "one two");
}

#[test]
fn a_sync_reply_in_a_batch_waits_for_the_edits_before_it_to_be_stored() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let late = support::YClient::new();
    let (joiner, greeting) = net.connect("carl", Access::Read);
    net.perform(greeting);
    let edit = net.client(a).append("stored first");
    let hello = late.hello();
    let frames = [(a, edit.as_ref()), (joiner, hello[0].as_ref())];
    let outputs = net.batch(&frames);

    let persist = outputs.iter().position(|o| matches!(o, Output::Persist(_)));
    let reply = outputs
        .iter()
        .position(|o| matches!(o, Output::Send { to, .. } if *to == joiner));
    assert!(
        persist.expect("stored") < reply.expect("answered"),
        "{outputs:?}"
    );
}

#[test]
fn rest_replacement_reaches_live_clients_as_a_minimal_edit() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let b = net.join("bob", Access::Read);
    let tail = "lorem ipsum ".repeat(40);
    let edit = net
        .client(a)
        .insert(0, &format!("# Title\nold body\n{tail}"));
    net.send(a, edit);
    let persisted_before = net.persisted.len();

    let replacement = format!("# Title\nnew body\n{tail}");
    let outputs = net.input(Input::ReplaceText(&replacement));
    let Some(Output::Persist(delta)) = outputs.first().cloned() else {
        panic!("persist first: {outputs:?}");
    };
    net.perform(outputs);

    assert_eq!(net.client(a).text(), replacement);
    assert_eq!(net.client(b).text(), replacement);
    assert_eq!(net.persisted.len(), persisted_before + 1);
    assert!(
        delta.len() < 80,
        "only the changed word travels: {} bytes",
        delta.len()
    );
    assert!(net.input(Input::ReplaceText(&replacement)).is_empty());
}

#[test]
fn stored_snapshot_and_updates_rebuild_the_room() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let edit = net.client(a).insert(0, "first ");
    net.send(a, edit);
    let snapshot = net.room.encode_state();
    let edit = net.client(a).append("second");
    net.send(a, edit);
    let later = net.persisted.last().expect("stored").to_vec();

    let room = Room::load(
        Some(&snapshot),
        [later.as_slice()],
        Limits::default(),
        Instant::now(),
    )
    .expect("loads");
    assert_eq!(room.text(), "first second");

    let corrupt = Room::load(Some(&[9, 9, 9]), [], Limits::default(), Instant::now());
    assert!(corrupt.is_err());
}

#[test]
fn revoking_closes_4403_and_downgrading_keeps_the_connection_read_only() {
    let mut net = Net::new();
    let owner = net.join("ann", Access::Write);
    let guest = net.join("gus", Access::Write);
    let other = net.join("olga", Access::Write);

    let outputs = net.input(Input::SetAccess {
        user: &UserId::from("gus"),
        access: Some(Access::Read),
    });
    net.perform(outputs);
    assert_eq!(net.client(guest).denied, vec!["read-only".to_owned()]);
    let edit = net.client(guest).insert(0, "nope");
    net.send(guest, edit);
    assert_eq!(net.client(owner).text(), "");

    let outputs = net.input(Input::SetAccess {
        user: &UserId::from("olga"),
        access: None,
    });
    net.perform(outputs);
    assert_eq!(net.closed, vec![(other, CloseCode::NoAccess)]);
    assert_eq!(net.room.connection_count(), 2);
}

#[test]
fn a_reader_whose_edits_were_dropped_resyncs_when_given_write_access() {
    let mut net = Net::new();
    let owner = net.join("ann", Access::Write);
    let reader = net.join("gus", Access::Read);
    let dropped = net.client(reader).insert(0, "early ");
    net.send(reader, dropped);
    assert_eq!(net.client(owner).text(), "");
    let outputs = net.input(Input::SetAccess {
        user: &UserId::from("gus"),
        access: Some(Access::Write),
    });
    net.perform(outputs);
    assert_eq!(net.closed, vec![(reader, CloseCode::WriteGranted)]);
    assert!(CloseCode::WriteGranted.should_reconnect());

    // A reader that never edited keeps its connection: nothing of it is missing.
    let quiet = net.join("quinn", Access::Read);
    let outputs = net.input(Input::SetAccess {
        user: &UserId::from("quinn"),
        access: Some(Access::Write),
    });
    net.perform(outputs);
    assert_eq!(net.closed.len(), 1);
    let edit = net.client(quiet).insert(0, "hi");
    net.send(quiet, edit);
    assert_eq!(net.client(owner).text(), "hi");
}

#[test]
fn batches_of_any_mix_of_editors_reach_every_client_whole() {
    let mut net = Net::new();
    let editors: Vec<ConnId> = (0..5)
        .map(|i| net.join(&format!("editor{i}"), Access::Write))
        .collect();
    let listener = net.join("listener", Access::Read);
    // A fixed pseudo-random sequence: which editor types next, and where batches end.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..40 {
        let batch: Vec<(ConnId, Bytes)> = (0..=next(8))
            .map(|_| {
                let editor = editors[next(5) as usize];
                (editor, net.client(editor).append("abc "))
            })
            .collect();
        let frames: Vec<(ConnId, &[u8])> = batch
            .iter()
            .map(|(conn, frame)| (*conn, frame.as_ref()))
            .collect();
        let outputs = net.batch(&frames);
        net.perform(outputs);
    }
    let text = net.room.text();
    assert!(text.len() > 40 * 4, "{text}");
    for conn in editors.into_iter().chain([listener]) {
        assert_eq!(net.client(conn).text(), text, "{conn:?}");
    }
}

#[test]
fn the_room_asks_to_be_woken_when_the_oldest_presence_expires() {
    let mut net = Net::new();
    let start = net.now;
    let a = net.join("ann", Access::Write);
    assert_eq!(net.wake, start + Duration::from_secs(30), "nobody present");

    let presence = net.client(a).set_presence("Ann");
    net.send(a, presence);
    net.advance(Duration::from_secs(10));
    let b = net.join("bob", Access::Write);
    let presence = net.client(b).set_presence("Bob");
    net.send(b, presence);
    assert_eq!(
        net.wake,
        start + Duration::from_secs(30),
        "Ann's expiry first"
    );

    net.advance(Duration::from_secs(20));
    let (ann_id, bob_id) = (net.client(a).client_id(), net.client(b).client_id());
    assert!(!net.client(b).sees_presence_of(ann_id), "expired at 30 s");
    assert!(net.client(a).sees_presence_of(bob_id));
    assert_eq!(net.wake, start + Duration::from_secs(40), "then Bob's");
}

#[test]
fn presence_belongs_to_the_connection_that_announced_it() {
    let mut net = Net::new();
    let ann = net.join("ann", Access::Write);
    let bob = net.join("bob", Access::Write);
    let mallory = net.join("mallory", Access::Read);
    let presence = net.client(ann).set_presence("Ann");
    net.send(ann, presence);
    let ann_id = net.client(ann).client_id();
    let announced = net.client(bob).presence_of(ann_id).expect("Ann present");

    // A higher clock would win in Yjs; the room keeps the id for the connection that owns it.
    let replace = forged_awareness(ann_id, 1000, r#"{"user":{"name":"Mallory"}}"#);
    net.send(mallory, replace);
    let remove = forged_awareness(ann_id, 1001, "null");
    net.send(mallory, remove);
    let from_a_writer = forged_awareness(ann_id, 1002, "null");
    net.send(bob, from_a_writer);

    assert_eq!(net.client(bob).presence_of(ann_id), Some(announced.clone()));
    assert_eq!(net.client(mallory).presence_of(ann_id), Some(announced));
    assert_eq!(net.room.awareness_count(), 1);
    assert!(net.closed.is_empty());

    // Its owner still changes it.
    let renamed = net.client(ann).set_presence("Ann B.");
    net.send(ann, renamed);
    let seen = net.client(bob).presence_of(ann_id).expect("still present");
    assert!(seen.contains("Ann B."), "{seen}");
}

#[test]
fn an_update_from_another_node_reaches_every_local_connection_and_is_not_stored_again() {
    let mut here = Net::new();
    let (a, b) = (
        here.join("ann", Access::Write),
        here.join("rita", Access::Read),
    );
    let mut there = Net::new();
    let writer = there.join("zoe", Access::Write);
    let edit = there.client(writer).insert(0, "typed on node 2");
    there.send(writer, edit);
    let stored_there = there.persisted.last().expect("stored by node 2").clone();

    let outputs = here.input(Input::Remote(&stored_there));
    assert!(
        !outputs.iter().any(|o| matches!(o, Output::Persist(_))),
        "{outputs:?}"
    );
    assert_eq!(relays(&outputs).len(), 1, "{outputs:?}");
    assert_eq!(relays(&outputs)[0].0, vec![a, b]);
    here.perform(outputs);
    assert_eq!(here.client(a).text(), "typed on node 2");
    assert_eq!(here.client(b).text(), "typed on node 2");
    assert!(here.persisted.is_empty());

    // Known already: nothing to relay. Garbage: refused, the room unchanged.
    assert!(here.input(Input::Remote(&stored_there)).is_empty());
    let refused = here.room.handle_input(here.now, Input::Remote(&[9, 9, 9]));
    assert!(refused.is_err());
    assert_eq!(here.room.text(), "typed on node 2");
}

#[test]
fn a_connection_number_in_use_is_refused() {
    let mut net = Net::new();
    let a = net.join("ann", Access::Write);
    let user = UserId::from("bob");
    let again = Input::Connect {
        conn: a,
        user: &user,
        access: Access::Write,
    };
    assert!(net.room.handle_input(net.now, again).is_err());
    assert_eq!(net.room.connection_count(), 1);
}
