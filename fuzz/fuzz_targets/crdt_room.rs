//! A note room driven by a sequence of inputs from several connections, readers and writers:
//! well-formed edits (made by real Yjs client documents), awareness with chosen client ids,
//! raw frames, REST replacements, access changes, leaves and ticks, with time passing.
//! After every input the room must not panic; at the end, the updates it asked to persist
//! must rebuild exactly its text (nothing acknowledged is lost, nothing unstored is shown).
#![no_main]

use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use crdt::{Access, CloseCode, ConnId, Input, Limits, Output, Room, UserId};
use libfuzzer_sys::fuzz_target;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, Text, Transact};

#[derive(Arbitrary, Debug)]
enum Step {
    Connect {
        user: u8,
        write: bool,
    },
    Edit {
        conn: u8,
        at: u16,
        delete: u8,
        insert: String,
    },
    SyncStep1 {
        conn: u8,
    },
    Awareness {
        conn: u8,
        client: u8,
        clock: u32,
        state: Option<String>,
    },
    Raw {
        conn: u8,
        frame: Vec<u8>,
    },
    Replace {
        text: String,
    },
    SetAccess {
        user: u8,
        access: Option<bool>,
    },
    Leave {
        conn: u8,
    },
    Close {
        conn: u8,
    },
    Tick,
    Wait {
        millis: u16,
    },
}

/// A client: a Yjs document of its own, synced from what the room sends it.
struct Client {
    conn: ConnId,
    doc: Doc,
}

impl Client {
    fn edit(&self, at: u16, delete: u8, insert: &str) -> Vec<u8> {
        let text = self.doc.get_or_insert_text(crdt::CONTENT_TEXT);
        let before = self.doc.transact().state_vector();
        {
            let mut txn = self.doc.transact_mut();
            // yrs counts this document's text in UTF-8 bytes: an offset inside a character
            // makes `remove_range` panic in the client's own edit (the harness misusing
            // yrs, not the room failing), so both ends go to character boundaries.
            let content = text.get_string(&txn);
            let mut start = usize::from(at) % (content.len() + 1);
            while !content.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + usize::from(delete)).min(content.len());
            while !content.is_char_boundary(end) {
                end += 1;
            }
            let (at, delete) = (start as u32, (end - start) as u32);
            if delete > 0 {
                text.remove_range(&mut txn, at, delete);
            }
            if !insert.is_empty() {
                text.insert(&mut txn, at, insert);
            }
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        Message::Sync(SyncMessage::Update(update)).encode_v1()
    }

    fn sync_step1(&self) -> Vec<u8> {
        let sv = self.doc.transact().state_vector();
        Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1()
    }
}

/// An awareness message for `client` as the npm provider sends it.
fn awareness_frame(client: u8, clock: u32, state: Option<&str>) -> Vec<u8> {
    let json = state.map(|s| serde_json::json!({ "user": { "name": s } }).to_string());
    let mut update = AwarenessUpdate {
        clients: Default::default(),
    };
    update.clients.insert(
        ClientID::new(u64::from(client)),
        yrs::sync::awareness::AwarenessUpdateEntry {
            clock,
            json: json.unwrap_or_else(|| "null".to_owned()).into(),
        },
    );
    Message::Awareness(update).encode_v1()
}

/// Feeds one input and collects the outputs up to the room's timeout. Only a REST
/// replacement may fail (too large), and a failed input changes nothing.
fn step(room: &mut Room, now: Instant, input: Input<'_>) -> Vec<Output> {
    let _ = room.handle_input(now, input);
    let mut outputs = Vec::new();
    loop {
        match room.poll_output() {
            Output::Timeout(_) => return outputs,
            output => outputs.push(output),
        }
    }
}

fn user(n: u8) -> UserId {
    format!("user-{}", n % 4).into()
}

