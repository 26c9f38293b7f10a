//! The capability matrix per role over real WebSockets: every client message type, sent
//! by each session role, is acked (and its event delivered) when the role holds the
//! capability the protocol documents for it, and refused with `forbidden` when not.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::harness::Backend;
use crate::hub_client::{HubClient, join, live_session, participant_id, unthrottled, user_id};

/// The matrix of docs/HUB_PROTOCOL.md ("Join ticket"), written out independently of
/// `signaling::capabilities_for`.
fn documented(account: &str, role: &str) -> BTreeSet<&'static str> {
    let mut set: BTreeSet<&str> = match role {
        "host" | "cohost" => [
            "publish_audio",
            "publish_video",
            "publish_screen",
            "subscribe",
            "chat",
            "direct_message",
            "moderate_chat",
            "create_polls",
            "vote",
            "ask",
            "moderate_qa",
            "raise_hand",
            "control_recording",
            "admin_room",
        ]
        .into(),
        "presenter" => [
            "publish_audio",
            "publish_video",
            "publish_screen",
            "subscribe",
            "chat",
            "direct_message",
            "create_polls",
            "vote",
            "ask",
            "raise_hand",
        ]
        .into(),
        "participant" => [
            "subscribe",
            "chat",
            "direct_message",
            "vote",
            "ask",
            "raise_hand",
        ]
        .into(),
        "viewer" => ["subscribe", "chat", "vote", "ask"].into(),
        other => panic!("no role {other}"),
    };
    if account == "user" {
        set.remove("control_recording");
    }
    set
}

