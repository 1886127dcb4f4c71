//! Replies with files, posted as multipart/form-data over plain HTTP: what a browser
//! sends is attached; a form without its CSRF token, a broken multipart body or one
//! over the size limit is refused with a clear answer and queues nothing.

use crate::harness::Daemon;
use crate::{
    add_agent, daemon, deliver, http, http_sign_in, show, text_mail, ticket_id, Agent, PASSWORD,
};

const BOUNDARY: &str = "----frontdeskTestBoundary7MA4YWxk";

/// A multipart body: text fields, then files (name, content type, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (file_name, content_type, data) in files {
        out.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn post_multipart(
    agent: &Agent,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> crate::wire::Response {
    http(
        &agent.addr,
        "POST",
        path,
        &[("Cookie", &agent.cookie), ("Content-Type", content_type)],
        body,
    )
}

fn outbox_len(d: &Daemon) -> usize {
    d.ctl_json(&["outbox", "list"])["outbox"]
        .as_array()
        .map(|a| a.len())
        .unwrap_or(0)
}

#[test]
fn multipart_replies_attach_files_and_bad_uploads_change_nothing() {
    let d = daemon(None);
    add_agent(&d, "jane@acme.test", "Jane Doe");
    deliver(
        &d,
        "carla@customer.example",
        "support@example.com",
        &text_mail(
            "Carla <carla@customer.example>",
            "Invoice copy",
            "inv1@customer.example",
            "Could you send the invoice?",
        ),
    );
    let id = ticket_id(&d, "Invoice copy");
    let jane = http_sign_in(&d, "jane@acme.test", PASSWORD);
    let path = format!("/tickets/{id}/reply");
    let typed = format!("multipart/form-data; boundary={BOUNDARY}");
    let pdf: Vec<u8> = (0..5000u32).map(|i| (i % 256) as u8).collect();

    let before = (outbox_len(&d), show(&d, id).to_string());
    let refused = [
        (
            "no CSRF token",
            post_multipart(
                &jane,
                &path,
                &typed,
                &multipart(&[("body", "forged")], &[("a.pdf", "application/pdf", &pdf)]),
            ),
            403,
        ),
        (
            "wrong CSRF token",
            post_multipart(
                &jane,
                &path,
                &typed,
                &multipart(&[("csrf", "0000"), ("body", "forged")], &[]),
            ),
            403,
        ),
        (
            "no boundary",
            post_multipart(
                &jane,
                &path,
                "multipart/form-data",
                &multipart(&[("csrf", &jane.csrf), ("body", "x")], &[]),
            ),
            400,
        ),
        (
            "cut off before the closing boundary",
            post_multipart(&jane, &path, &typed, {
                let mut b = multipart(
                    &[("csrf", &jane.csrf), ("body", "cut")],
                    &[("a.pdf", "application/pdf", &pdf)],
                );
                b.truncate(b.len() - 40);
                &b.clone()
            }),
            400,
        ),
        (
            "over the 25 MiB limit",
            post_multipart(
                &jane,
                &path,
                &typed,
                &multipart(
                    &[("csrf", &jane.csrf), ("body", "huge")],
                    &[(
                        "big.bin",
                        "application/octet-stream",
                        &vec![b'x'; 26 * 1024 * 1024],
                    )],
                ),
            ),
            413,
        ),
    ];
    for (what, r, status) in &refused {
        assert_eq!(r.status, *status, "{what}: {} {}", r.status, r.text());
        assert!(
            !r.text().trim().is_empty(),
            "{what}: the answer says nothing"
        );
    }
    assert_eq!(
        before,
        (outbox_len(&d), show(&d, id).to_string()),
        "a refused upload changed something"
    );

    // A good one: two files, one with a path for a name; an empty file input is ignored.
    let body = multipart(
        &[("csrf", &jane.csrf), ("body", "Here is the invoice.")],
        &[
            ("invoice 2026-03.pdf", "application/pdf", &pdf),
            (
                "C:\\Users\\jane\\..\\notes.txt",
                "text/plain",
                b"see page 2",
            ),
            ("", "application/octet-stream", b""),
        ],
    );
    let r = post_multipart(&jane, &path, &typed, &body);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(outbox_len(&d), before.0 + 1, "one reply queued");
    let t = show(&d, id);
    let outbound = crate::outbound_messages(&t);
    assert_eq!(outbound.len(), 1, "{t:#}");
    assert!(
        outbound[0]["text"]
            .as_str()
            .unwrap_or("")
            .contains("Here is the invoice."),
        "{t:#}"
    );
    assert_eq!(outbound[0]["attachments"], 2, "{t:#}");
    // The files as recorded on the ticket: plain names, their types and sizes.
    let page = jane.get(&format!("/tickets/{id}"));
    let html = page.text();
    assert!(
        html.contains("invoice 2026-03.pdf") && html.contains("5000 bytes"),
        "{html}"
    );
    assert!(
        html.contains("notes.txt") && !html.contains("C:\\Users"),
        "{html}"
    );
}
