//! Outgoing mail: templates and composition (pure), the durable outbox and its SMTP
//! worker, the ways mail is queued (an agent's reply, an acknowledgement, a survey) and
//! the notifier that mails agents about their tickets.

pub mod compose;
pub mod copies;
pub mod notice;
pub mod notifier;
pub mod reminder;
pub mod send;
pub mod survey;
pub mod template;
pub mod worker;

use compose::{
    compose_ack, compose_reply, AckInput, Agent, OutgoingAttachment, Quoted, ReplyInput, Writing,
};

use crate::ingest::{PreparedMessage, UNKNOWN_SENDER};
use crate::model::{unix_now, TicketId};
use crate::pipeline::Pipeline;
use crate::store::{IngestOutcome, OutboxKind, QueuedMail, StoreError};

/// Why a reply was not queued.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// No such ticket, agent or channel; the words say which.
    #[error("{0}")]
    NotFound(String),
    /// The request is unusable (empty body).
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A reply as an agent asks for it.
#[derive(Debug, Clone)]
pub struct ReplyRequest {
    /// Ticket.
    pub ticket: TicketId,
    /// The agent's login address.
    pub agent_email: String,
    /// Body text.
    pub body: String,
    /// Copies: what the agent typed, each entry one or more addresses (see
    /// [`copies::copies`]); checked before anything is queued.
    pub cc: Vec<String>,
    /// Quote the last customer message.
    pub quote: bool,
    /// Close the ticket with the reply, both or neither ("Send and close").
    pub close: bool,
    /// Files.
    pub attachments: Vec<OutgoingAttachment>,
    /// Forward instead of replying: the ticket's latest incoming mail (or
    /// `forward_message`), with its files, goes to these addresses (typed as a To line,
    /// checked like Cc) under "Fwd:", with `body` on top. The ticket's status and people
    /// stay as they are.
    pub forward: Option<String>,
    /// Which of the ticket's mails a forward sends (a message row; not a note).
    pub forward_message: Option<i64>,
    /// What the reply form's Cc box held when it opened (one line): whoever of these
    /// the agent took out is not offered again until they write.
    pub offered: Option<String>,
    /// Send it then (unix seconds; see [`scheduled_at`]) instead of now (or after the
    /// undo window).
    pub send_at: Option<i64>,
}

/// A ticket an agent opens by writing to a customer first, as they ask for it.
#[derive(Debug, Clone)]
pub struct OpeningRequest {
    /// The agent's login address; they own the ticket.
    pub agent_email: String,
    /// The channel it is on and leaves from.
    pub channel: String,
    /// The customer, as typed (`Name <address>` or the address).
    pub to: String,
    /// Copies, as typed (see [`copies::copies`]).
    pub cc: Vec<String>,
    /// Subject, as typed.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// Files.
    pub attachments: Vec<OutgoingAttachment>,
}

/// How an internal note's `files` are stored (`None` without files): their names,
/// types and sizes, and the note's original holding them.
pub fn note_files(
    author: &str,
    text: &str,
    files: &[OutgoingAttachment],
) -> Result<Option<crate::store::NoteFiles>, ReplyError> {
    if files.is_empty() {
        return Ok(None);
    }
    let raw = compose::note_original(author, text, files, unix_now())
        .map_err(|e| ReplyError::Invalid(format!("cannot keep the files: {e}")))?;
    Ok(Some(crate::store::NoteFiles {
        files: files
            .iter()
            .map(|f| (f.filename.clone(), f.content_type.clone(), f.data.len()))
            .collect(),
        raw,
    }))
}

/// Longest an agent may schedule a reply ahead: 30 days.
pub const MAX_SCHEDULE_SECONDS: i64 = 30 * 86_400;

/// The unix second an RFC 3339 `moment` names, for a reply sent later: after `now`
/// and at most [`MAX_SCHEDULE_SECONDS`] ahead.
pub fn scheduled_at(now: i64, moment: &str) -> Result<i64, ReplyError> {
    let at = time::OffsetDateTime::parse(
        moment.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| ReplyError::Invalid(format!("{moment:?} is not a time (RFC 3339)")))?
    .unix_timestamp();
    if at <= now {
        return Err(ReplyError::Invalid(
            "that time has passed: pick a later one, or send it now".into(),
        ));
    }
    if at - now > MAX_SCHEDULE_SECONDS {
        return Err(ReplyError::Invalid(
            "a reply can be scheduled at most 30 days ahead".into(),
        ));
    }
    Ok(at)
}

