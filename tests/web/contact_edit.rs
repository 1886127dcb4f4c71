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
