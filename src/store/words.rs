//! The words the full-text index holds (`search_words`), so that a half-typed word is
//! searched as the whole words it begins.
//!
//! FTS5 answers a prefix query (`"warr"*`) by merging every posting of every word it
//! begins into one list before it yields a row: ~20 ms for a word in half the mail of
//! the bench store, whatever the LIMIT. The same search written as those words
//! (`"warranty" OR "warranties"`) is walked newest first and stops at the LIMIT, as a
//! whole word is (~0.3 ms). FTS5 has no list of its words that can be read without
//! counting their postings (`fts5vocab` counts them), so the store keeps one: each
//! text put into `search` adds its words, as the index's own tokenizer makes them.

use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_void};

use rusqlite::{ffi, params, Connection};

use super::StoreError;

/// The tokenizer `search` is made with (`0001_init.sql`).
const TOKENIZER: &CStr = c"unicode61";

/// Its arguments there.
const TOKENIZER_ARGS: [&CStr; 2] = [c"remove_diacritics", c"2"];

/// The most words a half-typed word is searched as (Elasticsearch's
/// `max_expansions` is 50 too); one that begins more is left to FTS5's own prefix
/// query, slower but whole.
pub const MAX_EXPANSIONS: usize = 50;

/// The index's tokenizer, ready on one connection.
struct Tokenizer<'c> {
    instance: *mut ffi::Fts5Tokenizer,
    tokenize: unsafe extern "C" fn(
        *mut ffi::Fts5Tokenizer,
        *mut c_void,
        c_int,
        *const c_char,
        c_int,
        Option<
            unsafe extern "C" fn(*mut c_void, c_int, *const c_char, c_int, c_int, c_int) -> c_int,
        >,
    ) -> c_int,
    delete: unsafe extern "C" fn(*mut ffi::Fts5Tokenizer),
    /// The tokenizer belongs to the connection's FTS5 and must not outlive it.
    _conn: PhantomData<&'c Connection>,
}

/// A failure to tokenize, as SQLite's own errors are reported.
fn failed(what: &str) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        ffi::Error::new(ffi::SQLITE_ERROR),
        Some(format!("cannot tokenize for the search words: {what}")),
    )
}

impl<'c> Tokenizer<'c> {
    /// The index's tokenizer with the index's arguments.
    fn new(conn: &'c Connection) -> rusqlite::Result<Self> {
        let api = super::rank::fts5_api(conn)?;
        // SAFETY: `api` is the connection's live FTS5 API; the module it finds is
        // FTS5's built-in unicode61, whose functions we call as fts5.h documents.
        unsafe {
            let find = (*api)
                .xFindTokenizer
                .ok_or_else(|| failed("FTS5 API without xFindTokenizer"))?;
            let mut user: *mut c_void = std::ptr::null_mut();
            let mut module: ffi::fts5_tokenizer = std::mem::zeroed();
            if find(api, TOKENIZER.as_ptr(), &mut user, &mut module) != ffi::SQLITE_OK {
                return Err(failed("no unicode61 tokenizer"));
            }
            let (Some(create), Some(delete), Some(tokenize)) =
                (module.xCreate, module.xDelete, module.xTokenize)
            else {
                return Err(failed("incomplete tokenizer"));
            };
            let mut args: [*const c_char; 2] = TOKENIZER_ARGS.map(CStr::as_ptr);
            let mut instance: *mut ffi::Fts5Tokenizer = std::ptr::null_mut();
            if create(user, args.as_mut_ptr(), args.len() as c_int, &mut instance) != ffi::SQLITE_OK
                || instance.is_null()
            {
                return Err(failed("the tokenizer refused its arguments"));
            }
            Ok(Tokenizer {
                instance,
                tokenize,
                delete,
                _conn: PhantomData,
            })
        }
    }

