//! What is new to each agent: an open ticket holding a message that the agent's ticket
//! page has not shown them is marked "new" in their inbox, and only in theirs, until
//! they open it; a later message (the customer's, a colleague's note) marks it again,
//! and so does a colleague handing them the ticket.

use crate::browser::Browser;
use crate::{
    add_agent, daemon, http_sign_in, olga_asks_about_the_hinge, olga_two_tickets, Agent, PASSWORD,
};

/// The ticket numbers the agent's "all" view marks new.
fn new_to(agent: &Agent) -> Vec<i64> {
    let page = agent.get("/inbox?view=all");
    assert_eq!(page.status, 200, "{}", page.text());
    page.text()
        .split(r#"<tr class="ticket"#)
        .skip(1)
        .filter(|row| row.split('"').next().unwrap_or("").contains("unread"))
        .filter_map(|row| crate::attribute(row, r#"data-ticket=""#)?.parse().ok())
        .collect()
}

#[test]
fn new_mail_is_marked_per_agent_until_they_open_the_ticket() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    let (hinge, invoice) = olga_two_tickets(&d, "new");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    assert_eq!(
        new_to(&jane),
        [invoice, hinge],
        "nobody has read anything yet"
    );

    // Jane opens one (twice: the second view is served as rendered); Dana still has both.
    for _ in 0..2 {
        assert_eq!(jane.get(&format!("/tickets/{hinge}")).status, 200);
    }
    assert_eq!(new_to(&jane), [invoice]);
    assert_eq!(new_to(&dana), [invoice, hinge]);

    // The customer writes again: new to Jane once more.
    olga_asks_about_the_hinge(&d, "new");
    assert_eq!(new_to(&jane), [hinge, invoice]);
    assert_eq!(jane.get(&format!("/tickets/{hinge}")).status, 200);
    assert_eq!(new_to(&jane), [invoice]);

    // Dana's note is news to Jane, not to Dana, whose page shows it after the post.
    let r = dana.post(
        &format!("/tickets/{hinge}/note"),
        &[("csrf", &dana.csrf), ("body", "Asked the warehouse.")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(dana.get(&format!("/tickets/{hinge}")).status, 200);
    assert_eq!(new_to(&dana), [invoice]);
    assert_eq!(new_to(&jane), [hinge, invoice]);

    // A closed ticket is not marked, read or not.
    let (code, out, err) = d.ctl(&["tickets", "status", &invoice.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(new_to(&dana), Vec::<i64>::new());

    // In Chromium: the row says "new" and its subject is bold; opening it and coming
    // back (the inbox page the browser gets is not a stale copy) clears both.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=all");
    let row = format!("tr[data-ticket='{hinge}']");
    let marked = |b: &Browser| {
        b.js(
            "const m = document.querySelector(arguments[0]);
             return m ? m.innerText : '';",
            serde_json::json!([format!("{row} span.new")]),
        )
    };
    b.wait_until("the new row", |b| marked(b) == "NEW");
    let weight = |b: &Browser| {
        b.js(
            "return getComputedStyle(document.querySelector(arguments[0])).fontWeight;",
            serde_json::json!([format!("{row} a[href^='/tickets/']")]),
        )
    };
    assert_eq!(weight(&b), "700");
    b.click_css(&format!("{row} a[href^='/tickets/']"));
    b.wait_path(&format!("/tickets/{hinge}"));
    b.open("/inbox?view=all");
    b.wait_until("the row read", |b| marked(b) == "");
    assert_eq!(weight(&b), "400");
}

/// A ticket a colleague hands to an agent (from the page, the bulk form or frontdeskctl)
/// is new to them until they open it; one they take themselves, or that stays theirs,
/// is not.
#[test]
fn a_ticket_handed_to_an_agent_is_new_to_them() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    let (hinge, invoice) = olga_two_tickets(&d, "handed");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    for agent in [&jane, &dana] {
        for id in [hinge, invoice] {
            assert_eq!(agent.get(&format!("/tickets/{id}")).status, 200);
        }
        assert_eq!(new_to(agent), Vec::<i64>::new());
    }
    let assign = |who: &Agent, id: i64, to: &str| {
        let r = who.post(
            &format!("/tickets/{id}/assign"),
            &[("csrf", &who.csrf), ("to", to)],
            &[],
        );
        assert_eq!(r.status, 303, "{}", r.text());
    };

    // Jane hands the hinge ticket to Dana: new to Dana only.
    assign(&jane, hinge, "agent:dana@acme.test");
    assert_eq!(new_to(&dana), [hinge]);
    assert_eq!(new_to(&jane), Vec::<i64>::new());
    // Handed to her again while it is already hers: nothing new.
    assert_eq!(dana.get(&format!("/tickets/{hinge}")).status, 200);
    assign(&jane, hinge, "agent:dana@acme.test");
    assert_eq!(new_to(&dana), Vec::<i64>::new());

    // Dana takes the invoice ticket herself: she knows it.
    assign(&dana, invoice, "agent:dana@acme.test");
    assert_eq!(new_to(&dana), Vec::<i64>::new());

    // Dana hands both to Jane with the bulk form.
    let r = dana.post(
        "/tickets/bulk",
        &[
            ("csrf", &dana.csrf),
            ("ticket", &hinge.to_string()),
            ("ticket", &invoice.to_string()),
            ("to", "agent:jane@acme.test"),
            ("back", "/inbox?view=all"),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    // (The bulk form changes them in the order given: the invoice ticket last, on top.)
    assert_eq!(new_to(&jane), [invoice, hinge]);

    // The sysadmin hands the hinge ticket back to Dana from frontdeskctl.
    let (code, out, err) = d.ctl(&["tickets", "assign", &hinge.to_string(), "dana@acme.test"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(new_to(&dana), [hinge]);
}

#[test]
fn an_agent_marks_a_ticket_unread_to_come_back_to_it() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    let (hinge, invoice) = olga_two_tickets(&d, "again");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    for id in [hinge, invoice] {
        assert_eq!(jane.get(&format!("/tickets/{id}")).status, 200);
    }
    assert!(dana.get(&format!("/tickets/{hinge}")).status == 200);
    assert_eq!(new_to(&jane), Vec::<i64>::new());

    // Without the CSRF token nothing changes.
    let r = jane.post(&format!("/tickets/{hinge}/unread"), &[], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(new_to(&jane), Vec::<i64>::new());
    // "Mark unread": back to the inbox, where it is new again (to Jane only).
    let r = jane.post(
        &format!("/tickets/{hinge}/unread"),
        &[("csrf", &jane.csrf)],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/inbox"));
    assert_eq!(new_to(&jane), [hinge]);
    assert_eq!(new_to(&dana), [invoice], "Dana's reading is hers");
    // Opening it reads it again.
    assert_eq!(jane.get(&format!("/tickets/{hinge}")).status, 200);
    assert_eq!(new_to(&jane), Vec::<i64>::new());
    let r = jane.post("/tickets/999999/unread", &[("csrf", &jane.csrf)], &[]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("no ticket #999999"), "{}", r.text());

    // From the keyboard on the ticket page: u.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{invoice}"));
    b.wait_find("#mark-unread");
    b.press("u");
    b.wait_path("/inbox");
    assert_eq!(new_to(&jane), [invoice]);
}
