//! Rendered pages, sessions and inbox counts kept between requests while nothing has
//! changed.
//!
//! An entry is valid only for the store generation it was read at (any committed write
//! ends it, see `Store::generation`), the config it was rendered under (a reload ends
//! it), for inbox pages their agent's read marks' generation (that agent opening a ticket
//! ends them, see `Store::read_marks_generation`) and, for pages, the minute it was rendered
//! in (pages show ages like "3m").
//! Reading the generation *before* the queries makes a stale entry impossible: a write
//! that lands during a render moves the generation on, and the entry never matches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hyper::body::Bytes;

/// When an entry was made: it is good while all three are unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// `Store::generation()` before the reads.
    pub generation: u64,
    /// `Pipeline::config_generation()` at the time.
    pub config: u64,
    /// `Store::read_marks_generation(agent)` before the reads (0 for entries that do not
    /// show what agents have read).
    pub read_marks: u64,
    /// Unix minute (pages only; 0 for sessions).
    pub minute: i64,
}

/// A rendered page: its HTML and the policy it must be sent with (when not the default).
#[derive(Debug, Clone)]
pub struct CachedPage {
    /// The page.
    pub html: Bytes,
    /// A Content-Security-Policy other than the default, if the page needs one.
    pub csp: Option<String>,
}

/// Most bytes of pages kept; past this the cache starts over.
const MAX_PAGE_BYTES: usize = 16 * 1024 * 1024;
/// Most pages kept.
const MAX_PAGES: usize = 2048;

/// Pages per (session, URL).
#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Pages>,
    /// Pages being rendered now: later requests for the same one wait their turn.
    rendering: Mutex<HashMap<(String, String), RenderTurn>>,
}

/// Held by whoever renders a page.
pub type RenderTurn = Arc<tokio::sync::Mutex<()>>;

#[derive(Default)]
struct Pages {
    entries: HashMap<(String, String), (Stamp, CachedPage)>,
    bytes: usize,
}

impl PageCache {
    /// The page for `session` and `url` if it was made at `now`.
    pub fn get(&self, session: &str, url: &str, now: Stamp) -> Option<CachedPage> {
        let pages = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (session.to_string(), url.to_string());
        match pages.entries.get(&key) {
            Some((stamp, page)) if *stamp == now => Some(page.clone()),
            _ => None,
        }
    }

    /// Keep a page made at `stamp`.
    pub fn put(&self, session: &str, url: &str, stamp: Stamp, page: CachedPage) {
        let mut pages = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let size = page.html.len() + url.len() + session.len();
        if size > MAX_PAGE_BYTES / 8 {
            return;
        }
        // Entries of an older generation can never match again: drop them all when full.
        if pages.bytes + size > MAX_PAGE_BYTES || pages.entries.len() >= MAX_PAGES {
            pages.entries.clear();
            pages.bytes = 0;
        }
        let key = (session.to_string(), url.to_string());
        if let Some((_, old)) = pages.entries.insert(key, (stamp, page)) {
            pages.bytes = pages
                .bytes
                .saturating_sub(old.html.len() + url.len() + session.len());
        }
        pages.bytes += size;
    }

    /// The lock whose holder renders this page; hold it while rendering.
    pub fn render_turn(&self, session: &str, url: &str) -> RenderTurn {
        let mut r = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
        r.entry((session.to_string(), url.to_string()))
            .or_default()
            .clone()
    }

    /// The render is over: whoever still waits holds its own handle to the lock.
    pub fn render_done(&self, session: &str, url: &str) {
        let mut r = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
        r.remove(&(session.to_string(), url.to_string()));
    }

    /// Bytes held (for tests and metrics).
    pub fn bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

/// Most entries a [`Keyed`] holds.
const MAX_KEYED: usize = 1024;

/// Small read results by key (sessions by token hash, inbox counts by agent).
pub struct Keyed<T> {
    inner: Mutex<HashMap<String, (Stamp, T)>>,
}

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed {
            inner: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Keyed<T> {
    /// The value for `key` if it was read at `now`.
    pub fn get(&self, key: &str, now: Stamp) -> Option<T> {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some((stamp, s)) if *stamp == now => Some(s.clone()),
            _ => None,
        }
    }

    /// Keep a value read at `stamp`.
    pub fn put(&self, key: &str, stamp: Stamp, value: T) {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_KEYED {
            map.clear();
        }
        map.insert(key.to_string(), (stamp, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(generation: u64, config: u64, minute: i64) -> Stamp {
        Stamp {
            generation,
            config,
            read_marks: 0,
            minute,
        }
    }

    fn page(text: &str) -> CachedPage {
        CachedPage {
            html: Bytes::from(text.to_string()),
            csp: None,
        }
    }

    #[test]
    fn a_page_is_good_only_for_its_session_url_generations_config_and_minute() {
        let c = PageCache::default();
        let s = stamp(7, 1, 100);
        c.put("alice", "/inbox?view=all", s, page("A"));
        assert_eq!(c.get("alice", "/inbox?view=all", s).unwrap().html, "A");
        assert!(c.get("bob", "/inbox?view=all", s).is_none());
        assert!(c.get("alice", "/inbox?view=mine", s).is_none());
        assert!(c
            .get("alice", "/inbox?view=all", stamp(8, 1, 100))
            .is_none());
        assert!(c
            .get("alice", "/inbox?view=all", stamp(7, 2, 100))
            .is_none());
        assert!(c
            .get("alice", "/inbox?view=all", stamp(7, 1, 101))
            .is_none());
        let marked = Stamp { read_marks: 1, ..s };
        assert!(c.get("alice", "/inbox?view=all", marked).is_none());
        // A newer render replaces the older one.
        c.put("alice", "/inbox?view=all", stamp(8, 1, 100), page("B"));
        assert_eq!(
            c.get("alice", "/inbox?view=all", stamp(8, 1, 100))
                .unwrap()
                .html,
            "B"
        );
        assert!(c.get("alice", "/inbox?view=all", s).is_none());
    }

    #[test]
    fn the_page_cache_stays_within_its_budget() {
        let c = PageCache::default();
        let big = "x".repeat(MAX_PAGE_BYTES / 10);
        for i in 0..50 {
            c.put("s", &format!("/tickets/{i}"), stamp(1, 1, 1), page(&big));
            assert!(c.bytes() <= MAX_PAGE_BYTES, "{} bytes", c.bytes());
        }
        // Too big to keep at all.
        c.put(
            "s",
            "/huge",
            stamp(1, 1, 1),
            page(&"y".repeat(MAX_PAGE_BYTES)),
        );
        assert!(c.get("s", "/huge", stamp(1, 1, 1)).is_none());
        for i in 0..(MAX_PAGES + 10) {
            c.put("s", &format!("/t/{i}"), stamp(1, 1, 1), page("z"));
        }
        assert!(c.inner.lock().unwrap().entries.len() <= MAX_PAGES);
    }

    #[test]
    fn sessions_are_good_only_for_their_generation() {
        let c: Keyed<u32> = Keyed::default();
        c.put("h1", stamp(3, 1, 0), 42);
        assert_eq!(c.get("h1", stamp(3, 1, 0)), Some(42));
        assert_eq!(c.get("h1", stamp(4, 1, 0)), None);
        assert_eq!(c.get("h2", stamp(3, 1, 0)), None);
    }
}
