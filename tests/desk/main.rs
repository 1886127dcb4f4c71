//! Agents, teams, routing, pipelines and the ticket lifecycle (issue 5), through a real
//! `frontdeskd` per test (the shared harness of `tests/it`), driven by `frontdeskctl`
//! and by Python's `smtplib.LMTP` (`tests/clients/desk_lmtp.py`).
//!
//! Routing that names users or teams is refused until they exist in the store, so every
//! test starts its daemon without routing, adds its people with `frontdeskctl`, then
//! rewrites the config with routing and reloads ([`enable`]).
//!
//! - [`end_to_end`]: three channels with their own pipeline, status, priority, tags and
//!   routing mode (users_and_teams, contact_owner with fallback, nobody); the owner the
//!   rules pick and the event log's who and why; a reload naming unknown users or teams
//!   is refused and changes nothing; a start naming them exits 78.
//! - [`balance`]: 300 tickets over 3 eligible agents end 100/100/100; away, seatless and
//!   deactivated agents get none, at once; coming back, the fewest-open rule catches up.
//! - [`lifecycle`]: agent reply → agent-reply stage, close, customer reply → reopen
//!   stage with the same owner, on the default and a custom pipeline; the actors.
//! - [`bad_input`]: every refused ctl command changes nothing; config errors in
//!   pipelines and channel ticket/routing tables give exit 78 with file:line:key.
//! - [`rules`]: `[[rule]]` gives a new ticket a priority, tags, a team or an owner by
//!   its first mail's sender, subject and text; the history says which rule did what.
//! - [`users`]: names, duplicates, Argon2id passwords from stdin, deactivation.
//! - [`findings`]: behaviour found wrong while writing these tests (fails until fixed).
//!
//! No fixed ports, no sleeps as synchronisation.

#[allow(dead_code)]
#[path = "../it/harness.rs"]
mod harness;

mod bad_input;
mod balance;
mod end_to_end;
mod findings;
mod lifecycle;
mod rules;
mod users;

use serde_json::{json, Value};

use harness::{Daemon, Settings};

/// Start a daemon whose config holds `extra` (pipelines, channels, ...) after `[lmtp]`.
pub fn start(extra: &str) -> Daemon {
    Daemon::start_with(Settings {
        channels: extra.to_string(),
        ..Settings::default()
    })
}

/// Rewrite the config with `extra` (the daemon sees it on reload).
pub fn rewrite(d: &Daemon, extra: &str) {
    d.write_config(&Settings {
        channels: extra.to_string(),
        ..Settings::default()
    });
}

/// Rewrite the config with `extra` and `frontdeskctl reload`, which must succeed.
pub fn enable(d: &Daemon, extra: &str) {
    rewrite(d, extra);
    let (code, out, err) = d.ctl(&["reload"]);
    assert_eq!(code, 0, "reload refused ({code}):\n{err}\n{out}");
}

/// `frontdeskctl ARGS`, which must succeed; its stdout.
pub fn ok(d: &Daemon, args: &[&str]) -> String {
    let (code, out, err) = d.ctl(args);
    assert_eq!(
        code, 0,
        "frontdeskctl {args:?} failed ({code}):\n{err}\n{out}"
    );
    out
}

/// `frontdeskctl ARGS`, which must fail; (exit code, stderr).
pub fn refused(d: &Daemon, args: &[&str]) -> (i32, String) {
    let (code, out, err) = d.ctl(args);
    assert_ne!(code, 0, "frontdeskctl {args:?} succeeded:\n{out}");
    (code, err)
}

/// `users add EMAIL --name NAME [--seat]`.
pub fn add_user(d: &Daemon, email: &str, name: &str, seat: bool) {
    let mut args = vec!["users", "add", email, "--name", name];
    if seat {
        args.push("--seat");
    }
    ok(d, &args);
}

