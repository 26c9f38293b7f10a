//! Display names as the hub shows them: text only, never a role. Roles travel in the
//! protocol (`role` on every participant), so a name may not claim one ("Prem (Host)"),
//! and control and bidirectional-override characters (U+202E turns "tsoH" into "Host" on
//! screen) are stripped before anyone sees the name.

use signaling::SessionRole;

/// Why a display name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must be 1 to {MAX_CHARS} characters")]
    Length,
    #[error("must not claim a role in brackets; the role is shown from the participant's role")]
    ClaimsRole,
}

pub const MAX_CHARS: usize = 100;

/// Words a name may not carry in brackets: the session roles and their usual synonyms.
const ROLE_WORDS: &[&str] = &["co-host", "moderator", "admin", "organizer", "organiser"];

/// `raw` without control and bidi-control characters, trimmed; refused if empty, too long,
/// or claiming a role.
pub fn clean(raw: &str) -> Result<String, NameError> {
    let name: String = raw.chars().filter(|c| !hidden(*c)).collect();
    let name = name.trim().to_owned();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_CHARS {
        return Err(NameError::Length);
    }
    if claims_role(&name) {
        return Err(NameError::ClaimsRole);
    }
    Ok(name)
}

/// Control characters (newlines, tabs, escapes) and the invisible marks that reorder text:
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the directional
/// marks (U+200E, U+200F, U+061C).
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

/// Whether a bracketed part of `name` is a role word, e.g. "Prem (Host)" or "[moderator] Al".
fn claims_role(name: &str) -> bool {
    let lower = name.to_lowercase();
    let roles = [
        SessionRole::Host,
        SessionRole::Cohost,
        SessionRole::Presenter,
        SessionRole::Participant,
        SessionRole::Viewer,
    ];
    let mut words = roles
        .iter()
        .map(|role| super::roles::name(*role))
        .chain(ROLE_WORDS.iter().copied());
    let bracketed: Vec<&str> = lower
        .split(['(', '[', '{'])
        .skip(1)
        .filter_map(|part| part.split([')', ']', '}']).next())
        .map(str::trim)
        .collect();
    words.any(|word| bracketed.contains(&word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_controls_and_bidi_marks() {
        assert_eq!(clean("Ann\u{202E}tsoH").unwrap(), "AnntsoH");
        assert_eq!(clean(" \u{2067}Bob\u{2069}\t").unwrap(), "Bob");
        assert_eq!(clean("Zoë 李").unwrap(), "Zoë 李");
        assert_eq!(clean("\u{202E}\n"), Err(NameError::Length));
        assert_eq!(clean(&"x".repeat(101)), Err(NameError::Length));
    }

    #[test]
    fn refuses_names_that_claim_a_role() {
        for name in [
            "Prem (Host)",
            "[moderator] Al",
            "Kim ( co-host )",
            "Al {Admin}",
        ] {
            assert_eq!(clean(name), Err(NameError::ClaimsRole), "{name}");
        }
        for name in ["Host Family", "Ann (she/her)", "Dr. Cohost"] {
            assert!(clean(name).is_ok(), "{name}");
        }
    }
}
