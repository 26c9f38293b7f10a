//! `chat.typing`: ephemeral indicators, throttled, never stored, never numbered.

use super::{Output, Session};
use crate::capability::Capability;
use crate::error::{ErrorCode, HubError};
use crate::ids::{ConnectionId, ParticipantId};
use crate::protocol::server;
use chrono::{DateTime, Utc};

impl Session {
    /// Typing indicators are ephemeral: throttled, never stored, never numbered.
    pub(super) fn typing(
        &mut self,
        id: ParticipantId,
        to: Option<ParticipantId>,
        now: DateTime<Utc>,
    ) -> Result<(), HubError> {
        let me = &self.state.participants[&id];
        let caps = me.info.capabilities;
        if !caps.contains(Capability::Chat)
            || (to.is_some() && !caps.contains(Capability::DirectMessage))
        {
            return Err(HubError::forbidden("missing capability chat"));
        }
        if self.state.chat.locked && !caps.contains(Capability::ModerateChat) {
            return Err(HubError::new(ErrorCode::ChatLocked, "chat is locked"));
        }
        if let Some(to) = to
            && (to == id || self.state.present(to).is_none_or(|p| p.info.hidden))
        {
            return Err(HubError::not_found("no such participant to message"));
        }
        let interval = self.config.limits.typing_interval;
        if !self
            .pacing
            .get_mut(&id)
            .is_some_and(|p| p.typing_allowed(now, interval))
        {
            return Ok(());
        }
        let recipients: Vec<ConnectionId> = self
            .by_participant
            .iter()
            .filter(|(p, _)| **p != id && to.is_none_or(|to| to == **p))
            .filter(|(p, _)| self.state.present(**p).is_some())
            .map(|(_, c)| *c)
            .collect();
        if !recipients.is_empty() {
            self.outputs.push_back(Output::Send {
                to: recipients,
                frame: server::typing(id, to),
            });
        }
        Ok(())
    }
}
