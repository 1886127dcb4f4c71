//! Live updates over Server-Sent Events: a mail that arrives while the inbox is open shows
//! up without a reload; two agents on one ticket see each other viewing, then replying.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, text_mail, text_mail_with, ticket_id, PASSWORD};

/// Mark the page so a reload (which would start a fresh `window`) is detectable.
fn mark(b: &Browser) {
    b.js("window.__marker = 1; return 1;", json!([]));
}

fn still_marked(b: &Browser) -> bool {
    b.js("return window.__marker === 1;", json!([])) == true
}

#[test]
fn new_mail_appears_in_an_open_inbox_without_a_reload() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "old@customer.example.org",
        "support@example.com",
        &text_mail(
            "old@customer.example.org",
            "Older question",
            "old.1@x.org",
            "Hi",
        ),
    );
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open("/inbox?view=open");
    b.wait_text("#main table.tickets", "Older question");
    mark(&b);
    // Wait until the page's event stream is connected, so the new mail cannot slip in
    // between the page load and the subscription.
    b.wait_event_stream();

    deliver(
        &d,
        "new@customer.example.org",
        "support@example.com",
        &text_mail(
            "Nina New <new@customer.example.org>",
            "Brand new arrival 9931",
            "new.1@x.org",
            "Hello there",
        ),
    );
    b.wait_text("#main table.tickets", "Brand new arrival 9931");
    assert!(
        still_marked(&b),
        "the inbox was reloaded instead of updated live"
    );
    assert!(b.path().starts_with("/inbox?view=open"), "{}", b.path());
    assert!(
        b.text("#main table.tickets").contains("Nina New"),
        "{}",
        b.text("#main")
    );
}

/// Two agents on one ticket page: each sees the other viewing, then replying.
#[test]
fn two_agents_see_each_other_viewing_and_replying() {
    let d = daemon(None);
    add_agent(&d, "alice@acme.test", "Alice Archer");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    deliver(
        &d,
        "carla@customer.example.org",
        "support@example.com",
        &text_mail(
            "carla@customer.example.org",
            "Shared ticket",
            "shared.1@x.org",
            "Who takes this?",
        ),
    );
    let id = ticket_id(&d, "Shared ticket");
    let alice = Browser::start(&d.http);
    let bob = Browser::start(&d.http);
    alice.sign_in("alice@acme.test", PASSWORD);
    bob.sign_in("bob@acme.test", PASSWORD);
    let page = format!("/tickets/{id}");
    alice.open(&page);
    bob.open(&page);
    alice.wait_text("#presence", "Bob Builder is viewing");
    bob.wait_text("#presence", "Alice Archer is viewing");
    // Nobody is told about themselves.
    assert!(
        !alice.text("#presence").contains("Alice"),
        "{}",
        alice.text("#presence")
    );
    assert!(
        !bob.text("#presence").contains("Bob"),
        "{}",
        bob.text("#presence")
    );

    mark(&alice);
    bob.click_css("#reply-body");
    alice.wait_text("#presence", "Bob Builder is replying");
    assert!(still_marked(&alice), "alice's page was reloaded");
    assert_eq!(bob.text("#presence"), "Alice Archer is viewing");

    // Bob leaves: Alice no longer sees him.
    bob.open("/inbox");
    alice.wait_until("Bob to leave the presence line", |b| {
        !b.text("#presence").contains("Bob")
    });
}

/// The ticket page refreshes itself when the ticket changes; the presence line must not be
/// wiped by that refresh (it is part of the replaced `#main` and only refilled on the
/// next presence event).
#[test]
fn presence_survives_a_live_refresh_of_the_ticket_page() {
    let d = daemon(None);
    add_agent(&d, "alice@acme.test", "Alice Archer");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    deliver(
        &d,
        "carla@customer.example.org",
        "support@example.com",
        &text_mail(
            "carla@customer.example.org",
            "Busy ticket",
            "busy.1@x.org",
            "First message",
        ),
    );
    let id = ticket_id(&d, "Busy ticket");
    let alice = Browser::start(&d.http);
    let bob = Browser::start(&d.http);
    alice.sign_in("alice@acme.test", PASSWORD);
    bob.sign_in("bob@acme.test", PASSWORD);
    alice.open(&format!("/tickets/{id}"));
    bob.open(&format!("/tickets/{id}"));
    alice.wait_text("#presence", "Bob Builder is viewing");
    alice.wait_event_stream();
    bob.wait_event_stream();
    mark(&alice);

    // The customer writes again: Alice's page shows it live...
    let follow_up = text_mail_with(
        "carla@customer.example.org",
        "Re: Busy ticket",
        "busy.2@x.org",
        "Second message, any news?",
        "In-Reply-To: <busy.1@x.org>\r\nReferences: <busy.1@x.org>\r\n",
    );
    deliver(
        &d,
        "carla@customer.example.org",
        "support@example.com",
        &follow_up,
    );
    alice.wait_text("#main .thread", "Second message, any news?");
    assert!(still_marked(&alice), "alice's page was reloaded");
    // ...and still says Bob is there (he never left).
    assert_eq!(
        alice.text("#presence"),
        "Bob Builder is viewing",
        "the live refresh wiped the presence line while Bob is still on the ticket"
    );
}
