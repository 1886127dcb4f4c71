//! A thread that ran long (a customer who writes every day, a mail loop with a system
//! that does not mark its mail automatic) opens with its newest messages and the newest
//! of its history; a link shows the rest. frontdeskctl still shows the whole ticket.

use serde_json::json;

use crate::browser::Browser;
use crate::{add_agent, daemon, deliver, show, text_mail, text_mail_with, ticket_id, PASSWORD};

const CUSTOMER: &str = "lena@customer.example.org";
const SUBJECT: &str = "Nightly export keeps failing";
/// Messages in the thread; the page shows the newest 50.
const MESSAGES: usize = 55;

fn count(b: &Browser, css: &str) -> u64 {
    b.js(
        "return document.querySelectorAll(arguments[0]).length;",
        json!([css]),
    )
    .as_u64()
    .expect("a count")
}

#[test]
fn a_long_thread_opens_with_its_newest_messages_and_shows_the_rest_on_request() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let first = text_mail(
        CUSTOMER,
        SUBJECT,
        "night.1@customer.example.org",
        "Message #01: the export failed again.",
    );
    deliver(&d, CUSTOMER, "support@example.com", &first);
    for n in 2..=MESSAGES {
        let reply = text_mail_with(
            CUSTOMER,
            &format!("Re: {SUBJECT}"),
            &format!("night.{n}@customer.example.org"),
            &format!("Message #{n:02}: failed again tonight."),
            &format!("In-Reply-To: <night.{}@customer.example.org>\r\n", n - 1),
        );
        deliver(&d, CUSTOMER, "support@example.com", &reply);
    }
    let id = ticket_id(&d, SUBJECT);
    let whole = show(&d, id);
    assert_eq!(
        whole["messages"].as_array().map(Vec::len),
        Some(MESSAGES),
        "frontdeskctl shows every message"
    );
    assert_eq!(whole["earlier"], 0);
    let events = whole["events"].as_array().map_or(0, Vec::len);
    assert!(
        events > 50,
        "one event per message and the creation: {events}"
    );

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    b.wait_find("article.message");
    assert_eq!(count(&b, "article.message"), 50);
    let thread = b.text("section.thread");
    assert!(
        thread.contains(&format!("Message #{MESSAGES:02}")),
        "{thread}"
    );
    assert!(thread.contains("Message #06"), "the 50th newest is shown");
    assert!(!thread.contains("Message #05"), "an older one is shown");
    assert_eq!(
        b.text("section.thread p.earlier"),
        "Show 5 earlier messages"
    );
    assert_eq!(count(&b, "ol.events li"), 50, "the newest 50 events");
    assert_eq!(b.text("aside.side p.earlier"), "Show the whole history");

    b.click_css("section.thread p.earlier a");
    b.wait_path(&format!("/tickets/{id}?all=1"));
    b.wait_until("the whole thread", |b| {
        count(b, "article.message") == MESSAGES as u64
    });
    let thread = b.text("section.thread");
    assert!(thread.contains("Message #01"), "{thread}");
    assert_eq!(count(&b, "p.earlier"), 0, "nothing is left out");
    assert_eq!(count(&b, "ol.events li"), events as u64);
    // Oldest first, as before.
    let first_article = b.text("article.message");
    assert!(first_article.contains("Message #01"), "{first_article}");
}
