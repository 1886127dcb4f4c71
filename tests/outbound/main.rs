//! Replies by SMTP (issue 4) against real servers on loopback, started by the tests:
//! a `frontdeskd` per test (the shared harness of `tests/it`, with an `[smtp]` table in
//! its config), an aiosmtpd receiver (`tests/clients/smtp_receiver.py`, [`receiver`])
//! and, for the end-to-end test, Dovecot as the customer's mailbox ([`dovecot`]).
//! Received mail is read the way a client reads it, with Python's email package
//! (`tests/clients/smtp_inspect.py`) and imaplib (`tests/clients/smtp_imap_fetch.py`).
//!
//! - [`headers`]: From name modes, Reply-To token, Message-ID, In-Reply-To, References,
//!   subject tag, multipart/alternative with the signature, attachments, Cc, VERP
//!   envelope; quotes, non-ASCII (RFC 2047) and HTML metacharacters.
//! - [`end_to_end`]: customer mail over LMTP, agent reply, Dovecot mailbox, IMAP, and
//!   the customer's answers (header loss) threading back.
//! - [`relay`]: relay down / 4xx (queued, retried once, across SIGKILL and SIGTERM), 5xx
//!   (failed, note, never retried).
//! - [`bounces`]: DSNs to the VERP address and to the plain address.
//! - [`loops`]: acknowledgements and Invariant 3; a storm of 100.
//! - [`ctl`]: notes are never mailed, `outbox cancel`, unknown agents.
//!
//! Needs python3 with aiosmtpd (`pip install aiosmtpd`) and Dovecot
//! (`apt-get install -y dovecot-imapd dovecot-lmtpd`). No fixed ports, no sleeps as
//! synchronisation: every wait polls with a deadline.

#[allow(dead_code)]
#[path = "../it/harness.rs"]
mod harness;

#[allow(dead_code)]
#[path = "../imap/dovecot.rs"]
mod dovecot;
mod receiver;

mod bounces;
mod ctl;
mod end_to_end;
mod headers;
mod loops;
mod relay;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use harness::{Daemon, Settings};
use receiver::Receiver;

/// How long mail may take to get through the outbox worker to the receiver.
pub const MAIL_DEADLINE: Duration = Duration::from_secs(30);

/// `[smtp]` pointing at the receiver's port, then `channels`.
pub fn config_with_relay(port: u16, channels: &str) -> String {
    format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nhello_name = \"frontdesk.test\"\n\n{channels}"
    )
}

/// A daemon sending through `rx` with these `[[channel]]` tables.
pub fn daemon(rx: &Receiver, channels: &str) -> Daemon {
    Daemon::start_with(Settings {
        channels: config_with_relay(rx.port, channels),
        ..Settings::default()
    })
}

/// One plain `support@example.com` channel.
pub const SUPPORT: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

/// `users add EMAIL --name NAME`.
pub fn add_user(d: &Daemon, email: &str, name: &str) {
    d.ctl_json(&["users", "add", email, "--name", name]);
}

/// Deliver `raw` over LMTP with this envelope; the reply code to DATA.
pub fn lmtp(d: &Daemon, mail_from: &str, rcpt: &str, raw: &[u8]) -> i64 {
    let file = tempfile::NamedTempFile::new_in(d.dir.path()).expect("temp file");
    std::fs::write(file.path(), raw).expect("write message");
    let steps = json!([
        ["lhlo", "mx.example.org"],
        ["mail", mail_from],
        ["rcpt", rcpt],
        ["data", file.path().to_str().unwrap(), 1],
        ["quit"]
    ]);
    let r = d.lmtp_session(&steps);
    assert_eq!(r[3][0].0, 250, "RCPT {rcpt}: {r:?}");
    let code = r[4][0].0;
    assert_eq!(code, 250, "DATA to {rcpt}: {r:?}");
    code
}

