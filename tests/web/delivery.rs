//! Each mail we sent shows in the thread whom it went to and how far it got: "sending"
//! while queued, "sent" once the relay took it, "not delivered" (set apart) when the
//! relay refused it for good.

use std::time::Duration;

use serde_json::json;

use crate::harness::wait_until;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, http_sign_in, jane_replies, text_mail, ticket_id, PASSWORD,
};

#[test]
fn the_thread_shows_whom_a_reply_went_to_and_whether_it_was_delivered() {
    let rx = Receiver::start();
    let refused = "550 5.1.1 <gone@customer.example.org>: Recipient address rejected: User unknown";
    rx.set_rules(&json!({"rcpt": {"gone@customer.example.org": refused}}));
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    for (customer, subject, shown) in [
        (
            "kim@customer.example.org",
            "Delivered fine",
            r#"<span class="delivery sent">to kim@customer.example.org · sent</span>"#,
        ),
        (
            "gone@customer.example.org",
            "Mailbox gone",
            r#"<span class="delivery failed">to gone@customer.example.org · not delivered</span>"#,
        ),
    ] {
        let raw = text_mail(customer, subject, &format!("{customer}.1"), "Hello?");
        deliver(&d, customer, "support@example.com", &raw);
        let id = ticket_id(&d, subject);
        jane_replies(&d, id, &[], "Here is the answer.");
        wait_until(shown, Duration::from_secs(30), || {
            jane.get(&format!("/tickets/{id}")).text().contains(shown)
        });
        let page = jane.get(&format!("/tickets/{id}")).text();
        assert!(
            page.contains(r#"<span class="marks">reply</span>"#),
            "the reply is marked as one"
        );
    }
}
