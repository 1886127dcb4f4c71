//! Reports: how many tickets came in and were closed, how soon customers got a first
//! answer, per agent and per channel, day by day. Counted from what really happened:
//! replies that reached the SMTP receiver, a ticket closed by hand, a ticket an agent
//! opened by writing first (nobody waited for it), spam left out.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{wait_until, Daemon};
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, http_sign_in, jane_replies, jane_writes_first, outbound_messages,
    show, text_mail, ticket_id, Agent, PASSWORD,
};

/// The text of the element with `id` on `page` (an overview figure).
fn figure(page: &str, id: &str) -> String {
    let start = format!(r#"id="{id}">"#);
    page.split(&start)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no #{id} on the page: {page}"))
        .to_string()
}

/// The cells of the table row marked `marker` (`data-agent="…"`).
fn row(page: &str, marker: &str) -> Vec<String> {
    let rest = page
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("no row {marker}: {page}"));
    let row = rest.split("</tr>").next().unwrap_or("");
    row.split("<td>")
        .skip(1)
        .map(|cell| cell.split('<').next().unwrap_or("").to_string())
        .collect()
}

fn ctl_ok(d: &Daemon, args: &[&str]) {
    let (code, out, err) = d.ctl(args);
    assert_eq!(code, 0, "{args:?}: {err}{out}");
}

/// Waits until every reply on ticket `id` has gone to the relay.
fn all_sent(d: &Daemon, id: i64) {
    wait_until("the replies to be sent", Duration::from_secs(30), || {
        let t = show(d, id);
        let out = outbound_messages(&t);
        !out.is_empty() && out.iter().all(|m| m["delivery"]["status"] == "sent")
    });
}