/// A customer's plain-text message (LF line ends; the client makes them CRLF).
pub fn mail(from: &str, to: &str, subject: &str, message_id: &str, in_reply_to: &str) -> String {
    let mut s = format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nDate: Tue, 4 Mar 2025 10:00:00 +0000\nMessage-ID: <{message_id}>\n"
    );
    if !in_reply_to.is_empty() {
        s.push_str(&format!(
            "In-Reply-To: <{in_reply_to}>\nReferences: <{in_reply_to}>\n"
        ));
    }
    s.push_str(
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello,\n\nplease help.\n",
    );
    s
}

/// One message to deliver: envelope sender, recipient, text.
pub struct Delivery {
    pub mail_from: String,
    pub rcpt: String,
    pub data: String,
}

impl Delivery {
    /// A new message from `from` to `to`.
    pub fn new(from: &str, to: &str, subject: &str, message_id: &str) -> Delivery {
        Delivery {
            mail_from: from.into(),
            rcpt: to.into(),
            data: mail(from, to, subject, message_id, ""),
        }
    }

    /// A reply from `from` to `to`, In-Reply-To `parent`.
    pub fn reply(from: &str, to: &str, subject: &str, message_id: &str, parent: &str) -> Delivery {
        Delivery {
            mail_from: from.into(),
            rcpt: to.into(),
            data: mail(from, to, subject, message_id, parent),
        }
    }
}

/// Deliver `messages` in order over one LMTP session; every DATA must get 250.
pub fn deliver(d: &Daemon, messages: &[Delivery]) {
    let list: Vec<Value> = messages
        .iter()
        .map(|m| json!({"mail_from": m.mail_from, "rcpt": m.rcpt, "data": m.data}))
        .collect();
    let file = tempfile::NamedTempFile::new_in(d.dir.path()).expect("temp file");
    std::fs::write(file.path(), Value::Array(list).to_string()).expect("write messages");
    let v = d.lmtp_client("desk_lmtp.py", &[file.path().to_str().expect("utf-8 path")]);
    let replies = v.as_array().expect("list of replies");
    assert_eq!(replies.len(), messages.len(), "{v}");
    for (m, r) in messages.iter().zip(replies) {
        assert_eq!(r[0], 250, "delivery to {} refused: {r}", m.rcpt);
    }
}

/// `tickets list --json --limit 1000`.
pub fn tickets(d: &Daemon) -> Vec<Value> {
    d.ctl_json(&["tickets", "list", "--limit", "1000"])["tickets"]
        .as_array()
        .expect("tickets array")
        .clone()
}

/// The one ticket (as `tickets show`) whose subject is `subject`.
pub fn ticket_by_subject(d: &Daemon, subject: &str) -> Value {
    let found: Vec<i64> = tickets(d)
        .iter()
        .filter(|t| t["subject"] == subject)
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        found.len(),
        1,
        "tickets with subject {subject:?}: {found:?}"
    );
    d.ticket(found[0])
}

/// The events of a ticket as (kind, actor, detail).
pub fn events(detail: &Value) -> Vec<(String, String, String)> {
    detail["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {detail:#}"))
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap_or("").to_string(),
                e["actor"].as_str().unwrap_or("").to_string(),
                e["detail"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The one event of `kind` whose detail contains `needle`; fails listing them all.
pub fn event_with(detail: &Value, kind: &str, needle: &str) -> (String, String, String) {
    let all = events(detail);
    let found: Vec<_> = all
        .iter()
        .filter(|(k, _, d)| k == kind && d.contains(needle))
        .cloned()
        .collect();
    assert_eq!(
        found.len(),
        1,
        "want one {kind:?} event containing {needle:?} in ticket #{}: {all:#?}",
        detail["id"]
    );
    found[0].clone()
}

/// `users list --json`: the user with this address.
pub fn user(d: &Daemon, email: &str) -> Value {
    d.ctl_json(&["users", "list"])["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["email"] == email)
        .cloned()
        .unwrap_or_else(|| panic!("no user {email}"))
}
