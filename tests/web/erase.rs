//! Forgetting for good: an administrator erases a customer who asks for it (their
//! tickets, their mail on others' tickets, their contact) or deletes one ticket kept
//! by mistake, from the page after a confirmation or with frontdeskctl. Agents who are
//! not administrators, requests without the CSRF token and a wrong confirmation change
//! nothing; erased numbers are never given again.

use serde_json::Value;

use crate::browser::Browser;
use crate::customers::addresses;
use crate::{
    add_agent, daemon, deliver, http_sign_in, mail_to_support, show, text_mail, text_mail_with,
    ticket_id, PASSWORD,
};

const OLGA: &str = "olga@customer.example.org";
const PIET: &str = "piet@customer.example.org";

/// `OLGA` answers mail `in_reply_to` of a ticket that is gone: the ticket it opens.
fn late_reply(
    d: &crate::harness::Daemon,
    subject: &str,
    message_id: &str,
    in_reply_to: &str,
) -> i64 {
    deliver(
        d,
        OLGA,
        "support@example.com",
        &text_mail_with(
            OLGA,
            subject,
            message_id,
            "Any news?",
            &format!("In-Reply-To: <{in_reply_to}>\r\n"),
        ),
    );
    ticket_id(d, subject)
}

#[test]
fn a_customer_who_asks_to_be_forgotten_is_erased_for_good() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    let (code, out, err) = d.ctl(&["users", "set", "jane@acme.test", "--admin", "on"]);
    assert_eq!(code, 0, "{err}{out}");
    assert!(out.contains("administrator on"), "{out}");
    // Piet's ticket, on which Olga answers too; then Olga's own two, the desk's newest.
    deliver(
        &d,
        PIET,
        "support@example.com",
        &text_mail_with(
            PIET,
            "Late parcel",
            "e.1@customer.example.org",
            "Where is it?",
            &format!("Cc: {OLGA}\r\n"),
        ),
    );
    let parcel = ticket_id(&d, "Late parcel");
    deliver(
        &d,
        OLGA,
        "support@example.com",
        &text_mail_with(
            OLGA,
            "Re: Late parcel",
            "e.2@customer.example.org",
            "Mine is late as well, zanzibarword.",
            "In-Reply-To: <e.1@customer.example.org>\r\n",
        ),
    );
    deliver(
        &d,
        OLGA,
        "support@example.com",
        &text_mail(
            OLGA,
            "Broken hinge",
            "e.3@customer.example.org",
            "The zanzibarword hinge broke.",
        ),
    );
    let hinge = ticket_id(&d, "Broken hinge");
    let invoice = mail_to_support(&d, OLGA, "Invoice copy", "e.4@customer.example.org");
    assert_eq!(
        show(&d, parcel)["messages"].as_array().map(Vec::len),
        Some(2)
    );
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "note",
            &hinge.to_string(),
            "--as",
            "jane@acme.test",
        ],
        Some(b"She called about the zanzibarword hinge."),
    );
    assert_eq!(code, 0, "{err}{out}");

    // frontdeskctl says what would go and changes nothing without --yes.
    let (code, out, _) = d.ctl(&["contacts", "erase", OLGA]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "would erase {OLGA}: 2 tickets, 3 messages on them (0 files), 1 of their messages on other tickets"
        )),
        "{out}"
    );
    let (code, _, err) = d.ctl(&["contacts", "erase", "nobody@example.org", "--yes"]);
    assert_ne!(code, 0);
    assert!(err.contains("no customer nobody@example.org"), "{err}");
    assert_eq!(
        d.ctl_json(&["contacts", "show", OLGA])["tickets"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // An agent who is not an administrator cannot erase anyone.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    let olga = crate::customer_of(&b, hinge);
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    let page = dana.get(&format!("/customers/{olga}")).text();
    assert!(page.contains("an administrator erases them here"), "{page}");
    assert!(!page.contains("erase-link"), "{page}");
    let erase = format!("/customers/{olga}/erase");
    assert_eq!(dana.get(&erase).status, 403);
    let r = dana.post(&erase, &[("csrf", &dana.csrf), ("confirm", OLGA)], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    // Nor can an administrator without the CSRF token, or with another address.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    assert_eq!(jane.post(&erase, &[("confirm", OLGA)], &[]).status, 403);
    let r = jane.post(&erase, &[("csrf", &jane.csrf), ("confirm", PIET)], &[]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("Nothing was erased"), "{}", r.text());
    assert_eq!(jane.get("/customers/999999/erase").status, 404);
    assert_eq!(
        d.ctl_json(&["contacts", "show", OLGA])["tickets"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The administrator erases her from her page, typing her address to confirm.
    b.open(&format!("/customers/{olga}"));
    b.click_css("a.erase-link");
    b.wait_find("form.erase-form");
    let said = b.text("ul.erasure");
    assert!(
        said.contains("2 tickets") && said.contains("3 messages"),
        "{said}"
    );
    assert!(
        said.contains("1 mail of theirs on other customers' tickets"),
        "{said}"
    );
    let confirm = b.wait_find("form.erase-form input[name=confirm]");
    b.type_into(&confirm, &OLGA.to_uppercase());
    b.click_css("form.erase-form button[type=submit]");
    b.wait_text("p.flash", "Erased");
    assert_eq!(b.path(), "/customers?erased=1");
    assert_eq!(addresses(&b), [PIET], "she is gone from the directory");

    // Her tickets, her mail on Piet's ticket and her words in the search are gone.
    for id in [hinge, invoice] {
        assert_eq!(
            jane.get(&format!("/tickets/{id}")).status,
            404,
            "ticket {id}"
        );
    }
    assert_eq!(jane.get(&format!("/customers/{olga}")).status, 404);
    let found = jane.get("/search?q=zanzibarword").text();
    assert!(found.contains("Nothing found."), "{found}");
    let kept = show(&d, parcel);
    let mail = kept["messages"].as_array().expect("messages");
    assert_eq!(mail.len(), 1, "Piet's own mail stays: {kept:#}");
    assert!(!kept.to_string().contains(OLGA), "{kept:#}");
    let (code, _, err) = d.ctl(&["contacts", "show", OLGA]);
    assert_ne!(code, 0);
    assert!(err.contains(OLGA) || err.contains("no"), "{err}");
    // The desk keeps who erased whom by number, and how much; never the address.
    let (code, out, err) = d.ctl(&["contacts", "erased"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "jane@acme.test: customer {olga} erased: 2 tickets, 3 messages on them, 1 of their messages on other tickets"
        )),
        "{out}"
    );
    assert!(!out.contains(OLGA), "{out}");

    // A late reply to her erased ticket starts a new one, under a number never used.
    let again = late_reply(
        &d,
        "Re: Broken hinge",
        "e.5@customer.example.org",
        "e.3@customer.example.org",
    );
    assert!(again > invoice, "#{again} must not reuse an erased number");
    assert_eq!(
        show(&d, again)["messages"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn an_administrator_deletes_a_ticket_kept_by_mistake() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    d.ctl_json(&["users", "set", "jane@acme.test", "--admin", "on"]);
    let hinge = mail_to_support(&d, OLGA, "Broken hinge", "d.1@customer.example.org");
    let invoice = mail_to_support(&d, OLGA, "Invoice copy", "d.2@customer.example.org");

    // frontdeskctl says what would go, and changes nothing without --yes.
    let (code, out, _) = d.ctl(&["tickets", "delete", &invoice.to_string()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "would delete ticket #{invoice} \"Invoice copy\": 1 message (0 files)"
        )),
        "{out}"
    );
    let (code, _, err) = d.ctl(&["tickets", "delete", "999999", "--yes"]);
    assert_ne!(code, 0);
    assert!(err.contains("no ticket #999999"), "{err}");

    // Not for an agent who is no administrator, nor without the CSRF token.
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    let page = dana.get(&format!("/tickets/{hinge}")).text();
    assert!(!page.contains("Delete ticket"), "{page}");
    let delete = format!("/tickets/{hinge}/delete");
    assert_eq!(dana.get(&delete).status, 403);
    let r = dana.post(&delete, &[("csrf", &dana.csrf)], &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    assert_eq!(jane.post(&delete, &[], &[]).status, 403);
    assert_eq!(jane.get("/tickets/999999/delete").status, 404);
    assert_eq!(show(&d, hinge)["id"], hinge, "still there");

    // The administrator deletes it from its page; its customer's page says so.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    b.click_css("p.delete-ticket a");
    b.wait_find("form.erase-form");
    assert_eq!(
        b.text("section.erase h1"),
        format!("Delete ticket #{hinge} Broken hinge")
    );
    assert!(b.text("ul.erasure").contains("1 mail, reply or note"));
    b.click_css("form.erase-form button[type=submit]");
    b.wait_text("p.flash", &format!("Ticket #{hinge} deleted."));
    assert!(b.path().starts_with("/customers/"), "{}", b.path());
    let rows: Value = b.js(
        "return Array.from(document.querySelectorAll('table.customer-tickets tbody tr')).map(r => r.dataset.ticket);",
        serde_json::json!([]),
    );
    assert_eq!(
        rows,
        serde_json::json!([invoice.to_string()]),
        "her other ticket stays"
    );
    assert_eq!(jane.get(&format!("/tickets/{hinge}")).status, 404);
    let (code, out, err) = d.ctl(&["contacts", "erased"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!(
            "jane@acme.test: ticket {hinge} deleted: 1 message"
        )),
        "{out}"
    );
    // A late answer to it starts a new ticket.
    let again = late_reply(
        &d,
        "Re: Broken hinge",
        "d.3@customer.example.org",
        "d.1@customer.example.org",
    );
    assert!(again > invoice, "#{again}");
}
