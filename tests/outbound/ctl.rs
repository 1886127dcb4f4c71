//! `frontdeskctl` around replies: notes are never mailed, `outbox cancel` stops a queued
//! entry for good, and an unknown agent or ticket is a clear error with a non-zero exit.

use crate::harness::Daemon;
use crate::receiver::Receiver;
use crate::{
    add_user, customer_mail, daemon, lmtp, messages_with, outbox, outbox_entry, reply, ticket_of,
    wait_entry, MAIL_DEADLINE, SUPPORT,
};

fn customer(d: &Daemon, who: &str, mid: &str) -> i64 {
    lmtp(
        d,
        who,
        "support@example.com",
        &customer_mail(
            &format!("Customer <{who}>"),
            "support@example.com",
            "A question",
            mid,
            "",
            "Hello\r\n",
        ),
    );
    ticket_of(d, mid)
}

#[test]
fn a_note_is_never_mailed() {
    let rx = Receiver::start();
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let ticket = customer(&d, "n@example.org", "n1@example.org");
    let note = "Internal: this customer is a VIP, be nice <secret>\n";
    let (code, out, err) = d.ctl_stdin(
        &[
            "--json",
            "tickets",
            "note",
            &ticket.to_string(),
            "--as",
            "jane@acme.test",
        ],
        Some(note.as_bytes()),
    );
    assert_eq!(code, 0, "tickets note: {err}\n{out}");
    let t = d.ticket(ticket);
    let notes = messages_with(&t, "note");
    assert_eq!(notes.len(), 1, "{t:#}");
    assert!(
        notes[0]["text"]
            .as_str()
            .unwrap()
            .contains("this customer is a VIP"),
        "{:#}",
        notes[0]
    );
    assert!(messages_with(&t, "outbound").is_empty(), "{t:#}");
    assert!(
        outbox(&d).is_empty(),
        "a note made an outbox entry: {:?}",
        outbox(&d)
    );
    // A reply after the note: the worker ran, and mailed only the reply.
    let id = reply(&d, ticket, "jane@acme.test", "The reply.\n", &[]);
    wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    rx.wait_for("The reply.", 1, MAIL_DEADLINE);
    let all = rx.messages();
    assert_eq!(all.len(), 1, "receiver got more than the reply");
    assert!(!all[0].contains("VIP"), "the note leaked into the reply");
    assert_eq!(outbox(&d).len(), 1);
}

