//! Bounces of delivered replies, sent back over LMTP the way an MTA returns them: a DSN
//! to the VERP envelope sender (no returned message at all, so only the address can
//! name the entry), and a DSN to the plain channel address that names the original
//! only by the Message-ID in its text/rfc822-headers part.

use serde_json::Value;

use crate::harness::Daemon;
use crate::receiver::{Received, Receiver};
use crate::{
    add_user, customer_mail, daemon, lmtp, message_in, messages_with, reply, ticket_of, wait_entry,
    MAIL_DEADLINE, SUPPORT,
};

/// A customer writes, Jane answers, the receiver gets it: (ticket, outbox id, received).
fn delivered_reply(d: &Daemon, rx: &Receiver, who: &str) -> (i64, i64, Received) {
    let mid = format!("first-{who}");
    lmtp(
        d,
        who,
        "support@example.com",
        &customer_mail(
            &format!("Customer <{who}>"),
            "support@example.com",
            "Where is my parcel?",
            &mid,
            "",
            "Hello\r\n",
        ),
    );
    let ticket = ticket_of(d, &mid);
    let id = reply(
        d,
        ticket,
        "jane@acme.test",
        &format!("Reply to {who}.\n"),
        &[],
    );
    wait_entry(d, id, "sent", |e| e["status"] == "sent");
    let got = rx.wait_for(&format!("Reply to {who}."), 1, MAIL_DEADLINE);
    (ticket, id, got[0].clone())
}

/// The headers of a received message (up to the blank line).
fn head(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.split("\r\n\r\n").next().unwrap().to_string()
}

fn dsn(to: &str, recipient: &str, diagnostic: &str, returned: &str, dsn_id: &str) -> Vec<u8> {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n\
         To: {to}\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: Wed, 5 Mar 2025 10:00:00 +0000\r\n\
         Message-ID: <{dsn_id}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"BOUND\"\r\n\
         \r\n\
         --BOUND\r\n\
         Content-Type: text/plain; charset=us-ascii\r\n\
         \r\n\
         This is the mail system at host mx.example.org.\r\n\
         I'm sorry to have to inform you that your message could not be delivered.\r\n\
         \r\n\
         --BOUND\r\n\
         Content-Type: message/delivery-status\r\n\
         \r\n\
         Reporting-MTA: dns; mx.example.org\r\n\
         Arrival-Date: Wed, 5 Mar 2025 09:59:58 +0000\r\n\
         \r\n\
         Final-Recipient: rfc822; {recipient}\r\n\
         Original-Recipient: rfc822;{recipient}\r\n\
         Action: failed\r\n\
         Status: 5.2.2\r\n\
         Remote-MTA: dns; mail.example.org\r\n\
         Diagnostic-Code: smtp; {diagnostic}\r\n\
         \r\n\
         {returned}--BOUND--\r\n"
    )
    .into_bytes()
}

fn check_bounced(
    d: &Daemon,
    ticket: i64,
    id: i64,
    dsn_id: &str,
    words: &str,
    tickets_before: usize,
) {
    let e = wait_entry(d, id, "failed by the bounce", |e| e["status"] == "failed");
    let err = e["last_error"].as_str().unwrap_or("");
    assert!(err.contains(words), "last_error {err:?} lacks {words:?}");
    assert_eq!(
        d.tickets().len(),
        tickets_before,
        "the bounce opened a ticket"
    );
    let t = d.ticket(ticket);
    let m = message_in(&t, dsn_id);
    assert_eq!(m["auto"], true, "the bounce is not marked auto: {m:#}");
    assert_eq!(m["auto_kind"], "bounce", "{m:#}");
    assert_eq!(m["thread_reason"], "bounce", "{m:#}");
    let notes = messages_with(&t, "note");
    assert!(
        notes
            .iter()
            .any(|n| n["text"].as_str().unwrap_or("").contains(words)),
        "no note with {words:?} on ticket {ticket}: {t:#}"
    );
}

const ACK_SUPPORT: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
[channel.acknowledgement]
subject = "We got it: {{ticket.subject}}"
body = "Hello, this is ticket {{ticket.id}}."
max_per_hour = 100
"#;

#[test]
fn dsn_to_the_verp_address_fails_the_entry() {
    let rx = Receiver::start();
    let d = daemon(&rx, SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let (ticket, id, got) = delivered_reply(&d, &rx, "full@example.org");
    assert!(
        got.mail_from.contains(&format!("+b{id}-")),
        "{}",
        got.mail_from
    );
    let before = d.tickets().len();
    let words = "552 5.2.2 <full@example.org>: Mailbox full, quota exceeded";
    // No returned message, no Message-ID of ours anywhere: only the VERP address.
    let raw = dsn(
        &got.mail_from,
        "full@example.org",
        words,
        "",
        "dsn-verp@mx.example.org",
    );
    lmtp(&d, "", &got.mail_from, &raw);
    check_bounced(
        &d,
        ticket,
        id,
        "dsn-verp@mx.example.org",
        "Mailbox full, quota exceeded",
        before,
    );
}

#[test]
fn dsn_to_the_plain_address_with_returned_headers_fails_the_entry() {
    let rx = Receiver::start();
    let d = daemon(&rx, ACK_SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    let (ticket, id, got) = delivered_reply(&d, &rx, "moved@example.org");
    let before = d.tickets().len();
    let acks_before = rx.matching("Auto-Submitted: auto-replied").len();
    assert_eq!(
        acks_before, 1,
        "the customer's first message got no acknowledgement"
    );
    let returned = format!(
        "--BOUND\r\nContent-Type: text/rfc822-headers\r\n\r\n{}\r\n\r\n",
        head(&got.raw)
    );
    let words = "550 5.1.6 <moved@example.org>: Recipient has moved";
    let raw = dsn(
        "support@example.com",
        "moved@example.org",
        words,
        &returned,
        "dsn-plain@mx.example.org",
    );
    lmtp(&d, "", "support@example.com", &raw);
    check_bounced(
        &d,
        ticket,
        id,
        "dsn-plain@mx.example.org",
        "Recipient has moved",
        before,
    );
    // The only acknowledgement is the customer's; the bounce got none.
    wait_entry(&d, id, "failed", |e| e["status"] == "failed");
    crate::wait_outbox_idle(&d);
    let acks: Vec<Value> = crate::outbox(&d)
        .into_iter()
        .filter(|o| o["kind"] == "acknowledgement")
        .collect();
    assert_eq!(acks.len(), 1, "{acks:#?}");
    assert_eq!(rx.matching("Auto-Submitted: auto-replied").len(), 1);
}
