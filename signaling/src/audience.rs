//! Who may see an event's frame: decided when the event happens, checked again
//! against the participant's current capabilities when they resume.

use crate::capability::Capability;
use crate::event::Event;
use crate::ids::ParticipantId;
use crate::state::{Participant, State};

/// A frame's audience. A participant sees it if any clause admits them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audience {
    /// Every admitted participant (not those waiting in the lobby).
    pub everyone: bool,
    /// Admitted participants holding this capability.
    pub holders: Option<Capability>,
    /// These participants, admitted or in the lobby.
    pub ids: Vec<ParticipantId>,
}

impl Audience {
    fn everyone() -> Self {
        Self {
            everyone: true,
            ..Self::default()
        }
    }

    fn holders(capability: Capability, ids: Vec<ParticipantId>) -> Self {
        Self {
            everyone: false,
            holders: Some(capability),
            ids,
        }
    }

    fn only(ids: Vec<ParticipantId>) -> Self {
        Self {
            ids,
            ..Self::default()
        }
    }

    /// Whether `id` (admitted as `participant`, if admitted) may see the frame.
    pub fn admits(&self, id: ParticipantId, participant: Option<&Participant>) -> bool {
        if self.ids.contains(&id) {
            return true;
        }
        let Some(participant) = participant else {
            return false;
        };
        self.everyone
            || self
                .holders
                .is_some_and(|c| participant.info.capabilities.contains(c))
    }
}

/// The audience of `event`, judged on the state before it is applied.
pub fn audience_of(event: &Event, state: &State) -> Audience {
    use Capability::{AdminRoom, CreatePolls};
    match event {
        Event::ParticipantJoined { info } => presence(info.participant, info.hidden),
        Event::ParticipantLeft { participant }
        | Event::MediaChanged { participant, .. }
        | Event::ParticipantRemoved { participant, .. }
        | Event::RoleChanged { participant, .. } => {
            presence(*participant, state.is_hidden(*participant))
        }
        Event::ChatPosted { from, to, .. } => match to {
            Some(to) => Audience::only(vec![*from, *to]),
            None => Audience::everyone(),
        },
        Event::ChatEdited { message, .. }
        | Event::ChatDeleted { message, .. }
        | Event::ChatReacted { message, .. } => match state.chat.get(*message) {
            Some(m) => match m.to {
                Some(to) => Audience::only(vec![m.from, to]),
                None => Audience::everyone(),
            },
            None => Audience::everyone(),
        },
        // Votes carry live results: poll managers only. The voter learns their own
        // choice from the ack (and the snapshot's `your_choices`).
        Event::PollCreated { .. } | Event::PollVoted { .. } => {
            Audience::holders(CreatePolls, vec![])
        }
        Event::MuteRequested { participant, .. }
        | Event::LobbyAdmitted { participant, .. }
        | Event::LobbyDenied { participant, .. }
        | Event::LobbyLeft { participant } => Audience::holders(AdminRoom, vec![*participant]),
        Event::LobbyKnocked { info } => Audience::holders(AdminRoom, vec![info.participant]),
        Event::ChatLocked { .. }
        | Event::PollOpened { .. }
        | Event::PollClosed { .. }
        | Event::PollPublished { .. }
        | Event::QuestionAsked { .. }
        | Event::QuestionUpvoted { .. }
        | Event::QuestionAnswered { .. }
        | Event::QuestionDismissed { .. }
        | Event::QuestionPinned { .. }
        | Event::HandRaised { .. }
        | Event::HandLowered { .. }
        | Event::HandsLoweredAll { .. }
        | Event::SessionLocked { .. }
        | Event::RecordingStarted { .. }
        | Event::RecordingPaused { .. }
        | Event::RecordingResumed { .. }
        | Event::RecordingStopped { .. }
        | Event::SessionEnded { .. } => Audience::everyone(),
    }
}

/// Presence of a hidden participant is shown to room admins (and themselves) only.
fn presence(participant: ParticipantId, hidden: bool) -> Audience {
    if hidden {
        Audience::holders(Capability::AdminRoom, vec![participant])
    } else {
        Audience::everyone()
    }
}