/// The outbox entry for a composed message on a channel, with the channel's (or the
/// default relay's) queue lifetime.
fn queued_mail(
    config: &crate::config::Config,
    channel: &crate::config::Channel,
    ticket_id: TicketId,
    kind: OutboxKind,
    composed: compose::Composed,
) -> QueuedMail {
    let max_queue = channel
        .smtp
        .as_ref()
        .or(config.smtp.as_ref())
        .map(|s| s.max_queue.as_secs() as i64)
        .unwrap_or(5 * 86_400);
    QueuedMail {
        ticket_id,
        channel: channel.name.clone(),
        channel_address: channel.address.clone(),
        kind,
        agent_email: None,
        from_name: composed.from_name,
        subject: composed.subject,
        text: composed.shown,
        raw: composed.raw,
        message_id: composed.message_id,
        recipients: composed.recipients,
        max_queue_seconds: max_queue,
        per_hour_limit: None,
        pipelines: None,
        attachments: Vec::new(),
        copies: Vec::new(),
        close: false,
        hold_seconds: 0,
        status_when_sent: false,
        draft: None,
        source_row: None,
        left_out: Vec::new(),
        take_unowned: kind == OutboxKind::Reply && channel.assign_on_reply,
    }
}

/// A fresh Message-ID (without brackets) in the channel's domain.
pub fn new_message_id(address: &str, now: i64) -> String {
    let domain = address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("frontdesk.invalid");
    let random: [u8; 9] = rand::random();
    format!("{now}.{}@{domain}", hex::encode(random))
}

/// The files of message `row`, read back out of its original, for a forward.
async fn original_files(
    store: &crate::store::Store,
    row: i64,
) -> Result<Vec<OutgoingAttachment>, ReplyError> {
    let (files, raw) = store.read_long(move |r| r.message_files(row)).await?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let decoded = tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .map(|f| {
                let data = crate::ingest::parse::attachment_data(&raw, f.position as usize);
                (f, data)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|_| ReplyError::Store(StoreError::Closed))?;
    decoded
        .into_iter()
        .map(|(f, data)| {
            let name = f.filename.unwrap_or_else(|| "attachment".into());
            let data = data.ok_or_else(|| {
                ReplyError::Invalid(format!("the file {name:?} could not be read from the mail"))
            })?;
            // The stored type came from a stranger's mail: it goes into a header only
            // when it is a plain type/subtype.
            let plain = crate::model::plausible_mime_type(&f.content_type);
            Ok(OutgoingAttachment {
                filename: name,
                content_type: if plain {
                    f.content_type
                } else {
                    "application/octet-stream".into()
                },
                data,
            })
        })
        .collect()
}

/// Check a snippet an agent (or the sysadmin) wrote against the configuration's and
/// store it: added when `id` is `None`, else rewritten; its id. Refusals are
/// [`StoreError::Invalid`], in words.
pub async fn save_snippet(
    pipeline: &Pipeline,
    id: Option<i64>,
    (name, text): (&str, &str),
    actor: String,
) -> Result<i64, StoreError> {
    let config = pipeline.config();
    let configured: Vec<&str> = config.snippets.iter().map(|s| s.name.as_str()).collect();
    let (name, body) =
        compose::snippet_input(name, text, &configured).map_err(StoreError::Invalid)?;
    pipeline.store().save_snippet(id, name, body, actor).await
}

/// The active agent with this login address, or why not.
async fn active_agent(
    store: &crate::store::Store,
    email: &str,
) -> Result<crate::store::UserView, ReplyError> {
    let email = email.trim().to_lowercase();
    let e = email.clone();
    store
        .read(move |r| r.user(&e))
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| {
            ReplyError::NotFound(format!(
                "no active agent {email} (add one with `frontdeskctl users add`)"
            ))
        })
}

