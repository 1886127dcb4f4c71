//! Ranking of full-text hits: BM25 as FTS5's own `bm25()` computes it, except that how
//! many messages hold each searched word comes from the caller.
//!
//! FTS5's `bm25()` learns those counts by walking every posting of every searched word
//! on each query; for a word found in most mail that walk cost more than the search
//! itself. The counts change slowly, so the store keeps them a while ([`PhraseFigures`])
//! and hands them to `fd_rank(search, count_1, count_2, ...)`, registered here on every
//! connection.

use std::collections::HashMap;
use std::ffi::CStr;
use std::os::raw::{c_int, c_void};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rusqlite::{ffi, Connection};

/// BM25's term-frequency saturation (FTS5's value).
const K1: f64 = 1.2;
/// BM25's length normalisation (FTS5's value).
const B: f64 = 0.75;

/// Inverse document frequency of a word held by `with_word` of `rows` rows, as FTS5's
/// `bm25()` has it (a word in more than half the rows still counts a little).
pub fn idf(rows: i64, with_word: i64) -> f64 {
    let (n, h) = (rows as f64, with_word as f64);
    let idf = ((n - h + 0.5) / (h + 0.5)).ln();
    if idf <= 0.0 {
        1e-6
    } else {
        idf
    }
}

/// BM25 of one row, higher is better: phrase `i` occurs `tf[i]` times and weighs
/// `idf[i]`, in a row of `len` tokens where rows average `avg_len`.
pub fn bm25(tf: &[u32], idf: &[f64], len: f64, avg_len: f64) -> f64 {
    let norm = K1 * (1.0 - B + B * len / avg_len.max(1.0));
    tf.iter()
        .zip(idf)
        .map(|(&tf, &idf)| {
            let tf = f64::from(tf);
            idf * tf * (K1 + 1.0) / (tf + norm)
        })
        .sum()
}

/// What is kept of a searched phrase (see [`PhraseFigures`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    /// How many messages hold it (its weight in the ranking).
    Held,
    /// The row of the oldest of its newest matches a search with filters looks through
    /// (see `store::web::FILTERED_WINDOW`). New mail only comes above it, so a kept one
    /// widens that window a little and never hides a new match.
    WindowFloor,
}

/// Figures of searched phrases that change slowly, each kept for
/// [`PhraseFigures::TTL`]: working them out walks a common word's postings.
#[derive(Default)]
pub struct PhraseFigures {
    kept: Mutex<HashMap<(Figure, String), (i64, Instant)>>,
}

impl PhraseFigures {
    /// How long a figure is used before it is worked out again.
    pub const TTL: Duration = Duration::from_secs(600);
    /// Figures kept at most (all are dropped when full: they are cheap to redo).
    const CAPACITY: usize = 10_000;

    /// The kept `figure` of `phrase`, if fresh.
    pub fn get(&self, figure: Figure, phrase: &str) -> Option<i64> {
        self.get_at(figure, phrase, Instant::now())
    }

    /// The kept `figure` of `phrase`, if fresh at `now`.
    fn get_at(&self, figure: Figure, phrase: &str, now: Instant) -> Option<i64> {
        let kept = self.kept.lock().ok()?;
        kept.get(&(figure, phrase.to_string()))
            .filter(|(_, at)| now.saturating_duration_since(*at) < Self::TTL)
            .map(|(n, _)| *n)
    }

    /// Keep `value` as the `figure` of `phrase`.
    pub fn put(&self, figure: Figure, phrase: &str, value: i64) {
        if let Ok(mut kept) = self.kept.lock() {
            if kept.len() >= Self::CAPACITY {
                kept.clear();
            }
            kept.insert((figure, phrase.to_string()), (value, Instant::now()));
        }
    }
}

/// The FTS5 API of `conn`, which lives as long as the connection.
pub(super) fn fts5_api(conn: &Connection) -> rusqlite::Result<*mut ffi::fts5_api> {
    let failed = |what: &str| {
        rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_ERROR),
            Some(format!("cannot reach FTS5: {what}")),
        )
    };
    // SAFETY: the documented way to reach the FTS5 API of a connection we hold: bind a
    // pointer to our `api` variable under the type name "fts5_api_ptr" and run
    // `SELECT fts5(?1)`, which stores the API's address there. The statement is
    // finalised before `api` is read.
    unsafe {
        let db = conn.handle();
        let mut api: *mut ffi::fts5_api = std::ptr::null_mut();
        let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        let rc = ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            std::ptr::null_mut(),
        );
        if rc != ffi::SQLITE_OK {
            return Err(failed("no FTS5 in this SQLite"));
        }
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&mut api as *mut *mut ffi::fts5_api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
        if api.is_null() || (*api).iVersion < 2 {
            return Err(failed("FTS5 gave no API"));
        }
        Ok(api)
    }
}

