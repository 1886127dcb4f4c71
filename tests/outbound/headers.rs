//! The headers and MIME a mail client relies on, on real replies received by aiosmtpd
//! and read back with Python's email package: a table of From-name modes and names
//! (quotes, angle brackets, non-ASCII, HTML metacharacters), Reply-To token, our
//! Message-ID, In-Reply-To/References from the thread, the tagged subject, text + HTML
//! with the rendered signature, attachments, Cc, and the VERP envelope sender.

use serde_json::Value;

use crate::harness::Daemon;
use crate::receiver::{Received, Receiver};
use crate::{
    add_user, customer_mail, daemon, header, inspect, lmtp, message_in, raw_header, reply,
    ticket_of, wait_entry, MAIL_DEADLINE,
};

const CHANNELS: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
signature = "-- \n{{agent.full_name}} <{{agent.first_name}}> & {{company}}\n<b>Tips & \"tricks\"</b>"

[[channel]]
kind = "email"
name = "sales"
address = "sales@example.com"
from_name = "company"
signature = "{{company}} sales, {{agent.last_name}}"

[[channel]]
kind = "email"
name = "billing"
address = "billing@example.com"
from_name_format = "{first_name} from {company} Billing"
"#;

/// One row of the table.
struct Case {
    channel: &'static str,
    agent: &'static str,
    customer: &'static str,
    subject: &'static str,
    /// The From display name, as Python decodes it.
    from_name: &'static str,
    /// Lines the text part must contain (body and signature), and the HTML part's.
    text: &'static [&'static str],
    html: &'static [&'static str],
    /// Text that must not be in the HTML part (unescaped metacharacters).
    html_never: &'static [&'static str],
}

const BODY: &str = "Please press <kbd>Ctrl</kbd> & restart \"it\".\nThanks for waiting.\n";

const CASES: &[Case] = &[
    Case {
        channel: "support",
        agent: "jane@acme.test",
        customer: "c1@example.org",
        subject: "Printer on fire",
        from_name: "Jane Doe at Acme",
        text: &[
            "Please press <kbd>Ctrl</kbd> & restart \"it\".",
            "-- \nJane Doe <Jane> & Acme\n<b>Tips & \"tricks\"</b>",
        ],
        html: &[
            "Please press &lt;kbd&gt;Ctrl&lt;/kbd&gt; &amp; restart &quot;it&quot;.",
            "Jane Doe &lt;Jane&gt; &amp; Acme",
            "&lt;b&gt;Tips &amp; &quot;tricks&quot;&lt;/b&gt;",
        ],
        html_never: &["<kbd>", "<b>Tips", "<Jane>"],
    },
    Case {
        channel: "sales",
        agent: "jane@acme.test",
        customer: "c2@example.org",
        subject: "Quote please",
        from_name: "Acme",
        text: &["Acme sales, Doe"],
        html: &["Acme sales, Doe"],
        html_never: &["<kbd>"],
    },
    Case {
        channel: "billing",
        agent: "zoe@acme.test",
        customer: "c3@example.org",
        subject: "Rechnung für März – Größe ÄÖÜ",
        from_name: "Zoë from Acme Billing",
        text: &["Thanks for waiting."],
        html: &["Thanks for waiting."],
        html_never: &["<kbd>"],
    },
    Case {
        channel: "support",
        agent: "bob@acme.test",
        customer: "c4@example.org",
        subject: "Quotes \"and\" <brackets>",
        from_name: "Bob \"The Fixer\" <O'Brien> & Co at Acme",
        text: &["-- \nBob \"The Fixer\" <O'Brien> & Co <Bob> & Acme"],
        html: &["Bob &quot;The Fixer&quot; &lt;O&#39;Brien&gt; &amp; Co &lt;Bob&gt; &amp; Acme"],
        html_never: &["<O'Brien>", "<Bob>"],
    },
    Case {
        channel: "support",
        agent: "zoe@acme.test",
        customer: "c5@example.org",
        subject: "Ünïcödé signature",
        from_name: "Zoë Ångström-Ødegård at Acme",
        text: &["-- \nZoë Ångström-Ødegård <Zoë> & Acme"],
        html: &["Zoë Ångström-Ødegård &lt;Zoë&gt; &amp; Acme"],
        html_never: &["<Zoë>"],
    },
];

