//! Spam: an agent marks a ticket as spam from its page (after a confirmation). The
//! ticket closes with the tag `spam` and its sender is blocked: their later mail is
//! still stored, but filed closed and tagged, with no acknowledgement and no owner, and
//! a reply on the old thread does not reopen it. `frontdeskctl tickets spam --not`
//! undoes it. A whole domain can be blocked too, but never a shared mail service such as
//! gmail.com. A request without the CSRF token, or with a word other than 1 or 0,
//! changes nothing.

use std::time::Duration;

use serde_json::Value;

use crate::browser::Browser;
use crate::harness::{wait_until, Daemon, Settings};
use crate::receiver::Receiver;
use crate::{
    add_agent, deliver, history, http_sign_in, show, text_mail, text_mail_with, ticket_id, PASSWORD,
};

const SPAMMER: &str = "deals@bulk-offers.example.net";

/// Support with an acknowledgement (and every new ticket routed to Jane, once she
/// exists: the config refuses routing to an unknown agent).
fn channels(relay: u16, routed: bool) -> String {
    let routing = if routed {
        "[channel.routing]\nmode = \"users_and_teams\"\nusers = [\"jane@acme.test\"]\n"
    } else {
        ""
    };
    format!(
        r#"[smtp]
host = "127.0.0.1"
port = {relay}
tls = "none"
hello_name = "frontdesk.test"

[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
[channel.acknowledgement]
subject = "We got it: {{{{ticket.subject}}}}"
body = "Hello, this is ticket {{{{ticket.id}}}}."
max_per_hour = 100
{routing}"#
    )
}

/// Deliver a new thread from the spammer.
fn mail(d: &Daemon, subject: &str, message_id: &str, body: &str) {
    mail_from(d, SPAMMER, subject, message_id, body);
}

/// Deliver a new thread from `from`.
fn mail_from(d: &Daemon, from: &str, subject: &str, message_id: &str, body: &str) {
    let raw = text_mail(from, subject, message_id, body);
    deliver(d, from, "support@example.com", &raw);
}

fn acknowledgements(d: &Daemon) -> usize {
    d.ctl_json(&["outbox", "list", "--limit", "1000"])["outbox"]
        .as_array()
        .map_or(0, |o| {
            o.iter().filter(|e| e["kind"] == "acknowledgement").count()
        })
}

fn tags(t: &Value) -> Vec<String> {
    t["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn spam_closes_the_ticket_and_files_the_senders_later_mail_away() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: channels(rx.port, false),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    d.write_config(&Settings {
        channels: channels(rx.port, true),
        ..Settings::default()
    });
    let (code, out, err) = d.ctl(&["reload"]);
    assert_eq!(code, 0, "reload refused: {err}{out}");
    let offer = "Cheap watches, today only";
    mail(&d, offer, "offer.1@bulk-offers.example.net", "Buy now.");
    let first = ticket_id(&d, offer);
    assert_eq!(show(&d, first)["owner"], "jane@acme.test");
    assert_eq!(acknowledgements(&d), 1);

    // Refused, and nothing changes.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, first);
    let r = jane.post(&format!("/tickets/{first}/spam"), &[("spam", "1")], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = jane.post(
        &format!("/tickets/{first}/spam"),
        &[("csrf", &jane.csrf), ("spam", "maybe")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        show(&d, first),
        before,
        "a refused request changed the ticket"
    );

    // From the page, after the confirmation.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{first}"));
    b.click_css("form.spam button[type=submit]");
    let asked = b.answer_dialog(true);
    assert!(asked.contains(SPAMMER), "{asked}");
    b.wait_text(
        "form.spam.blocked",
        &format!("{SPAMMER} is blocked as spam"),
    );
    let t = show(&d, first);
    assert_eq!(t["status"], "Closed", "{t:#}");
    assert_eq!(tags(&t), ["spam"]);
    assert!(
        history(&t).contains(&format!("marked as spam; {SPAMMER} is blocked")),
        "{}",
        history(&t)
    );

    // Their next mail is kept, filed closed and tagged, with no owner and no
    // acknowledgement; it stays out of the open inbox.
    let again = "Cheap watches, last chance";
    mail(&d, again, "offer.2@bulk-offers.example.net", "Buy now!");
    let second = ticket_id(&d, again);
    let t = show(&d, second);
    assert_eq!(t["status"], "Closed", "{t:#}");
    assert_eq!(t["owner"], Value::Null, "{t:#}");
    assert_eq!(tags(&t), ["spam"]);
    assert!(history(&t).contains("the sender is blocked: filed as spam"));
    assert_eq!(acknowledgements(&d), 1, "a blocked sender was acknowledged");
    b.open("/inbox?view=open");
    b.wait_find("main");
    let open = b.row_ids();
    assert!(
        !open.contains(&second) && !open.contains(&first),
        "spam in the open inbox: {open:?}"
    );
    b.open("/inbox?view=closed&tag=spam");
    b.wait_until("both in the spam filter", |b| {
        let mut rows = b.row_ids();
        rows.sort();
        rows == [first, second]
    });
    // A reply on the old thread does not reopen it.
    let messages = |t: &Value| t["messages"].as_array().map_or(0, Vec::len);
    let had = messages(&show(&d, first));
    deliver(
        &d,
        SPAMMER,
        "support@example.com",
        &text_mail_with(
            SPAMMER,
            &format!("Re: {offer}"),
            "offer.3@bulk-offers.example.net",
            "Still interested?",
            "In-Reply-To: <offer.1@bulk-offers.example.net>\r\n",
        ),
    );
    wait_until(
        "the reply on the old thread",
        Duration::from_secs(10),
        || messages(&show(&d, first)) == had + 1,
    );
    assert_eq!(show(&d, first)["status"], "Closed");

    // Not spam, from frontdeskctl: unblocked, untagged, reopened; their next mail is
    // an ordinary ticket again.
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "spam",
            &second.to_string(),
            "--not",
            "--as",
            "jane@acme.test",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}{out}");
    let t = show(&d, second);
    assert_ne!(t["status"], "Closed", "{t:#}");
    assert!(tags(&t).is_empty(), "{t:#}");
    let fine = "About my order";
    mail(&d, fine, "order.1@bulk-offers.example.net", "Where is it?");
    let third = ticket_id(&d, fine);
    let t = show(&d, third);
    assert_eq!(t["status"], "New", "{t:#}");
    assert_eq!(t["owner"], "jane@acme.test");
    assert!(tags(&t).is_empty());
    assert_eq!(acknowledgements(&d), 2);

    // "Not spam" reopens only a ticket filed as spam: on one of theirs closed for its
    // own reasons it only unblocks them.
    // That ticket's page says so: its sender is blocked, but it is not spam itself.
    let as_jane = ["--as", "jane@acme.test"];
    let (third_s, first_s) = (third.to_string(), first.to_string());
    let run = |args: &[&str]| {
        let args: Vec<&str> = args.iter().copied().chain(as_jane).collect();
        let (code, out, err) = d.ctl_stdin(&args, None);
        assert_eq!(code, 0, "{args:?}: {err}{out}");
    };
    run(&["tickets", "status", &third_s, "Closed"]);
    run(&["tickets", "spam", &first_s]);
    b.open(&format!("/tickets/{third}"));
    let says = b.text("form.spam.blocked");
    assert!(says.contains(&format!("{SPAMMER} is blocked")), "{says}");
    assert_eq!(b.text("form.spam.blocked button"), "Unblock sender");
    b.open(&format!("/tickets/{first}"));
    assert_eq!(b.text("form.spam.blocked button"), "Not spam");
    run(&["tickets", "spam", &third_s, "--not"]);
    assert_eq!(show(&d, third)["status"], "Closed");
    assert_eq!(show(&d, first)["status"], "Closed");
    mail(
        &d,
        "Another order",
        "order.2@bulk-offers.example.net",
        "Thanks",
    );
    let t = show(&d, ticket_id(&d, "Another order"));
    assert!(tags(&t).is_empty(), "still blocked: {t:#}");
}

#[test]
fn several_tickets_are_marked_as_spam_from_the_inbox_at_once() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: channels(rx.port, false),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let senders = ["win@lottery.example.net", "seo@ranking.example.net"];
    let mut spam = Vec::new();
    for (n, from) in senders.iter().enumerate() {
        let subject = format!("Offer number {n}");
        let raw = text_mail(
            from,
            &subject,
            &format!("o{n}@spam.example.net"),
            "Act now.",
        );
        deliver(&d, from, "support@example.com", &raw);
        spam.push(ticket_id(&d, &subject));
    }
    let customer = "ines@customer.example.org";
    let raw = text_mail(
        customer,
        "Broken hinge",
        "hinge.1@customer.example.org",
        "Help.",
    );
    deliver(&d, customer, "support@example.com", &raw);
    let real = ticket_id(&d, "Broken hinge");

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=open");
    b.wait_find("#bulk-spam");
    let disabled = |b: &Browser| {
        b.js(
            "return document.getElementById('bulk-spam').disabled;",
            serde_json::json!([]),
        ) == Value::Bool(true)
    };
    assert!(disabled(&b), "the button works with nothing ticked");
    for id in &spam {
        b.click_css(&format!("input[name=ticket][value='{id}']"));
    }
    assert!(!disabled(&b));
    // Cancelled: nothing changes.
    b.click_css("#bulk-spam");
    let asked = b.answer_dialog(false);
    assert!(
        asked.contains("Mark the selected tickets as spam"),
        "{asked}"
    );
    for id in &spam {
        assert!(tags(&show(&d, *id)).is_empty());
    }
    b.click_css("#bulk-spam");
    b.answer_dialog(true);
    b.wait_until("the spam out of the open view", |b| b.row_ids() == [real]);
    for id in &spam {
        let t = show(&d, *id);
        assert_eq!(t["status"], "Closed", "{t:#}");
        assert_eq!(tags(&t), ["spam"]);
    }
    assert!(tags(&show(&d, real)).is_empty());
    // Both senders are blocked, the customer is not.
    for (n, from) in senders.iter().chain([&customer]).enumerate() {
        let subject = format!("Follow-up {n}");
        let raw = text_mail(from, &subject, &format!("f{n}@later.example.net"), "Again.");
        deliver(&d, from, "support@example.com", &raw);
        let t = show(&d, ticket_id(&d, &subject));
        let filed = t["status"] == "Closed" && tags(&t) == ["spam"];
        assert_eq!(filed, n < 2, "{from}: {t:#}");
    }
}

