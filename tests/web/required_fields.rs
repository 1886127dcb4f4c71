//! Ticket fields needed to close (`required_to_close`): an agent cannot close a ticket
//! while one is empty — not with the status menu, "Send and close", the bulk form, a
//! pipeline move or `frontdeskctl` — and nothing changes (no reply goes) when refused.
//! A macro that fills them in may close; the desk's own closings (spam) pass.

use std::time::Duration;

use crate::browser::Browser;
use crate::macros::PIPELINES;
use crate::receiver::Receiver;
use crate::{
    add_agent, history, http_sign_in, message_rows, olga_two_tickets, relaying, show, PASSWORD,
    SUPPORT,
};

const FIELDS: &str = r#"
[[ticket_field]]
name = "Product"
kind = "choice"
choices = ["Hinge", "Desk lamp"]
required_to_close = true

[[ticket_field]]
name = "Invoice"
required_to_close = ["Billing"]

[[ticket_field]]
name = "Remark"

[[macro]]
name = "Hinge sent"
fields = { Product = "Hinge" }
status = "Closed"
"#;

const NEEDS_PRODUCT: &str = "Product must be filled in before the ticket is closed";

#[test]
fn a_ticket_closes_only_once_the_fields_it_needs_are_filled_in() {
    let rx = Receiver::start();
    let d = crate::harness::Daemon::start_with(crate::harness::Settings {
        channels: relaying(rx.port, "", &format!("{SUPPORT}{PIPELINES}{FIELDS}")),
        ..crate::harness::Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, invoice) = olga_two_tickets(&d, "req");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);

    // The panel says which boxes closing needs, for this ticket's pipeline.
    let page = jane.get(&format!("/tickets/{hinge}")).text();
    assert!(
        page.contains(r#"<label>Product <span class="needed-to-close">(needed to close)</span>"#),
        "{page}"
    );
    assert!(page.contains("<label>Invoice <input"), "{page}");
    assert!(page.contains("<label>Remark <input"), "{page}");
    assert!(
        page.contains("To close it, fill in Product (Fields, below).</p>"),
        "{page}"
    );

    // In Chromium the page stops a close before it is sent: the reply stays in its
    // box, the page says why and goes to the empty field.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    let body = b.wait_find("#reply-body");
    b.type_into(&body, "The new hinge is on its way.");
    b.click_css("form.reply button[name='then'][value='close']");
    b.wait_until("the page holds the close", |b| {
        b.find("p.needs-fields.held").is_some()
    });
    let focused = b.js(
        "return document.activeElement.name || '';",
        serde_json::json!([]),
    );
    assert_eq!(focused, "field:Product");
    assert_eq!(b.value("#reply-body"), "The new hinge is on its way.");
    assert_eq!(
        b.js(
            "return document.getElementById('needs-fields').getAttribute('role');",
            serde_json::json!([])
        ),
        "alert",
        "read out"
    );
    // The status menu's closed stage is held the same way; another status goes.
    b.click_css("form[action$='/status'] option[value='Closed']");
    b.click_css("form[action$='/status'] button[type='submit']");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(b.path(), format!("/tickets/{hinge}"));
    assert_eq!(
        b.value("#reply-body"),
        "The new hinge is on its way.",
        "no reload"
    );
    b.click_css("form[action$='/status'] option[value='Waiting on us']");
    b.click_css("form[action$='/status'] button[type='submit']");
    crate::harness::wait_until("the status set", Duration::from_secs(20), || {
        show(&d, hinge)["status"] == "Waiting on us"
    });
    b.wait_until("the page back", |b| b.ready());
    d.ctl_json(&["tickets", "status", &hinge.to_string(), "New"]);
    assert!(message_rows(&show(&d, hinge), "outbound").is_empty());

    // The status menu, the bulk form, frontdeskctl: refused with the reason.
    let before = show(&d, hinge);
    let r = jane.post(
        &format!("/tickets/{hinge}/status"),
        &[("csrf", &jane.csrf), ("stage", "Closed")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains(NEEDS_PRODUCT), "{}", r.text());
    assert_eq!(
        show(&d, hinge),
        before,
        "a refused close changed the ticket"
    );
    let (code, out, err) = d.ctl(&["tickets", "status", &hinge.to_string(), "closed"]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains(NEEDS_PRODUCT), "{err}");
    // `tickets show` says what closing still needs (its JSON too).
    let (code, out, _) = d.ctl(&["tickets", "show", &hinge.to_string()]);
    assert_eq!(code, 0);
    assert!(out.contains("\n  to close: fill in Product\n"), "{out}");
    assert_eq!(
        show(&d, hinge)["needed_to_close"],
        serde_json::json!(["Product"])
    );
    // Moving to another status is no close: it goes (the browser did so above).
    d.ctl_json(&["tickets", "status", &hinge.to_string(), "Waiting on us"]);

    // Ticked together, one ticket with the product and one without: neither closes.
    d.ctl_json(&[
        "tickets",
        "field",
        &invoice.to_string(),
        "Product",
        "Desk lamp",
    ]);
    let both = (show(&d, hinge), show(&d, invoice));
    let r = jane.post(
        "/tickets/bulk",
        &[
            ("csrf", &jane.csrf),
            ("ticket", &invoice.to_string()),
            ("ticket", &hinge.to_string()),
            ("stage", "Closed"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains(&format!("#{hinge}")) && r.text().contains(NEEDS_PRODUCT),
        "{}",
        r.text()
    );
    assert_eq!((show(&d, hinge), show(&d, invoice)), both);

    // "Send and close" refuses the whole: no reply is kept, none reaches the relay.
    let r = jane.post(
        &format!("/tickets/{hinge}/reply"),
        &[
            ("csrf", &jane.csrf),
            ("body", "The new hinge is on its way."),
            ("then", "close"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains(NEEDS_PRODUCT), "{}", r.text());
    let t = show(&d, hinge);
    assert!(message_rows(&t, "outbound").is_empty(), "{t}");
    assert_eq!(t["status"], "Waiting on us");
    let (code, _, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &hinge.to_string(),
            "--as",
            "jane@acme.test",
            "--close",
        ],
        Some(b"Sent from the shell."),
    );
    assert_ne!(code, 0);
    assert!(err.contains(NEEDS_PRODUCT), "{err}");
    assert!(message_rows(&show(&d, hinge), "outbound").is_empty());

    // A macro that fills the product in closes it: the field first, then the status.
    let r = jane.post(
        &format!("/tickets/{hinge}/macro"),
        &[("csrf", &jane.csrf), ("macro", "Hinge sent")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let t = show(&d, hinge);
    assert_eq!(t["status"], "Closed");
    assert_eq!(t["fields"]["Product"], "Hinge");
    let h = history(&t);
    let (field_at, closed_at) = (
        h.find("Product: Hinge").expect("the field in the history"),
        h.find("Waiting on us → Closed")
            .expect("the close in the history"),
    );
    assert!(field_at < closed_at, "{h}");
    // Closed already, a field emptied does not reopen it nor stop a close again.
    d.ctl_json(&["tickets", "field", &hinge.to_string(), "Product", ""]);
    d.ctl_json(&["tickets", "status", &hinge.to_string(), "Closed"]);

    // Billing needs the invoice as well: a move into its closed stage is refused,
    // naming it; with it filled in, "Send and close" sends and closes.
    let r = jane.post(
        &format!("/tickets/{invoice}/pipeline"),
        &[
            ("csrf", &jane.csrf),
            ("pipeline", "Billing"),
            ("stage", "Refunded"),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text()
            .contains("Invoice must be filled in before the ticket is closed"),
        "{}",
        r.text()
    );
    assert_eq!(show(&d, invoice)["pipeline"], "Support");
    let r = jane.post(
        &format!("/tickets/{invoice}/pipeline"),
        &[("csrf", &jane.csrf), ("pipeline", "Billing")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let page = jane.get(&format!("/tickets/{invoice}")).text();
    assert!(
        page.contains(r#"<label>Invoice <span class="needed-to-close">(needed to close)</span>"#),
        "{page}"
    );
    // Its product is in already: only the invoice is wanted.
    assert!(
        page.contains("To close it, fill in Invoice (Fields, below)."),
        "{page}"
    );
    let r = jane.post(
        &format!("/tickets/{invoice}/fields"),
        &[("csrf", &jane.csrf), ("field:Invoice", "INV-7")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let r = jane.post(
        &format!("/tickets/{invoice}/reply"),
        &[
            ("csrf", &jane.csrf),
            ("body", "The refund is on its way."),
            ("then", "close"),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(show(&d, invoice)["status"], "Refunded");
    let page = jane.get(&format!("/tickets/{invoice}")).text();
    assert!(!page.contains("needs-fields"), "nothing more is wanted");
    assert!(show(&d, invoice).get("needed_to_close").is_none());
    let got = rx.wait_rcpt("olga@customer.example.org", 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "only the reply that closed went");
    assert!(got[0].contains("The refund is on its way."));

    // The desk's own closing passes: her next mail opens the hinge ticket, which has
    // no product now, and spam closes it.
    crate::olga_asks_about_the_hinge(&d, "req");
    crate::harness::wait_until("the hinge ticket reopened", Duration::from_secs(20), || {
        show(&d, hinge)["status"] == "Waiting on us"
    });
    let r = jane.post(
        &format!("/tickets/{hinge}/spam"),
        &[("csrf", &jane.csrf), ("spam", "1")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(show(&d, hinge)["status"], "Closed");
}
