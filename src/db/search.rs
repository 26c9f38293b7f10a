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
    /// All matches of the search, not just this page.
    total: i64,
}

/// A note that matched, with its highlighted snippet and rank (higher is better).
pub struct NoteHit {
    pub note: Note,
    pub snippet: String,
    pub rank: f64,
}

/// The FTS5 token naming `user` in the `readers` column of `notes_fts`: `u`, the id in hex,
/// `0` (migration `0007_note_search_readers.sql` writes the same and says why).
fn reader_token(user: Uuid) -> String {
    format!("u{}0", user.simple())
}

/// SQLite: the viewer's (`$1`) notes matching `$7` under the filters. `$7` names the viewer's
/// reader token as well as the words, so FTS5 itself yields only notes the viewer may read:
/// the work follows the viewer's notes, not the corpus. [`note_filters!`] still checks
/// ownership and shares, so a stale token could only hide a note, never reveal one.
macro_rules! sqlite_matches {
    () => {
        concat!(
            " FROM notes_fts JOIN notes n ON n.doc_id = notes_fts.rowid",
            viewer_share!(),
            note_filters!(),
            " AND notes_fts MATCH $7"
        )
    };
}

/// PostgreSQL: the same rows, started from the viewer's own notes (through the owner + text
/// GIN index) and the notes shared with them (through the share index), `q` the words `$7`.
macro_rules! postgres_matches {
    () => {
        concat!(
            " FROM plainto_tsquery('english', $7) q CROSS JOIN LATERAL (
                SELECT id, owner_id, folder, module_id, search_vector FROM notes
                WHERE owner_id = $1 AND search_vector @@ q
                UNION ALL
                SELECT m.id, m.owner_id, m.folder, m.module_id, m.search_vector
                FROM note_shares ms JOIN notes m ON m.id = ms.note_id
                WHERE ms.user_id = $1 AND m.owner_id <> $1 AND m.search_vector @@ q
              ) n",
            viewer_share!(),
            note_filters!()
        )
    };
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
    let rows = page(db, viewer, words, filter, limit, offset).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        None if offset == 0 => 0,
        // Past the end: the first hit carries the count.
        None => page(db, viewer, words, filter, 1, 0)
            .await?
            .first()
            .map_or(0, |row| row.total),
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

/// One page of [`notes`]. A single scan of the viewer's matches ranks them, counts them (a
/// window over the same rows) and keeps `$8` rows from `$9`; only then are the page's
/// notes read and their snippets made, the costly part, for those rows alone.
async fn page(
    db: &Db,
    viewer: Uuid,
    words: &[String],
    filter: &NoteFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<NoteHitRow>, sqlx::Error> {
    match db {
        Db::Sqlite(pool) => {
            // The words only in title and content, so a word can never match a reader
            // token, and the snippet (made with the words alone) never shows one.
            let words = format!("{{title content}} : ({})", fts5_query(words));
            let matches = format!("readers : \"{}\" AND {words}", reader_token(viewer));
            let sql = concat!(
                // note_rank() needs the FTS5 cursor, so it is computed before the window.
                "WITH matches AS (
                   SELECT n.doc_id, n.id, note_rank(notes_fts, 4.0, 1.0, 0.0) AS rank",
                sqlite_matches!(),
                "), page AS (
                   SELECT doc_id, rank, COUNT(*) OVER () AS total FROM matches
                   ORDER BY rank DESC, id LIMIT $8 OFFSET $9) ",
                note_columns!(),
                ", snippet(notes_fts, -1, char(2), char(3), '…', 16) AS snippet,
                   page.rank, page.total
                 FROM page JOIN notes_fts ON notes_fts.rowid = page.doc_id
                 JOIN notes n ON n.doc_id = page.doc_id",
                viewer_share!(),
                " WHERE notes_fts MATCH $10 ORDER BY page.rank DESC, n.id"
            );
            bind_note_filters!(sqlx::query_as(sql), viewer, filter)
                .bind(matches)
                .bind(limit)
                .bind(offset)
                .bind(words)
                .fetch_all(pool)
                .await
        }
        Db::Postgres(pool) => {
            let sql = concat!(
                "WITH page AS (
                   SELECT n.id, ts_rank_cd(n.search_vector, q)::float8 AS rank,
                          COUNT(*) OVER () AS total",
                postgres_matches!(),
                " ORDER BY rank DESC, n.id LIMIT $8 OFFSET $9) ",
                note_columns!(),
                ", ts_headline('english', n.content, q,
                     'StartSel=' || chr(2) || ', StopSel=' || chr(3) ||
                     ', MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=…') AS snippet,
                   page.rank, page.total
                 FROM page JOIN notes n ON n.id = page.id",
                viewer_share!(),
                " CROSS JOIN plainto_tsquery('english', $7) q ORDER BY page.rank DESC, n.id"
            );
            bind_note_filters!(sqlx::query_as(sql), viewer, filter)
                .bind(words.join(" "))
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
        }
    }
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
