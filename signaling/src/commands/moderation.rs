//! Moderation: mute requests, removal and bans, session lock, the lobby, live role
//! changes and ending the session. All need `admin_room`, and a moderator acts only
//! on participants ranked below them (admin accounts act on anyone).

use super::{Ctx, Effect};
use crate::capability::{AccountRole, Capability, SessionRole, capabilities_for};
use crate::error::HubError;
use crate::event::Event;
use crate::ids::ParticipantId;
use crate::protocol::client::MediaKind;
use crate::protocol::server::CloseCode;
use crate::state::Participant;

pub(super) fn mute_request(
    ctx: &Ctx<'_>,
    participant: ParticipantId,
    media: MediaKind,
) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    let target = ctx
        .state
        .present(participant)
        .ok_or_else(|| HubError::not_found("no such participant"))?;
    outranks(ctx, target.info.role)?;
    Ok(Effect::event(Event::MuteRequested {
        participant,
        media,
        by: ctx.actor_id(),
    }))
}

pub(super) fn remove(
    ctx: &Ctx<'_>,
    participant: ParticipantId,
    ban: bool,
) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    let target = admitted(ctx, participant)?;
    outranks(ctx, target.info.role)?;
    if !target.present && !ban {
        return Err(HubError::wrong_state("the participant is not connected"));
    }
    let code = if ban {
        CloseCode::Banned
    } else {
        CloseCode::Removed
    };
    Ok(Effect {
        events: vec![Event::ParticipantRemoved {
            participant,
            by: ctx.actor_id(),
            ban,
        }],
        closes: vec![(participant, code)],
        ..Effect::default()
    })
}

pub(super) fn lock(ctx: &Ctx<'_>, locked: bool) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    if ctx.state.locked == locked {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::SessionLocked {
        locked,
        by: ctx.actor_id(),
    }))
}

pub(super) fn set_role(
    ctx: &Ctx<'_>,
    participant: ParticipantId,
    role: SessionRole,
) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    let target = admitted(ctx, participant)?;
    outranks(ctx, target.info.role)?;
    outranks(ctx, role)?;
    if target.info.role == role {
        return Ok(Effect::default());
    }
    Ok(Effect::event(Event::RoleChanged {
        participant,
        role,
        capabilities: capabilities_for(target.info.account, role),
        by: ctx.actor_id(),
    }))
}

pub(super) fn admit(ctx: &Ctx<'_>, participant: ParticipantId) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    let entry = ctx
        .state
        .lobby_entry(participant)
        .ok_or_else(|| HubError::not_found("nobody with that id waits in the lobby"))?;
    Ok(Effect {
        events: vec![
            Event::LobbyAdmitted {
                participant,
                by: ctx.actor_id(),
            },
            Event::ParticipantJoined {
                info: entry.info.clone(),
            },
        ],
        admitted: vec![participant],
        ..Effect::default()
    })
}

pub(super) fn deny(ctx: &Ctx<'_>, participant: ParticipantId) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    if ctx.state.lobby_entry(participant).is_none() {
        return Err(HubError::not_found(
            "nobody with that id waits in the lobby",
        ));
    }
    Ok(Effect {
        events: vec![Event::LobbyDenied {
            participant,
            by: ctx.actor_id(),
        }],
        closes: vec![(participant, CloseCode::Denied)],
        ..Effect::default()
    })
}

pub(super) fn end(ctx: &Ctx<'_>) -> Result<Effect, HubError> {
    ctx.require(Capability::AdminRoom)?;
    Ok(Effect::event(Event::SessionEnded {
        by: Some(ctx.actor_id()),
    }))
}

fn admitted<'a>(ctx: &'a Ctx<'_>, participant: ParticipantId) -> Result<&'a Participant, HubError> {
    if participant == ctx.actor_id() {
        return Err(HubError::invalid("a moderator cannot act on themselves"));
    }
    ctx.state
        .participant(participant)
        .ok_or_else(|| HubError::not_found("no such participant"))
}

/// The actor must rank above `role` (operators with admin accounts always do).
fn outranks(ctx: &Ctx<'_>, role: SessionRole) -> Result<(), HubError> {
    let actor = &ctx.actor.info;
    if actor.account == AccountRole::Admin || actor.role > role {
        Ok(())
    } else {
        Err(HubError::forbidden(
            "cannot act on or grant a role at or above your own",
        ))
    }
}
