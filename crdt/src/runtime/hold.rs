//! A REST change of a note's body that must not erase live edits it never saw.
//!
//! A REST client reads the body, changes it, and writes it back based on what it read. The
//! room applies that write as the smallest edit from the *current* text, so an edit typed
//! live after the read would be erased by it. A [`TextHold`] closes that window: the room
//! checks that its text is still the one the client read, then takes no other input until
//! the holder replaces the text or lets go, so the server can also commit the write's other
//! fields (and its version check) in between.

use std::time::Duration;

use tokio::sync::oneshot;

use super::RoomsError;
use super::command::Reply;

/// How long a room waits for its holder. A holder that is slower than this (a stalled
/// database) gets [`RoomsError::Unavailable`] from [`TextHold::replace`], and the room's
/// connections are served again meanwhile.
pub(super) const HOLD_LIMIT: Duration = Duration::from_secs(5);

/// A room whose text was, when this was handed out, the base its holder gave, and which
/// applies nothing else until this is used or dropped. Dropping it releases the room
/// unchanged.
#[must_use = "the room serves nothing else until the hold is used or dropped"]
pub struct TextHold {
    replace: oneshot::Sender<(String, Reply<()>)>,
}

impl TextHold {
    pub(super) fn new(replace: oneshot::Sender<(String, Reply<()>)>) -> Self {
        TextHold { replace }
    }

    /// Replaces the body with `text` as one edit and releases the room; returns once the
    /// change and the new text are stored. Live editors receive it as a normal Yjs update.
    pub async fn replace(self, text: String) -> Result<(), RoomsError> {
        let (reply, done) = oneshot::channel();
        // Either fails when the room stopped waiting ([`HOLD_LIMIT`]) or stopped altogether.
        self.replace
            .send((text, reply))
            .map_err(|_| RoomsError::Unavailable)?;
        done.await.map_err(|_| RoomsError::Unavailable)?
    }
}
