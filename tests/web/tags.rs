//! Tags: added from the ticket page (Enter in the box), removed with a tag's button,
//! shown in the inbox; refused whole when one is bad; set with `frontdeskctl tickets
//! tag`, which an open ticket page shows live, as it does a note written there.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, http_sign_in, show, text_mail, ticket_id, PASSWORD};

fn tags(d: &crate::harness::Daemon, id: i64) -> serde_json::Value {
    show(d, id)["tags"].clone()
}

#[test]
fn tags_from_the_page_and_the_control_socket() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "vera@customer.example.org",
        "support@example.com",
        &text_mail(
            "vera@customer.example.org",
            "Refund for order 88",
            "tag.1@customer.example.org",
            "Please refund.",
        ),
    );
    let id = ticket_id(&d, "Refund for order 88");
    deliver(
        &d,
        "walt@customer.example.org",
        "support@example.com",
        &text_mail(
            "walt@customer.example.org",
            "Opening hours",
            "tag.2@customer.example.org",
            "When are you open?",
        ),
    );
    let untagged = ticket_id(&d, "Opening hours");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    let input = b.wait_find("form.tag-add input[name=add]");
    b.click(&input);
    b.type_into(&input, "VIP, refund\u{E007}");
    b.wait_text("aside.side ul.tags", "refund");
    assert_eq!(tags(&d, id), json!(["vip", "refund"]));
    assert!(show(&d, id)["events"].to_string().contains("+vip +refund"));

    // Remove one with its own button.
    b.click_css("ul.tags button[value='refund']");
    b.wait_until("the refund tag to go", |b| {
        !b.text("aside.side ul.tags").contains("refund")
    });
    assert_eq!(tags(&d, id), json!(["vip"]));

    // The inbox shows the ticket's tags; a tag filters the view by it, until its ×
    // (rows compared as sets: tagging moved the ticket's activity time).
    let rows = |b: &Browser| {
        let mut ids = b.row_ids();
        ids.sort_unstable();
        ids
    };
    b.open("/inbox?view=all");
    b.wait_text(&format!("tr.ticket[data-ticket='{id}'] .tag"), "vip");
    assert_eq!(rows(&b), [id, untagged]);
    b.click_css(&format!("tr.ticket[data-ticket='{id}'] a.tag"));
    b.wait_path("/inbox?view=all&tag=vip");
    assert_eq!(rows(&b), [id]);
    assert!(b.text("form.filters .tag-filter").contains("vip"));
    b.click_css("form.filters .tag-filter a");
    b.wait_path("/inbox?view=all");
    b.wait_until("every row again", |b| rows(b) == [id, untagged]);

    // From the control socket, while the ticket page is open: it updates without a
    // reload (the page's window keeps its marker), and so does a note written there.
    b.open(&format!("/tickets/{id}"));
    b.wait_find("form.tag-add");
    b.wait_event_stream();
    b.js("window.__marker = 1; return 1;", json!([]));
    let (code, out, err) = d.ctl(&[
        "tickets",
        "tag",
        &id.to_string(),
        "--add",
        "escalated",
        "--as",
        "jane@acme.test",
    ]);
    assert_eq!(code, 0, "{err}{out}");
    b.wait_text("aside.side ul.tags", "escalated");
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "note", &id.to_string(), "--as", "jane@acme.test"],
        Some(b"Finance says yes."),
    );
    assert_eq!(code, 0, "{err}{out}");
    b.wait_text("article.message.note", "Finance says yes.");
    assert_eq!(
        b.js("return window.__marker;", json!([])),
        1,
        "the page was reloaded"
    );

    // One bad tag refuses the whole change, by name; nothing changes.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, id);
    let long = "x".repeat(41);
    for (add, says) in [
        (format!("fine, {long}"), "longer than 40"),
        ("a\u{7}b".to_string(), "control character"),
        (" , ".to_string(), "Type a tag"),
    ] {
        let r = jane.post(
            &format!("/tickets/{id}/tags"),
            &[("add", &add), ("csrf", &jane.csrf)],
            &[],
        );
        assert_eq!(r.status, 400, "{add:?}: {}", r.text());
        assert!(r.text().contains(says), "{add:?}: {}", r.text());
        assert_eq!(show(&d, id), before, "{add:?} changed the ticket");
    }
    // frontdeskctl says so too, and exits non-zero.
    let (code, _, err) = d.ctl(&["tickets", "tag", &id.to_string(), "--add", "a,b"]);
    assert_ne!(code, 0);
    assert!(err.contains("comma"), "{err}");
    let (code, out, err) = d.ctl(&["tickets", "tag", &id.to_string(), "--remove", "vip"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(tags(&d, id), json!(["escalated"]));
}