    /// Append the tokens of `text` to `out`, in order.
    fn tokens(&self, text: &str, out: &mut Vec<String>) -> rusqlite::Result<()> {
        let len = c_int::try_from(text.len()).map_err(|_| failed("text over 2 GiB"))?;
        // SAFETY: `instance` is live until drop; `out` outlives the call, and
        // `push_token` is the only user of the context pointer.
        let rc = unsafe {
            (self.tokenize)(
                self.instance,
                (out as *mut Vec<String>).cast::<c_void>(),
                ffi::FTS5_TOKENIZE_DOCUMENT,
                text.as_ptr().cast::<c_char>(),
                len,
                Some(push_token),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(failed("the tokenizer failed"))
        }
    }
}

impl Drop for Tokenizer<'_> {
    fn drop(&mut self) {
        // SAFETY: made by `xCreate` in `new` and deleted once, here.
        unsafe { (self.delete)(self.instance) }
    }
}

/// The tokenizer's callback: one token into the `Vec<String>` behind `ctx`.
unsafe extern "C" fn push_token(
    ctx: *mut c_void,
    _flags: c_int,
    token: *const c_char,
    len: c_int,
    _start: c_int,
    _end: c_int,
) -> c_int {
    let Ok(len) = usize::try_from(len) else {
        return ffi::SQLITE_OK;
    };
    if token.is_null() || ctx.is_null() {
        return ffi::SQLITE_OK;
    }
    // SAFETY: FTS5 hands `len` bytes at `token` for the call; `ctx` is the vector
    // `Tokenizer::tokens` passed.
    let (bytes, out) = unsafe {
        (
            std::slice::from_raw_parts(token.cast::<u8>(), len),
            &mut *ctx.cast::<Vec<String>>(),
        )
    };
    out.push(String::from_utf8_lossy(bytes).into_owned());
    ffi::SQLITE_OK
}

/// The tokens of `text` as the full-text index makes them (lower case, accents off).
pub(super) fn tokens(conn: &Connection, text: &str) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    Tokenizer::new(conn)?.tokens(text, &mut out)?;
    Ok(out)
}

/// Most words the writer remembers having put into `search_words`; past this it
/// starts over (a few MiB; the common words come back at once).
const KNOWN_WORDS: usize = 50_000;

/// The words the writer thread has put into `search_words`: those committed, and those
/// of the transaction under way. A word known committed needs no write; one of a
/// transaction rolled back is forgotten (see [`words_committed`], [`words_rolled_back`]).
#[derive(Default)]
struct KnownWords {
    committed: std::collections::HashSet<String>,
    pending: std::collections::HashSet<String>,
}

thread_local! {
    // Only the store's writer thread writes mail, so one set per thread is one per store.
    static KNOWN: std::cell::RefCell<KnownWords> = std::cell::RefCell::new(KnownWords::default());
}

/// The transaction that put the pending words in is committed: they are known.
pub(super) fn words_committed() {
    KNOWN.with_borrow_mut(|k| {
        if k.committed.len() + k.pending.len() > KNOWN_WORDS {
            k.committed.clear();
        }
        let pending = std::mem::take(&mut k.pending);
        k.committed.extend(pending);
    });
}

/// What the writer put in since the last commit may be undone (a savepoint or the whole
/// transaction rolled back): those words are written again when next seen.
pub(super) fn words_rolled_back() {
    KNOWN.with_borrow_mut(|k| k.pending.clear());
}

/// Add the words of `texts` (a message's subject, text and sender, as put into
/// `search`) to `search_words`. A word the writer knows is there costs no write: an
/// import's mail repeats most of its words, and a probe of the table for each was a
/// seventh of the import's CPU.
pub(super) fn remember(conn: &Connection, texts: &[&str]) -> Result<(), StoreError> {
    let tokenizer = Tokenizer::new(conn)?;
    let mut words = Vec::new();
    for text in texts {
        tokenizer.tokens(text, &mut words)?;
    }
    words.sort_unstable();
    words.dedup();
    let new: Vec<String> = KNOWN.with_borrow(|k| {
        words
            .into_iter()
            .filter(|w| !k.committed.contains(w) && !k.pending.contains(w))
            .collect()
    });
    if new.is_empty() {
        return Ok(());
    }
    let mut insert =
        conn.prepare_cached("INSERT OR IGNORE INTO search_words (word) VALUES (?1)")?;
    for word in &new {
        insert.execute([word])?;
    }
    KNOWN.with_borrow_mut(|k| k.pending.extend(new));
    Ok(())
}

