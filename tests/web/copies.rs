//! Copies (Cc) on a reply. The customer's mail copied a colleague of hers, so the reply
//! form opens with the colleague in the Cc box, as mail programs' "reply all" does. The
//! agent adds one more in Chromium and the preview follows. The one reply reaches all
//! three at the SMTP receiver, with a Cc header, and the newcomer joins the ticket's
//! people; taken off the ticket from the People panel, they are offered no more (the
//! customer stays). A word that is not an address, or one of our own addresses, is
//! refused with the reason (page and frontdeskctl alike), and nothing is queued. Someone
//! the agent takes out of the Cc box stays among the ticket's people but is not offered
//! again until they write to the ticket.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, http_sign_in, outbound_messages, show, ticket_id, PASSWORD,
};

const CUSTOMER: &str = "olga@customer.example.org";
const COLLEAGUE: &str = "anna@customer.example.org";
const PARTNER: &str = "boris@partner.example.net";

#[test]
fn a_reply_keeps_the_people_copied_and_takes_more() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let id = olga_writes_copying(
        &d,
        &format!("Anna Berg <{COLLEAGUE}>, support@example.com, jane@acme.test"),
        "cc.1",
    );

    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    // Her colleague, not our own address and not the agent.
    assert_eq!(b.value("#reply-cc"), COLLEAGUE);
    assert_eq!(b.text("#cc-preview"), COLLEAGUE);
    // (WebDriver types at the end of a box it focuses; a click would put the caret
    // wherever it landed.)
    let cc = b.wait_find("#reply-cc");
    b.type_into(&cc, &format!(", Boris Lang <{PARTNER}>"));
    b.wait_text("#cc-preview", PARTNER);
    // Enter in the one-line box must not send a half-written reply.
    let swallowed = b.js(
        "const e = new KeyboardEvent('keydown', {key: 'Enter', bubbles: true, cancelable: true});
         document.getElementById('reply-cc').dispatchEvent(e);
         return e.defaultPrevented;",
        json!([]),
    );
    assert_eq!(swallowed, true);
    let body = b.wait_find("#reply-body");
    b.click(&body);
    b.type_into(&body, "Hi Olga, a new hinge is on its way.");
    b.click_css("form.reply button[type=submit]");
    b.wait_text("article.message.outbound", "a new hinge is on its way");

    let got = rx.wait_rcpt(CUSTOMER, 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "one reply expected");
    let mut rcpts = got[0].rcpt_tos.clone();
    rcpts.sort();
    assert_eq!(rcpts, [COLLEAGUE, PARTNER, CUSTOMER]);
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    assert_eq!(
        field_of_each(&m["cc"], "address"),
        [COLLEAGUE, PARTNER],
        "{m:#}"
    );
    assert_eq!(m["to"][0]["address"], CUSTOMER, "{m:#}");

    // The partner is one of the ticket's people now: the next reply keeps them too.
    let t = show(&d, id);
    assert!(
        field_of_each(&t["participants"], "email").contains(&PARTNER),
        "{t:#}"
    );
    assert!(
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"] == format!("{PARTNER} copied on a reply")),
        "{t:#}"
    );
    b.open(&format!("/tickets/{id}"));
    assert_eq!(b.value("#reply-cc"), format!("{COLLEAGUE}, {PARTNER}"));

    // Taken off the ticket from the People panel, the partner is offered no more.
    b.click_css(&format!(
        "ul.people form.remove-person input[value='{PARTNER}'] + button"
    ));
    b.wait_until("the partner off the ticket", |b| {
        b.ready() && !b.text("ul.people").contains(PARTNER)
    });
    assert_eq!(b.value("#reply-cc"), COLLEAGUE);
    assert!(b
        .text("ol.events")
        .contains(&format!("{PARTNER} taken off the ticket")));
    // The customer stays on her ticket, and the panel offers no button for her.
    assert!(b
        .find(&format!("ul.people input[value='{CUSTOMER}']"))
        .is_none());

    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let people = field_of_each(&show(&d, id)["participants"], "email")
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>();
    let r = jane.post(
        &format!("/tickets/{id}/people"),
        &[("csrf", &jane.csrf), ("remove", CUSTOMER)],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("stays on it"), "{}", r.text());
    let r = jane.post(
        &format!("/tickets/{id}/people"),
        &[("remove", COLLEAGUE)],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        field_of_each(&show(&d, id)["participants"], "email"),
        people,
        "a refused removal changed the people"
    );

    // Refused with the reason; nothing queued.
    let sent = outbound_messages(&show(&d, id)).len();
    for (cc, says) in [
        (
            "anna@customer.example.org, Anna",
            "\"Anna\" is not a mail address",
        ),
        ("support+t1@example.com", "is one of our own addresses"),
    ] {
        let r = jane.post(
            &format!("/tickets/{id}/reply"),
            &[("csrf", &jane.csrf), ("body", "Another word."), ("cc", cc)],
            &[],
        );
        assert_eq!(r.status, 400, "{cc}: {}", r.text());
        assert!(r.text().contains(says), "{cc}: {}", r.text());
    }
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &id.to_string(),
            "--as",
            "jane@acme.test",
            "--cc",
            "nobody",
        ],
        Some(b"Another word."),
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("\"nobody\" is not a mail address"), "{err}");
    assert_eq!(
        outbound_messages(&show(&d, id)).len(),
        sent,
        "something was queued"
    );
}

