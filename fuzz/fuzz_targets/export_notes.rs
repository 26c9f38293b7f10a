//! Notes with any title, body, tags and folder through every export: Markdown, JSON, PDF and
//! the download's file name. The PDF must stay a well-formed file (its cross-reference table
//! points at its objects, every string is closed), the JSON must parse back, the file name
//! must be a safe slug.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use uuid::Uuid;
use workbook::db::notes::{Note, NoteAccess};
use workbook::export::{self, Format};
use workbook::recording::moments;

#[derive(Arbitrary, Debug)]
struct FuzzNote {
    title: String,
    content: String,
    tags: Vec<String>,
    folder: Option<String>,
    updated: i32,
}

fn note(n: FuzzNote) -> Note {
    let at = DateTime::from_timestamp(i64::from(n.updated), 0).unwrap_or_default();
    Note {
        id: Uuid::nil(),
        owner_id: Uuid::nil(),
        title: n.title,
        content: n.content,
        tags: n.tags,
        folder: n.folder,
        module_id: None,
        is_private: false,
        version: 1,
        created_at: at,
        updated_at: at,
        permission: NoteAccess::Owner,
    }
}

fuzz_target!(|input: (String, Vec<FuzzNote>)| {
    let (title, notes) = input;
    let notes: Vec<Note> = notes.into_iter().take(4).map(note).collect();
    // Every recording moment the notes link to is named after the export's title.
    let moments: HashMap<Uuid, String> = notes
        .iter()
        .flat_map(|n| moments::find(&n.content))
        .map(|(_, link)| (link.recording, title.clone()))
        .collect();
    let markdown = export::markdown(&notes, &moments);
    for note in &notes {
        assert!(markdown.contains(note.title.as_str()));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&export::json(&notes)).expect("the JSON export parses");
    assert_eq!(json.as_array().map(Vec::len), Some(notes.len()));
    check_pdf(&export::pdf(&title, &notes, &moments));
    for format in [Format::Md, Format::Json, Format::Pdf] {
        let name = export::file_name(&title, format);
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
            "unsafe file name {name:?}"
        );
    }
});

/// The trailer's `startxref` points at the table, and each entry at its object.
fn check_pdf(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-1.4\n") && pdf.ends_with(b"%%EOF\n"));
    let tail = String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(64)..]).into_owned();
    let xref_at: usize = tail
        .split("startxref\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|n| n.parse().ok())
        .expect("a startxref offset");
    assert!(pdf[xref_at..].starts_with(b"xref\n"));
    let table = String::from_utf8_lossy(&pdf[xref_at..]).into_owned();
    let entries = table.lines().skip(3).take_while(|l| l.ends_with(" n "));
    for (i, entry) in entries.enumerate() {
        let offset: usize = entry[..10].parse().expect("a ten-digit offset");
        let header = format!("{} 0 obj\n", i + 1);
        assert!(
            pdf[offset..].starts_with(header.as_bytes()),
            "object {} misplaced",
            i + 1
        );
    }
    // Every text operand is one closed string: an unescaped parenthesis would end it early.
    for line in pdf.split(|&b| b == b'\n').filter(|l| l.starts_with(b"BT ")) {
        assert!(line.ends_with(b") Tj ET"), "broken text line");
        let open = line.iter().position(|&b| b == b'(').expect("a string");
        let body = &line[open + 1..line.len() - b") Tj ET".len()];
        let mut escaped = false;
        for &b in body {
            assert!(escaped || (b != b'(' && b != b')'), "unescaped parenthesis");
            escaped = !escaped && b == b'\\';
        }
        assert!(!escaped, "string ends in a lone backslash");
    }
}
