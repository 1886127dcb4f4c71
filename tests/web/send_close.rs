//! "Send and close": one press sends the reply and closes the ticket, both or neither,
//! from the page in Chromium and from `frontdeskctl tickets reply --close`. The reply
//! reaches the SMTP receiver, the history says what happened, and the customer's answer
//! opens the ticket again.

use std::time::Duration;

use crate::browser::Browser;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, jane_replies, show, text_mail, text_mail_with, ticket_id, PASSWORD,
};

const CUSTOMER: &str = "olga@customer.example.org";

fn events(d: &crate::harness::Daemon, id: i64) -> Vec<String> {
    show(d, id)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn send_and_close_sends_the_reply_and_closes_the_ticket() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let mail = text_mail(
        CUSTOMER,
        "Broken hinge",
        "close.1@customer.example.org",
        "It snapped.",
    );
    deliver(&d, CUSTOMER, "support@example.com", &mail);
    let id = ticket_id(&d, "Broken hinge");

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    let body = b.wait_find("#reply-body");
    b.type_into(&body, "A new hinge is on its way; write back if it is not.");
    b.click_css("form.reply button[name=then][value=close]");
    b.wait_text("article.message.outbound", "A new hinge is on its way");
    b.wait_text("p.meta", "Closed");
    assert_eq!(show(&d, id)["status"], "Closed");
    let history = events(&d, id);
    assert!(
        history
            .iter()
            .any(|e| e == "New → Waiting on contact (agent replied)")
            && history
                .iter()
                .any(|e| e == "Waiting on contact → Closed (closed with the reply)"),
        "{history:?}"
    );
    let got = rx.wait_rcpt(CUSTOMER, 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("A new hinge is on its way"));

    // Her answer opens it again.
    let answer = text_mail_with(
        CUSTOMER,
        "Re: Broken hinge",
        "close.2@customer.example.org",
        "It did not come.",
        "In-Reply-To: <close.1@customer.example.org>\r\n",
    );
    deliver(&d, CUSTOMER, "support@example.com", &answer);
    crate::harness::wait_until("the ticket reopened", Duration::from_secs(20), || {
        show(&d, id)["status"] != "Closed"
    });
    assert_eq!(show(&d, id)["status"], "Waiting on us");

    // From frontdeskctl; a plain reply leaves it open.
    jane_replies(&d, id, &[], "Sent again.");
    assert_eq!(show(&d, id)["status"], "Waiting on contact");
    jane_replies(&d, id, &["--close"], "Closing this now.");
    assert_eq!(show(&d, id)["status"], "Closed");
    assert_eq!(rx.wait_rcpt(CUSTOMER, 3, Duration::from_secs(30)).len(), 3);

    // Refused replies close nothing: an empty one, with the button.
    let (code, _, _) = d.ctl_stdin(
        &["tickets", "status", &id.to_string(), "Waiting on us"],
        None,
    );
    assert_eq!(code, 0);
    let jane = crate::http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.post(
        &format!("/tickets/{id}/reply"),
        &[("csrf", &jane.csrf), ("body", "  "), ("then", "close")],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(show(&d, id)["status"], "Waiting on us");
}
