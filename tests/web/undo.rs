//! Stopping or pushing a mail on its way: with `[smtp] undo_seconds`, an agent's reply
//! waits in the outbox, shown as "sending" with "Cancel sending" and "Send now".
//! Cancelled, it never goes, the thread and history say so, and the ticket's status is
//! back where it was unless someone moved it since, and "Edit again" puts its text back
//! in the reply box (a cancelled forward, in the forward form with the same mail, addressees
//! and note); "Send now" sends it at
//! once; a reply the relay refused offers "Try again", which delivers once the relay
//! takes it. A request without the CSRF token, for mail already sent or for no entry
//! changes nothing. A reply scheduled with "Send later" waits until its time (a time gone
//! by, or none, is refused), and "Send now" still sends it at once. Its ticket keeps its
//! status until it goes: the customer has no answer before then.

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::harness::{Daemon, Settings};
use crate::receiver::Receiver;
use crate::{
    add_agent, deliver, history, http_sign_in, jane_replies, jane_writes_first, message_rows,
    olga_asks_about_the_hinge, olga_two_tickets, outbound_messages, show, text_mail, ticket_id,
    PASSWORD, SUPPORT,
};

const KIM: &str = "kim@customer.example.org";

/// The outbox entry and message row of the ticket's latest reply.
fn latest_reply(t: &Value) -> (i64, i64) {
    let last = outbound_messages(t)
        .last()
        .copied()
        .cloned()
        .unwrap_or_default();
    (
        last["delivery"]["outbox"].as_i64().unwrap_or(0),
        last["id"].as_i64().unwrap_or(0),
    )
}

/// A daemon relaying to `rx` whose agents' mail waits five minutes (`undo_seconds`).
fn daemon_with_undo(rx: &Receiver) -> Daemon {
    Daemon::start_with(Settings {
        channels: crate::relaying(rx.port, "undo_seconds = 300\n", SUPPORT),
        ..Settings::default()
    })
}

