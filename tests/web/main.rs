//! The agent web page (issue 6) in a real browser: headless Chromium from Debian
//! (`chromium`, `chromium-driver`) driven over W3C WebDriver ([`browser`]) against a
//! `frontdeskd` per test (the shared harness of `tests/it`), with mail arriving over LMTP
//! and replies leaving through the aiosmtpd receiver of `tests/outbound`.
//!
//! - [`agent_flow`]: sign in, inbox, open a ticket that came over LMTP, reply (From name,
//!   signature, In-Reply-To at the SMTP receiver), assign and change status in the side
//!   panel; `frontdeskctl tickets show` agrees.
//! - [`live`]: a new mail shows in an open inbox without a reload; two agents on one
//!   ticket see each other viewing and replying.
//! - [`safety`]: hostile HTML runs nothing and loads nothing until "Load images";
//!   security headers; attachments as downloads; CSRF; every agent route needs a session.
//! - [`signin`]: wrong password, lock-out after five failures, deactivated agents,
//!   sign-out, cookie flags.
//! - [`search`]: the search box finds a body word (marked in the snippet) and an address.
//! - [`freshness`]: kept pages never outlive a write, and never cross sessions.
//! - [`uploads`]: replies with files as multipart/form-data; missing CSRF, broken or
//!   oversized uploads are refused and queue nothing.
//!
//! Needs `DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver` and
//! python3 with aiosmtpd. No fixed ports, no sleeps as synchronisation.

#[allow(dead_code)]
#[path = "../it/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../outbound/receiver.rs"]
mod receiver;

#[allow(dead_code)]
mod browser;
#[allow(dead_code)]
mod tracker;
#[allow(dead_code)]
mod wire;

mod a11y;
mod account;
mod agent_flow;
mod agents;
mod auto_close;
mod bulk;
mod connection;
mod contact_edit;
mod copies;
mod customers;
mod delivery;
mod drafts;
mod erase;
mod forward;
mod freshness;
mod inbox;
mod keyboard;
mod live;
mod long_thread;
mod macros;
mod mentions;
mod merge;
mod narrow;
mod new_ticket;
mod note_edits;
mod notify;
mod original;
mod paste;
mod ratings;
mod rename;
mod reports;
mod required_fields;
mod safety;
mod saved_views;
mod search;
mod send_close;
mod signature;
mod signin;
mod sla;
mod snippets;
mod snooze;
mod spam;
mod split;
mod tags;
mod thread;
mod ticket_fields;
mod tls_sessions;
mod two_step;
mod undo;
mod unread;
mod uploads;

use std::time::{Duration, Instant};

use serde_json::Value;

use harness::{Daemon, RawLmtp, Settings};

/// One `support@example.com` channel with a signature (From name: agent at company).
pub const SUPPORT: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
signature = "-- \n{{agent.full_name}}\nAcme Support Team"
"#;

/// The password every test agent gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A daemon on [`SUPPORT`]; with `[smtp]` pointing at `relay_port` when given.
pub fn daemon(relay_port: Option<u16>) -> Daemon {
    let channels = match relay_port {
        Some(port) => relaying(port, "", SUPPORT),
        None => SUPPORT.to_string(),
    };
    Daemon::start_with(Settings {
        channels,
        ..Settings::default()
    })
}

/// Config text: `[smtp]` to the receiver on `port` plus `smtp_lines`, then `rest` (the
/// channels and any other tables).
pub fn relaying(port: u16, smtp_lines: &str, rest: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nhello_name = \"frontdesk.test\"\n{smtp_lines}\n{rest}"
    )
}

/// `[notifications]` mailed at once from `desk-noreply@acme.test`, then `rest`.
pub fn notifying_at_once(rest: &str) -> String {
    format!("[notifications]\nfrom = \"desk-noreply@acme.test\"\ndelay_seconds = 0\n\n{rest}")
}

/// `users add EMAIL --name NAME --seat` and `users passwd EMAIL` ([`PASSWORD`] on stdin).
pub fn add_agent(d: &Daemon, email: &str, name: &str) {
    d.ctl_json(&["users", "add", email, "--name", name, "--seat"]);
    let (code, out, err) = d.ctl_stdin(
        &["users", "passwd", email],
        Some(format!("{PASSWORD}\n").as_bytes()),
    );
    assert_eq!(code, 0, "users passwd {email} failed: {err}\n{out}");
}

