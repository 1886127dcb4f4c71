//! Pages are kept between requests only while nothing changed: any committed write,
//! from the page, the control socket or incoming mail, shows on the very next request.

use crate::{
    add_agent, daemon, deliver, http_sign_in, text_mail, text_mail_with, ticket_id, PASSWORD,
};

#[test]
fn every_kind_of_write_shows_on_the_next_request() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    deliver(
        &d,
        "carla@customer.example",
        "support@example.com",
        &text_mail(
            "Carla <carla@customer.example>",
            "Fresh pages",
            "fresh1@customer.example",
            "First words",
        ),
    );
    let id = ticket_id(&d, "Fresh pages");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let page = format!("/tickets/{id}");
    // The same page twice: the second comes from the cache.
    let first = jane.get(&page).text();
    assert_eq!(first, jane.get(&page).text());
    assert!(
        first.contains("owner unassigned") && !first.contains("owner Bob Builder"),
        "{first}"
    );

    // A write through the control socket.
    d.ctl_json(&["tickets", "assign", &id.to_string(), "bob@acme.test"]);
    let after = jane.get(&page).text();
    assert!(
        after.contains("owner Bob Builder"),
        "stale page after an assignment:\n{after}"
    );

    // New mail on the ticket.
    let reply = text_mail_with(
        "Carla <carla@customer.example>",
        "Re: Fresh pages",
        "fresh2@customer.example",
        "Second words",
        "In-Reply-To: <fresh1@customer.example>\r\n",
    );
    deliver(&d, "carla@customer.example", "support@example.com", &reply);
    let after = jane.get(&page).text();
    assert!(
        after.contains("Second words"),
        "stale page after new mail:\n{after}"
    );
    let inbox = jane.get("/inbox?view=all").text();
    assert!(inbox.contains("Fresh pages"), "{inbox}");

    // Another agent's session is never served Jane's page (her CSRF token is in it).
    let bob = http_sign_in(&d, "bob@acme.test", PASSWORD);
    let bobs = bob.get(&page).text();
    assert!(
        bobs.contains(&bob.csrf) && !bobs.contains(&jane.csrf),
        "a page of another session was served"
    );

    // Signing out ends the cached session at once.
    let r = jane.post("/logout", &[("csrf", &jane.csrf)], &[]);
    assert_eq!(r.status, 303);
    let r = jane.get(&page);
    assert_eq!(r.status, 303, "a signed-out session still got a page");
    assert_eq!(
        r.header("location"),
        Some(format!("/login?next={}", crate::form_encode(&page)).as_str())
    );
}
