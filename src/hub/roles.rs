//! Session roles: their stored names, and which role a user joins a session in.

use signaling::{AccountRole, SessionRole};
use uuid::Uuid;

use crate::auth::roles::Role;
use crate::db::sessions::LiveSession;

pub fn name(role: SessionRole) -> &'static str {
    use SessionRole::*;
    match role {
        Host => "host",
        Cohost => "cohost",
        Presenter => "presenter",
        Participant => "participant",
        Viewer => "viewer",
    }
}

pub fn parse(name: &str) -> Option<SessionRole> {
    use SessionRole::*;
    Some(match name {
        "host" => Host,
        "cohost" => Cohost,
        "presenter" => Presenter,
        "participant" => Participant,
        "viewer" => Viewer,
        _ => return None,
    })
}

pub fn account(role: Role) -> AccountRole {
    match role {
        Role::User => AccountRole::User,
        Role::Premium => AccountRole::Premium,
        Role::Admin => AccountRole::Admin,
    }
}

/// The host hosts; an admin account joins any session at host level; otherwise the role
/// a moderator gave (stored), else `participant`.
pub fn joining_role(
    session: &LiveSession,
    user: Uuid,
    account: Role,
    stored: Option<&str>,
) -> SessionRole {
    if session.host_id == user || account == Role::Admin {
        return SessionRole::Host;
    }
    stored.and_then(parse).unwrap_or(SessionRole::Participant)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sessions::{SessionSettings, SessionStatus};

    fn session(host: Uuid) -> LiveSession {
        let now = chrono::Utc::now();
        LiveSession {
            id: Uuid::new_v4(),
            host_id: host,
            title: "t".into(),
            description: String::new(),
            status: SessionStatus::Live,
            scheduled_start: now,
            scheduled_end: None,
            started_at: Some(now),
            ended_at: None,
            settings: SessionSettings::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn host_and_admins_host_others_keep_their_stored_role() {
        let (host, other) = (Uuid::new_v4(), Uuid::new_v4());
        let s = session(host);
        assert_eq!(
            joining_role(&s, host, Role::Premium, Some("viewer")),
            SessionRole::Host
        );
        assert_eq!(
            joining_role(&s, other, Role::Admin, None),
            SessionRole::Host
        );
        assert_eq!(
            joining_role(&s, other, Role::User, None),
            SessionRole::Participant
        );
        assert_eq!(
            joining_role(&s, other, Role::User, Some("presenter")),
            SessionRole::Presenter
        );
    }

    #[test]
    fn role_names_round_trip() {
        use SessionRole::*;
        for role in [Host, Cohost, Presenter, Participant, Viewer] {
            assert_eq!(parse(name(role)), Some(role));
        }
        assert_eq!(parse("owner"), None);
    }
}