/// Deliver `raw` over LMTP (MAIL FROM `from`, RCPT `rcpt`); DATA must answer 250.
pub fn deliver(d: &Daemon, from: &str, rcpt: &str, raw: &[u8]) {
    let mut c = RawLmtp::connect(&d.lmtp);
    c.expect(220);
    c.send(b"LHLO mx.example.org\r\n");
    c.expect(250);
    c.send(format!("MAIL FROM:<{from}>\r\n").as_bytes());
    c.expect(250);
    c.send(format!("RCPT TO:<{rcpt}>\r\n").as_bytes());
    c.expect(250);
    c.send(b"DATA\r\n");
    c.expect(354);
    let mut data = Vec::with_capacity(raw.len() + 8);
    for line in raw.split_inclusive(|b| *b == b'\n') {
        if line.first() == Some(&b'.') {
            data.push(b'.');
        }
        data.extend_from_slice(line);
    }
    if !data.ends_with(b"\r\n") {
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    c.send(&data);
    let text = c.expect(250);
    assert!(text.starts_with("250"), "{text}");
    c.send(b"QUIT\r\n");
}

/// Olga's two tickets, "Broken hinge" then "Invoice copy" (Message-IDs `{tag}.1@...`
/// and `{tag}.2@...`): their numbers.
pub fn olga_two_tickets(d: &Daemon, tag: &str) -> (i64, i64) {
    for (n, subject) in [(1, "Broken hinge"), (2, "Invoice copy")] {
        deliver(
            d,
            "olga@customer.example.org",
            "support@example.com",
            &text_mail(
                "Olga <olga@customer.example.org>",
                subject,
                &format!("{tag}.{n}@customer.example.org"),
                "Hello.",
            ),
        );
    }
    (ticket_id(d, "Broken hinge"), ticket_id(d, "Invoice copy"))
}

/// Olga writes again about the hinge (`{tag}.3@...`, in reply to `{tag}.1@...`).
pub fn olga_asks_about_the_hinge(d: &Daemon, tag: &str) {
    deliver(
        d,
        "olga@customer.example.org",
        "support@example.com",
        &text_mail_with(
            "Olga <olga@customer.example.org>",
            "Re: Broken hinge",
            &format!("{tag}.3@customer.example.org"),
            "Any news?",
            &format!("In-Reply-To: <{tag}.1@customer.example.org>\r\n"),
        ),
    );
}

/// A plain-text customer mail, CRLF.
pub fn text_mail(from: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@example.com\r\nSubject: {subject}\r\n\
         Date: Tue, 4 Mar 2025 10:00:00 +0000\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// [`text_mail`] with more header lines (each ending in CRLF), such as
/// `In-Reply-To: <id>\r\n`.
pub fn text_mail_with(
    from: &str,
    subject: &str,
    message_id: &str,
    body: &str,
    extra_headers: &str,
) -> Vec<u8> {
    let mail = String::from_utf8(text_mail(from, subject, message_id, body)).expect("UTF-8");
    mail.replacen("MIME-Version:", &format!("{extra_headers}MIME-Version:"), 1)
        .into_bytes()
}

/// `from` writes "Hello." to support under `subject` (Message-ID `message_id`): the
/// ticket it opens.
pub fn mail_to_support(d: &Daemon, from: &str, subject: &str, message_id: &str) -> i64 {
    deliver(
        d,
        from,
        "support@example.com",
        &text_mail(from, subject, message_id, "Hello."),
    );
    ticket_id(d, subject)
}

/// The id of the one ticket with this subject (waits for it to be listed).
pub fn ticket_id(d: &Daemon, subject: &str) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found: Vec<i64> = d
            .tickets()
            .iter()
            .filter(|t| t["subject"] == subject)
            .filter_map(|t| t["id"].as_i64())
            .collect();
        if found.len() == 1 {
            return found[0];
        }
        assert!(
            found.len() < 2,
            "{} tickets with subject {subject:?}",
            found.len()
        );
        assert!(
            Instant::now() < deadline,
            "no ticket {subject:?}: {:?}",
            d.tickets()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A signed-in plain HTTP client: the session cookie and the page's CSRF token.
pub struct Agent {
    /// `host:port` of the daemon's HTTP listener.
    pub addr: String,
    /// `fd_session=...`.
    pub cookie: String,
    /// The CSRF token from `data-csrf`.
    pub csrf: String,
}

/// Sign in with a plain HTTP POST; fails unless it answers 303 with a cookie.
pub fn http_sign_in(d: &Daemon, email: &str, password: &str) -> Agent {
    let r = post_login(d, email, password);
    assert_eq!(r.status, 303, "sign-in as {email}: {}", r.text());
    signed_in_by(d, &r, "/inbox")
}

/// The agent a sign-in's answer `r` (303 with a cookie) made, with the CSRF token of
/// `page`.
pub fn signed_in_by(d: &Daemon, r: &wire::Response, page: &str) -> Agent {
    let set = r.header("set-cookie").expect("Set-Cookie on sign-in");
    let cookie = set.split(';').next().unwrap().trim().to_string();
    let mut a = Agent {
        addr: d.http.clone(),
        cookie,
        csrf: String::new(),
    };
    let shown = a.get(page);
    assert_eq!(shown.status, 200, "{}", shown.text());
    a.csrf = attribute(&shown.text(), "data-csrf=\"").expect("data-csrf on the page");
    a
}

/// `POST /login` as a form; the answer.
pub fn post_login(d: &Daemon, email: &str, password: &str) -> wire::Response {
    let body = format!(
        "email={}&password={}",
        form_encode(email),
        form_encode(password)
    );
    http(
        &d.http,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

/// One request to the daemon with a 20 s read timeout.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> wire::Response {
    wire::request(addr, method, path, headers, body, Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

impl Agent {
    /// GET with the session cookie.
    pub fn get(&self, path: &str) -> wire::Response {
        http(&self.addr, "GET", path, &[("Cookie", &self.cookie)], b"")
    }

    /// POST a form with the session cookie (the caller decides about `csrf`).
    pub fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> wire::Response {
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        let mut headers = vec![
            ("Cookie", self.cookie.as_str()),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        headers.extend_from_slice(extra);
        http(
            &self.addr,
            "POST",
            path,
            &headers,
            body.join("&").as_bytes(),
        )
    }
}

/// The answer sends a visitor without a session to sign in: for a page, then back to
/// `asked` (`/login?next=...`).
pub fn sends_to_login(r: &wire::Response, asked: &str) -> bool {
    let back = format!("/login?next={}", form_encode(asked));
    r.status == 303
        && (r.header("location") == Some("/login") || r.header("location") == Some(back.as_str()))
}

/// `application/x-www-form-urlencoded` for one value.
pub fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ticket numbers of an inbox page's rows, top to bottom.
pub fn inbox_rows(html: &str) -> Vec<i64> {
    html.split(r#"<tr class="ticket"#)
        .skip(1)
        .filter_map(|row| attribute(row, r#"data-ticket=""#)?.parse().ok())
        .collect()
}

/// The ticket numbers of a view's rows and the number on its tab.
pub fn inbox_view(agent: &Agent, name: &str) -> (Vec<i64>, i64) {
    let page = agent.get(&format!("/inbox?view={name}")).text();
    let ids = inbox_rows(&page);
    let tab = format!(r#"href="/inbox?view={name}""#);
    let at = page.find(&tab).expect("the view's tab");
    let count = attribute(&page[at..], r#"class="count">"#)
        .and_then(|n| n.split('<').next()?.parse().ok())
        .expect("the tab's count");
    (ids, count)
}

/// The value after `prefix` up to the next `"`.
pub fn attribute(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// `tickets show ID --json`.
pub fn show(d: &Daemon, id: i64) -> Value {
    d.ticket(id)
}

/// The text/plain part of a mail as `smtp_inspect.py` describes it ("" when none).
pub fn plain_text(mail: &Value) -> String {
    mail["parts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["type"] == "text/plain"))
        .and_then(|p| p["text"].as_str())
        .unwrap_or("")
        .to_string()
}

/// A `tickets show` answer's history, one event's words a line.
pub fn history(ticket: &Value) -> String {
    ticket["events"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["detail"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// `frontdeskctl tickets reply ID --as jane@acme.test` and `more`, with `body` on stdin;
/// it must be accepted.
pub fn jane_replies(d: &Daemon, id: i64, more: &[&str], body: &str) {
    let id = id.to_string();
    let args: Vec<&str> = ["tickets", "reply", &id, "--as", "jane@acme.test"]
        .iter()
        .chain(more)
        .copied()
        .collect();
    let (code, out, err) = d.ctl_stdin(&args, Some(body.as_bytes()));
    assert_eq!(code, 0, "{args:?}: {err}{out}");
}

/// `tickets open --as jane@acme.test --to TO --subject SUBJECT` with `body` on stdin:
/// Jane writes to a customer first. Fails unless it succeeds.
pub fn jane_writes_first(d: &Daemon, to: &str, subject: &str, body: &str) {
    let args = [
        "tickets",
        "open",
        "--as",
        "jane@acme.test",
        "--to",
        to,
        "--subject",
        subject,
    ];
    let (code, out, err) = d.ctl_stdin(&args, Some(body.as_bytes()));
    assert_eq!(code, 0, "{args:?}: {err}{out}");
}

/// The message rows of a `tickets show` answer with this direction, oldest first.
pub fn message_rows(ticket: &Value, direction: &str) -> Vec<i64> {
    ticket["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["direction"] == direction)
                .filter_map(|m| m["id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

/// The replies (outbound messages) of a `tickets show` answer.
pub fn outbound_messages(ticket: &Value) -> Vec<&Value> {
    ticket["messages"]
        .as_array()
        .map(|m| m.iter().filter(|m| m["direction"] == "outbound").collect())
        .unwrap_or_default()
}

/// The number of ticket `id`'s customer, from the link on its panel.
pub fn customer_of(b: &browser::Browser, id: i64) -> i64 {
    b.open(&format!("/tickets/{id}"));
    b.wait_find("aside.side a.customer-link");
    let href = b.js(
        "return document.querySelector('aside.side a.customer-link').getAttribute('href');",
        serde_json::json!([]),
    );
    href.as_str()
        .and_then(|h| h.strip_prefix("/customers/"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no customer link: {href}"))
}
