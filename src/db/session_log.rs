//! The sessions' event log over the database: [`DbSessionLog`] stores each group of events
//! in `session_events`, then keeps the tables derived from them current.

use signaling::{Event, StoredEvent};
use uuid::Uuid;

use super::{Db, session_events, session_participants as participants, sessions};
use crate::hub::log::{LoadedSession, LogError, SessionLog};
use crate::hub::roles;

/// The hub's [`SessionLog`] on SQLite or PostgreSQL.
#[derive(Clone)]
pub struct DbSessionLog {
    db: Db,
}

impl DbSessionLog {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl SessionLog for DbSessionLog {
    async fn load(&self, session: Uuid) -> Result<LoadedSession, LogError> {
        let row = sessions::find(&self.db, session)
            .await
            .map_err(LogError::backend)?
            .ok_or(LogError::NotFound)?;
        Ok(LoadedSession {
            lobby: row.settings.lobby,
            events: session_events::all(&self.db, session).await?,
        })
    }

    async fn append(&self, session: Uuid, events: &[&StoredEvent]) -> Result<(), LogError> {
        session_events::append(&self.db, session, events)
            .await
            .map_err(LogError::backend)?;
        for event in events {
            // The log is complete; a derived row that failed is only logged (the next
            // join or event of that participant writes it again).
            if let Err(error) = apply(&self.db, session, event).await {
                tracing::warn!(%session, %error, "applying a hub event failed");
            }
        }
        Ok(())
    }
}

/// What a persisted event changes outside the log: roles and bans in
/// `session_participants` (a promotion or ban outlives the room), the session's status
/// when it ends, and first-join / last-leave times.
async fn apply(db: &Db, session: Uuid, stored: &StoredEvent) -> Result<(), sqlx::Error> {
    match &stored.event {
        Event::ParticipantJoined { info } => {
            participants::joined(db, session, info.participant.0, stored.at).await
        }
        Event::ParticipantLeft { participant } => {
            participants::left(db, session, participant.0, stored.at).await
        }
        Event::RoleChanged {
            participant, role, ..
        } => participants::set_role(db, session, participant.0, roles::name(*role)).await,
        Event::ParticipantRemoved {
            participant,
            ban: true,
            ..
        } => participants::ban(db, session, participant.0).await,
        Event::SessionEnded { .. } => sessions::mark_ended(db, session, stored.at).await,
        _ => Ok(()),
    }
}
