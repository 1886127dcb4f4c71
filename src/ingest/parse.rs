//! Raw RFC 5322 bytes to a plain [`ParsedMail`] value (pure; mail-parser does the MIME work).

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};

/// A mailbox: display name and lower-cased address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name, if the header had one.
    pub name: Option<String>,
    /// Address in lower case (`local@domain`).
    pub email: String,
}

/// One attachment or inline part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name from Content-Disposition or Content-Type, if any.
    pub filename: Option<String>,
    /// `type/subtype`, lower case.
    pub content_type: String,
    /// Content-ID without angle brackets, for `cid:` references from HTML.
    pub content_id: Option<String>,
    /// True when the part is marked inline (an image shown in the body).
    pub inline: bool,
    /// Decoded size in bytes. The bytes themselves stay in the raw message, which is
    /// stored once; [`attachment_data`] decodes one on demand.
    pub size: usize,
}

/// The headers of a message embedded as `message/rfc822` (a forward or a bounced original).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmbeddedMessage {
    /// Its From.
    pub from: Option<Mailbox>,
    /// Its Subject.
    pub subject: Option<String>,
    /// Its Message-ID.
    pub message_id: Option<String>,
    /// Its own embedded messages (forward chains).
    pub embedded: Vec<EmbeddedMessage>,
}

/// Everything the ingest decisions need from one message, as owned plain values.
#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    /// In-Reply-To ids without angle brackets.
    pub in_reply_to: Vec<String>,
    /// References ids without angle brackets, oldest first.
    pub references: Vec<String>,
    /// First From mailbox.
    pub from: Option<Mailbox>,
    /// Sender mailbox.
    pub sender: Option<Mailbox>,
    /// Reply-To mailboxes.
    pub reply_to: Vec<Mailbox>,
    /// To mailboxes.
    pub to: Vec<Mailbox>,
    /// Cc mailboxes.
    pub cc: Vec<Mailbox>,
    /// Decoded subject ("" when absent).
    pub subject: String,
    /// Date header as Unix seconds.
    pub date: Option<i64>,
    /// Every header as (name, unfolded decoded-as-text value), in order.
    pub headers: Vec<(String, String)>,
    /// The raw header block as text (lossy UTF-8), for display and audit.
    pub header_block: String,
    /// Top-level content type, lower case (`multipart/report`).
    pub content_type: String,
    /// `report-type` parameter of a multipart/report.
    pub report_type: Option<String>,
    /// True when any part is `message/delivery-status` or `message/feedback-report`
    /// or `message/disposition-notification`.
    pub has_report_part: bool,
    /// Plain-text body (HTML converted to text when the message has no text part).
    pub text_body: String,
    /// HTML body, if the message has one (not yet sanitized).
    pub html_body: Option<String>,
    /// Attachments and inline parts.
    pub attachments: Vec<Attachment>,
    /// Messages attached as message/rfc822 (or returned as text/rfc822-headers), first level.
    pub embedded: Vec<EmbeddedMessage>,
    /// The text of a message/delivery-status (or MDN) part, for bounce diagnostics.
    pub delivery_status: Option<String>,
}

impl ParsedMail {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why bytes could not be taken as a mail message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("the message is empty")]
    Empty,
    /// No header lines at all: not an RFC 5322 message.
    #[error("the message has no header fields")]
    NoHeaders,
}

/// The decoded bytes of attachment `position` (its index in [`ParsedMail::attachments`])
/// of a stored raw message.
pub fn attachment_data(raw: &[u8], position: usize) -> Option<Vec<u8>> {
    let raw = strip_mbox_from_line(raw);
    let message = std::panic::catch_unwind(|| MessageParser::default().parse(raw)).ok()??;
    let part = message
        .attachments()
        .filter(|p| !matches!(p.body, PartType::Message(_)))
        .nth(position)?;
    // A text file is handed back in its own bytes: the parser's text is converted from
    // its charset (and a file that is not text in that charset would come out mangled).
    if matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
        let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
        let decoded = match part.encoding {
            mail_parser::Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
            mail_parser::Encoding::QuotedPrintable => {
                mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
            }
            mail_parser::Encoding::None => Some(body.to_vec()),
        };
        if let Some(bytes) = decoded {
            return Some(bytes);
        }
    }
    Some(part.contents().to_vec())
}

/// Skip a leading mbox `From ` separator line, which some pipes and archives keep.
pub fn strip_mbox_from_line(raw: &[u8]) -> &[u8] {
    if raw.starts_with(b"From ") {
        match raw.iter().position(|&b| b == b'\n') {
            Some(end) => &raw[end + 1..],
            None => &[],
        }
    } else {
        raw
    }
}

