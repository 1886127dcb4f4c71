//! "Where you are signed in" on the account page (pure): each of the agent's sessions
//! with its browser, address and times, a sign-out for each other one, and one for
//! all the others (a laptop left somewhere, a shared computer).

use std::fmt::Write;

use super::time_tag;
use crate::model::rfc3339;
use crate::outbound::template::html_escape as esc;
use crate::store::SessionRow;

/// A browser and system named from a `User-Agent` ("Firefox on Linux"); what cannot be
/// told is "A browser" (or the system alone).
pub fn browser_name(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent else {
        return "A browser".into();
    };
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari".
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(mark, _)| ua.contains(mark))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "A browser".into(),
    }
}

/// The sessions still alive by `limits` at `now` (and the current one): one ended by
/// time but not yet swept is no longer a place the agent is signed in.
pub fn live(
    sessions: Vec<SessionRow>,
    limits: crate::web::session::SessionLimits,
    now: i64,
) -> Vec<SessionRow> {
    sessions
        .into_iter()
        .filter(|s| s.current || limits.alive(s.created_at, s.last_seen, now))
        .collect()
}

/// The section listing `sessions`.
pub fn section(out: &mut String, sessions: &[SessionRow], csrf: &str) {
    let csrf = format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(csrf));
    out.push_str(r#"<h2 id="sessions">Where you are signed in</h2><table class="sessions"><thead><tr><th scope="col">Browser</th><th scope="col">Address</th><th scope="col">Signed in</th><th scope="col">Last active</th><th scope="col"><span class="sr-only">Sign out</span></th></tr></thead><tbody>"#);
    for s in sessions {
        let _ = write!(
            out,
            r#"<tr{}><td title="{}">{}</td><td>{}</td><td>{}</td><td>{}</td><td>"#,
            if s.current { r#" class="current""# } else { "" },
            esc(s.user_agent.as_deref().unwrap_or("")),
            esc(&browser_name(s.user_agent.as_deref())),
            esc(s.address.as_deref().unwrap_or("")),
            time_tag(&rfc3339(s.created_at)),
            time_tag(&rfc3339(s.last_seen)),
        );
        if s.current {
            out.push_str("This browser");
        } else {
            let _ = write!(
                out,
                r#"<form class="end-session" method="post" action="/me/sessions/end">{csrf}<input type="hidden" name="session" value="{}"><button type="submit" aria-label="Sign out {} at {}">Sign out</button></form>"#,
                esc(&s.token_hash),
                esc(&browser_name(s.user_agent.as_deref())),
                esc(s.address.as_deref().unwrap_or("an unknown address")),
            );
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table>");
    if sessions.iter().any(|s| !s.current) {
        let _ = write!(
            out,
            r#"<form class="end-other-sessions" method="post" action="/me/sessions/others">{csrf}<button type="submit">Sign out everywhere else</button></form>"#
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browsers_are_named_from_their_user_agents() {
        for (ua, name) in [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("curl/8.5.0", "curl"),
            ("Mozilla/5.0 (X11; Linux x86_64)", "A browser on Linux"),
            ("something", "A browser"),
        ] {
            assert_eq!(browser_name(Some(ua)), name, "{ua}");
        }
        assert_eq!(browser_name(None), "A browser");
    }

    fn row(hash: &str, current: bool) -> SessionRow {
        SessionRow {
            token_hash: hash.into(),
            created_at: 1_764_000_000,
            last_seen: 1_764_000_600,
            user_agent: Some("<script>Firefox/1 Linux".into()),
            address: Some("192.0.2.7".into()),
            current,
        }
    }

    #[test]
    fn sessions_ended_by_time_are_not_listed() {
        let limits = crate::web::session::SessionLimits {
            idle_seconds: 600,
            lifetime_seconds: 3600,
        };
        let at = |hash: &str, created_at: i64, last_seen: i64, current: bool| SessionRow {
            created_at,
            last_seen,
            ..row(hash, current)
        };
        let kept: Vec<String> = live(
            vec![
                at("fresh", 1000, 1500, false),
                at("idle", 1000, 1399, false),
                at("old", -1700, 1900, false),
                at("mine", 1000, 1000, true),
            ],
            limits,
            2000,
        )
        .into_iter()
        .map(|s| s.token_hash)
        .collect();
        assert_eq!(kept, ["fresh", "mine"]);
    }

    #[test]
    fn other_sessions_can_be_signed_out_this_one_is_marked() {
        let mut out = String::new();
        section(&mut out, &[row("aaa", true), row("bbb", false)], "tok");
        assert!(out.contains(r#"<tr class="current">"#), "{out}");
        assert!(out.contains("This browser"), "{out}");
        assert!(out.contains(r#"name="session" value="bbb""#), "{out}");
        assert!(!out.contains(r#"value="aaa""#), "the current one: {out}");
        assert!(out.contains("/me/sessions/others"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("192.0.2.7"), "{out}");
        // Alone: nothing to sign out.
        let mut alone = String::new();
        section(&mut alone, &[row("aaa", true)], "tok");
        assert!(!alone.contains("/me/sessions/"), "{alone}");
    }
}
