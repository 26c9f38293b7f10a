//! The live-session hub core: capabilities, the JSON wire protocol, and each session
//! as an event-sourced, sans-IO state machine ([`Session`]). No sockets, no clock, no
//! storage: the server feeds inputs, persists [`StoredEvent`]s, and sends [`Frame`]s.
//!
//! The server's loop, per session (one owned task):
//!
//! ```
//! use chrono::Utc;
//! use signaling::*;
//!
//! // the server computes ballot keys with HMAC(secret, session ‖ poll ‖ user)
//! let keys = |poll: PollId, user: ParticipantId| BallotKey([poll.0.as_bytes()[0] ^ user.0.as_bytes()[0]; 32]);
//! let mut session = Session::new(SessionConfig::default(), keys);
//!
//! // a WebSocket opened with a valid join ticket
//! let ann = ParticipantInfo {
//!     participant: ParticipantId(uuid::Uuid::new_v4()),
//!     name: "Ann".into(),
//!     account: AccountRole::User,
//!     role: SessionRole::Participant,
//!     capabilities: capabilities_for(AccountRole::User, SessionRole::Participant),
//!     hidden: false,
//! };
//! let conn = ConnectionId(1);
//! session.connect(Join { connection: conn, info: ann, last_seq: None }, Utc::now()).unwrap();
//! // a text frame arrived on that socket
//! session.handle_frame(conn, br#"{"type":"chat.send","id":1,"text":"hello"}"#, Utc::now());
//!
//! let mut stored = Vec::new();
//! while let Some(output) = session.poll_output() {
//!     match output {
//!         Output::Persist(event) => stored.push(event.to_json()), // INSERT before sending on
//!         Output::Send { to, frame } => { let _shared: bytes::Bytes = frame.into_bytes(); let _ = to; }
//!         Output::Close { connection, code } => { let _ = (connection, code.code(), code.reason()); }
//!         Output::Media(request) => { let _ = request; } // to the media engine (the SFU)
//!     }
//! }
//! assert_eq!(stored.len(), 2); // participant.joined, chat.posted
//! ```

pub mod audience;
pub mod capability;
mod commands;
pub mod error;
pub mod event;
pub mod export;
pub mod ids;
pub mod limits;
pub mod protocol;
pub mod rate_limit;
pub mod ring;
pub mod session;
pub mod snapshot;
pub mod state;
pub mod view;

pub use capability::{AccountRole, Capability, CapabilitySet, SessionRole, capabilities_for};
pub use error::{ErrorCode, HubError};
pub use event::{Ballot, Event, ParticipantInfo, StoredEvent};
pub use ids::{
    BallotKey, BallotKeys, ConnectionId, MessageId, ParticipantId, PollId, QuestionId, RequestId,
};
pub use limits::Limits;
pub use protocol::client::{ClientMessage, Command, parse_client_message};
pub use protocol::server::{CloseCode, Frame};
pub use session::{
    Join, JoinRefused, MediaMessage, MediaRequest, Output, ReplayError, Session, SessionConfig,
};
