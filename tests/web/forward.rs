//! Forward: an agent passes the ticket's latest incoming mail, with its files, to someone
//! outside the desk (a supplier), with a note on top. The supplier gets it under
//! "Fwd:", the thread shows it as a forward to them and when it was sent, the customer
//! gets nothing, the ticket's status and people stay, and the
//! supplier's answer comes back to the ticket. No address, one of our own addresses or
//! no CSRF token queues nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::wait_until;
use crate::receiver::Receiver;
use crate::{
    add_agent, daemon, deliver, history, http_sign_in, outbound_messages, show, text_mail_with,
    ticket_id, PASSWORD,
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
    let text = m["parts"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["type"] == "text/plain"))
        .and_then(|p| p["text"].as_str())
        .unwrap_or("")
        .to_string();
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

    // From frontdeskctl: the latest incoming mail is the supplier's answer now.
    let (code, out, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &id.to_string(),
            "--as",
            "jane@acme.test",
            "--forward-to",
            "Billing <billing@acme-finance.example.net>",
        ],
        Some(b"Please refund the hinge."),
    );
    assert_eq!(code, 0, "{err}{out}");
    assert!(
        out.contains(&format!("forward of ticket #{id} queued")),
        "{out}"
    );
    let got = rx.wait_rcpt(
        "billing@acme-finance.example.net",
        1,
        Duration::from_secs(30),
    );
    let m = &crate::harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    let parts = m["parts"].as_array().cloned().unwrap_or_default();
    let text = parts
        .iter()
        .find(|p| p["type"] == "text/plain")
        .and_then(|p| p["text"].as_str())
        .unwrap_or("");
    assert!(text.starts_with("Please refund the hinge."), "{text}");
    assert!(text.contains("A new hinge ships tomorrow."), "{text}");
    assert!(
        parts.iter().all(|p| p["filename"].is_null()),
        "the answer had no files: {m:#}"
    );
    let (code, _, err) = d.ctl_stdin(
        &[
            "tickets",
            "reply",
            &id.to_string(),
            "--as",
            "jane@acme.test",
            "--forward-to",
            "x@example.org",
            "--close",
        ],
        Some(b"no"),
    );
    assert_ne!(code, 0, "a forward that closes was accepted");
    assert!(err.contains("cannot be used with"), "{err}");
}
