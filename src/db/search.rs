//! Full-text search: FTS5 on SQLite, `tsvector` + GIN on PostgreSQL, one contract.
//!
//! A query is reduced to its words, all of which must match (stemmed, English). Hits are
//! ranked best first; `rank` is comparable within one result list. Snippets mark matches
//! with `\u{2}` … `\u{3}`, which [`highlight`] turns into escaped HTML with `<mark>`.

use sqlx::FromRow;
use uuid::Uuid;

use super::Db;
use super::notes::{
    Note, NoteFilter, NoteRow, bind_note_filters, note_columns, note_filters, viewer_share,
};

/// The words of a user's query, lowercased; empty when it has none.
pub fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

/// The FTS5 form of the words: each quoted, so no user input is FTS5 syntax.
pub(crate) fn fts5_query(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Escapes HTML and turns the snippet markers into `<mark>` tags.
pub fn highlight(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            '\u{2}' => out.push_str("<mark>"),
            '\u{3}' => out.push_str("</mark>"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(FromRow)]
struct NoteHitRow {
    #[sqlx(flatten)]
    note: NoteRow,
    snippet: String,
    rank: f64,
}

/// A note that matched, with its highlighted snippet and rank (higher is better).
pub struct NoteHit {
    pub note: Note,
    pub snippet: String,
    pub rank: f64,
}

/// The `viewer`'s notes matching `words` under `filter`, best first, and the total count.
pub async fn notes(
    db: &Db,
    viewer: Uuid,
    words: &[String],
    filter: &NoteFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<NoteHit>, i64), sqlx::Error> {
    macro_rules! bind_filters {
        ($query:expr, $text:expr) => {
            bind_note_filters!($query, viewer, filter).bind($text)
        };
    }
    let (rows, total): (Vec<NoteHitRow>, i64) = match db {
        Db::Sqlite(pool) => {
            let text = fts5_query(words);
            let page = concat!(
                note_columns!(),
                ", snippet(notes_fts, -1, char(2), char(3), '…', 16) AS snippet,
                   -bm25(notes_fts, 4.0, 1.0) AS rank
                 FROM notes_fts JOIN notes n ON n.doc_id = notes_fts.rowid",
                viewer_share!(),
                note_filters!(),
                " AND notes_fts MATCH $7 ORDER BY rank DESC, n.id LIMIT $8 OFFSET $9"
            );
            let count = concat!(
                "SELECT COUNT(*) FROM notes_fts JOIN notes n ON n.doc_id = notes_fts.rowid",
                viewer_share!(),
                note_filters!(),
                " AND notes_fts MATCH $7"
            );
            let rows = bind_filters!(sqlx::query_as(page), &text)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total = bind_filters!(sqlx::query_scalar(count), &text)
                .fetch_one(pool)
                .await?;
            (rows, total)
        }
        Db::Postgres(pool) => {
            let text = words.join(" ");
            let page = concat!(
                note_columns!(),
                ", ts_headline('english', n.content, q,
                     'StartSel=' || chr(2) || ', StopSel=' || chr(3) ||
                     ', MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=…') AS snippet,
                   ts_rank_cd(n.search_vector, q)::float8 AS rank
                 FROM notes n",
                viewer_share!(),
                " CROSS JOIN plainto_tsquery('english', $7) q ",
                note_filters!(),
                " AND n.search_vector @@ q ORDER BY rank DESC, n.id LIMIT $8 OFFSET $9"
            );
            let count = concat!(
                "SELECT COUNT(*) FROM notes n",
                viewer_share!(),
                " CROSS JOIN plainto_tsquery('english', $7) q ",
                note_filters!(),
                " AND n.search_vector @@ q"
            );
            let rows = bind_filters!(sqlx::query_as(page), &text)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total = bind_filters!(sqlx::query_scalar(count), &text)
                .fetch_one(pool)
                .await?;
            (rows, total)
        }
    };
    let hits = rows
        .into_iter()
        .map(|row| NoteHit {
            note: row.note.into(),
            snippet: highlight(&row.snippet),
            rank: row.rank,
        })
        .collect();
    Ok((hits, total))
}

/// A module that matched.
#[derive(FromRow)]
pub struct ModuleHit {
    pub id: Uuid,
    pub title: String,
    pub snippet: String,
    pub rank: f64,
}

/// Modules matching `words`, best first (modules are readable by everyone signed in).
pub async fn modules(db: &Db, words: &[String], limit: i64) -> Result<Vec<ModuleHit>, sqlx::Error> {
    let mut hits: Vec<ModuleHit> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(
                "SELECT m.id, m.title,
                        snippet(modules_fts, -1, char(2), char(3), '…', 16) AS snippet,
                        -bm25(modules_fts, 0.0, 4.0, 1.0) AS rank
                 FROM modules_fts JOIN modules m ON m.id = modules_fts.module_id
                 WHERE modules_fts MATCH $1 ORDER BY rank DESC, m.id LIMIT $2",
            )
            .bind(fts5_query(words))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(
                "SELECT m.id, m.title,
                        ts_headline('english', coalesce(m.description, '') || ' ', q,
                          'StartSel=' || chr(2) || ', StopSel=' || chr(3) ||
                          ', MaxWords=24, MinWords=8, MaxFragments=1') AS snippet,
                        ts_rank_cd(m.search_vector, q)::float8 AS rank
                 FROM modules m CROSS JOIN plainto_tsquery('english', $1) q
                 WHERE m.search_vector @@ q ORDER BY rank DESC, m.id LIMIT $2",
            )
            .bind(words.join(" "))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    for hit in &mut hits {
        hit.snippet = highlight(&hit.snippet);
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_reduced_to_words() {
        assert_eq!(
            words("Rust's \"async\" OR (tokio*)"),
            ["rust", "s", "async", "or", "tokio"]
        );
        assert!(words("  ***  ").is_empty());
        assert_eq!(fts5_query(&words("NEAR(a b)")), "\"near\" \"a\" \"b\"");
    }

    #[test]
    fn snippets_are_escaped_and_marked() {
        assert_eq!(
            highlight("<b>\u{2}rust\u{3}</b> & co"),
            "&lt;b&gt;<mark>rust</mark>&lt;/b&gt; &amp; co"
        );
    }
}
