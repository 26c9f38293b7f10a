//! The hub's JSON messages through the session state machine: a host, a cohost, two
//! participants and a viewer send frames (arbitrary bytes, and JSON with ids of things that
//! exist), reconnect, leave, and time passes. The session must never panic, and the events
//! it asked to persist, read back from their stored JSON, must replay to exactly its state.
#![no_main]

use arbitrary::Arbitrary;
use chrono::{DateTime, Duration, Utc};
use libfuzzer_sys::fuzz_target;
use signaling::{
    AccountRole, BallotKey, ConnectionId, Output, ParticipantId, ParticipantInfo, PollId, Session,
    SessionConfig, SessionRole, StoredEvent, capabilities_for,
};
use uuid::Uuid;

#[derive(Arbitrary, Debug)]
enum Input {
    /// A frame; `@poll`, `@msg`, `@q` and `@p0`..`@p4` are replaced by the ids of the
    /// newest poll, chat message, question and of each person, so commands reach state.
    Frame {
        who: u8,
        text: String,
    },
    Bytes {
        who: u8,
        bytes: Vec<u8>,
    },
    Connect {
        who: u8,
        last_seq: Option<u64>,
    },
    Leave {
        who: u8,
    },
    Tick {
        secs: u16,
    },
    End,
}

const PEOPLE: [(AccountRole, SessionRole); 5] = [
    (AccountRole::Premium, SessionRole::Host),
    (AccountRole::User, SessionRole::Cohost),
    (AccountRole::User, SessionRole::Participant),
    (AccountRole::User, SessionRole::Participant),
    (AccountRole::User, SessionRole::Viewer),
];

fn person(i: usize) -> ParticipantInfo {
    let (account, role) = PEOPLE[i];
    ParticipantInfo {
        participant: ParticipantId(Uuid::from_u128(i as u128 + 1)),
        name: format!("person {i}"),
        account,
        role,
        capabilities: capabilities_for(account, role),
        hidden: false,
    }
}

fn keys(poll: PollId, user: ParticipantId) -> BallotKey {
    BallotKey([poll.0.as_bytes()[0] ^ user.0.as_bytes()[0]; 32])
}

/// Fills the placeholders with ids the session knows.
fn with_ids(session: &Session, text: &str) -> String {
    let state = session.state();
    let poll = state.polls.polls.last().map(|p| p.poll.0);
    let msg = state.chat.messages.back().map(|m| m.message.0);
    let question = state.qa.questions.last().map(|q| q.question.0);
    let mut text = text.to_owned();
    for (tag, id) in [("@poll", poll), ("@msg", msg), ("@q", question)] {
        text = text.replace(tag, &id.unwrap_or_default().to_string());
    }
    for i in 0..PEOPLE.len() {
        text = text.replace(&format!("@p{i}"), &person(i).participant.0.to_string());
    }
    text
}

fuzz_target!(|inputs: Vec<Input>| {
    let config = SessionConfig::default();
    let start: DateTime<Utc> = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let mut now = start;
    let mut session = Session::new(config.clone(), keys);
    let mut next_conn = 1;
    let mut conns: [Option<ConnectionId>; 5] = [None; 5];
    let mut stored = Vec::new();
    for input in inputs.into_iter().take(300) {
        let who = |w: u8| usize::from(w) % PEOPLE.len();
        match input {
            Input::Connect { who: w, last_seq } => {
                let connection = ConnectionId(next_conn);
                next_conn += 1;
                let join = signaling::Join {
                    connection,
                    info: person(who(w)),
                    last_seq,
                };
                if session.connect(join, now).is_ok() {
                    conns[who(w)] = Some(connection);
                }
            }
            Input::Frame { who: w, text } => {
                if let Some(conn) = conns[who(w)] {
                    let text = with_ids(&session, &text);
                    session.handle_frame(conn, text.as_bytes(), now);
                }
            }
            Input::Bytes { who: w, bytes } => {
                if let Some(conn) = conns[who(w)] {
                    session.handle_frame(conn, &bytes, now);
                }
            }
            Input::Leave { who: w } => {
                if let Some(conn) = conns[who(w)].take() {
                    session.disconnect(conn, now);
                }
            }
            Input::Tick { secs } => {
                now += Duration::seconds(i64::from(secs));
                session.tick(now);
            }
            Input::End => session.end(now),
        }
        while let Some(output) = session.poll_output() {
            if let Output::Persist(event) = output {
                stored.push(event.to_json());
            }
        }
    }
    let events = stored
        .iter()
        .map(|json| StoredEvent::from_json(json).expect("stored events read back"));
    let replayed = Session::replay(config, keys, events).expect("the log has no gaps");
    assert_eq!(
        replayed.state(),
        session.state(),
        "replaying the log rebuilds the state"
    );
});
