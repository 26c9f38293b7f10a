//! One room as one task: it owns the [`Room`], applies commands in order, stores updates
//! before delivering anything that follows them, and unloads itself when idle.
//!
//! Of its own writes, only appends hold the room up (a REST body change holds it too: see
//! [`TextHold`]). Its upkeep writes (the plain text about once a second, a
//! snapshot every few hundred updates) grow with the document and re-index it for search,
//! which takes milliseconds for a large note; they run beside the room, one at a time, so
//! typing in a big document does not stall behind them.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::mpsc::error::{TryRecvError, TrySendError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::command::{Command, Reply};
use super::hold::HOLD_LIMIT;
use super::registry::{Registry, RoomHandle};
use super::{Connection, FrameSink, Outbox, RoomsConfig, RoomsError, TextHold};
use crate::{
    Access, CloseCode, ConnId, NoteId, NoteStore, Output, Room, Snapshot, StoreError, UserId,
};

/// The writing half of one connection's outbox.
struct Link {
    frames: mpsc::Sender<Bytes>,
    close: oneshot::Sender<CloseCode>,
}

/// Whether the task keeps running after an event. On `Stop`, queued requests are refused
/// with the error, or (without one) dropped so their callers retry on a fresh room.
enum Flow {
    Continue,
    Stop(Option<RoomsError>),
}

/// What wakes the task.
enum Event {
    Command(Command),
    Leave(ConnId),
    Tick,
    Upkept(Upkeep),
}

/// A finished upkeep write: the text is stored through `through_seq`, and for a compaction
/// `folded` stored updates are now in the snapshot.
struct Upkeep {
    through_seq: u64,
    folded: u64,
    outcome: Result<(), StoreError>,
}

pub(super) struct RoomTask<S> {
    note: NoteId,
    store: Arc<S>,
    config: RoomsConfig,
    registry: Registry,
    handle: RoomHandle,
    commands: mpsc::Receiver<Command>,
    leaves: mpsc::UnboundedReceiver<ConnId>,
}

/// Where a freshly loaded note's log stands.
struct LoadedLog {
    last_seq: u64,
    unsnapshotted: u64,
    text_seq: u64,
}

/// A loaded room and its bookkeeping.
struct LiveRoom<S> {
    task: RoomTask<S>,
    room: Room,
    links: HashMap<ConnId, Link>,
    /// A command taken while batching frames, handled next.
    stash: Option<Command>,
    last_seq: u64,
    /// Stored updates not yet folded into a snapshot.
    unsnapshotted: u64,
    /// The last update the store's plain text reflects.
    text_seq: u64,
    text_saved_at: Instant,
    last_store: Instant,
    empty_since: Instant,
    /// The text save or compaction being written, if any.
    upkeep: Option<JoinHandle<Upkeep>>,
}

fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

impl<S: NoteStore> RoomTask<S> {
    pub(super) fn new(
        note: NoteId,
        store: Arc<S>,
        config: RoomsConfig,
        registry: Registry,
        handle: RoomHandle,
        receivers: (mpsc::Receiver<Command>, mpsc::UnboundedReceiver<ConnId>),
    ) -> Self {
        RoomTask {
            note,
            store,
            config,
            registry,
            handle,
            commands: receivers.0,
            leaves: receivers.1,
        }
    }

    /// Loads the note, then serves it until it unloads.
    pub(super) async fn run(self) {
        match self.load().await {
            Ok((room, stored)) => {
                let started = now();
                let mut live = LiveRoom {
                    task: self,
                    room,
                    links: HashMap::new(),
                    stash: None,
                    last_seq: stored.last_seq,
                    unsnapshotted: stored.unsnapshotted,
                    text_seq: stored.text_seq,
                    text_saved_at: started,
                    last_store: started,
                    empty_since: started,
                    upkeep: None,
                };
                // A crash can leave the text behind the log; catch up before serving.
                if live.save_text().await.is_err() {
                    live.task.retire(Some(RoomsError::Unavailable)).await;
                    return;
                }
                live.serve().await;
            }
            Err(error) => {
                tracing::warn!(note = %self.note, %error, "could not load note room");
                self.retire(Some(error)).await;
            }
        }
    }

    async fn load(&self) -> Result<(Room, LoadedLog), RoomsError> {
        let stored = self.store.load(&self.note).await?;
        let log = LoadedLog {
            // With the log compacted away, the text was written with the snapshot.
            last_seq: stored
                .updates
                .last()
                .map_or(stored.text_seq, |(seq, _)| *seq),
            unsnapshotted: u64::try_from(stored.updates.len()).unwrap_or(u64::MAX),
            text_seq: stored.text_seq,
        };
        let updates = stored.updates.iter().map(|(_, bytes)| bytes.as_slice());
        let room = Room::load(
            stored.snapshot.as_deref(),
            updates,
            self.config.limits.clone(),
            now(),
        )?;
        Ok((room, log))
    }

