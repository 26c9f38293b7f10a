//! Minutes (JSON, Markdown, CSV) and attendance with engagement, from stored events.

mod common;

use chrono::Duration;
use common::{Room, info};
use serde_json::json;
use signaling::export::{
    Minutes, MinutesTranscriptLine, RecordingSpan, attendance, attendance_csv,
};
use signaling::{AccountRole, SessionRole};

#[test]
fn minutes_hold_public_chat_polls_questions_and_hands() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let bob = room.join("Bob", SessionRole::Participant);
    let kept = room.ok(
        ann,
        json!({"type": "chat.send", "text": "=SUM(A1:A9), \"quoted\""}),
    )["message"]
        .clone();
    room.ok(
        bob,
        json!({"type": "chat.react", "message": kept, "emoji": "👍"}),
    );
    let gone = room.ok(bob, json!({"type": "chat.send", "text": "typo"}))["message"].clone();
    room.ok(bob, json!({"type": "chat.delete", "message": gone}));
    room.ok(
        bob,
        json!({"type": "chat.send", "text": "private note", "to": ann.id}),
    );
    let p = room.ok(host, json!({"type": "poll.create", "question": "Lunch?", "options": ["pizza", "salad"], "anonymous": true}))["poll"].clone();
    room.ok(host, json!({"type": "poll.open", "poll": p}));
    room.ok(ann, json!({"type": "poll.vote", "poll": p, "choices": [0]}));
    room.ok(bob, json!({"type": "poll.vote", "poll": p, "choices": [0]}));
    room.ok(host, json!({"type": "poll.close", "poll": p}));
    room.ok(ann, json!({"type": "qa.ask", "text": "Named question"}));
    room.ok(
        bob,
        json!({"type": "qa.ask", "text": "Secret question", "anonymous": true}),
    );
    room.ok(bob, json!({"type": "hand.raise"}));
    room.advance(30);
    room.ok(host, json!({"type": "hand.lower_all"}));

    let minutes = Minutes::from_events(&room.stored);
    assert_eq!(
        minutes.chat.len(),
        1,
        "deleted and direct messages are left out"
    );
    assert_eq!(minutes.chat[0].reactions["👍"], 1);
    assert_eq!(minutes.polls[0].options[0].votes, 2);
    let authors: Vec<_> = minutes.questions.iter().map(|q| q.author.clone()).collect();
    assert!(authors.contains(&Some("Ann".into())) && authors.contains(&None));
    assert_eq!(minutes.hands[0].lowered_at, Some(room.now));

    let text = minutes.to_json();
    assert!(!text.contains("private note") && !text.contains("typo"));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["polls"][0]["question"], "Lunch?");

    let md = minutes.to_markdown();
    assert!(md.contains("## Polls (1)") && md.contains("- pizza: 2"));
    assert!(md.contains("— anonymous"));

    let csv = minutes.to_csv();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("section,at,participant,text,detail"));
    assert!(
        csv.contains(r#"Ann,"'=SUM(A1:A9), ""quoted""","#),
        "quoted and formula-defused: {csv}"
    );
    assert!(csv.contains("poll,,,Lunch? / pizza,2 votes of 2 ballots"));
    assert!(csv.contains(",anonymous,Secret question,"));
}

#[test]
fn minutes_place_answers_in_the_recording_and_carry_its_transcript() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann = room.join("Ann", SessionRole::Participant);
    let early = room.ok(ann, json!({"type": "qa.ask", "text": "Before?"}))["question"].clone();
    room.ok(host, json!({"type": "qa.answer", "question": early}));
    let asked = room.ok(ann, json!({"type": "qa.ask", "text": "During?"}))["question"].clone();
    room.advance(10);
    room.ok(host, json!({"type": "recording.start"}));
    let started_at = room.now;
    room.advance(75);
    room.ok(
        host,
        json!({"type": "qa.answer", "question": asked, "text": "Yes"}),
    );
    let recording = uuid::Uuid::new_v4();
    let spans = [RecordingSpan {
        recording,
        started_at,
        stopped_at: None,
    }];
    let line = MinutesTranscriptLine {
        recording,
        offset_secs: 74.5,
        end_secs: 77.0,
        participant: host.id,
        speaker: "Host".into(),
        text: "Yes, during.".into(),
    };
    let minutes = Minutes::from_events(&room.stored).with_recordings(&spans, vec![line]);
    let question = |text: &str| minutes.questions.iter().find(|q| q.text == text).unwrap();
    assert_eq!(
        question("Before?").answered_in,
        None,
        "answered before recording"
    );
    let moment = question("During?").answered_in.as_ref().unwrap();
    assert_eq!((moment.recording, moment.offset_secs), (recording, 75.0));

    let md = minutes.to_markdown();
    assert!(
        md.contains(&format!("Answered at 1:15 in recording {recording}")),
        "{md}"
    );
    assert!(md.contains("## Transcript") && md.contains("- `[1:14]` **Host**: Yes, during."));
    let csv = minutes.to_csv();
    assert!(
        csv.contains(&format!(
            "transcript,,Host,\"Yes, during.\",recording {recording} at 1:14"
        )),
        "{csv}"
    );
    assert!(
        csv.contains(&format!("answered at 1:15 in recording {recording}")),
        "{csv}"
    );
    let json: serde_json::Value = serde_json::from_str(&minutes.to_json()).unwrap();
    assert_eq!(json["transcript"][0]["speaker"], "Host");
}

#[test]
fn attendance_merges_reconnects_and_counts_engagement() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let ann_info = info("Ann", AccountRole::User, SessionRole::Participant);
    let ann = room.join_info(ann_info.clone());
    room.advance(60);
    room.ok(ann, json!({"type": "chat.send", "text": "one"}));
    room.ok(ann, json!({"type": "chat.send", "text": "two"}));
    let p = room.ok(
        host,
        json!({"type": "poll.create", "question": "Q", "options": ["a", "b"]}),
    )["poll"]
        .clone();
    room.ok(host, json!({"type": "poll.open", "poll": p}));
    room.ok(ann, json!({"type": "poll.vote", "poll": p, "choices": [0]}));
    room.ok(ann, json!({"type": "poll.vote", "poll": p, "choices": [1]}));
    room.ok(ann, json!({"type": "qa.ask", "text": "q"}));
    room.ok(
        ann,
        json!({"type": "qa.ask", "text": "anon", "anonymous": true}),
    );
    room.ok(ann, json!({"type": "hand.raise"}));
    // a blip: back within 10 s — merged
    room.disconnect(ann);
    room.advance(10);
    let ann = room.join_info(ann_info.clone());
    room.advance(50);
    // a real absence of 10 minutes — a second interval
    room.disconnect(ann);
    room.advance(600);
    room.join_info(ann_info);
    room.advance(120);
    room.session.end(room.now);
    room.drain();

    let records = attendance(&room.stored, Duration::seconds(30));
    let ann_record = records.iter().find(|r| r.name == "Ann").unwrap();
    assert_eq!(ann_record.intervals.len(), 2);
    assert_eq!(ann_record.total_seconds, 120 + 120);
    let e = &ann_record.engagement;
    assert_eq!(
        (e.chat_messages, e.votes, e.questions, e.hands),
        (2, 1, 1, 1)
    );
    let host_record = records.iter().find(|r| r.name == "Host").unwrap();
    assert_eq!(host_record.total_seconds, 60 + 10 + 50 + 600 + 120);

    let csv = attendance_csv(&records);
    assert!(csv.starts_with("participant,name,role,"));
    assert!(csv.contains(",Ann,participant,"));
    assert!(csv.ends_with(",2,240,2,1,1,1\r\n"));
}
