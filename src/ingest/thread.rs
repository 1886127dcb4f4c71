//! Threading: which ticket a message belongs to (pure).
//!
//! DESIGN.md's order: a verified reply-address token or subject tag; then any
//! Message-ID in In-Reply-To/References (or the message's own id, which a stored
//! message may have referenced before it arrived); then a plain `[#N]` subject tag
//! from a sender already on the ticket; else a new ticket. When the header ids
//! connect several tickets, they are merged into the oldest, so the same messages in
//! any order end in the same tickets.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::{ThreadReason, TicketId};

/// Hex digits of MAC kept in tokens and tags: 40 bits, enough against guessing a ticket.
const MAC_LEN: usize = 10;

/// The MAC that proves a ticket number came from us.
pub fn ticket_mac(secret: &[u8], ticket: TicketId) -> String {
    // An HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"frontdesk-ticket:");
    mac.update(ticket.to_string().as_bytes());
    let digest = mac.finalize().into_bytes();
    hex::encode(&digest[..MAC_LEN / 2])
}

/// The MAC that proves an outbox id in a bounce address came from us.
fn bounce_mac(secret: &[u8], outbox_id: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"frontdesk-bounce:");
    mac.update(outbox_id.to_string().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..MAC_LEN / 2])
}

/// The envelope sender of an outgoing message (VERP): `local+b<id>-<mac>@domain`, so a
/// bounce names the exact outbox entry it reports on.
pub fn bounce_address(channel_address: &str, secret: &[u8], outbox_id: i64) -> String {
    match channel_address.split_once('@') {
        Some((local, domain)) => format!(
            "{local}+b{outbox_id}-{}@{domain}",
            bounce_mac(secret, outbox_id)
        ),
        None => channel_address.to_string(),
    }
}

/// The outbox id named by a verified bounce address among `recipients`.
pub fn bounce_from_recipients<'a>(
    recipients: impl IntoIterator<Item = &'a str>,
    secret: &[u8],
) -> Option<i64> {
    recipients.into_iter().find_map(|r| {
        let local = r.trim().trim_matches(['<', '>']).split('@').next()?;
        let (_, tag) = local.split_once('+')?;
        let (id, mac) = tag.strip_prefix('b')?.split_once('-')?;
        let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
        mac.eq_ignore_ascii_case(&bounce_mac(secret, id))
            .then_some(id)
    })
}

/// `<ticket>-<mac>`, the token in reply addresses and subject tags.
pub fn ticket_token(secret: &[u8], ticket: TicketId) -> String {
    format!("{ticket}-{}", ticket_mac(secret, ticket))
}

/// The reply address for a ticket: `local+t<token>@domain`.
pub fn reply_address(channel_address: &str, secret: &[u8], ticket: TicketId) -> String {
    match channel_address.split_once('@') {
        Some((local, domain)) => format!("{local}+t{}@{domain}", ticket_token(secret, ticket)),
        None => channel_address.to_string(),
    }
}

/// The verified subject tag `[#<ticket>-<mac>]`.
pub fn subject_tag(secret: &[u8], ticket: TicketId) -> String {
    format!("[#{}]", ticket_token(secret, ticket))
}

fn verify_token(secret: &[u8], token: &str) -> Option<TicketId> {
    let (number, mac) = token.split_once('-')?;
    let ticket: TicketId = number.parse().ok().filter(|n| *n > 0)?;
    let expected = ticket_mac(secret, ticket);
    // Constant-time enough: both are short hex strings of our own making.
    (mac.len() == expected.len() && mac.eq_ignore_ascii_case(&expected)).then_some(ticket)
}

/// A ticket named by a recipient's `+t<token>` sub-address that verifies.
pub fn token_from_recipients<'a>(
    recipients: impl IntoIterator<Item = &'a str>,
    secret: &[u8],
) -> Option<TicketId> {
    recipients.into_iter().find_map(|r| {
        let local = r.trim().trim_matches(['<', '>']).split('@').next()?;
        let (_, tag) = local.split_once('+')?;
        verify_token(
            secret,
            tag.strip_prefix('t').or_else(|| tag.strip_prefix('T'))?,
        )
    })
}

/// Subject tags found: the first verified `[#N-mac]` and the first plain `[#N]`.
pub fn tags_from_subject(subject: &str, secret: &[u8]) -> (Option<TicketId>, Option<TicketId>) {
    let mut verified = None;
    let mut plain = None;
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find(']') else { break };
        let inner = rest[..end].trim();
        if inner.contains('-') {
            if verified.is_none() {
                verified = verify_token(secret, inner);
            }
        } else if plain.is_none() {
            plain = inner.parse::<TicketId>().ok().filter(|n| *n > 0);
        }
        rest = &rest[end..];
    }
    (verified, plain)
}

