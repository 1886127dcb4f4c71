//! The page without a mouse: j/k walk the inbox and the search hits, o or Enter opens,
//! r and n go to the reply and note boxes, t assigns the ticket to me, / to search, i
//! back to the inbox, ? lists the keys and Esc closes the list. A live refresh keeps the row j/k moved to. Ctrl+Enter
//! sends the reply or note being written.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, text_mail, ticket_id, PASSWORD};

const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
const CTRL: &str = "\u{E009}";

/// The ticket id of the row j/k marked ("" when none is).
fn current_row(b: &Browser) -> String {
    b.js(
        "var r = document.querySelectorAll('.current'); \
         return r.length === 1 ? r[0].getAttribute('data-ticket') : (r.length ? 'several' : '');",
        json!([]),
    )
    .as_str()
    .unwrap_or("")
    .to_string()
}

/// The list of keys is showing.
fn help_shown(b: &Browser) -> bool {
    b.js(
        "return !document.getElementById('shortcuts').hidden;",
        json!([]),
    ) == true
}

#[test]
fn keys_walk_the_inbox_open_tickets_and_reach_every_box() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    for (n, subject) in ["Toner smudges", "Scanner jams", "Fax beeps"]
        .iter()
        .enumerate()
    {
        deliver(
            &d,
            "kim@customer.example.org",
            "support@example.com",
            &text_mail(
                "Kim <kim@customer.example.org>",
                subject,
                &format!("kbd.{n}@customer.example.org"),
                "The office printer again.",
            ),
        );
    }
    let (toner, scanner, fax) = (
        ticket_id(&d, "Toner smudges"),
        ticket_id(&d, "Scanner jams"),
        ticket_id(&d, "Fax beeps"),
    );
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=all");
    b.wait_text("#main table.tickets", "Fax beeps");
    b.wait_event_stream();

    // Newest first: j starts at the top, k goes back, neither runs off either end.
    assert_eq!(current_row(&b), "");
    b.press("j");
    assert_eq!(current_row(&b), fax.to_string());
    b.press("jj");
    assert_eq!(current_row(&b), toner.to_string());
    b.press("j");
    assert_eq!(current_row(&b), toner.to_string(), "past the last row");
    b.press("k");
    assert_eq!(current_row(&b), scanner.to_string());

    // A new mail refreshes the list live; the marked row stays marked.
    deliver(
        &d,
        "lee@customer.example.org",
        "support@example.com",
        &text_mail(
            "lee@customer.example.org",
            "Copier smells",
            "kbd.new@customer.example.org",
            "Burning smell.",
        ),
    );
    b.wait_text("#main table.tickets", "Copier smells");
    b.wait_until("the marked row after the refresh", |b| {
        current_row(b) == scanner.to_string()
    });

    // Enter opens the marked ticket.
    b.press(ENTER);
    b.wait_path(&format!("/tickets/{scanner}"));
    b.wait_find("#reply-body");
    // r and n put the cursor in the reply and note boxes; Esc leaves them, so the next
    // key is a shortcut again rather than text.
    b.press("r");
    assert_eq!(b.focused_id(), "reply-body");
    b.press(ESCAPE);
    assert_eq!(b.focused_id(), "");
    b.press("n");
    assert_eq!(b.focused_id(), "note-body");
    b.press("j");
    assert_eq!(
        b.value("#note-body"),
        "j",
        "a key typed in a box is text, not a shortcut"
    );
    b.press(ESCAPE);

    // ? shows the list of keys (the header's ? button does too); Esc hides it.
    assert!(!help_shown(&b));
    b.press("?");
    assert!(help_shown(&b));
    assert!(b.text("#shortcuts").contains("next / previous ticket"));
    b.press(ESCAPE);
    assert!(!help_shown(&b));
    b.click_css("#shortcuts-toggle");
    assert!(help_shown(&b));
    b.press(ESCAPE);

    // / goes to the search box; j and o walk and open the hits.
    b.press("/");
    assert_eq!(b.focused_id(), "search-box");
    b.press(&format!("toner{ENTER}"));
    b.wait_path("/search?q=toner");
    b.wait_text("#main", "Toner smudges");
    b.press("jo");
    b.wait_path(&format!("/tickets/{toner}"));

    // i goes back to the inbox.
    b.press("i");
    b.wait_path("/inbox");

    // t assigns the open ticket to me; then there is nothing left to take.
    b.open(&format!("/tickets/{fax}"));
    assert_eq!(b.text("#take-ticket"), "Assign to me");
    b.press("t");
    b.wait_until("the fax ticket mine", |_| {
        crate::show(&d, fax)["owner"] == "jane@acme.test"
    });
    b.wait_until("the take button gone", |b| {
        b.ready() && b.find("#take-ticket").is_none()
    });

    // Ctrl+Enter in the note box and in the reply box sends what was written.
    b.open(&format!("/tickets/{toner}"));
    b.press("n");
    let note = b.wait_find("#note-body");
    b.type_into(&note, &format!("Asked the printer vendor.{CTRL}{ENTER}"));
    b.wait_text("article.message.note", "Asked the printer vendor.");
    b.press("r");
    let reply = b.wait_find("#reply-body");
    b.type_into(&reply, &format!("Please try the other tray.{CTRL}{ENTER}"));
    b.wait_text("article.message.outbound", "Please try the other tray.");
}
