//! The minutes as Markdown, for people.

use super::minutes::Minutes;
use crate::state::QuestionStatus;
use std::fmt::Write;

impl Minutes {
    /// Readable minutes: participants, chat, polls with results, Q&A, hands.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# Session minutes\n\n");
        if let (Some(start), Some(end)) = (self.started_at, self.ended_at) {
            let _ = writeln!(out, "{} – {}\n", start.to_rfc3339(), end.to_rfc3339());
        }
        self.participants_md(&mut out);
        self.chat_md(&mut out);
        self.polls_md(&mut out);
        self.questions_md(&mut out);
        self.hands_md(&mut out);
        self.transcript_md(&mut out);
        out
    }

    fn participants_md(&self, out: &mut String) {
        let _ = writeln!(out, "## Participants ({})\n", self.participants.len());
        for p in &self.participants {
            let _ = writeln!(out, "- {} ({:?})", inline(&p.name), p.role);
        }
        out.push('\n');
    }

    fn chat_md(&self, out: &mut String) {
        let _ = writeln!(out, "## Chat ({} messages)\n", self.chat.len());
        for m in &self.chat {
            let edited = if m.edited { " *(edited)*" } else { "" };
            let _ = writeln!(
                out,
                "- `{}` **{}**: {}{}",
                m.at.format("%H:%M:%S"),
                inline(&m.name),
                inline(&m.text),
                edited
            );
        }
        out.push('\n');
    }

    fn polls_md(&self, out: &mut String) {
        let _ = writeln!(out, "## Polls ({})\n", self.polls.len());
        for p in &self.polls {
            let anonymous = if p.anonymous { ", anonymous" } else { "" };
            let _ = writeln!(
                out,
                "### {}\n\n{} ballots{}\n",
                inline(&p.question),
                p.ballots,
                anonymous
            );
            for o in &p.options {
                let _ = writeln!(out, "- {}: {}", inline(&o.text), o.votes);
            }
            out.push('\n');
        }
    }

    fn questions_md(&self, out: &mut String) {
        let _ = writeln!(out, "## Questions ({})\n", self.questions.len());
        for q in &self.questions {
            let author = q.author.as_deref().map_or("anonymous".to_string(), inline);
            let status = match q.status {
                QuestionStatus::Visible => "open",
                QuestionStatus::Answered => "answered",
                QuestionStatus::Dismissed => "dismissed",
            };
            let _ = writeln!(
                out,
                "- **{}** ({} votes, {status}) — {}",
                inline(&q.text),
                q.votes,
                author
            );
            if let Some(answer) = &q.answer {
                let _ = writeln!(out, "  - Answer: {}", inline(answer));
            }
            if let Some(moment) = &q.answered_in {
                let _ = writeln!(
                    out,
                    "  - Answered at {} in recording {}",
                    clock(moment.offset_secs),
                    moment.recording
                );
            }
        }
        out.push('\n');
    }

    fn hands_md(&self, out: &mut String) {
        let _ = writeln!(out, "## Raised hands ({})\n", self.hands.len());
        for h in &self.hands {
            let lowered = h.lowered_at.map_or("still raised".to_string(), |at| {
                format!("lowered {}", at.format("%H:%M:%S"))
            });
            let _ = writeln!(
                out,
                "- `{}` {} ({lowered})",
                h.raised_at.format("%H:%M:%S"),
                inline(&h.name)
            );
        }
    }
}

impl Minutes {
    fn transcript_md(&self, out: &mut String) {
        if self.transcript.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n## Transcript\n");
        let mut recording = None;
        for line in &self.transcript {
            if recording != Some(line.recording) {
                recording = Some(line.recording);
                let _ = writeln!(out, "### Recording {}\n", line.recording);
            }
            let _ = writeln!(
                out,
                "- `[{}]` **{}**: {}",
                clock(line.offset_secs),
                inline(&line.speaker),
                inline(&line.text)
            );
        }
    }
}

/// `m:ss`, or `h:mm:ss` past an hour: a timestamped reference into a recording.
pub fn clock(secs: f64) -> String {
    let total = secs.max(0.0) as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// User text on one line, with Markdown control characters escaped.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}