#[test]
fn a_reply_waits_out_the_undo_window_and_can_be_cancelled_sent_now_or_tried_again() {
    let rx = Receiver::start();
    let d = daemon_with_undo(&rx);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        KIM,
        "support@example.com",
        &text_mail(
            KIM,
            "Where is my parcel?",
            "parcel.1@customer.example.org",
            "?",
        ),
    );
    let id = ticket_id(&d, "Where is my parcel?");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    let reply_and = |text: &str, button: &str| -> (i64, i64) {
        b.open(&format!("/tickets/{id}"));
        let body = b.wait_find("#reply-body");
        b.type_into(&body, text);
        b.click_css(button);
        b.wait_until("the reply in the thread", |_| {
            outbound_messages(&show(&d, id))
                .iter()
                .any(|m| m["text"].as_str().is_some_and(|t| t.contains(text)))
        });
        latest_reply(&show(&d, id))
    };
    let reply = |text: &str| reply_and(text, "form.reply button[type=submit]:not([name])");

    // "Send and close", cancelled inside the window: marked so, never sent, and the
    // ticket is back where it was.
    let (first, row) = reply_and(
        "First answer, to be cancelled.",
        "form.reply button[name=then]",
    );
    assert_eq!(show(&d, id)["status"], "Closed");
    b.open(&format!("/tickets/{id}"));
    // It says how long it still waits: the window, counted down.
    b.wait_until("the countdown", |b| {
        b.text(&format!("#m{row} .delivery")) == format!("to {KIM} · sending in 5 min")
    });
    b.click_css(&format!("#m{row} form.outbox-action button.cancel"));
    b.wait_text(&format!("#m{row} .delivery"), "cancelled");
    assert!(b.find(&format!("#m{row} form.outbox-action")).is_none());
    let t = show(&d, id);
    assert!(
        history(&t).contains(&format!("reply (outbox {first}) cancelled")),
        "{}",
        history(&t)
    );
    assert_eq!(t["status"], "New", "{}", history(&t));
    assert!(history(&t).contains("Closed → New (reply cancelled)"));
    // "Edit again" puts what was typed (no signature) back in the reply box.
    b.click_css(&format!("#m{row} button.edit-again"));
    assert_eq!(b.value("#reply-body"), "First answer, to be cancelled.");
    assert_eq!(b.text("#body-preview"), "First answer, to be cancelled.");
    b.js(
        "var box = document.getElementById('reply-body'); box.value = '';
         box.dispatchEvent(new Event('input', { bubbles: true }));",
        json!([]),
    );

    // "Send now" skips the rest of the window.
    let (_, row) = reply("Second answer, sent now.");
    b.open(&format!("/tickets/{id}"));
    b.click_css(&format!("#m{row} form.outbox-action button.retry"));
    let got = rx.wait_rcpt(KIM, 1, Duration::from_secs(30));
    assert!(got[0].contains("Second answer, sent now."));
    b.wait_text(&format!("#m{row} .delivery"), "sent");

    // Refused by the relay: "Try again" once it takes it.
    let refused = "550 5.2.1 <kim@customer.example.org>: mailbox disabled";
    rx.set_rules(&json!({"rcpt": {KIM: refused}}));
    let (third, row) = reply("Third answer, refused first.");
    b.open(&format!("/tickets/{id}"));
    b.click_css(&format!("#m{row} form.outbox-action button.retry"));
    b.wait_text(&format!("#m{row} .delivery"), "not delivered");
    assert_eq!(
        b.text(&format!("#m{row} form.outbox-action button")),
        "Try again"
    );
    rx.set_rules(&json!({}));
    b.click_css(&format!("#m{row} form.outbox-action button.retry"));
    let got = rx.wait_rcpt(KIM, 2, Duration::from_secs(30));
    assert!(got[1].contains("Third answer, refused first."));
    b.wait_text(&format!("#m{row} .delivery"), "sent");
    assert!(
        rx.messages().iter().all(|m| !m.contains("to be cancelled")),
        "the cancelled reply was sent"
    );
    assert_eq!(rx.for_rcpt(KIM).len(), 2);

    // Refused requests change nothing.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, id);
    for (path, with_token, status, says) in [
        (format!("/outbox/{third}/cancel"), true, 400, "already sent"),
        (
            format!("/outbox/{first}/retry"),
            true,
            400,
            "already sent or cancelled",
        ),
        (
            "/outbox/424242/cancel".to_string(),
            true,
            400,
            "does not exist",
        ),
        (
            "/outbox/x/cancel".to_string(),
            true,
            404,
            "No such outgoing mail",
        ),
        (format!("/outbox/{third}/retry"), false, 403, ""),
    ] {
        let mut form = vec![];
        if with_token {
            form.push(("csrf", jane.csrf.as_str()));
        }
        let r = jane.post(&path, &form, &[]);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(r.text().contains(says), "{path}: {}", r.text());
    }
    assert_eq!(show(&d, id), before, "a refused request changed the ticket");

    // frontdeskctl cancels too, in the history as the command line; a status someone
    // set after the reply stands.
    let (code, out, err) = d.ctl(&["tickets", "status", &id.to_string(), "New"]);
    assert_eq!(code, 0, "{err}{out}");
    jane_replies(&d, id, &[], "Fourth answer, cancelled from the shell.");
    let (fourth, _) = latest_reply(&show(&d, id));
    assert_eq!(show(&d, id)["status"], "Waiting on contact");
    let (code, out, err) = d.ctl(&["tickets", "status", &id.to_string(), "Waiting on us"]);
    assert_eq!(code, 0, "{err}{out}");
    let (code, out, err) = d.ctl(&["outbox", "cancel", &fourth.to_string()]);
    assert_eq!(code, 0, "{err}{out}");
    let t = show(&d, id);
    let event = t["events"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["detail"] == format!("reply (outbox {fourth}) cancelled"))
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(event["actor"], "admin (frontdeskctl)", "{t:#}");
    assert_eq!(t["status"], "Waiting on us", "{}", history(&t));
    let outbox = d.ctl_json(&["outbox", "list", "--status", "cancelled"]);
    let cancelled: Vec<i64> = outbox["outbox"]
        .as_array()
        .map(|o| o.iter().filter_map(|e| e["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(cancelled.len(), 2, "{outbox:#}");
    assert!(
        cancelled.contains(&first) && cancelled.contains(&fourth),
        "{outbox:#}"
    );
}

#[test]
fn a_cancelled_forward_comes_back_in_the_forward_form() {
    const PARTS: &str = "parts@supplier.example";
    let rx = Receiver::start();
    let d = daemon_with_undo(&rx);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, _) = olga_two_tickets(&d, "refwd");
    olga_asks_about_the_hinge(&d, "refwd");
    let first = message_rows(&show(&d, hinge), "inbound")[0];

    // The older of Olga's two mails, forwarded from the shell, then cancelled.
    jane_replies(
        &d,
        hinge,
        &["--forward-to", PARTS, "--message", &first.to_string()],
        "Can you replace the hinge?",
    );
    let (entry, row) = latest_reply(&show(&d, hinge));
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    b.click_css(&format!("#m{row} form.outbox-action button.cancel"));
    b.wait_text(&format!("#m{row} .delivery"), "cancelled");

    // "Edit again" opens the forward form as it was: that mail, that supplier, that note.
    b.click_css(&format!("#m{row} button.edit-again"));
    assert_eq!(
        b.js("return document.getElementById('forward').open;", json!([])),
        json!(true)
    );
    assert_eq!(b.value("#forward-message"), first.to_string());
    assert_eq!(b.value("#forward-to"), PARTS);
    assert_eq!(b.value("#forward-body"), "Can you replace the hinge?");
    assert_eq!(b.value("#reply-body"), "", "the reply box was touched");

    // Sent from there (and pushed out now): the supplier gets the older mail, once.
    b.click_css("form.forward button[type=submit]");
    b.wait_until("the new forward in the thread", |_| {
        latest_reply(&show(&d, hinge)).0 != entry
    });
    let (_, again) = latest_reply(&show(&d, hinge));
    b.open(&format!("/tickets/{hinge}"));
    b.click_css(&format!("#m{again} form.outbox-action button.retry"));
    let got = rx.wait_rcpt(PARTS, 1, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&got[0].raw).to_string();
    assert!(text.contains("Can you replace the hinge?"), "{text}");
    assert!(text.contains("Hello."), "{text}");
    assert!(
        !text.contains("Any news?"),
        "the later mail went along: {text}"
    );
    b.wait_text(&format!("#m{again} .delivery"), "sent");
    assert_eq!(rx.for_rcpt(PARTS).len(), 1);
}

#[test]
fn a_reply_scheduled_for_later_waits_until_then() {
    let rx = Receiver::start();
    let d = crate::daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        KIM,
        "support@example.com",
        &text_mail(KIM, "Call me Monday", "later.1@customer.example.org", "?"),
    );
    let id = ticket_id(&d, "Call me Monday");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    let body = b.wait_find("#reply-body");
    b.type_into(&body, "Good morning Kim, as promised.");
    // Two days ahead in the agent's own clock; Enter in the picker schedules (it does
    // not send now).
    b.click_css("details.send-later summary");
    let due = b.js(
        "var d = new Date(Date.now() + 2 * 86400e3); d.setSeconds(0, 0);
         var p = function (n) { return String(n).padStart(2, '0'); };
         document.getElementById('send-at').value = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' +
             p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
         return Math.floor(d.getTime() / 1000);",
        json!([]),
    )
    .as_i64()
    .expect("the picked time");
    b.js("document.getElementById('send-at').focus();", json!([]));
    b.press("\u{E007}");
    b.wait_until("the scheduled reply in the thread", |_| {
        latest_reply(&show(&d, id)).0 != 0
    });
    let (entry, row) = latest_reply(&show(&d, id));
    let t = show(&d, id);
    let delivery = &outbound_messages(&t).last().expect("the reply")["delivery"];
    assert_eq!(delivery["status"], "queued", "{t:#}");
    assert_eq!(delivery["next_attempt"].as_i64(), Some(due), "{t:#}");
    assert_eq!(t["status"], "New", "{}", history(&t));
    b.open(&format!("/tickets/{id}"));
    b.wait_until("the time it goes", |b| {
        b.text(&format!("#m{row} .delivery"))
            .starts_with(&format!("to {KIM} · sending at "))
    });

    // Refused: a time gone by, no time at all; the shell likewise.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, id);
    for (send_at, says) in [
        ("2020-01-01T09:00:00Z", "has passed"),
        ("", "pick when to send it"),
    ] {
        let r = jane.post(
            &format!("/tickets/{id}/reply"),
            &[
                ("csrf", &jane.csrf),
                ("body", "x"),
                ("then", "later"),
                ("send_at", send_at),
            ],
            &[],
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(says), "{}", r.text());
    }
    let (code, _, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &id.to_string(),
            "--as",
            "jane@acme.test",
            "--send-at",
            "2099-01-01T00:00:00Z",
        ],
        Some(b"x"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("at most 30 days"), "{err}");
    assert_eq!(show(&d, id), before, "a refused reply changed the ticket");

    // "Send now" sends it at once; nothing else went.
    b.click_css(&format!("#m{row} form.outbox-action button.retry"));
    let got = rx.wait_rcpt(KIM, 1, Duration::from_secs(30));
    assert!(got[0].contains("as promised"));
    b.wait_text(&format!("#m{row} .delivery"), "sent");
    assert_eq!(rx.messages().len(), 1);
    let t = show(&d, id);
    assert_eq!(latest_reply(&t).0, entry);
    // Now the customer has the answer, and the ticket waits on them, moved by Jane.
    assert_eq!(t["status"], "Waiting on contact", "{}", history(&t));
    assert!(
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "jane@acme.test"
                && e["detail"] == "New → Waiting on contact (agent replied)"),
        "{t:#}"
    );
    b.wait_text("p.meta", "Waiting on contact");
}

