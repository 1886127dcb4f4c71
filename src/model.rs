//! Ids and small enums shared by every layer.

use serde::{Deserialize, Serialize};

/// A ticket's number, as agents see it.
pub type TicketId = i64;
/// A stored message's row id.
pub type MessageRowId = i64;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From a customer (or anyone outside) to the team.
    Inbound,
    /// From the team to a customer.
    Outbound,
    /// An internal note, never mailed.
    Note,
}

impl Direction {
    /// The stored and printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Note => "note",
        }
    }
}

/// Where a message entered frontdesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Delivered by an MTA over LMTP.
    Lmtp,
    /// Piped in by `frontdeskctl inject`.
    Pipe,
    /// Historical import by `frontdeskctl import`.
    Import,
    /// Pulled from a mailbox over IMAP.
    Imap,
}

impl Source {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Lmtp => "lmtp",
            Source::Pipe => "pipe",
            Source::Import => "import",
            Source::Imap => "imap",
        }
    }
}

/// Why a message was filed into the ticket it is in (shown by `tickets show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThreadReason {
    /// A verified reply-address token (`support+<token>@…`).
    ReplyToken,
    /// A subject tag `[#<ticket>-<mac>]` whose MAC verified.
    VerifiedTag,
    /// In-Reply-To or References named a Message-ID we know.
    Headers,
    /// A plain `[#<ticket>]` tag from a sender already on the ticket.
    SubjectTag,
    /// A bounce or auto-reply for one of our outgoing messages.
    Bounce,
    /// Nothing matched: a new ticket.
    New,
}

impl ThreadReason {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadReason::ReplyToken => "reply-token",
            ThreadReason::VerifiedTag => "verified-tag",
            ThreadReason::Headers => "headers",
            ThreadReason::SubjectTag => "subject-tag",
            ThreadReason::Bounce => "bounce",
            ThreadReason::New => "new",
        }
    }
}

/// Percent-encoding for a URL query or form value: every byte but the unreserved
/// characters (RFC 3986) becomes `%XX`, so the result is safe in either.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Unix seconds now; the only clock read, kept at the edges.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Format Unix seconds as an RFC 2822 date, the way mail clients show them in quotes.
pub fn rfc2822(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Format Unix seconds as RFC 3339 UTC (`2026-11-26T07:06:38Z`).
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// Where an IMAP message came from: its idempotency key and the sync cursor it advances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImapOrigin {
    /// `user@host:port`.
    pub account: String,
    /// Folder name.
    pub folder: String,
    /// The folder's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The message's UID.
    pub uid: u32,
}

impl ImapOrigin {
    /// The IMAP idempotency key (Invariant 2): account, folder, UIDVALIDITY, UID.
    pub fn key(&self) -> String {
        format!(
            "imap:{}:{}:{}:{}",
            self.account, self.folder, self.uidvalidity, self.uid
        )
    }
}

/// A field submitted with a message (web forms): kept with the message; a `hidden`
/// one is for rules and integrations and never shown to agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    /// Field name as the form labels it.
    pub name: String,
    /// What was submitted.
    pub value: String,
    /// Marked hidden by the channel.
    #[serde(default)]
    pub hidden: bool,
}

/// A field an agent may see: (name, value).
pub type VisibleField = (String, String);

/// The fields of a message an agent may see, from their stored JSON: hidden ones and
/// anything unreadable are left out (never shown is the safe failure).
pub fn visible_fields(stored: Option<&str>) -> Vec<VisibleField> {
    let Some(json) = stored else {
        return Vec::new();
    };
    serde_json::from_str::<Vec<FormField>>(json)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| !f.hidden)
        .map(|f| (f.name, f.value))
        .collect()
}

/// True for a `type/subtype` a MIME header can carry as is.
pub fn plausible_mime_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    matches!(t.split_once('/'), Some((a, b)) if token(a) && token(b))
}

#[cfg(test)]
mod field_tests {
    use super::{plausible_mime_type, visible_fields};

    #[test]
    fn hidden_and_unreadable_fields_are_never_visible() {
        assert!(visible_fields(None).is_empty());
        assert!(visible_fields(Some("not json")).is_empty());
        assert!(visible_fields(Some("{\"name\":\"x\"}")).is_empty());
        let stored = r#"[{"name":"Order","value":"A-17"},
                         {"name":"utm_source","value":"ads","hidden":true},
                         {"name":"Phone","value":"+49 30 1234","hidden":false}]"#;
        assert_eq!(
            visible_fields(Some(stored)),
            vec![
                ("Order".to_string(), "A-17".to_string()),
                ("Phone".to_string(), "+49 30 1234".to_string())
            ]
        );
    }

    #[test]
    fn mime_types_are_checked_before_they_go_into_a_header() {
        for ok in [
            "image/png",
            "application/vnd.ms-excel",
            "text/plain",
            "application/x-7z-compressed",
        ] {
            assert!(plausible_mime_type(ok), "{ok}");
        }
        for bad in [
            "",
            "png",
            "text/",
            "/plain",
            "text/plain; charset=x",
            "text/plain\r\nX: y",
            "a b/c",
        ] {
            assert!(!plausible_mime_type(bad), "{bad:?}");
        }
    }
}