fn agents(d: &Daemon) {
    add_user(d, "jane@acme.test", "Jane Doe");
    add_user(d, "zoe@acme.test", "Zoë Ångström-Ødegård");
    d.ctl_json(&[
        "users",
        "add",
        "bob@acme.test",
        "--name",
        "Bob \"The Fixer\" <O'Brien> & Co",
        "--first-name",
        "Bob",
        "--last-name",
        "O'Brien",
    ]);
}

/// The customer writes twice (the second answers the first), so the thread has two ids.
fn customer_thread(d: &Daemon, case: &Case, n: usize) -> (i64, String, String) {
    let address = format!("{}@example.com", case.channel);
    let first = format!("c{n}-first@example.org");
    let second = format!("c{n}-second@example.org");
    let from = format!("Customer {n} <{}>", case.customer);
    lmtp(
        d,
        case.customer,
        &address,
        &customer_mail(&from, &address, case.subject, &first, "", "Help!\r\n"),
    );
    lmtp(
        d,
        case.customer,
        &address,
        &customer_mail(
            &from,
            &address,
            &format!("Re: {}", case.subject),
            &second,
            &format!("In-Reply-To: <{first}>\r\nReferences: <{first}>\r\n"),
            "Any news?\r\n",
        ),
    );
    let ticket = ticket_of(d, &first);
    assert_eq!(
        ticket_of(d, &second),
        ticket,
        "the customer's follow-up did not thread"
    );
    (ticket, first, second)
}

