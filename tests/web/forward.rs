//! Forward: an agent passes a mail of the ticket (the latest incoming one unless they pick
//! another), with its files, to someone outside the desk (a supplier), with a note on
//! top. The supplier gets it under "Fwd:", the thread shows it as a forward to them and
//! when it was sent, the customer gets nothing, the ticket's status and people stay, and
//! the supplier's answer comes back to the ticket without making them one of its people.
//! No address, one of our own addresses, a note or no CSRF token queues nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::wait_until;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, history, http_sign_in, message_rows, outbound_messages, show,
    text_mail_with, ticket_id, PASSWORD,
};

const CUSTOMER: &str = "mia@customer.example.org";
const SUPPLIER: &str = "parts@supplier.example.net";
const SUBJECT: &str = "Hinge broke after a week";

/// The customer's mail: a line of text and a PDF.
fn mail_with_pdf() -> Vec<u8> {
    format!(
        "From: Mia <{CUSTOMER}>\r\n\
         To: support@example.com\r\n\
         Subject: {SUBJECT}\r\n\
         Date: Tue, 4 Mar 2025 10:00:00 +0000\r\n\
         Message-ID: <hinge.1@customer.example.org>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m1\"\r\n\r\n\
         --m1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe left hinge snapped; photo of the receipt attached.\r\n\
         --m1\r\nContent-Type: application/pdf; name=\"receipt.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"receipt.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n\
         JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK\r\n\
         --m1--\r\n"
    )
    .into_bytes()
}

