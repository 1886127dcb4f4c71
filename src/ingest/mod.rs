//! Pure ingest decisions over one message: parse, classify, forward detection, threading.
//!
//! Every ingress (LMTP, pipe, import, later IMAP and forms) builds an [`Inbound`] and
//! calls [`prepare`]; the result goes to the store's writer, which looks up the
//! threading evidence inside its transaction and applies [`thread::decide`].

pub mod bounce;
pub mod classify;
pub mod forward;
pub mod parse;
pub mod thread;

use sha2::{Digest, Sha256};

use crate::config::Channel;
use crate::model::{ImapOrigin, Source, TicketId};
use classify::Classification;
use forward::ForwardStyle;
use parse::{Mailbox, ParseError, ParsedMail};

/// One message as it arrived, before any decision.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The channel it arrived on.
    pub channel: String,
    /// The message bytes exactly as received.
    pub raw: Vec<u8>,
    /// SMTP envelope sender when known (`Some("")` is the null sender `<>`).
    pub envelope_from: Option<String>,
    /// Envelope recipients when known (LMTP RCPT TO).
    pub recipients: Vec<String>,
    /// Which ingress.
    pub source: Source,
    /// Historical import: never triggers automatic mail or notifications.
    pub historical: bool,
    /// Set for mail pulled over IMAP.
    pub imap: Option<ImapOrigin>,
}

/// What an ingest needs besides the message: the channel's rules and our secrets.
#[derive(Debug, Clone, Copy)]
pub struct IngestContext<'a> {
    /// The channel's settings.
    pub channel: &'a Channel,
    /// Every pipeline.
    pub pipelines: &'a std::sync::Arc<Vec<crate::desk::lifecycle::Pipeline>>,
    /// Every channel address and alias, lower case.
    pub own_addresses: &'a [String],
    /// Server secret for reply tokens and subject tags.
    pub secret: &'a [u8],
    /// The rules for new tickets (`[[rule]]`).
    pub rules: &'a [crate::desk::rules::Rule],
}

/// Keys the store resolves to tickets inside its write transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadKeys {
    /// A ticket named by a verified reply-address token.
    pub reply_token: Option<TicketId>,
    /// A ticket named by a verified subject tag.
    pub verified_tag: Option<TicketId>,
    /// A ticket named by a plain `[#N]` tag.
    pub plain_tag: Option<TicketId>,
    /// The message's own Message-ID, In-Reply-To and References ids, deduplicated.
    pub ids: Vec<String>,
    /// An outbox entry named by a verified bounce (VERP) recipient address.
    pub bounce_outbox: Option<i64>,
    /// For bounces: Message-IDs of the originals it reports on.
    pub reported_ids: Vec<String>,
    /// For bounces: the failure in the server's words.
    pub diagnostic: Option<String>,
}

/// A message with every pure decision made, ready for one write transaction.
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    /// Channel name.
    pub channel: String,
    /// Which ingress.
    pub source: Source,
    /// Historical import.
    pub historical: bool,
    /// Idempotency key: `mid:<Message-ID>` or `sha256:<hash of the bytes>`.
    pub idempotency_key: String,
    /// Bytes as received.
    pub raw: Vec<u8>,
    /// Parsed fields.
    pub mail: ParsedMail,
    /// The contact the message is filed under (the original sender of a forward).
    pub contact: Mailbox,
    /// The team member who forwarded it, when the original-sender rule applied.
    pub forwarded_by: Option<(Mailbox, ForwardStyle)>,
    /// Other people on To/Cc (not our addresses, not the contact).
    pub participants: Vec<Mailbox>,
    /// Automatic / bulk / own-address classification.
    pub classification: Classification,
    /// Threading keys.
    pub keys: ThreadKeys,
    /// Set for mail pulled over IMAP: a second idempotency key and the cursor to advance.
    pub imap: Option<ImapOrigin>,
    /// What a new ticket from this channel starts as, and who gets it.
    pub desk: DeskRules,
}

