//! chat.send / chat.edit / chat.delete / chat.react / chat.lock.

use super::text::checked;
use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::{ErrorCode, HubError};
use crate::event::Event;
use crate::ids::{MessageId, ParticipantId};
use crate::state::ChatMessage;
use serde_json::json;

pub(super) fn send(
    ctx: &Ctx<'_>,
    text: String,
    to: Option<ParticipantId>,
) -> Result<Effect, HubError> {
    ctx.require(Capability::Chat)?;
    if let Some(to) = to {
        ctx.require(Capability::DirectMessage)?;
        let visible = ctx.state.present(to).is_some_and(|p| !p.info.hidden);
        if !visible || to == ctx.actor_id() {
            return Err(HubError::not_found("no such participant to message"));
        }
    }
    unlocked(ctx)?;
    let text = checked("text", text, ctx.limits.chat_chars)?;
    let message = MessageId::random();
    let event = Event::ChatPosted {
        message,
        from: ctx.actor_id(),
        to,
        text,
    };
    Ok(Effect::event(event).with_reply(json!({ "message": message })))
}

pub(super) fn edit(ctx: &Ctx<'_>, message: MessageId, text: String) -> Result<Effect, HubError> {
    ctx.require(Capability::Chat)?;
    let existing = visible_message(ctx, message)?;
    if existing.from != ctx.actor_id() {
        return Err(HubError::forbidden("only the author may edit a message"));
    }
    if existing.deleted {
        return Err(HubError::wrong_state("the message was deleted"));
    }
    unlocked(ctx)?;
    let text = checked("text", text, ctx.limits.chat_chars)?;
    Ok(Effect::event(Event::ChatEdited { message, text }))
}

pub(super) fn delete(ctx: &Ctx<'_>, message: MessageId) -> Result<Effect, HubError> {
    let existing = visible_message(ctx, message)?;
    let moderator = ctx
        .actor
        .info
        .capabilities
        .contains(Capability::ModerateChat);
    let author = existing.from == ctx.actor_id();
    let may_delete = author || (moderator && existing.to.is_none());
    if !may_delete {
        return Err(HubError::forbidden(
            "only the author or a chat moderator may delete a message",
        ));
    }
    if existing.deleted {
        return Err(HubError::wrong_state("the message was already deleted"));
    }
    Ok(Effect::event(Event::ChatDeleted {
        message,
        by: ctx.actor_id(),
    }))
}

pub(super) fn react(
    ctx: &Ctx<'_>,
    message: MessageId,
    emoji: String,
    on: bool,
) -> Result<Effect, HubError> {
    ctx.require(Capability::Chat)?;
    let existing = visible_message(ctx, message)?;
    if existing.deleted {
        return Err(HubError::wrong_state("the message was deleted"));
    }
    if emoji.is_empty()
        || emoji.len() > ctx.limits.reaction_bytes
        || emoji.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(HubError::invalid(format!(
            "emoji must be 1 to {} bytes without spaces",
            ctx.limits.reaction_bytes
        )));
    }
    let new_kind = !existing.reactions.contains_key(&emoji);
    if on && new_kind && existing.reactions.len() >= ctx.limits.reactions_per_message {
        return Err(HubError::new(
            ErrorCode::LimitReached,
            "too many different reactions on this message",
        ));
    }
    let already = existing
        .reactions
        .get(&emoji)
        .is_some_and(|who| who.contains(&ctx.actor_id()));
    if already == on {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::ChatReacted {
        message,
        participant: ctx.actor_id(),
        emoji,
        on,
    }))
}

pub(super) fn lock(ctx: &Ctx<'_>, locked: bool) -> Result<Effect, HubError> {
    ctx.require(Capability::ModerateChat)?;
    if ctx.state.chat.locked == locked {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::ChatLocked {
        locked,
        by: ctx.actor_id(),
    }))
}

/// A message the actor can see: public, or a direct message they sent or received.
fn visible_message<'a>(ctx: &'a Ctx<'_>, message: MessageId) -> Result<&'a ChatMessage, HubError> {
    let me = ctx.actor_id();
    ctx.state
        .chat
        .get(message)
        .filter(|m| m.to.is_none() || m.from == me || m.to == Some(me))
        .ok_or_else(|| HubError::not_found("no such message"))
}

fn unlocked(ctx: &Ctx<'_>) -> Result<(), HubError> {
    let moderator = ctx
        .actor
        .info
        .capabilities
        .contains(Capability::ModerateChat);
    if ctx.state.chat.locked && !moderator {
        return Err(HubError::new(ErrorCode::ChatLocked, "chat is locked"));
    }
    Ok(())
}
