//! The inbox's views, filters, order, counts and pages, checked against an oracle
//! computed from `frontdeskctl tickets list` (owner, team, status, channel, activity):
//! unassigned, mine, my teams', all open, closed and all; per channel, status, tag and
//! "customer wrote last"; newest activity first; 50 rows a page, keyset links that
//! neither skip nor repeat.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::browser::Browser;
use crate::harness::{Daemon, Settings};
use crate::{
    add_agent, deliver, http_sign_in, text_mail, text_mail_with, Agent, PASSWORD, SUPPORT,
};

const SALES: &str = r#"
[[channel]]
kind = "email"
name = "sales"
address = "sales@example.com"
"#;

const JANE: &str = "jane@acme.test";
const DANA: &str = "dana@acme.test";
const BOB: &str = "bob@acme.test";

/// The ticket ids of a page's rows, top to bottom, and its "Older tickets" link.
fn rows_and_next(html: &str) -> (Vec<i64>, Option<String>) {
    let ids = crate::inbox_rows(html);
    let next = crate::attribute(html, r#"<a class="next" href=""#).map(|n| n.replace("&amp;", "&"));
    (ids, next)
}

/// Every row of a view, following its pages; fails on a page over 50 rows.
fn walk(agent: &Agent, first: &str) -> Vec<i64> {
    let mut all = Vec::new();
    let mut path = Some(first.to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let r = agent.get(&p);
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        let (ids, next) = rows_and_next(&r.text());
        assert!(ids.len() <= 50, "{p}: {} rows on one page", ids.len());
        assert!(
            next.is_none() || ids.len() == 50,
            "{p}: a short page links on"
        );
        all.extend(ids);
        path = next;
        pages += 1;
        assert!(pages < 10, "{first}: pages never end");
    }
    all
}

/// The number on a view's tab.
fn count(html: &str, view: &str) -> i64 {
    let tab = format!(r#"href="/inbox?view={view}""#);
    let at = html.find(&tab).unwrap_or_else(|| panic!("no {view} tab"));
    let marker = r#"class="count">"#;
    let rest = &html[at..];
    let start = rest
        .find(marker)
        .unwrap_or_else(|| panic!("no count on the {view} tab"))
        + marker.len();
    rest[start..]
        .split('<')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the {view} tab's count is not a number"))
}

/// The oracle: ticket ids matching `keep`, most recent activity first. `tickets` is
/// `tickets list`, already in that order (exact within a second: the tags below are
/// set many per second); its stamps must agree with it.
fn expected(tickets: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<i64> {
    let stamps: Vec<&str> = tickets
        .iter()
        .map(|t| t["updated_at"].as_str().unwrap_or(""))
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] >= w[1]),
        "tickets list is not newest first: {stamps:?}"
    );
    tickets
        .iter()
        .filter(|t| keep(t))
        .filter_map(|t| t["id"].as_i64())
        .collect()
}

fn open(t: &Value) -> bool {
    t["status"] != "Closed"
}

fn has_tag(t: &Value, tag: &str) -> bool {
    t["tags"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == tag))
}

fn owner_is(t: &Value, who: &str) -> bool {
    t["owner"].as_str() == Some(who)
}