/// What the store found for a message's keys; the input of [`decide`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    /// A ticket named by a verified token or tag, if that ticket exists, and which of the two.
    pub token: Option<(TicketId, ThreadReason)>,
    /// Live tickets holding any of the message's ids (own, In-Reply-To, References).
    pub header_tickets: Vec<TicketId>,
    /// A plain `[#N]` tag's ticket, only when the sender is already on it.
    pub plain_tag_with_known_sender: Option<TicketId>,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Into an existing ticket; `merge` lists tickets the message joins into it.
    Existing {
        /// The ticket.
        ticket: TicketId,
        /// Why.
        reason: ThreadReason,
        /// Other tickets connected by this message's ids, to merge into `ticket`.
        merge: Vec<TicketId>,
    },
    /// A new ticket.
    New,
}

/// Decide a message's ticket from the evidence, in DESIGN.md's order.
pub fn decide(evidence: &Evidence) -> Decision {
    if let Some((ticket, reason)) = evidence.token {
        return Decision::Existing {
            ticket,
            reason,
            merge: Vec::new(),
        };
    }
    let mut tickets = evidence.header_tickets.clone();
    tickets.sort_unstable();
    tickets.dedup();
    if let Some((&oldest, others)) = tickets.split_first() {
        return Decision::Existing {
            ticket: oldest,
            reason: ThreadReason::Headers,
            merge: others.to_vec(),
        };
    }
    if let Some(ticket) = evidence.plain_tag_with_known_sender {
        return Decision::Existing {
            ticket,
            reason: ThreadReason::SubjectTag,
            merge: Vec::new(),
        };
    }
    Decision::New
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test secret";

    #[test]
    fn token_round_trip() {
        let addr = reply_address("support@example.com", SECRET, 42);
        assert!(addr.starts_with("support+t42-"));
        assert_eq!(token_from_recipients([addr.as_str()], SECRET), Some(42));
    }

    #[test]
    fn bounce_addresses_verify() {
        let a = bounce_address("support@example.com", SECRET, 17);
        assert!(a.starts_with("support+b17-"));
        assert_eq!(bounce_from_recipients([a.as_str()], SECRET), Some(17));
        assert_eq!(
            bounce_from_recipients(["support+b17-0000000000@example.com"], SECRET),
            None
        );
        // A reply token is not a bounce token and the other way round.
        let t = reply_address("support@example.com", SECRET, 17);
        assert_eq!(bounce_from_recipients([t.as_str()], SECRET), None);
        assert_eq!(token_from_recipients([a.as_str()], SECRET), None);
    }

    #[test]
    fn forged_token_is_ignored() {
        assert_eq!(
            token_from_recipients(["support+t42-0000000000@example.com"], SECRET),
            None
        );
        let other = reply_address("support@example.com", b"other secret", 42);
        assert_eq!(token_from_recipients([other.as_str()], SECRET), None);
        assert_eq!(
            token_from_recipients(["support+sales@example.com"], SECRET),
            None
        );
        assert_eq!(token_from_recipients(["support@example.com"], SECRET), None);
    }

    #[test]
    fn subject_tags() {
        let tag = subject_tag(SECRET, 7);
        assert_eq!(
            tags_from_subject(&format!("Re: help {tag}"), SECRET),
            (Some(7), None)
        );
        assert_eq!(
            tags_from_subject("Re: [#12] printer", SECRET),
            (None, Some(12))
        );
        assert_eq!(
            tags_from_subject("[#7-deadbeef00] [#3]", SECRET),
            (None, Some(3))
        );
        assert_eq!(tags_from_subject("[#] [#x] [#0] [#", SECRET), (None, None));
    }

    #[test]
    fn token_beats_headers() {
        let e = Evidence {
            token: Some((5, ThreadReason::ReplyToken)),
            header_tickets: vec![3],
            plain_tag_with_known_sender: Some(9),
        };
        assert_eq!(
            decide(&e),
            Decision::Existing {
                ticket: 5,
                reason: ThreadReason::ReplyToken,
                merge: vec![]
            }
        );
    }

    #[test]
    fn headers_merge_into_oldest() {
        let e = Evidence {
            header_tickets: vec![9, 4, 9, 6],
            ..Default::default()
        };
        assert_eq!(
            decide(&e),
            Decision::Existing {
                ticket: 4,
                reason: ThreadReason::Headers,
                merge: vec![6, 9]
            }
        );
    }

    #[test]
    fn plain_tag_only_for_known_sender() {
        let e = Evidence {
            plain_tag_with_known_sender: Some(2),
            ..Default::default()
        };
        assert_eq!(
            decide(&e),
            Decision::Existing {
                ticket: 2,
                reason: ThreadReason::SubjectTag,
                merge: vec![]
            }
        );
        assert_eq!(decide(&Evidence::default()), Decision::New);
    }
}
