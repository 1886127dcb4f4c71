//! Sign-in: a wrong password is refused with a clear message, five failures lock the
//! account for a while (429, even with the right password), a deactivated agent cannot
//! sign in and loses the session they had, sign-out ends the session, and the cookie is
//! HttpOnly and SameSite.

use crate::browser::Browser;
use crate::{
    add_agent, daemon, form_encode, http, http_sign_in, olga_two_tickets, post_login, PASSWORD,
};

#[test]
fn wrong_password_deactivation_sign_out_and_cookie_flags() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "carl@acme.test", "Carl Gone");
    let b = Browser::start(&d.http);

    // A wrong password: the form again, with a message, and no session.
    b.open("/login");
    b.fill_login("jane@acme.test", "not the password");
    b.wait_text("p.error", "Wrong email or password.");
    assert!(b.path().starts_with("/login"), "{}", b.path());
    assert!(
        !b.cookies().iter().any(|c| c["name"] == "fd_session"),
        "{:?}",
        b.cookies()
    );
    // The address typed is kept; the password is not echoed.
    assert!(!b.source().contains("not the password"));
    let r = post_login(&d, "jane@acme.test", "still wrong");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("set-cookie").is_none(), "{:?}", r.headers);
    assert!(
        r.text().contains("Wrong email or password."),
        "{}",
        r.text()
    );

    // The right password signs in; the cookie cannot be read by script and stays on site.
    b.fill_login("jane@acme.test", PASSWORD);
    b.wait_path("/inbox");
    let cookie = b
        .cookies()
        .into_iter()
        .find(|c| c["name"] == "fd_session")
        .unwrap_or_else(|| panic!("no fd_session cookie: {:?}", b.cookies()));
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert!(
        matches!(cookie["sameSite"].as_str(), Some("Strict" | "Lax")),
        "{cookie}"
    );
    assert_eq!(
        b.js("return document.cookie;", serde_json::json!([])),
        "",
        "script can read the session cookie"
    );
    let r = post_login(&d, "jane@acme.test", PASSWORD);
    let set = r.header("set-cookie").unwrap_or("").to_string();
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(
        set.contains("SameSite=Strict") || set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http public_url: {set}");

    // Sign out with the header button: the old cookie no longer opens anything.
    let old = format!("fd_session={}", cookie["value"].as_str().unwrap());
    assert_eq!(
        http(&d.http, "GET", "/inbox", &[("Cookie", &old)], b"").status,
        200
    );
    b.click_css("form[action='/logout'] button[type=submit]");
    b.wait_path("/login");
    let r = http(&d.http, "GET", "/inbox", &[("Cookie", &old)], b"");
    assert_eq!(r.status, 303, "old cookie still works after sign-out");
    assert_eq!(r.header("location"), Some("/login?next=%2Finbox"));
    b.open("/inbox");
    b.wait_path("/login");

    // A deactivated agent loses the session they had and cannot sign in again.
    let carl = http_sign_in(&d, "carl@acme.test", PASSWORD);
    assert_eq!(carl.get("/inbox").status, 200);
    d.ctl_json(&["users", "deactivate", "carl@acme.test"]);
    let r = carl.get("/inbox");
    assert_eq!(r.status, 303, "a deactivated agent's session still works");
    let r = post_login(&d, "carl@acme.test", PASSWORD);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("set-cookie").is_none(), "{:?}", r.headers);
    b.open("/login");
    b.fill_login("carl@acme.test", PASSWORD);
    b.wait_text("p.error", "Wrong email or password.");
    assert!(!b.cookies().iter().any(|c| c["name"] == "fd_session"));
    // Back at the desk: reactivated, his password signs him in again.
    let said = d.ctl_json(&["users", "reactivate", "carl@acme.test"]);
    assert!(said.to_string().contains("reactivated"), "{said}");
    assert_eq!(post_login(&d, "carl@acme.test", PASSWORD).status, 303);
    let (code, _, err) = d.ctl(&["users", "reactivate", "nobody@acme.test"]);
    assert_ne!(code, 0);
    assert!(err.contains("no user nobody@acme.test"), "{err}");
}

#[test]
fn five_failures_lock_the_account_even_with_the_right_password() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    for i in 0..5 {
        let r = post_login(&d, "jane@acme.test", &format!("guess {i}"));
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    let r = post_login(&d, "jane@acme.test", PASSWORD);
    assert_eq!(
        r.status,
        429,
        "the right password after five failures: {}",
        r.text()
    );
    assert!(r.header("set-cookie").is_none(), "{:?}", r.headers);
    let text = r.text();
    assert!(
        text.contains("Too many failed sign-ins") && text.contains("minute"),
        "{text}"
    );
    // The browser shows the same message.
    let b = Browser::start(&d.http);
    b.open("/login");
    b.fill_login("jane@acme.test", PASSWORD);
    b.wait_text("p.error", "Too many failed sign-ins");
    assert!(b.path().starts_with("/login"), "{}", b.path());
    assert!(!b.cookies().iter().any(|c| c["name"] == "fd_session"));
    // Upper case and spaces do not get round the lock.
    let r = post_login(&d, " JANE@acme.test ", PASSWORD);
    assert_eq!(r.status, 429, "{}", r.text());
}

