//! Snippets (`[[snippet]]` in the config, or written by agents on the Snippets page):
//! the reply box's menu inserts one, filled in for the ticket and the agent, where the
//! cursor is; markup in it stays text. A snippet typed with an unknown token, the name
//! of one of the configuration's or a name taken is refused with the reason. The
//! sysadmin lists, adds, changes and deletes the page's with `frontdeskctl snippets`,
//! checked the same way.

use serde_json::json;

use crate::browser::Browser;
use crate::harness::{Daemon, Settings};
use crate::{add_agent, deliver, text_mail, ticket_id, PASSWORD, SUPPORT};

const SNIPPETS: &str = r#"
[[snippet]]
name = "Refund policy"
body = "Hi {{contact.first_name}}, refunds for #{{ticket.id}} take 5 days. <b>\"Really\"</b>"

[[snippet]]
name = "Sign-off"
body = "Best, {{agent.first_name}} ({{company}})"
"#;

/// A daemon with [`SNIPPETS`] and Jane, where Olga wrote `subject` (Message-ID
/// `<{id}@customer.example.org>`): the daemon and her ticket.
fn olga_writes(subject: &str, id: &str, body: &str) -> (Daemon, i64) {
    let d = Daemon::start_with(Settings {
        channels: format!("{SUPPORT}{SNIPPETS}"),
        ..Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "olga@customer.example.org",
        "support@example.com",
        &text_mail(
            "Olga Ortiz <olga@customer.example.org>",
            subject,
            &format!("{id}@customer.example.org"),
            body,
        ),
    );
    let ticket = ticket_id(&d, subject);
    (d, ticket)
}

/// The names the reply box's snippet menu offers, in order.
fn offered_names(b: &Browser) -> serde_json::Value {
    b.js(
        "return Array.from(document.querySelectorAll('#snippet-pick option')).slice(1).map(o => o.textContent);",
        json!([]),
    )
}

/// The texts (filled in) behind the reply box's snippet menu.
fn offered_texts(b: &Browser) -> serde_json::Value {
    b.js(
        "return Array.from(document.querySelectorAll('#snippet-pick option')).map(o => o.dataset.text || '');",
        json!([]),
    )
}

#[test]
fn a_snippet_goes_in_filled_in_where_the_cursor_is() {
    let (d, id) = olga_writes("Refund please", "snip.1", "I want my money back.");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    let body = b.wait_find("#reply-body");
    b.click(&body);
    b.type_into(&body, "Thanks for waiting. ");
    b.click_css("#snippet-pick option[value='0']");
    b.wait_until("the snippet in the reply box", |b| {
        b.value("#reply-body")
            == format!(
                "Thanks for waiting. Hi Olga, refunds for #{id} take 5 days. <b>\"Really\"</b>"
            )
    });
    // The menu is ready for the next one, the preview follows, and the text goes on
    // where the snippet ended.
    assert_eq!(b.value("#snippet-pick"), "");
    assert!(b.text("#body-preview").contains("<b>\"Really\"</b>"));
    b.type_into(&body, "\n");
    b.click_css("#snippet-pick option[value='1']");
    b.wait_until("the second snippet", |b| {
        b.value("#reply-body")
            .ends_with("<b>\"Really\"</b>\nBest, Jane (Acme)")
    });
    // The menu is not a form field: nothing named "snippet" would be posted.
    assert_eq!(
        b.js(
            "return document.getElementById('snippet-pick').hasAttribute('name');",
            json!([])
        ),
        false
    );
}

#[test]
fn agents_write_their_own_snippets_in_the_page() {
    let (d, id) = olga_writes("Where is my parcel", "snip.2", "Two weeks now.");
    add_agent(&d, "bea@acme.test", "Bea Kowalczyk");

    // Jane adds one from the header's "Snippets" page.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox");
    b.click_css("header a.snippets-link");
    b.wait_path("/snippets");
    assert!(b.text("ul.snippet-list").contains("Refund policy"));
    let name = b.wait_find("#snippet-name");
    b.type_into(&name, "Parcel delay");
    let text = b.wait_find("#snippet-body");
    b.type_into(
        &text,
        "Hello {{contact.first_name | there}}, parcel #{{ticket.id}} is with the courier.",
    );
    b.click_css("form.snippet button[type=submit]");
    b.wait_text(".flash", "The snippet is added");

    // Bea's reply box offers it after the configuration's, filled in for the ticket.
    let bb = Browser::start(&d.http);
    bb.sign_in("bea@acme.test", PASSWORD);
    bb.open(&format!("/tickets/{id}"));
    let names = offered_names(&bb);
    assert_eq!(names, json!(["Refund policy", "Sign-off", "Parcel delay"]));
    bb.click_css("#snippet-pick option[value='2']");
    bb.wait_until("the page's snippet in the reply box", |b| {
        b.value("#reply-body") == format!("Hello Olga, parcel #{id} is with the courier.")
    });

    // Refused with the reason, the form keeps what was typed: a token that does not
    // exist, a name the configuration uses, a name taken.
    for (name, body, says) in [
        (
            "Call back",
            "We call you at {{contact.phone}}.",
            "unknown token {{contact.phone}}",
        ),
        (
            "refund POLICY",
            "x",
            "the configuration has a snippet named",
        ),
        ("parcel delay", "again", "already a snippet named"),
    ] {
        b.open("/snippets");
        let n = b.wait_find("#snippet-name");
        b.type_into(&n, name);
        let t = b.wait_find("#snippet-body");
        b.type_into(&t, body);
        b.click_css("form.snippet button[type=submit]");
        b.wait_text(".flash.error", says);
        assert_eq!(b.value("#snippet-body"), body);
    }

    // Edited, then deleted (after a confirmation): the reply box follows.
    let stored = b.js(
        "return document.querySelector('ul.snippet-list li[id^=snippet-]').id;",
        json!([]),
    );
    let li = format!("#{}", stored.as_str().unwrap_or(""));
    b.click_css(&format!("{li} summary"));
    let area = b.wait_find(&format!("{li} textarea"));
    b.clear(&area);
    b.type_into(&area, "Parcel #{{ticket.id}} left our depot today.");
    b.click_css(&format!("{li} form.snippet button[type=submit]"));
    b.wait_text(".flash", "The snippet is saved");
    bb.open(&format!("/tickets/{id}"));
    let texts = offered_texts(&bb);
    assert!(
        texts
            .to_string()
            .contains(&format!("Parcel #{id} left our depot today.")),
        "{texts}"
    );
    b.open("/snippets");
    b.click_css(&format!("{li} form.delete-snippet button"));
    b.answer_dialog(true);
    b.wait_text(".flash", "The snippet is deleted");
    assert!(!b.text("ul.snippet-list").contains("Parcel delay"));
    bb.open(&format!("/tickets/{id}"));
    let names = offered_names(&bb);
    assert_eq!(names, json!(["Refund policy", "Sign-off"]));

    // Without the CSRF token nothing is added.
    let jane = crate::http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.post("/snippets", &[("name", "Sneaky"), ("body", "x")], &[]);
    assert_eq!(r.status, 403);
    assert!(!jane.get("/snippets").text().contains("Sneaky"));
}

#[test]
fn the_sysadmin_manages_the_page_snippets_with_frontdeskctl() {
    let (d, id) = olga_writes("Lost password", "snip.3", "I cannot sign in.");
    let list = |d: &Daemon| d.ctl_json(&["snippets", "list"])["snippets"].clone();
    // The configuration's are listed (unnumbered, as written), none of the page's yet.
    assert_eq!(
        list(&d),
        json!([
            {"id": null, "name": "Refund policy", "updated_by": null,
             "body": "Hi {{contact.first_name}}, refunds for #{{ticket.id}} take 5 days. <b>\"Really\"</b>"},
            {"id": null, "name": "Sign-off", "updated_by": null,
             "body": "Best, {{agent.first_name}} ({{company}})"},
        ])
    );

    // Added from stdin; the reply box offers it, filled in for the ticket.
    let (code, out, err) = d.ctl_stdin(
        &["snippets", "add", "Password reset"],
        Some(b"Hi {{contact.first_name | there}}, use \"Forgot password\" (#{{ticket.id}})."),
    );
    assert_eq!(code, 0, "{err}{out}");
    assert!(out.contains("\"Password reset\" added"), "{out}");
    let added = list(&d)[2].clone();
    assert_eq!(added["updated_by"], "admin (frontdeskctl)", "{added}");
    let number = added["id"].as_i64().expect("a number").to_string();
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    let texts = offered_texts(&b);
    assert!(
        texts
            .to_string()
            .contains(&format!("Hi Olga, use \\\"Forgot password\\\" (#{id}).")),
        "{texts}"
    );

    // Refused as the page refuses, and nothing changes: a token that does not exist, the
    // configuration's name, an empty text, no such snippet.
    let before = list(&d);
    for (args, stdin, says) in [
        (
            vec!["snippets", "add", "Call"],
            "At {{contact.phone}}.",
            "unknown token",
        ),
        (
            vec!["snippets", "add", "SIGN-OFF"],
            "x",
            "the configuration has",
        ),
        (vec!["snippets", "add", "Empty"], "  \n", "no text"),
        (
            vec!["snippets", "edit", "999", "--name", "X"],
            "",
            "no snippet 999",
        ),
        (vec!["snippets", "delete", "999"], "", "no snippet 999"),
    ] {
        let (code, out, err) = d.ctl_stdin(&args, Some(stdin.as_bytes()));
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(list(&d), before);

    // Renamed (the text stays), then deleted.
    let (code, out, err) = d.ctl(&["snippets", "edit", &number, "--name", "Reset link"]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(list(&d)[2]["name"], "Reset link");
    assert_eq!(list(&d)[2]["body"], added["body"]);
    let (code, out, err) = d.ctl(&["snippets", "delete", &number]);
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(list(&d).as_array().map(Vec::len), Some(2));
    b.open(&format!("/tickets/{id}"));
    let names = offered_names(&b);
    assert_eq!(names, json!(["Refund policy", "Sign-off"]));
}