/// Compose an agent's reply (or forward, see [`ReplyRequest::forward`]) and queue it;
/// returns the outbox id.
pub async fn queue_reply(pipeline: &Pipeline, request: ReplyRequest) -> Result<i64, ReplyError> {
    let forward = request.forward.is_some();
    if request.body.trim().is_empty() && request.attachments.is_empty() && !forward {
        return Err(ReplyError::Invalid("the reply is empty".into()));
    }
    if forward && (request.close || request.cc.iter().any(|c| !c.trim().is_empty())) {
        return Err(ReplyError::Invalid(
            "a forward has no Cc and does not close the ticket".into(),
        ));
    }
    if request.forward_message.is_some() && !forward {
        return Err(ReplyError::Invalid(
            "only a forward names the mail it sends".into(),
        ));
    }
    let store = pipeline.store();
    let agent = active_agent(store, &request.agent_email).await?;
    let ticket = request.ticket;
    let chosen = request.forward_message;
    let context = store
        .read(move |r| r.reply_context(ticket, chosen))
        .await?
        .ok_or_else(|| ReplyError::NotFound(format!("no ticket #{ticket}")))?;
    let config = pipeline.config();
    let channel = config.channel(&context.channel).ok_or_else(|| {
        ReplyError::NotFound(format!(
            "ticket #{ticket}'s channel {:?} is no longer configured",
            context.channel
        ))
    })?;
    let own = config.own_addresses();
    let (to, cc) = match &request.forward {
        Some(typed) => {
            let to = copies::copies([typed.as_str()], &context.contact.email, &own)
                .map_err(|e| ReplyError::Invalid(format!("To: {e}")))?;
            if to.is_empty() {
                return Err(ReplyError::Invalid(
                    "say who to forward it to (someone other than the customer)".into(),
                ));
            }
            match (context.source.is_none(), chosen) {
                (false, _) => {}
                (true, Some(row)) => {
                    return Err(ReplyError::Invalid(format!(
                        "message {row} is not a mail on ticket #{ticket}"
                    )))
                }
                (true, None) => {
                    return Err(ReplyError::Invalid(format!(
                        "ticket #{ticket} has no incoming mail to forward"
                    )))
                }
            }
            (to, Vec::new())
        }
        None => {
            if context.contact.email == UNKNOWN_SENDER {
                return Err(ReplyError::Invalid(format!(
                    "ticket #{ticket} has no known sender address to reply to"
                )));
            }
            let cc = copies::copies(
                request.cc.iter().map(String::as_str),
                &context.contact.email,
                &own,
            )
            .map_err(|e| ReplyError::Invalid(format!("Cc: {e}")))?;
            (vec![context.contact.email.clone()], cc)
        }
    };
    let left_out = match (&request.offered, forward) {
        (Some(offered), false) => copies::left_out(offered, &cc, &context.contact.email, &own),
        _ => Vec::new(),
    };
    let identity = channel.identity(&config.daemon.company_name);
    let now = unix_now();
    let message_id = new_message_id(&channel.address, now);
    let quoted = match (&context.source, request.quote || forward) {
        (Some((_, from, date, text)), true) => Some(Quoted {
            from: from.clone(),
            date: date.clone(),
            text: text.clone(),
        }),
        _ => None,
    };
    let mut attachments = request.attachments;
    if let (true, Some(row)) = (forward, context.source_row) {
        attachments.extend(original_files(store, row).await?);
    }
    let agent = Agent::from(&agent);
    let in_reply_to = context.source.as_ref().and_then(|(id, ..)| id.clone());
    let composed = compose_reply(&ReplyInput {
        ticket: context.ticket_id,
        ticket_subject: &context.subject,
        to: &to,
        cc: &cc,
        agent: &agent,
        identity: &identity,
        secret: store.secret(),
        body: &request.body,
        quote: quoted.as_ref(),
        writing: Writing::from_ticket(forward, context.has_mail),
        thread_ids: &context.thread_ids,
        in_reply_to: in_reply_to
            .as_deref()
            .or(context.thread_ids.last().map(String::as_str)),
        attachments: &attachments,
        message_id: &message_id,
        now,
    })
    .map_err(|e| ReplyError::Invalid(format!("cannot build the message: {e}")))?;
    let kind = if forward {
        OutboxKind::Forward
    } else {
        OutboxKind::Reply
    };
    let mut mail = queued_mail(&config, channel, context.ticket_id, kind, composed);
    mail.agent_email = Some(agent.email.clone());
    mail.copies = cc;
    mail.left_out = left_out;
    mail.close = request.close;
    mail.draft = Some(request.body.clone());
    if forward {
        mail.source_row = context.source_row;
    }
    // An agent's own words wait out the undo window (or until the time they were
    // scheduled for); acknowledgements do not.
    let undo = channel
        .smtp
        .as_ref()
        .or(config.smtp.as_ref())
        .map_or(0, |s| s.undo.as_secs() as i64);
    mail.status_when_sent = request.send_at.is_some();
    mail.hold_seconds = match request.send_at {
        Some(at) => (at - now).max(undo),
        None => undo,
    };
    mail.pipelines = Some(config.pipelines.clone());
    mail.attachments = attachments
        .iter()
        .map(|a| (a.filename.clone(), a.content_type.clone(), a.data.len()))
        .collect();
    let id = store
        .queue_mail(mail)
        .await?
        .ok_or_else(|| ReplyError::Invalid("reply was not queued".into()))?;
    pipeline.kick_outbox();
    Ok(id)
}

