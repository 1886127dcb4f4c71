//! Acknowledgements and Invariant 3 (mail never loops): a human's first message gets
//! exactly one acknowledgement marked `Auto-Submitted: auto-replied`; automatic mail,
//! our own addresses, list and bulk mail, bounces and imported history get none; a
//! storm from one contact gets at most `max_per_hour`.
//!
//! Absence is proved without sleeping: acknowledgements are queued in the ingest commit
//! (before LMTP answers 250), so after a last human message's acknowledgement has been
//! received and the outbox has nothing queued, everything earlier was decided and sent.

use serde_json::{json, Value};

use crate::harness::Daemon;
use crate::receiver::Receiver;
use crate::{
    customer_mail, daemon, header, inspect, lmtp, message_in, outbox, ticket_of, wait_outbox_idle,
    MAIL_DEADLINE,
};

const MAX_PER_HOUR: usize = 3;

fn channels() -> String {
    format!(
        r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
aliases = ["help@example.com"]
[channel.acknowledgement]
subject = "We got it: {{{{ticket.subject}}}}"
body = "Hello {{{{contact.name}}}}, this is ticket {{{{ticket.id}}}}."
max_per_hour = {MAX_PER_HOUR}

[[channel]]
kind = "email"
name = "sales"
address = "sales@example.com"
"#
    )
}

const ACK_MARK: &str = "Auto-Submitted: auto-replied";

/// Acknowledgement entries in the outbox.
fn acks(d: &Daemon) -> Vec<Value> {
    outbox(d)
        .into_iter()
        .filter(|o| o["kind"] == "acknowledgement")
        .collect()
}

fn deliver(d: &Daemon, envelope_from: &str, raw: Vec<u8>) {
    lmtp(d, envelope_from, "support@example.com", &raw);
}

/// A human writes a new ticket and waits for its acknowledgement: the barrier.
fn human_barrier(d: &Daemon, rx: &Receiver, who: &str) {
    deliver(
        d,
        who,
        customer_mail(
            &format!("Last Human <{who}>"),
            "support@example.com",
            "Barrier question",
            &format!("barrier-{who}"),
            "",
            "Hi\r\n",
        ),
    );
    rx.wait_rcpt(who, 1, MAIL_DEADLINE);
    wait_outbox_idle(d);
}

