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
