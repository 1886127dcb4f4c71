//! Renaming a ticket: a subject like "Fw: URGENT!!!" becomes what the ticket is about,
//! from the page in Chromium or from frontdeskctl. The page, the inbox and the history
//! show it, the next reply carries it, and the customer's answer to the old thread
//! still lands on the ticket. An empty or overlong subject, or a request without the
//! CSRF token, changes nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, http_sign_in, jane_replies, show, text_mail, text_mail_with,
    ticket_id, PASSWORD,
};

const CUSTOMER: &str = "olga@customer.example.org";
const ORIGINAL: &str = "Fw: URGENT!!! read this";
const BETTER: &str = "Printer jam, floor 3";

#[test]
fn a_ticket_renamed_keeps_its_thread_and_replies_carry_the_new_subject() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let first = text_mail(
        CUSTOMER,
        ORIGINAL,
        "urgent.1@customer.example.org",
        "The printer jams.",
    );
    deliver(&d, CUSTOMER, "support@example.com", &first);
    let id = ticket_id(&d, ORIGINAL);

    // Refused, and nothing changes: empty, too long, no CSRF token.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let before = show(&d, id);
    let long = "x".repeat(201);
    for (subject, status, says) in [
        (" \r\n ", 400, "the subject is empty"),
        (long.as_str(), 400, "longer than 200 characters"),
    ] {
        let r = jane.post(
            &format!("/tickets/{id}/subject"),
            &[("csrf", &jane.csrf), ("subject", subject)],
            &[],
        );
        assert_eq!(r.status, status, "{}", r.text());
        assert!(r.text().contains(says), "{}", r.text());
    }
    let r = jane.post(
        &format!("/tickets/{id}/subject"),
        &[("subject", BETTER)],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(show(&d, id), before, "a refused rename changed the ticket");

    // From the page.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    let input = b.wait_find("form.rename input[name=subject]");
    assert_eq!(b.value("form.rename input[name=subject]"), ORIGINAL);
    b.clear(&input);
    b.type_into(&input, &format!("  {BETTER}  "));
    b.click_css("form.rename button[type=submit]");
    b.wait_text("main h1", BETTER);
    assert_eq!(show(&d, id)["subject"], BETTER);
    let history = b.text("aside.side");
    assert!(
        history.contains(&format!("subject “{ORIGINAL}” → “{BETTER}”")),
        "{history}"
    );
    b.open("/inbox?view=all");
    b.wait_text(&format!("tr[data-ticket='{id}']"), BETTER);

    // The next reply goes out under the new subject.
    jane_replies(&d, id, &[], "Switch it off and on, please.");
    let got = rx.wait_rcpt(CUSTOMER, 1, Duration::from_secs(30));
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    let subject = m["subject"].as_str().unwrap_or_default();
    assert!(subject.starts_with(&format!("Re: {BETTER}")), "{m:#}");

    // Her answer to the first mail, under the old subject, still finds the ticket.
    let answer = text_mail_with(
        CUSTOMER,
        &format!("Re: {ORIGINAL}"),
        "urgent.2@customer.example.org",
        "It still jams.",
        "In-Reply-To: <urgent.1@customer.example.org>\r\n",
    );
    deliver(&d, CUSTOMER, "support@example.com", &answer);
    crate::harness::wait_until("her answer on the ticket", Duration::from_secs(20), || {
        show(&d, id)["messages"].as_array().map_or(0, Vec::len) == 3
    });
    assert_eq!(
        d.tickets().len(),
        1,
        "the answer opened a ticket of its own"
    );
    assert_eq!(
        show(&d, id)["subject"],
        BETTER,
        "the answer renamed it back"
    );

    // From frontdeskctl, recorded as the agent named.
    let (code, out, err) = d.ctl(&[
        "tickets",
        "rename",
        &id.to_string(),
        "Printer jam fixed?",
        "--as",
        "jane@acme.test",
    ]);
    assert_eq!(code, 0, "{err}{out}");
    let t = show(&d, id);
    assert_eq!(t["subject"], "Printer jam fixed?");
    let last = t["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["actor"], "jane@acme.test", "{t:#}");
    let (code, _, err) = d.ctl(&["tickets", "rename", &id.to_string(), ""]);
    assert_ne!(code, 0);
    assert!(err.contains("the subject is empty"), "{err}");
}
