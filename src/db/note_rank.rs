//! `note_rank()`: the FTS5 ranking function of note search on SQLite.
//!
//! FTS5's built-in `bm25()` weighs each query word by its rarity in the whole table, and
//! learns that rarity, once per query, by visiting every row that contains the word. For a
//! common word that is a large share of the corpus, whoever asks, so a search scoped to its
//! caller's notes (see `search.rs`) would still cost in proportion to everyone's. `note_rank`
//! scores like bm25 without that factor: for each query phrase and column, the saturated term
//! frequency of bm25 (k1 = 1.2, b = 0.75, normalised by the column's average length) times
//! the column's weight. Everything it reads belongs to the row being ranked, so ranking
//! costs per matched row. (All of a search's words must match, so rarity would only trade one
//! word's frequency against another's; PostgreSQL's `ts_rank_cd` ignores it too.)
//!
//! `note_rank(notes_fts, w0, w1, ...)` takes one weight per column (missing ones are 0) and
//! returns a score where higher is better. It is registered on every SQLite connection by
//! [`register`], through FTS5's C API: SQL cannot define an FTS5 function.

use std::ffi::{CStr, c_int, c_void};
use std::ptr;

use libsqlite3_sys as ffi;

const NAME: &CStr = c"note_rank";
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Registers `note_rank` on the connection `db`.
///
/// # Safety
/// `db` must be an open connection that no other thread uses during the call.
pub(crate) unsafe fn register(db: *mut ffi::sqlite3) -> Result<(), String> {
    // SAFETY: the documented way to reach FTS5's API: bind a pointer to our `api` variable
    // as `fts5_api_ptr` to `SELECT fts5(?1)`, which stores the API's address in it.
    unsafe {
        let mut stmt = ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(format!("cannot reach FTS5 (SQLite error {rc})"));
        }
        let mut api: *mut ffi::fts5_api = ptr::null_mut();
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&raw mut api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
        let Some(create) = api.as_ref().and_then(|api| api.xCreateFunction) else {
            return Err("this SQLite has no FTS5".into());
        };
        let rc = create(api, NAME.as_ptr(), ptr::null_mut(), Some(note_rank), None);
        if rc != ffi::SQLITE_OK {
            return Err(format!("cannot register {NAME:?} (SQLite error {rc})"));
        }
    }
    Ok(())
}

/// The FTS5 auxiliary function: SQLite calls it once per matched row.
unsafe extern "C" fn note_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_args: c_int,
    args: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes a valid API, context and `n_args` argument values.
    unsafe {
        let weights: Vec<f64> = (0..n_args.max(0) as usize)
            .map(|i| ffi::sqlite3_value_double(*args.add(i)))
            .collect();
        match score(&*api, fts, &weights) {
            Ok(score) => ffi::sqlite3_result_double(ctx, score),
            Err(rc) => ffi::sqlite3_result_error_code(ctx, rc),
        }
    }
}

/// Calls an FTS5 API function, turning a missing one or an error code into `Err`.
macro_rules! call {
    ($api:expr, $f:ident($($arg:expr),*)) => {
        match $api.$f {
            Some(f) => match f($($arg),*) {
                ffi::SQLITE_OK => Ok(()),
                rc => Err(rc),
            },
            None => Err(ffi::SQLITE_MISUSE),
        }
    };
}

/// The score of the current row; see the module documentation.
///
/// # Safety
/// `api` and `fts` must be what SQLite passed to [`note_rank`].
unsafe fn score(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    weights: &[f64],
) -> Result<f64, c_int> {
    // SAFETY: every call passes the context SQLite gave us and pointers to live locals.
    unsafe {
        let columns = api.xColumnCount.map_or(0, |f| f(fts)).max(0) as usize;
        let phrases = api.xPhraseCount.map_or(0, |f| f(fts)).max(0) as usize;
        let mut rows: i64 = 0;
        call!(api, xRowCount(fts, &mut rows))?;
        let mut hits = vec![0u32; phrases * columns];
        let mut instances: c_int = 0;
        call!(api, xInstCount(fts, &mut instances))?;
        for i in 0..instances {
            let (mut phrase, mut column, mut offset) = (0, 0, 0);
            call!(api, xInst(fts, i, &mut phrase, &mut column, &mut offset))?;
            if let Some(count) = hits.get_mut(phrase as usize * columns + column as usize) {
                *count += 1;
            }
        }
        let mut score = 0.0;
        for (column, &weight) in weights.iter().enumerate().take(columns) {
            if weight == 0.0 {
                continue;
            }
            let (mut total, mut length) = (0i64, 0);
            call!(api, xColumnTotalSize(fts, column as c_int, &mut total))?;
            call!(api, xColumnSize(fts, column as c_int, &mut length))?;
            let average = total as f64 / rows.max(1) as f64;
            let norm = K1 * (1.0 - B + B * f64::from(length) / average.max(1.0));
            for phrase in 0..phrases {
                let tf = f64::from(hits[phrase * columns + column]);
                score += weight * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        Ok(score)
    }
}

#[cfg(test)]
mod tests {
    use crate::db::Db;

    #[tokio::test]
    async fn ranks_by_weighted_frequency() {
        let Db::Sqlite(pool) = Db::connect("sqlite::memory:", 1).await.unwrap() else {
            unreachable!("a sqlite: URL opens SQLite");
        };
        sqlx::query("CREATE VIRTUAL TABLE t USING fts5(title, body)")
            .execute(&pool)
            .await
            .unwrap();
        for (rowid, title, body) in [
            (1, "notes", "rust once among many other words here"),
            (2, "rust", "nothing else"),
            (3, "notes", "rust and rust again"),
            (4, "notes", "no match"),
        ] {
            sqlx::query("INSERT INTO t(rowid, title, body) VALUES ($1, $2, $3)")
                .bind(rowid)
                .bind(title)
                .bind(body)
                .execute(&pool)
                .await
                .unwrap();
        }
        let ranked: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, note_rank(t, 4.0, 1.0) AS r FROM t WHERE t MATCH 'rust'
             ORDER BY r DESC",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let order: Vec<i64> = ranked.iter().map(|(rowid, _)| *rowid).collect();
        assert_eq!(order, [2, 3, 1], "title first, then more and denser hits");
        assert!(ranked.iter().all(|(_, score)| *score > 0.0), "{ranked:?}");

        let unweighted: f64 =
            sqlx::query_scalar("SELECT note_rank(t, 0.0) FROM t WHERE t MATCH 'nothing'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(unweighted, 0.0, "a column of weight 0 adds nothing");
    }
}
