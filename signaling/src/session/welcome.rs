//! Welcome frames and resume: a snapshot, or exactly the missed frames from the ring.

use super::Session;
use crate::event::ParticipantInfo;
use crate::ids::{ConnectionId, ParticipantId};
use crate::protocol::server::{Frame, SnapshotFrame, Welcome};
use crate::ring::Missed;
use serde_json::json;

impl Session {
    pub(super) fn send_welcome(
        &mut self,
        connection: ConnectionId,
        id: ParticipantId,
        info: &ParticipantInfo,
        last_seq: Option<u64>,
        lobby: bool,
    ) {
        let missed = match (lobby, last_seq) {
            (false, Some(last)) => self.missed(id, last),
            _ => Missed::TooOld,
        };
        let (seq, snapshot, frames) = match missed {
            _ if lobby => (self.state.seq, None, Vec::new()),
            Missed::Frames(frames) => (last_seq.unwrap_or_default(), None, frames),
            Missed::TooOld => (self.state.seq, Some(self.snapshot(id)), Vec::new()),
        };
        let welcome = Frame::encode(&Welcome {
            kind: "welcome",
            participant: info,
            capabilities: info.capabilities,
            seq,
            lobby,
            snapshot,
        });
        self.reply(connection, welcome);
        for frame in frames {
            self.reply(connection, frame);
        }
        if !lobby {
            self.send_live_tracks(connection);
        }
    }

    fn missed(&self, id: ParticipantId, last_seq: u64) -> Missed {
        self.ring
            .missed_since(last_seq, self.state.seq, id, self.state.participant(id))
    }

    pub(super) fn resume(
        &mut self,
        connection: ConnectionId,
        id: ParticipantId,
        last_seq: u64,
    ) -> serde_json::Value {
        match self.missed(id, last_seq) {
            Missed::Frames(frames) => {
                let count = frames.len();
                for frame in frames {
                    self.reply(connection, frame);
                }
                json!({ "seq": self.state.seq, "missed": count })
            }
            Missed::TooOld => {
                let frame = Frame::encode(&SnapshotFrame {
                    kind: "snapshot",
                    seq: self.state.seq,
                    snapshot: self.snapshot(id),
                });
                self.reply(connection, frame);
                json!({ "seq": self.state.seq, "snapshot": true })
            }
        }
    }
}
