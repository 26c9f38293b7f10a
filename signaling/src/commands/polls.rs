//! poll.create / poll.open / poll.close / poll.publish / poll.vote.

use super::text::checked;
use super::{Ctx, Effect};
use crate::capability::Capability;
use crate::error::{ErrorCode, HubError};
use crate::event::{Ballot, Event};
use crate::ids::PollId;
use crate::state::{Poll, PollStatus};
use chrono::Duration;
use serde_json::json;

pub(super) fn create(
    ctx: &Ctx<'_>,
    question: String,
    options: Vec<String>,
    multiple: bool,
    max_choices: Option<u8>,
    anonymous: bool,
) -> Result<Effect, HubError> {
    ctx.require(Capability::CreatePolls)?;
    if ctx.state.polls.polls.len() >= ctx.limits.max_polls {
        return Err(HubError::new(
            ErrorCode::LimitReached,
            "too many polls in this session",
        ));
    }
    let question = checked("question", question, ctx.limits.poll_question_chars)?;
    let options = checked_options(ctx, options)?;
    let max_choices = choice_limit(multiple, max_choices, options.len())?;
    let poll = PollId::random();
    let event = Event::PollCreated {
        poll,
        by: ctx.actor_id(),
        question,
        options,
        multiple,
        max_choices,
        anonymous,
    };
    Ok(Effect::event(event).with_reply(json!({ "poll": poll })))
}

fn checked_options(ctx: &Ctx<'_>, options: Vec<String>) -> Result<Vec<String>, HubError> {
    let max = ctx.limits.poll_options;
    if options.len() < 2 || options.len() > max {
        return Err(HubError::invalid(format!(
            "a poll needs 2 to {max} options"
        )));
    }
    let options = options
        .into_iter()
        .map(|o| checked("option", o, ctx.limits.poll_option_chars))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::BTreeSet::new();
    if !options.iter().all(|o| seen.insert(o.as_str())) {
        return Err(HubError::invalid("options must be distinct"));
    }
    Ok(options)
}

fn choice_limit(multiple: bool, max_choices: Option<u8>, options: usize) -> Result<u8, HubError> {
    let options = u8::try_from(options).unwrap_or(u8::MAX);
    if !multiple {
        return match max_choices {
            None | Some(1) => Ok(1),
            Some(_) => Err(HubError::invalid(
                "a single-choice poll allows exactly 1 choice",
            )),
        };
    }
    let limit = max_choices.unwrap_or(options);
    if limit == 0 || limit > options {
        return Err(HubError::invalid(format!(
            "max_choices must be 1 to {options}"
        )));
    }
    Ok(limit)
}

pub(super) fn open(
    ctx: &Ctx<'_>,
    poll: PollId,
    duration_secs: Option<u32>,
) -> Result<Effect, HubError> {
    ctx.require(Capability::CreatePolls)?;
    let existing = find(ctx, poll)?;
    if existing.status != PollStatus::Draft {
        return Err(HubError::wrong_state("only a draft poll can be opened"));
    }
    let closes_at = match duration_secs {
        None => None,
        Some(secs) => {
            let duration = Duration::seconds(i64::from(secs));
            if secs == 0 || duration > ctx.limits.max_poll_duration {
                return Err(HubError::invalid("duration_secs out of range"));
            }
            Some(ctx.now + duration)
        }
    };
    Ok(Effect::event(Event::PollOpened { poll, closes_at }))
}

pub(super) fn close(ctx: &Ctx<'_>, poll: PollId) -> Result<Effect, HubError> {
    ctx.require(Capability::CreatePolls)?;
    if find(ctx, poll)?.status != PollStatus::Open {
        return Err(HubError::wrong_state("the poll is not open"));
    }
    Ok(Effect::event(Event::PollClosed { poll }))
}

pub(super) fn publish(ctx: &Ctx<'_>, poll: PollId) -> Result<Effect, HubError> {
    ctx.require(Capability::CreatePolls)?;
    let existing = find(ctx, poll)?;
    if existing.status != PollStatus::Closed || existing.published {
        return Err(HubError::wrong_state(
            "only a closed, unpublished poll can be published",
        ));
    }
    Ok(Effect::event(Event::PollPublished { poll }))
}

pub(super) fn vote(ctx: &Ctx<'_>, poll: PollId, choices: Vec<u8>) -> Result<Effect, HubError> {
    ctx.require(Capability::Vote)?;
    let existing = find(ctx, poll)?;
    let expired = existing.closes_at.is_some_and(|at| at <= ctx.now);
    if existing.status != PollStatus::Open || expired {
        return Err(HubError::wrong_state("the poll is not open"));
    }
    check_choices(existing, &choices)?;
    let ballot = if existing.anonymous {
        Ballot::Anonymous(ctx.keys.ballot_key(poll, ctx.actor_id()))
    } else {
        Ballot::Participant(ctx.actor_id())
    };
    let reply = json!({ "poll": poll, "choices": choices });
    Ok(Effect::event(Event::PollVoted {
        poll,
        ballot,
        choices,
    })
    .with_reply(reply))
}

fn check_choices(poll: &Poll, choices: &[u8]) -> Result<(), HubError> {
    if choices.is_empty() || choices.len() > usize::from(poll.max_choices) {
        return Err(HubError::invalid(format!(
            "pick 1 to {} options",
            poll.max_choices
        )));
    }
    if choices
        .iter()
        .any(|&c| usize::from(c) >= poll.options.len())
    {
        return Err(HubError::invalid("no such option"));
    }
    let mut seen = std::collections::BTreeSet::new();
    if !choices.iter().all(|c| seen.insert(*c)) {
        return Err(HubError::invalid("each option at most once"));
    }
    Ok(())
}

/// A poll the actor can see: managers see drafts, others only opened polls.
fn find<'a>(ctx: &'a Ctx<'_>, poll: PollId) -> Result<&'a Poll, HubError> {
    let manager = ctx
        .actor
        .info
        .capabilities
        .contains(Capability::CreatePolls);
    ctx.state
        .polls
        .get(poll)
        .filter(|p| manager || p.status != PollStatus::Draft)
        .ok_or_else(|| HubError::not_found("no such poll"))
}