fn text_part(m: &Value, ty: &str) -> String {
    let parts: Vec<&Value> = m["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == ty && p["filename"].is_null())
        .collect();
    assert_eq!(parts.len(), 1, "want one {ty} body part: {:#}", m["parts"]);
    parts[0]["text"].as_str().unwrap().replace("\r\n", "\n")
}

/// `[#N-mac]` in `subject`: (N, mac).
fn tag_of(subject: &str) -> (i64, String) {
    let start = subject
        .rfind("[#")
        .unwrap_or_else(|| panic!("no tag in {subject:?}"));
    let inner = subject[start + 2..]
        .strip_suffix(']')
        .unwrap_or_else(|| panic!("tag not at the end of {subject:?}"));
    let (n, mac) = inner.split_once('-').expect("N-mac");
    assert!(
        mac.len() == 10 && mac.chars().all(|c| c.is_ascii_hexdigit()),
        "tag mac {mac:?}"
    );
    (n.parse().expect("ticket number"), mac.to_string())
}

fn check_common(
    d: &Daemon,
    case: &Case,
    ticket: i64,
    ids: (&str, &str),
    got: &Received,
    m: &Value,
    outbox: i64,
) {
    let what = format!("{} as {}", case.channel, case.agent);
    let address = format!("{}@example.com", case.channel);
    assert!(
        m["defects"].as_array().unwrap().is_empty(),
        "{what}: Python's email parser found defects: {:#}",
        m["defects"]
    );
    // From: the channel address with the display name of the channel's mode.
    let from = m["from"].as_array().unwrap();
    assert_eq!(from.len(), 1, "{what}: From is not one address: {from:?}");
    assert_eq!(
        from[0]["address"],
        address.as_str(),
        "{what}: From {from:?}"
    );
    assert_eq!(
        from[0]["name"], case.from_name,
        "{what}: From name {from:?}"
    );
    // Non-ASCII travels as RFC 2047 encoded-words, never raw 8-bit in the header block.
    let head_end = got
        .raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header/body separator");
    assert!(
        got.raw[..head_end].is_ascii(),
        "{what}: raw 8-bit bytes in the header block:\n{}",
        String::from_utf8_lossy(&got.raw[..head_end])
    );
    if !case.from_name.is_ascii() {
        let raw_from = raw_header(m, "From");
        assert!(
            raw_from.to_lowercase().contains("=?utf-8?"),
            "{what}: From not RFC 2047 encoded: {raw_from}"
        );
    }
    // To: the customer.
    let to = m["to"].as_array().unwrap();
    assert_eq!(to[0]["address"], case.customer, "{what}: To {to:?}");
    // Subject: Re: <ticket subject> [#N-mac], one Re:, decoded exactly.
    let subject = header(m, "subject");
    let (n, mac) = tag_of(&subject);
    assert_eq!(n, ticket, "{what}: tag names another ticket: {subject}");
    assert_eq!(
        subject,
        format!("Re: {} [#{ticket}-{mac}]", case.subject),
        "{what}: subject"
    );
    if !case.subject.is_ascii() {
        let raw = raw_header(m, "Subject");
        assert!(
            raw.to_lowercase().contains("=?utf-8?"),
            "{what}: non-ASCII subject not RFC 2047 encoded: {raw}"
        );
    }
    // Reply-To: the channel address with the ticket token (same MAC as the tag).
    let reply_to = m["reply_to"].as_array().unwrap();
    assert_eq!(reply_to.len(), 1, "{what}: Reply-To {reply_to:?}");
    assert_eq!(
        reply_to[0]["address"],
        format!("{}+t{ticket}-{mac}@example.com", case.channel),
        "{what}: Reply-To"
    );
    // Our Message-ID, the one the ticket shows for this reply.
    let mid = m["message_id"].as_str().expect("Message-ID").to_string();
    assert!(mid.ends_with("@example.com"), "{what}: Message-ID {mid}");
    let detail = d.ticket(ticket);
    let stored = message_in(&detail, &mid);
    assert_eq!(stored["direction"], "outbound", "{what}: {stored:#}");
    // Threading: In-Reply-To the customer's last message; References the thread in order.
    assert_eq!(m["in_reply_to"], ids.1, "{what}: In-Reply-To");
    let refs: Vec<&str> = m["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let (a, b) = (
        refs.iter().position(|r| *r == ids.0),
        refs.iter().position(|r| *r == ids.1),
    );
    assert!(
        matches!((a, b), (Some(a), Some(b)) if a < b),
        "{what}: References {refs:?} lack the thread {ids:?} in order"
    );
    assert!(
        !refs.contains(&mid.as_str()),
        "{what}: References names the reply itself"
    );
    // Date, MIME-Version; not marked automatic (a person wrote it).
    header(m, "date");
    header(m, "mime-version");
    assert!(
        m["headers"]["auto-submitted"].is_null(),
        "{what}: an agent's reply carries Auto-Submitted"
    );
    // Text and HTML alternatives, both with body and signature; HTML escaped.
    let text = text_part(m, "text/plain");
    let html = text_part(m, "text/html");
    for t in case.text {
        assert!(text.contains(t), "{what}: text part lacks {t:?}:\n{text}");
    }
    for h in case.html {
        assert!(html.contains(h), "{what}: HTML part lacks {h:?}:\n{html}");
    }
    for bad in case.html_never {
        assert!(
            !html.contains(bad),
            "{what}: HTML part has unescaped {bad:?}:\n{html}"
        );
    }
    // VERP envelope sender naming this outbox entry.
    let prefix = format!("{}+b{outbox}-", case.channel);
    let verp = got.mail_from.to_lowercase();
    let mac = verp
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix("@example.com"))
        .unwrap_or_else(|| {
            panic!("{what}: envelope sender {verp:?}, want {prefix}<mac>@example.com")
        });
    assert!(
        mac.len() == 10 && mac.chars().all(|c| c.is_ascii_hexdigit()),
        "{what}: VERP mac {mac:?}"
    );
}

