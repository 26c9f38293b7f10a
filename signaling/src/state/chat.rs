//! Chat: public and direct messages, edits, deletions, reactions, the chat lock.

use crate::event::Event;
use crate::ids::{MessageId, ParticipantId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One chat message as the room remembers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    pub message: MessageId,
    pub from: ParticipantId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<ParticipantId>,
    /// Empty once deleted.
    pub text: String,
    pub at: DateTime<Utc>,
    pub edited: bool,
    pub deleted: bool,
    /// Emoji → who reacted with it.
    pub reactions: BTreeMap<String, BTreeSet<ParticipantId>>,
}

/// The recent chat, bounded; older messages live only in storage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chat {
    pub messages: VecDeque<ChatMessage>,
    pub locked: bool,
}

impl Chat {
    pub fn get(&self, id: MessageId) -> Option<&ChatMessage> {
        self.messages.iter().rev().find(|m| m.message == id)
    }

    fn get_mut(&mut self, id: MessageId) -> Option<&mut ChatMessage> {
        self.messages.iter_mut().rev().find(|m| m.message == id)
    }

    pub(super) fn apply(&mut self, event: &Event, at: DateTime<Utc>, kept: usize) {
        match event {
            Event::ChatPosted {
                message,
                from,
                to,
                text,
            } => {
                self.messages.push_back(ChatMessage {
                    message: *message,
                    from: *from,
                    to: *to,
                    text: text.clone(),
                    at,
                    edited: false,
                    deleted: false,
                    reactions: BTreeMap::new(),
                });
                while self.messages.len() > kept.max(1) {
                    self.messages.pop_front();
                }
            }
            Event::ChatEdited { message, text } => {
                if let Some(m) = self.get_mut(*message) {
                    m.text = text.clone();
                    m.edited = true;
                }
            }
            Event::ChatDeleted { message, .. } => {
                if let Some(m) = self.get_mut(*message) {
                    m.text.clear();
                    m.deleted = true;
                    m.reactions.clear();
                }
            }
            Event::ChatReacted {
                message,
                participant,
                emoji,
                on,
            } => {
                if let Some(m) = self.get_mut(*message) {
                    react(m, *participant, emoji, *on);
                }
            }
            Event::ChatLocked { locked, .. } => self.locked = *locked,
            _ => {}
        }
    }
}

fn react(message: &mut ChatMessage, participant: ParticipantId, emoji: &str, on: bool) {
    if on {
        message
            .reactions
            .entry(emoji.to_string())
            .or_default()
            .insert(participant);
    } else if let Some(who) = message.reactions.get_mut(emoji) {
        who.remove(&participant);
        if who.is_empty() {
            message.reactions.remove(emoji);
        }
    }
}