/// Open a ticket with the agent's first mail to a customer, and queue that mail (after
/// the undo window, like a reply); the ticket's number. Checked before anything is
/// stored; the ticket, the contact and the mail are stored together or not at all.
pub async fn open_ticket(
    pipeline: &Pipeline,
    request: OpeningRequest,
) -> Result<TicketId, ReplyError> {
    let config = pipeline.config();
    let channel = config.channel(&request.channel).ok_or_else(|| {
        ReplyError::NotFound(format!(
            "no channel {:?} in the configuration",
            request.channel
        ))
    })?;
    let own = config.own_addresses();
    let customer = copies::addressee(&request.to, &own)
        .map_err(|e| ReplyError::Invalid(format!("To: {e}")))?;
    let subject = compose::first_subject_input(&request.subject).map_err(ReplyError::Invalid)?;
    if request.body.trim().is_empty() && request.attachments.is_empty() {
        return Err(ReplyError::Invalid("the mail is empty".into()));
    }
    let cc = copies::copies(request.cc.iter().map(String::as_str), &customer.email, &own)
        .map_err(|e| ReplyError::Invalid(format!("Cc: {e}")))?;
    let store = pipeline.store();
    let agent = active_agent(store, &request.agent_email).await?;
    let agent = Agent::from(&agent);
    let defaults = &channel.ticket;
    let new = crate::store::NewTicket {
        channel: channel.name.clone(),
        customer: customer.clone(),
        subject: subject.clone(),
        pipeline: defaults.pipeline.clone(),
        status: defaults.status.clone(),
        closed: config
            .pipelines
            .iter()
            .find(|p| p.name == defaults.pipeline)
            .is_some_and(|p| p.is_closed(&defaults.status)),
        priority: defaults.priority.as_str().to_string(),
        tags: defaults.tags.clone(),
        agent: agent.email.clone(),
    };
    let undo = channel
        .smtp
        .as_ref()
        .or(config.smtp.as_ref())
        .map_or(0, |s| s.undo.as_secs() as i64);
    let bytes = request.body.len()
        + request
            .attachments
            .iter()
            .map(|a| a.data.len())
            .sum::<usize>();
    let secret = store.secret().to_vec();
    let channel_name = channel.name.clone();
    let build = move |ticket: TicketId| -> Result<QueuedMail, StoreError> {
        let channel = config
            .channel(&channel_name)
            .ok_or_else(|| StoreError::Invalid(format!("no channel {channel_name:?}")))?;
        let identity = channel.identity(&config.daemon.company_name);
        let now = unix_now();
        let message_id = new_message_id(&channel.address, now);
        let to = vec![customer.email.clone()];
        let composed = compose_reply(&ReplyInput {
            ticket,
            ticket_subject: &subject,
            to: &to,
            cc: &cc,
            agent: &agent,
            identity: &identity,
            secret: &secret,
            body: &request.body,
            quote: None,
            writing: Writing::First,
            thread_ids: &[],
            in_reply_to: None,
            attachments: &request.attachments,
            message_id: &message_id,
            now,
        })
        .map_err(|e| StoreError::Invalid(format!("cannot build the message: {e}")))?;
        let mut mail = queued_mail(&config, channel, ticket, OutboxKind::Reply, composed);
        mail.agent_email = Some(agent.email.clone());
        mail.copies = cc;
        mail.draft = Some(request.body.clone());
        mail.hold_seconds = undo;
        mail.pipelines = Some(config.pipelines.clone());
        mail.attachments = request
            .attachments
            .iter()
            .map(|a| (a.filename.clone(), a.content_type.clone(), a.data.len()))
            .collect();
        Ok(mail)
    };
    let (ticket, _) = store
        .open_ticket(new, bytes, build)
        .await
        .map_err(|e| match e {
            StoreError::Invalid(words) => ReplyError::Invalid(words),
            e => ReplyError::Store(e),
        })?;
    pipeline.kick_outbox();
    Ok(ticket)
}

