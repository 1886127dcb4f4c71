//! The inbox's bulk form: tick tickets (by mouse, by `x`, or all on the page), pick an
//! owner and/or a status, apply. All or none: one ticket that cannot take the change
//! refuses the whole batch, and nothing changes.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, http_sign_in, show, text_mail, ticket_id, PASSWORD};

#[test]
fn tick_assign_and_close_several_tickets_at_once() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    let subjects = [
        "Spam offer one",
        "Spam offer two",
        "Spam offer three",
        "Real question",
    ];
    for (n, subject) in subjects.iter().enumerate() {
        deliver(
            &d,
            "someone@customer.example.org",
            "support@example.com",
            &text_mail(
                "someone@customer.example.org",
                subject,
                &format!("bulk.{n}@customer.example.org"),
                "Body.",
            ),
        );
    }
    let ids: Vec<i64> = subjects.iter().map(|s| ticket_id(&d, s)).collect();
    let (spam, real) = (&ids[..3], ids[3]);

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=all");
    b.wait_text("#main table.tickets", "Real question");
    let disabled = |b: &Browser| {
        b.js(
            "return document.getElementById('bulk-apply').disabled;",
            json!([]),
        )
    };
    assert_eq!(disabled(&b), true, "nothing ticked, nothing to apply");
    assert_eq!(b.text("#bulk-count"), "none selected");

    // Two ticked by mouse, the third with the keyboard (j walks down from the newest).
    b.click_css(&format!("input[name=ticket][value='{}']", spam[0]));
    b.click_css(&format!("input[name=ticket][value='{}']", spam[1]));
    b.press("\u{E00C}");
    let steps = b.row_ids().iter().position(|r| *r == spam[2]).unwrap() + 1;
    b.press(&"j".repeat(steps));
    b.press("x");
    assert_eq!(b.text("#bulk-count"), "3 selected");
    assert_eq!(disabled(&b), false);

    b.click_css("select[name=to] option[value='agent:bob@acme.test']");
    b.click_css("select[name=stage] option[value='Closed']");
    b.click_css("#bulk-apply");
    b.wait_until("the inbox after the bulk change", |b| {
        b.path() == "/inbox?view=all" && b.ready() && b.text("#bulk-count") == "none selected"
    });
    for &id in spam {
        let t = show(&d, id);
        assert_eq!(t["owner"], "bob@acme.test", "#{id}: {t}");
        assert_eq!(t["status"], "Closed", "#{id}: {t}");
        let events = t["events"].to_string();
        assert!(
            events.contains("assigned to bob@acme.test"),
            "#{id}: {events}"
        );
        assert!(
            events.contains("jane@acme.test"),
            "the actor is recorded: {events}"
        );
    }
    let untouched = show(&d, real);
    assert!(untouched["owner"].is_null(), "{untouched}");
    assert_eq!(untouched["status"], "New");
    // The page shows the change: the closed tickets' rows say so.
    let row = b.text(&format!("tr.ticket[data-ticket='{}']", spam[0]));
    assert!(
        row.contains("Closed") && row.contains("Bob Builder"),
        "{row}"
    );

    // "Select all" ticks every row on the page.
    b.click_css("#select-all");
    assert_eq!(b.text("#bulk-count"), "4 selected");
    b.click_css("#select-all");
    assert_eq!(b.text("#bulk-count"), "none selected");

    // All or none, over plain HTTP: one unknown ticket, or a status the pipeline does
    // not have, refuses the batch and names why; the good ticket is left as it was.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, real);
    let real_s = real.to_string();
    /// (what, form fields without the token, expected status, words in the answer)
    type Attempt<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str);
    let attempts: Vec<Attempt> = vec![
        (
            "an unknown ticket",
            vec![
                ("ticket", &real_s),
                ("ticket", "999999"),
                ("stage", "Closed"),
            ],
            400,
            "#999999",
        ),
        (
            "a status no pipeline has",
            vec![("ticket", &real_s), ("stage", "Bogus")],
            400,
            "Bogus",
        ),
        (
            "a deactivated or unknown agent",
            vec![("ticket", &real_s), ("to", "agent:nobody@acme.test")],
            400,
            "nobody@acme.test",
        ),
        (
            "no ticket ticked",
            vec![("stage", "Closed")],
            400,
            "Select at least one",
        ),
        (
            "nothing to change",
            vec![("ticket", &real_s)],
            400,
            "Choose",
        ),
        (
            "a ticket that is not a number",
            vec![("ticket", "1 OR 1=1"), ("stage", "Closed")],
            400,
            "not a number",
        ),
    ];
    for (what, fields, status, says) in attempts {
        let mut with_csrf = fields.clone();
        with_csrf.push(("csrf", &jane.csrf));
        let r = jane.post("/tickets/bulk", &with_csrf, &[]);
        assert_eq!(r.status, status, "{what}: {}", r.text());
        assert!(r.text().contains(says), "{what}: {}", r.text());
        assert_eq!(show(&d, real), before, "{what} changed the ticket");
    }
    // Without the CSRF token: 403, nothing changes.
    let r = jane.post(
        "/tickets/bulk",
        &[("ticket", &real_s), ("stage", "Closed")],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(show(&d, real), before);
    // A good request goes through, back to the inbox page it names (and only there).
    let r = jane.post(
        "/tickets/bulk",
        &[
            ("ticket", &real_s),
            ("to", "none"),
            ("stage", "Closed"),
            ("back", "https://evil.example/"),
            ("csrf", &jane.csrf),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/inbox"));
    assert_eq!(show(&d, real)["status"], "Closed");
}
