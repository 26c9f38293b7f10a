//! The minutes as one CSV table: `section,at,participant,text,detail`.

use super::markdown::clock;
use super::minutes::Minutes;

impl Minutes {
    /// One row per chat message, poll option, question, hand and transcript segment.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("section,at,participant,text,detail\r\n");
        for m in &self.chat {
            row(
                &mut out,
                [
                    "chat",
                    &m.at.to_rfc3339(),
                    &m.name,
                    &m.text,
                    if m.edited { "edited" } else { "" },
                ],
            );
        }
        for p in &self.polls {
            for o in &p.options {
                let detail = format!("{} votes of {} ballots", o.votes, p.ballots);
                row(
                    &mut out,
                    [
                        "poll",
                        "",
                        "",
                        &format!("{} / {}", p.question, o.text),
                        &detail,
                    ],
                );
            }
        }
        for q in &self.questions {
            let author = q.author.as_deref().unwrap_or("anonymous");
            let mut detail = format!("{} votes, {:?}", q.votes, q.status).to_lowercase();
            if let Some(moment) = &q.answered_in {
                detail.push_str(&format!(
                    ", answered at {} in recording {}",
                    clock(moment.offset_secs),
                    moment.recording
                ));
            }
            row(
                &mut out,
                ["question", &q.at.to_rfc3339(), author, &q.text, &detail],
            );
        }
        for h in &self.hands {
            let lowered = h.lowered_at.map(|at| at.to_rfc3339()).unwrap_or_default();
            row(
                &mut out,
                ["hand", &h.raised_at.to_rfc3339(), &h.name, "", &lowered],
            );
        }
        for line in &self.transcript {
            let detail = format!(
                "recording {} at {}",
                line.recording,
                clock(line.offset_secs)
            );
            row(
                &mut out,
                ["transcript", "", &line.speaker, &line.text, &detail],
            );
        }
        out
    }
}

pub(super) fn row<const N: usize>(out: &mut String, cells: [&str; N]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&cell_text(cell));
    }
    out.push_str("\r\n");
}

/// RFC 4180 quoting, and a leading `'` on cells a spreadsheet would run as a formula.
fn cell_text(cell: &str) -> String {
    let defused = if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}
