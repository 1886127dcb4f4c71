//! Answer targets (`[sla]`): each waiting customer's answer is due by the ticket's
//! priority; the inbox rows and the ticket page say when, overdue ones have a view of
//! their own, and an answer that reached the SMTP receiver ends the wait. A customer
//! who writes again waits for the next answer, with its own target.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::{wait_until, Daemon, Settings};
use crate::receiver::Receiver;
use crate::{
    add_agent, deliver, http_sign_in, inbox_view, olga_asks_about_the_hinge, olga_two_tickets,
    text_mail, ticket_id, PASSWORD, SUPPORT,
};

/// Medium tickets: a first answer within a day, later ones within two; urgent ones
/// within the hour. Around the clock, so the figures do not depend on the weekday.
const TARGETS: &str = "[sla]\nfirst_answer = { urgent = \"1h\", medium = \"1d\" }\n\
                       next_answer = { medium = \"2d\" }\n";

fn daemon_with_targets(rx: &Receiver) -> Daemon {
    Daemon::start_with(Settings {
        channels: crate::relaying(rx.port, "", &format!("{SUPPORT}\n{TARGETS}")),
        ..Settings::default()
    })
}

/// The badge of the inbox row of ticket `id` (its text and class), if it has one.
fn row_badge(b: &Browser, id: i64) -> Option<(String, String)> {
    let found = b.js(
        "var e = document.querySelector('tr[data-ticket=\"' + arguments[0] + '\"] .answer-due');
         return e ? [e.textContent, e.className] : null;",
        serde_json::json!([id]),
    );
    let pair = found.as_array()?;
    Some((
        pair[0].as_str().unwrap_or("").to_string(),
        pair[1].as_str().unwrap_or("").to_string(),
    ))
}

/// `frontdeskctl tickets list --overdue --json`: the ticket numbers.
/// `tickets`' customers have waited `seconds` longer (and the tickets are as much
/// older): a test cannot wait hours, so the waits are moved back in the database
/// before anyone looks (nothing is cached yet).
fn waited_longer(d: &Daemon, tickets: &[i64], seconds: i64) {
    let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    for id in tickets {
        let moved = db
            .execute(
                "UPDATE tickets SET waiting_since = waiting_since - ?2,
                     created_at = created_at - ?2 WHERE id = ?1 AND waiting_since IS NOT NULL",
                [*id, seconds],
            )
            .unwrap();
        assert_eq!(moved, 1, "ticket #{id} was waiting");
    }
}