/// Parse raw message bytes. Lenient like a mail client: only input that has no
/// header at all is refused.
pub fn parse(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    let raw = strip_mbox_from_line(raw);
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    // A parser bug must not lose a customer's mail: keep it as plain text instead.
    match std::panic::catch_unwind(|| parse_mime(raw)) {
        Ok(result) => result,
        Err(_) => {
            log::error!("mail parser failed on a message; storing it as plain text");
            Ok(plain_fallback(raw))
        }
    }
}

/// The message as unparsed text: headers up to the first blank line, the rest as body.
fn plain_fallback(raw: &[u8]) -> ParsedMail {
    let text = String::from_utf8_lossy(raw);
    let split = text
        .find("\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| text.find("\n\n").map(|i| (i, i + 2)))
        .unwrap_or((text.len(), text.len()));
    ParsedMail {
        subject: "(unparseable message)".to_string(),
        header_block: text[..split.0].to_string(),
        content_type: "text/plain".to_string(),
        text_body: text[split.1..].to_string(),
        ..Default::default()
    }
}

fn parse_mime(raw: &[u8]) -> Result<ParsedMail, ParseError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::NoHeaders)?;
    if message.headers().is_empty() {
        return Err(ParseError::NoHeaders);
    }
    let root = message.root_part();
    let header_end = (root.raw_body_offset() as usize).min(raw.len());
    let header_block = String::from_utf8_lossy(&raw[..header_end])
        .trim_end()
        .to_string();

    let headers = message
        .headers_raw()
        .map(|(name, value)| (name.to_string(), unfold(value)))
        .collect();

    let content_type = message
        .content_type()
        .map(|ct| content_type_string(ct.ctype(), ct.subtype()))
        .unwrap_or_else(|| "text/plain".to_string());
    let report_type = message
        .content_type()
        .and_then(|ct| ct.attribute("report-type"))
        .map(|s| s.to_ascii_lowercase());

    let mut has_report_part = false;
    let mut delivery_status = None;
    let mut attachments = Vec::new();
    let mut embedded = Vec::new();
    for part in message.parts.iter() {
        let ct = part
            .content_type()
            .map(|ct| content_type_string(ct.ctype(), ct.subtype()));
        if matches!(
            ct.as_deref(),
            Some("message/delivery-status")
                | Some("message/global-delivery-status")
                | Some("message/feedback-report")
                | Some("message/disposition-notification")
        ) {
            has_report_part = true;
            if ct.as_deref() != Some("message/feedback-report") && delivery_status.is_none() {
                delivery_status = Some(String::from_utf8_lossy(part.contents()).into_owned());
            }
        }
    }
    for part in message.attachments() {
        if let PartType::Message(inner) = &part.body {
            embedded.push(embedded_of(inner));
            continue;
        }
        // A DSN often returns only the original's headers.
        if part.is_content_type("text", "rfc822-headers")
            || part.is_content_type("message", "rfc822-headers")
        {
            if let Some(headers) = MessageParser::new().parse_headers(part.contents()) {
                embedded.push(embedded_of(&headers));
            }
        }
        let content_type = part
            .content_type()
            .map(|ct| content_type_string(ct.ctype(), ct.subtype()))
            .unwrap_or_else(|| "application/octet-stream".to_string());
        attachments.push(Attachment {
            filename: part.attachment_name().map(str::to_string),
            content_type,
            content_id: part
                .content_id()
                .map(|id| id.trim_matches(['<', '>']).to_string()),
            inline: part
                .content_disposition()
                .map(|d| d.ctype().eq_ignore_ascii_case("inline"))
                .unwrap_or(false),
            size: part.contents().len(),
        });
    }

    let text_body = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let html_body = if message.html_body_count() > 0
        && message
            .html_part(0)
            .map(|p| p.is_text_html())
            .unwrap_or(false)
    {
        message.body_html(0).map(|h| h.into_owned())
    } else {
        None
    };

    Ok(ParsedMail {
        message_id: message.message_id().and_then(clean_id),
        in_reply_to: id_list(message.in_reply_to()),
        references: id_list(message.references()),
        from: message.from().and_then(first_mailbox),
        sender: message.sender().and_then(first_mailbox),
        reply_to: message.reply_to().map(mailboxes).unwrap_or_default(),
        to: message.to().map(mailboxes).unwrap_or_default(),
        cc: message.cc().map(mailboxes).unwrap_or_default(),
        subject: message
            .subject()
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        date: message
            .date()
            .filter(|d| d.is_valid())
            .map(|d| d.to_timestamp()),
        headers,
        header_block,
        content_type,
        report_type,
        has_report_part,
        text_body,
        html_body,
        attachments,
        embedded,
        delivery_status,
    })
}