#[test]
fn reply_headers_from_names_signatures_and_envelope() {
    let rx = Receiver::start();
    let d = daemon(&rx, CHANNELS);
    agents(&d);
    let dir = d.dir.path().to_path_buf();
    let pdf: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    std::fs::write(dir.join("report.pdf"), &pdf).unwrap();
    std::fs::write(dir.join("Übersicht März.txt"), "Zeile 1\nZeile 2\n").unwrap();
    let pdf_path = dir.join("report.pdf").to_str().unwrap().to_string();
    let txt_path = dir.join("Übersicht März.txt").to_str().unwrap().to_string();

    for (i, case) in CASES.iter().enumerate() {
        let n = i + 1;
        let (ticket, first, second) = customer_thread(&d, case, n);
        let extra: Vec<&str> = if n == 1 {
            vec![
                "--attach",
                &pdf_path,
                "--attach",
                &txt_path,
                "--cc",
                "boss@example.org",
            ]
        } else {
            vec![]
        };
        let outbox = reply(&d, ticket, case.agent, BODY, &extra);
        wait_entry(&d, outbox, "sent", |e| e["status"] == "sent");
        let got = rx.wait_for(&format!("<{second}>"), 1, MAIL_DEADLINE);
        assert_eq!(got.len(), 1, "case {n}: more than one copy");
        let got = &got[0];
        let m = &inspect(&[got.path_str()])[0];
        check_common(&d, case, ticket, (&first, &second), got, m, outbox);
        if n == 1 {
            // Attachments, by name (RFC 2231 for the non-ASCII one), bytes intact; the Cc.
            assert_eq!(
                m["structure"],
                "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf,text/plain)",
                "case 1 MIME tree"
            );
            let parts = m["parts"].as_array().unwrap();
            let att = |name: &str| {
                parts
                    .iter()
                    .find(|p| p["filename"] == name)
                    .unwrap_or_else(|| panic!("no attachment {name:?}: {parts:#?}"))
                    .clone()
            };
            let p = att("report.pdf");
            assert_eq!(p["type"], "application/pdf");
            assert_eq!(p["disposition"], "attachment");
            assert_eq!(p["size"], 3000);
            let t = att("Übersicht März.txt");
            assert_eq!(t["type"], "text/plain");
            assert_eq!(t["disposition"], "attachment");
            assert_eq!(
                t["text"].as_str().unwrap().replace("\r\n", "\n"),
                "Zeile 1\nZeile 2\n"
            );
            let cc = m["cc"].as_array().unwrap();
            assert_eq!(cc.len(), 1, "Cc {cc:?}");
            assert_eq!(cc[0]["address"], "boss@example.org");
            let mut rcpts = got.rcpt_tos.clone();
            rcpts.sort();
            assert_eq!(
                rcpts,
                vec!["boss@example.org", "c1@example.org"],
                "envelope recipients"
            );
        } else {
            assert_eq!(
                m["structure"], "multipart/alternative(text/plain,text/html)",
                "case {n} MIME tree"
            );
            assert_eq!(got.rcpt_tos, vec![case.customer.to_string()]);
        }
    }
    // Every reply went out exactly once.
    assert_eq!(rx.messages().len(), CASES.len(), "receiver got extra mail");
}