    /// Leaves the registry and answers whatever is still queued: with `error`, or by dropping
    /// the reply so the caller retries on a fresh room.
    async fn retire(mut self, error: Option<RoomsError>) {
        self.registry.remove(&self.note, self.handle.generation);
        self.commands.close();
        while let Some(command) = self.commands.recv().await {
            match &error {
                Some(error) => command.refuse(error.clone()),
                None => drop(command),
            }
        }
    }
}

impl<S: NoteStore> LiveRoom<S> {
    async fn serve(mut self) {
        let mut ticker = tokio::time::interval(self.task.config.tick_interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let event = match self.stash.take() {
                Some(command) => Event::Command(command),
                None => tokio::select! {
                    biased;
                    Some(conn) = self.task.leaves.recv() => Event::Leave(conn),
                    Some(command) = self.task.commands.recv() => Event::Command(command),
                    _ = ticker.tick() => Event::Tick,
                    Some(done) = upkept(&mut self.upkeep) => Event::Upkept(done),
                },
            };
            let flow = match event {
                Event::Command(command) => self.on_command(command).await,
                Event::Leave(conn) => self.on_leave(conn),
                Event::Tick => self.on_tick().await,
                Event::Upkept(done) => {
                    let _ = self.on_upkept(done);
                    Flow::Continue
                }
            };
            if let Flow::Stop(error) = flow {
                self.task.retire(error).await;
                return;
            }
        }
    }

    async fn on_command(&mut self, command: Command) -> Flow {
        match command {
            Command::Connect {
                user,
                access,
                reply,
            } => {
                self.on_connect(user, access, reply);
                Flow::Continue
            }
            Command::Frame { conn, frame } => {
                let outputs = self.receive_batch(conn, frame);
                match self.flush(outputs).await {
                    Ok(()) => Flow::Continue,
                    Err(error) => self.storage_failed(error),
                }
            }
            Command::ReplaceText { text, reply } => self.on_replace_text(&text, reply).await,
            Command::HoldText { base, reply } => self.on_hold_text(&base, reply).await,
            Command::Text { reply } => {
                let _ = reply.send(Ok(self.room.text()));
                Flow::Continue
            }
            Command::SaveText { reply } => {
                let _ = reply.send(self.save_text().await);
                Flow::Continue
            }
            Command::SetAccess {
                user,
                access,
                reply,
            } => {
                let outputs = self.room.set_access(&user, access, now());
                self.deliver(outputs);
                let _ = reply.send(Ok(()));
                Flow::Continue
            }
            Command::Delete { reply } => {
                let outputs = self.room.close_all(CloseCode::NoSuchNote, now());
                self.deliver(outputs);
                let _ = reply.send(Ok(()));
                Flow::Stop(Some(RoomsError::NotFound))
            }
            Command::Shutdown { reply } => {
                self.compact().await;
                let outputs = self.room.close_all(CloseCode::RoomUnloading, now());
                self.deliver(outputs);
                let _ = reply.send(Ok(()));
                Flow::Stop(Some(RoomsError::Unavailable))
            }
        }
    }

    fn on_connect(&mut self, user: UserId, access: Access, reply: Reply<Connection>) {
        let (conn, outputs) = self.room.connect(user, access, now());
        let (frames_tx, frames_rx) = mpsc::channel(self.task.config.outgoing_queue.max(1));
        let (close_tx, close_rx) = oneshot::channel();
        let link = Link {
            frames: frames_tx,
            close: close_tx,
        };
        self.links.insert(conn, link);
        let handle = &self.task.handle;
        let connection = Connection {
            id: conn,
            sink: FrameSink::new(conn, handle.commands.clone(), handle.leaves.clone()),
            outbox: Outbox::new(frames_rx, close_rx),
        };
        // If the caller gave up, dropping the connection's sink reports the leave.
        if reply.send(Ok(connection)).is_ok() {
            self.deliver(outputs);
        }
    }

    async fn on_replace_text(&mut self, text: &str, reply: Reply<()>) -> Flow {
        let outputs = match self.room.replace_text(text) {
            Ok(outputs) => outputs,
            Err(error) => {
                let _ = reply.send(Err(error.into()));
                return Flow::Continue;
            }
        };
        if let Err(error) = self.flush(outputs).await {
            let _ = reply.send(Err(error.clone()));
            return self.storage_failed(error);
        }
        // REST callers read the stored text right after this answer.
        let _ = reply.send(self.save_text().await);
        Flow::Continue
    }

