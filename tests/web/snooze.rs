//! Snoozing: an open ticket snoozed from its page (or with `frontdeskctl tickets
//! snooze`) leaves the open views for the Snoozed one until the snooze ends, the
//! customer writes, an agent wakes it, or it is closed; open inboxes follow live.

use std::time::Duration;

use crate::browser::Browser;
use crate::{
    add_agent, daemon, http_sign_in, inbox_view as view, olga_asks_about_the_hinge,
    olga_two_tickets, show, PASSWORD,
};

fn events(d: &crate::harness::Daemon, id: i64) -> String {
    show(d, id)["events"].to_string()
}

#[test]
fn a_snoozed_ticket_waits_in_its_own_view_until_it_wakes() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "snz");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let snooze = |form: &[(&str, &str)]| {
        let mut all = vec![("csrf", jane.csrf.as_str())];
        all.extend_from_slice(form);
        jane.post(&format!("/tickets/{hinge}/snooze"), &all, &[])
    };

    // Bad lengths and a missing token are refused and change nothing.
    for (length, words) in [
        ("0m", "within a year"),
        ("soon", "not a length"),
        ("400d", "within a year"),
    ] {
        let r = snooze(&[("for", length)]);
        assert_eq!(r.status, 400, "{length}");
        assert!(r.text().contains(words), "{length}: {}", r.text());
    }
    let r = jane.post(&format!("/tickets/{hinge}/snooze"), &[("for", "1d")], &[]);
    assert_eq!(r.status, 403);
    assert_eq!(show(&d, hinge)["snoozed_until"], serde_json::Value::Null);

    // Snoozed for a day from the page: out of the open views, into Snoozed.
    let r = snooze(&[("for", "1d")]);
    assert_eq!(r.status, 303, "{}", r.text());
    let until = show(&d, hinge)["snoozed_until"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(events(&d, hinge).contains(&format!("snoozed until {until}")));
    assert_eq!(view(&jane, "open"), (vec![invoice], 1));
    assert_eq!(view(&jane, "unassigned"), (vec![invoice], 1));
    assert_eq!(view(&jane, "snoozed"), (vec![hinge], 1));
    assert_eq!(view(&jane, "all").1, 2);
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(page.contains("Snoozed until") && page.contains("Wake now"));
    assert!(jane
        .get("/inbox?view=snoozed")
        .text()
        .contains("snoozed until"));

    // The customer writes: awake at once.
    olga_asks_about_the_hinge(&d, "snz");
    assert_eq!(show(&d, hinge)["snoozed_until"], serde_json::Value::Null);
    assert!(events(&d, hinge).contains("woken: the customer wrote"));
    assert_eq!(view(&jane, "snoozed"), (vec![], 0));
    assert_eq!(view(&jane, "open").0, [hinge, invoice]);

    // "Wake now", and closing, end a snooze too; a closed ticket cannot be snoozed.
    assert_eq!(snooze(&[("for", "3d")]).status, 303);
    assert_eq!(snooze(&[("wake", "1")]).status, 303);
    assert!(events(&d, hinge).contains("woken by hand"));
    assert_eq!(view(&jane, "snoozed").1, 0);
    let (code, out, err) = d.ctl(&["tickets", "snooze", &invoice.to_string(), "--for", "1w"]);
    assert_eq!(code, 0, "{err}{out}");
    let (code, out, err) = d.ctl(&["tickets", "status", &invoice.to_string(), "Closed"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(show(&d, invoice)["snoozed_until"], serde_json::Value::Null);
    let r = jane.post(
        &format!("/tickets/{invoice}/snooze"),
        &[("csrf", &jane.csrf), ("for", "1d")],
        &[],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("is closed"), "{}", r.text());
    let (code, _, err) = d.ctl(&[
        "tickets",
        "snooze",
        &hinge.to_string(),
        "--until",
        "yesterday",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("not a time"), "{err}");

    // A short snooze from frontdeskctl, watched in an open inbox: the row leaves live,
    // and comes back on top by itself when the snooze ends.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=open");
    b.wait_until("the open ticket", |b| b.row_ids() == [hinge]);
    // (Six seconds: long enough for a loaded machine to show the row leaving first.)
    let (code, out, err) = d.ctl(&["tickets", "snooze", &hinge.to_string(), "--for", "6s"]);
    assert_eq!(code, 0, "{err}{out}");
    b.wait_until("the row to leave", |b| b.row_ids().is_empty());
    let asleep = std::time::Instant::now();
    b.wait_until("the row to come back", |b| b.row_ids() == [hinge]);
    assert!(
        asleep.elapsed() < Duration::from_secs(15),
        "{:?}",
        asleep.elapsed()
    );
    assert!(events(&d, hinge).contains("the snooze ended"));
    assert_eq!(show(&d, hinge)["snoozed_until"], serde_json::Value::Null);

    // Until a time picked on the page, in the agent's own time: the server gets it in
    // UTC from the page's script (without it, a picked time is refused, not ignored).
    let r = snooze(&[("for", "4h"), ("at", "2030-01-01T09:30")]);
    assert_eq!(r.status, 400);
    assert_eq!(show(&d, hinge)["snoozed_until"], serde_json::Value::Null);
    b.open(&format!("/tickets/{hinge}"));
    let picked = b.js(
        "const d = new Date(Date.now() + 2 * 86400000);
         const pad = n => String(n).padStart(2, '0');
         const local = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T09:30';
         document.querySelector('form.snooze input[name=at]').value = local;
         return new Date(local).toISOString().replace('.000Z', 'Z');",
        serde_json::json!([]),
    );
    b.click_css("form.snooze button[type=submit]");
    b.wait_text("form.snooze", "Snoozed until");
    assert_eq!(show(&d, hinge)["snoozed_until"], picked);
}
