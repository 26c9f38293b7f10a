//! recording.start / pause / resume / stop: the recording state and its consent notice.

use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::{ErrorCode, HubError};
use crate::event::Event;

pub(super) fn start(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::ControlRecording)?;
    if !ctx.recording {
        return Err(HubError::new(
            ErrorCode::Unavailable,
            "this server does not record sessions",
        ));
    }
    if ctx.state.recording.is_some() {
        return Err(HubError::wrong_state("already recording"));
    }
    Ok(Effect::event(Event::RecordingStarted {
        by: ctx.actor_id(),
    }))
}

/// Pauses (`pause`) or resumes the running recording.
pub(super) fn pause(ctx: &Ctx<'_>, pause: bool) -> Result<Effect, HubError> {
    ctx.require(Capability::ControlRecording)?;
    let Some(recording) = &ctx.state.recording else {
        return Err(HubError::wrong_state("not recording"));
    };
    if recording.paused == pause {
        let already = if pause {
            "already paused"
        } else {
            "not paused"
        };
        return Err(HubError::wrong_state(already));
    }
    let by = ctx.actor_id();
    Ok(Effect::event(if pause {
        Event::RecordingPaused { by }
    } else {
        Event::RecordingResumed { by }
    }))
}

pub(super) fn stop(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::ControlRecording)?;
    if ctx.state.recording.is_none() {
        return Err(HubError::wrong_state("not recording"));
    }
    Ok(Effect::event(Event::RecordingStopped {
        by: ctx.actor_id(),
        reason: None,
    }))
}
