//! The capability matrix per role, its ticket form, and enforcement on the hub.

mod common;

use common::Room;
use serde_json::json;
use signaling::{AccountRole, Capability, CapabilitySet, SessionRole, capabilities_for};

use Capability::*;

fn set(list: &[Capability]) -> CapabilitySet {
    CapabilitySet::of(list)
}

#[test]
fn matrix_for_premium_accounts() {
    let premium = |role| capabilities_for(AccountRole::Premium, role);
    assert_eq!(premium(SessionRole::Host), CapabilitySet::all());
    assert_eq!(premium(SessionRole::Cohost), CapabilitySet::all());
    assert_eq!(
        premium(SessionRole::Presenter),
        set(&[
            PublishAudio,
            PublishVideo,
            PublishScreen,
            Subscribe,
            Chat,
            DirectMessage,
            CreatePolls,
            Vote,
            Ask,
            RaiseHand
        ])
    );
    assert_eq!(
        premium(SessionRole::Participant),
        set(&[Subscribe, Chat, DirectMessage, Vote, Ask, RaiseHand])
    );
    assert_eq!(
        premium(SessionRole::Viewer),
        set(&[Subscribe, Chat, Vote, Ask])
    );
}

#[test]
fn account_role_adjusts_the_matrix() {
    // plain users never control recording, even as host
    let user_host = capabilities_for(AccountRole::User, SessionRole::Host);
    assert!(!user_host.contains(ControlRecording));
    assert!(user_host.contains(AdminRoom));
    // operators hold everything, whatever their session role
    assert_eq!(
        capabilities_for(AccountRole::Admin, SessionRole::Viewer),
        CapabilitySet::all()
    );
    // for roles without recording, user and premium agree
    for role in [
        SessionRole::Presenter,
        SessionRole::Participant,
        SessionRole::Viewer,
    ] {
        assert_eq!(
            capabilities_for(AccountRole::User, role),
            capabilities_for(AccountRole::Premium, role)
        );
    }
}

#[test]
fn ticket_form_is_a_compact_list_of_strings() {
    let caps = capabilities_for(AccountRole::Premium, SessionRole::Viewer);
    let text = serde_json::to_string(&caps).unwrap();
    assert_eq!(text, r#"["subscribe","chat","vote","ask"]"#);
    let back: CapabilitySet = serde_json::from_str(&text).unwrap();
    assert_eq!(back, caps);
    assert!(serde_json::from_str::<CapabilitySet>(r#"["fly"]"#).is_err());
    let all = serde_json::to_string(&CapabilitySet::all()).unwrap();
    assert_eq!(
        serde_json::from_str::<CapabilitySet>(&all).unwrap(),
        CapabilitySet::all()
    );
}

#[test]
fn every_role_is_checked_on_the_hub() {
    let mut room = Room::new();
    let host = room.join("Host", SessionRole::Host);
    let presenter = room.join("Presenter", SessionRole::Presenter);
    let participant = room.join("Pat", SessionRole::Participant);
    let viewer = room.join("Vic", SessionRole::Viewer);

    // viewers watch, chat, vote and ask, but do not raise hands, DM or publish
    assert_eq!(room.err(viewer, json!({"type": "hand.raise"})), "forbidden");
    assert_eq!(
        room.err(
            viewer,
            json!({"type": "chat.send", "text": "hi", "to": host.id})
        ),
        "forbidden"
    );
    assert_eq!(
        room.err(viewer, json!({"type": "media.state", "mic": true})),
        "forbidden"
    );
    room.ok(viewer, json!({"type": "chat.send", "text": "hello"}));
    room.ok(viewer, json!({"type": "qa.ask", "text": "why?"}));

    // participants raise hands and DM but neither publish nor run polls
    room.ok(participant, json!({"type": "hand.raise"}));
    room.ok(
        participant,
        json!({"type": "chat.send", "text": "psst", "to": host.id}),
    );
    assert_eq!(
        room.err(participant, json!({"type": "media.state", "camera": true})),
        "forbidden"
    );
    let poll = json!({"type": "poll.create", "question": "Q?", "options": ["a", "b"]});
    assert_eq!(room.err(participant, poll.clone()), "forbidden");

    // presenters publish and run polls but do not moderate
    room.ok(
        presenter,
        json!({"type": "media.state", "mic": true, "camera": true, "screen": true}),
    );
    room.ok(presenter, poll);
    assert_eq!(
        room.err(presenter, json!({"type": "chat.lock", "locked": true})),
        "forbidden"
    );
    assert_eq!(
        room.err(
            presenter,
            json!({"type": "mod.remove", "participant": viewer.id})
        ),
        "forbidden"
    );
    assert_eq!(
        room.err(presenter, json!({"type": "recording.start"})),
        "forbidden"
    );
    assert_eq!(
        room.err(presenter, json!({"type": "hand.lower_all"})),
        "forbidden"
    );

    // hosts do all of it
    room.ok(host, json!({"type": "chat.lock", "locked": true}));
    room.ok(host, json!({"type": "recording.start"}));
    room.ok(host, json!({"type": "hand.lower_all"}));
}
