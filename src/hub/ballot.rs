//! Anonymous-poll ballot keys: HMAC-SHA256(ballot key, session ‖ poll ‖ user).
//!
//! The key is derived from the server secret for this purpose only and never stored, so
//! the database holds no link between a ballot and a voter, yet one person keeps one
//! ballot per poll.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use signaling::{BallotKey, BallotKeys, ParticipantId, PollId};
use uuid::Uuid;

/// The server-wide key all sessions' ballot keys come from.
#[derive(Clone)]
pub struct BallotSecret(Vec<u8>);

impl BallotSecret {
    pub fn derive(server_secret: &[u8]) -> Self {
        let mut mac = mac(server_secret);
        mac.update(b"anonymous-ballot");
        Self(mac.finalize().into_bytes().to_vec())
    }

    /// The ballot keys of one session.
    pub fn for_session(&self, session: Uuid) -> SessionBallots {
        SessionBallots {
            secret: self.0.clone(),
            session,
        }
    }
}

/// Ballot keys bound to one session.
pub struct SessionBallots {
    secret: Vec<u8>,
    session: Uuid,
}

impl BallotKeys for SessionBallots {
    fn ballot_key(&self, poll: PollId, participant: ParticipantId) -> BallotKey {
        let mut mac = mac(&self.secret);
        mac.update(self.session.as_bytes());
        mac.update(poll.0.as_bytes());
        mac.update(participant.0.as_bytes());
        BallotKey(mac.finalize().into_bytes().into())
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_per_session_poll_and_user_and_are_stable() {
        let secret = BallotSecret::derive(b"0123456789abcdef0123456789abcdef");
        let (s1, s2) = (Uuid::new_v4(), Uuid::new_v4());
        let (poll, user) = (PollId(Uuid::new_v4()), ParticipantId(Uuid::new_v4()));
        let key = secret.for_session(s1).ballot_key(poll, user);
        assert_eq!(key, secret.for_session(s1).ballot_key(poll, user));
        assert_ne!(key, secret.for_session(s2).ballot_key(poll, user));
        assert_ne!(
            key,
            secret
                .for_session(s1)
                .ballot_key(PollId(Uuid::new_v4()), user)
        );
        let other = BallotSecret::derive(b"another secret, another server!!");
        assert_ne!(key, other.for_session(s1).ballot_key(poll, user));
    }
}