/// Queue the channel's acknowledgement for a message that just opened a ticket, when
/// Invariant 3 allows: a human's first message, not history, not automatic or bulk,
/// not from our own addresses; at most the channel's limit per contact per hour.
pub async fn maybe_acknowledge(
    pipeline: &Pipeline,
    message: &PreparedMessage,
    outcome: &IngestOutcome,
) {
    if !outcome.new_ticket || outcome.duplicate || message.historical || !message.desk.acknowledge {
        return;
    }
    if message.classification.suppresses_auto_reply() || message.contact.email == UNKNOWN_SENDER {
        return;
    }
    let config = pipeline.config();
    let Some(channel) = config.channel(&message.channel) else {
        return;
    };
    let Some(ack) = &channel.acknowledgement else {
        return;
    };
    let own = config.own_addresses();
    if own.contains(&crate::config::strip_subaddress(&message.contact.email)) {
        log::warn!(
            "not acknowledging {}: it is one of our own channel addresses (loop guard)",
            message.contact.email
        );
        return;
    }
    let identity = channel.identity(&config.daemon.company_name);
    let now = unix_now();
    let message_id = new_message_id(&channel.address, now);
    let store = pipeline.store();
    let subject = if message.mail.subject.is_empty() {
        "(no subject)"
    } else {
        message.mail.subject.as_str()
    };
    let composed = match compose_ack(&AckInput {
        ticket: outcome.ticket_id,
        ticket_subject: subject,
        contact_email: &message.contact.email,
        contact_name: message.contact.name.as_deref(),
        identity: &identity,
        subject: &ack.subject,
        body: &ack.body,
        secret: store.secret(),
        in_reply_to: message.mail.message_id.as_deref(),
        message_id: &message_id,
        now,
    }) {
        Ok(c) => c,
        Err(e) => {
            log::error!(
                "cannot build the acknowledgement for ticket #{}: {e}",
                outcome.ticket_id
            );
            return;
        }
    };
    let mut mail = queued_mail(
        &config,
        channel,
        outcome.ticket_id,
        OutboxKind::Acknowledgement,
        composed,
    );
    mail.per_hour_limit = Some(ack.max_per_hour);
    let queued = store.queue_mail(mail).await;
    match queued {
        Ok(Some(_)) => pipeline.kick_outbox(),
        Ok(None) => log::info!(
            "acknowledgement to {} suppressed: hourly limit reached",
            message.contact.email
        ),
        Err(e) => log::error!(
            "cannot queue the acknowledgement for ticket #{}: {e}",
            outcome.ticket_id
        ),
    }
}

impl From<&crate::store::UserView> for Agent {
    /// The agent as templates and From names see them.
    fn from(u: &crate::store::UserView) -> Self {
        Agent {
            email: u.email.clone(),
            full_name: u.full_name.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            signature: u.signature.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000; // 2025-11-24T16:00:00Z

    #[test]
    fn a_reply_is_scheduled_in_the_future_within_30_days() {
        assert_eq!(
            scheduled_at(NOW, "2025-11-25T09:00:00+01:00").ok(),
            Some(NOW + 16 * 3600)
        );
        assert_eq!(
            scheduled_at(NOW, " 2025-11-24T16:00:01Z ").ok(),
            Some(NOW + 1)
        );
        assert_eq!(
            scheduled_at(NOW, "2025-12-24T16:00:00Z").ok(),
            Some(NOW + MAX_SCHEDULE_SECONDS)
        );
    }

    #[test]
    fn a_past_far_or_unreadable_time_is_refused_in_words() {
        for (moment, says) in [
            ("2025-11-24T16:00:00Z", "has passed"),
            ("2025-11-24T15:00:00Z", "has passed"),
            ("2025-12-24T16:00:01Z", "at most 30 days"),
            ("tomorrow at nine", "is not a time"),
            ("2025-11-25T09:00", "is not a time"),
        ] {
            let e = scheduled_at(NOW, moment).unwrap_err().to_string();
            assert!(e.contains(says), "{moment}: {e}");
        }
    }
}
