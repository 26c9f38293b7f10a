//! The session hub over real WebSockets: tickets, chat, polls, Q&A, hands, moderation,
//! roles, resume, bad input and slow consumers.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use workbook::hub::ticket::{self, TicketClaims};

use crate::harness::{Backend, TestApp};
use crate::hub_client::{
    Cast, HubClient, Stage, join, live_session, participant_id, refused_status, stored, ws_url,
};

async fn tickets_are_single_use_unexpired_and_for_one_session(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let id = live_session(&app, &host, json!({})).await;
    let other = live_session(&app, &host, json!({})).await;

    let ticket = join(&app, &id, &host).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        refused_status(&ws_url(&app, &other, &ticket, None)).await,
        403
    );
    let client = HubClient::open(&ws_url(&app, &id, &ticket, None))
        .await
        .unwrap();
    assert_eq!(refused_status(&ws_url(&app, &id, &ticket, None)).await, 401);
    client.close().await;

    // Expired (signed correctly, but past its expiry) and forged tickets are refused.
    let joined = join(&app, &id, &host).await;
    let claims: TicketClaims = app
        .state
        .keys
        .ticket
        .decode(joined["ticket"].as_str().unwrap())
        .unwrap();
    let expired = TicketClaims {
        exp: claims.iat - 60,
        jti: uuid::Uuid::new_v4(),
        ..claims.clone()
    };
    let expired = ticket::issue(&app.state.keys, &expired);
    assert_eq!(
        refused_status(&ws_url(&app, &id, &expired, None)).await,
        401
    );
    let access = app.user_with_role("x@example.com", "user").await;
    assert_eq!(refused_status(&ws_url(&app, &id, &access, None)).await, 401);
    assert_eq!(
        refused_status(&ws_url(&app, &id, "not.a.ticket", None)).await,
        401
    );
    // No ticket at all is refused like a bad one, not as a malformed query.
    let base = app.base.replacen("http://", "ws://", 1);
    let bare = format!("{base}/api/workbook/sessions/{id}/ws");
    assert_eq!(refused_status(&bare).await, 401);
}

async fn chat_history_direct_messages_and_bad_frames(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let (id, bob_id) = (stage.id, stage.bob.id);
    let (mut h, mut a, mut b) = (stage.host.client, stage.ann.client, stage.bob.client);

    a.ok(json!({"type": "chat.send", "text": "hello all"}))
        .await;
    for client in [&mut h, &mut b] {
        let posted = client.event("chat.posted").await;
        assert_eq!(posted["event"]["text"], "hello all");
    }
    a.ok(json!({"type": "chat.send", "text": "psst bob", "to": bob_id}))
        .await;
    assert_eq!(b.event("chat.posted").await["event"]["text"], "psst bob");
    // The host never sees the direct message: its next chat is its own.
    h.ok(json!({"type": "chat.send", "text": "from the host"}))
        .await;
    assert_eq!(
        h.event("chat.posted").await["event"]["text"],
        "from the host"
    );

    // A late joiner gets the public history, not the direct message.
    let (_c, welcome) = HubClient::join(&app, &id, &stage.cast.carol).await;
    let texts: Vec<&str> = welcome["snapshot"]["chat"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["hello all", "from the host"], "{welcome}");

    // Bad input gets an error frame with a code, and the connection stays usable.
    a.send_raw(Message::text("{not json")).await;
    assert_eq!(a.until(|f| f["type"] == "error").await["code"], "bad_json");
    let unknown = a.request(json!({"type": "chat.shout", "text": "hi"})).await;
    assert_eq!(unknown["code"], "unknown_type", "{unknown}");
    a.send_raw(Message::binary(vec![1u8, 2, 3])).await;
    let binary = a.until(|f| f["type"] == "error").await;
    assert_eq!(binary["code"], "invalid", "{binary}");
    let forbidden = a
        .request(json!({"type": "poll.create", "question": "Q?", "options": ["a", "b"]}))
        .await;
    assert_eq!(forbidden["code"], "forbidden", "{forbidden}");
    let too_long = a
        .request(json!({"type": "chat.send", "text": "x".repeat(2001)}))
        .await;
    assert_eq!(too_long["code"], "invalid", "{too_long}");
    assert_eq!(a.request(json!({"type": "ping"})).await["type"], "pong");
}