#[test]
fn a_whole_domain_is_blocked_but_never_a_shared_mail_service() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: channels(rx.port, false),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    mail(
        &d,
        "Bulk toner, 90% off",
        "toner.1@bulk-offers.example.net",
        "Buy.",
    );
    let first = ticket_id(&d, "Bulk toner, 90% off");

    // The page offers the domain; ticked, the sender and all of it are blocked.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{first}"));
    assert_eq!(
        b.text("form.spam label").trim(),
        "Block all of bulk-offers.example.net"
    );
    b.click_css("form.spam input[name=domain]");
    b.click_css("form.spam button[type=submit]");
    b.answer_dialog(true);
    b.wait_text(
        "form.spam.blocked",
        "All of bulk-offers.example.net is blocked",
    );
    let words = history(&show(&d, first));
    assert!(
        words.contains(&format!(
            "marked as spam; {SPAMMER} is blocked, and so is all of bulk-offers.example.net"
        )),
        "{words}"
    );
    let acks = acknowledgements(&d);

    // Another address of the domain: filed as spam, unacknowledged.
    mail_from(
        &d,
        "news@bulk-offers.example.net",
        "Bulk paper, 80% off",
        "paper.1@bulk-offers.example.net",
        "Buy!",
    );
    let second = ticket_id(&d, "Bulk paper, 80% off");
    let t = show(&d, second);
    assert_eq!(t["status"], "Closed", "{t:#}");
    assert_eq!(tags(&t), ["spam"]);
    assert_eq!(
        acknowledgements(&d),
        acks,
        "a blocked domain was acknowledged"
    );
    // ... and of its subdomains, but not of a domain that merely ends the same way.
    mail_from(
        &d,
        "promo@mail.bulk-offers.example.net",
        "Bulk ink, 70% off",
        "ink.1@mail.bulk-offers.example.net",
        "Buy!!",
    );
    assert_eq!(
        tags(&show(&d, ticket_id(&d, "Bulk ink, 70% off"))),
        ["spam"]
    );
    mail_from(
        &d,
        "sales@notbulk-offers.example.net",
        "Real question",
        "q.1@notbulk-offers.example.net",
        "Hello",
    );
    assert!(tags(&show(&d, ticket_id(&d, "Real question"))).is_empty());

    // A shared mail service is never blocked as a whole: no box on the page, and a
    // request for it is refused without changing anything.
    mail_from(
        &d,
        "kim.customer@gmail.com",
        "Order 1234",
        "order.1@gmail.com",
        "Where is it?",
    );
    let gmail = ticket_id(&d, "Order 1234");
    b.open(&format!("/tickets/{gmail}"));
    assert!(b.find("form.spam input[name=domain]").is_none());
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, gmail);
    let r = jane.post(
        &format!("/tickets/{gmail}/spam"),
        &[("csrf", &jane.csrf), ("spam", "1"), ("domain", "1")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r
        .text()
        .contains("gmail.com is a mail service many people share"));
    assert_eq!(
        show(&d, gmail),
        before,
        "a refused domain block changed the ticket"
    );
    let (code, _, err) = d.ctl(&["tickets", "spam", &gmail.to_string(), "--domain"]);
    assert_ne!(code, 0);
    assert!(err.contains("many people share"), "{err}");
    let (code, _, err) = d.ctl(&["tickets", "spam", &gmail.to_string(), "--domain", "--not"]);
    assert_ne!(code, 0);
    assert!(err.contains("cannot be used with"), "{err}");

    // Not spam lifts the domain block: the domain's next mail is an ordinary ticket.
    let (code, out, err) = d.ctl(&["tickets", "spam", &second.to_string(), "--not"]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(
        history(&show(&d, second)).contains("nor is bulk-offers.example.net"),
        "{}",
        history(&show(&d, second))
    );
    mail_from(
        &d,
        "orders@bulk-offers.example.net",
        "Your order shipped",
        "ship.1@bulk-offers.example.net",
        "Tracking: 42",
    );
    let t = show(&d, ticket_id(&d, "Your order shipped"));
    assert_eq!(t["status"], "New", "{t:#}");
    assert!(tags(&t).is_empty());
}
