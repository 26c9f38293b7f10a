//! What clients see of an event: the stored event, minus what its audience must not
//! learn, plus derived facts (tallies, queue, poll definition) so clients stay simple.

use crate::event::{Ballot, Event};
use crate::state::State;
use serde_json::{Value, json};

/// The `event` object of an event frame; `state` is the state after applying it.
pub fn event_view(event: &Event, state: &State) -> Value {
    let mut view = serde_json::to_value(event).unwrap_or(Value::Null);
    let Value::Object(fields) = &mut view else {
        return view;
    };
    match event {
        Event::PollOpened { poll, .. } | Event::PollPublished { poll } => {
            if let Some(p) = state.polls.get(*poll) {
                fields.insert("definition".into(), json!(p));
                if p.published {
                    fields.insert("tally".into(), json!(p.tally()));
                }
            }
        }
        Event::PollVoted { poll, ballot, .. } => {
            if let Ballot::Anonymous(_) = ballot {
                fields.remove("ballot");
            }
            if let Some(p) = state.polls.get(*poll) {
                fields.insert("tally".into(), json!(p.tally()));
            }
        }
        Event::QuestionUpvoted { question, .. } => {
            fields.remove("voter");
            fields.remove("on");
            let votes = state.qa.get(*question).map_or(0, |q| q.votes());
            fields.insert("votes".into(), json!(votes));
        }
        Event::HandRaised { .. } | Event::HandLowered { .. } | Event::HandsLoweredAll { .. } => {
            let queue: Vec<_> = state.hands.queue.iter().map(|h| h.participant).collect();
            fields.insert("queue".into(), json!(queue));
        }
        Event::RecordingStarted { .. } => {
            fields.insert("notice".into(), json!(crate::state::RECORDING_NOTICE));
        }
        _ => {}
    }
    view
}
