//! The router on simulated time: no sockets, no sleeps.

use super::*;

const ROOM: RoomId = RoomId(1);
const ALICE: PeerId = PeerId(1);
const BOB: PeerId = PeerId(2);
const CAROL: PeerId = PeerId(3);
const MIC: TrackId = TrackId(10);
const CAM: TrackId = TrackId(11);

/// A router plus a clock, feeding inputs and collecting outputs up to the timeout.
struct Sim {
    router: Router,
    now: Instant,
    /// Whether an opened subscription is ready at once (as if negotiated and connected).
    instant_ready: bool,
}

impl Sim {
    fn new() -> Sim {
        let now = Instant::now();
        Sim {
            router: Router::new(now, 7),
            now,
            instant_ready: true,
        }
    }

    fn input(&mut self, input: Input) -> Vec<Output> {
        self.router.handle_input(self.now, input);
        let out = self.drain();
        if self.instant_ready {
            for o in &out {
                if let Output::Open { subscriber, track } = *o {
                    self.router
                        .handle_input(self.now, Input::Ready { subscriber, track });
                }
            }
        }
        out
    }

    fn drain(&mut self) -> Vec<Output> {
        let mut v = Vec::new();
        loop {
            match self.router.poll_output() {
                Output::Timeout(_) => return v,
                o => v.push(o),
            }
        }
    }

    fn join(&mut self, peer: PeerId, room: RoomId) -> Vec<Output> {
        self.input(Input::PeerAdded { peer, room })
    }

    fn advance(&mut self, ms: u64) -> Vec<Output> {
        self.now += Duration::from_millis(ms);
        self.input(Input::Timeout)
    }

    fn packet(&mut self, track: TrackId, layer: Layer, seq: u64, keyframe: bool) -> Vec<Output> {
        self.input(Input::Packet(Packet {
            track,
            layer,
            seq,
            time: seq * 3000,
            keyframe,
            bytes: if layer == 0 { 2000 } else { 1000 },
        }))
    }

    /// Alice publishes a microphone and a camera; Bob (and optionally Carol) join.
    fn room(with_carol: bool) -> Sim {
        let mut sim = Sim::new();
        sim.join(ALICE, ROOM);
        sim.join(BOB, ROOM);
        if with_carol {
            sim.join(CAROL, ROOM);
        }
        sim.input(Input::TrackAdded {
            track: MIC,
            publisher: ALICE,
            kind: TrackKind::Audio,
        });
        sim.input(Input::TrackAdded {
            track: CAM,
            publisher: ALICE,
            kind: TrackKind::Video,
        });
        sim
    }
}

fn forwards_to(out: &[Output], who: PeerId) -> Vec<(u64, u64)> {
    out.iter()
        .filter_map(|o| match *o {
            Output::Forward {
                subscriber,
                seq,
                time,
                ..
            } if subscriber == who => Some((seq, time)),
            _ => None,
        })
        .collect()
}

fn keyframe_requests(out: &[Output]) -> Vec<(TrackId, Layer)> {
    out.iter()
        .filter_map(|o| match *o {
            Output::RequestKeyframe { track, layer } => Some((track, layer)),
            _ => None,
        })
        .collect()
}

#[test]
fn everyone_else_in_the_room_subscribes_and_the_publisher_never_gets_its_own_track() {
    let mut sim = Sim::new();
    sim.join(ALICE, ROOM);
    sim.join(BOB, ROOM);
    sim.join(CAROL, RoomId(2));
    let out = sim.input(Input::TrackAdded {
        track: MIC,
        publisher: ALICE,
        kind: TrackKind::Audio,
    });
    assert_eq!(
        out,
        vec![Output::Open {
            subscriber: BOB,
            track: MIC
        }]
    );

    let out = sim.packet(MIC, 0, 100, false);
    assert_eq!(forwards_to(&out, BOB).len(), 1);
    assert!(forwards_to(&out, ALICE).is_empty());
    assert!(forwards_to(&out, CAROL).is_empty());

    // A late joiner of the room is subscribed to what is already published.
    let dave = PeerId(4);
    let out = sim.join(dave, ROOM);
    assert_eq!(
        out,
        vec![Output::Open {
            subscriber: dave,
            track: MIC
        }]
    );
}

#[test]
fn audio_is_rewritten_contiguously_and_a_mute_stops_it_on_the_server() {
    let mut sim = Sim::room(false);
    let first = forwards_to(&sim.packet(MIC, 0, 500, false), BOB);
    let second = forwards_to(&sim.packet(MIC, 0, 501, false), BOB);
    assert_eq!(second[0].0, first[0].0 + 1);
    assert_eq!(second[0].1, first[0].1 + 3000);

    assert!(
        sim.input(Input::Muted {
            track: MIC,
            muted: true
        })
        .is_empty()
    );
    for seq in 502..600 {
        assert!(forwards_to(&sim.packet(MIC, 0, seq, false), BOB).is_empty());
    }
    sim.advance(1000);
    sim.input(Input::Muted {
        track: MIC,
        muted: false,
    });
    let resumed = forwards_to(&sim.packet(MIC, 0, 600, false), BOB);
    // No gap the subscriber would take for loss, and the clock moved with the wall time.
    assert_eq!(resumed[0].0, second[0].0 + 1);
    assert_eq!(resumed[0].1, second[0].1 + 48_000);
}

