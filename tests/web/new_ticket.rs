//! New ticket: an agent writes to a customer first (a call to follow up, an order that
//! will be late). The ticket is theirs, the customer gets the mail from the channel with
//! the agent's From name and signature under the subject as typed (no "Re:"), and the
//! customer's answer comes back to the same ticket. A refused form (no address, two
//! addresses, one of ours, no subject, nothing to send) or a missing CSRF token stores
//! nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::wait_until;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, form_encode, history, http, http_sign_in, outbound_messages,
    plain_text, show, text_mail_with, PASSWORD,
};

const OLGA: &str = "olga@customer.example.org";
const SUBJECT: &str = "Your replacement hinge";

#[test]
fn an_agent_writes_first_and_the_customers_answer_comes_back_to_the_ticket() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);

    // From the inbox, by key.
    b.open("/inbox");
    b.press("c");
    b.wait_path("/tickets/new");
    assert_eq!(
        b.text(".channel-preview:not([hidden]) .from-preview"),
        "From: Jane Doe at Acme <support@example.com>"
    );
    assert!(
        b.text("pre.signature-preview:not([hidden])")
            .contains("Jane Doe\nAcme Support Team"),
        "{}",
        b.text("pre.signature-preview:not([hidden])")
    );
    let to = b.wait_find("#new-to");
    b.type_into(&to, &format!("Olga Petrova <{OLGA}>"));
    let subject = b.wait_find("#new-subject");
    b.type_into(&subject, SUBJECT);
    let body = b.wait_find("#reply-body");
    b.type_into(
        &body,
        "Hello Olga,\nthe new hinge left our warehouse today.",
    );
    // The preview follows what is typed.
    assert_eq!(b.text("#to-preview"), format!("Olga Petrova <{OLGA}>"));
    assert_eq!(b.text("#subject-preview"), SUBJECT);
    assert!(b.text("#body-preview").contains("left our warehouse"));
    b.click_css("form.new-ticket button[type=submit]");
    b.wait_until("the new ticket's page", |b| {
        b.path().starts_with("/tickets/") && b.path() != "/tickets/new"
    });
    let id: i64 = b
        .path()
        .trim_start_matches("/tickets/")
        .parse()
        .expect("a ticket number");
    b.wait_text("article.message.outbound", "left our warehouse");

    // The customer's mail: the channel's address, Jane's name and signature, the subject
    // as typed with the ticket's tag.
    let got = rx.wait_rcpt(OLGA, 1, Duration::from_secs(30));
    assert_eq!(got[0].rcpt_tos, [OLGA]);
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    let subject = m["headers"]["subject"][0]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        subject.starts_with(&format!("{SUBJECT} [#{id}-")),
        "{subject}"
    );
    let from = m["headers"]["from"][0].as_str().unwrap_or("");
    assert!(
        from.contains("Jane Doe") && from.contains("support@example.com"),
        "{from}"
    );
    let text = plain_text(m);
    assert!(text.starts_with("Hello Olga,"), "{text}");
    assert!(text.contains("Acme Support Team"), "{text}");

    // The ticket: Jane's, Olga's (with her name), one mail out, the history says how.
    let t = show(&d, id);
    assert_eq!(t["owner"], "jane@acme.test", "{t:#}");
    assert_eq!(t["subject"], SUBJECT);
    assert_eq!(t["contact"]["email"], OLGA, "{t:#}");
    assert_eq!(t["contact"]["name"], "Olga Petrova", "{t:#}");
    assert_eq!(t["status"], "Waiting on contact", "moved like any reply");
    assert_eq!(outbound_messages(&t).len(), 1);
    assert!(
        history(&t).contains(&format!("new ticket written by jane@acme.test to {OLGA}")),
        "{}",
        history(&t)
    );

    // Olga answers: the same ticket, not a new one.
    let ours = m["message_id"].as_str().unwrap_or_default();
    let answer = text_mail_with(
        OLGA,
        &format!("Re: {subject}"),
        "answer.1@customer.example.org",
        "Thank you, it fits.",
        &format!("In-Reply-To: <{ours}>\r\n"),
    );
    deliver(&d, OLGA, "support@example.com", &answer);
    wait_until(
        "Olga's answer on the ticket",
        Duration::from_secs(10),
        || {
            show(&d, id)["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["from"] == OLGA))
        },
    );
    assert_eq!(d.tickets().len(), 1, "{:?}", d.tickets());
    assert_eq!(show(&d, id)["status"], "Waiting on us");
    b.wait_text("article.message.inbound", "it fits");

    // Another matter with Olga: from her ticket, a new one addressed to her.
    b.click_css("a.write-first");
    b.wait_path("/tickets/new");
    assert_eq!(b.value("#new-to"), format!("Olga Petrova <{OLGA}>"));
    assert_eq!(b.value("#new-channel"), "support");
    assert_eq!(b.value("#new-subject"), "");
}

