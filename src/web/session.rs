//! Sign-in, sessions, CSRF and login rate limiting.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Name of the session cookie.
pub const COOKIE: &str = "fd_session";
/// How long sessions last (`[http] session_idle_seconds`, `session_lifetime_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long ends.
    pub idle_seconds: i64,
    /// A session ends this long after sign-in, used or not.
    pub lifetime_seconds: i64,
}

impl SessionLimits {
    /// The limits the config sets.
    pub fn of(http: &crate::config::HttpConfig) -> SessionLimits {
        SessionLimits {
            idle_seconds: http.session_idle.as_secs() as i64,
            lifetime_seconds: http.session_lifetime.as_secs() as i64,
        }
    }

    /// True while a session is within both limits.
    pub fn alive(self, created_at: i64, last_seen: i64, now: i64) -> bool {
        now - last_seen < self.idle_seconds && now - created_at < self.lifetime_seconds
    }
}
/// Failed sign-ins allowed per account within [`WINDOW_SECONDS`].
pub const MAX_FAILURES: usize = 5;
/// Failed sign-ins allowed per client address: higher, because behind a reverse proxy
/// the whole team shares one address and one agent's typos must not lock out the rest.
pub const MAX_FAILURES_PER_ADDRESS: usize = 50;
/// The rate-limit window.
pub const WINDOW_SECONDS: i64 = 15 * 60;
/// Ratings kept for one reply within [`WINDOW_SECONDS`]: a customer may think better
/// of one, but a script with the link must not fill the ticket's history.
pub const MAX_RATINGS_PER_REPLY: usize = 10;

/// Characters of a browser's `User-Agent` kept with its session.
pub const MAX_USER_AGENT: usize = 300;

/// A `User-Agent` header as kept with a session: printable ASCII, at most
/// [`MAX_USER_AGENT`] characters; `None` without one.
pub fn user_agent(header: Option<&hyper::header::HeaderValue>) -> Option<String> {
    let text: String = header?
        .as_bytes()
        .iter()
        .filter(|b| b.is_ascii_graphic() || **b == b' ')
        .take(MAX_USER_AGENT)
        .map(|&b| char::from(b))
        .collect();
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// A fresh random token (hex).
pub fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// What is stored for a token: its SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The session token from a `Cookie` header.
pub fn cookie_token(header: &str) -> Option<String> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty() && value.len() <= 128).then(|| value.to_string())
    })
}

/// The page to go to after signing in, from a sign-in form's `next`: only a path on
/// this desk (not another site's `//host` or `/\host`, nor the sign-in page itself),
/// so the form cannot send an agent elsewhere.
pub fn return_path(next: &str) -> Option<&str> {
    let safe = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
        && !(next == "/login" || next.starts_with("/login?") || next.starts_with("/logout"));
    safe.then_some(next)
}