#[test]
fn one_acknowledgement_for_a_human_none_for_automatic_mail() {
    let rx = Receiver::start();
    let d = daemon(&rx, &channels());
    // 1. A human's first message: exactly one acknowledgement.
    deliver(
        &d,
        "human@example.org",
        customer_mail(
            "Hannah Human <human@example.org>",
            "support@example.com",
            "My order",
            "h1@example.org",
            "",
            "Where is it?\r\n",
        ),
    );
    let ticket = ticket_of(&d, "h1@example.org");
    let got = rx.wait_for("<h1@example.org>", 1, MAIL_DEADLINE);
    let ack = &inspect(&[got[0].path_str()])[0];
    assert_eq!(header(ack, "auto-submitted"), "auto-replied");
    assert_eq!(ack["in_reply_to"], "h1@example.org");
    assert_eq!(ack["to"][0]["address"], "human@example.org");
    assert_eq!(ack["from"][0]["address"], "support@example.com");
    assert_eq!(ack["from"][0]["name"], "Acme");
    let subject = header(ack, "subject");
    assert!(
        subject.starts_with(&format!("We got it: My order [#{ticket}-")),
        "{subject}"
    );
    let reply_to = ack["reply_to"][0]["address"].as_str().unwrap().to_string();
    assert!(
        reply_to.starts_with(&format!("support+t{ticket}-")),
        "{reply_to}"
    );
    assert!(
        got[0].mail_from.starts_with("support+b"),
        "ack envelope sender {}",
        got[0].mail_from
    );
    let ack_id = ack["message_id"].as_str().unwrap().to_string();
    let ack_text = crate::messages_with(&d.ticket(ticket), "outbound");
    assert_eq!(
        ack_text.len(),
        1,
        "the acknowledgement is not on the ticket"
    );

    // 2. The human writes again in the thread: not a new ticket, no acknowledgement.
    deliver(
        &d,
        "human@example.org",
        customer_mail(
            "Hannah Human <human@example.org>",
            "support@example.com",
            "Re: My order",
            "h2@example.org",
            "In-Reply-To: <h1@example.org>\r\nReferences: <h1@example.org>\r\n",
            "Still waiting\r\n",
        ),
    );
    assert_eq!(ticket_of(&d, "h2@example.org"), ticket);

    // 3. The human's auto-responder answers our acknowledgement.
    deliver(
        &d,
        "human@example.org",
        customer_mail(
            "Hannah Human <human@example.org>",
            &reply_to,
            &format!("Automatic reply: {subject}"),
            "ooo1@example.org",
            &format!("Auto-Submitted: auto-replied\r\nIn-Reply-To: <{ack_id}>\r\nReferences: <{ack_id}>\r\n"),
            "I am out of the office until Monday.\r\n",
        ),
    );
    let t = d.ticket(ticket);
    let ooo = message_in(&t, "ooo1@example.org");
    assert_eq!(ooo["auto"], true, "{ooo:#}");

    // 4. An auto-responder that drops every header: a new ticket, still no acknowledgement.
    deliver(
        &d,
        "robot@example.org",
        customer_mail(
            "Robot <robot@example.org>",
            "support@example.com",
            "Out of office",
            "ooo2@example.org",
            "Auto-Submitted: auto-replied\r\n",
            "I am away.\r\n",
        ),
    );
    deliver(
        &d,
        "robot2@example.org",
        customer_mail(
            "Robot Two <robot2@example.org>",
            "support@example.com",
            "Autoreply: thanks",
            "ooo3@example.org",
            "X-Autoreply: yes\r\nPrecedence: auto_reply\r\n",
            "Thanks, we will get back to you.\r\n",
        ),
    );

    // 5. Our own addresses: another channel's, this channel's, an alias.
    for (i, from) in [
        "Sales <sales@example.com>",
        "Support <support@example.com>",
        "Help <help@example.com>",
    ]
    .iter()
    .enumerate()
    {
        let addr = from.split_once('<').unwrap().1.trim_end_matches('>');
        deliver(
            &d,
            addr,
            customer_mail(
                from,
                "support@example.com",
                &format!("Internal {i}"),
                &format!("own{i}@example.com"),
                "",
                "From inside.\r\n",
            ),
        );
    }

    // 6. List and bulk mail.
    deliver(
        &d,
        "bounces@lists.example.org",
        customer_mail(
            "News <news@lists.example.org>",
            "support@example.com",
            "[news] Issue 42",
            "list1@example.org",
            "List-Id: Example news <news.lists.example.org>\r\nList-Unsubscribe: <mailto:leave@lists.example.org>\r\n",
            "News.\r\n",
        ),
    );
    deliver(
        &d,
        "promo@example.org",
        customer_mail(
            "Promo <promo@example.org>",
            "support@example.com",
            "Big sale",
            "bulk1@example.org",
            "Precedence: bulk\r\n",
            "Buy now.\r\n",
        ),
    );

    // 7. A bounce about mail we do not know (opens a ticket or not; never acknowledged).
    let bounce = "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n\
        To: support@example.com\r\n\
        Subject: Undelivered Mail Returned to Sender\r\n\
        Message-ID: <dsn-unknown@mx.example.org>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
        --B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n\
        --B\r\nContent-Type: message/delivery-status\r\n\r\n\
        Reporting-MTA: dns; mx.example.org\r\n\r\n\
        Final-Recipient: rfc822; someone@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\
        Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n--B--\r\n";
    deliver(&d, "", bounce.as_bytes().to_vec());

    // 8. History imported from an mbox: a human's first message, but old.
    let mbox = d.dir.path().join("history.mbox");
    let mut text = b"From history@example.org Mon Jan  6 09:00:00 2025\n".to_vec();
    text.extend(
        String::from_utf8(customer_mail(
            "Old Customer <history@example.org>",
            "support@example.com",
            "An old question",
            "hist1@example.org",
            "",
            "Asked last year.\r\n",
        ))
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes(),
    );
    text.push(b'\n');
    std::fs::write(&mbox, &text).unwrap();
    d.ctl_json(&["import", "--channel", "support", mbox.to_str().unwrap()]);
    ticket_of(&d, "hist1@example.org");

    // Barrier: one more human gets an acknowledgement, then nothing is queued.
    human_barrier(&d, &rx, "last@example.org");
    let acks = acks(&d);
    let mut to: Vec<String> = acks
        .iter()
        .map(|a| a["recipients"][0].as_str().unwrap().to_string())
        .collect();
    to.sort();
    assert_eq!(
        to,
        vec!["human@example.org", "last@example.org"],
        "acknowledgements went to: {acks:#?}"
    );
    let received: Vec<String> = rx
        .matching(ACK_MARK)
        .iter()
        .flat_map(|m| m.rcpt_tos.clone())
        .collect();
    assert_eq!(
        received.len(),
        2,
        "receiver got acknowledgements for {received:?}"
    );
    // Nothing else left at all (no reply to anything automatic).
    assert_eq!(rx.messages().len(), 2, "{:?}", outbox(&d));
}

