//! Randomized sessions: whatever happens, replaying the stored log rebuilds the same
//! state, the same snapshots, and the same resume ring.

mod common;

use common::{Client, Room, info, test_ballot_key};
use serde_json::{Value, json};
use signaling::{AccountRole, ParticipantInfo, Session, SessionConfig, SessionRole};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn coin(&mut self) -> bool {
        self.next().is_multiple_of(2)
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }
}

/// Ids the room has handed out so far, so random commands hit real targets.
#[derive(Default)]
struct Known {
    messages: Vec<Value>,
    polls: Vec<Value>,
    questions: Vec<Value>,
}

fn random_command(rng: &mut Rng, known: &Known, people: &[ParticipantInfo]) -> Value {
    let any = |rng: &mut Rng, list: &[Value]| {
        if list.is_empty() {
            json!(uuid::Uuid::new_v4())
        } else {
            rng.pick(list)
        }
    };
    let someone = json!(rng.pick(people).participant);
    let roles = ["viewer", "participant", "presenter"];
    match rng.next() % 22 {
        0 | 1 => json!({"type": "chat.send", "text": format!("m{}", rng.next() % 100)}),
        2 => json!({"type": "chat.send", "text": "dm", "to": someone}),
        3 => json!({"type": "chat.edit", "message": any(rng, &known.messages), "text": "edited"}),
        4 => json!({"type": "chat.delete", "message": any(rng, &known.messages)}),
        5 => {
            json!({"type": "chat.react", "message": any(rng, &known.messages), "emoji": rng.pick(&["👍", "🎉"]), "on": !rng.next().is_multiple_of(3)})
        }
        6 => {
            json!({"type": "poll.create", "question": "q", "options": ["a", "b", "c"], "multiple": rng.coin(), "anonymous": rng.coin()})
        }
        7 => {
            json!({"type": rng.pick(&["poll.open", "poll.close", "poll.publish"]), "poll": any(rng, &known.polls)})
        }
        8 | 9 => {
            json!({"type": "poll.vote", "poll": any(rng, &known.polls), "choices": [rng.next() % 3]})
        }
        10 => json!({"type": "qa.ask", "text": "q?", "anonymous": rng.coin()}),
        11 => json!({"type": "qa.upvote", "question": any(rng, &known.questions)}),
        12 => {
            json!({"type": rng.pick(&["qa.answer", "qa.dismiss", "qa.pin"]), "question": any(rng, &known.questions)})
        }
        13 => json!({"type": "hand.raise"}),
        14 => json!({"type": "hand.lower", "participant": someone}),
        15 => {
            json!({"type": "media.state", "mic": rng.coin(), "camera": rng.coin()})
        }
        16 => json!({"type": "mod.set_role", "participant": someone, "role": rng.pick(&roles)}),
        17 => json!({"type": "chat.lock", "locked": rng.coin()}),
        18 => json!({"type": "mod.mute_request", "participant": someone}),
        19 => json!({"type": rng.pick(&["recording.start", "recording.stop", "hand.lower_all"])}),
        20 => json!({"type": "chat.typing"}),
        _ => json!({"type": "qa.upvote", "question": any(rng, &known.questions)}),
    }
}

fn remember(known: &mut Known, result: &Value) {
    if let Some(id) = result.get("message") {
        known.messages.push(id.clone());
    }
    if let Some(id) = result.get("poll") {
        known.polls.push(id.clone());
    }
    if let Some(id) = result.get("question") {
        known.questions.push(id.clone());
    }
}

#[test]
fn random_sessions_replay_to_the_same_state() {
    let mut resumed = 0;
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut room = Room::new();
        let mut people: Vec<ParticipantInfo> =
            vec![info("Host", AccountRole::Premium, SessionRole::Host)];
        for i in 0..5 {
            let role = rng.pick(&[
                SessionRole::Participant,
                SessionRole::Presenter,
                SessionRole::Viewer,
            ]);
            people.push(info(&format!("P{i}"), AccountRole::User, role));
        }
        let mut online: Vec<Option<Client>> = people
            .iter()
            .map(|p| Some(room.join_info(p.clone())))
            .collect();
        let mut known = Known::default();
        for _ in 0..300 {
            room.advance((rng.next() % 3) as i64);
            let who = (rng.next() % people.len() as u64) as usize;
            match (online[who], rng.next() % 20) {
                (Some(client), 0) => {
                    room.disconnect(client);
                    online[who] = None;
                }
                (None, _) => {
                    let last = Some(room.session.seq().saturating_sub(rng.next() % 10));
                    online[who] = room.connect(people[who].clone(), last).ok();
                }
                (Some(client), _) => {
                    let command = random_command(&mut rng, &known, &people);
                    room.send(client, command);
                    let reply = room.reply(client);
                    remember(&mut known, reply.get("result").unwrap_or(&Value::Null));
                }
            }
        }
        let session = Session::replay(
            SessionConfig::default(),
            test_ballot_key,
            room.stored.clone(),
        )
        .unwrap();
        assert_eq!(session.state(), room.session.state(), "seed {seed}");
        for p in &people {
            let (a, b) = (
                session.snapshot_for(p.participant),
                room.session.snapshot_for(p.participant),
            );
            assert_eq!(a, b, "seed {seed}");
        }
        assert!(
            room.stored.len() > 50,
            "seed {seed}: the script did things ({})",
            room.stored.len()
        );

        // someone offline resumes from 40 events back: the same frames from both rooms
        if let Some(who) = online.iter().position(Option::is_none) {
            resumed += 1;
            let mut replayed = Room::from_session(session, room.stored.clone());
            replayed.now = room.now;
            let last = Some(room.session.seq().saturating_sub(40));
            let live = room.connect(people[who].clone(), last).unwrap();
            let again = replayed.connect(people[who].clone(), last).unwrap();
            let frames = room.take(live);
            assert!(frames.len() > 1, "seed {seed}: events were missed");
            assert_eq!(frames, replayed.take(again), "seed {seed}");
        }
    }
    assert!(resumed >= 5, "the resume check ran ({resumed} seeds)");
}
