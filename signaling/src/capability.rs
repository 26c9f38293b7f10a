//! Who may do what in a session: account role × session role → capability set.
//!
//! The set is computed on the server when it issues the join ticket, embedded in the
//! ticket as a list of strings, and checked by the session for every message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The account-wide role from the user table (the guide's permission map).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    User,
    Premium,
    Admin,
}

/// The role a participant has in one session. Ordered by rank: a moderator may only
/// act on, and assign, roles ranked below their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionRole {
    Viewer,
    Participant,
    Presenter,
    Cohost,
    Host,
}

/// One thing a participant may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    PublishAudio,
    PublishVideo,
    PublishScreen,
    Subscribe,
    Chat,
    DirectMessage,
    ModerateChat,
    CreatePolls,
    Vote,
    Ask,
    ModerateQa,
    RaiseHand,
    ControlRecording,
    AdminRoom,
}

impl Capability {
    /// Every capability, in wire order.
    pub const ALL: [Capability; 14] = [
        Capability::PublishAudio,
        Capability::PublishVideo,
        Capability::PublishScreen,
        Capability::Subscribe,
        Capability::Chat,
        Capability::DirectMessage,
        Capability::ModerateChat,
        Capability::CreatePolls,
        Capability::Vote,
        Capability::Ask,
        Capability::ModerateQa,
        Capability::RaiseHand,
        Capability::ControlRecording,
        Capability::AdminRoom,
    ];

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of capabilities; serialized as a compact list of strings for the join ticket.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapabilitySet(u16);

impl CapabilitySet {
    /// No capability at all.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Every capability.
    pub fn all() -> Self {
        Self::of(&Capability::ALL)
    }

    /// The set holding exactly these.
    pub fn of(capabilities: &[Capability]) -> Self {
        let mut set = Self::empty();
        for &capability in capabilities {
            set.insert(capability);
        }
        set
    }

    pub fn contains(self, capability: Capability) -> bool {
        self.0 & capability.bit() != 0
    }

    pub fn insert(&mut self, capability: Capability) {
        self.0 |= capability.bit();
    }

    pub fn remove(&mut self, capability: Capability) {
        self.0 &= !capability.bit();
    }

    /// The members in wire order.
    pub fn iter(self) -> impl Iterator<Item = Capability> {
        Capability::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }
}

impl fmt::Debug for CapabilitySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for CapabilitySet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for CapabilitySet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let list = Vec::<Capability>::deserialize(deserializer)?;
        Ok(Self::of(&list))
    }
}

/// The capabilities a session role grants before the account role is considered.
pub fn role_capabilities(role: SessionRole) -> CapabilitySet {
    use Capability::*;
    match role {
        SessionRole::Host | SessionRole::Cohost => CapabilitySet::all(),
        SessionRole::Presenter => CapabilitySet::of(&[
            PublishAudio,
            PublishVideo,
            PublishScreen,
            Subscribe,
            Chat,
            DirectMessage,
            CreatePolls,
            Vote,
            Ask,
            RaiseHand,
        ]),
        SessionRole::Participant => {
            CapabilitySet::of(&[Subscribe, Chat, DirectMessage, Vote, Ask, RaiseHand])
        }
        SessionRole::Viewer => CapabilitySet::of(&[Subscribe, Chat, Vote, Ask]),
    }
}

/// The capabilities of a participant: the session role's set, adjusted by the account.
///
/// * `admin` accounts (operators) hold every capability in every session.
/// * Recording is a hosting feature (`sessions.host` is premium and admin only), so a
///   plain `user` account never controls recording, even as a co-host.
pub fn capabilities_for(account: AccountRole, role: SessionRole) -> CapabilitySet {
    let mut set = role_capabilities(role);
    match account {
        AccountRole::Admin => set = CapabilitySet::all(),
        AccountRole::Premium => {}
        AccountRole::User => set.remove(Capability::ControlRecording),
    }
    set
}
