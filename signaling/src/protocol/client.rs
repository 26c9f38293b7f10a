//! Client → server messages: one JSON object per WebSocket text frame, tagged by `type`,
//! with an optional `id` that the server echoes as `ref` in the ack or error.
//!
//! ```json
//! {"type":"chat.send","id":7,"text":"hello"}
//! ```

use crate::capability::SessionRole;
use crate::error::{ErrorCode, HubError};
use crate::ids::{MessageId, ParticipantId, PollId, QuestionId, RequestId};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A parsed client message.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientMessage {
    pub id: Option<RequestId>,
    pub command: Command,
}

/// Which media a participant publishes (or is asked to stop publishing). The SFU's names
/// (`microphone`, `camera`) are accepted for `audio` and `video`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    #[serde(alias = "microphone")]
    Audio,
    #[serde(alias = "camera")]
    Video,
    Screen,
}

impl MediaKind {
    /// The source name the SFU and the `media.track` signal use.
    pub fn source_name(self) -> &'static str {
        match self {
            MediaKind::Audio => "microphone",
            MediaKind::Video => "camera",
            MediaKind::Screen => "screen",
        }
    }
}

/// What a subscriber wants of one track (`media.subscribe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    Low,
    Medium,
    High,
    /// Nothing: the server stops forwarding the track to this subscriber.
    Off,
}

/// Every message type a client may send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type")]
pub enum Command {
    #[serde(rename = "chat.send")]
    ChatSend {
        text: String,
        /// A direct message to this participant; absent for public chat.
        #[serde(default)]
        to: Option<ParticipantId>,
    },
    #[serde(rename = "chat.edit")]
    ChatEdit { message: MessageId, text: String },
    #[serde(rename = "chat.delete")]
    ChatDelete { message: MessageId },
    #[serde(rename = "chat.react")]
    ChatReact {
        message: MessageId,
        emoji: String,
        /// `true` adds the reaction, `false` removes it.
        #[serde(default = "yes")]
        on: bool,
    },
    #[serde(rename = "chat.typing")]
    ChatTyping {
        #[serde(default)]
        to: Option<ParticipantId>,
    },
    #[serde(rename = "chat.lock")]
    ChatLock { locked: bool },
    #[serde(rename = "poll.create")]
    PollCreate {
        question: String,
        options: Vec<String>,
        #[serde(default)]
        multiple: bool,
        /// With `multiple`, the most options one ballot may pick (default: all).
        #[serde(default)]
        max_choices: Option<u8>,
        #[serde(default)]
        anonymous: bool,
    },
    #[serde(rename = "poll.open")]
    PollOpen {
        poll: PollId,
        /// Closes the poll automatically after this many seconds.
        #[serde(default)]
        duration_secs: Option<u32>,
    },
    #[serde(rename = "poll.close")]
    PollClose { poll: PollId },
    #[serde(rename = "poll.publish")]
    PollPublish { poll: PollId },
    #[serde(rename = "poll.vote")]
    PollVote { poll: PollId, choices: Vec<u8> },
    #[serde(rename = "qa.ask")]
    QaAsk {
        text: String,
        #[serde(default)]
        anonymous: bool,
    },
    #[serde(rename = "qa.upvote")]
    QaUpvote { question: QuestionId },
    #[serde(rename = "qa.answer")]
    QaAnswer {
        question: QuestionId,
        /// A written answer; absent when answered live.
        #[serde(default)]
        text: Option<String>,
    },
    #[serde(rename = "qa.dismiss")]
    QaDismiss { question: QuestionId },
    #[serde(rename = "qa.pin")]
    QaPin {
        question: QuestionId,
        #[serde(default = "yes")]
        pinned: bool,
    },
    #[serde(rename = "hand.raise")]
    HandRaise,
    #[serde(rename = "hand.lower")]
    HandLower {
        /// Someone else's hand (moderators); absent for one's own.
        #[serde(default)]
        participant: Option<ParticipantId>,
    },
    #[serde(rename = "hand.lower_all")]
    HandLowerAll,
    #[serde(rename = "media.state")]
    MediaState {
        #[serde(default)]
        mic: bool,
        #[serde(default)]
        camera: bool,
        #[serde(default)]
        screen: bool,
    },
    #[serde(rename = "mod.mute_request")]
    ModMuteRequest {
        participant: ParticipantId,
        #[serde(default = "audio")]
        media: MediaKind,
    },
    #[serde(rename = "mod.remove")]
    ModRemove {
        participant: ParticipantId,
        /// Also refuse every later join to this session.
        #[serde(default)]
        ban: bool,
    },
    #[serde(rename = "mod.lock")]
    ModLock { locked: bool },
    #[serde(rename = "mod.set_role")]
    ModSetRole {
        participant: ParticipantId,
        role: SessionRole,
    },
    #[serde(rename = "lobby.admit")]
    LobbyAdmit { participant: ParticipantId },
    #[serde(rename = "lobby.deny")]
    LobbyDeny { participant: ParticipantId },
    #[serde(rename = "session.end")]
    SessionEnd,
    #[serde(rename = "recording.start")]
    RecordingStart,
    #[serde(rename = "recording.pause")]
    RecordingPause,
    #[serde(rename = "recording.resume")]
    RecordingResume,
    #[serde(rename = "recording.stop")]
    RecordingStop,
    #[serde(rename = "media.join")]
    MediaJoin,
    #[serde(rename = "media.offer")]
    MediaOffer {
        sdp: String,
        /// The source of every m-line the offer sends on, by `mid`.
        #[serde(default)]
        tracks: BTreeMap<String, MediaKind>,
    },
    #[serde(rename = "media.answer")]
    MediaAnswer { sdp: String },
    #[serde(rename = "media.candidate")]
    MediaCandidate { candidate: String },
    #[serde(rename = "media.subscribe")]
    MediaSubscribe { track: String, quality: Quality },
    #[serde(rename = "media.leave")]
    MediaLeave,
    #[serde(rename = "resume")]
    Resume { last_seq: u64 },
    #[serde(rename = "ping")]
    Ping,
}

