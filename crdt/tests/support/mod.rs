//! A Yjs client that speaks y-websocket the way the npm provider does, built on a real
//! `yrs` document: on open it sends sync step 1 and its awareness; it answers step 1 with
//! step 2; it applies step 2, updates and awareness; its edits go out as update messages.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::HashMap;

use bytes::Bytes;
use yrs::encoding::read::Cursor;
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{Awareness, AwarenessUpdate, Message, MessageReader, SyncMessage};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{ClientID, Doc, GetString, ReadTxn, Text, TextRef, Transact, Update};

pub struct YClient {
    awareness: Awareness,
    text: TextRef,
    /// Sync step 2 received: what `provider.synced` reports.
    pub synced: bool,
    /// Reasons of auth "permission denied" messages received.
    pub denied: Vec<String>,
}

impl Default for YClient {
    fn default() -> Self {
        Self::new()
    }
}

impl YClient {
    pub fn new() -> Self {
        let doc = Doc::new();
        let text = doc.get_or_insert_text(crdt::CONTENT_TEXT);
        YClient {
            awareness: Awareness::new(doc),
            text,
            synced: false,
            denied: Vec::new(),
        }
    }

    /// A client whose document already holds `state` (a Yjs v1 update), like a provider
    /// reconnecting after it was in sync.
    pub fn with_state(state: &[u8]) -> Self {
        let mut client = Self::new();
        client.apply(state);
        client
    }

    pub fn client_id(&self) -> ClientID {
        self.awareness.client_id()
    }

    /// The frames the provider sends when its socket opens.
    pub fn hello(&self) -> Vec<Bytes> {
        let sv = self.awareness.doc().transact().state_vector();
        let mut frames = vec![frame(&Message::Sync(SyncMessage::SyncStep1(sv)))];
        if self.awareness.local_state_raw().is_some() {
            frames.push(self.own_awareness());
        }
        frames
    }

    /// Handles one frame from the server; returns the replies to send back.
    pub fn handle(&mut self, bytes: &[u8]) -> Vec<Bytes> {
        let mut replies = Vec::new();
        let mut decoder = DecoderV1::new(Cursor::new(bytes));
        for message in MessageReader::new(&mut decoder) {
            match message.expect("server frames decode") {
                Message::Sync(SyncMessage::SyncStep1(sv)) => {
                    let update = self
                        .awareness
                        .doc()
                        .transact()
                        .encode_state_as_update_v1(&sv);
                    replies.push(frame(&Message::Sync(SyncMessage::SyncStep2(update))));
                }
                Message::Sync(SyncMessage::SyncStep2(update)) => {
                    self.apply(&update);
                    self.synced = true;
                }
                Message::Sync(SyncMessage::Update(update)) => self.apply(&update),
                Message::Awareness(update) => replies.extend(self.apply_awareness(update)),
                Message::Auth(reason) => self.denied.extend(reason),
                Message::AwarenessQuery => replies.push(self.own_awareness()),
                Message::Custom(tag, _) => panic!("server sent custom message {tag}"),
            }
        }
        replies
    }

    /// Types `chunk` at `index`; returns the update frame the provider would send.
    pub fn insert(&mut self, index: u32, chunk: &str) -> Bytes {
        let mut txn = self.awareness.doc().transact_mut();
        self.text.insert(&mut txn, index, chunk);
        txn.commit();
        frame(&Message::Sync(SyncMessage::Update(txn.encode_update_v1())))
    }

    /// Appends `chunk` at the end of the text.
    pub fn append(&mut self, chunk: &str) -> Bytes {
        let len = self.text().len();
        self.insert(u32::try_from(len).expect("small text"), chunk)
    }

    pub fn text(&self) -> String {
        self.text.get_string(&self.awareness.doc().transact())
    }

    /// Sets this client's presence (name, cursor); returns the awareness frame.
    pub fn set_presence(&mut self, name: &str) -> Bytes {
        self.awareness
            .set_local_state_raw(format!(r#"{{"user":{{"name":"{name}"}}}}"#));
        self.own_awareness()
    }

    /// This client's copy of another client's awareness state, as the frame the npm
    /// provider would echo after hearing it.
    pub fn awareness_of(&self, id: ClientID) -> Bytes {
        let update = self
            .awareness
            .update_with_clients([id])
            .expect("state known");
        frame(&Message::Awareness(update))
    }

    /// Whether this client currently sees a presence state for `id`.
    pub fn sees_presence_of(&self, id: ClientID) -> bool {
        self.awareness
            .iter()
            .any(|(other, state)| other == id && state.data.is_some())
    }

    /// The presence state this client holds for `id` (its JSON), if any.
    pub fn presence_of(&self, id: ClientID) -> Option<String> {
        self.awareness
            .iter()
            .find(|(other, _)| *other == id)
            .and_then(|(_, state)| state.data.as_deref().map(str::to_owned))
    }

    fn own_awareness(&self) -> Bytes {
        let update = self
            .awareness
            .update_with_clients([self.client_id()])
            .expect("own state known");
        frame(&Message::Awareness(update))
    }

    /// Applies awareness and, like the npm provider, re-sends whatever changed (its
    /// awareness "update" handler does not look at the origin).
    fn apply_awareness(&mut self, update: AwarenessUpdate) -> Option<Bytes> {
        let summary = self
            .awareness
            .apply_update_summary(update)
            .expect("awareness applies")?;
        let changed = self
            .awareness
            .update_with_clients(summary.all_changes())
            .expect("changed clients known");
        Some(frame(&Message::Awareness(changed)))
    }

    fn apply(&mut self, update: &[u8]) {
        let update = Update::decode_v1(update).expect("server updates decode");
        self.awareness
            .doc()
            .transact_mut()
            .apply_update(update)
            .expect("server updates apply");
    }
}

/// An awareness frame claiming `id`'s state is `json` (`"null"`: removed) at `clock`, as a
/// client could forge it for someone else's id.
pub fn forged_awareness(id: ClientID, clock: u32, json: &str) -> Bytes {
    let entry = AwarenessUpdateEntry {
        clock,
        json: json.into(),
    };
    let clients = HashMap::from([(id, entry)]);
    frame(&Message::Awareness(AwarenessUpdate { clients }))
}

pub fn frame(message: &Message) -> Bytes {
    Bytes::from(message.encode_v1())
}

/// Whether a frame is a Yjs document update (sync step 2 or update).
pub fn is_doc_update(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == 0 && (bytes[1] == 1 || bytes[1] == 2)
}