fuzz_target!(|steps: Vec<Step>| {
    let limits = Limits::default();
    let mut now = Instant::now();
    let mut room = Room::new(limits.clone(), now);
    let mut clients: Vec<Client> = Vec::new();
    let mut persisted: Vec<bytes::Bytes> = Vec::new();
    for (n, input) in steps.into_iter().take(200).enumerate() {
        let pick = |i: u8| (!clients.is_empty()).then(|| usize::from(i) % clients.len());
        let outputs = match input {
            Step::Connect { user: who, write } => {
                let access = if write { Access::Write } else { Access::Read };
                let conn = ConnId(n as u64 + 1);
                let who = user(who);
                let out = step(
                    &mut room,
                    now,
                    Input::Connect {
                        conn,
                        user: &who,
                        access,
                    },
                );
                clients.push(Client {
                    conn,
                    doc: Doc::new(),
                });
                out
            }
            Step::Edit {
                conn,
                at,
                delete,
                insert,
            } => match pick(conn) {
                Some(i) => {
                    let frame = clients[i].edit(at, delete, &insert);
                    let conn = clients[i].conn;
                    step(&mut room, now, Input::Frame { conn, frame: &frame })
                }
                None => continue,
            },
            Step::SyncStep1 { conn } => match pick(conn) {
                Some(i) => {
                    let frame = clients[i].sync_step1();
                    let conn = clients[i].conn;
                    step(&mut room, now, Input::Frame { conn, frame: &frame })
                }
                None => continue,
            },
            Step::Awareness {
                conn,
                client,
                clock,
                state,
            } => match pick(conn) {
                Some(i) => {
                    let frame = awareness_frame(client, clock, state.as_deref());
                    let conn = clients[i].conn;
                    step(&mut room, now, Input::Frame { conn, frame: &frame })
                }
                None => continue,
            },
            Step::Raw { conn, frame } => match pick(conn) {
                Some(i) => {
                    let conn = clients[i].conn;
                    step(&mut room, now, Input::Frame { conn, frame: &frame })
                }
                None => continue,
            },
            Step::Replace { text } => step(&mut room, now, Input::ReplaceText(&text)),
            Step::SetAccess { user: who, access } => {
                let access = access.map(|w| if w { Access::Write } else { Access::Read });
                let who = user(who);
                step(&mut room, now, Input::SetAccess { user: &who, access })
            }
            Step::Leave { conn } => match pick(conn) {
                Some(i) => step(&mut room, now, Input::Disconnect(clients[i].conn)),
                None => continue,
            },
            Step::Close { conn } => match pick(conn) {
                Some(i) => {
                    let conn = clients[i].conn;
                    let code = CloseCode::BadMessage;
                    step(&mut room, now, Input::Close { conn, code })
                }
                None => continue,
            },
            Step::Tick => step(&mut room, now, Input::Timeout),
            Step::Wait { millis } => {
                now += Duration::from_millis(u64::from(millis) * 10);
                continue;
            }
        };
        deliver(&outputs, &clients, &mut persisted);
    }
    let reloaded = Room::load(None, persisted.iter().map(|u| u.as_ref()), limits, now)
        .expect("what the room persisted reloads");
    assert_eq!(
        reloaded.text(),
        room.text(),
        "persisted updates rebuild the text"
    );
});

/// Applies what the room sent to each client's document (sync step 2 and updates), so later
/// edits build on what the client really saw; collects the persisted updates.
fn deliver(outputs: &[Output], clients: &[Client], persisted: &mut Vec<bytes::Bytes>) {
    for output in outputs {
        let (to, frame): (Vec<ConnId>, &bytes::Bytes) = match output {
            Output::Persist(update) => {
                persisted.push(update.clone());
                continue;
            }
            Output::Send { to, frame } => (vec![*to], frame),
            Output::Broadcast { to, frame } => (to.clone(), frame),
            Output::Close { .. } | Output::Timeout(_) => continue,
        };
        for client in clients.iter().filter(|c| to.contains(&c.conn)) {
            apply_frame(&client.doc, frame);
        }
    }
}

fn apply_frame(doc: &Doc, frame: &[u8]) {
    use yrs::updates::decoder::Decode;
    let update = match Message::decode_v1(frame) {
        Ok(Message::Sync(SyncMessage::SyncStep2(u) | SyncMessage::Update(u))) => u,
        _ => return,
    };
    let update = yrs::Update::decode_v1(&update).expect("the room sends valid updates");
    doc.transact_mut()
        .apply_update(update)
        .expect("the room's updates apply");
}