#[test]
fn video_starts_on_a_keyframe_which_is_requested_when_the_subscriber_starts() {
    let mut sim = Sim::room(false);
    let out = sim.packet(CAM, 0, 1, false);
    assert!(forwards_to(&out, BOB).is_empty());
    assert_eq!(keyframe_requests(&out), vec![(CAM, 0)]);
    assert!(forwards_to(&sim.packet(CAM, 0, 2, false), BOB).is_empty());
    let out = sim.packet(CAM, 0, 3, true);
    assert_eq!(forwards_to(&out, BOB).len(), 1);
    assert_eq!(forwards_to(&sim.packet(CAM, 0, 4, false), BOB).len(), 1);
}

#[test]
fn keyframe_requests_reach_the_publisher_at_most_once_a_second() {
    let mut sim = Sim::room(true);
    // Both start on this keyframe: nothing to ask for.
    let out = sim.packet(CAM, 0, 1, true);
    assert_eq!(
        forwards_to(&out, BOB).len() + forwards_to(&out, CAROL).len(),
        2
    );
    assert!(keyframe_requests(&out).is_empty());
    let mut sent = 0;
    for _ in 0..10 {
        sent += keyframe_requests(&sim.input(Input::KeyframeNeeded {
            subscriber: BOB,
            track: CAM,
        }))
        .len();
        sent += keyframe_requests(&sim.input(Input::KeyframeNeeded {
            subscriber: CAROL,
            track: CAM,
        }))
        .len();
        sent += keyframe_requests(&sim.advance(50)).len();
    }
    // 500 ms of requests from two subscribers: the first went through, the rest is held.
    assert_eq!(sent, 1);
    // The held one goes out when the second is over.
    let out = sim.advance(500);
    assert_eq!(keyframe_requests(&out), vec![(CAM, 0)]);
    // Nothing more is due.
    assert!(keyframe_requests(&sim.advance(2000)).is_empty());
}

#[test]
fn simulcast_layer_follows_the_estimate_and_switches_only_on_a_keyframe() {
    let mut sim = Sim::room(false);
    // Layer 0 is the big one (~1.6 Mbit/s), layer 1 the small one (~800 kbit/s here).
    let mut seq0 = 1000;
    let mut seq1 = 5000;
    let mut send_both = |sim: &mut Sim, ms: u64, keyframe: bool| {
        let mut out = Vec::new();
        for i in 0..ms / 10 {
            sim.now += Duration::from_millis(10);
            let key = keyframe && i == 0;
            out.extend(sim.packet(CAM, 0, seq0, key));
            out.extend(sim.packet(CAM, 1, seq1, key));
            seq0 += 1;
            seq1 += 1;
        }
        out
    };
    send_both(&mut sim, 100, true);
    let out = send_both(&mut sim, 1000, true);
    // Without an estimate the best layer is forwarded.
    let got = forwards_to(&out, BOB);
    assert_eq!(got.len(), 100);

    // A constrained link: only the small layer fits. Nothing switches until its keyframe.
    let out = sim.input(Input::Estimate {
        subscriber: BOB,
        bps: 1_000_000,
    });
    assert_eq!(keyframe_requests(&out), vec![(CAM, 1)]);
    let last_big = *got.last().unwrap();
    let out = send_both(&mut sim, 100, false);
    let still_big = forwards_to(&out, BOB);
    assert_eq!(
        still_big.len(),
        10,
        "stays on the big layer until a keyframe"
    );
    let out = send_both(&mut sim, 100, true);
    let after = forwards_to(&out, BOB);
    // The big layer's packet sent just before the small layer's keyframe, then the small
    // layer only: never both.
    assert_eq!(after.len(), 11);
    // Seamless: one contiguous outgoing sequence across the switch, time never going back.
    let all: Vec<(u64, u64)> = [vec![last_big], still_big, after].concat();
    for w in all.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1);
        assert!(w[1].1 >= w[0].1);
    }
}