#[test]
fn a_storm_from_one_contact_gets_at_most_max_per_hour() {
    let rx = Receiver::start();
    let d = daemon(&rx, &channels());
    let dir = d.dir.path();
    let mut steps = vec![json!(["lhlo", "mx.example.org"])];
    for i in 0..100 {
        let path = dir.join(format!("storm{i}.eml"));
        std::fs::write(
            &path,
            customer_mail(
                "Stormy <storm@example.org>",
                "support@example.com",
                &format!("Urgent thing number {i}"),
                &format!("storm{i}@example.org"),
                "",
                "Please answer!\r\n",
            ),
        )
        .unwrap();
        steps.push(json!(["mail", "storm@example.org"]));
        steps.push(json!(["rcpt", "support@example.com"]));
        steps.push(json!(["data", path.to_str().unwrap(), 1]));
    }
    steps.push(json!(["quit"]));
    let r = d.lmtp_session(&Value::Array(steps));
    for (i, step) in r.iter().enumerate().skip(2) {
        assert!(
            step.iter().all(|(c, _)| *c == 250 || *c == 221),
            "step {i}: {step:?}"
        );
    }
    assert_eq!(d.tickets().len(), 100, "the storm did not open 100 tickets");
    // Another contact is not limited by the storm.
    human_barrier(&d, &rx, "calm@example.org");
    let storm_acks: Vec<Value> = acks(&d)
        .into_iter()
        .filter(|a| a["recipients"][0] == "storm@example.org")
        .collect();
    assert_eq!(
        storm_acks.len(),
        MAX_PER_HOUR,
        "acknowledgements to the storm's sender: {storm_acks:#?}"
    );
    let received = rx.for_rcpt("storm@example.org");
    assert!(
        received.len() <= MAX_PER_HOUR,
        "the storm's sender received {} acknowledgements, limit {MAX_PER_HOUR}",
        received.len()
    );
    assert_eq!(received.len(), MAX_PER_HOUR);
    assert!(received.iter().all(|m| m.contains(ACK_MARK)));
}

#[test]
fn a_rule_files_alerts_closed_without_an_acknowledgement() {
    let rx = Receiver::start();
    let rules = r#"
[[rule]]
name = "Alerts"
from = ["@monitoring.example"]
status = "closed"
tags = ["alert"]

[[rule]]
name = "Newsletters"
subject = ["newsletter"]
acknowledge = false
"#;
    let d = daemon(
        &rx,
        &format!(
            "[notifications]\nfrom = \"desk-noreply@acme.test\"\ndelay_seconds = 0\n\n{}{rules}",
            channels()
        ),
    );
    let ctl = |args: &[&str]| {
        let (code, out, err) = d.ctl(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    ctl(&[
        "users",
        "add",
        "alex@acme.test",
        "--name",
        "Alex Adams",
        "--seat",
    ]);
    ctl(&["users", "set", "alex@acme.test", "--notify", "new-ticket"]);

    // The monitoring's alert: filed closed, tagged, nobody's, unacknowledged.
    deliver(
        &d,
        "nagios@monitoring.example",
        customer_mail(
            "Nagios <nagios@monitoring.example>",
            "support@example.com",
            "Disk 91 % full on db1",
            "a1@monitoring.example",
            "",
            "Disk usage is 91 %.\r\n",
        ),
    );
    // A newsletter: open, as the channel says, but unacknowledged.
    deliver(
        &d,
        "news@vendor.example",
        customer_mail(
            "Vendor <news@vendor.example>",
            "support@example.com",
            "Our November newsletter",
            "n1@vendor.example",
            "",
            "News.\r\n",
        ),
    );
    // A customer: acknowledged as ever. Once that is sent, everything before was decided.
    human_barrier(&d, &rx, "olga@customer.example");

    let alert = d.ticket(ticket_of(&d, "a1@monitoring.example"));
    assert_eq!(alert["status"], "Closed", "{alert:#}");
    assert!(alert["owner"].is_null(), "{alert:#}");
    assert_eq!(alert["tags"], json!(["alert"]));
    assert!(
        alert["events"]
            .to_string()
            .contains(r#"rule \"Alerts\": tags alert, status Closed"#),
        "{alert:#}"
    );
    let news = d.ticket(ticket_of(&d, "n1@vendor.example"));
    assert_eq!(news["status"], "New", "{news:#}");
    assert!(
        news["events"]
            .to_string()
            .contains(r#"rule \"Newsletters\": no acknowledgement"#),
        "{news:#}"
    );
    let acked: Vec<String> = acks(&d)
        .iter()
        .map(|a| a["recipients"].to_string())
        .collect();
    assert_eq!(acked.len(), 1, "{acked:?}");
    assert!(acked[0].contains("olga@customer.example"), "{acked:?}");
    assert!(rx.for_rcpt("nagios@monitoring.example").is_empty());
    assert!(rx.for_rcpt("news@vendor.example").is_empty());

    // The agent who asked to hear of new tickets nobody owns hears of the newsletter
    // and the customer's, not of the alert (closed when the notice falls due).
    let told = rx.wait_for("Barrier question", 1, MAIL_DEADLINE);
    assert!(told
        .iter()
        .any(|m| m.rcpt_tos.iter().any(|r| r == "alex@acme.test")));
    let to_alex = rx.for_rcpt("alex@acme.test");
    assert!(
        to_alex.iter().any(|m| m.contains("newsletter")),
        "no notice of the newsletter"
    );
    assert!(
        !to_alex
            .iter()
            .any(|m| m.contains("monitoring.example") || m.contains("Disk 91")),
        "a notice of the alert"
    );

    // Filed closed as it came, like history: not in the reports' opened or closed.
    let report = &d.ctl_json(&["report", "--days", "1"])["report"];
    assert_eq!(report["opened"], 2, "{report:#}");
    assert_eq!(report["closed"], 0, "{report:#}");
}