async fn anonymous_polls_questions_and_hands(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let (id, ann_id, bob_id) = (stage.id, stage.ann.id, stage.bob.id);
    let (mut h, mut a, mut b) = (stage.host.client, stage.ann.client, stage.bob.client);

    let poll = h
        .ok(json!({"type": "poll.create", "question": "Best editor?",
        "options": ["vim", "emacs", "other"], "multiple": false, "anonymous": true}))
        .await["poll"]
        .clone();
    h.ok(json!({"type": "poll.open", "poll": poll})).await;
    a.event("poll.opened").await;
    a.ok(json!({"type": "poll.vote", "poll": poll, "choices": [0]}))
        .await;
    b.ok(json!({"type": "poll.vote", "poll": poll, "choices": [0]}))
        .await;
    a.ok(json!({"type": "poll.vote", "poll": poll, "choices": [1]}))
        .await; // a change, not a second vote
    h.ok(json!({"type": "poll.close", "poll": poll})).await;
    h.ok(json!({"type": "poll.publish", "poll": poll})).await;
    let published = b.event("poll.published").await;
    assert_eq!(
        published["event"]["tally"]["counts"],
        json!([1, 1, 0]),
        "{published}"
    );
    let poll_rows = stored(&app, &id, "poll.").await;
    assert!(poll_rows.iter().any(|r| r.contains("poll.voted")));
    for row in &poll_rows {
        assert!(
            !row.contains(&ann_id) && !row.contains(&bob_id),
            "voter in {row}"
        );
    }

    // Q&A: an anonymous question stores no author; upvotes toggle; answered by the host.
    let question = a
        .ok(json!({"type": "qa.ask", "text": "Is it fast?", "anonymous": true}))
        .await["question"]
        .clone();
    let asked = h.event("qa.asked").await;
    assert!(asked["event"].get("author").is_none(), "{asked}");
    b.ok(json!({"type": "qa.upvote", "question": question}))
        .await;
    assert_eq!(h.event("qa.upvoted").await["event"]["votes"], 1);
    b.ok(json!({"type": "qa.upvote", "question": question}))
        .await;
    assert_eq!(h.event("qa.upvoted").await["event"]["votes"], 0);
    h.ok(json!({"type": "qa.answer", "question": question, "text": "Yes"}))
        .await;
    assert_eq!(a.event("qa.answered").await["event"]["text"], "Yes");
    for row in stored(&app, &id, "qa.asked").await {
        assert!(!row.contains(&ann_id), "asker in {row}");
    }

    // Hands: a server-ordered queue; positions; the host lowers someone's hand.
    a.ok(json!({"type": "hand.raise"})).await;
    let position = b.ok(json!({"type": "hand.raise"})).await;
    assert_eq!(position["position"], 2, "{position}");
    let raised = h
        .until(|f| {
            f["event"]["kind"] == "hand.raised" && f["event"]["participant"] == json!(bob_id)
        })
        .await;
    assert_eq!(raised["event"]["queue"], json!([ann_id, bob_id]));
    h.ok(json!({"type": "hand.lower", "participant": ann_id}))
        .await;
    assert_eq!(
        b.event("hand.lowered").await["event"]["queue"],
        json!([bob_id])
    );
}