#[test]
fn a_new_ticket_half_written_is_kept_until_it_is_sent() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/tickets/new");
    let to = b.wait_find("#new-to");
    b.type_into(&to, &format!("Olga Petrova <{OLGA}>"));
    let subject = b.wait_find("#new-subject");
    b.type_into(&subject, SUBJECT);
    let body = b.wait_find("#reply-body");
    b.type_into(&body, "Hello Olga, half a thought");

    // Away and back: all of it is there, the preview too.
    b.open("/inbox");
    b.open("/tickets/new");
    b.wait_find("#new-to");
    assert_eq!(b.value("#new-to"), format!("Olga Petrova <{OLGA}>"));
    assert_eq!(b.value("#new-subject"), SUBJECT);
    assert_eq!(b.value("#reply-body"), "Hello Olga, half a thought");
    assert_eq!(b.text("#subject-preview"), SUBJECT);
    // Not under another customer's address ("New ticket to them" for someone else).
    b.open("/tickets/new?to=ivan%40elsewhere.example.net");
    b.wait_find("#new-to");
    assert_eq!(b.value("#new-to"), "ivan@elsewhere.example.net");
    assert_eq!(b.value("#reply-body"), "");

    // Sent: forgotten.
    b.open("/tickets/new");
    b.wait_find("#new-to");
    assert_eq!(b.value("#reply-body"), "Hello Olga, half a thought");
    b.click_css("form.new-ticket button[type=submit]");
    b.wait_text("article.message.outbound", "half a thought");
    rx.wait_rcpt(OLGA, 1, Duration::from_secs(30));
    b.open("/tickets/new");
    b.wait_find("#new-to");
    assert_eq!(b.value("#new-to"), "");
    assert_eq!(b.value("#new-subject"), "");
    assert_eq!(b.value("#reply-body"), "");
}

#[test]
fn a_refused_new_ticket_stores_nothing_and_keeps_what_was_typed() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    for (to, subject, body, says) in [
        ("", SUBJECT, "Hello", "To: say whom to write to"),
        (
            "olga@customer.example.org, ivan@customer.example.org",
            SUBJECT,
            "Hello",
            "To: write to one customer",
        ),
        ("olga", SUBJECT, "Hello", "is not a mail address"),
        (
            "support+x@example.com",
            SUBJECT,
            "Hello",
            "is one of our own addresses",
        ),
        (OLGA, "  ", "Hello", "give it a subject"),
        (OLGA, SUBJECT, "  ", "the mail is empty"),
    ] {
        let r = jane.post(
            "/tickets/new",
            &[
                ("csrf", &jane.csrf),
                ("channel", "support"),
                ("to", to),
                ("subject", subject),
                ("body", body),
            ],
            &[],
        );
        assert_eq!(r.status, 400, "{to:?} {subject:?}: {}", r.text());
        let page = r.text();
        assert!(page.contains(says), "{to:?}: {page}");
        // The form comes back with what was typed.
        assert!(page.contains(&format!("value=\"{to}\"")), "{page}");
    }
    let r = jane.post(
        "/tickets/new",
        &[
            ("csrf", &jane.csrf),
            ("channel", "nowhere"),
            ("to", OLGA),
            ("subject", SUBJECT),
            ("body", "Hello"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("no channel"), "{}", r.text());
    // Without the CSRF token.
    let r = jane.post(
        "/tickets/new",
        &[("to", OLGA), ("subject", SUBJECT), ("body", "Hello")],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // With a stranger's session cookie missing altogether.
    let r = http(
        &d.http,
        "POST",
        "/tickets/new",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("to={}&subject=x&body=y", form_encode(OLGA)).as_bytes(),
    );
    assert!(r.status == 303 || r.status == 401, "{}", r.status);

    assert!(d.tickets().is_empty(), "{:?}", d.tickets());
    let outbox = d.ctl_json(&["outbox", "list"]);
    assert_eq!(outbox["outbox"], serde_json::json!([]), "{outbox:#}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(rx.messages().is_empty(), "mail went out");
}

#[test]
fn frontdeskctl_opens_a_ticket_by_writing_first() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "open",
            "--as",
            "jane@acme.test",
            "--to",
            "Olga Petrova <olga@customer.example.org>",
            "--subject",
            "Your order ships late",
            "--cc",
            "warehouse@partner.example.net",
        ],
        Some(b"Hello Olga,\nyour order ships on Monday."),
    );
    assert_eq!(code, 0, "{err}{out}");
    let id: i64 = out
        .trim()
        .strip_prefix("ticket #")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(out.contains("opened; its first mail is queued"), "{out}");
    let got = rx.wait_rcpt(OLGA, 1, Duration::from_secs(30));
    let mut to = got[0].rcpt_tos.clone();
    to.sort();
    assert_eq!(to, [OLGA, "warehouse@partner.example.net"]);
    let t = show(&d, id);
    assert_eq!(t["owner"], "jane@acme.test");
    assert_eq!(t["channel"], "support", "the configuration's first channel");

    // Refused in words, and nothing more is stored.
    for (args, says) in [
        (
            vec!["--to", "support@example.com"],
            "one of our own addresses",
        ),
        (vec!["--to", OLGA, "--channel", "nowhere"], "no channel"),
        (
            vec!["--to", OLGA, "--as", "nobody@acme.test"],
            "no active agent",
        ),
    ] {
        let mut all = vec!["tickets", "open", "--subject", "Again"];
        if !args.contains(&"--as") {
            all.extend(["--as", "jane@acme.test"]);
        }
        all.extend(args.iter().copied());
        let (code, out, err) = d.ctl_stdin(&all, Some(b"Hello"));
        assert_ne!(code, 0, "{all:?}: {out}");
        assert!(err.contains(says), "{all:?}: {err}");
    }
    assert_eq!(d.tickets().len(), 1, "{:?}", d.tickets());
}