/// The channel's ticket rules, carried to the writer, which applies them inside the
/// transaction that sees every other ticket.
#[derive(Debug, Clone)]
pub struct DeskRules {
    /// Pipeline, stage, priority, tags of a new ticket.
    pub defaults: crate::config::TicketDefaults,
    /// Routing of a new ticket.
    pub routing: crate::desk::routing::RoutingRule,
    /// Every pipeline, for lifecycle moves of existing tickets.
    pub pipelines: std::sync::Arc<Vec<crate::desk::lifecycle::Pipeline>>,
    /// The team a rule gives a new ticket to.
    pub team: Option<String>,
    /// What each rule that matched did, for a new ticket's history.
    pub applied: Vec<String>,
    /// Whether the channel's acknowledgement may go to the customer: not when a rule
    /// says so, nor when the rules file the ticket closed.
    pub acknowledge: bool,
    /// What the rules for every mail give the ticket when this is the customer's later
    /// mail on it (priority and tags).
    pub later: crate::desk::rules::Outcome,
    /// Ticket fields a rule gives a new ticket.
    pub fields: Vec<(String, String)>,
}

impl DeskRules {
    /// The channel's rules for a new ticket, changed by what the `[[rule]]`s that
    /// `mail` matches give it (see `desk::rules`).
    pub fn for_mail(
        channel: &Channel,
        pipelines: &std::sync::Arc<Vec<crate::desk::lifecycle::Pipeline>>,
        rules: &[crate::desk::rules::Rule],
        mail: &crate::desk::rules::Mail<'_>,
    ) -> DeskRules {
        use crate::desk::routing::{RoutingMode, RoutingRule};
        use crate::desk::rules::Assign;
        let (outcome, later) = crate::desk::rules::apply_both(rules, mail);
        let mut defaults = channel.ticket.clone();
        if let Some(p) = outcome.priority {
            defaults.priority = p;
        }
        for tag in outcome.tags {
            if !defaults.tags.contains(&tag) {
                defaults.tags.push(tag);
            }
        }
        // A stage of the channel's pipeline, spelled as that pipeline does (the config
        // checked it is one).
        let stage = outcome.status.as_deref().and_then(|wanted| {
            pipelines
                .iter()
                .find(|p| p.name == defaults.pipeline)
                .and_then(|p| p.stage(wanted))
        });
        let filed_closed = stage.is_some_and(|s| s.closed);
        if let Some(stage) = stage {
            defaults.status = stage.name.clone();
        }
        let (routing, team) = match outcome.assign {
            // The agent named, whether or not they are available: the rule says so.
            Some(Assign::Agent(agent)) => (
                RoutingRule {
                    mode: RoutingMode::UsersAndTeams,
                    users: vec![agent],
                    teams: Vec::new(),
                    available_only: false,
                },
                None,
            ),
            Some(Assign::Team(team)) => (
                RoutingRule {
                    mode: RoutingMode::UsersAndTeams,
                    users: Vec::new(),
                    teams: vec![team.clone()],
                    available_only: channel.routing.available_only,
                },
                Some(team),
            ),
            // Filed closed by a rule that names nobody: it is nobody's work.
            None if filed_closed => (RoutingRule::default(), None),
            None => (channel.routing.clone(), None),
        };
        DeskRules {
            defaults,
            routing,
            pipelines: pipelines.clone(),
            team,
            applied: outcome.applied,
            acknowledge: !outcome.no_acknowledgement && !filed_closed,
            later,
            fields: outcome.fields,
        }
    }
}

/// Why a message cannot be ingested at all (the sender gets a permanent error).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IngestError {
    /// Not a mail message.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// The contact for mail with no usable From or envelope sender.
pub const UNKNOWN_SENDER: &str = "unknown-sender@invalid";

/// The idempotency key of raw mail bytes (Invariant 2).
pub fn idempotency_key(mail: &ParsedMail, raw: &[u8]) -> String {
    match &mail.message_id {
        Some(id) => format!("mid:{id}"),
        None => format!(
            "sha256:{}",
            hex::encode(Sha256::digest(parse::strip_mbox_from_line(raw)))
        ),
    }
}