#[test]
fn views_filters_order_counts_and_pages_match_the_tickets() {
    let d = Daemon::start_with(Settings {
        channels: format!("{SUPPORT}{SALES}"),
        ..Settings::default()
    });
    for (email, name) in [
        (JANE, "Jane Doe"),
        (DANA, "Dana Lind"),
        (BOB, "Bob Builder"),
    ] {
        add_agent(&d, email, name);
    }
    d.ctl_json(&["teams", "add", "tier1"]);
    d.ctl_json(&["teams", "members", "tier1", "--add", JANE, "--add", DANA]);
    // 55 tickets on support, 5 on sales.
    for n in 1..=60 {
        let to = if n > 55 {
            "sales@example.com"
        } else {
            "support@example.com"
        };
        deliver(
            &d,
            "c@customer.example.org",
            to,
            &text_mail(
                &format!("Customer {n} <c{n}@customer.example.org>"),
                &format!("Question number {n}"),
                &format!("q{n}@customer.example.org"),
                "Hello.",
            ),
        );
    }
    let ctl = |args: &[&str]| {
        let (code, out, err) = d.ctl(args);
        assert_eq!(code, 0, "{args:?}: {err}{out}");
    };
    for (id, who) in [
        ("1", JANE),
        ("2", JANE),
        ("3", JANE),
        ("4", DANA),
        ("5", BOB),
        ("6", BOB),
    ] {
        ctl(&["tickets", "assign", id, who]);
    }
    ctl(&["tickets", "assign", "7", "--team", "tier1"]);
    // Agents answer 1, 3, 4 and 58; a note on 6 is no answer.
    for (id, who) in [("1", JANE), ("3", JANE), ("4", DANA), ("58", DANA)] {
        let (code, out, err) = d.ctl_stdin(
            &["tickets", "reply", id, "--as", who],
            Some(b"We are on it."),
        );
        assert_eq!(code, 0, "{err}{out}");
    }
    // Answering 58, which nobody owned, made it Dana's; she gives it back.
    assert_eq!(d.ticket(58)["owner"], DANA);
    ctl(&["tickets", "assign", "58", "--none"]);
    let (code, out, err) = d.ctl_stdin(&["tickets", "note", "6", "--as", BOB], Some(b"Looking."));
    assert_eq!(code, 0, "{err}{out}");
    for id in ["2", "5", "8", "57"] {
        ctl(&["tickets", "status", id, "Closed"]);
    }
    // Priorities: two urgent (one on sales), three high (one of them closed).
    for (id, priority) in [
        ("12", "urgent"),
        ("58", "urgent"),
        ("13", "high"),
        ("14", "high"),
        ("2", "high"),
    ] {
        ctl(&["tickets", "priority", id, priority]);
    }
    // Tags: 52 tickets in a batch (two pages when filtered), two of them also "vip".
    for n in 1..=52 {
        ctl(&["tickets", "tag", &n.to_string(), "--add", "batch"]);
    }
    ctl(&["tickets", "tag", "10", "--add", "VIP"]);
    ctl(&["tickets", "tag", "11", "--add", "vip"]);
    // A customer's reply a second later brings the oldest ticket to the top.
    std::thread::sleep(Duration::from_millis(1100));
    let reply = text_mail_with(
        "Customer 1 <c1@customer.example.org>",
        "Re: Question number 1",
        "q1-reply@customer.example.org",
        "Any news?",
        "In-Reply-To: <q1@customer.example.org>\r\n",
    );
    deliver(&d, "c1@customer.example.org", "support@example.com", &reply);

    let tickets = d.tickets();
    assert_eq!(tickets.len(), 60, "the reply must join ticket 1");
    // Who wrote last (in the order the desk got the messages), notes aside, from each
    // ticket's thread.
    let customer_last: HashSet<i64> = tickets
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .filter(|&id| {
            let thread = d.ticket(id);
            let last = thread["messages"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["direction"] != "note")
                .max_by_key(|m| m["id"].as_i64())
                .map(|m| m["direction"].clone());
            last == Some(Value::from("inbound"))
        })
        .collect();
    let awaiting = |t: &Value| customer_last.contains(&t["id"].as_i64().unwrap_or(0));
    let team_owned = |t: &Value| t["team"] == "tier1" || owner_is(t, JANE) || owner_is(t, DANA);
    let views: Vec<(&str, Vec<i64>)> = vec![
        (
            "unassigned",
            expected(&tickets, |t| open(t) && t["owner"].is_null()),
        ),
        ("mine", expected(&tickets, |t| open(t) && owner_is(t, JANE))),
        ("teams", expected(&tickets, |t| open(t) && team_owned(t))),
        ("open", expected(&tickets, open)),
        ("closed", expected(&tickets, |t| !open(t))),
        ("all", expected(&tickets, |_| true)),
    ];
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let first = jane.get("/inbox?view=all").text();
    for (view, want) in &views {
        let got = walk(&jane, &format!("/inbox?view={view}"));
        assert_eq!(&got, want, "view {view}");
        let unique: HashSet<&i64> = got.iter().collect();
        assert_eq!(unique.len(), got.len(), "view {view} repeats a ticket");
        assert_eq!(
            count(&first, view),
            want.len() as i64,
            "the {view} tab's count"
        );
    }
    // Oldest activity first: the same tickets the other way round, page after page.
    for (view, want) in &views {
        let got = walk(&jane, &format!("/inbox?view={view}&order=oldest"));
        let reversed: Vec<i64> = want.iter().rev().copied().collect();
        assert_eq!(got, reversed, "view {view}, oldest first");
    }
    let oldest = jane.get("/inbox?view=unassigned&order=oldest").text();
    assert!(oldest.contains("Newer tickets →"), "{oldest}");
    assert!(oldest.contains(r#"<option value="oldest" selected>"#));
    // The sizes the setup was made for: the unassigned and open views need two pages.
    assert_eq!(views[0].1.len(), 51);
    assert_eq!(
        views[5].1[0], 1,
        "the ticket with the newest activity comes first"
    );
    // Then the two tagged last, in the order they were tagged, the same second or not.
    assert_eq!(views[5].1[..3], [1, 11, 10]);
    assert!(views[2].1.contains(&7) && views[2].1.contains(&4) && !views[2].1.contains(&5));

    // Per channel and per status, alone and together (status in any case).
    let filtered: Vec<(&str, Vec<i64>)> = vec![
        (
            "/inbox?view=all&channel=sales",
            expected(&tickets, |t| t["channel"] == "sales"),
        ),
        (
            "/inbox?view=open&channel=support&status=New",
            expected(&tickets, |t| {
                t["channel"] == "support" && t["status"] == "New"
            }),
        ),
        (
            "/inbox?view=all&status=closed",
            expected(&tickets, |t| !open(t)),
        ),
        ("/inbox?view=mine&channel=sales", vec![]),
        (
            "/inbox?view=all&tag=batch",
            expected(&tickets, |t| has_tag(t, "batch")),
        ),
        (
            "/inbox?view=open&tag=VIP",
            expected(&tickets, |t| open(t) && has_tag(t, "vip")),
        ),
        ("/inbox?view=all&tag=nosuch", vec![]),
        ("/inbox?view=all&awaiting=1", expected(&tickets, awaiting)),
        (
            "/inbox?view=open&channel=sales&awaiting=1",
            expected(&tickets, |t| {
                open(t) && t["channel"] == "sales" && awaiting(t)
            }),
        ),
        (
            "/inbox?view=all&priority=urgent",
            expected(&tickets, |t| t["priority"] == "urgent"),
        ),
        (
            "/inbox?view=open&channel=support&priority=HIGH",
            expected(&tickets, |t| {
                open(t) && t["channel"] == "support" && t["priority"] == "high"
            }),
        ),
    ];
    for (path, want) in &filtered {
        assert_eq!(&walk(&jane, path), want, "{path}");
        let reversed: Vec<i64> = want.iter().rev().copied().collect();
        assert_eq!(
            walk(&jane, &format!("{path}&order=oldest")),
            reversed,
            "{path}, oldest first"
        );
    }
    assert_eq!(filtered[0].1.len(), 5);
    assert_eq!(filtered[4].1.len(), 52);
    assert_eq!(filtered[5].1.len(), 2);
    // Everything but the answered 3, 4 and 58 (1 was answered, then the customer wrote).
    assert_eq!(filtered[7].1.len(), 57);
    assert!(filtered[7].1.contains(&1) && filtered[7].1.contains(&6));
    assert!(!filtered[8].1.contains(&58) && filtered[8].1.contains(&59));
    assert_eq!(filtered[9].1.len(), 2);
    assert_eq!(filtered[10].1.len(), 2, "not the closed one");
    // Rows say which need attention first; "medium" and "low" say nothing.
    let urgent = jane.get("/inbox?view=all&priority=urgent").text();
    assert_eq!(
        urgent
            .matches(r#"<span class="badge priority-urgent">urgent</span>"#)
            .count(),
        2,
        "{urgent}"
    );
    // The same list for a script.
    let urgent_ids: Vec<i64> = d.ctl_json(&["tickets", "list", "--priority", "urgent"])["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_i64())
        .collect();
    assert_eq!(urgent_ids, filtered[9].1);
    let (code, _, err) = d.ctl(&["tickets", "list", "--priority", "soon"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("urgent"), "the choices are named: {err}");
    let high = jane.get("/inbox?view=open&priority=high").text();
    assert_eq!(high.matches(r#"class="badge priority-high""#).count(), 2);
    assert!(!high.contains("priority-urgent"));

    // The same filters from the page's own form, in Chromium.
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);
    b.open("/inbox?view=all");
    b.wait_until("the inbox", |b| b.row_ids().first() == Some(&1));
    b.click_css("form.filters select[name=channel] option[value='sales']");
    b.click_css("form.filters select[name=status] option[value='Closed']");
    b.click_css("form.filters button[type=submit]");
    b.wait_path("/inbox?view=all&channel=sales&status=Closed&priority=");
    b.wait_until("the filtered rows", |b| b.row_ids() == [57]);
    assert!(b.text("#main").contains("Question number 57"));
    // The chosen filters stay chosen on the page they gave.
    assert_eq!(b.value("form.filters select[name=status]"), "Closed");
    // "Customer wrote last" narrows it further, and stays ticked.
    b.open("/inbox?view=all&channel=sales");
    b.wait_until("the sales rows", |b| b.row_ids().len() == 5);
    b.click_css("form.filters input[name=awaiting]");
    b.click_css("form.filters button[type=submit]");
    b.wait_path("/inbox?view=all&channel=sales&status=&priority=&awaiting=1");
    let want = expected(&tickets, |t| t["channel"] == "sales" && awaiting(t));
    assert_eq!(want.len(), 4);
    b.wait_until("the rows awaiting us", |b| b.row_ids() == want);
    assert_eq!(
        b.js(
            "return document.querySelector('form.filters input[name=awaiting]').checked;",
            serde_json::json!([])
        ),
        true
    );
    // Oldest first from the same form; the other filters stay.
    b.click_css("form.filters select[name=order] option[value='oldest']");
    b.click_css("form.filters button[type=submit]");
    b.wait_path("/inbox?view=all&channel=sales&status=&priority=&awaiting=1&order=oldest");
    let reversed: Vec<i64> = want.iter().rev().copied().collect();
    b.wait_until("the rows oldest first", |b| b.row_ids() == reversed);
    assert_eq!(b.value("form.filters select[name=order]"), "oldest");
    // A priority from the form: only the urgent sales ticket, chosen still.
    b.open("/inbox?view=all&channel=sales");
    b.wait_until("the sales rows", |b| b.row_ids().len() == 5);
    b.click_css("form.filters select[name=priority] option[value='urgent']");
    b.click_css("form.filters button[type=submit]");
    b.wait_path("/inbox?view=all&channel=sales&status=&priority=urgent");
    b.wait_until("the urgent sales row", |b| b.row_ids() == [58]);
    assert_eq!(b.value("form.filters select[name=priority]"), "urgent");
}
