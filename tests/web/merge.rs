//! Merging a ticket into another by hand: from the ticket page (after a confirmation that
//! can be declined) or with `frontdeskctl tickets merge`. The thread, later replies and
//! the old number all lead to the ticket that stays; nonsense merges are refused.

use crate::browser::Browser;
use crate::{
    add_agent, daemon, deliver, http_sign_in, show, text_mail, text_mail_with, ticket_id, PASSWORD,
};

const CUSTOMER: &str = "max@customer.example.org";

fn mail(d: &crate::harness::Daemon, subject: &str, mid: &str, body: &str) {
    deliver(
        d,
        CUSTOMER,
        "support@example.com",
        &text_mail(&format!("Max Meier <{CUSTOMER}>"), subject, mid, body),
    );
}

#[test]
fn merge_a_duplicate_from_the_page_and_from_frontdeskctl() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    mail(
        &d,
        "Printer jam",
        "jam.1@customer.example.org",
        "Paper stuck in tray 2.",
    );
    mail(
        &d,
        "Printer jam again!!",
        "jam.2@customer.example.org",
        "Still stuck, please call.",
    );
    let (keep, dup) = (
        ticket_id(&d, "Printer jam"),
        ticket_id(&d, "Printer jam again!!"),
    );

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{dup}"));
    let into = b.wait_find("form.merge input[name=into]");
    b.click(&into);
    b.type_into(&into, &format!("#{keep}"));
    // Declined: nothing happens.
    b.click_css("form.merge button[type=submit]");
    let asked = b.answer_dialog(false);
    assert!(asked.contains(&format!("Merge ticket #{dup}")), "{asked}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(show(&d, dup)["merged_into"].is_null());
    assert_eq!(b.path(), format!("/tickets/{dup}"));
    // Accepted: off to the ticket that stays, with both messages and the history.
    b.click_css("form.merge button[type=submit]");
    b.answer_dialog(true);
    b.wait_path(&format!("/tickets/{keep}"));
    b.wait_text("section.thread", "Still stuck, please call.");
    assert!(b.text("section.thread").contains("Paper stuck in tray 2."));
    assert!(
        b.text("ol.events").contains(&format!(
            "ticket #{dup} merged in: merged by jane@acme.test"
        )),
        "{}",
        b.text("ol.events")
    );
    assert_eq!(show(&d, dup)["merged_into"], keep);

    // The old number leads to the ticket that stays, the inbox lists only that one, and
    // the customer's answer to the merged ticket's mail lands there too.
    b.open(&format!("/tickets/{dup}"));
    b.wait_path(&format!("/tickets/{keep}"));
    b.open("/inbox?view=all");
    b.wait_until("the inbox without the merged ticket", |b| {
        b.row_ids() == [keep]
    });
    let reply = text_mail_with(
        &format!("Max Meier <{CUSTOMER}>"),
        "Re: Printer jam again!!",
        "jam.3@customer.example.org",
        "Fixed it myself, thanks.",
        "In-Reply-To: <jam.2@customer.example.org>\r\n",
    );
    deliver(&d, CUSTOMER, "support@example.com", &reply);
    // (the list leaves merged tickets out: only the one that stays)
    assert_eq!(d.tickets().len(), 1, "the reply must not open a ticket");
    let kept = show(&d, keep);
    assert!(
        kept["messages"].to_string().contains("Fixed it myself"),
        "{kept}"
    );

    // Refused, and nothing changes: into itself, into nothing, not a number, again.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = (show(&d, keep), show(&d, dup));
    for (from, into, says) in [
        (keep, keep.to_string(), "into itself"),
        (keep, "99999".to_string(), "no ticket #99999"),
        (keep, "abc".to_string(), "number of the ticket"),
        (dup, keep.to_string(), "already one ticket"),
    ] {
        let r = jane.post(
            &format!("/tickets/{from}/merge"),
            &[("into", &into), ("csrf", &jane.csrf)],
            &[],
        );
        assert_eq!(r.status, 400, "#{from} into {into}: {}", r.text());
        assert!(r.text().contains(says), "#{from} into {into}: {}", r.text());
        assert_eq!(
            (show(&d, keep), show(&d, dup)),
            before,
            "#{from} into {into} changed something"
        );
    }
    // Without the CSRF token: 403.
    let r = jane.post(&format!("/tickets/{dup}/merge"), &[("into", "1")], &[]);
    assert_eq!(r.status, 403, "{}", r.text());

    // From frontdeskctl.
    mail(
        &d,
        "Toner?",
        "toner.1@customer.example.org",
        "Which toner fits?",
    );
    let toner = ticket_id(&d, "Toner?");
    let (code, out, err) = d.ctl(&[
        "tickets",
        "merge",
        &toner.to_string(),
        "--into",
        &keep.to_string(),
        "--as",
        "jane@acme.test",
    ]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(show(&d, toner)["merged_into"], keep);
    let (code, _, err) = d.ctl(&["tickets", "merge", &keep.to_string(), "--into", "424242"]);
    assert_ne!(code, 0);
    assert!(err.contains("no ticket #424242"), "{err}");
}
