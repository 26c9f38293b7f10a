//! The async edge of note rooms (tokio only): a registry that loads rooms on demand and runs
//! each as one task fed by a bounded channel, with bounded per-connection outboxes.

mod actor;
mod command;
mod config;
mod connection;
mod error;
mod feed;
mod hold;
mod registry;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::{Access, NoteId, NoteStore, UserId};
use actor::RoomTask;
use command::{Command, Reply};
use registry::{Registry, RoomHandle};

pub use config::RoomsConfig;
pub use connection::{Connection, FrameSink, Outbox, Outgoing, RoomClosed};
pub use error::RoomsError;
pub use feed::{SingleNode, UpdateFeed};
pub use hold::TextHold;

/// A request meets a room that is unloading at that moment at most this often in a row.
const ATTEMPTS: usize = 3;

/// All note rooms of this server. Cheap to clone; clones share the rooms.
pub struct Rooms<S> {
    shared: Arc<Shared<S>>,
}

struct Shared<S> {
    store: Arc<S>,
    feed: Arc<dyn UpdateFeed>,
    config: RoomsConfig,
    registry: Registry,
    generations: AtomicU64,
    shutting_down: AtomicBool,
}

impl<S> Clone for Rooms<S> {
    fn clone(&self) -> Self {
        Rooms {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: NoteStore> Rooms<S> {
    /// Rooms of a single node backed by `store`. Must be called inside a tokio runtime's
    /// context when used.
    pub fn new(store: S, config: RoomsConfig) -> Self {
        Self::with_feed(store, config, Arc::new(SingleNode))
    }

    /// Rooms backed by `store` that also hand every stored update to `feed` (a cluster's
    /// publisher; see [`UpdateFeed`]).
    pub fn with_feed(store: S, config: RoomsConfig, feed: Arc<dyn UpdateFeed>) -> Self {
        Rooms {
            shared: Arc::new(Shared {
                store: Arc::new(store),
                feed,
                config,
                registry: Registry::default(),
                generations: AtomicU64::new(1),
                shutting_down: AtomicBool::new(false),
            }),
        }
    }

    /// Joins `user` to the note's room, loading it first if needed. The server has already
    /// checked the token (else 4401) and the user's access (else 4403). On error, close the
    /// socket with [`RoomsError::close_code`].
    pub async fn connect(
        &self,
        note: &NoteId,
        user: UserId,
        access: Access,
    ) -> Result<Connection, RoomsError> {
        self.request(note, |reply| Command::Connect {
            user: user.clone(),
            access,
            reply,
        })
        .await
    }

    /// Replaces the note's Markdown body (REST `PUT`), loading the room if needed. Returns
    /// once the change is stored; live editors receive it as a normal Yjs update.
    pub async fn replace_text(&self, note: &NoteId, text: String) -> Result<(), RoomsError> {
        self.request(note, |reply| Command::ReplaceText {
            text: text.clone(),
            reply,
        })
        .await
    }

    /// Holds the note's room for a REST change of its body based on `base`, the text its
    /// client read (loading the room if needed): [`RoomsError::TextChanged`] if the text is
    /// no longer `base`, else a [`TextHold`] during which no live edit lands. The holder
    /// commits the change's other fields, then calls [`TextHold::replace`] (or drops the hold
    /// to change nothing). Asking the same room for anything else meanwhile waits until the
    /// hold ends.
    pub async fn hold_text(&self, note: &NoteId, base: String) -> Result<TextHold, RoomsError> {
        self.request(note, |reply| Command::HoldText {
            base: base.clone(),
            reply,
        })
        .await
    }

    /// The note's current Markdown body, loading the room if needed.
    pub async fn text(&self, note: &NoteId) -> Result<String, RoomsError> {
        self.request(note, |reply| Command::Text { reply }).await
    }

    /// If the note's room is loaded, stores its text now unless the store's copy is current,
    /// and returns once it is (without a loaded room the stored text is current). The store's
    /// text otherwise trails a room being edited by up to [`RoomsConfig::save_text_every`]: a
    /// reader that wants the latest text, together with whatever the store counts along with
    /// it (the server's note version), calls this first.
    pub async fn save_loaded_text(&self, note: &NoteId) -> Result<(), RoomsError> {
        self.ask_loaded(note, |reply| Command::SaveText { reply })
            .await
            .unwrap_or(Ok(()))
    }

    /// Changes a user's access on their live connections, if the room is loaded (otherwise
    /// the next connect reads the new access anyway). `None` revokes: they close with 4403.
    /// `Some(Access::Read)` keeps them connected but drops their edits from then on.
    pub async fn set_access(&self, note: &NoteId, user: &UserId, access: Option<Access>) {
        self.ask_loaded(note, |reply| Command::SetAccess {
            user: user.clone(),
            access,
            reply,
        })
        .await;
    }

    /// An update another node stored for `note` (through its [`UpdateFeed`]): if the room
    /// is loaded here, it is applied and relayed to its connections, and not stored again.
    /// Without a loaded room there is nothing to do: the next load reads it from the store.
    /// Fails only for an update that does not decode or apply.
    pub async fn apply_remote(&self, note: &NoteId, update: Bytes) -> Result<(), RoomsError> {
        self.ask_loaded(note, |reply| Command::Remote { update, reply })
            .await
            .unwrap_or(Ok(()))
    }

    /// The note was deleted: closes its connections with 4404 and unloads the room without
    /// storing anything more.
    pub async fn close_note(&self, note: &NoteId) {
        self.ask_loaded(note, |reply| Command::Delete { reply })
            .await;
    }

    /// Compacts every room, closes all connections with 4501 (reconnect) and refuses new
    /// requests. Returns when every room has stopped.
    pub async fn shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
        for handle in self.shared.registry.handles() {
            let (reply, done) = oneshot::channel();
            if handle
                .commands
                .send(Command::Shutdown { reply })
                .await
                .is_ok()
            {
                let _ = done.await;
            }
        }
    }

    /// The configuration these rooms run with (the server sizes its sockets by its limits).
    pub fn config(&self) -> &RoomsConfig {
        &self.shared.config
    }

    /// Rooms currently loaded in memory.
    pub fn loaded_rooms(&self) -> usize {
        self.shared.registry.len()
    }

    /// Sends a request to the note's room (loading it), retrying when the room unloads
    /// under it.
    async fn request<T>(
        &self,
        note: &NoteId,
        command: impl Fn(Reply<T>) -> Command,
    ) -> Result<T, RoomsError> {
        for _ in 0..ATTEMPTS {
            let handle = self.room(note)?;
            let (reply, result) = oneshot::channel();
            if handle.commands.send(command(reply)).await.is_err() {
                self.shared.registry.remove(note, handle.generation);
                continue;
            }
            if let Ok(result) = result.await {
                return result;
            }
        }
        Err(RoomsError::Unavailable)
    }

    /// Sends a command to the note's room only if it is loaded, and waits for its answer.
    async fn ask_loaded<T>(
        &self,
        note: &NoteId,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Option<Result<T, RoomsError>> {
        let handle = self.shared.registry.get(note)?;
        let (reply, answer) = oneshot::channel();
        handle.commands.send(command(reply)).await.ok()?;
        answer.await.ok()
    }

    /// The running room for `note`, starting one if there is none.
    fn room(&self, note: &NoteId) -> Result<RoomHandle, RoomsError> {
        if self.shared.shutting_down.load(Ordering::SeqCst) {
            return Err(RoomsError::Unavailable);
        }
        let max = self.shared.config.max_loaded_rooms;
        self.shared
            .registry
            .get_or_spawn(note, max, || self.spawn(note))
            .ok_or(RoomsError::Unavailable)
    }

    fn spawn(&self, note: &NoteId) -> RoomHandle {
        let shared = &self.shared;
        let (commands, commands_rx) = mpsc::channel(shared.config.inbox_capacity.max(1));
        let (leaves, leaves_rx) = mpsc::unbounded_channel();
        let handle = RoomHandle {
            generation: shared.generations.fetch_add(1, Ordering::Relaxed),
            commands,
            leaves,
        };
        let task = RoomTask::new(
            note.clone(),
            (Arc::clone(&shared.store), Arc::clone(&shared.feed)),
            shared.config.clone(),
            shared.registry.clone(),
            handle.clone(),
            (commands_rx, leaves_rx),
        );
        tokio::spawn(task.run());
        handle
    }
}
