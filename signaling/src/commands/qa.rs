//! qa.ask / qa.upvote / qa.answer / qa.dismiss / qa.pin.

use super::text::checked;
use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::{ErrorCode, HubError};
use crate::event::Event;
use crate::ids::QuestionId;
use crate::state::{Question, QuestionStatus};
use serde_json::json;

pub(super) fn ask(ctx: &Ctx<'_>, text: String, anonymous: bool) -> Result<Effect, HubError> {
    ctx.require(Capability::Ask)?;
    if ctx.state.qa.questions.len() >= ctx.limits.max_questions {
        return Err(HubError::new(
            ErrorCode::LimitReached,
            "too many questions in this session",
        ));
    }
    let text = checked("text", text, ctx.limits.question_chars)?;
    let question = QuestionId::random();
    let author = (!anonymous).then(|| ctx.actor_id());
    let event = Event::QuestionAsked {
        question,
        author,
        text,
    };
    Ok(Effect::event(event).with_reply(json!({ "question": question })))
}

pub(super) fn upvote(ctx: &Ctx<'_>, question: QuestionId) -> Result<Effect, HubError> {
    ctx.require(Capability::Ask)?;
    let existing = find(ctx, question)?;
    if existing.status == QuestionStatus::Dismissed {
        return Err(HubError::wrong_state("the question was dismissed"));
    }
    let on = !existing.upvoters.contains(&ctx.actor_id());
    let votes = if on {
        existing.votes() + 1
    } else {
        existing.votes() - 1
    };
    let event = Event::QuestionUpvoted {
        question,
        voter: ctx.actor_id(),
        on,
    };
    Ok(Effect::event(event)
        .with_reply(json!({ "question": question, "upvoted": on, "votes": votes })))
}

pub(super) fn answer(
    ctx: &Ctx<'_>,
    question: QuestionId,
    text: Option<String>,
) -> Result<Effect, HubError> {
    ctx.require(Capability::ModerateQa)?;
    if find(ctx, question)?.status == QuestionStatus::Dismissed {
        return Err(HubError::wrong_state("the question was dismissed"));
    }
    let text = text
        .map(|t| checked("text", t, ctx.limits.question_chars))
        .transpose()?;
    Ok(Effect::event(Event::QuestionAnswered {
        question,
        by: ctx.actor_id(),
        text,
    }))
}

pub(super) fn dismiss(ctx: &Ctx<'_>, question: QuestionId) -> Result<Effect, HubError> {
    ctx.require(Capability::ModerateQa)?;
    if find(ctx, question)?.status == QuestionStatus::Dismissed {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::QuestionDismissed {
        question,
        by: ctx.actor_id(),
    }))
}

pub(super) fn pin(ctx: &Ctx<'_>, question: QuestionId, pinned: bool) -> Result<Effect, HubError> {
    ctx.require(Capability::ModerateQa)?;
    let existing = find(ctx, question)?;
    if pinned && existing.status == QuestionStatus::Dismissed {
        return Err(HubError::wrong_state("the question was dismissed"));
    }
    if existing.pinned == pinned {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::QuestionPinned { question, pinned }))
}

fn find<'a>(ctx: &'a Ctx<'_>, question: QuestionId) -> Result<&'a Question, HubError> {
    ctx.state
        .qa
        .get(question)
        .ok_or_else(|| HubError::not_found("no such question"))
}