fn capability_set(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// One role under test: `subject` sends, `admin` (an operator account, who sees every
/// event but direct messages) watches, `target` is acted upon.
struct Probe {
    subject: HubClient,
    admin: HubClient,
    target: HubClient,
    caps: BTreeSet<&'static str>,
    /// Per message type, the capabilities it was checked against (none: it needs nothing).
    checked: BTreeMap<String, BTreeSet<String>>,
}

impl Probe {
    fn holds(&self, capability: &str) -> bool {
        self.caps.contains(capability)
    }

    /// Sends `message`. With `capability` (or `None`: no capability needed) it must be
    /// acked and `kind` be the admin's very next event; without it, refused with
    /// `forbidden` (and an event it made anyway would break the next check).
    async fn check(
        &mut self,
        message: Value,
        capability: Option<&str>,
        kind: Option<&str>,
    ) -> Value {
        let kind_checked = self
            .checked
            .entry(message["type"].as_str().unwrap().to_owned());
        kind_checked
            .or_default()
            .extend(capability.map(str::to_owned));
        let allowed = capability.is_none_or(|c| self.holds(c));
        let answer = self.subject.request(message.clone()).await;
        if !allowed {
            assert_eq!(answer["type"], "error", "{message} → {answer}");
            assert_eq!(answer["code"], "forbidden", "{message} → {answer}");
            return answer;
        }
        assert_eq!(answer["type"], "ack", "{message} → {answer}");
        if let Some(kind) = kind {
            self.next_admin_event(kind).await;
        }
        answer["result"].clone()
    }

    async fn next_admin_event(&mut self, kind: &str) -> Value {
        let event = self.admin.until(|f| f["type"] == "event").await;
        assert_eq!(event["event"]["kind"], kind, "{event}");
        event
    }
}

async fn every_message_type_is_checked_against_every_role(backend: Backend) {
    let Some(app) = unthrottled(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let admin = app.user_with_role("ops@example.com", "admin").await;
    let target = app.user_with_role("tess@example.com", "user").await;
    let plain = app.user_with_role("sam@example.com", "user").await;
    let premium = app.user_with_role("pam@example.com", "premium").await;
    let knockers = [
        app.user_with_role("kim@example.com", "user").await,
        app.user_with_role("ken@example.com", "user").await,
    ];
    let cases = [
        ("premium", "host", &host),
        ("premium", "cohost", &premium),
        ("user", "cohost", &plain),
        ("user", "presenter", &plain),
        ("user", "participant", &plain),
        ("user", "viewer", &plain),
    ];
    let mut checked = BTreeMap::new();
    for (account, role, subject) in cases {
        let id = live_session(&app, &host, json!({})).await;
        let (mut admin, _) = HubClient::join(&app, &id, &admin).await;
        let (mut target, target_id) = HubClient::join_with_id(&app, &id, &target).await;
        let (mut subject, welcome) = HubClient::join(&app, &id, subject).await;
        let subject_id = participant_id(&welcome);
        let mut caps = capability_set(&welcome["capabilities"]);
        if role != welcome["participant"]["role"] {
            admin
                .ok(json!({"type": "mod.set_role", "participant": subject_id, "role": role}))
                .await;
            let changed = subject.event("role.changed").await;
            caps = capability_set(&changed["event"]["capabilities"]);
        }
        let expected = documented(account, role);
        let expected_names: BTreeSet<String> = expected.iter().map(|c| c.to_string()).collect();
        assert_eq!(caps, expected_names, "{account} {role}");

        // What the probes act on: the target's message, question and raised hand, a
        // draft poll and an open one.
        let message = target
            .ok(json!({"type": "chat.send", "text": "target's"}))
            .await["message"]
            .clone();
        let question = target
            .ok(json!({"type": "qa.ask", "text": "target's?"}))
            .await["question"]
            .clone();
        target.ok(json!({"type": "hand.raise"})).await;
        let poll = json!({"type": "poll.create", "question": "Q?", "options": ["a", "b"]});
        let draft = admin.ok(poll.clone()).await["poll"].clone();
        let open = admin.ok(poll.clone()).await["poll"].clone();
        admin.ok(json!({"type": "poll.open", "poll": open})).await;
        admin.until(|f| f["event"]["kind"] == "poll.opened").await;

        let mut p = Probe {
            subject,
            admin,
            target,
            caps: expected,
            checked: std::mem::take(&mut checked),
        };
        // Chat.
        let own = p
            .check(
                json!({"type": "chat.send", "text": "mine"}),
                Some("chat"),
                Some("chat.posted"),
            )
            .await["message"]
            .clone();
        p.check(
            json!({"type": "chat.edit", "message": own, "text": "mine!"}),
            Some("chat"),
            Some("chat.edited"),
        )
        .await;
        p.check(
            json!({"type": "chat.react", "message": message, "emoji": "👍"}),
            Some("chat"),
            Some("chat.reacted"),
        )
        .await;
        let dm = json!({"type": "chat.send", "text": "direct", "to": target_id});
        p.check(dm, Some("direct_message"), None).await;
        if p.holds("direct_message") {
            p.target.until(|f| f["event"]["text"] == "direct").await;
        }
        p.check(json!({"type": "chat.typing"}), Some("chat"), None)
            .await;
        p.admin.until(|f| f["type"] == "signal").await;
        p.check(
            json!({"type": "chat.delete", "message": message}),
            Some("moderate_chat"),
            Some("chat.deleted"),
        )
        .await;
        // Polls.
        p.check(poll, Some("create_polls"), Some("poll.created"))
            .await;
        p.check(
            json!({"type": "poll.open", "poll": draft}),
            Some("create_polls"),
            Some("poll.opened"),
        )
        .await;
        p.check(
            json!({"type": "poll.vote", "poll": open, "choices": [0]}),
            Some("vote"),
            Some("poll.voted"),
        )
        .await;
        p.check(
            json!({"type": "poll.close", "poll": open}),
            Some("create_polls"),
            Some("poll.closed"),
        )
        .await;
        p.check(
            json!({"type": "poll.publish", "poll": open}),
            Some("create_polls"),
            Some("poll.published"),
        )
        .await;
        // Q&A.
        p.check(
            json!({"type": "qa.ask", "text": "mine?"}),
            Some("ask"),
            Some("qa.asked"),
        )
        .await;
        p.check(
            json!({"type": "qa.upvote", "question": question}),
            Some("ask"),
            Some("qa.upvoted"),
        )
        .await;
        for (kind, event) in [
            ("qa.answer", "qa.answered"),
            ("qa.pin", "qa.pinned"),
            ("qa.dismiss", "qa.dismissed"),
        ] {
            p.check(
                json!({"type": kind, "question": question}),
                Some("moderate_qa"),
                Some(event),
            )
            .await;
        }
        // Hands: one's own needs only a raised hand; anyone else's needs admin_room.
        p.check(
            json!({"type": "hand.raise"}),
            Some("raise_hand"),
            Some("hand.raised"),
        )
        .await;
        let own_hand = p.holds("raise_hand").then_some("hand.lowered");
        p.check(json!({"type": "hand.lower"}), None, own_hand).await;
        p.check(
            json!({"type": "hand.lower", "participant": target_id}),
            Some("admin_room"),
            Some("hand.lowered"),
        )
        .await;
        p.target.ok(json!({"type": "hand.raise"})).await;
        if p.holds("admin_room") {
            p.next_admin_event("hand.raised").await;
        }
        p.check(
            json!({"type": "hand.lower_all"}),
            Some("admin_room"),
            Some("hand.lowered_all"),
        )
        .await;
        // Media.
        for (media, capability) in [
            ("mic", "publish_audio"),
            ("camera", "publish_video"),
            ("screen", "publish_screen"),
        ] {
            p.check(
                json!({"type": "media.state", media: true}),
                Some(capability),
                Some("media.changed"),
            )
            .await;
        }
        // Moderation and the lobby.
        p.check(
            json!({"type": "mod.mute_request", "participant": target_id, "media": "audio"}),
            Some("admin_room"),
            Some("mod.mute_requested"),
        )
        .await;
        p.check(
            json!({"type": "mod.set_role", "participant": target_id, "role": "presenter"}),
            Some("admin_room"),
            Some("role.changed"),
        )
        .await;
        p.check(
            json!({"type": "mod.lock", "locked": true}),
            Some("admin_room"),
            Some("session.locked"),
        )
        .await;
        // Knockers stay connected until the case ends (a leave would be an event).
        let mut waiting = Vec::new();
        for (knocker, (kind, event)) in knockers.iter().zip([
            ("lobby.admit", "lobby.admitted"),
            ("lobby.deny", "lobby.denied"),
        ]) {
            let knocker_id = if p.holds("admin_room") {
                let (client, welcome) = HubClient::join(&app, &id, knocker).await;
                assert_eq!(welcome["lobby"], true, "{welcome}");
                p.next_admin_event("lobby.knocked").await;
                waiting.push(client);
                participant_id(&welcome)
            } else {
                user_id(&join(&app, &id, knocker).await)
            };
            p.check(
                json!({"type": kind, "participant": knocker_id}),
                Some("admin_room"),
                Some(event),
            )
            .await;
            if kind == "lobby.admit" && p.holds("admin_room") {
                p.next_admin_event("participant.joined").await;
            }
        }
        if let Some(denied) = waiting.get_mut(1) {
            assert_eq!(denied.closed().await, Some(4406));
        }
        // Recording, through its states, and the chat lock.
        for (kind, event) in [
            ("recording.start", "recording.started"),
            ("recording.pause", "recording.paused"),
            ("recording.resume", "recording.resumed"),
            ("recording.stop", "recording.stopped"),
        ] {
            p.check(
                json!({"type": kind}),
                Some("control_recording"),
                Some(event),
            )
            .await;
        }
        p.check(
            json!({"type": "chat.lock", "locked": true}),
            Some("moderate_chat"),
            Some("chat.locked"),
        )
        .await;
        // Session-level messages need nothing.
        let pong = p.subject.request(json!({"type": "ping"})).await;
        assert_eq!(pong["type"], "pong", "{pong}");
        let seq = p.subject.last_seq;
        p.check(json!({"type": "resume", "last_seq": seq}), None, None)
            .await;
        // The fence: nothing a refused message did reached anyone before it.
        p.check(
            json!({"type": "chat.send", "text": "fence"}),
            None,
            Some("chat.posted"),
        )
        .await;
        // Removal and the end, last.
        p.check(
            json!({"type": "mod.remove", "participant": target_id, "ban": false}),
            Some("admin_room"),
            Some("mod.removed"),
        )
        .await;
        if p.holds("admin_room") {
            assert_eq!(p.target.closed().await, Some(4400));
            p.subject.send(json!({"type": "session.end"})).await;
            p.next_admin_event("session.ended").await;
            assert_eq!(p.subject.closed().await, Some(4410));
        } else {
            p.check(json!({"type": "session.end"}), Some("admin_room"), None)
                .await;
        }
        checked = p.checked;
    }
    // docs/SECURITY.md's hub table names exactly the capabilities each message was checked
    // against here. `media.*` (every role may subscribe) and `recording.stop` (nothing to
    // stop yet) are checked in tests/api/media.rs and the signaling crate's tests.
    let documented = documented_hub_rules();
    for (kind, capabilities) in &checked {
        assert_eq!(
            Some(capabilities),
            documented.get(kind),
            "SECURITY.md's rule for {kind}"
        );
    }
    let unprobed: Vec<&String> = documented
        .keys()
        .filter(|kind| !checked.contains_key(*kind) && *kind != "ping")
        .collect();
    assert!(
        unprobed
            .iter()
            .all(|kind| kind.starts_with("media.") || *kind == "recording.stop"),
        "{unprobed:?}"
    );
}

/// docs/SECURITY.md's hub table: message type → the capabilities it may need.
fn documented_hub_rules() -> BTreeMap<String, BTreeSet<String>> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/SECURITY.md")).unwrap();
    let table = doc
        .split("<!-- hub:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- hub:end -->").next())
        .expect("SECURITY.md has the hub table between its markers");
    let mut rules = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let capabilities = cells[1]
            .split(',')
            .map(|c| c.trim().trim_matches('`').to_owned())
            .filter(|c| !c.is_empty() && c != "—")
            .collect();
        let kind = cells[0].trim_matches('`').to_owned();
        assert!(rules.insert(kind, capabilities).is_none(), "{line}");
    }
    rules
}

/// The table lists every message type the hub accepts, and only real capabilities.
#[test]
fn the_hub_table_lists_every_message_type_with_real_capabilities() {
    let rules = documented_hub_rules();
    let kinds: BTreeSet<&str> = rules.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = signaling::protocol::client::KNOWN_TYPES
        .iter()
        .copied()
        .collect();
    assert_eq!(kinds, known, "SECURITY.md's hub table and KNOWN_TYPES");
    for (kind, capabilities) in &rules {
        for capability in capabilities {
            let parsed: Result<signaling::Capability, _> =
                serde_json::from_value(json!(capability));
            assert!(parsed.is_ok(), "{kind}: no capability {capability}");
        }
    }
}

crate::on_both_backends!(every_message_type_is_checked_against_every_role);
