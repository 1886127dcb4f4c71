//! Snippets (`[[snippet]]` in the config): the reply box's menu inserts one, filled in
//! for the ticket and the agent, where the cursor is; markup in it stays text.

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

#[test]
fn a_snippet_goes_in_filled_in_where_the_cursor_is() {
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
            "Refund please",
            "snip.1@customer.example.org",
            "I want my money back.",
        ),
    );
    let id = ticket_id(&d, "Refund please");
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
