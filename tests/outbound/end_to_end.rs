//! End to end: a customer's mail arrives over LMTP, an agent replies with frontdeskctl,
//! the reply goes through the SMTP receiver into a real Dovecot mailbox and is read back
//! over IMAP as the customer's client would; the customer's answers, written from that
//! copy with a client's usual header loss, thread back into the same ticket.

use serde_json::Value;

use crate::dovecot::{Dovecot, Options, User};
use crate::harness::{self, Daemon};
use crate::receiver::Receiver;
use crate::{
    add_user, customer_mail, daemon, header, inspect, lmtp, message_in, reply, ticket_of,
    wait_entry, MAIL_DEADLINE, SUPPORT,
};

const CUSTOMER: &str = "customer@example.org";

/// Fetch the customer's INBOX over IMAP; the inspected messages.
fn read_inbox(dovecot: &Dovecot, d: &Daemon) -> Vec<Value> {
    let out = d.dir.path().join("imap");
    let fetched = harness::python(
        "smtp_imap_fetch.py",
        &[
            "127.0.0.1",
            &dovecot.imap_port.to_string(),
            CUSTOMER,
            "secret",
            out.to_str().unwrap(),
        ],
    );
    let paths: Vec<String> = fetched
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["path"].as_str().unwrap().to_string())
        .collect();
    if paths.is_empty() {
        return Vec::new();
    }
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    inspect(&refs)
}

/// The customer's answer, delivered to frontdesk as the MTA would (RCPT = To).
fn answer(d: &Daemon, to: &str, subject: &str, mid: &str, extra: &str) -> Value {
    lmtp(
        d,
        CUSTOMER,
        to,
        &customer_mail(
            "Carla Customer <customer@example.org>",
            to,
            subject,
            mid,
            extra,
            "Thanks, that helped.\r\n\r\n> quoted reply text\r\n",
        ),
    );
    let ticket = ticket_of(d, mid);
    message_in(&d.ticket(ticket), mid)
}

#[test]
fn reply_reaches_an_imap_mailbox_and_answers_thread_back() {
    let dovecot = Dovecot::start(Options {
        users: vec![User::new(CUSTOMER, "secret")],
        ..Options::default()
    });
    let rx = Receiver::start_with(Some(format!("127.0.0.1:{}", dovecot.lmtp_port)));
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");

    // The customer writes; frontdesk gets it over LMTP.
    lmtp(
        &d,
        CUSTOMER,
        "support@example.com",
        &customer_mail(
            "Carla Customer <customer@example.org>",
            "support@example.com",
            "Cannot log in",
            "carla-1@example.org",
            "",
            "My password does not work.\r\n",
        ),
    );
    let ticket = ticket_of(&d, "carla-1@example.org");
    let id = reply(
        &d,
        ticket,
        "jane@acme.test",
        "Please try the reset link.\n",
        &[],
    );
    wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    rx.wait_for("Please try the reset link.", 1, MAIL_DEADLINE);

    // Read back over IMAP, as the customer.
    let inbox = read_inbox(&dovecot, &d);
    assert_eq!(inbox.len(), 1, "the customer's INBOX: {inbox:#?}");
    let got = &inbox[0];
    assert!(
        got["defects"].as_array().unwrap().is_empty(),
        "{:#}",
        got["defects"]
    );
    assert_eq!(got["from"][0]["name"], "Jane Doe at Acme");
    assert_eq!(got["from"][0]["address"], "support@example.com");
    assert_eq!(got["in_reply_to"], "carla-1@example.org");
    let ours = got["message_id"].as_str().unwrap().to_string();
    let reply_to = got["reply_to"][0]["address"].as_str().unwrap().to_string();
    let subject = header(got, "subject");
    assert!(subject.starts_with("Re: Cannot log in [#"), "{subject}");
    // Dovecot stored the envelope sender it was given: the VERP address.
    let return_path = header(got, "return-path");
    assert!(
        return_path.contains(&format!("support+b{id}-")),
        "Return-Path {return_path}"
    );

    // A client that loses In-Reply-To and References but keeps To = Reply-To and the subject.
    let a = answer(
        &d,
        &reply_to,
        &format!("Re: {subject}"),
        "carla-2@example.org",
        "",
    );
    assert_eq!(
        ticket_of(&d, "carla-2@example.org"),
        ticket,
        "the answer to the Reply-To address opened a new ticket"
    );
    assert_eq!(a["thread_reason"], "reply-token", "{a:#}");

    // A client that keeps only In-Reply-To, writes to the plain address, new subject.
    let b = answer(
        &d,
        "support@example.com",
        "One more thing",
        "carla-3@example.org",
        &format!("In-Reply-To: <{ours}>\r\n"),
    );
    assert_eq!(ticket_of(&d, "carla-3@example.org"), ticket);
    assert_eq!(b["thread_reason"], "headers", "{b:#}");

    // A client that keeps only the subject (with its tag), to the plain address.
    let c = answer(
        &d,
        "support@example.com",
        &format!("AW: {subject}"),
        "carla-4@example.org",
        "",
    );
    assert_eq!(ticket_of(&d, "carla-4@example.org"), ticket);
    assert_eq!(c["thread_reason"], "verified-tag", "{c:#}");

    assert_eq!(d.tickets().len(), 1, "{:#?}", d.tickets());
    // A second reply threads in the customer's client too: In-Reply-To the latest answer,
    // References through the whole conversation including our first reply.
    let id2 = reply(&d, ticket, "jane@acme.test", "Glad it works.\n", &[]);
    wait_entry(&d, id2, "sent", |e| e["status"] == "sent");
    rx.wait_for("Glad it works.", 1, MAIL_DEADLINE);
    let inbox = read_inbox(&dovecot, &d);
    assert_eq!(inbox.len(), 2);
    let second = inbox
        .iter()
        .find(|m| m["message_id"] != ours.as_str())
        .unwrap();
    let refs: Vec<&str> = second["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(refs.contains(&"carla-1@example.org"), "{refs:?}");
    assert!(
        refs.contains(&ours.as_str()),
        "References lack our first reply: {refs:?}"
    );
    assert_eq!(second["in_reply_to"], "carla-4@example.org");
}