/// A customer's message, CRLF.
pub fn customer_mail(
    from: &str,
    to: &str,
    subject: &str,
    message_id: &str,
    extra_headers: &str,
    body: &str,
) -> Vec<u8> {
    let mut s = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: Tue, 4 Mar 2025 10:00:00 +0000\r\n"
    );
    if !message_id.is_empty() {
        s.push_str(&format!("Message-ID: <{message_id}>\r\n"));
    }
    s.push_str(extra_headers);
    s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
    s.push_str(body);
    s.into_bytes()
}

/// Ticket of the single message with `message_id` (from `tickets list` + show).
pub fn ticket_of(d: &Daemon, message_id: &str) -> i64 {
    for t in d.tickets() {
        let id = t["id"].as_i64().unwrap();
        let detail = d.ticket(id);
        if detail["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["message_id"] == message_id)
        {
            return id;
        }
    }
    panic!("no ticket holds <{message_id}>: {:?}", d.tickets());
}

/// A message of a ticket by Message-ID.
pub fn message_in(detail: &Value, message_id: &str) -> Value {
    detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_id"] == message_id)
        .cloned()
        .unwrap_or_else(|| panic!("no <{message_id}> in ticket: {detail:#}"))
}

/// `tickets reply ID --as AGENT` with `body` on stdin plus `extra` args; the outbox id.
pub fn reply(d: &Daemon, ticket: i64, agent: &str, body: &str, extra: &[&str]) -> i64 {
    let t = ticket.to_string();
    let mut args = vec!["--json", "tickets", "reply", &t, "--as", agent];
    args.extend_from_slice(extra);
    let (code, out, err) = d.ctl_stdin(&args, Some(body.as_bytes()));
    assert_eq!(code, 0, "tickets reply failed ({code}): {err}\n{out}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no outbox id in {v}"))
}

/// `outbox list --json` (all statuses).
pub fn outbox(d: &Daemon) -> Vec<Value> {
    d.ctl_json(&["outbox", "list", "--limit", "10000"])["outbox"]
        .as_array()
        .expect("outbox array")
        .clone()
}

/// One outbox entry.
pub fn outbox_entry(d: &Daemon, id: i64) -> Value {
    outbox(d)
        .into_iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("no outbox entry {id}: {:?}", outbox(d)))
}

/// Poll outbox entry `id` until `cond` holds; the entry.
pub fn wait_entry(d: &Daemon, id: i64, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + MAIL_DEADLINE;
    loop {
        let e = outbox_entry(d, id);
        if cond(&e) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "outbox entry {id} not {what} within {MAIL_DEADLINE:?}: {e:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Poll until no outbox entry is queued (every queued mail was tried and recorded).
pub fn wait_outbox_idle(d: &Daemon) {
    let deadline = Instant::now() + MAIL_DEADLINE;
    loop {
        let queued: Vec<Value> = outbox(d)
            .into_iter()
            .filter(|o| o["status"] == "queued")
            .collect();
        if queued.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "outbox still has queued entries after {MAIL_DEADLINE:?}: {queued:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Read messages with Python's email package (see `tests/clients/smtp_inspect.py`).
pub fn inspect(paths: &[&str]) -> Vec<Value> {
    harness::python("smtp_inspect.py", paths)
        .as_array()
        .expect("list")
        .clone()
}

/// The one decoded value of header `name` (lower case) in an inspected message.
pub fn header(m: &Value, name: &str) -> String {
    let all = m["headers"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no {name} header in {:#}", m["raw_headers"]));
    assert_eq!(all.len(), 1, "{name} more than once: {all:?}");
    all[0].as_str().unwrap().to_string()
}

/// The raw (on the wire) value of header `name`, case-insensitive.
pub fn raw_header(m: &Value, name: &str) -> String {
    m["raw_headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no raw {name} in {:#}", m["raw_headers"]))
}

/// Messages of a ticket with this direction.
pub fn messages_with(detail: &Value, direction: &str) -> Vec<Value> {
    detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == direction)
        .cloned()
        .collect()
}
