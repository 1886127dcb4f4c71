//! Drafts: a half-written reply and note survive leaving the page (or the tab closing);
//! sending one forgets it and keeps the other; signing out forgets every draft.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, show, text_mail, ticket_id, PASSWORD};

#[test]
fn half_written_replies_and_notes_come_back_until_sent() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "ines@customer.example.org",
        "support@example.com",
        &text_mail(
            "ines@customer.example.org",
            "Where is my parcel",
            "draft.1@customer.example.org",
            "It has been two weeks.",
        ),
    );
    let id = ticket_id(&d, "Where is my parcel");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    let ticket = format!("/tickets/{id}");
    b.open(&ticket);
    let reply = b.wait_find("#reply-body");
    b.click(&reply);
    b.type_into(&reply, "Dear Ines, the courier says");
    let note = b.wait_find("#note-body");
    b.click(&note);
    b.type_into(&note, "Courier ticket 5531 opened");

    // Away and back: both boxes hold what was typed, and the preview shows the reply.
    b.open("/inbox?view=all");
    b.wait_path("/inbox");
    b.open(&ticket);
    b.wait_find("#reply-body");
    b.wait_until("the drafts to come back", |b| {
        b.value("#reply-body") == "Dear Ines, the courier says"
            && b.value("#note-body") == "Courier ticket 5531 opened"
    });
    assert_eq!(b.text("#body-preview"), "Dear Ines, the courier says");

    // Sending the note forgets its draft only.
    b.click_css("form.note button[type=submit]");
    b.wait_text("article.message.note", "Courier ticket 5531 opened");
    assert!(show(&d, id)["messages"]
        .to_string()
        .contains("Courier ticket 5531"));
    b.wait_until("the reply draft after the note", |b| {
        b.value("#reply-body") == "Dear Ines, the courier says"
    });
    assert_eq!(b.value("#note-body"), "");

    // Signing out forgets the rest: the next agent at this browser finds no draft.
    b.click_css("form[action='/logout'] button[type=submit]");
    b.wait_path("/login");
    let left = b.js(
        "return Object.keys(localStorage).filter(function (k) { return k.indexOf('fd-draft:') === 0; }).length;",
        json!([]),
    );
    assert_eq!(left, 0);
    b.fill_login("jane@acme.test", PASSWORD);
    b.wait_path("/inbox");
    b.open(&ticket);
    b.wait_find("#reply-body");
    assert_eq!(b.value("#reply-body"), "");
}
