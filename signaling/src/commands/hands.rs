//! hand.raise / hand.lower / hand.lower_all.

use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::HubError;
use crate::event::Event;
use crate::ids::ParticipantId;
use serde_json::json;

pub(super) fn raise(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::RaiseHand)?;
    let me = ctx.actor_id();
    let hands = &ctx.state.hands;
    if let Some(position) = hands.position(me) {
        return Ok(Effect::default().with_reply(json!({ "position": position })));
    }
    let position = hands.queue.len() + 1;
    Ok(Effect::event(Event::HandRaised { participant: me })
        .with_reply(json!({ "position": position })))
}

pub(super) fn lower(ctx: &Ctx<'_>, participant: Option<ParticipantId>) -> Result<Effect, HubError> {
    let me = ctx.actor_id();
    let target = participant.unwrap_or(me);
    if target != me {
        ctx.require(Capability::AdminRoom)?;
    }
    if ctx.state.hands.position(target).is_none() {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::HandLowered {
        participant: target,
        by: me,
    }))
}

pub(super) fn lower_all(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    if ctx.state.hands.queue.is_empty() {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::HandsLoweredAll { by: ctx.actor_id() }))
}