fn yes() -> bool {
    true
}

fn audio() -> MediaKind {
    MediaKind::Audio
}

/// Every `type` the server accepts, so an unknown one gets `unknown_type`, not `invalid`.
pub const KNOWN_TYPES: &[&str] = &[
    "chat.send",
    "chat.edit",
    "chat.delete",
    "chat.react",
    "chat.typing",
    "chat.lock",
    "poll.create",
    "poll.open",
    "poll.close",
    "poll.publish",
    "poll.vote",
    "qa.ask",
    "qa.upvote",
    "qa.answer",
    "qa.dismiss",
    "qa.pin",
    "hand.raise",
    "hand.lower",
    "hand.lower_all",
    "media.state",
    "mod.mute_request",
    "mod.remove",
    "mod.lock",
    "mod.set_role",
    "lobby.admit",
    "lobby.deny",
    "session.end",
    "recording.start",
    "recording.pause",
    "recording.resume",
    "recording.stop",
    "media.join",
    "media.offer",
    "media.answer",
    "media.candidate",
    "media.subscribe",
    "media.leave",
    "resume",
    "ping",
];

/// Longest accepted request `id` string.
const MAX_REQUEST_ID_CHARS: usize = 64;

/// A frame that could not be parsed, with whatever request id could be recovered.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub id: Option<RequestId>,
    pub error: HubError,
}

/// Parses one client frame. Never panics: every failure is a typed error with the code
/// the client should see (`too_large`, `bad_json`, `unknown_type`, `invalid`).
pub fn parse_client_message(bytes: &[u8], max_bytes: usize) -> Result<ClientMessage, ParseError> {
    let fail = |id, code, message: String| ParseError {
        id,
        error: HubError::new(code, message),
    };
    if bytes.len() > max_bytes {
        let message = format!("frame of {} bytes exceeds {max_bytes}", bytes.len());
        return Err(fail(None, ErrorCode::TooLarge, message));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| fail(None, ErrorCode::BadJson, format!("not JSON: {e}")))?;
    let serde_json::Value::Object(object) = &value else {
        return Err(fail(
            None,
            ErrorCode::BadJson,
            "expected a JSON object".into(),
        ));
    };
    let id =
        request_id(object.get("id")).map_err(|message| fail(None, ErrorCode::Invalid, message))?;
    let kind = match object.get("type") {
        Some(serde_json::Value::String(kind)) => kind.as_str(),
        _ => {
            return Err(fail(
                id,
                ErrorCode::Invalid,
                "missing string field `type`".into(),
            ));
        }
    };
    if !KNOWN_TYPES.contains(&kind) {
        let message = format!("unknown message type `{}`", truncate(kind, 64));
        return Err(fail(id, ErrorCode::UnknownType, message));
    }
    let command = Command::deserialize(&value)
        .map_err(|e| fail(id.clone(), ErrorCode::Invalid, e.to_string()))?;
    Ok(ClientMessage { id, command })
}

fn request_id(value: Option<&serde_json::Value>) -> Result<Option<RequestId>, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .map(|n| Some(RequestId::Number(n)))
            .ok_or_else(|| "`id` must be a non-negative integer or a string".to_string()),
        Some(serde_json::Value::String(s)) if s.chars().count() <= MAX_REQUEST_ID_CHARS => {
            Ok(Some(RequestId::Text(s.clone())))
        }
        Some(_) => Err(format!(
            "`id` must be an integer or a string of at most {MAX_REQUEST_ID_CHARS} characters"
        )),
    }
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}
