//! The page on a phone or in a narrow window: every page an agent works in fits the
//! screen's width (long subjects, addresses and links in mail wrap instead of pushing
//! the page sideways), the inbox keeps the columns that say what a ticket is, and the
//! ticket's panel follows its thread. A wide window keeps the full layout.

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::customer_of;
use crate::{add_agent, daemon, deliver, olga_two_tickets, text_mail, ticket_id, PASSWORD};

/// The elements that stick out past the window's right edge (none when the page
/// fits), and whether the page itself scrolls sideways.
const OVERFLOW: &str = r#"
var width = document.documentElement.clientWidth;
var out = [];
document.querySelectorAll('body *').forEach(function (e) {
  var r = e.getBoundingClientRect();
  if (r.width && r.right > width + 1) {
    var inside = false;
    for (var p = e.parentElement; p; p = p.parentElement) {
      var s = getComputedStyle(p);
      if (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') { inside = true; break; }
    }
    if (!inside) { out.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' to ' + Math.round(r.right) + 'px'); }
  }
});
return { scrolls: document.documentElement.scrollWidth > width + 1, width: width, out: out.slice(0, 8) };
"#;

/// What of `page` is wider than the window.
fn too_wide(b: &Browser, page: &str) -> Option<String> {
    b.open(page);
    b.wait_find("main");
    let v: Value = b.js(OVERFLOW, json!([]));
    (v["scrolls"] != false || v["out"].as_array().is_none_or(|o| !o.is_empty()))
        .then(|| format!("{page}: {v}"))
}

/// The visible header cells of the inbox's table.
fn inbox_columns(b: &Browser) -> Vec<String> {
    b.js(
        "return Array.prototype.filter.call(document.querySelectorAll('table.tickets th'), \
         function (th) { return th.offsetWidth > 0; }).map(function (th) { return th.textContent; });",
        json!([]),
    )
    .as_array()
    .map(|a| {
        a.iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect()
    })
    .unwrap_or_default()
}

#[test]
fn every_page_fits_a_phone_and_the_ticket_panel_follows_its_thread() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    d.ctl_json(&["users", "set", "jane@acme.test", "--admin", "on"]);
    let (hinge, _) = olga_two_tickets(&d, "narrow");
    // What pushes a page sideways: a subject and an address without a break, a long link.
    let long_word = "Supercalifragilisticexpialidocious-hinge-replacement-order-0042-0043-0044";
    let long_link = format!("https://shop.example.com/orders/{}", "a1b2c3d4".repeat(20));
    deliver(
        &d,
        "very.long.name.of.a.purchasing.department@subsidiary.customer.example.org",
        "support@example.com",
        &text_mail(
            "very.long.name.of.a.purchasing.department@subsidiary.customer.example.org",
            long_word,
            "narrow-long@customer.example.org",
            &format!("See {long_link} for the order.\r\n{}", "x".repeat(300)),
        ),
    );
    let long = ticket_id(&d, long_word);

    let b = Browser::start(&d.http);
    // Signing in on the phone.
    b.resize(390, 844);
    let mut problems: Vec<String> = too_wide(&b, "/login").into_iter().collect();
    b.sign_in("jane@acme.test", PASSWORD);
    // The full layout in a wide window.
    b.resize(1280, 900);
    b.open("/inbox?view=all");
    b.wait_find("table.tickets");
    assert_eq!(
        inbox_columns(&b),
        ["", "#", "Subject", "Contact", "Channel", "Status", "Owner", "Age"]
    );

    // Setting up two-step sign-in: the QR code and key must fit too.
    b.open("/me");
    b.click_css("form.two-step-setup button[type=submit]");
    b.wait_find("#two-step-key");
    b.resize(390, 844);
    for page in [
        "/inbox".to_string(),
        "/inbox?view=all".to_string(),
        format!("/tickets/{hinge}"),
        format!("/tickets/{long}"),
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
        problems.extend(too_wide(&b, &page));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    b.open("/inbox?view=all");
    b.wait_find("table.tickets");
    assert_eq!(
        inbox_columns(&b),
        ["", "Subject", "Contact", "Status", "Age"]
    );
    assert!(b.text("table.tickets").contains(long_word));

    // One column: the contact panel comes after the thread, not beside it.
    b.open(&format!("/tickets/{long}"));
    let placed: Value = b.js(
        "var t = document.querySelector('section.thread').getBoundingClientRect(); \
         var s = document.querySelector('aside.side').getBoundingClientRect(); \
         return [t.bottom, s.top, s.left, t.left];",
        json!([]),
    );
    let at = |i: usize| placed[i].as_f64().unwrap_or(f64::NAN);
    assert!(at(1) >= at(0), "the panel beside the thread: {placed}");
    assert!((at(2) - at(3)).abs() < 1.0, "not one column: {placed}");
    assert!(b.text("section.thread").contains(&long_link));
    // `FRONTDESK_SHOTS=DIR` keeps what the phone shows, for a person to look at.
    if let Ok(dir) = std::env::var("FRONTDESK_SHOTS") {
        for (name, page) in [
            ("inbox", "/inbox?view=all".to_string()),
            ("ticket", format!("/tickets/{long}")),
            ("reports", "/reports".to_string()),
        ] {
            b.open(&page);
            b.wait_find("main");
            std::fs::write(format!("{dir}/phone-{name}.png"), b.screenshot())
                .unwrap_or_else(|e| panic!("{dir}: {e}"));
        }
    }
}