/// `--quote` puts the customer's last message under the reply, in both parts, escaped.
#[test]
fn quoted_history_in_both_parts() {
    let rx = Receiver::start();
    let d = daemon(&rx, crate::SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    lmtp(
        &d,
        "q@example.org",
        "support@example.com",
        &customer_mail(
            "Quincy <q@example.org>",
            "support@example.com",
            "Broken <thing>",
            "q1@example.org",
            "",
            "It says <error> & stops.\r\nSecond line.\r\n",
        ),
    );
    let ticket = ticket_of(&d, "q1@example.org");
    let id = reply(
        &d,
        ticket,
        "jane@acme.test",
        "Looking into it.\n",
        &["--quote"],
    );
    wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    let got = rx.wait_for("<q1@example.org>", 1, MAIL_DEADLINE);
    let m = &inspect(&[got[0].path_str()])[0];
    let text = text_part(m, "text/plain");
    let html = text_part(m, "text/html");
    assert!(
        text.contains("> It says <error> & stops.\n> Second line."),
        "{text}"
    );
    assert!(
        text.contains("q@example.org"),
        "quote header names no sender:\n{text}"
    );
    assert!(
        html.contains("It says &lt;error&gt; &amp; stops."),
        "{html}"
    );
    assert!(html.contains("<blockquote"), "{html}");
    assert!(!html.contains("<error>"), "{html}");
}

/// The ticket keeps what was sent: `tickets show` counts the reply's attachments.
#[test]
fn reply_attachments_are_recorded_on_the_ticket() {
    let rx = Receiver::start();
    let d = daemon(&rx, crate::SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    lmtp(
        &d,
        "a@example.org",
        "support@example.com",
        &customer_mail(
            "A <a@example.org>",
            "support@example.com",
            "Send me the invoice",
            "a1@example.org",
            "",
            "Please.\r\n",
        ),
    );
    let ticket = ticket_of(&d, "a1@example.org");
    let file = d.dir.path().join("invoice.pdf");
    std::fs::write(&file, b"%PDF-1.4 test").unwrap();
    let id = reply(
        &d,
        ticket,
        "jane@acme.test",
        "Here it is.\n",
        &["--attach", file.to_str().unwrap()],
    );
    wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    let got = rx.wait_for("<a1@example.org>", 1, MAIL_DEADLINE);
    let m = &inspect(&[got[0].path_str()])[0];
    assert!(
        m["parts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["filename"] == "invoice.pdf"),
        "the mail lacks the attachment"
    );
    let detail = d.ticket(ticket);
    let stored = message_in(&detail, m["message_id"].as_str().unwrap());
    assert_eq!(
        stored["attachments"], 1,
        "tickets show does not record the file the agent sent: {stored:#}"
    );
}

/// Lines SMTP treats specially survive the trip: a lone ".", leading dots (dot-stuffing),
/// a 2,000-character line (over SMTP's 998 limit, so it must be encoded), trailing spaces,
/// non-ASCII text.
#[test]
fn dots_long_lines_and_non_ascii_bodies_arrive_intact() {
    let rx = Receiver::start();
    let d = daemon(&rx, crate::SUPPORT);
    add_user(&d, "jane@acme.test", "Jane Doe");
    lmtp(
        &d,
        "dots@example.org",
        "support@example.com",
        &customer_mail(
            "Dots <dots@example.org>",
            "support@example.com",
            "Dots",
            "dots1@example.org",
            "",
            "Hi\r\n",
        ),
    );
    let ticket = ticket_of(&d, "dots1@example.org");
    let long = "x".repeat(2000);
    let body = format!(
        "First line\n.\n..two dots\n.leading dot\n{long}\nGrüße aus Köln – ½ € 日本語\nend\n"
    );
    let id = reply(&d, ticket, "jane@acme.test", &body, &[]);
    wait_entry(&d, id, "sent", |e| e["status"] == "sent");
    let got = rx.wait_for("<dots1@example.org>", 1, MAIL_DEADLINE);
    for line in String::from_utf8_lossy(&got[0].raw).split("\r\n") {
        assert!(
            line.len() <= 998,
            "a line of {} bytes on the wire",
            line.len()
        );
    }
    let m = &inspect(&[got[0].path_str()])[0];
    assert!(
        m["defects"].as_array().unwrap().is_empty(),
        "{:#}",
        m["defects"]
    );
    let text = text_part(m, "text/plain");
    assert!(
        text.starts_with(&body),
        "text part changed:\n{text:?}\nwant prefix\n{body:?}"
    );
    let html = text_part(m, "text/html");
    assert!(
        html.contains(&long) && html.contains("Grüße aus Köln – ½ € 日本語"),
        "{html}"
    );
}
