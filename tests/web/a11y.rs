//! The page for agents who use a screen reader or the keyboard alone: every control has
//! a name a screen reader reads out, every image a text, the page its language and one
//! main heading, and live changes are announced. Checked in Chromium on every page an
//! agent works in.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::customer_of;
use crate::{
    add_agent, daemon, deliver, http_sign_in, olga_asks_about_the_hinge, olga_two_tickets,
    text_mail, ticket_id, PASSWORD,
};

/// What a screen reader would stumble on in the page now: controls without a name,
/// images without a text, a missing language or main heading, ids used twice.
const AUDIT: &str = r#"
var problems = [];
function visible(e) { return !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length); }
function named(e) {
  if ((e.getAttribute('aria-label') || '').trim()) { return true; }
  var by = e.getAttribute('aria-labelledby');
  if (by && by.split(/\s+/).some(function (id) { var l = document.getElementById(id); return l && l.textContent.trim(); })) { return true; }
  if (e.labels && Array.prototype.some.call(e.labels, function (l) { return l.textContent.trim(); })) { return true; }
  if ((e.getAttribute('title') || '').trim()) { return true; }
  if (e.tagName === 'BUTTON' || e.tagName === 'A' || e.tagName === 'SUMMARY') { return !!e.textContent.trim(); }
  if (e.tagName === 'INPUT' && /^(submit|button|reset)$/.test(e.type)) { return !!(e.value || '').trim(); }
  return false;
}
document.querySelectorAll('input:not([type=hidden]), select, textarea, button, a[href], summary').forEach(function (e) {
  if (visible(e) && !named(e)) { problems.push('no name: ' + e.outerHTML.slice(0, 160)); }
});
document.querySelectorAll('img').forEach(function (e) {
  if (!e.hasAttribute('alt')) { problems.push('no alt: ' + e.outerHTML.slice(0, 160)); }
});
if (!document.documentElement.lang) { problems.push('no lang on <html>'); }
if (document.querySelectorAll('h1').length !== 1) { problems.push(document.querySelectorAll('h1').length + ' h1 headings'); }
if (!document.querySelector('main')) { problems.push('no <main>'); }
var seen = {};
document.querySelectorAll('[id]').forEach(function (e) {
  if (seen[e.id]) { problems.push('id used twice: ' + e.id); }
  seen[e.id] = true;
});
return problems;
"#;

fn audit(b: &Browser, page: &str) -> Vec<String> {
    b.open(page);
    audit_open(b, page)
}

/// The audit of the page open now (one a form led to), named `page` in its problems.
pub fn audit_open(b: &Browser, page: &str) -> Vec<String> {
    b.wait_find("main");
    let found: Value = b.js(AUDIT, json!([]));
    found
        .as_array()
        .unwrap_or_else(|| panic!("the audit of {page} failed: {found}"))
        .iter()
        .map(|p| format!("{page}: {}", p.as_str().unwrap_or("")))
        .collect()
}

#[test]
fn every_page_an_agent_works_in_names_its_controls_for_a_screen_reader() {
    // Macros and a ticket field of each kind, so their controls are audited too.
    let d = crate::harness::Daemon::start_with(crate::harness::Settings {
        channels: format!("{}{}", crate::SUPPORT, crate::ticket_fields::FIELDS),
        ..crate::harness::Settings::default()
    });
    add_agent(&d, "jane@acme.test", "Jane Doe");
    // An administrator: the page that confirms erasing a customer is audited too.
    d.ctl_json(&["users", "set", "jane@acme.test", "--admin", "on"]);
    let (hinge, _) = olga_two_tickets(&d, "a11y");
    // A value, so the panel links to the tickets sharing it.
    d.ctl_json(&["tickets", "field", &hinge.to_string(), "Product", "Hinge"]);
    let b = Browser::start(&d.http);
    b.open("/login");
    let mut problems = audit(&b, "/login");
    b.sign_in("jane@acme.test", PASSWORD);
    // Setting up two-step sign-in: its QR code and key are on the account page.
    b.open("/me");
    b.click_css("form.two-step-setup button[type=submit]");
    b.wait_find("#two-step-key");
    for page in [
        "/inbox".to_string(),
        "/inbox?view=mine".to_string(),
        "/inbox?view=all&field=Product&value=Hinge".to_string(),
        format!("/tickets/{hinge}"),
        "/search?q=hinge".to_string(),
        "/me".to_string(),
        "/snippets".to_string(),
        "/tickets/new".to_string(),
        "/reports".to_string(),
        "/customers".to_string(),
        "/agents".to_string(),
        "/agents?edit=jane%40acme.test".to_string(),
        "/customers?q=customer.example".to_string(),
        format!("/customers/{}", customer_of(&b, hinge)),
        format!("/customers/{}/erase", customer_of(&b, hinge)),
        format!("/tickets/{hinge}/delete"),
    ] {
        problems.extend(audit(&b, &page));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What the page has read out last (its polite live region).
fn announced(b: &Browser) -> String {
    b.js(
        "var e = document.getElementById('announce'); return e ? e.textContent : 'no live region';",
        json!([]),
    )
    .as_str()
    .unwrap_or("")
    .to_string()
}

#[test]
fn live_changes_are_read_out_to_a_screen_reader() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let (hinge, _) = olga_two_tickets(&d, "spoken");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=all");
    b.wait_event_stream();
    assert_eq!(announced(&b), "", "nothing is said before anything changes");
    deliver(
        &d,
        "kim@customer.example.org",
        "support@example.com",
        &text_mail(
            "Kim <kim@customer.example.org>",
            "New toner please",
            "spoken.9@customer.example.org",
            "We are out of toner.",
        ),
    );
    let toner = ticket_id(&d, "New toner please");
    b.wait_until("the new ticket read out", |b| {
        announced(b) == format!("New in this list: #{toner} New toner please.")
    });

    // On a ticket page: the customer's new message and a colleague's note.
    b.open(&format!("/tickets/{hinge}"));
    b.wait_event_stream();
    olga_asks_about_the_hinge(&d, "spoken");
    b.wait_until("Olga's message read out", |b| {
        announced(b) == "New message from Olga."
    });
    let dana_name = "Dana Lind";
    add_agent(&d, "dana@acme.test", dana_name);
    let dana = http_sign_in(&d, "dana@acme.test", PASSWORD);
    let r = dana.post(
        &format!("/tickets/{hinge}/note"),
        &[("csrf", &dana.csrf), ("body", "I ordered a new hinge.")],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    b.wait_until("Dana's note read out", |b| {
        announced(b) == format!("New note from {dana_name}.")
    });
}