#[test]
fn outbox_cancel_stops_a_queued_entry() {
    let mut rx = Receiver::start();
    rx.stop();
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let t1 = customer(&d, "c@example.org", "c1@example.org");
    let id = reply(&d, t1, "jane@acme.test", "Cancelled reply.\n", &[]);
    wait_entry(&d, id, "deferred", |e| {
        e["status"] == "queued" && e["attempts"].as_i64().unwrap_or(0) >= 1
    });
    let v = d.ctl_json(&["outbox", "cancel", &id.to_string()]);
    assert_eq!(v["id"], id, "{v}");
    assert_eq!(outbox_entry(&d, id)["status"], "cancelled");
    let cancelled = d.ctl_json(&["outbox", "list", "--status", "cancelled"])["outbox"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(cancelled, 1);
    rx.resume();
    // A cancelled entry cannot be retried or cancelled again.
    for verb in ["retry", "cancel"] {
        let (code, _, err) = d.ctl(&["outbox", verb, &id.to_string()]);
        assert_ne!(code, 0, "outbox {verb} of a cancelled entry succeeded");
        assert!(err.contains(&id.to_string()), "{verb}: {err}");
    }
    // Another reply goes out (a worker round with the relay up); the cancelled one never.
    let t2 = customer(&d, "c2@example.org", "c2@example.org");
    let id2 = reply(&d, t2, "jane@acme.test", "Delivered reply.\n", &[]);
    wait_entry(&d, id2, "sent", |e| e["status"] == "sent");
    rx.wait_for("Delivered reply.", 1, MAIL_DEADLINE);
    assert!(
        rx.matching("Cancelled reply.").is_empty(),
        "a cancelled entry was sent"
    );
    assert_eq!(rx.attempts_for("rcpt", "c@example.org"), 0);
    assert_eq!(outbox_entry(&d, id)["status"], "cancelled");
    // An id that does not exist.
    let (code, _, err) = d.ctl(&["outbox", "cancel", "99999"]);
    assert_ne!(code, 0);
    assert!(err.contains("99999"), "{err}");
}

#[test]
fn unknown_agent_or_ticket_is_a_clear_error() {
    let rx = Receiver::start();
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let ticket = customer(&d, "u@example.org", "u1@example.org").to_string();
    for verb in ["reply", "note"] {
        let (code, out, err) = d.ctl_stdin(
            &["tickets", verb, &ticket, "--as", "nobody@acme.test"],
            Some(b"Hello\n"),
        );
        assert_ne!(code, 0, "{verb} as an unknown agent succeeded: {out}");
        assert!(
            err.contains("nobody@acme.test") && err.contains("agent"),
            "{verb}: unclear error {err:?}"
        );
    }
    let (code, _, err) = d.ctl_stdin(
        &["tickets", "reply", "424242", "--as", "jane@acme.test"],
        Some(b"Hello\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("424242"), "{err}");
    // An empty body is refused too.
    let (code, _, err) = d.ctl_stdin(
        &["tickets", "reply", &ticket, "--as", "jane@acme.test"],
        Some(b"  \n"),
    );
    assert_ne!(code, 0, "an empty reply was queued");
    assert!(err.contains("empty"), "{err}");
    // A file that does not exist for --attach: nothing queued.
    let (code, _, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &ticket,
            "--as",
            "jane@acme.test",
            "--attach",
            "/nonexistent/x.pdf",
        ],
        Some(b"Hello\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/x.pdf"), "{err}");
    assert!(outbox(&d).is_empty(), "{:?}", outbox(&d));
    assert!(messages_with(&d.ticket(ticket.parse().unwrap()), "outbound").is_empty());
    assert!(rx.messages().is_empty());
}

/// An entry cancelled while it is due (the worker is busy with another delivery on a
/// slow relay) is not picked up by the worker's next round.
#[test]
fn outbox_cancel_of_a_due_entry_wins_over_the_worker() {
    let rx = Receiver::start();
    rx.set_rules(&serde_json::json!({"hold": {"slow@example.org": true}}));
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let slow = customer(&d, "slow@example.org", "slow1@example.org");
    let due = customer(&d, "due@example.org", "due1@example.org");
    let first = reply(&d, slow, "jane@acme.test", "Slow delivery.\n", &[]);
    crate::harness::wait_until(
        "the relay to hold the first delivery",
        MAIL_DEADLINE,
        || rx.attempts_for("hold", "slow@example.org") == 1,
    );
    let id = reply(&d, due, "jane@acme.test", "Cancelled while due.\n", &[]);
    d.ctl_json(&["outbox", "cancel", &id.to_string()]);
    rx.set_rules(&serde_json::json!({}));
    wait_entry(&d, first, "sent", |e| e["status"] == "sent");
    // Two more worker rounds after the cancel.
    for n in 0..2 {
        let t = customer(
            &d,
            &format!("later{n}@example.org"),
            &format!("later{n}@example.org"),
        );
        let later = reply(&d, t, "jane@acme.test", &format!("Later {n}.\n"), &[]);
        wait_entry(&d, later, "sent", |e| e["status"] == "sent");
    }
    rx.wait_for("Later 1.", 1, MAIL_DEADLINE);
    assert!(
        rx.matching("Cancelled while due.").is_empty(),
        "a cancelled entry was sent"
    );
    assert_eq!(rx.attempts_for("rcpt", "due@example.org"), 0);
    assert_eq!(outbox_entry(&d, id)["status"], "cancelled");
}

/// Cancelling an entry the worker is delivering at that moment must not leave the outbox
/// saying "cancelled" for mail the customer did get: either the cancel is refused, or the
/// entry ends as sent.
#[test]
fn outbox_cancel_during_delivery_does_not_misreport() {
    let rx = Receiver::start();
    rx.set_rules(&serde_json::json!({"hold": {"inflight@example.org": true}}));
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let t = customer(&d, "inflight@example.org", "inflight1@example.org");
    let id = reply(&d, t, "jane@acme.test", "In flight.\n", &[]);
    crate::harness::wait_until("the relay to hold the delivery", MAIL_DEADLINE, || {
        rx.attempts_for("hold", "inflight@example.org") == 1
    });
    let (code, _, err) = d.ctl(&["outbox", "cancel", &id.to_string()]);
    rx.set_rules(&serde_json::json!({}));
    rx.wait_for("In flight.", 1, MAIL_DEADLINE);
    // The worker records its result right after the relay's 250.
    let t2 = customer(&d, "after@example.org", "after1@example.org");
    let after = reply(&d, t2, "jane@acme.test", "After.\n", &[]);
    wait_entry(&d, after, "sent", |e| e["status"] == "sent");
    let e = outbox_entry(&d, id);
    assert_eq!(
        e["status"], "sent",
        "the customer got the mail, but the outbox says {} (cancel exit {code}: {err}): {e:#}",
        e["status"]
    );
}
