//! Customers rate replies (a channel's `ratings = true`): the reply that reaches the SMTP
//! receiver ends with three links to the desk's public address; the customer opens one
//! in Chromium without signing in, adds a word and sends it; the agent sees it under
//! the reply (and by mail when it is "Not good") and the reports count it. A link whose
//! MAC is wrong, a rating that is not one, or an agent following the link changes nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::{wait_until, Daemon, Settings};
use crate::receiver::Receiver;
use crate::{add_agent, http, http_sign_in, olga_two_tickets, Agent, PASSWORD, SUPPORT};

const PUBLIC: &str = "https://desk.acme.test";
const OLGA: &str = "olga@customer.example.org";

/// The ratings kept, as (message row, rating, comment).
fn kept(d: &Daemon) -> Vec<(i64, String, String)> {
    let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut stmt = db
        .prepare("SELECT message_row, rating, comment FROM ratings ORDER BY message_row")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

/// A desk on `channels` relaying to `rx`, reached at [`PUBLIC`]; Olga's two tickets
/// (`tag`), the hinge taken by Jane and answered, her reply at the receiver. The desk,
/// Jane, the hinge and the invoice.
fn jane_answered_the_hinge(rx: &Receiver, channels: &str, tag: &str) -> (Daemon, Agent, i64, i64) {
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(rx.port, "", channels),
        public_url: Some(PUBLIC.into()),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, tag);
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.post(
        &format!("/tickets/{hinge}/assign"),
        &[("csrf", &jane.csrf), ("to", "agent:jane@acme.test")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = jane.post(
        &format!("/tickets/{hinge}/reply"),
        &[("csrf", &jane.csrf), ("body", "A new hinge is on its way.")],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    wait_until("the reply at the receiver", Duration::from_secs(30), || {
        !rx.for_rcpt(OLGA).is_empty()
    });
    (d, jane, hinge, invoice)
}

#[test]
fn a_customer_rates_a_reply_from_its_link_and_the_agent_sees_it() {
    let rx = Receiver::start();
    let channels = crate::notifying_at_once(&format!("{SUPPORT}ratings = true\n"));
    let (d, jane, hinge, _) = jane_answered_the_hinge(&rx, &channels, "rating");
    let text = crate::notify::body(&rx.for_rcpt(OLGA)[0]);
    assert!(text.contains("How was this reply?"), "{text}");
    // "Not good: https://desk.acme.test/rate/<ticket>/<mac>?r=bad": the proxy in front
    // of the desk passes the path on, as the browser does here.
    let bad = text
        .lines()
        .find_map(|l| l.strip_prefix("Not good: "))
        .unwrap_or_else(|| panic!("no rating link in {text}"))
        .trim()
        .to_string();
    let path = bad
        .strip_prefix(PUBLIC)
        .unwrap_or_else(|| panic!("{bad} is not on {PUBLIC}"))
        .to_string();
    let page = path.split('?').next().unwrap().to_string();
    assert!(page.starts_with(&format!("/rate/{hinge}/")), "{page}");
    assert!(
        text.contains(&format!("Good: {PUBLIC}{page}?r=good")),
        "{text}"
    );

    // A link with one digit changed, or on another ticket, names no reply.
    let mac = page.rsplit('/').next().unwrap();
    let flipped = format!(
        "/rate/{hinge}/{}{}",
        if mac.starts_with('0') { '1' } else { '0' },
        &mac[1..]
    );
    for wrong in [
        flipped.as_str(),
        &format!("/rate/{}/{mac}", hinge + 1),
        "/rate/x/y",
    ] {
        let r = http(&d.http, "GET", &format!("{wrong}?r=bad"), &[], b"");
        assert_eq!(r.status, 404, "{wrong}: {}", r.text());
        let r = http(
            &d.http,
            "POST",
            wrong,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"rating=bad&comment=forged",
        );
        assert_eq!(r.status, 404, "{wrong}: {}", r.text());
    }
    // The thread shows the reply as Jane wrote it, without the links; search does not
    // find it by them.
    let thread = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(thread.contains("A new hinge is on its way."), "{thread}");
    assert!(!thread.contains("/rate/"), "{thread}");
    assert!(!thread.contains("How was this reply"), "{thread}");
    let found = jane.get("/search?q=okay").text();
    assert!(!found.contains(&format!("/tickets/{hinge}\"")), "{found}");
    // A reply an older version stored as sent, links and all, shows without them too.
    {
        let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
        db.busy_timeout(Duration::from_secs(10)).unwrap();
        let as_sent = text.replace("\r\n", "\n");
        let stored = db
            .execute(
                "UPDATE messages SET text_body = ?1 WHERE ticket_id = ?2 AND direction = 'outbound'",
                rusqlite::params![as_sent, hinge],
            )
            .unwrap();
        assert_eq!(stored, 1);
    }
    // (A write through the desk, so the page is drawn again from the store.)
    let r = jane.post(
        &format!("/tickets/{hinge}/note"),
        &[("csrf", &jane.csrf), ("body", "Checked the stock.")],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    let thread = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(thread.contains("Checked the stock."), "{thread}");
    assert!(thread.contains("A new hinge is on its way."), "{thread}");
    assert!(!thread.contains("/rate/"), "{thread}");
    assert!(!thread.contains("How was this reply"), "{thread}");
    // The agent following the link from the mail is not the customer.
    let r = jane.get(&path);
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(kept(&d).is_empty(), "nothing kept so far");

    // Olga, not signed in, opens "Not good": it asks first (a mail scanner following
    // the link rates nothing), with her choice ticked.
    let b = Browser::start(&d.http);
    b.open(&path);
    b.wait_text("main h1", "How was this reply?");
    assert!(b
        .text("main")
        .contains("Jane Doe's reply about “Broken hinge” from Acme"));
    assert!(
        b.find("input[value=bad]:checked").is_some(),
        "the link's choice"
    );
    assert!(kept(&d).is_empty(), "opening the page keeps nothing");
    let comment = b.find("textarea[name=comment]").expect("a comment box");
    b.type_into(&comment, "It still squeaks.");
    b.click_css("main button[type=submit]");
    b.wait_text("main h1", "Thank you");
    assert!(b.text("main").contains("“Not good”"));
    let kept_now = kept(&d);
    assert_eq!(kept_now.len(), 1);
    assert_eq!(
        (kept_now[0].1.as_str(), kept_now[0].2.as_str()),
        ("bad", "It still squeaks.")
    );

    // Jane hears of it by mail, with Olga's words.
    let headline = format!("Olga rated your reply on ticket #{hinge} \"Not good\"");
    wait_until("Jane's notification", Duration::from_secs(30), || {
        rx.for_rcpt("jane@acme.test")
            .iter()
            .map(crate::notify::body)
            .any(|b| b.contains(&headline) && b.contains("It still squeaks."))
    });

    // Jane sees it under her reply, and in the history.
    let ticket = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(
        ticket.contains(r#"class="customer-rating bad">The customer rated this reply <strong>Not good</strong>: <q>It still squeaks.</q>"#),
        "{ticket}"
    );
    assert!(
        ticket.contains("rated Jane Doe&#39;s reply: Not good")
            || ticket.contains("rated Jane Doe's reply: Not good"),
        "{ticket}"
    );

    // Olga changes her mind from the "Good" link: her words are there to edit; the new
    // rating replaces the old.
    b.open(&format!("{page}?r=good"));
    b.wait_text("main", "You rated this before");
    assert!(b.find("input[value=good]:checked").is_some());
    assert_eq!(
        b.js(
            "return document.querySelector('textarea[name=comment]').value;",
            serde_json::json!([])
        ),
        "It still squeaks."
    );
    b.click_css("main button[type=submit]");
    b.wait_text("main h1", "Thank you");
    let kept_now = kept(&d);
    assert_eq!(kept_now.len(), 1, "one rating per reply");
    assert_eq!(kept_now[0].1, "good");

    // Not a rating: refused, unchanged.
    let r = http(
        &d.http,
        "POST",
        &page,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"rating=great",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(kept(&d)[0].1, "good");

    // The reports count it, for the desk and for Jane.
    let report = jane.get("/reports?days=7").text();
    assert!(
        report.contains(r#"<dd id="r-ratings">1 good, 0 okay, 0 not good (100 % good)</dd>"#),
        "{report}"
    );
    assert!(
        report.contains(r#"<tr data-agent="jane@acme.test">"#)
            && report.contains("<td>1 of 1</td>"),
        "{report}"
    );
    assert!(
        report.contains(r#"<tr data-channel="support">"#)
            && report
                .split(r#"<tr data-channel="support">"#)
                .nth(1)
                .is_some_and(|row| row
                    .split("</tr>")
                    .next()
                    .unwrap_or("")
                    .ends_with("<td>1 of 1</td>")),
        "the channel's line counts it: {report}"
    );
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("replies rated by customers: 1 good, 0 okay, 0 not good (100 % good)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("support ") && l.trim_end().ends_with("1 of 1")),
        "{out}"
    );

    // A script with the link cannot change the rating without end: ten ratings of one
    // reply in fifteen minutes (Olga's two above count), then 429 and nothing kept.
    let post = |rating: &str| {
        http(
            &d.http,
            "POST",
            &page,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("rating={rating}").as_bytes(),
        )
    };
    for _ in 0..8 {
        let r = post("okay");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = post("bad");
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.text().contains("Please try again in"), "{}", r.text());
    assert_eq!(kept(&d)[0].1, "okay");
}

/// A survey as Olga got it.
struct Got {
    subject: String,
    body: String,
    message_id: String,
    auto_submitted: String,
}

/// The mail Olga got whose subject starts with `subject`, parsed.
fn mails_about(rx: &Receiver, subject: &str) -> Vec<Got> {
    rx.for_rcpt(OLGA)
        .iter()
        .filter_map(|m| {
            let p = mail_parser::MessageParser::default().parse(&m.raw)?;
            Some(Got {
                subject: p.subject().unwrap_or("").to_string(),
                body: p.body_text(0).map(|t| t.to_string()).unwrap_or_default(),
                message_id: p.message_id().unwrap_or("").to_string(),
                auto_submitted: p
                    .header_raw("Auto-Submitted")
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            })
        })
        .filter(|g| g.subject.starts_with(subject))
        .collect()
}

/// Move the closing of `ticket` back by `seconds`, as if an agent closed it then (and
/// the channel asked for surveys since before).
fn closed_earlier(d: &Daemon, ticket: i64, seconds: i64) {
    let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let moved = db
        .execute(
            "UPDATE tickets SET closed_at = closed_at - ?2 WHERE id = ?1 AND closed = 1",
            [ticket, seconds],
        )
        .unwrap();
    assert_eq!(moved, 1, "ticket #{ticket} is closed");
    db.execute(
        "UPDATE survey_channels SET since = MIN(since, (SELECT closed_at FROM tickets WHERE id = ?1))",
        [ticket],
    )
    .unwrap();
}

#[test]
fn a_customer_is_asked_once_after_closing_how_the_desk_did() {
    let rx = Receiver::start();
    let channels =
        crate::notifying_at_once(&format!("{SUPPORT}[channel.survey]\nafter = \"10m\"\n"));
    let (d, jane, hinge, invoice) = jane_answered_the_hinge(&rx, &channels, "survey");
    // Jane closes the hinge she answered, and the invoice without a word.
    for id in [hinge, invoice] {
        let r = jane.post(
            &format!("/tickets/{id}/status"),
            &[("csrf", &jane.csrf), ("stage", "Closed")],
            &[],
        );
        assert!(r.status < 400, "{}", r.text());
    }
    // Not before its time: the desk looks every ten seconds for a ten-minute delay.
    std::thread::sleep(Duration::from_secs(12));
    assert!(mails_about(&rx, "How did we do").is_empty(), "too soon");
    closed_earlier(&d, hinge, 11 * 60);
    closed_earlier(&d, invoice, 11 * 60);
    wait_until(
        "the survey at the receiver",
        Duration::from_secs(30),
        || !mails_about(&rx, "How did we do").is_empty(),
    );
    let got = mails_about(&rx, "How did we do");
    let survey = &got[0];
    assert!(
        survey
            .subject
            .starts_with("How did we do with \"Broken hinge\"? [#"),
        "{}",
        survey.subject
    );
    assert_eq!(survey.auto_submitted, "auto-generated");
    assert!(
        survey.body.contains(&format!(
            "we closed your request \"Broken hinge\" (#{hinge})"
        )),
        "{}",
        survey.body
    );
    let good = survey
        .body
        .lines()
        .find_map(|l| l.strip_prefix("Good: "))
        .unwrap_or_else(|| panic!("no rating link in {}", survey.body))
        .trim()
        .to_string();
    let path = good
        .strip_prefix(PUBLIC)
        .unwrap_or_else(|| panic!("{good} is not on {PUBLIC}"))
        .to_string();
    assert!(path.starts_with(&format!("/rate/{hinge}/")), "{path}");

    // The thread shows it, marked, without its links; the ticket stays closed.
    let thread = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(thread.contains("we closed your request"), "{thread}");
    assert!(
        thread.contains(r#"<span class="marks">survey</span>"#),
        "{thread}"
    );
    assert!(!thread.contains("/rate/"), "{thread}");
    assert_eq!(d.ticket(hinge)["status"], "Closed");

    // Olga rates the desk's help from the link, with a word.
    let b = Browser::start(&d.http);
    b.open(&path);
    b.wait_text("main h1", "How did we do?");
    assert!(
        b.text("main")
            .contains("Your request “Broken hinge” to Acme."),
        "{}",
        b.text("main")
    );
    assert!(b.find("input[value=good]:checked").is_some());
    let comment = b.find("textarea[name=comment]").expect("a comment box");
    b.type_into(&comment, "Quick and kind.");
    b.click_css("main button[type=submit]");
    b.wait_text("main h1", "Thank you");
    assert_eq!(kept(&d).len(), 1);
    let ticket = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(
        ticket.contains(r#"class="customer-rating good">The customer rated the desk&#39;s help <strong>Good</strong>: <q>Quick and kind.</q>"#)
            || ticket.contains(r#"class="customer-rating good">The customer rated the desk's help <strong>Good</strong>: <q>Quick and kind.</q>"#),
        "{ticket}"
    );
    // The reports count it apart from the replies' ratings, for Jane, who owns the
    // ticket.
    let report = jane.get("/reports?days=7").text();
    assert!(
        report.contains(r#"<dd id="r-surveys">1 good, 0 okay, 0 not good (100 % good)</dd>"#),
        "{report}"
    );
    assert!(
        report.contains(r#"<dd id="r-ratings">none yet</dd>"#),
        "{report}"
    );
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("surveys after closing: 1 good, 0 okay, 0 not good (100 % good)"),
        "{out}"
    );
    assert!(
        report.contains(r#"<tr data-agent="jane@acme.test">"#)
            && report.contains("<td>1 of 1</td>"),
        "{report}"
    );

    // Olga thinks again: "Not good". Jane, who owns the ticket, hears of it.
    b.open(&path.replace("?r=good", "?r=bad"));
    b.wait_text("main", "You rated this before");
    b.click_css("main button[type=submit]");
    b.wait_text("main h1", "Thank you");
    let headline = format!("Olga rated the desk's help on your ticket #{hinge} \"Not good\"");
    wait_until("Jane's notification", Duration::from_secs(30), || {
        rx.for_rcpt("jane@acme.test")
            .iter()
            .map(crate::notify::body)
            .any(|b| b.contains(&headline) && b.contains("Quick and kind."))
    });

    // Asked once: opened again by Olga's thanks, closed again long ago, no second
    // survey; nor one for the invoice, which no reply answered.
    crate::deliver(
        &d,
        OLGA,
        "support@example.com",
        &crate::text_mail_with(
            "Olga <olga@customer.example.org>",
            "Re: How did we do?",
            "survey.9@customer.example.org",
            "Thanks again!",
            &format!("In-Reply-To: <{}>\r\n", survey.message_id),
        ),
    );
    wait_until(
        "the thanks reopening the ticket",
        Duration::from_secs(30),
        || d.ticket(hinge)["status"] != "Closed",
    );
    let r = jane.post(
        &format!("/tickets/{hinge}/status"),
        &[("csrf", &jane.csrf), ("stage", "Closed")],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    closed_earlier(&d, hinge, 11 * 60);
    std::thread::sleep(Duration::from_secs(12));
    assert_eq!(
        mails_about(&rx, "How did we do").len(),
        1,
        "one survey only"
    );
    let surveyed: i64 = rusqlite::Connection::open(d.data_dir.join("frontdesk.db"))
        .unwrap()
        .query_row("SELECT COUNT(*) FROM surveys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(surveyed, 1);
}