/// Register `fd_rank` on `conn`.
pub(super) fn register(conn: &Connection) -> rusqlite::Result<()> {
    let api = fts5_api(conn)?;
    let failed = |what: &str| {
        rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_ERROR),
            Some(format!("cannot register fd_rank: {what}")),
        )
    };
    // SAFETY: `api` is the connection's live FTS5 API (above).
    unsafe {
        let Some(create) = (*api).xCreateFunction else {
            return Err(failed("FTS5 API without xCreateFunction"));
        };
        let rc = create(
            api,
            c"fd_rank".as_ptr(),
            std::ptr::null_mut(),
            Some(fd_rank),
            None,
        );
        if rc != ffi::SQLITE_OK {
            return Err(failed("xCreateFunction refused"));
        }
    }
    Ok(())
}

/// The SQL function: `fd_rank(search, messages_with_phrase_1, ...)`.
unsafe extern "C" fn fd_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 calls this with its API, the current row's context and `n_val`
    // argument values, all valid for the duration of the call.
    match unsafe { rank_row(api, fts, n_val, values) } {
        Ok(score) => unsafe { ffi::sqlite3_result_double(ctx, score) },
        Err(message) => unsafe { ffi::sqlite3_result_error(ctx, message.as_ptr(), -1) },
    }
}

/// BM25 of the current row, from FTS5's per-row figures and the given counts.
///
/// # Safety
/// The arguments are those FTS5 passes to an auxiliary function.
unsafe fn rank_row(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_val: c_int,
    values: *mut *mut ffi::sqlite3_value,
) -> Result<f64, &'static CStr> {
    const NO_API: &CStr = c"fd_rank: incomplete FTS5 API";
    // SAFETY: see the function's contract.
    let api = unsafe { api.as_ref() }.ok_or(NO_API)?;
    let (
        Some(phrase_count),
        Some(row_count),
        Some(total_size),
        Some(column_size),
        Some(inst_count),
        Some(inst),
        Some(get_aux),
        Some(set_aux),
    ) = (
        api.xPhraseCount,
        api.xRowCount,
        api.xColumnTotalSize,
        api.xColumnSize,
        api.xInstCount,
        api.xInst,
        api.xGetAuxdata,
        api.xSetAuxdata,
    )
    else {
        return Err(NO_API);
    };
    // SAFETY (every call below): FTS5's own functions on the context it gave us, with
    // out-pointers to locals.
    let phrases = unsafe { phrase_count(fts) }.max(0) as usize;
    // The weights and the average row length are the same for every row of a query:
    // worked out on its first row and kept with the query (FTS5's auxiliary data,
    // freed when the query ends), as FTS5's own bm25() does.
    let kept = unsafe { get_aux(fts, 0) }.cast::<QueryWeights>();
    // SAFETY: a non-null pointer is one this function stored for this query below.
    let weights: &QueryWeights = match unsafe { kept.as_ref() } {
        Some(w) => w,
        None => {
            let (mut rows, mut total) = (0i64, 0i64);
            if unsafe { row_count(fts, &mut rows) } != ffi::SQLITE_OK
                || unsafe { total_size(fts, -1, &mut total) } != ffi::SQLITE_OK
            {
                return Err(c"fd_rank: cannot read the index totals");
            }
            // FTS5 drops a phrase with no token in it, so the caller's count of
            // phrases can be off for odd input; the row is then ranked with every
            // phrase weighing the same rather than refused.
            let counted = usize::try_from(n_val) == Ok(phrases);
            let idf: Vec<f64> = (0..phrases)
                .map(|i| match counted {
                    // SAFETY: `values` holds `n_val` (= `phrases`) argument values.
                    true => idf(rows, unsafe { ffi::sqlite3_value_int64(*values.add(i)) }),
                    false => 1.0,
                })
                .collect();
            let avg_len = if rows > 0 {
                total as f64 / rows as f64
            } else {
                1.0
            };
            let raw = Box::into_raw(Box::new(QueryWeights { idf, avg_len }));
            // On failure FTS5 has already freed it through `free_weights`.
            if unsafe { set_aux(fts, raw.cast::<c_void>(), Some(free_weights)) } != ffi::SQLITE_OK {
                return Err(c"fd_rank: cannot keep the query's weights");
            }
            // SAFETY: stored with the query, which outlives this call.
            unsafe { &*raw }
        }
    };
    let mut len: c_int = 0;
    let mut instances: c_int = 0;
    if unsafe { column_size(fts, -1, &mut len) } != ffi::SQLITE_OK
        || unsafe { inst_count(fts, &mut instances) } != ffi::SQLITE_OK
    {
        return Err(c"fd_rank: cannot read the row");
    }
    let mut tf = vec![0u32; weights.idf.len()];
    for i in 0..instances {
        let (mut phrase, mut column, mut offset) = (0, 0, 0);
        if unsafe { inst(fts, i, &mut phrase, &mut column, &mut offset) } == ffi::SQLITE_OK {
            if let Some(n) = usize::try_from(phrase).ok().and_then(|p| tf.get_mut(p)) {
                *n += 1;
            }
        }
    }
    Ok(bm25(&tf, &weights.idf, f64::from(len), weights.avg_len))
}

/// What every row of one query is ranked with.
struct QueryWeights {
    /// Each phrase's weight.
    idf: Vec<f64>,
    /// Tokens in an average row.
    avg_len: f64,
}

