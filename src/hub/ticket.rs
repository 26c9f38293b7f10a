//! Join tickets: short-lived JWTs (their own key and audience) that open one hub
//! connection. They carry who joins, in which role and with which capabilities, all
//! computed by the server at `POST /sessions/{id}/join`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use signaling::{AccountRole, CapabilitySet, ParticipantId, ParticipantInfo, SessionRole};
use uuid::Uuid;

use crate::auth::tokens::{TICKET_AUDIENCE, TokenKeys};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TicketClaims {
    /// The user (and participant) id.
    pub sub: Uuid,
    /// The session the ticket opens.
    pub sid: Uuid,
    /// Single use: recorded when the ticket is presented.
    pub jti: Uuid,
    pub name: String,
    pub account: AccountRole,
    pub role: SessionRole,
    pub caps: CapabilitySet,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl TicketClaims {
    pub fn new(session: Uuid, info: &ParticipantInfo, issuer: &str, ttl_secs: u64) -> Self {
        let now = Utc::now().timestamp();
        Self {
            sub: info.participant.0,
            sid: session,
            jti: Uuid::new_v4(),
            name: info.name.clone(),
            account: info.account,
            role: info.role,
            caps: info.capabilities,
            iss: issuer.to_owned(),
            aud: TICKET_AUDIENCE.to_owned(),
            iat: now,
            exp: now + ttl_secs as i64,
        }
    }

    pub fn participant(&self) -> ParticipantInfo {
        ParticipantInfo {
            participant: ParticipantId(self.sub),
            name: self.name.clone(),
            account: self.account,
            role: self.role,
            capabilities: self.caps,
            hidden: false,
        }
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or_else(Utc::now)
    }
}

/// Why a ticket does not open the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("invalid or expired join ticket")]
    Invalid,
    #[error("this ticket is for another session")]
    WrongSession,
    #[error("this ticket was already used")]
    Used,
}

pub fn issue(keys: &TokenKeys, claims: &TicketClaims) -> String {
    keys.ticket.encode(claims)
}

/// Checks signature, audience, issuer, expiry and the session; the single use is
/// checked against storage by the caller.
pub fn verify(keys: &TokenKeys, token: &str, session: Uuid) -> Result<TicketClaims, TicketError> {
    let claims: TicketClaims = keys.ticket.decode(token).ok_or(TicketError::Invalid)?;
    if claims.sid != session {
        return Err(TicketError::WrongSession);
    }
    Ok(claims)
}