fn embedded_of(inner: &mail_parser::Message<'_>) -> EmbeddedMessage {
    EmbeddedMessage {
        from: inner.from().and_then(first_mailbox),
        subject: inner.subject().map(|s| s.trim().to_string()),
        message_id: inner.message_id().and_then(clean_id),
        embedded: inner
            .attachments()
            .filter_map(|p| match &p.body {
                PartType::Message(m) => Some(embedded_of(m)),
                _ => None,
            })
            .collect(),
    }
}

fn content_type_string(ctype: &str, subtype: Option<&str>) -> String {
    match subtype {
        Some(sub) => format!("{}/{}", ctype, sub).to_ascii_lowercase(),
        None => ctype.to_ascii_lowercase(),
    }
}

fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Trim angle brackets and whitespace from a Message-ID; `None` when nothing is left.
pub fn clean_id(id: &str) -> Option<String> {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_string())
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => clean_id(t).into_iter().collect(),
        HeaderValue::TextList(list) => list.iter().filter_map(|t| clean_id(t)).collect(),
        _ => Vec::new(),
    }
}

fn to_mailbox(addr: &mail_parser::Addr<'_>) -> Option<Mailbox> {
    let email = addr
        .address()?
        .trim()
        .trim_matches(['<', '>'])
        .to_lowercase();
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return None;
    }
    Some(Mailbox {
        name: addr
            .name()
            .map(|n| n.trim().trim_matches('"').trim().to_string())
            .filter(|n| !n.is_empty()),
        email,
    })
}

fn first_mailbox(address: &Address<'_>) -> Option<Mailbox> {
    address.iter().find_map(to_mailbox)
}

fn mailboxes(address: &Address<'_>) -> Vec<Mailbox> {
    address.iter().filter_map(to_mailbox).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_keeps_the_text() {
        let m = plain_fallback(b"Subject: x\r\nFrom: a@b.c\r\n\r\nbody text\r\n");
        assert_eq!(m.header_block, "Subject: x\r\nFrom: a@b.c");
        assert_eq!(m.text_body, "body text\r\n");
    }

    #[test]
    fn attachments_are_decoded_on_demand_from_the_raw_bytes() {
        let raw = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nbody\r\n--X\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--X\r\nContent-Type: text/plain; name=b.txt\r\nContent-Disposition: attachment; filename=b.txt\r\n\r\nsecond\r\n--X--\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(m.attachments[0].size, 3);
        assert_eq!(attachment_data(raw, 0).unwrap(), vec![0, 1, 2]);
        assert_eq!(attachment_data(raw, 1).unwrap(), b"second");
        assert_eq!(attachment_data(raw, 2), None);
    }

    #[test]
    fn text_files_download_in_their_own_bytes() {
        // Latin-1 in quoted-printable, and bytes that are not UTF-8 labelled as text.
        let raw = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nbody\r\n--X\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Disposition: attachment; filename=m.csv\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nM=FCller;Stra=DFe\r\n--X\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=log.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n/wD+\r\n--X--\r\n";
        assert_eq!(attachment_data(raw, 0).unwrap(), b"M\xfcller;Stra\xdfe");
        assert_eq!(attachment_data(raw, 1).unwrap(), vec![0xff, 0x00, 0xfe]);
    }

    #[test]
    fn empty_input_is_refused() {
        assert_eq!(parse(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(parse(b"  \r\n").unwrap_err(), ParseError::Empty);
    }

    #[test]
    fn mbox_from_line_is_skipped() {
        let m = parse(
            b"From a@b Mon Jan  1 00:00:00 2024\nFrom: A <A@Example.com>\nSubject: hi\n\nbody\n",
        )
        .unwrap();
        assert_eq!(m.from.unwrap().email, "a@example.com");
        assert_eq!(m.subject, "hi");
    }

    #[test]
    fn ids_lose_brackets() {
        let m = parse(b"Message-ID: <x@y>\nIn-Reply-To: <a@b>\nReferences: <r1@b> <r2@b>\n\nhi\n")
            .unwrap();
        assert_eq!(m.message_id.as_deref(), Some("x@y"));
        assert_eq!(m.in_reply_to, vec!["a@b"]);
        assert_eq!(m.references, vec!["r1@b", "r2@b"]);
    }

    #[test]
    fn encoded_words_and_charsets_decode() {
        let raw = b"From: =?iso-8859-1?q?J=F6rg?= <j@example.de>\nSubject: =?utf-8?b?w6TDtsO8?=\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.from.unwrap().name.as_deref(), Some("Jörg"));
        assert_eq!(m.subject, "äöü");
        assert!(m.text_body.contains("Grüße"));
    }
}