/// Frees a query's [`QueryWeights`] when FTS5 is done with them.
unsafe extern "C" fn free_weights(p: *mut c_void) {
    if !p.is_null() {
        // SAFETY: `p` came from `Box::into_raw` in `rank_row` and FTS5 frees it once.
        drop(unsafe { Box::from_raw(p.cast::<QueryWeights>()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rare_words_weigh_more_than_common_ones() {
        assert!(idf(1000, 3) > idf(1000, 300));
        // A word in most rows still counts a little, never negatively.
        assert_eq!(idf(1000, 900), 1e-6);
        assert!(idf(1000, 0) > 0.0);
    }

    #[test]
    fn bm25_saturates_and_prefers_short_rows() {
        let w = [2.0];
        // More occurrences score higher, with diminishing returns.
        let one = bm25(&[1], &w, 100.0, 100.0);
        let two = bm25(&[2], &w, 100.0, 100.0);
        let ten = bm25(&[10], &w, 100.0, 100.0);
        assert!(one < two && two < ten);
        assert!(ten - two < (two - one) * 8.0);
        assert!(ten < w[0] * (K1 + 1.0));
        // The same count in a shorter row scores higher.
        assert!(bm25(&[1], &w, 20.0, 100.0) > bm25(&[1], &w, 400.0, 100.0));
        // Absent phrases add nothing; the rarer phrase decides between rows.
        assert_eq!(bm25(&[0], &w, 100.0, 100.0), 0.0);
        let rare_common = [5.0, 0.1];
        assert!(
            bm25(&[1, 0], &rare_common, 100.0, 100.0) > bm25(&[0, 3], &rare_common, 100.0, 100.0)
        );
    }

    fn rows_scores(rows: &[(i64, f64, f64)]) -> Vec<f64> {
        rows.iter().map(|r| r.2).collect()
    }

    #[test]
    fn matches_fts5_bm25_on_a_small_table() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE s USING fts5(a, b);
             INSERT INTO s VALUES ('printer jam again', 'the printer printer is broken');
             INSERT INTO s VALUES ('invoice', 'please send the invoice for the printer');
             INSERT INTO s VALUES ('hello', 'nothing to see here at all today');
             INSERT INTO s VALUES ('printer', 'x');",
        )
        .unwrap();
        let count = |q: &str| -> i64 {
            conn.query_row("SELECT count(*) FROM s WHERE s MATCH ?1", [q], |r| r.get(0))
                .unwrap()
        };
        let (printer, the) = (count("printer"), count("the"));
        let mut stmt = conn
            .prepare(
                "SELECT rowid, bm25(s), fd_rank(s, ?2, ?3) FROM s WHERE s MATCH ?1 ORDER BY rowid",
            )
            .unwrap();
        let rows: Vec<(i64, f64, f64)> = stmt
            .query_map(rusqlite::params!["printer OR the", printer, the], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        let rows_before = rows.clone();
        for (rowid, theirs, ours) in rows {
            // FTS5's bm25() is negated (lower is better).
            assert!(
                (theirs + ours).abs() < 1e-9,
                "row {rowid}: {theirs} vs {ours}"
            );
        }
        // The weights kept for a query are its own: the same statement run again with
        // other counts ranks with those, as a statement made afresh does.
        let again: Vec<f64> = stmt
            .query_map(rusqlite::params!["printer OR the", 1, 1], |r| r.get(2))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let fresh: Vec<f64> = conn
            .prepare("SELECT fd_rank(s, ?2, ?3) FROM s WHERE s MATCH ?1 ORDER BY rowid")
            .unwrap()
            .query_map(rusqlite::params!["printer OR the", 1, 1], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(again, fresh);
        assert_ne!(
            again,
            rows_scores(&rows_before),
            "other counts, other scores"
        );
        // FTS5 drops a phrase with no token in it (punctuation typed alone), so the
        // counts do not line up: every phrase then weighs the same, and the row is
        // still ranked, not refused.
        for sql in [
            "SELECT fd_rank(s, 0, 1) FROM s WHERE s MATCH '\"--\" \"invoice\"'",
            "SELECT fd_rank(s, 1) FROM s WHERE s MATCH 'jam printer'",
        ] {
            let n: f64 = conn.query_row(sql, [], |r| r.get(0)).unwrap();
            assert!(n > 0.0, "{sql}: {n}");
        }
    }

    #[test]
    fn figures_are_kept_apart_and_expire() {
        let kept = PhraseFigures::default();
        assert_eq!(kept.get(Figure::Held, "\"printer\""), None);
        kept.put(Figure::Held, "\"printer\"", 42);
        kept.put(Figure::WindowFloor, "\"printer\"", 7);
        assert_eq!(kept.get(Figure::Held, "\"printer\""), Some(42));
        assert_eq!(kept.get(Figure::WindowFloor, "\"printer\""), Some(7));
        assert_eq!(kept.get(Figure::Held, "\"printers\""), None);
        let later = Instant::now() + PhraseFigures::TTL;
        assert_eq!(kept.get_at(Figure::Held, "\"printer\"", later), None);
    }
}