#[test]
fn video_nobody_wants_is_not_forwarded_and_the_publisher_is_told() {
    let mut sim = Sim::room(false);
    sim.packet(CAM, 0, 1, true);
    let out = sim.input(Input::Subscribe {
        subscriber: BOB,
        track: CAM,
        quality: None,
    });
    assert_eq!(
        out,
        vec![Output::Demand {
            track: CAM,
            used: false
        }]
    );
    assert!(forwards_to(&sim.packet(CAM, 0, 2, true), BOB).is_empty());

    let out = sim.input(Input::Subscribe {
        subscriber: BOB,
        track: CAM,
        quality: Some(Quality::Low),
    });
    assert!(out.contains(&Output::Demand {
        track: CAM,
        used: true
    }));
    assert_eq!(forwards_to(&sim.packet(CAM, 0, 3, true), BOB).len(), 1);

    // A muted camera is of no use to anyone either.
    let out = sim.input(Input::Muted {
        track: CAM,
        muted: true,
    });
    assert_eq!(
        out,
        vec![Output::Demand {
            track: CAM,
            used: false
        }]
    );
}

#[test]
fn a_lone_publishers_video_is_unused_until_someone_joins() {
    let mut sim = Sim::new();
    sim.join(ALICE, ROOM);
    let out = sim.input(Input::TrackAdded {
        track: CAM,
        publisher: ALICE,
        kind: TrackKind::Video,
    });
    assert_eq!(
        out,
        vec![Output::Demand {
            track: CAM,
            used: false
        }]
    );
    let out = sim.join(BOB, ROOM);
    assert_eq!(
        out,
        vec![
            Output::Open {
                subscriber: BOB,
                track: CAM
            },
            Output::Demand {
                track: CAM,
                used: true
            }
        ]
    );
}

#[test]
fn a_leaving_publisher_closes_its_tracks_at_every_subscriber() {
    let mut sim = Sim::room(true);
    let mut out = sim.input(Input::PeerRemoved { peer: ALICE });
    out.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(out.len(), 4);
    for sub in [BOB, CAROL] {
        for track in [MIC, CAM] {
            assert!(out.contains(&Output::Close {
                subscriber: sub,
                track
            }));
        }
    }
    assert!(sim.packet(MIC, 0, 1, false).is_empty());
}

#[test]
fn a_leaving_subscriber_is_forwarded_nothing_more() {
    let mut sim = Sim::room(true);
    sim.input(Input::PeerRemoved { peer: BOB });
    let out = sim.packet(MIC, 0, 1, false);
    assert!(forwards_to(&out, BOB).is_empty());
    assert_eq!(forwards_to(&out, CAROL).len(), 1);
}

#[test]
fn each_subscriber_wants_the_layer_its_preference_asks_for_plus_its_audio() {
    let mut sim = Sim::room(true);
    // Two layers, ~1.6 Mbit/s and ~800 kbit/s, for a second.
    for i in 0..100 {
        sim.now += Duration::from_millis(10);
        sim.packet(CAM, 0, 1000 + i, i == 0);
        sim.packet(CAM, 1, 5000 + i, i == 0);
    }
    sim.input(Input::Subscribe {
        subscriber: CAROL,
        track: CAM,
        quality: Some(Quality::Low),
    });
    let wanted = sim.router.wanted_bitrates();
    let bob = wanted[&BOB] - AUDIO_BPS;
    let carol = wanted[&CAROL] - AUDIO_BPS;
    assert!((1_400_000..=1_800_000).contains(&bob), "{bob}");
    assert!((600_000..=900_000).contains(&carol), "{carol}");
    // A subscriber who wants nothing, or a muted track, counts for nothing.
    sim.input(Input::Subscribe {
        subscriber: CAROL,
        track: CAM,
        quality: None,
    });
    sim.input(Input::Muted {
        track: MIC,
        muted: true,
    });
    let wanted = sim.router.wanted_bitrates();
    assert_eq!(wanted.get(&CAROL).copied().unwrap_or(0), 0);
    assert!(
        !wanted.contains_key(&ALICE),
        "a publisher wants nothing of its own"
    );
}

#[test]
fn a_subscription_starts_only_when_its_stream_is_ready() {
    let mut sim = Sim::room(false);
    sim.instant_ready = false;
    sim.join(CAROL, ROOM);
    // Carol's m-lines are being negotiated: Bob is served, Carol gets nothing and nothing
    // is asked for on her behalf.
    let out = sim.packet(CAM, 0, 1, true);
    assert_eq!(forwards_to(&out, BOB).len(), 1);
    assert!(forwards_to(&out, CAROL).is_empty());
    sim.now += Duration::from_millis(200);
    let out = sim.packet(CAM, 0, 2, false);
    assert!(forwards_to(&out, CAROL).is_empty());
    assert!(keyframe_requests(&out).is_empty());
    // Ready: the next packet asks for a keyframe, and Carol starts on it.
    sim.input(Input::Ready {
        subscriber: CAROL,
        track: CAM,
    });
    let out = sim.packet(CAM, 0, 3, false);
    assert_eq!(keyframe_requests(&out), vec![(CAM, 0)]);
    assert!(forwards_to(&out, CAROL).is_empty());
    let out = sim.packet(CAM, 0, 4, true);
    assert_eq!(forwards_to(&out, CAROL).len(), 1);
    assert_eq!(forwards_to(&out, BOB).len(), 1);
}