async fn moderation_roles_lobby_and_end(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let stage = Stage::open(&app, json!({})).await;
    let Cast {
        host,
        ann,
        bob,
        carol,
        ..
    } = stage.cast;
    let dave = app.user_with_role("dave@example.com", "user").await;
    let (id, ann_id, bob_id) = (stage.id, stage.ann.id, stage.bob.id);
    let (mut h, mut a, mut b) = (stage.host.client, stage.ann.client, stage.bob.client);

    // A live promotion: ann becomes presenter and may now create polls; it is stored.
    let refused = a
        .request(json!({"type": "poll.create", "question": "Q?", "options": ["a", "b"]}))
        .await;
    assert_eq!(refused["code"], "forbidden");
    h.ok(json!({"type": "mod.set_role", "participant": ann_id, "role": "presenter"}))
        .await;
    let changed = a.event("role.changed").await;
    assert!(
        changed["event"]["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("create_polls"))
    );
    a.ok(json!({"type": "poll.create", "question": "Q?", "options": ["a", "b"]}))
        .await;
    assert_eq!(join(&app, &id, &ann).await["role"], "presenter");
    // A presenter cannot moderate; a participant cannot; a viewer cannot raise a hand.
    let refused = a
        .request(json!({"type": "mod.remove", "participant": bob_id, "ban": false}))
        .await;
    assert_eq!(refused["code"], "forbidden");
    h.ok(json!({"type": "mod.set_role", "participant": bob_id, "role": "viewer"}))
        .await;
    b.event("role.changed").await;
    assert_eq!(
        b.request(json!({"type": "hand.raise"})).await["code"],
        "forbidden"
    );
    assert_eq!(
        b.request(json!({"type": "chat.lock", "locked": true}))
            .await["code"],
        "forbidden"
    );

    // Remove and ban: closed with 4403, and no new ticket.
    h.ok(json!({"type": "mod.remove", "participant": bob_id, "ban": true}))
        .await;
    assert_eq!(b.closed().await, Some(4403));
    let (status, body) = app
        .post(
            &format!("/api/workbook/sessions/{id}/join"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (403, Some("banned"))
    );

    // Lock: newcomers wait in the lobby; the host admits one and denies another.
    h.ok(json!({"type": "mod.lock", "locked": true})).await;
    let (mut c, welcome) = HubClient::join(&app, &id, &carol).await;
    assert_eq!(welcome["lobby"], true, "{welcome}");
    let carol_id = participant_id(&welcome);
    h.event("lobby.knocked").await;
    assert_eq!(
        c.request(json!({"type": "chat.send", "text": "let me in"}))
            .await["code"],
        "in_lobby"
    );
    h.ok(json!({"type": "lobby.admit", "participant": carol_id}))
        .await;
    let admitted = c.until(|f| f["type"] == "welcome").await;
    assert!(admitted["snapshot"].is_object(), "{admitted}");
    let (mut d, dave_id) = HubClient::join_with_id(&app, &id, &dave).await;
    h.until(|f| {
        f["event"]["kind"] == "lobby.knocked" && f["event"]["info"]["participant"] == json!(dave_id)
    })
    .await;
    h.ok(json!({"type": "lobby.deny", "participant": dave_id}))
        .await;
    assert_eq!(d.closed().await, Some(4406));

    // End for all: everyone gets session.ended and 4410; the session is ended in REST.
    h.send(json!({"type": "session.end"})).await;
    assert_eq!(h.closed().await, Some(4410));
    a.event("session.ended").await;
    assert_eq!(a.closed().await, Some(4410));
    assert_eq!(c.closed().await, Some(4410));
    let mut ended = false;
    for _ in 0..50 {
        let (_, session) = app
            .get(&format!("/api/workbook/sessions/{id}"), Some(&host))
            .await;
        if session["status"] == "ended" {
            ended = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(ended);
    // The minutes and attendance are there afterwards.
    let (status, minutes) = app
        .get(
            &format!("/api/workbook/sessions/{id}/export?format=json"),
            Some(&host),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        minutes["participants"].as_array().unwrap().len(),
        4,
        "{minutes}"
    );
    let (_, attendance) = app
        .get(
            &format!("/api/workbook/sessions/{id}/attendance"),
            Some(&host),
        )
        .await;
    assert!(
        attendance["participants"].as_array().unwrap().len() >= 3,
        "{attendance}"
    );
    let markdown = app
        .client
        .get(app.url(&format!("/api/workbook/sessions/{id}/export?format=md")))
        .bearer_auth(&host)
        .send()
        .await
        .unwrap();
    assert!(
        markdown.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    assert_eq!(
        markdown.headers()["content-disposition"],
        format!("attachment; filename=\"session-{id}-minutes.md\"").as_str()
    );
}

async fn rest_end_closes_everyone(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let (mut a, _) = HubClient::join(&app, &id, &ann).await;
    a.ok(json!({"type": "chat.send", "text": "bye"})).await;
    app.metric_becomes("hub_sockets_open", 1.0).await;
    app.metric_becomes("hub_sessions_loaded", 1.0).await;
    let closes = r#"hub_socket_closes_total{code="4410"}"#;
    let closes_before = app.metric(closes).await.unwrap_or(0.0);
    let (status, _) = app
        .post(
            &format!("/api/workbook/sessions/{id}/end"),
            Some(&host),
            json!({}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    assert!(a.event("session.ended").await["seq"].as_u64().is_some());
    assert_eq!(a.closed().await, Some(4410));
    let closed = app.metric(closes).await.unwrap_or(0.0);
    assert!(closed > closes_before, "{closes_before} → {closed}");
    app.metric_becomes("hub_sockets_open", 0.0).await;
    let (_, csv) = app
        .get(
            &format!("/api/workbook/sessions/{id}/export?format=csv"),
            Some(&host),
        )
        .await;
    assert!(csv.as_str().unwrap().contains("bye"), "{csv}");
}

async fn resume_delivers_exactly_the_missed_events(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let ann = app.user_with_role("ann@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;
    let (mut h, _) = HubClient::join(&app, &id, &host).await;
    let (mut a, _) = HubClient::join(&app, &id, &ann).await;
    a.ok(json!({"type": "chat.send", "text": "before"})).await;
    a.event("chat.posted").await;
    let seen = a.last_seq;
    a.close().await;
    h.event("participant.left").await;
    for text in ["one", "two", "three"] {
        h.ok(json!({"type": "chat.send", "text": text})).await;
    }
    h.until(|f| f["event"]["text"] == "three").await;
    let host_seq = h.last_seq;

    let (mut a, welcome) = HubClient::resume(&app, &id, &ann, Some(seen)).await;
    assert!(
        welcome.get("snapshot").is_none_or(Value::is_null),
        "{welcome}"
    );
    assert_eq!(welcome["seq"], seen);
    let mut seqs = Vec::new();
    let mut texts = Vec::new();
    while seqs.last() != Some(&host_seq) {
        let frame = a.until(|f| f["type"] == "event").await;
        seqs.push(frame["seq"].as_u64().unwrap());
        if frame["event"]["kind"] == "chat.posted" {
            texts.push(frame["event"]["text"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(seqs, ((seen + 1)..=host_seq).collect::<Vec<_>>());
    assert_eq!(texts, ["one", "two", "three"]);

    // A seq the server cannot serve from its ring (here: ahead of it) gets a snapshot.
    let answer = a
        .request(json!({"type": "resume", "last_seq": host_seq + 1000}))
        .await;
    assert_eq!(answer["type"], "snapshot", "{answer}");
}

async fn a_slow_consumer_is_closed_with_resync(backend: Backend) {
    use futures_util::{SinkExt, StreamExt};
    let Some(app) = TestApp::start_with(backend, |f| {
        f.merge(figment::providers::Serialized::default(
            "hub",
            json!({"outgoing_queue": 128, "room_queue": 4096, "idle_secs": 60,
                   "rate_burst": 2000, "rate_per_second": 1000}),
        ))
    })
    .await
    else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let slow = app.user_with_role("slow@example.com", "user").await;
    let id = live_session(&app, &host, json!({})).await;

    // The slow client's socket has a tiny receive buffer and it does not read.
    let ticket = join(&app, &id, &slow).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = app.base.trim_start_matches("http://").parse().unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (mut lagging, _) = tokio_tungstenite::client_async(
        ws_url(&app, &id, &ticket, None),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();

    // The flooder reads everything while it writes ~8 MB of chat (8 KB frames): more
    // than any socket buffer holds.
    let flooder = app.user_with_role("flood@example.com", "user").await;
    let ticket = join(&app, &id, &flooder).await["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let (ws, _) = tokio_tungstenite::connect_async(ws_url(&app, &id, &ticket, None))
        .await
        .unwrap();
    let (mut sink, mut stream) = ws.split();
    let (acked, mut acks_seen) = tokio::sync::watch::channel(0usize);
    let acks = tokio::spawn(async move {
        let mut acks = 0;
        while let Some(Ok(frame)) = stream.next().await {
            if let Message::Text(text) = frame {
                acks += usize::from(text.contains(r#""type":"ack""#));
                acked.send_replace(acks);
                if acks == 1000 {
                    break;
                }
            }
        }
        acks
    });
    // The flooder keeps at most 64 messages unacknowledged, so it keeps up with its own
    // echoes however loaded the machine is; only the client that stopped reading falls behind.
    let text = "\u{1F980}".repeat(2000);
    for sent in 0..1000 {
        while *acks_seen.borrow_and_update() + 64 <= sent {
            let acked =
                tokio::time::timeout(std::time::Duration::from_secs(30), acks_seen.changed());
            acked.await.unwrap().expect("the flooder stays connected");
        }
        let message = json!({"type": "chat.send", "text": text}).to_string();
        sink.send(Message::text(message)).await.unwrap();
    }
    // The flooder is served throughout: nobody waits for the slow one.
    let acks = tokio::time::timeout(std::time::Duration::from_secs(60), acks)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(acks, 1000);
    // Every acknowledged message was stored (grouped commits lose nothing).
    assert_eq!(stored(&app, &id, "chat.posted").await.len(), 1000);

    let mut code = None;
    let mut frames = 0;
    while let Ok(Some(frame)) =
        tokio::time::timeout(std::time::Duration::from_secs(15), lagging.next()).await
    {
        match frame {
            Ok(Message::Close(frame)) => {
                code = frame.map(|f| u16::from(f.code));
                break;
            }
            Ok(_) => frames += 1,
            Err(err) => panic!("after {frames} frames: {err}"),
        }
    }
    assert_eq!(code, Some(4000), "after {frames} frames");
    assert!(frames < 1000, "{frames}");
}

/// A group commit larger than one INSERT statement holds is stored whole and in order,
/// and a seq stored twice is refused (two writers would be a bug).
async fn the_event_log_stores_large_groups_in_order(backend: Backend) {
    use signaling::{Event, MessageId, ParticipantId, StoredEvent};
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let host = app.user_with_role("host@example.com", "premium").await;
    let id: uuid::Uuid = live_session(&app, &host, json!({})).await.parse().unwrap();
    let from = ParticipantId::random();
    let events: Vec<StoredEvent> = (1..=1234)
        .map(|seq| StoredEvent {
            seq,
            at: chrono::Utc::now(),
            event: Event::ChatPosted {
                message: MessageId::random(),
                from,
                to: None,
                text: format!("message {seq}"),
            },
        })
        .collect();
    let group: Vec<&StoredEvent> = events.iter().collect();
    let db = &app.state.db;
    workbook::db::session_events::append(db, id, &group)
        .await
        .unwrap();
    let back = workbook::db::session_events::all(db, id).await.unwrap();
    assert_eq!(back, events);
    assert!(
        workbook::db::session_events::append(db, id, &group[1233..])
            .await
            .is_err()
    );
}

crate::on_both_backends!(
    the_event_log_stores_large_groups_in_order,
    tickets_are_single_use_unexpired_and_for_one_session,
    chat_history_direct_messages_and_bad_frames,
    anonymous_polls_questions_and_hands,
    moderation_roles_lobby_and_end,
    rest_end_closes_everyone,
    resume_delivers_exactly_the_missed_events,
    a_slow_consumer_is_closed_with_resync,
);