/// An agent's first mail to a customer, cancelled before it went: the next mail from
/// the ticket's reply box is still the first the customer gets, under the subject as
/// typed and referring to nothing they never received.
#[test]
fn a_first_mail_cancelled_before_it_went_leaves_the_next_one_first() {
    let rx = Receiver::start();
    let d = daemon_with_undo(&rx);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let subject = "Your parcel will be late";
    jane_writes_first(&d, KIM, subject, "Hello Kim, it ships on Friday.");
    let id = ticket_id(&d, subject);
    let (first, first_row) = latest_reply(&show(&d, id));
    let first_mid = show(&d, id)["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == first_row))
        .and_then(|m| m["message_id"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no Message-ID on {first_row}: {:#}", show(&d, id)));
    let (code, out, err) = d.ctl(&["outbox", "cancel", &first.to_string()]);
    assert_eq!(code, 0, "{err}{out}");

    jane_replies(&d, id, &[], "Hello Kim, it ships on Monday after all.");
    let (second, _) = latest_reply(&show(&d, id));
    assert_ne!(second, first);
    let (code, out, err) = d.ctl(&["outbox", "retry", &second.to_string()]);
    assert_eq!(code, 0, "{err}{out}");
    let got = rx.wait_rcpt(KIM, 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "the cancelled mail never went");
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    let sent = m["subject"].as_str().unwrap_or_default();
    assert!(
        sent.starts_with(subject) && sent.contains(&format!("[#{id}")),
        "the subject as typed, with the ticket's tag: {m:#}"
    );
    assert_eq!(m["in_reply_to"], Value::Null, "{m:#}");
    assert_eq!(m["references"], json!([]), "{m:#}");
    assert!(!got[0].contains(&first_mid), "{m:#}");
    assert!(got[0].contains("ships on Monday after all"));
    assert!(!got[0].contains("ships on Friday"));
}
