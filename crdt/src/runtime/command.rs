//! Messages into a room task.

use bytes::Bytes;
use tokio::sync::oneshot;

use super::{Connection, RoomsError, TextHold};
use crate::{Access, ConnId, UserId};

/// Replies to requests that wait for their result.
pub(super) type Reply<T> = oneshot::Sender<Result<T, RoomsError>>;

pub(super) enum Command {
    Connect {
        user: UserId,
        access: Access,
        reply: Reply<Connection>,
    },
    Frame {
        conn: ConnId,
        frame: Bytes,
    },
    ReplaceText {
        text: String,
        reply: Reply<()>,
    },
    /// Hold the room for a replacement if its text is still `base`.
    HoldText {
        base: String,
        reply: Reply<TextHold>,
    },
    Text {
        reply: Reply<String>,
    },
    /// Store the text now if the store's copy is behind the room.
    SaveText {
        reply: Reply<()>,
    },
    SetAccess {
        user: UserId,
        access: Option<Access>,
        reply: Reply<()>,
    },
    /// An update another node stored: apply and relay, do not store.
    Remote {
        update: Bytes,
        reply: Reply<()>,
    },
    /// Note deleted: close everyone with 4404 and unload without compacting.
    Delete {
        reply: Reply<()>,
    },
    /// Server stopping: compact, close everyone with 4501, unload.
    Shutdown {
        reply: Reply<()>,
    },
}

impl Command {
    /// Tells a request's caller the room cannot serve it; frames are simply dropped.
    pub(super) fn refuse(self, error: RoomsError) {
        match self {
            Command::Connect { reply, .. } => drop(reply.send(Err(error))),
            Command::ReplaceText { reply, .. } => drop(reply.send(Err(error))),
            Command::HoldText { reply, .. } => drop(reply.send(Err(error))),
            Command::Text { reply } => drop(reply.send(Err(error))),
            Command::SaveText { reply }
            | Command::SetAccess { reply, .. }
            | Command::Remote { reply, .. }
            | Command::Delete { reply }
            | Command::Shutdown { reply } => drop(reply.send(Err(error))),
            Command::Frame { .. } => {}
        }
    }
}
