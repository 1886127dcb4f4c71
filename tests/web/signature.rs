//! Each agent's own signature lines (title, direct line), kept on their account page
//! (or with `frontdeskctl users set --signature-file`), go where a channel's signature
//! says `{{agent.signature}}`: in the reply box's preview and in the mail the customer
//! gets. Without any, that line is left out (no blank line). The account page says when
//! no channel shows them; too long, or no CSRF token, changes nothing.

use std::time::Duration;

use crate::browser::Browser;
use crate::harness::{Daemon, Settings};
use crate::receiver::Receiver;
use crate::{add_agent, daemon, deliver, http_sign_in, text_mail, ticket_id, PASSWORD};

const JANE: &str = "jane@acme.test";
const KIM: &str = "kim@customer.example.org";

/// `jane@acme.test`'s signature as `users list` shows it.
fn signature_of(d: &Daemon) -> String {
    d.ctl_json(&["users", "list"])["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == JANE))
        .and_then(|u| u["signature"].as_str())
        .unwrap_or("")
        .to_string()
}

#[test]
fn an_agents_own_lines_go_under_their_replies() {
    let rx = Receiver::start();
    let d = Daemon::start_with(Settings {
        channels: crate::relaying(
            rx.port,
            "",
            "[[channel]]\nkind = \"email\"\nname = \"support\"\naddress = \"support@example.com\"\n\
             signature = \"-- \\n{{agent.full_name}}\\n{{agent.signature}}\\nAcme Support Team\"\n",
        ),
        ..Settings::default()
    });
    add_agent(&d, JANE, "Jane Doe");
    deliver(
        &d,
        KIM,
        "support@example.com",
        &text_mail(KIM, "Printer jam", "sig.1@customer.example.org", "It jams."),
    );
    let id = ticket_id(&d, "Printer jam");
    let b = Browser::start(&d.http);
    b.sign_in(JANE, PASSWORD);

    // Without lines of her own: no blank line where they would go.
    b.open(&format!("/tickets/{id}"));
    assert_eq!(
        b.text("pre.signature-preview"),
        "-- \nJane Doe\nAcme Support Team"
    );

    // She writes them on her account page; the preview and the mail carry them.
    b.open("/me");
    assert!(b
        .text("form.signature + p.hint")
        .contains("{{agent.signature}}"));
    let area = b.wait_find("#my-signature");
    b.type_into(&area, "Senior Support Engineer\n+1 555 0100");
    b.click_css("form.signature button[type=submit]");
    b.wait_text(".flash", "signature is saved");
    assert_eq!(
        b.value("#my-signature"),
        "Senior Support Engineer\n+1 555 0100"
    );
    assert_eq!(signature_of(&d), "Senior Support Engineer\n+1 555 0100");
    b.open(&format!("/tickets/{id}"));
    assert_eq!(
        b.text("pre.signature-preview"),
        "-- \nJane Doe\nSenior Support Engineer\n+1 555 0100\nAcme Support Team"
    );
    let body = b.wait_find("#reply-body");
    b.type_into(&body, "A technician is on the way.");
    b.click_css("form.reply button[type=submit]:not([name])");
    let got = rx.wait_rcpt(KIM, 1, Duration::from_secs(30));
    let text = mail_parser::MessageParser::default()
        .parse(&got[0].raw)
        .and_then(|m| m.body_text(0).map(|t| t.replace("\r\n", "\n")))
        .unwrap_or_default();
    assert!(
        text.contains("A technician is on the way.\n\n-- \nJane Doe\nSenior Support Engineer\n+1 555 0100\nAcme Support Team"),
        "{text}"
    );

    // Too long, or without the token: refused, unchanged.
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let long = "x".repeat(1001);
    let r = jane.post(
        "/me/signature",
        &[("csrf", &jane.csrf), ("signature", &long)],
        &[],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("at most 1000 characters"), "{}", r.text());
    let r = jane.post("/me/signature", &[("signature", "Hacked")], &[]);
    assert_eq!(r.status, 403);
    assert_eq!(signature_of(&d), "Senior Support Engineer\n+1 555 0100");

    // The sysadmin sets them from a file (here stdin); an empty one clears them.
    let (code, out, err) = d.ctl_stdin(
        &["users", "set", JANE, "--signature-file", "-"],
        Some(b"Team lead\r\n"),
    );
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(signature_of(&d), "Team lead");
    let (code, out, err) = d.ctl_stdin(&["users", "set", JANE, "--signature-file", "-"], Some(b""));
    assert_eq!(code, 0, "{err}{out}");
    assert_eq!(signature_of(&d), "");
}

#[test]
fn the_account_page_says_when_no_channel_shows_the_lines() {
    let d = daemon(None);
    add_agent(&d, JANE, "Jane Doe");
    let jane = http_sign_in(&d, JANE, PASSWORD);
    let page = jane.get("/me").text();
    assert!(
        page.contains("No channel's signature shows them yet"),
        "{page}"
    );
}
