//! The contact panel edits the customer: a name for a contact whose mail gave none (so
//! greetings and the inbox use it) and the agent who owns them (routing's
//! `contact_owner` mode sends their next new ticket there). A name that cannot be one,
//! an owner who is no agent, or a request without the CSRF token changes nothing.

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, http_sign_in, show, text_mail, ticket_id, PASSWORD};

const CUSTOMER: &str = "olga@customer.example.org";

#[test]
fn the_contact_panel_names_the_customer_and_gives_them_an_owner() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    // Her mail gives no name.
    let mail = text_mail(
        CUSTOMER,
        "Broken hinge",
        "edit.1@customer.example.org",
        "Snapped.",
    );
    deliver(&d, CUSTOMER, "support@example.com", &mail);
    let id = ticket_id(&d, "Broken hinge");
    let contact = || d.ctl_json(&["contacts", "show", CUSTOMER]);
    let before = contact();
    assert!(before["name"].is_null(), "{before:#}");

    // Refused, nothing changes.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let long = "x".repeat(201);
    for (form, says) in [
        (
            [("name", "Olga Ortiz"), ("owner", "nobody@acme.test")],
            "no user nobody@acme.test",
        ),
        (
            [("name", long.as_str()), ("owner", "")],
            "the name is longer than 200 characters",
        ),
    ] {
        let mut fields = form.to_vec();
        fields.push(("csrf", &jane.csrf));
        let r = jane.post(&format!("/tickets/{id}/contact"), &fields, &[]);
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(says), "{says}: {}", r.text());
    }
    let r = jane.post(
        &format!("/tickets/{id}/contact"),
        &[("name", "Olga Ortiz"), ("owner", "")],
        &[],
    );
    assert_eq!(r.status, 403);
    assert_eq!(contact(), before, "a refused edit changed the contact");

    // From the page in Chromium.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    b.click_css("details.edit-contact summary");
    let name = b.wait_find("details.edit-contact input[name=name]");
    b.type_into(&name, "  Olga\u{E007}");
    // Enter in the box sends the form: a one-line name is all there is to say.
    b.wait_text("aside.side", "Olga");
    b.click_css("details.edit-contact summary");
    let name = b.wait_find("details.edit-contact input[name=name]");
    b.clear(&name);
    b.type_into(&name, "Olga Ortiz");
    b.click_css("details.edit-contact select[name=owner] option[value='dana@acme.test']");
    b.click_css("details.edit-contact button[type=submit]");
    b.wait_text("aside.side", "Owner: dana@acme.test");
    let after = contact();
    assert_eq!(after["name"], "Olga Ortiz", "{after:#}");
    assert_eq!(after["owner"], "dana@acme.test", "{after:#}");
    assert!(b.text("aside.side").contains("Olga Ortiz"));
    // The inbox row names her now.
    b.open("/inbox?view=all");
    b.wait_text(&format!("tr[data-ticket='{id}'] a.contact"), "Olga Ortiz");
    assert_eq!(show(&d, id)["contact"]["name"], "Olga Ortiz");

    // Emptied, the name goes; the owner can go too.
    let r = jane.post(
        &format!("/tickets/{id}/contact"),
        &[("csrf", &jane.csrf), ("name", "  "), ("owner", "")],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let cleared = contact();
    assert!(
        cleared["name"].is_null() && cleared["owner"].is_null(),
        "{cleared:#}"
    );
}

/// A note about the customer ("prefers phone"): written on one of her tickets, every
/// agent sees it beside each of her tickets, signed by who wrote it; it keeps its lines,
/// shows as text, and goes when emptied. One too long changes nothing.
#[test]
fn a_note_about_the_customer_shows_beside_each_of_her_tickets() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "dana@acme.test", "Dana Lind");
    for (subject, id) in [("Broken hinge", "note.1"), ("Invoice copy", "note.2")] {
        let mail = text_mail(
            CUSTOMER,
            subject,
            &format!("{id}@customer.example.org"),
            "Hello.",
        );
        deliver(&d, CUSTOMER, "support@example.com", &mail);
    }
    let hinge = ticket_id(&d, "Broken hinge");
    let invoice = ticket_id(&d, "Invoice copy");

    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let too_long = "x".repeat(2001);
    let r = jane.post(
        &format!("/tickets/{hinge}/contact"),
        &[
            ("csrf", &jane.csrf),
            ("name", ""),
            ("owner", ""),
            ("note", &too_long),
        ],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("the note is longer than 2000 characters"),
        "{}",
        r.text()
    );
    assert_eq!(d.ctl_json(&["contacts", "show", CUSTOMER])["note"], "");

    // Jane writes it in the panel of the hinge ticket, in Chromium.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{hinge}"));
    assert!(b.find(".contact-note").is_none(), "no note yet");
    b.click_css("details.edit-contact summary");
    let note = b.wait_find("details.edit-contact textarea[name=note]");
    b.type_into(
        &note,
        "Prefers phone: +1 555 0100\n<b>Contract</b> 4711, renews in March",
    );
    b.click_css("details.edit-contact button[type=submit]");
    b.wait_text(".contact-note", "Prefers phone");
    let shown = b.text(".contact-note");
    assert!(
        shown.contains("<b>Contract</b> 4711") && shown.contains("Noted by Jane Doe"),
        "as text, signed: {shown}"
    );
    assert!(
        b.find(".contact-note b").is_none(),
        "markup in a note is text"
    );
    assert_eq!(
        b.js(
            "return document.querySelectorAll('.contact-note p:first-child br').length",
            serde_json::json!([])
        ),
        1,
        "its two lines"
    );
    assert_eq!(
        d.ctl_json(&["contacts", "show", CUSTOMER])["note"],
        "Prefers phone: +1 555 0100\n<b>Contract</b> 4711, renews in March"
    );

    // Dana sees it beside Olga's other ticket; saving her name leaves Jane's note and
    // signature as they are.
    let dana = Browser::start(&d.http);
    dana.sign_in("dana@acme.test", PASSWORD);
    dana.open(&format!("/tickets/{invoice}"));
    let shown = dana.text("aside.side .contact-note");
    assert!(
        shown.contains("Prefers phone") && shown.contains("Noted by Jane Doe"),
        "{shown}"
    );
    dana.click_css("details.edit-contact summary");
    let name = dana.wait_find("details.edit-contact input[name=name]");
    dana.type_into(&name, "Olga Ortiz");
    dana.click_css("details.edit-contact button[type=submit]");
    dana.wait_text("aside.side", "Olga Ortiz");
    assert!(dana.text(".contact-note").contains("Noted by Jane Doe"));

    // Emptied, it goes.
    let dana_http = http_sign_in(&d, "dana@acme.test", PASSWORD);
    let r = dana_http.post(
        &format!("/tickets/{invoice}/contact"),
        &[
            ("csrf", &dana_http.csrf),
            ("name", "Olga Ortiz"),
            ("owner", ""),
            ("note", " \r\n "),
        ],
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    b.open(&format!("/tickets/{hinge}"));
    assert!(b.find(".contact-note").is_none(), "removed");
    assert_eq!(d.ctl_json(&["contacts", "show", CUSTOMER])["note"], "");
}
