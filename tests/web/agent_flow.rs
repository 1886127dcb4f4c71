//! The agent's day in a real browser: sign in through the form, find the ticket that came
//! over LMTP in the inbox, read it, reply (the reply reaches the SMTP receiver with the
//! agent's From name, the channel's signature and In-Reply-To the customer's mail), then
//! assign it and change its status in the side panel; `frontdeskctl` sees the same.

use std::time::Duration;

use serde_json::json;

use crate::browser::Browser;
use crate::receiver::Receiver;
use crate::{add_agent, daemon, deliver, harness, show, text_mail, ticket_id, PASSWORD};

const CUSTOMER: &str = "carla@customer.example.org";
const CUSTOMER_MID: &str = "first-question.4711@customer.example.org";

#[test]
fn sign_in_open_reply_assign_and_close_in_chromium() {
    let rx = Receiver::start();
    let d = daemon(Some(rx.port));
    add_agent(&d, "jane@acme.test", "Jane Doe");
    add_agent(&d, "bob@acme.test", "Bob Builder");
    deliver(
        &d,
        CUSTOMER,
        "support@example.com",
        &text_mail(
            &format!("Carla Customer <{CUSTOMER}>"),
            "Printer on fire",
            CUSTOMER_MID,
            "Hello,\r\n\r\nthe printer in room 4 is smoking again.\r\n\r\nCarla",
        ),
    );
    let id = ticket_id(&d, "Printer on fire");

    let b = Browser::start(&d.http);
    // Without a session the agent page sends the browser to the sign-in form.
    b.open("/inbox");
    b.wait_path("/login");
    b.fill_login("jane@acme.test", PASSWORD);
    b.wait_path("/inbox");
    assert_eq!(b.text("header .me").trim(), "Jane Doe · available");

    // The ticket is open; the "All open" view lists it with the customer as contact.
    b.click_css("nav.views a[href='/inbox?view=open']");
    b.wait_path("/inbox?view=open");
    let row = format!("tr.ticket[data-ticket='{id}']");
    b.wait_text(&row, "Printer on fire");
    assert!(b.text(&row).contains("Carla Customer"), "{}", b.text(&row));
    b.click_css(&format!("{row} a[href='/tickets/{id}']"));
    b.wait_path(&format!("/tickets/{id}"));
    b.wait_text(
        "article.message.inbound",
        "the printer in room 4 is smoking again",
    );
    // The sender shows by name; the time, sent in UTC, is shown in the browser's own
    // zone and format by the page's script.
    assert_eq!(
        b.text("article.message.inbound header strong"),
        format!("Carla Customer <{CUSTOMER}>")
    );
    let shown = b.text("article.message.inbound header time");
    let local = b.js(
        "var t = document.querySelector('article.message.inbound header time'); \
         return new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'}) \
         .format(new Date(t.getAttribute('datetime')));",
        json!([]),
    );
    assert_eq!(Some(shown.as_str()), local.as_str());
    assert!(!shown.contains("UTC"), "{shown}");
    // The reply form previews the From line and the rendered signature.
    assert_eq!(
        b.text("p.from-preview"),
        "From: Jane Doe at Acme <support@example.com>"
    );
    assert!(
        b.text("pre.signature-preview")
            .contains("Jane Doe\nAcme Support Team"),
        "{:?}",
        b.text("pre.signature-preview")
    );

    // Type a reply and send it.
    let body = b.wait_find("#reply-body");
    b.click(&body);
    b.type_into(
        &body,
        "Hi Carla,\nplease switch it off at the wall; a technician is on the way.",
    );
    // The preview follows the text as it is typed, beside the From line and signature.
    b.wait_text("#body-preview", "a technician is on the way.");
    assert_eq!(
        b.text("#body-preview"),
        "Hi Carla,\nplease switch it off at the wall; a technician is on the way."
    );
    // Attach a file (WebDriver hands the browser a local path, as a file picker would).
    let upload_dir = tempfile::tempdir().unwrap();
    let upload = upload_dir.path().join("wiring diagram.pdf");
    let upload_bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&upload, &upload_bytes).unwrap();
    let picker = b.wait_find("#reply-files");
    b.type_into(&picker, upload.to_str().unwrap());
    b.wait_text("#files-preview", "wiring diagram.pdf (70000 bytes)");
    b.click_css("form.reply button[type=submit]");
    b.wait_text("article.message.outbound", "a technician is on the way");

    // It reaches the SMTP relay: agent-and-company From name, signature, threading.
    let got = rx.wait_rcpt(CUSTOMER, 1, Duration::from_secs(30));
    assert_eq!(got.len(), 1, "one reply expected");
    let m = &harness::python("smtp_inspect.py", &[got[0].path_str()])[0];
    assert_eq!(
        m["from"][0],
        json!({"name": "Jane Doe at Acme", "address": "support@example.com"}),
        "{m:#}"
    );
    assert_eq!(m["in_reply_to"], CUSTOMER_MID, "{m:#}");
    assert!(
        m["references"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x == CUSTOMER_MID)),
        "{m:#}"
    );
    let text = m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "text/plain")
        .and_then(|p| p["text"].as_str())
        .unwrap_or_else(|| panic!("no text/plain part: {m:#}"))
        .replace("\r\n", "\n");
    assert!(
        text.contains("please switch it off at the wall; a technician is on the way."),
        "{text}"
    );
    assert!(text.contains("-- \nJane Doe\nAcme Support Team"), "{text}");
    // The file went with it, byte for byte, under its own name.
    let files: Vec<&serde_json::Value> = m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["filename"] == "wiring diagram.pdf")
        .collect();
    assert_eq!(files.len(), 1, "{m:#}");
    assert_eq!(files[0]["type"], "application/pdf", "{m:#}");
    assert_eq!(files[0]["size"], upload_bytes.len(), "{m:#}");
    let raw = std::fs::read(got[0].path_str()).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&upload_bytes[..3000]);
    assert!(
        raw.replace("\r\n", "").contains(&encoded[..3000]),
        "the attachment's bytes differ from the file uploaded"
    );

    // Nobody owned it: Jane's answer made it hers.
    b.wait_text("p.meta", "owner Jane Doe");
    assert_eq!(crate::show(&d, id)["owner"], "jane@acme.test");
    // Assign to Bob in the side panel.
    b.click_css("form[action$='/assign'] option[value='agent:bob@acme.test']");
    b.click_css("form[action$='/assign'] button[type=submit]");
    b.wait_text("p.meta", "owner Bob Builder");
    // And close it.
    b.click_css("form[action$='/status'] select option:last-child");
    let closed = b.text("form[action$='/status'] select option:last-child");
    assert_eq!(closed, "Closed", "the last stage of the default pipeline");
    b.click_css("form[action$='/status'] button[type=submit]");
    b.wait_text("p.meta", "Closed ·");

    let t = show(&d, id);
    assert_eq!(t["owner"], "bob@acme.test", "{t:#}");
    assert_eq!(t["status"], "Closed", "{t:#}");
    let outbound = crate::outbound_messages(&t);
    assert_eq!(outbound.len(), 1, "{t:#}");
    assert!(
        outbound[0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("a technician is on the way"),
        "{t:#}"
    );
    // The event log names who did it.
    let events = t["events"].to_string();
    assert!(events.contains("jane@acme.test"), "{events}");
}
