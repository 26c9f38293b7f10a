//! Identifiers used on the wire and in stored events.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random id (used when a command creates an entity).
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// One person in one session (the server uses the user id; one participant per user and session).
    ParticipantId
);
uuid_id!(
    /// A chat message.
    MessageId
);
uuid_id!(
    /// A poll.
    PollId
);
uuid_id!(
    /// A Q&A question.
    QuestionId
);

/// The server's handle for one WebSocket, so a late close of a replaced socket
/// cannot mark the participant's newer connection as gone. Shared with the other cores.
pub use sansio::ConnectionId;

/// Pseudonymous ballot of one person in one anonymous poll: the server computes
/// HMAC(server secret, session id ‖ poll id ‖ user id). It dedupes votes without
/// naming the voter; only a holder of the server secret could link it to a user.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BallotKey(pub [u8; 32]);

impl fmt::Debug for BallotKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BallotKey({self})")
    }
}

impl fmt::Display for BallotKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl Serialize for BallotKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BallotKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_hex32(&text)
            .map(BallotKey)
            .ok_or_else(|| serde::de::Error::custom("ballot key must be 64 hex digits"))
    }
}

fn parse_hex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Computes ballot keys; the server implements it with HMAC and its secret.
pub trait BallotKeys: Send + Sync {
    /// The ballot of `participant` in anonymous poll `poll`.
    fn ballot_key(&self, poll: PollId, participant: ParticipantId) -> BallotKey;
}

impl<F> BallotKeys for F
where
    F: Fn(PollId, ParticipantId) -> BallotKey + Send + Sync,
{
    fn ballot_key(&self, poll: PollId, participant: ParticipantId) -> BallotKey {
        self(poll, participant)
    }
}

/// The optional `id` a client puts on a message; echoed in the ack or error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Number(u64),
    Text(String),
}
