//! The durable outbox against a relay that is down, answers 4xx, or answers 5xx.
//!
//! The worker's first retry is 60 s away, so the tests force the next attempt with
//! `frontdeskctl outbox retry ID` instead of waiting, and force extra worker rounds by
//! queuing another reply and waiting until it is delivered.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::Daemon;
use crate::receiver::Receiver;
use crate::{
    add_user, customer_mail, daemon, lmtp, messages_with, outbox, outbox_entry, reply, ticket_of,
    wait_entry, MAIL_DEADLINE, SUPPORT,
};

/// A customer writes; the ticket.
fn customer(d: &Daemon, who: &str, mid: &str) -> i64 {
    lmtp(
        d,
        who,
        "support@example.com",
        &customer_mail(
            &format!("Customer <{who}>"),
            "support@example.com",
            &format!("Question {mid}"),
            mid,
            "",
            "Hello?\r\n",
        ),
    );
    ticket_of(d, mid)
}

/// Queued, tried at least once, with the failure recorded.
fn deferred(e: &Value) -> bool {
    e["status"] == "queued"
        && e["attempts"].as_i64().unwrap_or(0) >= 1
        && !e["last_error"].is_null()
}

/// The Message-ID frontdesk gave outbox entry `id`'s message (from `tickets show`).
fn reply_message_id(d: &Daemon, ticket: i64, nth: usize) -> String {
    let out = messages_with(&d.ticket(ticket), "outbound");
    out[nth]["message_id"]
        .as_str()
        .expect("message_id")
        .to_string()
}

/// Queue a reply on a second ticket and wait until the receiver has it: a full worker
/// round passed after everything before it.
fn barrier(d: &Daemon, rx: &Receiver, tag: &str) {
    let ticket = customer(
        d,
        "barrier@example.org",
        &format!("barrier-{tag}@example.org"),
    );
    let id = reply(
        d,
        ticket,
        "jane@acme.test",
        &format!("barrier {tag}\n"),
        &[],
    );
    wait_entry(d, id, "sent (barrier)", |e| e["status"] == "sent");
    rx.wait_for(&format!("barrier {tag}"), 1, MAIL_DEADLINE);
}

