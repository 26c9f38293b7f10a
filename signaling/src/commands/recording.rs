//! recording.start / recording.stop: the recording state and its consent notice.

use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::{ErrorCode, HubError};
use crate::event::Event;

pub(super) fn start(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::ControlRecording)?;
    if !ctx.recording {
        return Err(HubError::new(
            ErrorCode::Unavailable,
            "this server does not record sessions yet",
        ));
    }
    if ctx.state.recording.is_some() {
        return Err(HubError::wrong_state("already recording"));
    }
    Ok(Effect::event(Event::RecordingStarted {
        by: ctx.actor_id(),
    }))
}

pub(super) fn stop(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::ControlRecording)?;
    if ctx.state.recording.is_none() {
        return Err(HubError::wrong_state("not recording"));
    }
    Ok(Effect::event(Event::RecordingStopped {
        by: ctx.actor_id(),
    }))
}