fn report(agent: &Agent, query: &str) -> String {
    let r = agent.get(&format!("/reports{query}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

#[test]
fn a_report_counts_what_the_desk_did() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bea@acme.test", "Bea Kowalski");
    let customers = [
        ("olga@customer.example.org", "Hinge broke"),
        ("kim@customer.example.org", "Parcel missing"),
        ("ana@customer.example.org", "Invoice wrong"),
        ("win@spam.example.net", "You have won"),
    ];
    for (i, (from, subject)) in customers.iter().enumerate() {
        deliver(
            &d,
            from,
            "support@example.com",
            &text_mail(from, subject, &format!("r{i}@customer.example.org"), "?"),
        );
    }
    let hinge = ticket_id(&d, "Hinge broke");
    let parcel = ticket_id(&d, "Parcel missing");
    let won = ticket_id(&d, "You have won");
    jane_replies(&d, hinge, &[], "A new hinge is on its way.");
    ctl_ok(
        &d,
        &["tickets", "assign", &hinge.to_string(), "jane@acme.test"],
    );
    let id = parcel.to_string();
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "reply", &id, "--as", "bea@acme.test"],
        Some(b"We are looking for it."),
    );
    assert_eq!(code, 0, "{err}{out}");
    ctl_ok(&d, &["tickets", "assign", &id, "bea@acme.test"]);
    ctl_ok(
        &d,
        &["tickets", "status", &id, "Closed", "--as", "bea@acme.test"],
    );
    ctl_ok(&d, &["tickets", "spam", &won.to_string()]);
    jane_writes_first(
        &d,
        "lee@customer.example.org",
        "Your order ships late",
        "Hello Lee, it ships on Monday.",
    );
    let opened = ticket_id(&d, "Your order ships late");
    for t in [hinge, parcel, opened] {
        all_sent(&d, t);
    }

    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let page = report(&jane, "?days=7");
    // Hinge, parcel, invoice and Jane's own; not the spam.
    assert_eq!(figure(&page, "r-opened"), "4");
    assert_eq!(figure(&page, "r-closed"), "1");
    // Invoice only: Jane's own ticket had no customer waiting.
    assert_eq!(figure(&page, "r-unanswered"), "1");
    let first = figure(&page, "r-first-response");
    assert!(
        first.starts_with("median ") && first.ends_with("2 of 2 within an hour"),
        "{first}"
    );
    assert!(figure(&page, "r-time-to-close").ends_with("1 of 1 within an hour"));
    // Open now: hinge (waiting on the customer), invoice and Jane's own; invoice is
    // nobody's.
    assert_eq!(figure(&page, "r-open-now"), "3");
    assert_eq!(figure(&page, "r-unassigned-now"), "1");
    // Jane: the hinge reply and her first mail; Bea: the parcel reply, and its closing.
    let jane_row = row(&page, r#"data-agent="jane@acme.test""#);
    assert_eq!(jane_row[..2], ["2", "1"], "{jane_row:?}");
    assert!(jane_row[2].ends_with(" s") || jane_row[2].ends_with(" min"));
    assert_eq!(jane_row[3], "0");
    let bea_row = row(&page, r#"data-agent="bea@acme.test""#);
    assert_eq!(bea_row[..2], ["1", "1"], "{bea_row:?}");
    assert_eq!(bea_row[3], "1");
    assert!(page.contains(">Bea Kowalski</th>"));
    let support = row(&page, r#"data-channel="support""#);
    assert_eq!(support[..2], ["4", "1"], "{support:?}");
    // Today's line has them all; seven days listed.
    assert_eq!(page.matches("<meter").count(), 14);
    assert!(page.contains(r#"value="4" aria-hidden="true"></meter> 4</td>"#));

    // The same from the shell, for a weekly mail from cron.
    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(
        out.contains("opened 4, closed 1; open now 3 (nobody's 1)"),
        "{out}"
    );
    assert!(
        out.contains("2 of 2 within an hour; 1 still waiting"),
        "{out}"
    );
    let bea_line = out
        .lines()
        .find(|l| l.starts_with("bea@acme.test"))
        .unwrap_or_else(|| panic!("{out}"));
    let words: Vec<&str> = bea_line.split_whitespace().collect();
    assert_eq!(words[1..3], ["1", "1"], "{bea_line}");
    // Closed (owned), then rated good: nobody rated her replies.
    assert_eq!(words[words.len() - 2..], ["1", "–"], "{bea_line}");
    let json = d.ctl_json(&["report", "--days", "7", "--tz-minutes", "-300"]);
    assert_eq!(json["report"]["opened"], 4, "{json:#}");
    assert_eq!(
        json["report"]["period"]["clock"],
        json!({ "Offset": -18_000 }),
        "{json:#}"
    );
    assert_eq!(json["report"]["days"].as_array().map(Vec::len), Some(7));
    // A zone by name, its clock changes and all; a name no zone has is refused.
    let json = d.ctl_json(&["report", "--days", "7", "--zone", "America/New_York"]);
    assert_eq!(json["report"]["opened"], 4, "{json:#}");
    assert_eq!(
        json["report"]["period"]["clock"],
        json!({ "Zone": "America/New_York" }),
        "{json:#}"
    );
    let (code, _, err) = d.ctl(&["report", "--zone", "Mars/Olympus"]);
    assert_ne!(code, 0);
    assert!(err.contains("unknown time zone \"Mars/Olympus\""), "{err}");
    let (code, _, err) = d.ctl(&["report", "--days", "0"]);
    assert_ne!(code, 0);
    assert!(err.contains("days must be 1 to 366"), "{err}");

    // The tables download for a spreadsheet.
    let r = jane.get("/reports.csv?table=agents&days=7");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        r.header("content-disposition"),
        Some(r#"attachment; filename="frontdesk-agents-7-days.csv""#)
    );
    let lines: Vec<String> = r.text().lines().map(str::to_string).collect();
    assert_eq!(
        lines[0],
        "agent,name,replies_sent,first_answers,first_answer_median_seconds,closed_owned,\
         rated_good,rated_okay,rated_not_good"
    );
    let bea_line = lines
        .iter()
        .find(|l| l.starts_with("bea@acme.test,"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    let cells: Vec<&str> = bea_line.split(',').collect();
    assert_eq!(cells[1..4], ["Bea Kowalski", "1", "1"], "{bea_line}");
    assert!(
        cells[4].parse::<i64>().is_ok_and(|s| s < 3600),
        "{bea_line}"
    );
    assert_eq!(cells[5], "1");
    let days = jane.get("/reports.csv?table=days&days=7").text();
    assert_eq!(days.lines().count(), 8, "a header and seven days: {days}");
    assert!(days.trim_end().ends_with(",4,1"), "today last: {days}");
    assert_eq!(jane.get("/reports.csv?table=secrets").status, 400);

    // The ticket opens again when the customer writes: no longer counted closed.
    deliver(
        &d,
        "kim@customer.example.org",
        "support@example.com",
        &String::from_utf8(text_mail(
            "kim@customer.example.org",
            "Re: Parcel missing",
            "r9@customer.example.org",
            "Still nothing.",
        ))
        .unwrap()
        .replace(
            "Message-ID:",
            "In-Reply-To: <r1@customer.example.org>\r\nMessage-ID:",
        )
        .into_bytes(),
    );
    wait_until("the parcel ticket to open", Duration::from_secs(20), || {
        show(&d, parcel)["status"] != "Closed"
    });
    let page = report(&jane, "?days=30");
    assert_eq!(figure(&page, "r-closed"), "0");
    assert_eq!(page.matches("<meter").count(), 60);
    assert_eq!(row(&page, r#"data-agent="bea@acme.test""#)[3], "0");

    // In the browser: from the header, then a period in another clock comes back in the
    // browser's own (the days follow the agent's midnight).
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox");
    b.click_css("header a.reports-link");
    b.wait_path("/reports");
    let zone = b
        .js(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone;",
            json!([]),
        )
        .as_str()
        .map(str::to_string)
        .expect("the browser's zone");
    b.wait_until("the report in the browser's zone", |b| {
        b.js(
            "var s = document.querySelector('section.reports'); return s ? s.dataset.clock : '';",
            json!([]),
        ) == json!(zone)
    });
    assert!(
        b.text("p.period").contains(&format!("days in {zone}")),
        "{}",
        b.text("p.period")
    );
    b.open("/reports?days=30&zone=Pacific%2FChatham&tz=765");
    b.wait_until("the period in the browser's zone", |b| {
        b.path().contains("days=30")
            && b.js(
                "var s = document.querySelector('section.reports'); return s ? s.dataset.clock : '';",
                json!([]),
            ) == json!(zone)
    });
    assert_eq!(b.text("#r-opened"), "4");
    assert_eq!(
        b.text(".report-periods a[aria-current]"),
        "Last 30 days",
        "the period kept"
    );
}

#[test]
fn a_report_counts_tickets_by_their_choice_fields() {
    let rx = Receiver::start();
    let fields = r#"
[[ticket_field]]
name = "Product"
kind = "choice"
choices = ["Desk lamp", "Hinge"]

[[ticket_field]]
name = "Order number"
"#;
    let d = Daemon::start_with(crate::harness::Settings {
        channels: crate::relaying(rx.port, "", &format!("{}{fields}", crate::SUPPORT)),
        ..crate::harness::Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = crate::olga_two_tickets(&d, "byfield");
    ctl_ok(
        &d,
        &["tickets", "field", &hinge.to_string(), "Product", "hinge"],
    );
    ctl_ok(
        &d,
        &[
            "tickets",
            "field",
            &invoice.to_string(),
            "Order number",
            "A-1",
        ],
    );
    jane_replies(&d, hinge, &["--close"], "A new hinge is on its way.");
    all_sent(&d, hinge);

    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let page = report(&jane, "?days=7");
    assert!(
        page.contains(r#"<h2>By Product</h2><table class="report-field" data-field="Product">"#),
        "{page}"
    );
    // A text field has too many values for a table.
    assert!(!page.contains("By Order number"), "{page}");
    let hinges = row(&page, r#"<tr data-value="Hinge">"#);
    assert_eq!(&hinges[..2], ["1", "1"], "{hinges:?}");
    assert_ne!(hinges[2], "—", "the hinge had its first answer: {hinges:?}");
    assert_ne!(hinges[3], "—", "and was closed: {hinges:?}");
    assert_eq!(
        row(&page, r#"<tr data-value="Desk lamp">"#),
        ["0", "0", "—", "—"]
    );
    assert!(page.contains(r#"<tr data-value=""><th scope="row">(none)</th>"#));
    assert_eq!(row(&page, r#"<tr data-value="">"#), ["1", "0", "—", "—"]);

    let csv = jane.get("/reports.csv?table=fields&days=7");
    assert_eq!(csv.status, 200, "{}", csv.text());
    let csv = csv.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "field,value,opened,closed,first_answer_median_seconds,time_to_close_median_seconds"
    );
    assert_eq!(lines[1], "Product,Desk lamp,0,0,,");
    assert!(lines[2].starts_with("Product,Hinge,1,1,"), "{csv}");
    assert_eq!(lines[3], "Product,,1,0,,");
    assert_eq!(lines.len(), 4, "{csv}");

    let (code, out, err) = d.ctl(&["report", "--days", "7"]);
    assert_eq!(code, 0, "{err}");
    let product = out
        .split("\nPRODUCT")
        .nth(1)
        .unwrap_or_else(|| panic!("no Product table: {out}"));
    let hinge_line = product
        .lines()
        .find(|l| l.starts_with("Hinge "))
        .unwrap_or_else(|| panic!("no Hinge line: {out}"));
    let cells: Vec<&str> = hinge_line.split_whitespace().collect();
    assert_eq!(&cells[1..3], ["1", "1"], "{hinge_line}");
    assert!(product.contains("(none)"), "{out}");
}