#[test]
fn relay_down_then_up_delivers_exactly_once() {
    let mut rx = Receiver::start();
    rx.stop();
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let ticket = customer(&d, "down@example.org", "down1@example.org");
    let id = reply(
        &d,
        ticket,
        "jane@acme.test",
        "While the relay sleeps.\n",
        &[],
    );
    let e = wait_entry(&d, id, "deferred", deferred);
    assert!(
        e["last_error"]
            .as_str()
            .unwrap()
            .contains(&rx.port.to_string()),
        "last_error does not name the relay: {e:#}"
    );
    assert!(!e["next_attempt_at"].is_null(), "{e:#}");
    // Human output says the same.
    let (code, out, _) = d.ctl(&["outbox", "list", "--status", "queued"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("queued") && out.contains("last error"),
        "{out}"
    );

    rx.resume();
    d.ctl_json(&["outbox", "retry", &id.to_string()]);
    let e = wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    assert!(e["last_error"].is_null(), "{e:#}");
    let mid = reply_message_id(&d, ticket, 0);
    rx.wait_for(&format!("<{mid}>"), 1, MAIL_DEADLINE);
    barrier(&d, &rx, "a");
    barrier(&d, &rx, "b");
    assert_eq!(
        rx.matching(&format!("Message-ID: <{mid}>")).len(),
        1,
        "the reply arrived more than once"
    );
    // Retrying a sent entry is refused, and sends nothing.
    let (code, _, err) = d.ctl(&["outbox", "retry", &id.to_string()]);
    assert_ne!(code, 0, "retry of a sent entry succeeded");
    assert!(err.contains("already sent"), "{err}");
}

#[test]
fn temporary_4xx_is_retried_and_delivered_once() {
    let rx = Receiver::start();
    rx.set_rules(&json!({"rcpt": {"later@example.org": "451 4.7.1 Greylisted, try again later"}}));
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let ticket = customer(&d, "later@example.org", "later1@example.org");
    let id = reply(&d, ticket, "jane@acme.test", "Greylisted reply.\n", &[]);
    let e = wait_entry(&d, id, "deferred", deferred);
    let err = e["last_error"].as_str().unwrap();
    assert!(err.contains("451") && err.contains("Greylisted"), "{e:#}");
    assert_eq!(rx.attempts_for("rcpt", "later@example.org"), 1);
    assert!(rx.messages().is_empty());
    rx.set_rules(&json!({}));
    d.ctl_json(&["outbox", "retry", &id.to_string()]);
    let e = wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    assert_eq!(e["attempts"], 2, "{e:#}");
    barrier(&d, &rx, "x");
    assert_eq!(rx.matching("Greylisted reply.").len(), 1);
    assert_eq!(rx.attempts_for("rcpt", "later@example.org"), 2);
}

fn restart_case(stop: &str) {
    let mut rx = Receiver::start();
    rx.stop();
    let mut d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let t1 = customer(&d, "r1@example.org", "r1@example.org");
    let t2 = customer(&d, "r2@example.org", "r2@example.org");
    // One entry tried and deferred, one queued right before the stop.
    let id1 = reply(&d, t1, "jane@acme.test", "Survives a restart (1).\n", &[]);
    wait_entry(&d, id1, "deferred", deferred);
    let id2 = reply(&d, t2, "jane@acme.test", "Survives a restart (2).\n", &[]);
    match stop {
        "SIGKILL" => d.crash(),
        "SIGTERM" => {
            d.signal(libc::SIGTERM);
            let status = d.wait_exit(Duration::from_secs(30));
            assert!(status.success(), "SIGTERM exit: {status}");
        }
        other => unreachable!("{other}"),
    }
    d.restart();
    for id in [id1, id2] {
        let e = outbox_entry(&d, id);
        assert_eq!(e["status"], "queued", "entry {id} after {stop}: {e:#}");
    }
    // The relay is still down after the restart: the entries stay queued.
    for id in [id1, id2] {
        d.ctl_json(&["outbox", "retry", &id.to_string()]);
    }
    for id in [id1, id2] {
        wait_entry(&d, id, "deferred after restart", |e| {
            e["status"] == "queued" && e["attempts"].as_i64().unwrap_or(0) >= 2
        });
    }
    rx.resume();
    for id in [id1, id2] {
        d.ctl_json(&["outbox", "retry", &id.to_string()]);
    }
    for id in [id1, id2] {
        wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    }
    barrier(&d, &rx, "r");
    for text in ["Survives a restart (1).", "Survives a restart (2)."] {
        assert_eq!(
            rx.matching(text).len(),
            1,
            "{text:?} after {stop}: not exactly one copy"
        );
    }
    assert_eq!(rx.messages().len(), 3, "{:?}", outbox(&d));
}

#[test]
fn queue_survives_sigkill() {
    restart_case("SIGKILL");
}

#[test]
fn queue_survives_sigterm() {
    restart_case("SIGTERM");
}

/// Every MAIL FROM the receiver saw came with the rest of the envelope already sent
/// (pipelined), or none did.
fn assert_envelopes_pipelined(rx: &Receiver, pipelined: bool) {
    let mails: Vec<Value> = rx
        .attempts()
        .into_iter()
        .filter(|a| a["stage"] == "mail")
        .collect();
    assert!(!mails.is_empty(), "no MAIL FROM was seen");
    assert!(
        mails.iter().all(|a| a["pipelined"] == pipelined),
        "expected every envelope {}pipelined: {mails:#?}",
        if pipelined { "" } else { "not " }
    );
}

#[test]
fn permanent_5xx_fails_with_a_note_and_is_never_retried() {
    permanent_5xx_case(Receiver::start());
}

#[test]
fn permanent_5xx_without_pipelining() {
    permanent_5xx_case(Receiver::start_without_pipelining());
}

fn permanent_5xx_case(rx: Receiver) {
    let rcpt_words = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown";
    let data_words = "554 5.7.1 Message refused: content policy";
    rx.set_rules(&json!({
        "rcpt": {"gone@example.org": rcpt_words},
        "data": {"policy@example.org": data_words},
    }));
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    for (who, words, stage) in [
        ("gone@example.org", rcpt_words, "rcpt"),
        ("policy@example.org", data_words, "data"),
    ] {
        let ticket = customer(&d, who, &format!("q-{who}"));
        let id = reply(&d, ticket, "jane@acme.test", "This will not arrive.\n", &[]);
        let e = wait_entry(&d, id, "failed", |e| e["status"] != "queued");
        assert_eq!(e["status"], "failed", "{who}: {e:#}");
        let err = e["last_error"].as_str().unwrap_or("");
        // The server's words, not a paraphrase (mail-send keeps the text after the code).
        let detail = words.split_once(' ').unwrap().1;
        let detail = detail.split_once(' ').unwrap().1;
        assert!(
            err.contains(&words[..3]) && err.contains(detail),
            "{who}: last_error {err:?} lacks the server's words {words:?}"
        );
        // A note on the ticket says so.
        let t = d.ticket(ticket);
        let notes = messages_with(&t, "note");
        assert!(
            notes.iter().any(|n| {
                let text = n["text"].as_str().unwrap_or("");
                text.contains(who) && text.contains(detail)
            }),
            "{who}: no note with the failure on ticket {ticket}: {t:#}"
        );
        assert_eq!(rx.attempts_for(stage, who), 1, "{who}");
        // Force worker rounds: the failed entry is never offered again.
        barrier(&d, &rx, &format!("{stage}1"));
        barrier(&d, &rx, &format!("{stage}2"));
        assert_eq!(
            rx.attempts_for(stage, who),
            1,
            "{who}: the failed entry was tried again: {:#?}",
            rx.attempts()
        );
        let e = outbox_entry(&d, id);
        assert_eq!(e["status"], "failed", "{e:#}");
        assert_eq!(e["attempts"], 1, "{e:#}");
        assert!(rx.matching("This will not arrive.").is_empty());
    }
    // `outbox list --status failed` shows both.
    let failed = d.ctl_json(&["outbox", "list", "--status", "failed"])["outbox"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(failed, 2);
    assert_envelopes_pipelined(&rx, rx.offers_pipelining());
}

/// One refused Cc must not stop the reply to the customer: RFC 5321 lets a client go on
/// with the recipients the server accepted, and a help desk user expects the customer
/// to get the answer and the ticket to say which copy failed and why.
#[test]
fn a_refused_cc_does_not_stop_the_reply_to_the_customer() {
    refused_cc_case(Receiver::start());
}

#[test]
fn a_refused_cc_without_pipelining() {
    refused_cc_case(Receiver::start_without_pipelining());
}

fn refused_cc_case(rx: Receiver) {
    let words = "550 5.1.1 <typo@example.org>: Recipient address rejected: User unknown";
    rx.set_rules(&json!({"rcpt": {"typo@example.org": words}}));
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let ticket = customer(&d, "main@example.org", "main1@example.org");
    let id = reply(
        &d,
        ticket,
        "jane@acme.test",
        "Copying my colleague.\n",
        &["--cc", "typo@example.org"],
    );
    wait_entry(&d, id, "tried", |e| e["status"] != "queued");
    barrier(&d, &rx, "cc");
    let got = rx.for_rcpt("main@example.org");
    let notes = messages_with(&d.ticket(ticket), "note");
    assert_eq!(
        got.len(),
        1,
        "the customer did not get the reply because a Cc was refused; outbox: {:#}; notes: {notes:#?}",
        outbox_entry(&d, id)
    );
    assert!(
        notes.iter().any(|n| n["text"]
            .as_str()
            .unwrap_or("")
            .contains("typo@example.org")),
        "no note names the refused Cc: {notes:#?}"
    );
    assert_envelopes_pipelined(&rx, rx.offers_pipelining());
}