/// Take out of `search_words` those of `words` the index no longer has (its rows
/// that had them were deleted), so that a half-typed word no longer offers them.
pub(super) fn forget_unused(conn: &Connection, words: Vec<String>) -> Result<(), StoreError> {
    let mut gone = Vec::new();
    for word in words {
        let phrase = format!("\"{}\"", word.replace('"', "\"\""));
        let used = conn
            .prepare_cached("SELECT 1 FROM search WHERE search MATCH ?1 LIMIT 1")?
            .exists([phrase])?;
        if !used {
            conn.prepare_cached("DELETE FROM search_words WHERE word = ?1")?
                .execute([&word])?;
            gone.push(word);
        }
    }
    // A word forgotten here and the transaction then rolled back is only written
    // again when next seen.
    KNOWN.with_borrow_mut(|k| {
        for word in &gone {
            k.committed.remove(word);
            k.pending.remove(word);
        }
    });
    Ok(())
}

/// The words the index holds that begin with `prefix` (a token), in order; `None`
/// when there are more than [`MAX_EXPANSIONS`].
pub(super) fn begun_by(conn: &Connection, prefix: &str) -> Result<Option<Vec<String>>, StoreError> {
    // U+10FFFF sorts after every character a word can go on with (text compares as
    // UTF-8 bytes), so the range is read from the key, not scanned.
    let words: Vec<String> = conn
        .prepare_cached(
            "SELECT word FROM search_words WHERE word >= ?1 AND word < ?1 || char(1114111)
             ORDER BY word LIMIT ?2",
        )?
        .query_map(params![prefix, MAX_EXPANSIONS as i64 + 1], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((words.len() <= MAX_EXPANSIONS).then_some(words))
}

/// What taking a search's last word as a prefix would add to it (see [`widening`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Widening {
    /// It begins no other word the index holds: the same search again.
    Nothing,
    /// It begins up to [`MAX_EXPANSIONS`] other words.
    Few,
    /// It begins more: FTS5's own prefix query, which merges all their postings.
    Many,
}

/// What `word` taken as a prefix would find beside the whole word: its last token
/// against the words the index holds.
pub(super) fn widening(conn: &Connection, word: &str) -> Result<Widening, StoreError> {
    let Some(last) = tokens(conn, word)?.pop() else {
        return Ok(Widening::Nothing);
    };
    Ok(match begun_by(conn, &last)? {
        None => Widening::Many,
        Some(words) if words.iter().all(|w| *w == last) => Widening::Nothing,
        Some(_) => Widening::Few,
    })
}

