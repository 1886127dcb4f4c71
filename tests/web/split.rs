//! Split: a customer who asks something new on an old thread gets a ticket of its own.
//! "Split off" on their mail (after a confirmation) moves it to a new ticket with the
//! old one's owner and priority and the people the mail copied, in the first open stage,
//! under its own subject without "Re:" or the old ticket's tag; both histories say so,
//! and answers to that mail
//! thread to the new ticket. A note, our own reply, the mail that opened the ticket,
//! another ticket's mail or a request without the CSRF token split nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::wait_until;
use crate::{
    add_agent, daemon, deliver, history, http_sign_in, message_rows, olga_two_tickets, show,
    text_mail_with, PASSWORD,
};

#[test]
fn a_new_question_on_an_old_thread_is_split_off_into_a_ticket_of_its_own() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "split");
    // Her follow-up copies a colleague (and our own address, which is not a person).
    deliver(
        &d,
        "olga@customer.example.org",
        "support@example.com",
        &text_mail_with(
            "Olga <olga@customer.example.org>",
            "Re: Broken hinge",
            "split.3@customer.example.org",
            "Any news? And can we get a copy of the invoice?",
            "In-Reply-To: <split.1@customer.example.org>\r\n\
             Cc: Pat Doe <pat@customer.example.org>, support+x@example.com\r\n",
        ),
    );
    wait_until("the follow-up threaded", Duration::from_secs(10), || {
        message_rows(&show(&d, hinge), "inbound").len() == 2
    });
    for args in [
        vec!["tickets", "assign", "1", "jane@acme.test"],
        vec!["tickets", "priority", "1", "high"],
    ] {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if *a == "1" {
                    hinge.to_string()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = d.ctl(&args);
        assert_eq!(code, 0, "{args:?}: {err}{out}");
    }
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.post(
        &format!("/tickets/{hinge}/note"),
        &[("csrf", &jane.csrf), ("body", "Checking stock.")],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    let t = show(&d, hinge);
    let (first, follow_up) = (
        message_rows(&t, "inbound")[0],
        message_rows(&t, "inbound")[1],
    );
    let note = message_rows(&t, "note")[0];
    let other = message_rows(&show(&d, invoice), "inbound")[0];

    // Refused, and nothing changes.
    let before = (show(&d, hinge), show(&d, invoice));
    for (ticket, message, with_token, status, says) in [
        (
            hinge,
            note.to_string(),
            true,
            400,
            "is not a customer's mail",
        ),
        (hinge, other.to_string(), true, 400, "is not on ticket"),
        (invoice, other.to_string(), true, 400, "opened ticket"),
        (hinge, "x".to_string(), true, 400, "No such mail"),
        (hinge, follow_up.to_string(), false, 403, ""),
    ] {
        let mut form = vec![("message", message.as_str())];
        if with_token {
            form.push(("csrf", jane.csrf.as_str()));
        }
        let r = jane.post(&format!("/tickets/{ticket}/split"), &form, &[]);
        assert_eq!(r.status, status, "{message}: {}", r.text());
        assert!(r.text().contains(says), "{message}: {}", r.text());
    }
    assert_eq!(
        (show(&d, hinge), show(&d, invoice)),
        before,
        "a refused split changed a ticket"
    );

    // From the page, after the confirmation: on the new ticket.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    assert!(
        b.find(&format!("#m{note} form.split")).is_none(),
        "a note offers Split off"
    );
    b.click_css(&format!("#m{follow_up} form.split button"));
    let asked = b.answer_dialog(true);
    assert!(asked.contains("Split this mail off"), "{asked}");
    b.wait_until("on the new ticket", |b| {
        b.path().starts_with("/tickets/") && b.path() != format!("/tickets/{hinge}")
    });
    let new: i64 = b
        .path()
        .trim_start_matches("/tickets/")
        .parse()
        .expect("a ticket number");
    let t = show(&d, new);
    assert_eq!(t["subject"], "Broken hinge", "{t:#}");
    assert_eq!(t["status"], "New");
    assert_eq!(t["owner"], "jane@acme.test");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["contact"]["email"], "olga@customer.example.org");
    assert_eq!(message_rows(&t, "inbound"), [follow_up]);
    let people: Vec<(String, String)> = t["participants"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| {
                    let field = |k: &str| p[k].as_str().unwrap_or("").to_string();
                    (field("email"), field("role"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        people,
        [
            ("olga@customer.example.org".into(), "customer".into()),
            ("pat@customer.example.org".into(), "participant".into())
        ],
        "the people on the new ticket"
    );
    assert!(
        history(&t).contains(&format!("split off ticket #{hinge} (message {follow_up})")),
        "{}",
        history(&t)
    );
    let old = show(&d, hinge);
    assert_eq!(message_rows(&old, "inbound"), [first]);
    assert_eq!(message_rows(&old, "note"), [note]);
    assert!(history(&old).contains(&format!("message {follow_up} split off into ticket #{new}")));
    // Only the opening mail left: the old ticket offers no split any more.
    b.open(&format!("/tickets/{hinge}"));
    assert!(b.find("form.split").is_none());

    // Olga answering her own follow-up lands on the new ticket.
    deliver(
        &d,
        "olga@customer.example.org",
        "support@example.com",
        &text_mail_with(
            "Olga <olga@customer.example.org>",
            "Re: Re: Broken hinge",
            "split.4@customer.example.org",
            "And the left one too.",
            "In-Reply-To: <split.3@customer.example.org>\r\n",
        ),
    );
    wait_until(
        "the answer on the new ticket",
        Duration::from_secs(10),
        || message_rows(&show(&d, new), "inbound").len() == 2,
    );
    assert_eq!(message_rows(&show(&d, hinge), "inbound"), [first]);

    // frontdeskctl splits too.
    let latest = message_rows(&show(&d, new), "inbound")[1];
    let (code, out, err) = d.ctl(&[
        "tickets",
        "split",
        &new.to_string(),
        "--message",
        &latest.to_string(),
        "--as",
        "jane@acme.test",
    ]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(out.contains("split off into ticket #"), "{out}");
    assert_eq!(message_rows(&show(&d, new), "inbound"), [follow_up]);
    let (code, _, err) = d.ctl(&[
        "tickets",
        "split",
        &hinge.to_string(),
        "--message",
        &first.to_string(),
    ]);
    assert_ne!(code, 0, "the opening mail was split off");
    assert!(err.contains("only a later mail is split off"), "{err}");
}