    /// If the text is still `base`, hands out a [`TextHold`] and serves nothing else until
    /// its holder replaces the text, lets go, or runs out of [`HOLD_LIMIT`]. Frames queue
    /// meanwhile (their senders wait, as for any full inbox).
    async fn on_hold_text(&mut self, base: &str, reply: Reply<TextHold>) -> Flow {
        if self.room.text() != base {
            let _ = reply.send(Err(RoomsError::TextChanged));
            return Flow::Continue;
        }
        let (replace, replaced) = oneshot::channel();
        if reply.send(Ok(TextHold::new(replace))).is_err() {
            return Flow::Continue;
        }
        match tokio::time::timeout(HOLD_LIMIT, replaced).await {
            Ok(Ok((text, reply))) => self.on_replace_text(&text, reply).await,
            // Let go, or too slow: nothing changed.
            Ok(Err(_)) | Err(_) => Flow::Continue,
        }
    }

    /// Handles this frame and any frames queued right behind it as one batch, so their
    /// updates are stored in one append and relayed in one frame.
    fn receive_batch(&mut self, conn: ConnId, frame: Bytes) -> Vec<Output> {
        let mut frames = vec![(conn, frame)];
        while frames.len() < self.task.config.max_batch {
            match self.task.commands.try_recv() {
                Ok(Command::Frame { conn, frame }) => frames.push((conn, frame)),
                Ok(other) => {
                    self.stash = Some(other);
                    break;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let frames = frames.iter().map(|(conn, frame)| (*conn, frame.as_ref()));
        self.room.receive_frames(frames, now())
    }

    fn on_leave(&mut self, conn: ConnId) -> Flow {
        self.links.remove(&conn);
        let outputs = self.room.disconnect(conn, now());
        self.deliver(outputs);
        self.track_occupancy();
        Flow::Continue
    }

    async fn on_tick(&mut self) -> Flow {
        let at = now();
        let outputs = self.room.tick(at);
        self.deliver(outputs);
        let config = &self.task.config;
        if self.unsnapshotted > 0 && at.duration_since(self.last_store) >= config.compact_when_idle
        {
            self.start_compaction();
        }
        if at.duration_since(self.text_saved_at) >= self.task.config.save_text_every {
            self.start_text_save();
        }
        if self.room.connection_count() == 0
            && at.duration_since(self.empty_since) >= self.task.config.unload_after
        {
            tracing::debug!(note = %self.task.note, "unloading idle note room");
            self.compact().await;
            return Flow::Stop(None);
        }
        Flow::Continue
    }

    /// The durability contract: store every update in `outputs` (one append), and only then
    /// perform the sends and closes. An error means the room holds edits the store does not.
    async fn flush(&mut self, outputs: Vec<Output>) -> Result<(), RoomsError> {
        let updates: Vec<Bytes> = outputs
            .iter()
            .filter_map(|output| match output {
                Output::Persist(update) => Some(update.clone()),
                _ => None,
            })
            .collect();
        if !updates.is_empty() {
            let seq = self.task.store.append(&self.task.note, &updates).await?;
            self.last_seq = seq;
            self.unsnapshotted += u64::try_from(updates.len()).unwrap_or(u64::MAX);
            self.last_store = now();
        }
        self.deliver(outputs);
        if self.unsnapshotted >= self.task.config.compact_after_updates {
            self.start_compaction();
        }
        Ok(())
    }

    /// Drops the room: everyone reconnects (4502) to a room reloaded from storage and
    /// resends their edits in sync step 2.
    fn storage_failed(&mut self, error: RoomsError) -> Flow {
        tracing::error!(note = %self.task.note, %error, "storing a note update failed");
        let outputs = self.room.close_all(CloseCode::StorageFailed, now());
        self.deliver(outputs);
        Flow::Stop(Some(error))
    }

    /// Saves the plain text if the store's copy is behind the log, and waits for it (and for
    /// any upkeep already under way). A failure is only logged here (the log is complete;
    /// the next tick tries again) and returned.
    async fn save_text(&mut self) -> Result<(), RoomsError> {
        // Whatever the earlier write's outcome (logged), this save stands on its own.
        let _ = self.finish_upkeep().await;
        self.start_text_save();
        self.finish_upkeep().await
    }

    /// Starts saving the plain text if the store's copy is behind the log and no upkeep is
    /// under way.
    fn start_text_save(&mut self) {
        if self.upkeep.is_some() || self.text_seq >= self.last_seq {
            return;
        }
        let (store, note) = (Arc::clone(&self.task.store), self.task.note.clone());
        let (text, through_seq) = (self.room.text(), self.last_seq);
        self.text_saved_at = now();
        self.upkeep = Some(tokio::spawn(async move {
            let outcome = store.save_text(&note, &text, through_seq).await;
            Upkeep {
                through_seq,
                folded: 0,
                outcome,
            }
        }));
    }

    /// Folds the stored updates into a snapshot and waits for it: before unloading, where
    /// the next load should find one snapshot, not a log.
    async fn compact(&mut self) {
        let _ = self.finish_upkeep().await;
        self.start_compaction();
        let _ = self.finish_upkeep().await;
    }

    /// Starts folding the stored updates into a snapshot unless upkeep is under way. A
    /// failure leaves the log as it was, which is still complete, so the room carries on.
    fn start_compaction(&mut self) {
        if self.upkeep.is_some() || self.unsnapshotted == 0 {
            return;
        }
        let (store, note) = (Arc::clone(&self.task.store), self.task.note.clone());
        let (through_seq, folded) = (self.last_seq, self.unsnapshotted);
        let snapshot = Snapshot {
            state: self.room.encode_state(),
            through_seq,
            text: self.room.text(),
        };
        self.upkeep = Some(tokio::spawn(async move {
            let outcome = store.compact(&note, snapshot).await;
            Upkeep {
                through_seq,
                folded,
                outcome,
            }
        }));
    }

    /// Waits for the upkeep under way, if any, and takes in its outcome.
    async fn finish_upkeep(&mut self) -> Result<(), RoomsError> {
        match upkept(&mut self.upkeep).await {
            Some(done) => self.on_upkept(done),
            None => Ok(()),
        }
    }

    fn on_upkept(&mut self, done: Upkeep) -> Result<(), RoomsError> {
        match done.outcome {
            Ok(()) => {
                self.text_seq = self.text_seq.max(done.through_seq);
                self.unsnapshotted = self.unsnapshotted.saturating_sub(done.folded);
                Ok(())
            }
            Err(error) => {
                tracing::warn!(note = %self.task.note, %error, "saving a note's text or snapshot failed");
                Err(error.into())
            }
        }
    }

    /// Performs sends and closes in order. A full queue closes that connection with 4500
    /// instead of growing; the room's reaction (awareness removal) is delivered in turn.
    fn deliver(&mut self, outputs: Vec<Output>) {
        let mut queue: VecDeque<Output> = outputs.into();
        while let Some(output) = queue.pop_front() {
            match output {
                // Stored by `flush`; close and leave outputs never carry updates.
                Output::Persist(_) => {}
                Output::Send { to, frame } => self.push(to, frame, &mut queue),
                Output::Broadcast { to, frame } => {
                    for conn in to {
                        self.push(conn, frame.clone(), &mut queue);
                    }
                }
                Output::Close { conn, code } => {
                    if let Some(link) = self.links.remove(&conn) {
                        let _ = link.close.send(code);
                    }
                }
            }
        }
        self.track_occupancy();
    }

    fn push(&mut self, conn: ConnId, frame: Bytes, queue: &mut VecDeque<Output>) {
        let Some(link) = self.links.get(&conn) else {
            return;
        };
        match link.frames.try_send(frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::debug!(note = %self.task.note, %conn, "closing slow consumer");
                queue.extend(
                    self.room
                        .close_connection(conn, CloseCode::SlowConsumer, now()),
                );
            }
            Err(TrySendError::Closed(_)) => {
                self.links.remove(&conn);
                queue.extend(self.room.disconnect(conn, now()));
            }
        }
    }

    /// Keeps `empty_since` at the last moment the room had a connection.
    fn track_occupancy(&mut self) {
        if self.room.connection_count() > 0 {
            self.empty_since = now();
        }
    }
}

/// The outcome of the upkeep in `slot` once it finishes (emptying the slot); pending while
/// there is none. Cancel-safe: an unfinished upkeep stays in the slot.
async fn upkept(slot: &mut Option<JoinHandle<Upkeep>>) -> Option<Upkeep> {
    let handle = slot.as_mut()?;
    let done = handle.await;
    *slot = None;
    match done {
        Ok(done) => Some(done),
        // The write's task panicked: the store's state is unknown, like a failed write.
        Err(error) => Some(Upkeep {
            through_seq: 0,
            folded: 0,
            outcome: Err(StoreError::Backend(Box::new(error))),
        }),
    }
}