/// A half-typed `word` as the whole phrases it may stand for: its tokens with the
/// last one replaced by each word of the index it begins ("jane@cust" → "jane
/// customer"). `None` when it cannot be written so: no token, or a last token that
/// begins more than [`MAX_EXPANSIONS`] words, or none (FTS5's prefix query answers
/// those at once).
pub(super) fn expansions(conn: &Connection, word: &str) -> Result<Option<Vec<String>>, StoreError> {
    let mut tokens = tokens(conn, word)?;
    let Some(last) = tokens.pop() else {
        return Ok(None);
    };
    let Some(words) = begun_by(conn, &last)? else {
        return Ok(None);
    };
    if words.is_empty() {
        return Ok(None);
    }
    let lead: String = tokens.iter().map(|t| format!("{t} ")).collect();
    Ok(Some(words.iter().map(|w| format!("{lead}{w}")).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE search USING fts5(subject, body, contact, tokenize = 'unicode61 remove_diacritics 2');
             CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;",
        )
        .unwrap();
        conn
    }

    /// A word written and committed is not written again; one whose transaction was
    /// rolled back is.
    #[test]
    fn known_words_are_not_written_again_unless_rolled_back() {
        let conn = store();
        let listed = |conn: &Connection| -> Vec<String> {
            conn.prepare("SELECT word FROM search_words ORDER BY word")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        conn.execute_batch("BEGIN").unwrap();
        remember(&conn, &["hinge broke"]).unwrap();
        conn.execute_batch("ROLLBACK").unwrap();
        words_rolled_back();
        assert!(listed(&conn).is_empty());
        conn.execute_batch("BEGIN").unwrap();
        remember(&conn, &["hinge broke"]).unwrap();
        conn.execute_batch("COMMIT").unwrap();
        words_committed();
        assert_eq!(
            listed(&conn),
            ["broke", "hinge"],
            "written again after the rollback"
        );
        // Known: not probed nor written again (taken out by hand to show it).
        conn.execute("DELETE FROM search_words WHERE word = 'hinge'", [])
            .unwrap();
        remember(&conn, &["hinge again"]).unwrap();
        words_committed();
        assert_eq!(listed(&conn), ["again", "broke"]);
    }

    /// The words match the index's own: what `fts5vocab` lists after the same texts.
    #[test]
    fn words_are_the_index_words() {
        let conn = store();
        let texts = [
            "Garantía: the WARRANTY (warranties!) of Müller's café — naïve jane@customer.org 0x80070005",
            "Ünïcödé façade Straße ÆON",
            "",
        ];
        conn.execute(
            "INSERT INTO search (subject, body, contact) VALUES (?1, ?2, ?3)",
            params![texts[0], texts[1], texts[2]],
        )
        .unwrap();
        remember(&conn, &texts).unwrap();
        conn.execute_batch("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, search, 'row')")
            .unwrap();
        let list = |sql: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let ours = list("SELECT word FROM search_words ORDER BY word");
        assert_eq!(ours, list("SELECT term FROM temp.v ORDER BY term"));
        for w in [
            "garantia",
            "muller",
            "naive",
            "cafe",
            "straße",
            "æon",
            "0x80070005",
            "customer",
        ] {
            assert!(ours.iter().any(|o| o == w), "{w} in {ours:?}");
        }
        // Remembering again adds nothing twice.
        remember(&conn, &texts).unwrap();
        assert_eq!(ours, list("SELECT word FROM search_words ORDER BY word"));
    }

    #[test]
    fn a_prefix_is_the_words_it_begins() {
        let conn = store();
        remember(&conn, &["warranty warranties warrant war ward wart"]).unwrap();
        assert_eq!(
            begun_by(&conn, "warr").unwrap(),
            Some(vec![
                "warrant".into(),
                "warranties".into(),
                "warranty".into()
            ])
        );
        assert_eq!(
            begun_by(&conn, "warranty").unwrap(),
            Some(vec!["warranty".into()])
        );
        assert_eq!(begun_by(&conn, "x").unwrap(), Some(vec![]));
        // Typed with capitals and accents, as the index folds them.
        assert_eq!(
            expansions(&conn, "WÄRR").unwrap(),
            Some(vec![
                "warrant".into(),
                "warranties".into(),
                "warranty".into()
            ])
        );
        // Only the last token is half-typed.
        remember(&conn, &["jane@customer.org jane@custard.example"]).unwrap();
        assert_eq!(
            expansions(&conn, "jane@cust").unwrap(),
            Some(vec!["jane custard".into(), "jane customer".into()])
        );
        // Nothing to expand: left to FTS5.
        assert_eq!(expansions(&conn, "zzz").unwrap(), None);
        assert_eq!(expansions(&conn, "--").unwrap(), None);
        // Whether a prefix would find more than the whole word.
        let widens = |word| widening(&conn, word).unwrap();
        assert_eq!(widens("warranty"), Widening::Nothing);
        assert_eq!(widens("Warranties"), Widening::Nothing);
        assert_eq!(widens("warrant"), Widening::Few);
        assert_eq!(widens("zzz"), Widening::Nothing, "in no mail at all");
        assert_eq!(widens("jane@customer"), Widening::Nothing);
        assert_eq!(widens("jane@cust"), Widening::Few);
        assert_eq!(widens("--"), Widening::Nothing, "no token");
    }

    #[test]
    fn a_prefix_of_too_many_words_is_left_to_fts5() {
        let conn = store();
        let many: Vec<String> = (0..=MAX_EXPANSIONS).map(|i| format!("ab{i:03}")).collect();
        remember(&conn, &[many.join(" ").as_str()]).unwrap();
        assert_eq!(begun_by(&conn, "ab").unwrap(), None);
        assert_eq!(expansions(&conn, "ab").unwrap(), None);
        assert_eq!(begun_by(&conn, "ab00").unwrap().map(|w| w.len()), Some(10));
        assert_eq!(widening(&conn, "ab").unwrap(), Widening::Many);
        assert_eq!(widening(&conn, "ab00").unwrap(), Widening::Few);
    }
}