fn overdue_by_ctl(d: &Daemon) -> Vec<i64> {
    let listed = d.ctl_json(&["tickets", "list", "--overdue"]);
    listed["tickets"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .collect()
}

#[test]
fn waiting_customers_show_when_their_answer_is_due_until_it_reaches_them() {
    let rx = Receiver::start();
    let d = daemon_with_targets(&rx);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "sla");
    deliver(
        &d,
        "kim@customer.example.org",
        "support@example.com",
        &text_mail(
            "kim@customer.example.org",
            "Parcel missing",
            "parcel@customer.example.org",
            "?",
        ),
    );
    let parcel = ticket_id(&d, "Parcel missing");
    let (code, out, err) = d.ctl(&["tickets", "priority", &parcel.to_string(), "urgent"]);
    assert_eq!(code, 0, "{err}{out}");
    // Two days pass for Olga: a test cannot wait them, so her wait is moved back in the
    // database before anyone looks (nothing is cached yet).
    waited_longer(&d, &[hinge], 2 * 86_400);

    // The same list for a script, e.g. a cron job that mails it.
    assert_eq!(overdue_by_ctl(&d), [hinge]);

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=open");
    b.wait_text(&format!("tr[data-ticket='{invoice}']"), "Invoice copy");
    // Medium, waiting two days of one: a day late.
    let (words, class) = row_badge(&b, hinge).expect("the hinge row's badge");
    assert_eq!(words, "answer overdue by 1 d");
    assert!(class.contains("late"), "{class}");
    // Urgent, just written: due within the hour.
    let (words, class) = row_badge(&b, parcel).expect("the parcel row's badge");
    assert!(
        words == "answer due in 1 h" || words.starts_with("answer due in 59 min"),
        "{words}"
    );
    assert!(class.contains("soon"), "{class}");
    let (words, class) = row_badge(&b, invoice).expect("the invoice row's badge");
    assert!(
        words == "answer due in 1 d" || words.starts_with("answer due in 23 h"),
        "{words}"
    );
    assert!(class.contains("later"), "{class}");
    // An inbox left open follows the clock: once the parcel's hour is up (its due time
    // moved back here, as if the hour had passed), its badge says so without a reload.
    b.js(
        "var e = document.querySelector('tr[data-ticket=\"' + arguments[0] + '\"] .answer-due');
         e.setAttribute('data-due', String(Math.floor(Date.now() / 1000) - 150));",
        serde_json::json!([parcel]),
    );
    b.wait_until("the parcel's badge to turn late", |b| {
        row_badge(b, parcel).is_some_and(|(words, class)| {
            words == "answer overdue by 2 min" && class.contains("late") && !class.contains("soon")
        })
    });
    // The Overdue view holds the hinge alone.
    b.click_css("nav.views a[href='/inbox?view=overdue']");
    b.wait_path("/inbox?view=overdue");
    assert!(
        b.text("nav.views a[aria-current=page]")
            .starts_with("Overdue 1"),
        "{}",
        b.text("nav.views")
    );
    assert!(row_badge(&b, hinge).is_some());
    assert!(row_badge(&b, parcel).is_none() && row_badge(&b, invoice).is_none());

    // The ticket page says it too, and Jane answers there.
    b.click_css(&format!(
        "tr[data-ticket='{hinge}'] a[href='/tickets/{hinge}']"
    ));
    b.wait_text("p.meta", "answer overdue by 1 d");
    let title = b.js(
        "return document.querySelector('p.meta .answer-due').title;",
        serde_json::json!([]),
    );
    assert!(
        title
            .as_str()
            .is_some_and(|t| t.starts_with("First answer due ")),
        "{title}"
    );
    let body = b.wait_find("#reply-body");
    b.click(&body);
    b.type_into(&body, "Hi Olga, a new hinge is on its way.");
    b.click_css("form.reply button[type=submit]");
    b.wait_text("article.message.outbound", "a new hinge is on its way");
    let got = rx.wait_rcpt("olga@customer.example.org", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1);
    // Once the relay has it, nobody waits on the hinge.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    crate::harness::wait_until(
        "the answer to end the wait",
        Duration::from_secs(20),
        || inbox_view(&jane, "overdue") == (vec![], 0),
    );
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(!page.contains("answer-due"), "no badge once answered");
    assert!(overdue_by_ctl(&d).is_empty());
    // The week's report counts Olga's first answer as late; the parcel's is not due
    // yet and the invoice's is not due for a day.
    let report = jane.get("/reports?days=7").text();
    assert!(
        report.contains(r#"<dd id="r-on-target">0 of 1 (0 %)</dd>"#),
        "{report}"
    );
    assert!(
        report.contains("Times run around the clock."),
        "no office hours"
    );
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("first answers on target: 0 of 1 (0 %)"),
        "{out}"
    );

    // Olga writes again: she now waits for the next answer (two days for medium).
    olga_asks_about_the_hinge(&d, "sla");
    crate::harness::wait_until("Olga's second mail", Duration::from_secs(20), || {
        jane.get(&format!("/tickets/{hinge}"))
            .text()
            .contains("Any news?")
    });
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    // (Two days, or a second less when a second has passed.)
    assert!(
        page.contains(">answer due in 2 d<") || page.contains(">answer due in 1 d 23 h<"),
        "{page}"
    );
    assert!(page.contains(r#"title="Next answer due "#), "{page}");

    // Closed: the invoice's customer no longer waits on the desk.
    let (code, out, err) = d.ctl(&["tickets", "status", &invoice.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");
    let page = jane.get("/inbox?view=all").text();
    let row = page
        .split(&format!(r#"data-ticket="{invoice}""#))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("the invoice row");
    assert!(!row.contains("answer-due"), "{row}");
}

#[test]
fn a_desk_without_targets_has_no_overdue_view() {
    let d = crate::daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    olga_two_tickets(&d, "nosla");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let page = jane.get("/inbox?view=open").text();
    assert!(page.contains("Broken hinge"));
    assert!(!page.contains("view=overdue"), "no Overdue tab");
    assert!(!page.contains("answer-due"), "no due badges");
    let (code, out, err) = d.ctl(&["tickets", "list", "--overdue"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("no [sla] answer targets"), "{err}");
}

/// Moves the wait of ticket `id` back by `seconds` in the database (a test cannot wait
/// a day); the daemon finds out at its next look.
fn wait_longer(d: &Daemon, id: i64, seconds: i64) {
    let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    let moved = db
        .execute(
            "UPDATE tickets SET waiting_since = waiting_since - ?2, created_at = created_at - ?2
             WHERE id = ?1",
            rusqlite::params![id, seconds],
        )
        .unwrap();
    assert_eq!(moved, 1);
}

#[test]
fn the_agents_who_should_answer_hear_once_when_it_is_overdue() {
    const JANE: &str = "jane@acme.test";
    const BEA: &str = "bea@acme.test";
    const AL: &str = "al@acme.test";
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(
            rx.port,
            "",
            &crate::notifying_at_once(&format!("{SUPPORT}\n{TARGETS}")),
        ),
        ..Settings::default()
    });
    add_agent(&d, JANE, "Jane Doe");
    add_agent(&d, BEA, "Bea Kowalczyk");
    add_agent(&d, AL, "Al Brandt");
    let (code, out, err) = d.ctl(&["users", "set", AL, "--notify", "assigned"]);
    assert_eq!(code, 0, "{err}{out}");
    let (hinge, invoice) = olga_two_tickets(&d, "overdue");
    let (code, out, err) = d.ctl(&["tickets", "assign", &hinge.to_string(), JANE]);
    assert_eq!(code, 0, "{err}{out}");

    // Jane has the desk open with desktop notifications on.
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open("/me");
    b.set_permission("notifications", "granted");
    b.click_css("#desktop-on");
    b.wait_text("#desktop-state", "On in this browser");
    b.open("/inbox");
    b.wait_event_stream();
    crate::notify::wait_for_worker(&b);

    // Olga's hinge (Jane's) and invoice (nobody's) have waited a day and two hours, past
    // their one-day target. Any change makes the desk look at once.
    wait_longer(&d, hinge, 86_400 + 2 * 3600);
    wait_longer(&d, invoice, 86_400 + 3600);
    let (code, out, err) = d.ctl(&["tickets", "tag", &hinge.to_string(), "--add", "vip"]);
    assert_eq!(code, 0, "{err}{out}");

    let hinge_late = format!("The answer to Olga on ticket #{hinge} is overdue");
    let invoice_late = format!("The answer to Olga on ticket #{invoice} is overdue");
    let mailed = |to: &str| -> String { rx.for_rcpt(to).iter().map(crate::notify::body).collect() };
    wait_until(
        "Jane's mail of both late answers",
        Duration::from_secs(30),
        || {
            let got = mailed(JANE);
            got.contains(&hinge_late) && got.contains(&invoice_late)
        },
    );
    b.wait_until("the late answers on Jane's screen", |b| {
        let shown = crate::notify::on_screen(b);
        shown.iter().any(|(title, ..)| *title == hinge_late)
    });
    let shown = crate::notify::on_screen(&b);
    let (_, text, url) = shown
        .iter()
        .find(|(title, ..)| *title == hinge_late)
        .unwrap();
    assert_eq!(
        (text.as_str(), url.as_str()),
        ("Broken hinge\nHello.", format!("/tickets/{hinge}").as_str()),
        "{shown:?}"
    );
    // Bea has a seat and hears of the invoice nobody owns, not of Jane's hinge; Al
    // turned this off.
    wait_until("Bea's mail", Duration::from_secs(30), || {
        mailed(BEA).contains(&invoice_late)
    });
    assert!(!mailed(BEA).contains(&hinge_late));
    // Once for each wait: more changes and looks tell nobody again.
    for tag in ["a", "b"] {
        let (code, out, err) = d.ctl(&["tickets", "tag", &invoice.to_string(), "--add", tag]);
        assert_eq!(code, 0, "{err}{out}");
        std::thread::sleep(Duration::from_millis(1500));
    }
    assert_eq!(mailed(JANE).matches(&hinge_late).count(), 1);
    assert_eq!(mailed(JANE).matches(&invoice_late).count(), 1);
    assert_eq!(mailed(BEA).matches(&invoice_late).count(), 1);
    assert!(rx.for_rcpt(AL).is_empty(), "Al turned it off");
}

#[test]
fn a_first_answer_counts_against_the_priority_it_had_when_sent() {
    let rx = Receiver::start();
    let d = daemon_with_targets(&rx);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "priority");
    // Both came two hours ago: within a day (medium), not within an hour (urgent).
    waited_longer(&d, &[hinge, invoice], 7200);
    // The invoice is urgent before its answer; the hinge only after.
    let priority = |id: i64, p: &str| {
        let (code, out, err) = d.ctl(&["tickets", "priority", &id.to_string(), p]);
        assert_eq!(code, 0, "{err}{out}");
    };
    priority(invoice, "urgent");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    for id in [hinge, invoice] {
        let r = jane.post(
            &format!("/tickets/{id}/reply"),
            &[("csrf", &jane.csrf), ("body", "Sorted, Olga.")],
            &[],
        );
        assert!(r.status < 400, "{}", r.text());
    }
    rx.wait_rcpt("olga@customer.example.org", 2, Duration::from_secs(30));
    // Sent is recorded just after the relay takes the mail.
    let on_target = || {
        let page = jane.get("/reports?days=7").text();
        page.split(r#"<dd id="r-on-target">"#)
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap_or("")
            .to_string()
    };
    wait_until("both answers counted", Duration::from_secs(20), || {
        on_target() == "1 of 2 (50 %)"
    });
    // Raised a second after its answer went (history counts in seconds).
    std::thread::sleep(Duration::from_millis(1100));
    priority(hinge, "urgent");
    // The hinge was medium when answered in two hours: on target. The invoice was
    // urgent: late.
    assert_eq!(on_target(), "1 of 2 (50 %)");
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("first answers on target: 1 of 2 (50 %)"),
        "{out}"
    );
}

#[test]
fn a_channel_s_own_targets_hold_for_its_tickets() {
    let rx = Receiver::start();
    let sales =
        "[[channel]]\nkind = \"email\"\nname = \"sales\"\naddress = \"sales@example.com\"\n\
                 [channel.sla]\nfirst_answer = { medium = \"1h\" }\n";
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(rx.port, "", &format!("{SUPPORT}\n{sales}\n{TARGETS}")),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    for (to, subject, id) in [
        (
            "support@example.com",
            "Broken hinge",
            "own.1@customer.example.org",
        ),
        (
            "sales@example.com",
            "Quote please",
            "own.2@customer.example.org",
        ),
    ] {
        deliver(
            &d,
            "olga@customer.example.org",
            to,
            &text_mail("olga@customer.example.org", subject, id, "Hello."),
        );
    }
    let (hinge, quote) = (ticket_id(&d, "Broken hinge"), ticket_id(&d, "Quote please"));
    // Both medium, both waiting two hours: past sales' hour, within the desk's day.
    waited_longer(&d, &[hinge, quote], 7200);
    assert_eq!(overdue_by_ctl(&d), [quote]);
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    assert_eq!(inbox_view(&jane, "overdue"), (vec![quote], 1));
    let page = jane.get(&format!("/tickets/{quote}")).text();
    assert!(page.contains(">answer overdue by 1 h<"), "{page}");
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(
        page.contains(">answer due in 22 h<") || page.contains(">answer due in 21 h 59 min<"),
        "{page}"
    );
    // The report's channel lines: sales missed its hour; support's day is not up.
    let report = jane.get("/reports?days=7").text();
    assert!(
        report.contains(r#"<dd id="r-on-target">0 of 1 (0 %)</dd>"#),
        "{report}"
    );
    for (channel, words) in [("sales", "0 of 1 (0 %)"), ("support", "none due yet")] {
        let row = report
            .split(&format!(r#"<tr data-channel="{channel}">"#))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .unwrap_or_else(|| panic!("no {channel} line in {report}"));
        // Then "Rated good": nobody rated anything.
        assert!(
            row.ends_with(&format!("<td>{words}</td><td>–</td>")),
            "{row}"
        );
    }
    let csv = jane.get("/reports.csv?table=channels&days=7").text();
    assert!(csv.contains("sales,1,0,,0,1,0,0,0\r\n"), "{csv}");
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("sales ") && l.trim_end().ends_with("0 of 1          –")),
        "{out}"
    );
}

/// A channel kept open around the clock (`office_hours = "always"`) is late while the
/// desk is closed; the desk's own tickets count only its hours (here one minute a day,
/// so two hours of waiting are nowhere near an hour of open time).
#[test]
fn a_channel_open_around_the_clock_is_late_while_the_desk_is_closed() {
    let rx = Receiver::start();
    let desk =
        "[sla]\nfirst_answer = { medium = \"1h\" }\noffice_hours = \"mon-sun 00:00-00:01\"\n\
                timezone = \"UTC\"\n";
    let emergency = "[[channel]]\nkind = \"email\"\nname = \"emergency\"\n\
                     address = \"emergency@example.com\"\n\
                     [channel.sla]\noffice_hours = \"always\"\n";
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(rx.port, "", &format!("{SUPPORT}\n{emergency}\n{desk}")),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    for (to, subject, id) in [
        (
            "support@example.com",
            "Broken hinge",
            "always.1@customer.example.org",
        ),
        (
            "emergency@example.com",
            "Server down",
            "always.2@customer.example.org",
        ),
    ] {
        deliver(
            &d,
            "olga@customer.example.org",
            to,
            &text_mail("olga@customer.example.org", subject, id, "Hello."),
        );
    }
    let (hinge, down) = (ticket_id(&d, "Broken hinge"), ticket_id(&d, "Server down"));
    waited_longer(&d, &[hinge, down], 7200);
    assert_eq!(overdue_by_ctl(&d), [down]);
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    assert_eq!(inbox_view(&jane, "overdue"), (vec![down], 1));
    let page = jane.get(&format!("/tickets/{down}")).text();
    assert!(page.contains(">answer overdue by 1 h<"), "{page}");
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(page.contains(">answer due in "), "{page}");
    assert!(!page.contains("overdue by"), "{page}");
    // The reports say whose time counts how.
    let words = "Times count office hours only, but emergency runs around the clock.";
    let report = jane.get("/reports?days=7").text();
    assert!(report.contains(words), "{report}");
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(words), "{out}");
}
