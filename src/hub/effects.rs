//! What a persisted hub event changes outside the log: roles and bans in
//! `session_participants` (a promotion or ban outlives the room), the session's status
//! when it ends, and first-join / last-leave times.

use signaling::{Event, StoredEvent};
use uuid::Uuid;

use crate::db::{self, Db};

pub async fn apply(db: &Db, session: Uuid, stored: &StoredEvent) -> Result<(), sqlx::Error> {
    use db::session_participants as participants;
    match &stored.event {
        Event::ParticipantJoined { info } => {
            participants::joined(db, session, info.participant.0, stored.at).await
        }
        Event::ParticipantLeft { participant } => {
            participants::left(db, session, participant.0, stored.at).await
        }
        Event::RoleChanged {
            participant, role, ..
        } => participants::set_role(db, session, participant.0, super::roles::name(*role)).await,
        Event::ParticipantRemoved {
            participant,
            ban: true,
            ..
        } => participants::ban(db, session, participant.0).await,
        Event::SessionEnded { .. } => db::sessions::mark_ended(db, session, stored.at).await,
        _ => Ok(()),
    }
}