#[test]
fn a_forward_reaches_the_supplier_with_the_files_and_their_answer_comes_back() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(&d, CUSTOMER, "support@example.com", &mail_with_pdf());
    let id = ticket_id(&d, SUBJECT);
    let before = show(&d, id);

    // Refused, and nothing is queued.
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    for (to, says) in [
        ("", "say who to forward it to"),
        (CUSTOMER, "say who to forward it to"),
        ("support+x@example.com", "is one of our own addresses"),
        ("not an address", "is not a mail address"),
    ] {
        let r = jane.post(
            &format!("/tickets/{id}/forward"),
            &[("csrf", &jane.csrf), ("to", to), ("body", "FYI")],
            &[],
        );
        assert_eq!(r.status, 400, "{to:?}: {}", r.text());
        assert!(r.text().contains(says), "{to:?}: {}", r.text());
    }
    let r = jane.post(
        &format!("/tickets/{id}/forward"),
        &[("to", SUPPLIER), ("body", "FYI")],
        &[],
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(show(&d, id), before, "a refused forward changed the ticket");

    // From the page.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    b.click_css("details.forward summary");
    let to = b.wait_find("#forward-to");
    b.type_into(&to, SUPPLIER);
    let note = b.wait_find("#forward-body");
    b.type_into(&note, "Could you send a replacement hinge for this order?");
    b.click_css("form.forward button[type=submit]");
    b.wait_text("article.message.outbound", "replacement hinge");

    let got = rx.wait_rcpt(SUPPLIER, 1, Duration::from_secs(30));
    assert_eq!(got[0].rcpt_tos, [SUPPLIER], "only the supplier gets it");
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    let subject = m["headers"]["subject"][0].as_str().unwrap_or("");
    assert!(subject.starts_with(&format!("Fwd: {SUBJECT}")), "{subject}");
    let text = crate::plain_text(m);
    assert!(
        text.starts_with("Could you send a replacement hinge"),
        "{text}"
    );
    for part in [
        "---------- Forwarded message ----------",
        &format!("From: Mia <{CUSTOMER}>"),
        "The left hinge snapped",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    let pdf = m["parts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["filename"] == "receipt.pdf"))
        .unwrap_or_else(|| panic!("no receipt.pdf: {m:#}"));
    assert_eq!(pdf["type"], "application/pdf");
    assert_eq!(pdf["size"], 54, "the PDF's decoded bytes");

    // The thread says what it was, to whom, and (live, without a reload) that the relay
    // took it.
    b.wait_until("the forward shown as sent", |b| {
        b.text("article.message.outbound header")
            .contains(&format!("to {SUPPLIER} · sent"))
    });
    assert_eq!(b.text("article.message.outbound .marks"), "forward");
    let sent = outbound_messages(&show(&d, id))[0].clone();
    assert_eq!(sent["delivery"]["kind"], "forward", "{sent:#}");
    assert_eq!(sent["delivery"]["recipients"][0], SUPPLIER, "{sent:#}");

    // The customer got nothing; status and people stay; the history says it.
    assert!(
        rx.messages()
            .iter()
            .all(|m| !m.rcpt_tos.iter().any(|r| r == CUSTOMER)),
        "the customer got mail"
    );
    let t = show(&d, id);
    assert_eq!(t["status"], before["status"]);
    assert_eq!(t["participants"], before["participants"]);
    assert!(
        history(&t).contains(&format!("forward to {SUPPLIER} queued")),
        "{}",
        history(&t)
    );
    let outbox = d.ctl_json(&["outbox", "list"]);
    assert_eq!(outbox["outbox"][0]["kind"], "forward", "{outbox:#}");

    // The supplier answers the forward: back on the ticket.
    let ours = m["message_id"].as_str().unwrap_or_default();
    let answer = text_mail_with(
        SUPPLIER,
        &format!("Re: {subject}"),
        "answer.1@supplier.example.net",
        "A new hinge ships tomorrow.",
        &format!("In-Reply-To: <{ours}>\r\n"),
    );
    deliver(&d, SUPPLIER, "support@example.com", &answer);
    wait_until("the answer on the ticket", Duration::from_secs(10), || {
        show(&d, id)["messages"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["from"] == SUPPLIER))
    });
    assert_eq!(outbound_messages(&show(&d, id)).len(), 1);
    // The supplier is on the desk's side: not one of the ticket's people, so the next
    // reply to the customer does not copy them; the history says why.
    let t = show(&d, id);
    assert_eq!(t["participants"], before["participants"], "{t:#}");
    assert!(
        history(&t).contains(&format!("{SUPPLIER} answered a forward")),
        "{}",
        history(&t)
    );
    b.open(&format!("/tickets/{id}"));
    assert_eq!(b.value("#reply-cc"), "", "the supplier offered in Cc");

    // From frontdeskctl: the latest incoming mail is the supplier's answer now.
    let (code, out, err) = ctl_forward(
        &d,
        id,
        "Billing <billing@acme-finance.example.net>",
        &[],
        b"Please refund the hinge.",
    );
    assert_eq!(code, 0, "{err}{out}");
    assert!(
        out.contains(&format!("forward of ticket #{id} queued")),
        "{out}"
    );
    let (text, files) = received(&rx, "billing@acme-finance.example.net");
    assert!(text.starts_with("Please refund the hinge."), "{text}");
    assert!(text.contains("A new hinge ships tomorrow."), "{text}");
    assert!(files.is_empty(), "the answer had no files: {files:?}");
    let (code, _, err) = ctl_forward(&d, id, "x@example.org", &["--close"], b"no");
    assert_ne!(code, 0, "a forward that closes was accepted");
    assert!(err.contains("cannot be used with"), "{err}");
}

/// `frontdeskctl tickets reply ID --as jane --forward-to TO` plus `more`, the body on
/// stdin: exit code, stdout, stderr.
fn ctl_forward(
    d: &crate::harness::Daemon,
    id: i64,
    to: &str,
    more: &[&str],
    body: &[u8],
) -> (i32, String, String) {
    let id = id.to_string();
    let args = [
        "tickets",
        "reply",
        &id,
        "--as",
        "jane@acme.test",
        "--forward-to",
        to,
    ];
    let args: Vec<&str> = args.iter().chain(more).copied().collect();
    d.ctl_stdin(&args, Some(body))
}

/// The text/plain part of the one mail the receiver got for `rcpt`, and its file names.
fn received(rx: &Receiver, rcpt: &str) -> (String, Vec<String>) {
    let got = rx.wait_rcpt(rcpt, 1, Duration::from_secs(30));
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    let parts = m["parts"].as_array().cloned().unwrap_or_default();
    let text = crate::plain_text(m);
    let files = parts
        .iter()
        .filter_map(|p| p["filename"].as_str().map(str::to_string))
        .collect();
    (text, files)
}

#[test]
fn an_older_mail_is_forwarded_from_its_own_button_and_a_note_never_is() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(&d, CUSTOMER, "support@example.com", &mail_with_pdf());
    let id = ticket_id(&d, SUBJECT);
    let follow_up = text_mail_with(
        CUSTOMER,
        &format!("Re: {SUBJECT}"),
        "hinge.2@customer.example.org",
        "Any news on the hinge?",
        "In-Reply-To: <hinge.1@customer.example.org>\r\n",
    );
    deliver(&d, CUSTOMER, "support@example.com", &follow_up);
    wait_until("the follow-up threaded", Duration::from_secs(10), || {
        message_rows(&show(&d, id), "inbound").len() == 2
    });
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let r = jane.post(
        &format!("/tickets/{id}/note"),
        &[
            ("csrf", &jane.csrf),
            ("body", "Internal: check stock first"),
        ],
        &[],
    );
    assert!(r.status < 400, "{}", r.text());
    deliver(
        &d,
        "leo@elsewhere.example.org",
        "support@example.com",
        &crate::text_mail(
            "leo@elsewhere.example.org",
            "Another matter",
            "other.1@elsewhere.example.org",
            "Not this ticket.",
        ),
    );
    let other = ticket_id(&d, "Another matter");
    let t = show(&d, id);
    let (inbound, note) = (message_rows(&t, "inbound"), message_rows(&t, "note"));
    let (first, second) = (inbound[0], inbound[1]);
    let foreign = message_rows(&show(&d, other), "inbound")[0];

    // A note, another ticket's mail or no number: refused, nothing queued or changed.
    let before = show(&d, id);
    for (message, status, says) in [
        (note[0].to_string(), 400, "is not a mail on ticket"),
        (foreign.to_string(), 400, "is not a mail on ticket"),
        ("12abc".to_string(), 400, "No such mail"),
    ] {
        let r = jane.post(
            &format!("/tickets/{id}/forward"),
            &[
                ("csrf", &jane.csrf),
                ("to", SUPPLIER),
                ("message", &message),
                ("body", "FYI"),
            ],
            &[],
        );
        assert_eq!(r.status, status, "{message}: {}", r.text());
        assert!(r.text().contains(says), "{message}: {}", r.text());
    }
    assert_eq!(show(&d, id), before, "a refused forward changed the ticket");
    assert!(rx.messages().is_empty(), "a refused forward was sent");

    // The page offers the mails (not the note), the latest incoming one picked; the
    // first mail's own button picks it instead.
    let b = Browser::start(&d.http);
    b.sign_in("jane@acme.test", PASSWORD);
    b.open(&format!("/tickets/{id}"));
    assert_eq!(b.value("#forward-message"), second.to_string());
    let offered = b.js(
        "return Array.from(document.querySelectorAll('#forward-message option')).map(o => Number(o.value));",
        serde_json::json!([]),
    );
    assert_eq!(
        offered,
        serde_json::json!([second, first]),
        "newest first, no note"
    );
    assert!(
        b.find(&format!("#m{} button.forward-this", note[0]))
            .is_none(),
        "a note has a Forward button"
    );
    b.click_css(&format!("#m{first} button.forward-this"));
    b.wait_until("the forward form open on the first mail", |b| {
        b.js(
            "return document.getElementById('forward').open;",
            serde_json::json!([]),
        ) == serde_json::json!(true)
            && b.value("#forward-message") == first.to_string()
    });
    assert_eq!(b.focused_id(), "forward-to");
    let to = b.wait_find("#forward-to");
    b.type_into(&to, SUPPLIER);
    b.click_css("form.forward button[type=submit]");
    let (text, files) = received(&rx, SUPPLIER);
    assert!(text.contains("The left hinge snapped"), "{text}");
    assert!(
        !text.contains("Any news"),
        "the later mail went along:\n{text}"
    );
    assert_eq!(files, ["receipt.pdf"]);

    // frontdeskctl names the mail by its number in `tickets show`.
    let stock = "stock@warehouse.example.net";
    let (code, out, err) = ctl_forward(
        &d,
        id,
        stock,
        &["--message", &second.to_string()],
        b"Is this in stock?",
    );
    assert_eq!(code, 0, "{err}{out}");
    let (text, files) = received(&rx, stock);
    assert!(text.starts_with("Is this in stock?"), "{text}");
    assert!(text.contains("Any news on the hinge?"), "{text}");
    assert!(files.is_empty(), "the follow-up had no files: {files:?}");
    let (code, _, err) = ctl_forward(&d, id, stock, &["--message", &note[0].to_string()], b"no");
    assert_ne!(code, 0, "a note was forwarded");
    assert!(err.contains("is not a mail on ticket"), "{err}");
    let (code, _, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &id.to_string(),
            "--as",
            "jane@acme.test",
            "--message",
            &first.to_string(),
        ],
        Some(b"no"),
    );
    assert_ne!(code, 0, "--message without --forward-to was accepted");
    assert!(err.contains("--forward-to"), "{err}");
    assert_eq!(
        rx.messages().len(),
        2,
        "only the two forwards were sent: {:?}",
        rx.messages()
            .iter()
            .map(|m| m.rcpt_tos.clone())
            .collect::<Vec<_>>()
    );
}
