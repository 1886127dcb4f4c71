//! "Original": each mail in a thread downloads as it was received (or sent), headers
//! and all, as an `.eml` file the browser never renders. Notes have none; an unknown
//! message, a malformed number or a request without a session gets nothing.

use crate::browser::Browser;

use crate::{
    add_agent, daemon, deliver, http, http_sign_in, show, text_mail_with, ticket_id, PASSWORD,
};

#[test]
fn a_message_downloads_as_it_was_received() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let customer = "ravi@customer.example.org";
    let raw = text_mail_with(
        customer,
        "Strange invoice",
        "invoice.1@customer.example.org",
        "Is this invoice from you? <script>alert(1)</script>",
        "Received: from mx.customer.example.org by mx.example.com; Tue, 4 Mar 2025 10:00:00 +0000\r\nX-Spam-Score: 7.1\r\n",
    );
    deliver(&d, customer, "support@example.com", &raw);
    let id = ticket_id(&d, "Strange invoice");
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "note", &id.to_string(), "--as", "jane@acme.test"],
        Some(b"Looks like phishing."),
    );
    assert_eq!(code, 0, "{err}{out}");
    let t = show(&d, id);
    let row = |direction: &str| {
        t["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["direction"] == direction))
            .and_then(|m| m["id"].as_i64())
            .unwrap_or_else(|| panic!("no {direction} message: {t:#}"))
    };
    let (mail, note) = (row("inbound"), row("note"));

    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.get(&format!("/messages/{mail}/original"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("message/rfc822"));
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"ticket-{id}-message-{mail}.eml\"").as_str())
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let csp = r.header("content-security-policy").unwrap_or("");
    assert!(csp.contains("sandbox"), "{csp}");
    let text = r.text();
    for part in [
        "X-Spam-Score: 7.1",
        "Received: from mx.customer.example.org",
        "Message-ID: <invoice.1@customer.example.org>",
        "<script>alert(1)</script>",
    ] {
        assert!(text.contains(part), "{part:?} missing from:\n{text}");
    }

    for (path, why) in [
        (format!("/messages/{note}/original"), "a note"),
        ("/messages/999999/original".to_string(), "no such message"),
        ("/messages/x/original".to_string(), "not a number"),
        ("/messages/-1/original".to_string(), "a negative number"),
    ] {
        let r = jane.get(&path);
        assert_eq!(r.status, 404, "{why}: {}", r.text());
    }
    let anon = http(
        &d.http,
        "GET",
        &format!("/messages/{mail}/original"),
        &[],
        b"",
    );
    let to_login = crate::sends_to_login(&anon, &format!("/messages/{mail}/original"));
    assert!(
        to_login || anon.status == 401,
        "{} {}",
        anon.status,
        anon.text()
    );
    assert!(!anon.text().contains("X-Spam-Score"));

    // On the page: a link on the mail, none on the note.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    b.wait_find(&format!("#m{mail} a.original"));
    let href = b.js(
        "return document.querySelector(arguments[0]).getAttribute('href');",
        serde_json::json!([format!("#m{mail} a.original")]),
    );
    assert_eq!(href, format!("/messages/{mail}/original"));
    assert!(b.find(&format!("#m{note} a.original")).is_none());
}