/// Five typos by one agent must not lock every other agent out: behind a reverse proxy
/// (or an office NAT) every agent shares one peer address, and the per-address limit is
/// as low as the per-account one.
#[test]
fn one_agents_failures_do_not_lock_out_the_team() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    for i in 0..5 {
        let r = post_login(&d, "jane@acme.test", &format!("guess {i}"));
        assert_eq!(r.status, 401, "failure {i}: {}", r.text());
    }
    assert_eq!(post_login(&d, "jane@acme.test", PASSWORD).status, 429);
    let r = post_login(&d, "bob@acme.test", PASSWORD);
    assert_eq!(
        r.status,
        303,
        "bob (right password, same address) was locked out by jane's typos: {}",
        r.text()
    );
}

/// An open `/events` stream: what it has sent so far.
struct Stream {
    s: std::net::TcpStream,
    seen: String,
    closed: bool,
}

impl Stream {
    fn open(addr: &str, cookie: &str) -> Stream {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            s,
            "GET /events HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .unwrap();
        let mut st = Stream {
            s,
            seen: String::new(),
            closed: false,
        };
        st.read_for(std::time::Duration::from_secs(10), |t| {
            t.contains("\r\n\r\n")
        });
        assert!(st.seen.starts_with("HTTP/1.1 200"), "{}", st.seen);
        st
    }

    /// Read until `done(all text so far)` or `within` passes or the server closes.
    fn read_for(&mut self, within: std::time::Duration, done: impl Fn(&str) -> bool) {
        use std::io::Read;
        let deadline = std::time::Instant::now() + within;
        let mut buf = [0u8; 4096];
        while !done(&self.seen) && !self.closed && std::time::Instant::now() < deadline {
            match self.s.read(&mut buf) {
                Ok(0) => self.closed = true,
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => self.closed = true,
            }
        }
    }

    fn events(&self) -> usize {
        self.seen.matches("event: ticket").count()
    }
}

/// Signing out (or being deactivated) ends the session everywhere: a live event stream
/// opened with it stops delivering ticket activity.
#[test]
fn sign_out_also_ends_the_live_event_stream() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let bob = http_sign_in(&d, "bob@acme.test", PASSWORD);
    let mut js = Stream::open(&d.http, &jane.cookie);
    let mut bs = Stream::open(&d.http, &bob.cookie);
    let second = std::time::Duration::from_secs(1);
    let within = std::time::Duration::from_secs(20);

    // Both streams see a new ticket.
    crate::deliver(
        &d,
        "a@customer.example.org",
        "support@example.com",
        &crate::text_mail("a@customer.example.org", "Before", "before.1@x.org", "one"),
    );
    bs.read_for(within, |t| t.contains("event: ticket"));
    js.read_for(within, |t| t.contains("event: ticket"));
    assert_eq!(
        (bs.events(), js.events()),
        (1, 1),
        "{}\n{}",
        bs.seen,
        js.seen
    );

    // Jane signs out; her old stream must not keep reporting.
    let r = jane.post("/logout", &[("csrf", &jane.csrf)], &[]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(jane.get("/inbox").status, 303);
    crate::deliver(
        &d,
        "b@customer.example.org",
        "support@example.com",
        &crate::text_mail("b@customer.example.org", "After", "after.1@x.org", "two"),
    );
    bs.read_for(within, |t| t.matches("event: ticket").count() >= 2);
    assert_eq!(bs.events(), 2, "{}", bs.seen);
    js.read_for(second, |t| t.matches("event: ticket").count() >= 2);
    assert_eq!(
        js.events(),
        1,
        "the event stream of a signed-out session still reports new tickets (closed: {}):\n{}",
        js.closed,
        js.seen
    );
}

/// A ticket linked from a notification mail, opened without a session: the sign-in
/// page, then that ticket (a wrong password on the way does not lose it). The form
/// goes nowhere but this desk's own pages.
#[test]
fn signing_in_returns_to_the_page_asked_for_and_only_on_this_desk() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, _) = olga_two_tickets(&d, "next");
    let b = Browser::start(&d.http);
    let page = format!("/tickets/{hinge}?images=1");
    b.open(&page);
    b.wait_path("/login?next=");
    b.fill_login("jane@acme.test", "not the password");
    b.wait_text("p.error", "Wrong email or password.");
    b.fill_login("jane@acme.test", PASSWORD);
    b.wait_path(&page);
    b.wait_text("#main h1", "Broken hinge");

    // Another site, or a path that is not one, is not followed: the inbox instead.
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/login",
    ] {
        let body = format!(
            "email=jane%40acme.test&password={}&next={}",
            form_encode(PASSWORD),
            form_encode(next)
        );
        let r = http(
            &d.http,
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        );
        assert_eq!(r.status, 303, "{next}: {}", r.text());
        assert_eq!(r.header("location"), Some("/inbox"), "{next}");
    }
    // Nor is it put in the sign-in form.
    let r = http(
        &d.http,
        "GET",
        &format!("/login?next={}", form_encode("//evil.example/")),
        &[],
        b"",
    );
    assert!(!r.text().contains("evil.example"), "{}", r.text());
}
