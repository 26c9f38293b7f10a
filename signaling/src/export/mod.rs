//! After the session: minutes and attendance, pure functions over the stored events.

mod attendance;
mod csv;
mod markdown;
mod minutes;

pub use attendance::{AttendanceRecord, Engagement, Interval, attendance, attendance_csv};
pub use markdown::clock;
pub use minutes::{
    Minutes, MinutesChat, MinutesHand, MinutesOption, MinutesParticipant, MinutesPoll,
    MinutesQuestion, MinutesTranscriptLine, RecordingMoment, RecordingSpan,
};