/// The `Set-Cookie` value for a new session lasting `max_age` seconds at most (or an
/// expired one to sign out).
pub fn set_cookie(token: Option<&str>, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => {
            format!("{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
        }
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// Compare two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Recent attempts by key, each kind with its limit within [`WINDOW_SECONDS`]: failed
/// sign-ins (`account:EMAIL`, `ip:ADDRESS`) and ratings of a reply (`rating:ROW`).
#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

impl Limiter {
    /// Seconds to wait when any of `keys` is over its limit (`ip:` keys have the
    /// higher per-address limit, `rating:` keys theirs).
    pub fn blocked(&self, keys: &[String], now: i64) -> Option<i64> {
        let map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| {
                let limit = if k.starts_with("ip:") {
                    MAX_FAILURES_PER_ADDRESS
                } else if k.starts_with("rating:") {
                    MAX_RATINGS_PER_REPLY
                } else {
                    MAX_FAILURES
                };
                let recent: Vec<i64> = map
                    .get(k)?
                    .iter()
                    .copied()
                    .filter(|t| now - t < WINDOW_SECONDS)
                    .collect();
                (recent.len() >= limit).then(|| {
                    recent
                        .iter()
                        .min()
                        .map(|first| first + WINDOW_SECONDS - now)
                        .unwrap_or(0)
                })
            })
            .max()
    }

    /// Count an attempt (a failed sign-in, a rating) against every key.
    pub fn failed(&self, keys: &[String], now: i64) {
        if let Ok(mut map) = self.failures.lock() {
            for k in keys {
                let list = map.entry(k.clone()).or_default();
                list.retain(|t| now - t < WINDOW_SECONDS);
                list.push(now);
            }
            if map.len() > 10_000 {
                map.retain(|_, v| v.iter().any(|t| now - t < WINDOW_SECONDS));
            }
        }
    }

    /// Forget an account's failures after it signs in.
    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

/// How long an agent with two-step sign-in has, after the right password, to type the
/// code from their app.
pub const CODE_WAIT_SECONDS: i64 = 5 * 60;

/// Wrong codes one password may be followed by before the agent starts again (each
/// also counts as a failed sign-in towards [`MAX_FAILURES`]).
pub const MAX_WRONG_CODES: u32 = 3;

/// A sign-in whose password was right, waiting for the agent's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// The agent's row.
    pub user_id: i64,
    /// Their address (lower case), for the rate limiter and the log.
    pub email: String,
    /// Where they were going.
    pub next: Option<String>,
    /// Unix seconds after which the password must be typed again.
    pub expires: i64,
    /// Wrong codes typed so far.
    pub wrong: u32,
}

/// Sign-ins waiting for a code, by the SHA-256 of the token their code form carries.
/// Kept in memory: a restart of the daemon only asks for the password again.
#[derive(Default)]
pub struct PendingSignIns {
    waiting: Mutex<HashMap<String, PendingSignIn>>,
}

impl PendingSignIns {
    /// Wait for the code of `user_id`; the token for the code form.
    pub fn start(&self, user_id: i64, email: &str, next: Option<String>, now: i64) -> String {
        let token = new_token();
        if let Ok(mut map) = self.waiting.lock() {
            map.retain(|_, p| p.expires > now);
            map.insert(
                token_hash(&token),
                PendingSignIn {
                    user_id,
                    email: email.to_string(),
                    next,
                    expires: now + CODE_WAIT_SECONDS,
                    wrong: 0,
                },
            );
        }
        token
    }

    /// The sign-in a code form's token names, while it has not expired.
    pub fn get(&self, token: &str, now: i64) -> Option<PendingSignIn> {
        let map = self.waiting.lock().ok()?;
        map.get(&token_hash(token))
            .filter(|p| p.expires > now)
            .cloned()
    }

    /// Count a wrong code; false when that was one too many and the sign-in is over.
    pub fn wrong_code(&self, token: &str) -> bool {
        let Ok(mut map) = self.waiting.lock() else {
            return false;
        };
        let key = token_hash(token);
        let Some(p) = map.get_mut(&key) else {
            return false;
        };
        p.wrong += 1;
        if p.wrong >= MAX_WRONG_CODES {
            map.remove(&key);
            return false;
        }
        true
    }

    /// The sign-in is done (or abandoned): its token no longer works.
    pub fn finish(&self, token: &str) {
        if let Ok(mut map) = self.waiting.lock() {
            map.remove(&token_hash(token));
        }
    }
}

/// `application/x-www-form-urlencoded` to pairs.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as space.
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    hex_val(bytes.get(i + 1).copied()),
                    hex_val(bytes.get(i + 2).copied()),
                ) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: Option<u8>) -> Option<u8> {
    match b? {
        c @ b'0'..=b'9' => Some(c - b'0'),
        c @ b'a'..=b'f' => Some(c - b'a' + 10),
        c @ b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The first value of `name` in a parsed form or query.
pub fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_pending_sign_in_expires_and_ends_after_three_wrong_codes() {
        let p = PendingSignIns::default();
        let token = p.start(7, "jane@acme.test", Some("/tickets/3".into()), 1000);
        let got = p.get(&token, 1000).expect("waiting");
        assert_eq!((got.user_id, got.next.as_deref()), (7, Some("/tickets/3")));
        assert_eq!(p.get(&token, 1000 + CODE_WAIT_SECONDS), None, "expired");
        assert_eq!(p.get("someone else's token", 1000), None);
        assert!(p.wrong_code(&token));
        assert!(p.wrong_code(&token));
        assert!(!p.wrong_code(&token), "the third wrong code ends it");
        assert_eq!(p.get(&token, 1001), None);
        let again = p.start(7, "jane@acme.test", None, 1000);
        assert!(p.get(&again, 1001).is_some());
        p.finish(&again);
        assert_eq!(
            p.get(&again, 1001),
            None,
            "a finished sign-in's token is spent"
        );
        // Expired ones are swept when another starts.
        let old = p.start(8, "bob@acme.test", None, 0);
        p.start(9, "carl@acme.test", None, CODE_WAIT_SECONDS + 1);
        assert_eq!(p.waiting.lock().unwrap().len(), 1);
        assert_eq!(p.get(&old, 1), None);
    }
    use super::*;

    #[test]
    fn only_a_path_on_this_desk_is_gone_to_after_signing_in() {
        for good in [
            "/tickets/42",
            "/inbox?view=mine&channel=sales",
            "/search?q=a%20b",
            "/me",
        ] {
            assert_eq!(return_path(good), Some(good), "{good}");
        }
        for bad in [
            "",
            "inbox",
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/tickets/1\\..",
            "/tickets/1\r\nSet-Cookie: x=1",
            "/tickets/ 1",
            "/login",
            "/login?next=/login",
            "/logout",
            "javascript:alert(1)",
        ] {
            assert_eq!(return_path(bad), None, "{bad:?}");
        }
        assert_eq!(return_path(&format!("/{}", "a".repeat(3000))), None);
    }

    #[test]
    fn cookies_and_tokens() {
        assert_eq!(cookie_token("a=1; fd_session=abc; b=2"), Some("abc".into()));
        assert_eq!(cookie_token("fd_session="), None);
        assert_eq!(cookie_token("other=x"), None);
        let c = set_cookie(Some("t"), 600, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("; Secure"));
        assert!(c.contains("Max-Age=600"));
        assert!(!set_cookie(Some("t"), 600, false).contains("Secure"));
        assert!(set_cookie(None, 600, false).contains("Max-Age=0"));
        assert_ne!(token_hash("a"), token_hash("b"));
        assert_eq!(new_token().len(), 64);
    }

    #[test]
    fn sessions_expire_idle_and_absolute() {
        let l = SessionLimits {
            idle_seconds: 12 * 3600,
            lifetime_seconds: 7 * 86_400,
        };
        assert!(l.alive(0, 0, 100));
        assert!(l.alive(0, 0, l.idle_seconds - 1));
        assert!(!l.alive(0, 0, l.idle_seconds));
        // Used a second ago, but signed in a week ago.
        assert!(l.alive(0, l.lifetime_seconds - 2, l.lifetime_seconds - 1));
        assert!(!l.alive(0, l.lifetime_seconds - 1, l.lifetime_seconds));
        // A clock that went back does not end a session early.
        assert!(l.alive(100, 100, 50));
    }

    #[test]
    fn limiter_blocks_after_five_and_forgets_later() {
        let l = Limiter::default();
        let keys = vec!["account:a".to_string(), "ip:1".to_string()];
        for t in 0..5 {
            assert_eq!(l.blocked(&keys, t), None);
            l.failed(&keys, t);
        }
        assert!(l.blocked(&keys, 10).is_some());
        // The address alone is not blocked by one account's typos.
        assert!(l.blocked(&["ip:1".to_string()], 10).is_none());
        for t in 5..MAX_FAILURES_PER_ADDRESS as i64 {
            l.failed(&["ip:1".to_string()], t);
        }
        assert!(l.blocked(&["ip:1".to_string()], 100).is_some());
        assert_eq!(l.blocked(&keys, WINDOW_SECONDS + 10), None);
        l.succeeded("account:a");
        assert!(l.blocked(&["account:a".to_string()], 10).is_none());
    }

    #[test]
    fn a_reply_takes_ten_ratings_a_window() {
        let l = Limiter::default();
        let reply = vec!["rating:7".to_string()];
        for t in 0..MAX_RATINGS_PER_REPLY as i64 {
            assert_eq!(l.blocked(&reply, t), None);
            l.failed(&reply, t);
        }
        assert_eq!(l.blocked(&reply, 20), Some(WINDOW_SECONDS - 20));
        assert_eq!(
            l.blocked(&["rating:8".to_string()], 20),
            None,
            "another reply"
        );
        assert_eq!(l.blocked(&reply, WINDOW_SECONDS + 10), None);
    }

    #[test]
    fn forms_decode() {
        let f = parse_form(b"email=a%40b.c&password=p+w%26%3D&x");
        assert_eq!(field(&f, "email"), Some("a@b.c"));
        assert_eq!(field(&f, "password"), Some("p w&="));
        assert_eq!(field(&f, "x"), Some(""));
        assert_eq!(url_decode("%zz%4"), "%zz%4");
        assert_eq!(url_decode("caf%C3%A9"), "café");
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
