//! Links from notes to moments of a session recording.
//!
//! A note holds a moment as `workbook://moments/<recording id>?t=<seconds>`: plain text
//! that survives every editor, CRDT and export format. The API resolves one
//! (`GET /api/workbook/moments/{recordingId}?t=`) to its session, speaker, words and a
//! playable track; Markdown and PDF exports print it as a timestamped reference.

use std::collections::HashMap;

use uuid::Uuid;

/// What a moment link starts with.
pub const PREFIX: &str = "workbook://moments/";

/// A moment a note links to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentLink {
    pub recording: Uuid,
    /// Seconds from the recording's start (0 when the link names none).
    pub offset_secs: f64,
}

/// Every moment link in `text`, with the byte range it spans.
pub fn find(text: &str) -> Vec<(std::ops::Range<usize>, MomentLink)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(PREFIX).map(|i| from + i) {
        let id_start = at + PREFIX.len();
        let Some(recording) = text
            .get(id_start..id_start + 36)
            .and_then(|id| id.parse().ok())
        else {
            from = id_start;
            continue;
        };
        let mut end = id_start + 36;
        let mut offset_secs = 0.0;
        if let Some(query) = text[end..].strip_prefix("?t=") {
            let digits = number_len(query);
            if let Ok(secs) = query[..digits].parse::<f64>() {
                offset_secs = secs;
                end += 3 + digits;
            }
        }
        found.push((
            at..end,
            MomentLink {
                recording,
                offset_secs,
            },
        ));
        from = end;
    }
    found
}

/// The length of the decimal number `text` starts with (`75`, `75.5`; a `.` that ends a
/// sentence is not part of it).
fn number_len(text: &str) -> usize {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let whole = digits(text);
    match text[whole..].strip_prefix('.') {
        Some(rest) if digits(rest) > 0 => whole + 1 + digits(rest),
        _ => whole,
    }
}

/// `text` with each moment link replaced by a readable reference: `[Workshop, recording at
/// 1:15]`, with the session's title when `titles` has it (the reader may see the
/// recording), else `[session recording at 1:15]`.
pub fn render(text: &str, titles: &HashMap<Uuid, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (range, link) in find(text) {
        out.push_str(&text[copied..range.start]);
        let at = signaling::export::clock(link.offset_secs);
        match titles.get(&link.recording) {
            Some(title) => out.push_str(&format!("[{title}, recording at {at}]")),
            None => out.push_str(&format!("[session recording at {at}]")),
        }
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_with_their_offsets_and_rendered_as_references() {
        let id = Uuid::new_v4();
        let other = Uuid::new_v4();
        let text = format!(
            "See {PREFIX}{id}?t=75.5, then {PREFIX}{other} and {PREFIX}x, {PREFIX}{id}?t=3."
        );
        let links: Vec<MomentLink> = find(&text).into_iter().map(|(_, l)| l).collect();
        assert_eq!(
            links,
            [
                MomentLink {
                    recording: id,
                    offset_secs: 75.5
                },
                MomentLink {
                    recording: other,
                    offset_secs: 0.0
                },
                MomentLink {
                    recording: id,
                    offset_secs: 3.0
                }
            ]
        );
        let titles = HashMap::from([(id, "Workshop".to_owned())]);
        assert_eq!(
            render(&text, &titles),
            format!(
                "See [Workshop, recording at 1:15], then [session recording at 0:00] and \
                 {PREFIX}x, [Workshop, recording at 0:03]."
            )
        );
    }
}
