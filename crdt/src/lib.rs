//! Yjs note rooms: the y-websocket protocol, awareness, limits and durability for shared
//! notes, without HTTP or SQL.
//!
//! Two layers, in the workspace's sans-IO convention (`docs/ARCHITECTURE.md`, "Sans-IO
//! cores"):
//!
//! - [`Room`]: a plain state machine for one note. Feed it an [`Input`] (a connect, a binary
//!   frame, a leave, a text replacement, an update from another node, a timeout) with the
//!   time it happened to [`Room::handle_input`]; take the [`Output`]s to perform from
//!   [`Room::poll_output`] until it answers [`Output::Timeout`], the instant it next wants
//!   [`Input::Timeout`]. No clock, socket, task or database inside.
//! - [`Rooms`]: the tokio edge. Loads a room from a [`NoteStore`] on first use, runs it as one
//!   task fed by a bounded channel, gives every connection a bounded [`Outbox`], stores
//!   updates, compacts the log into snapshots, and unloads idle rooms.
//!
//! # The document
//!
//! A note's body is the root `Y.Text` named [`CONTENT_TEXT`] (`"content"`), holding
//! Markdown. REST reads it with [`Rooms::text`] and replaces it with [`Rooms::replace_text`],
//! which applies the smallest single edit (common prefix and suffix kept) as a Yjs update so
//! live editors see a normal remote change. A replacement based on text read earlier goes
//! through [`Rooms::hold_text`], which refuses it if a live edit landed since.
//!
//! # Wire protocol (y-websocket, binary frames, one message per frame)
//!
//! Every message starts with a varint type; Yjs updates are lib0 v1 encoded.
//!
//! | type | message | server behaviour |
//! |---|---|---|
//! | `0,0,sv` | sync step 1 | replies sync step 2: everything the client lacks (this makes `provider.synced` true) |
//! | `0,1,update` | sync step 2 | writers: applied, stored, relayed as an update; readers: ignored |
//! | `0,2,update` | update | writers: applied, stored, relayed to the other connections; readers: dropped, one auth notice |
//! | `1,awareness` | awareness | the sender's own ids: applied and relayed to every connection, the sender included (keeps a lone client's socket from going silent); readers' too: presence is not editing. Ids another connection owns: dropped |
//! | `3` | query awareness | replies with all present awareness states |
//! | `2,0,reason` | auth, permission denied | sent by the server to a read-only connection that tries to edit, and on a downgrade to read |
//!
//! On connect the server sends its sync step 1 and, when anyone is present, an awareness
//! frame. Only what an update actually added is stored and relayed (a reconnecting client's
//! step 2 that repeats known content costs nothing). An awareness client id belongs to the
//! connection that first announced it, and only that connection changes or removes its
//! state (the npm provider re-sends every awareness change it hears, so ids of others arrive
//! from everyone and are dropped); when that connection leaves, its states are removed and
//! everyone is told. States not renewed for 30 s are swept the same way.
//!
//! # Close codes
//!
//! See [`CloseCode`]. 44xx means "stop, do not retry as is" (the npm provider stops
//! reconnecting); 45xx means "reconnect and resync", and loses nothing because a
//! reconnecting client resends what the server lacks.
//!
//! | code | meaning |
//! |---|---|
//! | 4400 | malformed message or Yjs update |
//! | 4401 | bad or expired token (checked by the server before joining) |
//! | 4403 | no access, or access revoked while connected |
//! | 4404 | no such note, or note deleted while connected |
//! | 4413 | frame larger than [`Limits::max_frame_bytes`], or document would pass [`Limits::max_document_bytes`] |
//! | 4429 | more frames or changes per second than [`Limits`] allow (echoed awareness counts only as a frame) |
//! | 4500 | slow consumer: the connection's outbox was full |
//! | 4501 | room unloading or server shutting down |
//! | 4502 | storing an update failed; the room is reloaded from storage |
//! | 4503 | room full ([`Limits::max_connections`]); retry later |
//!
//! # Durability contract
//!
//! An update is stored before anyone else can see it. In the core this is the order of the
//! polled outputs: an [`Output::Persist`] must be durable before any output after it is
//! performed (sends, broadcasts, closes; also a later sync step 2 that would contain the
//! update). The runtime hands the room the frames that queued while it waited for its
//! previous store as one batch ([`Input::Frame`]s with no poll between them); the room merges their edits into
//! one update, which the runtime stores with one [`NoteStore::append`], awaits, and only then
//! writes to any outbox. The plain text for search is saved apart, about once a second
//! ([`NoteStore::save_text`]). If the append fails,
//! the room closes everyone with 4502 and unloads: the in-memory document may hold an edit
//! the store does not, so it is discarded; clients reconnect and resend it.
//!
//! # Several nodes
//!
//! The seam a cluster plugs into: every update a room has stored goes to its
//! [`UpdateFeed`] (after the store, before any connection sees it; never one that was not
//! stored), and an update another node stored comes back in through
//! [`Rooms::apply_remote`] ([`Input::Remote`] in the core): applied, relayed to the local
//! connections, never stored again. A single node uses [`SingleNode`], which publishes
//! nothing. Nothing is replicated yet.
//!
//! # Wiring a WebSocket
//!
//! The server authenticates (4401), checks access (4403), then joins the room and moves
//! bytes both ways. Three details matter with real sockets (checked against the npm
//! provider):
//!
//! - Set the WebSocket library's max message size to [`Limits::max_frame_bytes`] so it
//!   never buffers more than the room would accept, and `TCP_NODELAY` on the socket.
//! - After sending a close frame, keep reading (and discarding) until the client's close
//!   reply or about 2 s: dropping a socket with unread input makes the kernel reset it, and
//!   the client then sees 1006 instead of the code, and reconnects even after a 44xx.
//! - Write frames from the same loop that reads the [`Outbox`]; a socket that cannot take
//!   them fills the outbox and gets 4500, which is the intended backpressure.
//!
//! Here channels stand in for the socket:
//!
//! ```
//! use bytes::Bytes;
//! use crdt::{Access, MemoryStore, NoteId, NoteStore, Outgoing, Rooms, UserId};
//! use tokio::sync::mpsc;
//!
//! /// `from_client` yields the socket's binary frames; `to_client` gets frames to write,
//! /// or the close code to send before closing.
//! async fn serve_socket<S: NoteStore>(
//!     rooms: Rooms<S>,
//!     note: NoteId,
//!     user: UserId,
//!     access: Access,
//!     mut from_client: mpsc::Receiver<Bytes>,
//!     to_client: mpsc::Sender<Result<Bytes, u16>>,
//! ) {
//!     let connection = match rooms.connect(&note, user, access).await {
//!         Ok(connection) => connection,
//!         Err(error) => {
//!             let _ = to_client.send(Err(error.close_code().code())).await;
//!             return;
//!         }
//!     };
//!     let (sink, mut outbox) = (connection.sink, connection.outbox);
//!     loop {
//!         tokio::select! {
//!             frame = from_client.recv() => {
//!                 // Socket closed or room gone: dropping `sink` tells the room we left.
//!                 let Some(frame) = frame else { return };
//!                 if sink.send(frame).await.is_err() { return }
//!             }
//!             outgoing = outbox.recv() => match outgoing {
//!                 Outgoing::Frame(frame) => { let _ = to_client.send(Ok(frame)).await; }
//!                 Outgoing::Close(code) => {
//!                     let _ = to_client.send(Err(code.code())).await;
//!                     return;
//!                 }
//!             },
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let store = MemoryStore::new();
//! let note = NoteId::from("0b6f8f5e-note");
//! store.create_note(&note);
//! let rooms = Rooms::new(store, Default::default());
//! let (_client_tx, from_client) = mpsc::channel(16);
//! let (to_client, mut written) = mpsc::channel(16);
//! tokio::spawn(serve_socket(rooms.clone(), note.clone(), "user-1".into(), Access::Write, from_client, to_client));
//! // The room greets every connection with its sync step 1: message 0, sync type 0.
//! let greeting = written.recv().await.unwrap().unwrap();
//! assert_eq!(&greeting[..2], &[0, 0]);
//! rooms.replace_text(&note, "# Agenda\n".into()).await.unwrap();
//! assert_eq!(rooms.text(&note).await.unwrap(), "# Agenda\n");
//! # }
//! ```

mod close_code;
mod ids;
mod input;
mod limits;
mod memory_store;
mod output;
mod room;
mod runtime;
mod seed;
mod store;
mod text_diff;

pub use close_code::CloseCode;
pub use ids::{Access, NoteId, UserId};
pub use input::Input;
pub use limits::Limits;
pub use memory_store::MemoryStore;
pub use output::Output;
pub use room::{CONTENT_TEXT, Room, RoomError};
pub use runtime::{
    Connection, FrameSink, Outbox, Outgoing, RoomClosed, Rooms, RoomsConfig, RoomsError,
    SingleNode, TextHold, UpdateFeed,
};
/// One connection inside a room: the cores' shared connection id.
pub use sansio::ConnectionId as ConnId;
pub use seed::seed_update;
pub use store::{NoteStore, Snapshot, StoreError, StoredNote};
