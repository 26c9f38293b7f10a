//! What a [`crate::Room`] is told: every input of the sans-IO convention but the time,
//! which comes beside it (see [`crate::Room::handle_input`]).

use crate::{Access, CloseCode, ConnId, UserId};

/// One thing that happened to a room. Frames handed in one after another without polling
/// in between form a batch: their document changes leave as one merged update (one
/// [`crate::Output::Persist`], one relayed frame). Any other input ends the batch.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// A connection joins. `conn` is the shell's number for it, unique within the room. Its
    /// first frames are the room's sync step 1 and, when anyone is present, the awareness
    /// states; a full room closes it at once with 4503 instead.
    Connect {
        conn: ConnId,
        user: &'a UserId,
        access: Access,
    },
    /// One binary frame from a connection. Oversized frames close it with 4413, frames past
    /// its rate limit with 4429, undecodable ones with 4400. Frames of a connection the room
    /// no longer knows are ignored.
    Frame { conn: ConnId, frame: &'a [u8] },
    /// The connection went away (socket closed or dropped): its presence is removed for
    /// everyone.
    Disconnect(ConnId),
    /// Close one connection with `code` (the shell found it a slow consumer, say).
    Close { conn: ConnId, code: CloseCode },
    /// Close every connection (note deleted: 4404; room unloading: 4501; storage failed:
    /// 4502).
    CloseAll(CloseCode),
    /// A user's access changed. `None` revokes: their connections close with 4403. A
    /// downgrade to read keeps them connected, tells them once, and drops their edits.
    SetAccess {
        user: &'a UserId,
        access: Option<Access>,
    },
    /// REST replaces the Markdown body: applied as the smallest single edit, so live
    /// editors see a normal remote change. Fails when the document would pass its limit.
    ReplaceText(&'a str),
    /// A Yjs v1 update another node applied and stored: relayed to every local connection
    /// and never persisted again (the cluster seam: see the crate docs).
    Remote(&'a [u8]),
    /// The instant of the last [`crate::Output::Timeout`] has come: presence not renewed
    /// within the awareness timeout is removed.
    Timeout,
}
