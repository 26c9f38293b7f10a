//! The smallest single edit (common prefix and suffix) that turns one text into another, so a
//! REST replacement touches only what changed and live cursors elsewhere stay put.

/// Replace `removed` bytes at byte offset `start` with `inserted`. Offsets fall on UTF-8
/// character boundaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextEdit<'a> {
    pub(crate) start: usize,
    pub(crate) removed: usize,
    pub(crate) inserted: &'a str,
}

/// Returns `None` when the texts are equal.
pub(crate) fn minimal_edit<'a>(old: &str, new: &'a str) -> Option<TextEdit<'a>> {
    if old == new {
        return None;
    }
    let prefix = common_len(old.chars(), new.chars());
    let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
    let suffix = common_len(old_rest.chars().rev(), new_rest.chars().rev());
    Some(TextEdit {
        start: prefix,
        removed: old_rest.len() - suffix,
        inserted: &new_rest[..new_rest.len() - suffix],
    })
}

/// Byte length of the run of equal characters at the start of two character streams.
fn common_len(a: impl Iterator<Item = char>, b: impl Iterator<Item = char>) -> usize {
    a.zip(b)
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(old: &str, edit: &TextEdit<'_>) -> String {
        let mut s = old.to_owned();
        s.replace_range(edit.start..edit.start + edit.removed, edit.inserted);
        s
    }

    #[test]
    fn equal_texts_need_no_edit() {
        assert_eq!(minimal_edit("same", "same"), None);
    }

    #[test]
    fn edit_touches_only_the_middle() {
        let edit = minimal_edit("# Title\nold line\nend", "# Title\nnew line\nend").unwrap();
        assert_eq!(edit.start, 8);
        assert_eq!(edit.removed, 3);
        assert_eq!(edit.inserted, "new");
    }

    #[test]
    fn multibyte_characters_stay_whole() {
        for (old, new) in [
            ("héllo", "hèllo"),
            ("a😀b", "a😁b"),
            ("", "ü"),
            ("ü", ""),
            ("aa", "a"),
        ] {
            let edit = minimal_edit(old, new).unwrap();
            assert_eq!(apply(old, &edit), new, "{old} -> {new}");
        }
    }
}