/// Make every pure decision about one message.
pub fn prepare(inbound: Inbound, ctx: IngestContext<'_>) -> Result<PreparedMessage, IngestError> {
    let mail = parse::parse(&inbound.raw)?;
    let classification =
        classify::classify(&mail, inbound.envelope_from.as_deref(), ctx.own_addresses);
    let sender = mail
        .from
        .clone()
        .or_else(|| mail.sender.clone())
        .or_else(|| {
            inbound
                .envelope_from
                .as_deref()
                .map(|a| a.trim().to_lowercase())
                .filter(|a| crate::config::is_valid_address(a))
                .map(|email| Mailbox { name: None, email })
        })
        .unwrap_or_else(|| Mailbox {
            name: Some("Unknown sender".to_string()),
            email: UNKNOWN_SENDER.to_string(),
        });

    let forward = if ctx.channel.forward_original_sender && !classification.is_automatic() {
        forward::detect_forward(&mail).filter(|f| f.original.email != sender.email)
    } else {
        None
    };
    let (contact, forwarded_by) = match forward {
        Some(f) => (f.original, Some((sender, f.style))),
        None => (sender, None),
    };

    let mut participants = copied_people(&mail, ctx.own_addresses, &contact.email);
    if let Some((forwarder, _)) = &forwarded_by {
        participants.retain(|p| p.email != forwarder.email);
    }

    let recipients = inbound.recipients.iter().map(String::as_str).chain(
        mail.to
            .iter()
            .chain(mail.cc.iter())
            .map(|m| m.email.as_str()),
    );
    let recipients: Vec<&str> = recipients.collect();
    let reply_token = thread::token_from_recipients(recipients.iter().copied(), ctx.secret);
    let bounce_outbox = thread::bounce_from_recipients(recipients.iter().copied(), ctx.secret);
    let is_bounce = classification.auto == Some(classify::AutoKind::Bounce);
    let (reported_ids, diagnostic) = if is_bounce {
        (
            bounce::reported_message_ids(&mail),
            Some(bounce::diagnostic(&mail)),
        )
    } else {
        (Vec::new(), None)
    };
    let (verified_tag, plain_tag) = thread::tags_from_subject(&mail.subject, ctx.secret);
    let mut ids: Vec<String> = Vec::new();
    for id in mail
        .message_id
        .iter()
        .chain(mail.in_reply_to.iter())
        .chain(mail.references.iter())
    {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }

    let to = written_to(&mail);
    let desk = DeskRules::for_mail(
        ctx.channel,
        ctx.pipelines,
        ctx.rules,
        &crate::desk::rules::Mail {
            channel: &ctx.channel.name,
            from: &contact.email,
            to: &to,
            subject: &mail.subject,
            text: &mail.text_body,
        },
    );
    Ok(PreparedMessage {
        channel: inbound.channel,
        source: inbound.source,
        historical: inbound.historical,
        idempotency_key: idempotency_key(&mail, &inbound.raw),
        raw: inbound.raw,
        contact,
        forwarded_by,
        participants,
        classification,
        keys: ThreadKeys {
            reply_token,
            verified_tag,
            plain_tag,
            ids,
            bounce_outbox,
            reported_ids,
            diagnostic,
        },
        imap: inbound.imap,
        desk,
        mail,
    })
}

/// The addresses a mail is written to (To, then Cc), lower-case and without
/// sub-addresses, as the rules' `to` compares them.
pub fn written_to(mail: &parse::ParsedMail) -> Vec<String> {
    mail.to
        .iter()
        .chain(mail.cc.iter())
        .map(|m| crate::config::strip_subaddress(&m.email.to_lowercase()))
        .collect()
}

/// The people a mail copies (To, then Cc), each once: neither one of our own addresses
/// (sub-addresses included) nor `sender`.
pub fn copied_people(mail: &parse::ParsedMail, own: &[String], sender: &str) -> Vec<Mailbox> {
    let mut people: Vec<Mailbox> = Vec::new();
    for m in mail.to.iter().chain(mail.cc.iter()) {
        let own = own.contains(&crate::config::strip_subaddress(&m.email));
        if !own && m.email != sender && !people.iter().any(|p| p.email == m.email) {
            people.push(m.clone());
        }
    }
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_people_leave_out_our_addresses_the_sender_and_repeats() {
        let mail = parse::parse(
            b"From: Olga <olga@c.example>\r\n\
              To: support+t1@example.com, Pat <pat@c.example>\r\n\
              Cc: olga@c.example, pat@c.example, Lee <lee@d.example>, SALES@example.com\r\n\
              Subject: x\r\n\r\nbody\r\n",
        )
        .expect("a mail");
        let own = [
            "support@example.com".to_string(),
            "sales@example.com".into(),
        ];
        let people: Vec<(String, Option<String>)> = copied_people(&mail, &own, "olga@c.example")
            .into_iter()
            .map(|m| (m.email, m.name))
            .collect();
        assert_eq!(
            people,
            [
                ("pat@c.example".to_string(), Some("Pat".to_string())),
                ("lee@d.example".to_string(), Some("Lee".to_string()))
            ]
        );
    }
}
