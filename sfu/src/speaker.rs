//! Active speaker detection from the RFC 6464 audio level header extension.
//!
//! Browsers put the level of every Opus packet in its RTP header (0 dBov loudest, 127
//! silence), so the SFU knows who talks without decoding anything. Per room, the loudest
//! participant over the last [`WINDOW`] becomes the active speaker once they are above
//! [`SPEAKING_LEVEL`]; another participant takes over only when louder by [`HYSTERESIS`],
//! so two people talking at once do not make the speaker flicker. The detector is sans-IO:
//! feed levels and time, poll changes.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::ids::{ParticipantId, RoomId};

/// Levels older than this no longer count.
pub const WINDOW: Duration = Duration::from_millis(500);
/// How often the speaker is re-evaluated.
pub const EVALUATE_EVERY: Duration = Duration::from_millis(250);
/// Loudness (127 − dBov) a speaker's window average must pass: about −50 dBov.
pub const SPEAKING_LEVEL: f32 = 77.0;
/// How much louder a challenger must be to take over from the current speaker.
pub const HYSTERESIS: f32 = 6.0;

/// A change of a room's active speaker (`None`: nobody is speaking any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeakerChange {
    /// The room.
    pub room: RoomId,
    /// The new active speaker.
    pub speaker: Option<ParticipantId>,
}

#[derive(Debug, Default)]
struct Levels {
    /// (time, loudness) samples within the window; loudness = 127 − dBov.
    samples: VecDeque<(Instant, u8)>,
}

impl Levels {
    fn average(&mut self, now: Instant) -> f32 {
        while let Some(&(at, _)) = self.samples.front() {
            if now.saturating_duration_since(at) <= WINDOW {
                break;
            }
            self.samples.pop_front();
        }
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: u32 = self.samples.iter().map(|&(_, l)| u32::from(l)).sum();
        sum as f32 / self.samples.len() as f32
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct SpeakerDetector {
    levels: HashMap<(RoomId, ParticipantId), Levels>,
    current: HashMap<RoomId, ParticipantId>,
    next_evaluation: Instant,
    changes: VecDeque<SpeakerChange>,
}

/// At 50 packets/s a window holds 25 samples; more means a misbehaving sender.
const MAX_SAMPLES: usize = 64;

impl SpeakerDetector {
    /// A detector starting at `now`.
    pub fn new(now: Instant) -> SpeakerDetector {
        SpeakerDetector {
            levels: HashMap::new(),
            current: HashMap::new(),
            next_evaluation: now + EVALUATE_EVERY,
            changes: VecDeque::new(),
        }
    }

    /// One audio packet's level, in dBov (0 loudest, 127 silence; larger values clamp).
    pub fn level(&mut self, room: RoomId, who: ParticipantId, dbov: u8, now: Instant) {
        let samples = &mut self.levels.entry((room, who)).or_default().samples;
        if samples.len() == MAX_SAMPLES {
            samples.pop_front();
        }
        samples.push_back((now, 127 - dbov.min(127)));
    }

    /// A participant stopped publishing audio (or left): they no longer count.
    pub fn remove(&mut self, room: RoomId, who: ParticipantId) {
        self.levels.remove(&(room, who));
    }

    /// Time passed: re-evaluates each room when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if now < self.next_evaluation {
            return;
        }
        self.next_evaluation = now + EVALUATE_EVERY;
        let mut loudest: HashMap<RoomId, (ParticipantId, f32)> = HashMap::new();
        let mut averages: HashMap<(RoomId, ParticipantId), f32> = HashMap::new();
        for (&(room, who), levels) in &mut self.levels {
            let avg = levels.average(now);
            averages.insert((room, who), avg);
            let best = loudest.entry(room).or_insert((who, avg));
            if avg > best.1 || (avg == best.1 && who < best.0) {
                *best = (who, avg);
            }
        }
        self.levels.retain(|_, l| !l.samples.is_empty());
        let mut rooms: Vec<RoomId> = loudest.keys().chain(self.current.keys()).copied().collect();
        rooms.sort();
        rooms.dedup();
        for room in rooms {
            let current = self.current.get(&room).copied();
            let current_avg = current
                .and_then(|c| averages.get(&(room, c)).copied())
                .unwrap_or(0.0);
            let next = match loudest.get(&room) {
                Some(&(who, avg)) if avg >= SPEAKING_LEVEL => {
                    if current.is_some()
                        && current_avg >= SPEAKING_LEVEL
                        && avg < current_avg + HYSTERESIS
                    {
                        current
                    } else {
                        Some(who)
                    }
                }
                _ => None,
            };
            if next != current {
                match next {
                    Some(who) => self.current.insert(room, who),
                    None => self.current.remove(&room),
                };
                self.changes.push_back(SpeakerChange {
                    room,
                    speaker: next,
                });
            }
        }
    }

    /// The next change to report, if any.
    pub fn poll_change(&mut self) -> Option<SpeakerChange> {
        self.changes.pop_front()
    }

    /// When [`SpeakerDetector::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Instant {
        self.next_evaluation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: RoomId = RoomId(9);
    const ANN: ParticipantId = ParticipantId(1);
    const BEN: ParticipantId = ParticipantId(2);

    /// Feeds 20 ms packets for `ms` at the given levels, evaluating as time passes.
    fn talk(
        d: &mut SpeakerDetector,
        now: &mut Instant,
        ms: u64,
        ann: u8,
        ben: u8,
    ) -> Vec<SpeakerChange> {
        let mut changes = Vec::new();
        for _ in 0..ms / 20 {
            *now += Duration::from_millis(20);
            d.level(ROOM, ANN, ann, *now);
            d.level(ROOM, BEN, ben, *now);
            d.handle_timeout(*now);
            while let Some(c) = d.poll_change() {
                changes.push(c);
            }
        }
        changes
    }

    #[test]
    fn the_loudest_speaker_becomes_active_and_silence_clears_it() {
        let mut now = Instant::now();
        let mut d = SpeakerDetector::new(now);
        assert!(talk(&mut d, &mut now, 1000, 127, 127).is_empty());
        let c = talk(&mut d, &mut now, 1000, 20, 100);
        assert_eq!(
            c,
            vec![SpeakerChange {
                room: ROOM,
                speaker: Some(ANN)
            }]
        );
        let c = talk(&mut d, &mut now, 1000, 127, 127);
        assert_eq!(
            c,
            vec![SpeakerChange {
                room: ROOM,
                speaker: None
            }]
        );
    }

    #[test]
    fn a_challenger_must_be_clearly_louder_to_take_over() {
        let mut now = Instant::now();
        let mut d = SpeakerDetector::new(now);
        talk(&mut d, &mut now, 1000, 30, 127);
        // Ben slightly louder than Ann: Ann stays.
        assert!(talk(&mut d, &mut now, 1000, 30, 27).is_empty());
        // Ben much louder: Ben takes over, once.
        let c = talk(&mut d, &mut now, 1000, 30, 10);
        assert_eq!(
            c,
            vec![SpeakerChange {
                room: ROOM,
                speaker: Some(BEN)
            }]
        );
    }

    #[test]
    fn a_removed_participant_stops_counting() {
        let mut now = Instant::now();
        let mut d = SpeakerDetector::new(now);
        talk(&mut d, &mut now, 1000, 10, 127);
        d.remove(ROOM, ANN);
        d.remove(ROOM, BEN);
        now += EVALUATE_EVERY;
        d.handle_timeout(now);
        assert_eq!(
            d.poll_change(),
            Some(SpeakerChange {
                room: ROOM,
                speaker: None
            })
        );
    }
}
