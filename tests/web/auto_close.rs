//! Closing tickets left waiting on the customer (`[channel.auto_close]`): a ticket Jane
//! answered says on its page when it closes by itself; left untouched that long, the
//! desk closes it (the open page follows live, the history says why), but not one that
//! is snoozed. The customer writing again opens it as usual, and the clock starts over
//! with the next reply; a follow-up scheduled to go later keeps it open meanwhile.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::{wait_until, Daemon, Settings};
use crate::receiver::Receiver;
use crate::{
    add_agent, deliver, http_sign_in, olga_asks_about_the_hinge, olga_two_tickets, show,
    text_mail_with, PASSWORD, SUPPORT,
};

/// Move the last change of `ticket` back by `seconds`, as if nobody had touched it since.
fn untouched_for(d: &Daemon, ticket: i64, seconds: i64) {
    let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let moved = db
        .execute(
            "UPDATE tickets SET updated_at = updated_at - ?2 WHERE id = ?1",
            [ticket, seconds],
        )
        .unwrap();
    assert_eq!(moved, 1, "ticket #{ticket}");
}

fn status(d: &Daemon, ticket: i64) -> String {
    show(d, ticket)["status"].as_str().unwrap_or("").to_string()
}

#[test]
fn a_ticket_left_waiting_on_the_customer_closes_by_itself() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(
            rx.port,
            "",
            &format!("{SUPPORT}[channel.auto_close]\nafter = \"10m\"\n"),
        ),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "autoclose");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let reply = |ticket: i64, body: &str| {
        let r = jane.post(
            &format!("/tickets/{ticket}/reply"),
            &[("csrf", &jane.csrf), ("body", body)],
            &[],
        );
        assert!(r.status < 400, "{}", r.text());
    };
    reply(hinge, "A new hinge is on its way.");
    reply(invoice, "The copy is attached.");
    wait_until(
        "both replies at the receiver",
        Duration::from_secs(30),
        || rx.for_rcpt("olga@customer.example.org").len() == 2,
    );
    assert_eq!(status(&d, hinge), "Waiting on contact");
    // Jane means to look at the invoice again herself.
    let r = jane.post(
        &format!("/tickets/{invoice}/snooze"),
        &[("csrf", &jane.csrf), ("for", "1d")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{invoice}"));
    assert!(
        !b.text(".meta").contains("closes by itself"),
        "snoozed: {}",
        b.text(".meta")
    );
    b.open(&format!("/tickets/{hinge}"));
    let meta = b.text(".meta");
    assert!(
        meta.contains("closes by itself") && meta.contains("unless the customer answers"),
        "{meta}"
    );
    // The inbox says so on the row (in ten minutes, less the seconds since the reply),
    // and not on the snoozed one.
    b.open("/inbox?view=all");
    let row = b.text(&format!("tr[data-ticket='{hinge}']"));
    assert!(
        row.contains("closes in 9 min") || row.contains("closes in 10 min"),
        "{row}"
    );
    let row = b.text(&format!("tr[data-ticket='{invoice}']"));
    assert!(
        row.contains("snoozed until") && !row.contains("closes in"),
        "{row}"
    );
    b.open(&format!("/tickets/{hinge}"));

    // Not before its time: the desk looks every ten seconds for a ten-minute span.
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(status(&d, hinge), "Waiting on contact", "too soon");
    untouched_for(&d, hinge, 11 * 60);
    untouched_for(&d, invoice, 11 * 60);
    // The page Jane has open follows by itself.
    b.wait_text(".meta", "Closed");
    assert!(!b.text(".meta").contains("closes by itself"));
    assert!(
        b.text(".events").contains(
            "frontdesk: Waiting on contact → Closed (no answer from the customer in 10 min)"
        ),
        "{}",
        b.text(".events")
    );
    assert_eq!(status(&d, hinge), "Closed");
    let history = show(&d, hinge)["events"].to_string();
    assert!(
        history.contains("Waiting on contact → Closed (no answer from the customer in 10 min)"),
        "{history}"
    );
    assert_eq!(
        status(&d, invoice),
        "Waiting on contact",
        "snoozed, kept open"
    );
    // The reports count it apart.
    let report = jane.get("/reports?days=7").text();
    assert!(
        report.contains(r#"<dd id="r-closed">1</dd>"#)
            && report.contains(r#"<dd id="r-closed-unanswered">1</dd>"#),
        "{report}"
    );
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("closed 1 (1 by the desk, no answer from the customer)"),
        "{out}"
    );

    // Olga writes after all: open again, no longer closing by itself while it waits
    // on the desk; Jane's answer starts the clock over.
    olga_asks_about_the_hinge(&d, "autoclose");
    assert_eq!(status(&d, hinge), "Waiting on us");
    b.wait_text(".meta", "Waiting on us");
    assert!(!b.text(".meta").contains("closes by itself"));
    reply(hinge, "It left our warehouse today.");
    b.wait_text(".meta", "closes by itself");
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(status(&d, hinge), "Waiting on contact", "a new ten minutes");

    // A follow-up Jane scheduled for the day after tomorrow keeps it open meanwhile,
    // and the page does not promise otherwise.
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = jane.post(
        &format!("/tickets/{hinge}/reply"),
        &[
            ("csrf", &jane.csrf),
            ("body", "Did the hinge fit?"),
            ("then", "later"),
            ("send_at", &later),
        ],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    b.wait_until("the page without the promise", |b| {
        !b.text(".meta").contains("closes by itself")
    });
    b.open("/inbox?view=all");
    let row = b.text(&format!("tr[data-ticket='{hinge}']"));
    assert!(
        row.contains("Waiting on contact") && !row.contains("closes in"),
        "{row}"
    );
    untouched_for(&d, hinge, 11 * 60);
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(
        status(&d, hinge),
        "Waiting on contact",
        "a reply waits to go"
    );
}

/// The reminder Olga got about the hinge, parsed: subject, text, Message-ID,
/// In-Reply-To, Auto-Submitted.
fn reminders(rx: &Receiver) -> Vec<[String; 5]> {
    rx.for_rcpt("olga@customer.example.org")
        .iter()
        .filter_map(|m| {
            let p = mail_parser::MessageParser::default().parse(&m.raw)?;
            let subject = p.subject().unwrap_or("").to_string();
            subject.starts_with("Still need help").then(|| {
                [
                    subject,
                    p.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
                    p.message_id().unwrap_or("").to_string(),
                    p.in_reply_to().as_text().unwrap_or("").to_string(),
                    p.header_raw("Auto-Submitted")
                        .unwrap_or("")
                        .trim()
                        .to_string(),
                ]
            })
        })
        .collect()
}

/// With `remind`, Olga is mailed before the desk closes her ticket: once, in the
/// thread of Jane's reply, marked automatic, in the channel's words. The ticket stays
/// open until the reminder has had its lead, however long it waited before; her answer
/// to the reminder comes back to the ticket and opens it.
#[test]
fn the_customer_is_reminded_before_the_desk_closes_the_ticket() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(
            rx.port,
            "",
            &format!("{SUPPORT}[channel.auto_close]\nafter = \"10m\"\nremind = \"4m\"\n"),
        ),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "remind");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    for (ticket, body) in [
        (hinge, "A new hinge is on its way."),
        (invoice, "Attached."),
    ] {
        let r = jane.post(
            &format!("/tickets/{ticket}/reply"),
            &[("csrf", &jane.csrf), ("body", body)],
            &[],
        );
        assert!(r.status < 400, "{}", r.text());
    }
    wait_until(
        "both replies at the receiver",
        Duration::from_secs(30),
        || rx.for_rcpt("olga@customer.example.org").len() == 2,
    );
    let replied = rx
        .for_rcpt("olga@customer.example.org")
        .iter()
        .filter_map(|m| {
            let p = mail_parser::MessageParser::default().parse(&m.raw)?;
            (p.subject().unwrap_or("").contains("Broken hinge"))
                .then(|| p.message_id().unwrap_or("").to_string())
        })
        .next()
        .expect("Jane's reply about the hinge");

    // Six minutes in (the span less the lead), the hinge's customer is reminded; the
    // invoice, just answered, is not.
    untouched_for(&d, hinge, 6 * 60 + 5);
    wait_until(
        "the reminder at the receiver",
        Duration::from_secs(30),
        || !reminders(&rx).is_empty(),
    );
    let got = reminders(&rx);
    assert_eq!(got.len(), 1, "{got:?}");
    let [subject, body, reminder_id, in_reply_to, auto] = &got[0];
    assert!(
        subject.starts_with("Still need help with \"Broken hinge\"?"),
        "{subject}"
    );
    assert!(body.contains(&format!("(#{hinge})")), "{body}");
    assert!(
        body.contains("If we hear nothing within 4 minutes, we will close"),
        "{body}"
    );
    assert_eq!(in_reply_to, &replied, "in the thread of Jane's reply");
    assert_eq!(auto, "auto-generated");
    assert_eq!(
        status(&d, hinge),
        "Waiting on contact",
        "a reminder moves nothing"
    );

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    let thread = b.text(".thread");
    assert!(
        thread.contains("reminder") && thread.contains("within 4 minutes"),
        "{thread}"
    );
    assert!(
        b.text(".meta").contains("closes by itself"),
        "{}",
        b.text(".meta")
    );

    // However long it waited, it stays open until the reminder has had its four
    // minutes (the desk looks every ten seconds).
    // (The wait is known by its last change: the reminder's mark moves with it.)
    let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute_batch(&format!(
        "BEGIN;
         UPDATE tickets SET updated_at = updated_at - 3600 WHERE id = {hinge};
         UPDATE close_reminders SET last_change = last_change - 3600 WHERE ticket_id = {hinge};
         COMMIT;"
    ))
    .unwrap();
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(
        status(&d, hinge),
        "Waiting on contact",
        "the reminder's lead runs"
    );
    assert_eq!(reminders(&rx).len(), 1, "reminded once");
    db.execute(
        "UPDATE close_reminders SET queued_at = queued_at - 241 WHERE ticket_id = ?1",
        [hinge],
    )
    .unwrap();
    b.wait_text(".meta", "Closed");
    assert!(
        b.text(".events")
            .contains("no answer from the customer in 10 min"),
        "{}",
        b.text(".events")
    );
    assert_eq!(status(&d, invoice), "Waiting on contact");
    assert_eq!(reminders(&rx).len(), 1, "reminded once");

    // Olga answers the reminder: back to the same ticket, open again.
    deliver(
        &d,
        "olga@customer.example.org",
        "support@example.com",
        &text_mail_with(
            "Olga <olga@customer.example.org>",
            "Re: Still need help",
            "remind.4@customer.example.org",
            "Yes, the hinge has not come.",
            &format!("In-Reply-To: <{reminder_id}>\r\n"),
        ),
    );
    b.wait_text(".meta", "Waiting on us");
    b.wait_text(".thread", "the hinge has not come");
}
