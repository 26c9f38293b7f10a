//! One room as one task: it owns the [`Room`], applies commands in order, stores updates
//! before delivering anything that follows them, and unloads itself when idle.
//!
//! The task sleeps until its next input or the earliest of its deadlines: the room's own
//! [`Output::Timeout`] (presence expiring), the next text save, an idle compaction, and
//! unloading an empty room. Nothing wakes an idle room on a fixed tick.
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

use super::command::{Command, Reply};
use super::hold::HOLD_LIMIT;
use super::registry::{Registry, RoomHandle};
use super::{Connection, FrameSink, Outbox, RoomsConfig, RoomsError, TextHold, UpdateFeed};
use crate::{
    Access, CloseCode, ConnId, Input, NoteId, NoteStore, Output, Room, Snapshot, StoreError, UserId,
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
    /// The earliest deadline ([`LiveRoom::next_wake`]) has come.
    Wake,
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
    feed: Arc<dyn UpdateFeed>,
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
    /// The number the next connection gets.
    next_conn: u64,
    /// When the room asked to be told [`Input::Timeout`].
    room_wake: Instant,
    /// A command taken while batching frames, handled next.
    stash: Option<Command>,
    last_seq: u64,
    /// Stored updates not yet folded into a snapshot.
    unsnapshotted: u64,
    /// The last update the store's plain text reflects.
    text_seq: u64,
    text_saved_at: Instant,
    last_store: Instant,
    /// When the last compaction started, so a failing one is retried after a pause, not
    /// at once.
    compacted_at: Instant,
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
        (store, feed): (Arc<S>, Arc<dyn UpdateFeed>),
        config: RoomsConfig,
        registry: Registry,
        handle: RoomHandle,
        receivers: (mpsc::Receiver<Command>, mpsc::UnboundedReceiver<ConnId>),
    ) -> Self {
        RoomTask {
            note,
            store,
            feed,
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
                    next_conn: 1,
                    room_wake: started,
                    stash: None,
                    last_seq: stored.last_seq,
                    unsnapshotted: stored.unsnapshotted,
                    text_seq: stored.text_seq,
                    text_saved_at: started,
                    last_store: started,
                    compacted_at: started,
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
        loop {
            let event = match self.stash.take() {
                Some(command) => Event::Command(command),
                None => {
                    let wake = tokio::time::Instant::from_std(self.next_wake());
                    tokio::select! {
                        biased;
                        Some(conn) = self.task.leaves.recv() => Event::Leave(conn),
                        Some(command) = self.task.commands.recv() => Event::Command(command),
                        () = tokio::time::sleep_until(wake) => Event::Wake,
                        Some(done) = upkept(&mut self.upkeep) => Event::Upkept(done),
                    }
                }
            };
            let flow = match event {
                Event::Command(command) => self.on_command(command).await,
                Event::Leave(conn) => self.on_leave(conn),
                Event::Wake => self.on_wake().await,
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
                let outputs = self.tell(Input::SetAccess {
                    user: &user,
                    access,
                });
                self.deliver(outputs);
                let _ = reply.send(Ok(()));
                Flow::Continue
            }
            Command::Remote { update, reply } => {
                let result = self.step(Input::Remote(&update));
                let _ = reply.send(result.map(|outputs| self.deliver(outputs)));
                Flow::Continue
            }
            Command::Delete { reply } => {
                let outputs = self.tell(Input::CloseAll(CloseCode::NoSuchNote));
                self.deliver(outputs);
                let _ = reply.send(Ok(()));
                Flow::Stop(Some(RoomsError::NotFound))
            }
            Command::Shutdown { reply } => {
                self.compact().await;
                let outputs = self.tell(Input::CloseAll(CloseCode::RoomUnloading));
                self.deliver(outputs);
                let _ = reply.send(Ok(()));
                Flow::Stop(Some(RoomsError::Unavailable))
            }
        }
    }

    fn on_connect(&mut self, user: UserId, access: Access, reply: Reply<Connection>) {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        let joined = Input::Connect {
            conn,
            user: &user,
            access,
        };
        let outputs = match self.step(joined) {
            Ok(outputs) => outputs,
            Err(error) => {
                let _ = reply.send(Err(error));
                return;
            }
        };
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
        let outputs = match self.step(Input::ReplaceText(text)) {
            Ok(outputs) => outputs,
            Err(error) => {
                let _ = reply.send(Err(error));
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
        let at = now();
        for (conn, frame) in &frames {
            let input = Input::Frame { conn: *conn, frame };
            // Frames never fail: a bad one closes its connection (an output).
            let _ = self.room.handle_input(at, input);
        }
        self.drain()
    }

    fn on_leave(&mut self, conn: ConnId) -> Flow {
        self.links.remove(&conn);
        let outputs = self.tell(Input::Disconnect(conn));
        self.deliver(outputs);
        self.track_occupancy();
        Flow::Continue
    }

    /// Feeds the room one input and takes everything it wants done. A failed input changed
    /// nothing.
    fn step(&mut self, input: Input<'_>) -> Result<Vec<Output>, RoomsError> {
        let result = self.room.handle_input(now(), input);
        let outputs = self.drain();
        result.map(|()| outputs).map_err(RoomsError::from)
    }

    /// [`LiveRoom::step`] for the inputs that cannot fail (all but a connect, a REST text
    /// replacement and a remote update).
    fn tell(&mut self, input: Input<'_>) -> Vec<Output> {
        self.step(input).unwrap_or_else(|error| {
            tracing::error!(note = %self.task.note, %error, "a room refused an input that cannot fail");
            Vec::new()
        })
    }

    /// Polls the room until it has nothing more to do, noting when it wants its timeout.
    fn drain(&mut self) -> Vec<Output> {
        let mut outputs = Vec::new();
        loop {
            match self.room.poll_output() {
                Output::Timeout(at) => {
                    self.room_wake = at;
                    return outputs;
                }
                output => outputs.push(output),
            }
        }
    }

    /// The earliest moment something is due: the room's timeout, or one of the deadlines
    /// [`LiveRoom::on_wake`] acts on.
    fn next_wake(&self) -> Instant {
        [
            self.text_save_at(),
            self.idle_compaction_at(),
            self.unload_at(),
        ]
        .into_iter()
        .flatten()
        .fold(self.room_wake, Instant::min)
    }

    /// When the text should be saved next: the store's copy is behind and no upkeep runs.
    fn text_save_at(&self) -> Option<Instant> {
        let behind = self.upkeep.is_none() && self.text_seq < self.last_seq;
        behind.then(|| self.text_saved_at + self.task.config.save_text_every)
    }

    /// When to compact a log nobody added to (and no compaction tried) for a while.
    fn idle_compaction_at(&self) -> Option<Instant> {
        let pending = self.upkeep.is_none() && self.unsnapshotted > 0;
        let since = self.last_store.max(self.compacted_at);
        pending.then(|| since + self.task.config.compact_when_idle)
    }

    /// When an empty room unloads.
    fn unload_at(&self) -> Option<Instant> {
        let empty = self.room.connection_count() == 0;
        empty.then(|| self.empty_since + self.task.config.unload_after)
    }

    /// Does whatever [`LiveRoom::next_wake`] found due.
    async fn on_wake(&mut self) -> Flow {
        let at = now();
        let due = |deadline: Option<Instant>| deadline.is_some_and(|deadline| deadline <= at);
        if self.room_wake <= at {
            let outputs = self.tell(Input::Timeout);
            self.deliver(outputs);
        }
        if due(self.idle_compaction_at()) {
            self.start_compaction();
        }
        if due(self.text_save_at()) {
            self.start_text_save();
        }
        if due(self.unload_at()) {
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
            // Stored, so the cluster may have it: never before.
            self.task.feed.persisted(&self.task.note, &updates, seq);
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
        let outputs = self.tell(Input::CloseAll(CloseCode::StorageFailed));
        self.deliver(outputs);
        Flow::Stop(Some(error))
    }

    /// Saves the plain text if the store's copy is behind the log, and waits for it (and for
    /// any upkeep already under way). A failure is only logged here (the log is complete;
    /// the next wake tries again) and returned.
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
        self.compacted_at = now();
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
                // Stored by `flush`; close and leave outputs never carry updates. Timeouts
                // never leave `drain`.
                Output::Persist(_) | Output::Timeout(_) => {}
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
                let code = CloseCode::SlowConsumer;
                queue.extend(self.tell(Input::Close { conn, code }));
            }
            Err(TrySendError::Closed(_)) => {
                self.links.remove(&conn);
                queue.extend(self.tell(Input::Disconnect(conn)));
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
