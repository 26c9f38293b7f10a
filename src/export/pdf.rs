//! A small PDF writer for text documents: A4 pages, the standard Helvetica fonts, word
//! wrapping and page breaks.
//!
//! Written here rather than taken from a crate because exports need only styled lines of
//! text, and the PDF crates bring image codecs and font parsers that would add minutes to a
//! cold build. Text is encoded as WinAnsi (Latin-1 plus typographic punctuation); characters
//! outside it print as `?`, since the standard fonts carry no other glyphs.

use std::fmt::Write as _;

/// How a block of text is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Title,
    Heading,
    Body,
    Meta,
}

impl Style {
    fn font(self) -> (&'static str, f32) {
        match self {
            Style::Title => ("F2", 18.0),
            Style::Heading => ("F2", 13.0),
            Style::Body => ("F1", 11.0),
            Style::Meta => ("F1", 9.0),
        }
    }
}

/// A paragraph: wrapped to the page width, then followed by a small gap.
pub struct Block {
    pub style: Style,
    pub text: String,
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// Helvetica's average advance is about half the font size; a little more keeps lines inside.
const CHAR_WIDTH: f32 = 0.53;

struct Line {
    font: &'static str,
    size: f32,
    y: f32,
    text: Vec<u8>,
}

/// Renders blocks into a complete PDF file with `title` in its metadata.
pub fn render(title: &str, blocks: &[Block]) -> Vec<u8> {
    let pages = layout(blocks);
    write_document(title, &pages)
}

fn layout(blocks: &[Block]) -> Vec<Vec<Line>> {
    let mut pages = vec![Vec::new()];
    let mut y = PAGE_HEIGHT - MARGIN;
    for block in blocks {
        let (font, size) = block.style.font();
        let leading = size * 1.35;
        let max_chars = ((PAGE_WIDTH - 2.0 * MARGIN) / (size * CHAR_WIDTH)) as usize;
        for line in wrap(&block.text, max_chars) {
            if y - leading < MARGIN {
                pages.push(Vec::new());
                y = PAGE_HEIGHT - MARGIN;
            }
            y -= leading;
            pages
                .last_mut()
                .expect("there is always a page")
                .push(Line {
                    font,
                    size,
                    y,
                    text: encode(&line),
                });
        }
        y -= size * 0.5;
    }
    pages
}

/// Greedy word wrap; words longer than a line are cut. Linear in the text's length: a word
/// is cut by walking its characters once (a note can hold one multi-million-character word).
fn wrap(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_chars = 0;
        for word in paragraph.split_whitespace() {
            let mut word_chars = word.chars().count();
            let mut rest = word;
            if word_chars > max_chars {
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                while word_chars > max_chars {
                    let cut = rest
                        .char_indices()
                        .nth(max_chars)
                        .map_or(rest.len(), |(at, _)| at);
                    lines.push(rest[..cut].to_owned());
                    rest = &rest[cut..];
                    word_chars -= max_chars;
                }
                line_chars = 0;
            }
            if line_chars > 0 && line_chars + 1 + word_chars > max_chars {
                lines.push(std::mem::take(&mut line));
                line_chars = 0;
            }
            if line_chars > 0 {
                line.push(' ');
                line_chars += 1;
            }
            line.push_str(rest);
            line_chars += word_chars;
        }
        lines.push(line);
    }
    lines
}

/// WinAnsi bytes for `text`, with PDF string escapes.
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let byte = match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                c as u8
            }
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '\t' => b' ',
            _ => b'?',
        };
        out.push(byte);
    }
    out
}

/// Serializes the objects and the cross-reference table.
fn write_document(title: &str, pages: &[Vec<Line>]) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, 3-4 fonts, 5 info, then a page and its content per page.
    let first_page = 6;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: String = (0..pages.len())
        .map(|i| format!("{} 0 R ", first_page + 2 * i))
        .collect();
    objects.push(format!("<< /Type /Pages /Kids [{kids}] /Count {} >>", pages.len()).into_bytes());
    for base in ["Helvetica", "Helvetica-Bold"] {
        objects.push(
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
            )
            .into_bytes(),
        );
    }
    let mut info = b"<< /Producer (Workbook) /Title (".to_vec();
    info.extend(encode(title));
    info.extend(b") >>");
    objects.push(info);
    for (i, lines) in pages.iter().enumerate() {
        let content_id = first_page + 2 * i + 1;
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
                 /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>"
            )
            .into_bytes(),
        );
        let stream = page_stream(lines);
        let mut object = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        object.extend(stream);
        object.extend(b"\nendstream");
        objects.push(object);
    }

    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(object);
        out.extend(b"\nendobj\n");
    }
    let xref_at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        // Each entry is exactly 20 bytes: the trailing space is part of the format.
        let _ = writeln!(xref, "{offset:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend(xref.as_bytes());
    out
}

fn page_stream(lines: &[Line]) -> Vec<u8> {
    let mut stream = Vec::new();
    for line in lines {
        stream.extend(
            format!(
                "BT /{} {} Tf {MARGIN} {:.1} Td (",
                line.font, line.size, line.y
            )
            .as_bytes(),
        );
        stream.extend(&line.text);
        stream.extend(b") Tj ET\n");
    }
    stream
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_within_the_width() {
        let text = "the quick brown fox jumps over the lazy dog ".repeat(20);
        let lines = wrap(&text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30));
        let rejoined: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
        assert_eq!(rejoined, text.split_whitespace().collect::<Vec<_>>());
        assert_eq!(wrap(&"x".repeat(65), 30).len(), 3);
        assert_eq!(wrap("ab cdéfghij k", 4), ["ab", "cdéf", "ghij", "k"]);
    }

    #[test]
    fn a_huge_word_is_cut_into_full_lines() {
        // Two million characters: quadratic cutting took minutes here, linear takes
        // milliseconds; the check is on the result, the test run time shows the rest.
        let word = "é".repeat(2_000_000);
        let lines = wrap(&word, 80);
        assert_eq!(lines.len(), 25_000);
        assert!(lines.iter().all(|l| l.chars().count() == 80));
    }

    #[test]
    fn text_is_escaped_and_encoded() {
        assert_eq!(encode("a(b)\\ é…✓"), b"a\\(b\\)\\\\ \xe9\x85?".to_vec());
    }

    #[test]
    fn long_documents_break_into_pages() {
        let blocks: Vec<Block> = (0..200)
            .map(|i| Block {
                style: Style::Body,
                text: format!("line {i}"),
            })
            .collect();
        let pdf = render("t", &blocks);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        let pages = String::from_utf8_lossy(&pdf)
            .matches("/Type /Page ")
            .count();
        assert!(pages >= 4, "{pages} pages");
    }
}
