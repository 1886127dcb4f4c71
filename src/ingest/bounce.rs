//! What a bounce reports on, and why it failed (pure).

use super::parse::ParsedMail;

/// Message-IDs of the original message(s) a DSN returns.
pub fn reported_message_ids(mail: &ParsedMail) -> Vec<String> {
    let mut ids: Vec<String> = mail
        .embedded
        .iter()
        .filter_map(|e| e.message_id.clone())
        .collect();
    // Some bounces quote the original's headers in the body text instead.
    for line in mail.text_body.lines().take(400) {
        let trimmed = line.trim_start_matches(['>', ' ']);
        if let Some(rest) = strip_ci(trimmed, "Message-ID:") {
            if let Some(id) = super::parse::clean_id(rest) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

fn strip_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get` keeps a multi-byte character at the cut from panicking.
    match (s.get(..prefix.len()), s.get(prefix.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(prefix) => Some(rest),
        _ => None,
    }
}

/// The server's words for the failure: the DSN's Diagnostic-Code (with its recipient),
/// else its Status, else the first lines of the text.
pub fn diagnostic(mail: &ParsedMail) -> String {
    if let Some(status) = &mail.delivery_status {
        let field = |name: &str| {
            unfolded(status)
                .into_iter()
                .find_map(|l| strip_ci(&l, name).map(|v| v.trim().to_string()))
        };
        let recipient =
            field("Final-Recipient:").map(|r| r.trim_start_matches("rfc822;").trim().to_string());
        let detail = field("Diagnostic-Code:")
            .map(|d| {
                d.split_once(';')
                    .map(|(_, t)| t.trim().to_string())
                    .unwrap_or(d)
            })
            .or_else(|| field("Status:").map(|s| format!("status {s}")));
        if let Some(detail) = detail {
            return match recipient {
                Some(r) => format!("{r}: {detail}"),
                None => detail,
            };
        }
    }
    let text: Vec<&str> = mail
        .text_body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(6)
        .collect();
    let mut out = text.join(" ");
    if out.len() > 400 {
        let mut cut = 400;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('…');
    }
    if out.is_empty() {
        mail.subject.clone()
    } else {
        out
    }
}

/// Header-style lines with continuation lines joined.
fn unfolded(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
                continue;
            }
        }
        out.push(line.trim_end().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse::parse;

    const DSN: &[u8] = b"From: MAILER-DAEMON@mx.example.org\r\nTo: support+b3-abc@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; nobody@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>:\r\n    Recipient address rejected: User unknown\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: Acme <support@acme.test>\r\nMessage-ID: <out1@acme.test>\r\nSubject: Re: hi\r\n--B--\r\n";

    #[test]
    fn dsn_names_the_original_and_the_reason() {
        let m = parse(DSN).unwrap();
        assert_eq!(reported_message_ids(&m), vec!["out1@acme.test"]);
        assert_eq!(
            diagnostic(&m),
            "nobody@example.org: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"
        );
    }

    #[test]
    fn multibyte_text_does_not_panic() {
        assert_eq!(strip_ci("連絡しようとした", "Message-ID:"), None);
        assert_eq!(strip_ci("message-id: x", "Message-ID:"), Some(" x"));
    }

    #[test]
    fn plain_bounces_fall_back_to_text() {
        let m = parse(b"From: postmaster@x.org\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program.\r\n\r\n<a@b.org>:\r\nSorry, no mailbox here by that name.\r\n\r\n--- Below this line is a copy of the message.\r\n\r\nMessage-ID: <out9@acme.test>\r\n").unwrap();
        assert_eq!(reported_message_ids(&m), vec!["out9@acme.test"]);
        assert!(diagnostic(&m)
            .starts_with("Hi. This is the qmail-send program. <a@b.org>: Sorry, no mailbox"));
    }
}
