//! Notes rendered as Markdown, JSON and PDF (pure functions: notes in, bytes out), and
//! [`render`], which runs them on the blocking pool behind a size limit.

pub mod pdf;

use std::collections::HashMap;

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::notes::Note;
use crate::recording::moments;
use pdf::{Block, Style};

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Md,
    Json,
    Pdf,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Md => "text/markdown; charset=utf-8",
            Format::Json => "application/json",
            Format::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Json => "json",
            Format::Pdf => "pdf",
        }
    }
}

/// Why an export was not made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The notes' text is larger than the configured `limits.export_bytes`.
    #[error("the notes to export hold {size} bytes of text; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    /// The rendering task panicked or was cancelled (a bug, not the caller's input).
    #[error("rendering the export failed: {0}")]
    Failed(#[from] tokio::task::JoinError),
}

/// Renders `notes` as one file, refusing more than `limit` bytes of text. Rendering takes
/// time linear in the text (a PDF of megabytes takes seconds), so it runs on the blocking
/// pool: on an async worker it would stall every connection sharing that thread.
///
/// Links to recording moments in a note's body are printed as timestamped references in
/// Markdown and PDF, named by `moments` (recording → session title) where the reader may
/// see the recording; JSON keeps the body as stored.
pub async fn render(
    title: String,
    format: Format,
    notes: Vec<Note>,
    limit: usize,
    moments: HashMap<Uuid, String>,
) -> Result<Vec<u8>, ExportError> {
    let size = notes.iter().map(text_size).sum();
    if size > limit {
        return Err(ExportError::TooLarge { size, limit });
    }
    let body = tokio::task::spawn_blocking(move || match format {
        Format::Md => markdown(&notes, &moments).into_bytes(),
        Format::Json => json(&notes),
        Format::Pdf => pdf(&title, &notes, &moments),
    })
    .await?;
    Ok(body)
}

/// The bytes of text a note brings into an export.
fn text_size(note: &Note) -> usize {
    note.title.len()
        + note.content.len()
        + note.folder.as_ref().map_or(0, String::len)
        + note.tags.iter().map(String::len).sum::<usize>()
}

/// `title` (and tags, folder, dates) as a heading block, then the body.
pub fn markdown(notes: &[Note], moments: &HashMap<Uuid, String>) -> String {
    let mut out = String::new();
    for (i, note) in notes.iter().enumerate() {
        if i > 0 {
            out.push_str("\n---\n\n");
        }
        out.push_str(&format!("# {}\n\n", note.title));
        out.push_str(&format!("_{}_\n\n", meta_line(note)));
        out.push_str(moments::render(&note.content, moments).trim_end());
        out.push('\n');
    }
    out
}

pub fn json(notes: &[Note]) -> Vec<u8> {
    serde_json::to_vec_pretty(notes).expect("notes serialize")
}

/// One section per note: its title, a line of metadata, its body with Markdown headings set
/// as headings.
pub fn pdf(title: &str, notes: &[Note], moments: &HashMap<Uuid, String>) -> Vec<u8> {
    let mut blocks = Vec::new();
    for note in notes {
        blocks.push(Block {
            style: Style::Title,
            text: note.title.clone(),
        });
        blocks.push(Block {
            style: Style::Meta,
            text: meta_line(note),
        });
        let content = moments::render(&note.content, moments);
        for paragraph in content.split("\n\n") {
            let heading = paragraph.trim_start().strip_prefix('#');
            let block = match heading {
                Some(rest) => Block {
                    style: Style::Heading,
                    text: rest.trim_start_matches('#').trim().to_owned(),
                },
                None => Block {
                    style: Style::Body,
                    text: paragraph.to_owned(),
                },
            };
            blocks.push(block);
        }
    }
    pdf::render(title, &blocks)
}

fn meta_line(note: &Note) -> String {
    let mut parts = Vec::new();
    if !note.tags.is_empty() {
        parts.push(format!("tags: {}", note.tags.join(", ")));
    }
    if let Some(folder) = &note.folder {
        parts.push(format!("folder: {folder}"));
    }
    parts.push(format!(
        "updated {}",
        note.updated_at.format("%Y-%m-%d %H:%M UTC")
    ));
    parts.join(" · ")
}

/// A file name made of the title's letters and digits.
pub fn file_name(title: &str, format: Format) -> String {
    let slug: String = title
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "note".to_owned()
    } else {
        slug
    };
    format!("{}.{}", &slug[..slug.len().min(60)], format.extension())
}
