//! media.state: what a participant publishes, within their capabilities.

use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::HubError;
use crate::event::Event;

pub(super) fn set_state(
    ctx: &Ctx<'_>,
    mic: bool,
    camera: bool,
    screen: bool,
) -> Result<Effect, HubError> {
    if mic {
        ctx.require(Capability::PublishAudio)?;
    }
    if camera {
        ctx.require(Capability::PublishVideo)?;
    }
    if screen {
        ctx.require(Capability::PublishScreen)?;
    }
    let now = ctx.actor.media;
    if (now.mic, now.camera, now.screen) == (mic, camera, screen) {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::MediaChanged {
        participant: ctx.actor_id(),
        mic,
        camera,
        screen,
    }))
}
