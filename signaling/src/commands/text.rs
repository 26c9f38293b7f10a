//! Text rules shared by chat, polls and Q&A.

use crate::error::HubError;

/// Trims `text` and checks it is non-empty, at most `max_chars` characters, and free
/// of control characters other than newline and tab.
pub(crate) fn checked(field: &str, text: String, max_chars: usize) -> Result<String, HubError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(HubError::invalid(format!("{field} must not be empty")));
    }
    let chars = trimmed.chars().count();
    if chars > max_chars {
        return Err(HubError::invalid(format!(
            "{field} has {chars} characters, at most {max_chars} allowed"
        )));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(HubError::invalid(format!(
            "{field} contains control characters"
        )));
    }
    Ok(trimmed.to_string())
}