/// Olga's "Broken hinge" mail copying `cc` (a Cc line), Message-ID
/// `<{id}@customer.example.org>`: its ticket.
fn olga_writes_copying(d: &crate::harness::Daemon, cc: &str, id: &str) -> i64 {
    let mail = format!(
        "From: Olga Ortiz <{CUSTOMER}>\r\nTo: support@example.com\r\nCc: {cc}\r\n\
         Subject: Broken hinge\r\nMessage-ID: <{id}@customer.example.org>\r\n\
         Date: Tue, 4 Mar 2025 10:00:00 +0000\r\n\r\nThe hinge snapped.\r\n"
    );
    deliver(d, CUSTOMER, "support@example.com", mail.as_bytes());
    ticket_id(d, "Broken hinge")
}

/// One string field of each object in a JSON list.
fn field_of_each<'a>(list: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter_map(|item| item[field].as_str())
        .collect()
}

#[test]
fn one_taken_out_of_the_cc_box_is_not_offered_again_until_they_write() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    let id = olga_writes_copying(&d, &format!("{COLLEAGUE}, {PARTNER}"), "left.1");
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    let reply = |text: &str, n: usize| -> Vec<String> {
        let body = b.wait_find("#reply-body");
        b.click(&body);
        b.type_into(&body, text);
        b.click_css("form.reply button[type=submit]:not([name])");
        let got = rx.wait_rcpt(CUSTOMER, n, Duration::from_secs(30));
        let mut rcpts = got[n - 1].rcpt_tos.clone();
        rcpts.sort();
        rcpts
    };

    // Jane takes the partner out of the Cc box: only the colleague gets the reply.
    b.open(&format!("/tickets/{id}"));
    assert_eq!(b.value("#reply-cc"), format!("{COLLEAGUE}, {PARTNER}"));
    let cc = b.wait_find("#reply-cc");
    b.clear(&cc);
    b.type_into(&cc, COLLEAGUE);
    assert_eq!(
        reply("Anna, the hinge is on its way.", 1),
        [COLLEAGUE, CUSTOMER]
    );

    // He stays among the ticket's people, marked, and is not offered again.
    b.open(&format!("/tickets/{id}"));
    assert_eq!(b.value("#reply-cc"), COLLEAGUE);
    let people = b.text("ul.people");
    assert!(
        people.contains(&format!("{PARTNER} (participant, not copied on replies)")),
        "{people}"
    );
    assert!(b
        .text("ol.events")
        .contains(&format!("{PARTNER} left out of the copies")));
    assert_eq!(reply("One more thing.", 2), [COLLEAGUE, CUSTOMER]);
    // A reply from the shell (no Cc box) takes nobody out.
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &id.to_string(),
            "--as",
            "jane@acme.test",
        ],
        Some(b"From the shell."),
    );
    assert_eq!(code, 0, "{err}{out}");
    rx.wait_rcpt(CUSTOMER, 3, Duration::from_secs(30));
    b.open(&format!("/tickets/{id}"));
    assert_eq!(b.value("#reply-cc"), COLLEAGUE);

    // He writes to the ticket himself: offered again, and the history says why.
    let his = format!(
        "From: Boris Lang <{PARTNER}>\r\nTo: support@example.com\r\n\
         Subject: Re: Broken hinge\r\nMessage-ID: <left.2@partner.example.net>\r\n\
         In-Reply-To: <left.1@customer.example.org>\r\n\
         Date: Tue, 4 Mar 2025 11:00:00 +0000\r\n\r\nPlease keep me posted.\r\n"
    );
    deliver(&d, PARTNER, "support@example.com", his.as_bytes());
    b.wait_until("the partner offered again", |b| {
        b.open(&format!("/tickets/{id}"));
        b.value("#reply-cc") == format!("{COLLEAGUE}, {PARTNER}")
    });
    assert!(b
        .text("ol.events")
        .contains(&format!("{PARTNER} wrote: copied on replies again")));
    assert!(!b.text("ul.people").contains("not copied"));
    let rcpts = reply("Boris, you are back in copy.", 4);
    assert_eq!(rcpts, [COLLEAGUE, PARTNER, CUSTOMER]);
}
