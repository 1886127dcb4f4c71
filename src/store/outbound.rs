//! Writes for agents, notes and the outbox.

use rusqlite::{params, Connection, OptionalExtension};

use super::writer::{add_participant, event, exec, live_ticket, upsert_contact};
use super::StoreError;
use crate::desk::lifecycle::Pipeline;
use crate::desk::mentions::{mentioned, Mentionable};
use crate::desk::notify::Reason;
use crate::ingest::thread::bounce_address;
use crate::model::{unix_now, Direction, TicketId};

/// A ticket an agent opens by writing to a customer first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// The channel it is on (and its first mail leaves from).
    pub channel: String,
    /// The customer written to.
    pub customer: crate::ingest::parse::Mailbox,
    /// Subject, as checked.
    pub subject: String,
    /// The channel's pipeline for new tickets.
    pub pipeline: String,
    /// Its starting stage (the first mail then moves it like any reply).
    pub status: String,
    /// Whether that stage is a closed one.
    pub closed: bool,
    /// The channel's priority for new tickets.
    pub priority: String,
    /// The channel's tags for new tickets.
    pub tags: Vec<String>,
    /// The agent writing; they own it.
    pub agent: String,
}

/// A new agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Login address.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Administrator.
    pub admin: bool,
    /// Has a paid seat (may be assigned tickets).
    pub seat: bool,
}

/// What kind of mail an outbox entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxKind {
    /// An agent's reply.
    Reply,
    /// An instant acknowledgement.
    Acknowledgement,
    /// A ticket's mail forwarded by an agent to someone outside the desk.
    Forward,
    /// The survey after closing, asking the customer how the desk did.
    Survey,
    /// A reminder that a ticket left waiting on the customer is about to close.
    Reminder,
}

impl OutboxKind {
    fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Reply => "reply",
            OutboxKind::Acknowledgement => "acknowledgement",
            OutboxKind::Forward => "forward",
            OutboxKind::Survey => "survey",
            OutboxKind::Reminder => "reminder",
        }
    }
}

/// A composed message to store and queue.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    /// Ticket.
    pub ticket_id: TicketId,
    /// Channel it leaves from.
    pub channel: String,
    /// The channel address (From, and the base of the bounce address).
    pub channel_address: String,
    /// Reply or acknowledgement.
    pub kind: OutboxKind,
    /// The agent, for replies.
    pub agent_email: Option<String>,
    /// From display name.
    pub from_name: String,
    /// Subject.
    pub subject: String,
    /// Text shown in the thread.
    pub text: String,
    /// RFC 5322 bytes.
    pub raw: Vec<u8>,
    /// Message-ID without brackets.
    pub message_id: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// Give up after this many seconds of temporary failures.
    pub max_queue_seconds: i64,
    /// For acknowledgements: most per recipient per hour.
    pub per_hour_limit: Option<u32>,
    /// For replies: the pipelines, to move the ticket to its agent-reply stage.
    pub pipelines: Option<std::sync::Arc<Vec<crate::desk::lifecycle::Pipeline>>>,
    /// Files attached, in the order they appear in `raw`: (file name, type, size).
    pub attachments: Vec<(String, String, usize)>,
    /// Addresses copied (Cc): they join the ticket's people, so the next reply keeps them.
    pub copies: Vec<String>,
    /// For replies: close the ticket in the same transaction ("Send and close").
    pub close: bool,
    /// Seconds it waits before its first attempt (the agent's chance to cancel it).
    pub hold_seconds: i64,
    /// For replies: move the ticket's status when the mail goes, not now (a reply
    /// scheduled for later has not answered the customer yet).
    pub status_when_sent: bool,
    /// What the agent typed (a reply or forward), kept to edit again if it is cancelled.
    pub draft: Option<String>,
    /// For a forward: the message row of the ticket's mail it sends.
    pub source_row: Option<i64>,
    /// People the agent took out of the Cc box: not offered again until they write.
    pub left_out: Vec<String>,
    /// The agent replying becomes the owner of a ticket nobody owns (the channel's
    /// `assign_on_reply`).
    pub take_unowned: bool,
}

/// `agent` answered ticket `ticket`: it is theirs if nobody owned it (its team stays).
fn take_unowned(
    conn: &Connection,
    ticket: TicketId,
    agent: &str,
    now: i64,
) -> Result<(), StoreError> {
    let taken = exec(
        conn,
        "UPDATE tickets SET owner = ?2 WHERE id = ?1 AND owner IS NULL
           AND EXISTS (SELECT 1 FROM users WHERE email = ?2 AND active)",
        params![ticket, agent],
    )?;
    if taken > 0 {
        event(
            conn,
            ticket,
            "assigned",
            agent,
            &format!("assigned to {agent}, who answered it"),
            now,
        )?;
    }
    Ok(())
}

pub(super) fn add_user(conn: &Connection, user: &NewUser) -> Result<i64, StoreError> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT id FROM users WHERE email = ?1")?
        .query_row([&user.email], |r| r.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::Invalid(format!(
            "user {} already exists",
            user.email
        )));
    }
    exec(
        conn,
        "INSERT INTO users (email, full_name, first_name, last_name, admin, seat, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.email,
            user.full_name,
            user.first_name,
            user.last_name,
            user.admin,
            user.seat,
            unix_now()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn require_ticket(conn: &Connection, ticket: TicketId) -> Result<TicketId, StoreError> {
    live_ticket(conn, ticket)?.ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))
}

/// The files of an internal note: (file name, type, size) in the order of `raw`, the
/// note's original that holds them.
#[derive(Debug, Clone)]
pub struct NoteFiles {
    /// Each file: name, type, size.
    pub files: Vec<(String, String, usize)>,
    /// The MIME message holding the note's text and files.
    pub raw: Vec<u8>,
}

/// An internal note (with its files, if any): stored on the ticket, never mailed.
pub(super) fn add_note(
    conn: &Connection,
    ticket: TicketId,
    author: &str,
    text: &str,
    files: Option<&NoteFiles>,
) -> Result<i64, StoreError> {
    let ticket = require_ticket(conn, ticket)?;
    let now = unix_now();
    insert_message(
        conn,
        ticket,
        Direction::Note,
        "",
        author,
        None,
        "(note)",
        text,
        None,
        files.map(|f| f.raw.as_slice()),
        now,
    )?;
    let row = conn.last_insert_rowid();
    if let Some(f) = files {
        insert_attachments(conn, row, &f.files)?;
    }
    event(
        conn,
        ticket,
        "note",
        author,
        &format!("internal note {row}"),
        now,
    )?;
    record_mentions(conn, ticket, row, author, text, now)?;
    super::notify::notify_followers(conn, ticket, author, row, now)?;
    exec(
        conn,
        "UPDATE tickets SET updated_at = ?1 WHERE id = ?2",
        params![now, ticket],
    )?;
    Ok(row)
}

/// Who may change a note: its author, or the sysadmin (any note).
#[derive(Debug, Clone, Copy)]
pub enum NoteEditor<'a> {
    /// An agent, who may change only their own notes.
    Author(&'a str),
    /// `frontdeskctl`: any note (one posted by mistake, by someone away).
    Admin,
}

/// The ticket of `row` when it is an internal note, not deleted, that `editor` may
/// change; refused in words otherwise.
fn editable_note(
    conn: &Connection,
    row: i64,
    editor: NoteEditor<'_>,
) -> Result<TicketId, StoreError> {
    let note: Option<(TicketId, String, String, Option<i64>)> = conn
        .prepare_cached(
            "SELECT m.ticket_id, m.direction, m.from_email, e.deleted_at
             FROM messages m LEFT JOIN note_edits e ON e.message_row = m.id WHERE m.id = ?1",
        )?
        .query_row([row], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((ticket, _, from, deleted)) = note.filter(|n| n.1 == "note") else {
        return Err(StoreError::Invalid(format!(
            "message {row} is not an internal note"
        )));
    };
    if deleted.is_some() {
        return Err(StoreError::Invalid(format!(
            "note {row} was deleted already"
        )));
    }
    match editor {
        NoteEditor::Author(author) if !from.eq_ignore_ascii_case(author) => {
            Err(StoreError::Invalid(format!(
                "note {row} is not yours: only its author changes it"
            )))
        }
        _ => Ok(ticket),
    }
}

/// `author` corrects their note `row`: its text, its search entry and whom it mentions
/// (someone newly named is told; someone no longer named leaves the Mentions view).
pub(super) fn edit_note(
    conn: &Connection,
    row: i64,
    author: &str,
    text: &str,
) -> Result<TicketId, StoreError> {
    let ticket = editable_note(conn, row, NoteEditor::Author(author))?;
    let now = unix_now();
    exec(
        conn,
        "UPDATE messages SET text_body = ?1 WHERE id = ?2",
        params![text, row],
    )?;
    exec(
        conn,
        "INSERT INTO note_edits (message_row, edited_at) VALUES (?1, ?2)
         ON CONFLICT (message_row) DO UPDATE SET edited_at = excluded.edited_at",
        params![row, now],
    )?;
    exec(
        conn,
        "UPDATE search SET body = ?1 WHERE rowid = ?2",
        params![text, row],
    )?;
    super::words::remember(conn, &[text])?;
    event(
        conn,
        ticket,
        "note-edited",
        author,
        &format!("internal note {row} edited"),
        now,
    )?;
    record_mentions(conn, ticket, row, author, text, now)?;
    Ok(ticket)
}

/// `editor` deletes note `row`: its text, files, search entry, mentions and the
/// notifications not yet mailed go; the thread shows where it was and the history who
/// deleted it.
pub(super) fn delete_note(
    conn: &Connection,
    row: i64,
    editor: NoteEditor<'_>,
) -> Result<TicketId, StoreError> {
    let ticket = editable_note(conn, row, editor)?;
    let author = match editor {
        NoteEditor::Author(author) => author,
        NoteEditor::Admin => "admin (frontdeskctl)",
    };
    let now = unix_now();
    // The row stays (emptied, marked deleted): message numbers are never reused, so
    // what each agent has read, and every reference to later messages, stays right.
    exec(
        conn,
        "DELETE FROM notifications WHERE message_row = ?1",
        [row],
    )?;
    exec(conn, "DELETE FROM mentions WHERE message_row = ?1", [row])?;
    exec(conn, "DELETE FROM search WHERE rowid = ?1", [row])?;
    exec(conn, "DELETE FROM attachments WHERE message_id = ?1", [row])?;
    exec(conn, "DELETE FROM message_raw WHERE message_id = ?1", [row])?;
    exec(
        conn,
        "UPDATE messages SET text_body = '' WHERE id = ?1",
        [row],
    )?;
    exec(
        conn,
        "INSERT INTO note_edits (message_row, deleted_at) VALUES (?1, ?2)
         ON CONFLICT (message_row) DO UPDATE SET deleted_at = excluded.deleted_at",
        params![row, now],
    )?;
    event(
        conn,
        ticket,
        "note-deleted",
        author,
        &format!("internal note {row} deleted"),
        now,
    )?;
    Ok(ticket)
}

/// The active agents (other than the author) that note `row` names with `@`: each gets
/// the ticket in their Mentions view, and the history says who was named.
fn record_mentions(
    conn: &Connection,
    ticket: TicketId,
    row: i64,
    author: &str,
    text: &str,
    now: i64,
) -> Result<(), StoreError> {
    // Without an `@` nobody is named (and the agents need not be read).
    let agents: Vec<(i64, String, String, String)> = if text.contains('@') {
        conn.prepare_cached("SELECT id, email, first_name, full_name FROM users WHERE active = 1")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let named: Vec<Mentionable<'_>> = agents
        .iter()
        .map(|(_, email, first_name, _)| Mentionable { email, first_name })
        .collect();
    let named_ids: Vec<(i64, &str, &str)> = mentioned(text, &named)
        .into_iter()
        .filter(|email| !email.eq_ignore_ascii_case(author))
        .filter_map(|email| agents.iter().find(|a| a.1 == email))
        .map(|(id, email, _, full_name)| (*id, email.as_str(), full_name.as_str()))
        .collect();
    // A corrected note no longer naming someone takes back the mention (and the mail
    // about it, if it has not gone yet).
    let before: Vec<i64> = conn
        .prepare_cached("SELECT user_id FROM mentions WHERE message_row = ?1")?
        .query_map([row], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for gone in before
        .iter()
        .filter(|u| !named_ids.iter().any(|(id, ..)| id == *u))
    {
        exec(
            conn,
            "DELETE FROM mentions WHERE message_row = ?1 AND user_id = ?2",
            params![row, gone],
        )?;
        exec(
            conn,
            "DELETE FROM notifications WHERE message_row = ?1 AND user_id = ?2 AND reason = 'mention'",
            params![row, gone],
        )?;
    }
    let mut names = Vec::new();
    for (id, email, full_name) in named_ids {
        let added = exec(
            conn,
            "INSERT OR IGNORE INTO mentions (user_id, ticket_id, message_row, created_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![id, ticket, row, now],
        )?;
        if added == 0 {
            continue;
        }
        super::notify::notify_agent(conn, email, ticket, Reason::Mention, author, Some(row), now)?;
        names.push(full_name);
    }
    if !names.is_empty() {
        event(
            conn,
            ticket,
            "mention",
            author,
            &format!("mentioned {}", names.join(", ")),
            now,
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn insert_message(
    conn: &Connection,
    ticket: TicketId,
    direction: Direction,
    channel: &str,
    from_email: &str,
    from_name: Option<&str>,
    subject: &str,
    text: &str,
    message_id: Option<&str>,
    raw: Option<&[u8]>,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        concat!(
            "INSERT INTO messages (id, ticket_id, direction, channel, source, message_id, from_email, from_name,
                subject, headers, text_body, thread_reason, created_at)
             VALUES (",
            super::erase::next_message_id!(),
            ", ?1, ?2, ?3, 'agent', ?4, ?5, ?6, ?7, '', ?8, 'agent', ?9)"
        ),
        params![ticket, direction.as_str(), channel, message_id, from_email, from_name, subject, text, now],
    )?;
    let row = conn.last_insert_rowid();
    if let Some(raw) = raw {
        exec(
            conn,
            "INSERT INTO message_raw (message_id, raw) VALUES (?1, ?2)",
            params![row, raw],
        )?;
    }
    exec(
        conn,
        "INSERT INTO search (rowid, subject, body, contact) VALUES (?1, ?2, ?3, ?4)",
        params![row, subject, text, from_email],
    )?;
    super::words::remember(conn, &[subject, text, from_email])?;
    Ok(())
}

/// The files of message `row` we wrote (a reply, a note), in the order its original
/// holds them.
fn insert_attachments(
    conn: &Connection,
    row: i64,
    files: &[(String, String, usize)],
) -> Result<(), StoreError> {
    for (position, (filename, content_type, size)) in files.iter().enumerate() {
        exec(
            conn,
            "INSERT INTO attachments (message_id, filename, content_type, content_id, inline, size, position)
             VALUES (?1, ?2, ?3, NULL, 0, ?4, ?5)",
            params![row, filename, content_type, *size as i64, position as i64],
        )?;
    }
    Ok(())
}

/// Offer `contact` in the Cc box again (they wrote, or were copied again); whether
/// they had been left out.
pub(super) fn copy_again(
    conn: &Connection,
    ticket: TicketId,
    contact: i64,
) -> Result<bool, StoreError> {
    Ok(exec(
        conn,
        "UPDATE ticket_participants SET copied = 1
         WHERE ticket_id = ?1 AND contact_id = ?2 AND copied = 0",
        params![ticket, contact],
    )? > 0)
}

/// Store an outgoing message and queue it, in one transaction; `None` when an
/// acknowledgement is over its per-hour limit (Invariant 3).
pub(super) fn queue_mail(
    conn: &Connection,
    mail: &QueuedMail,
    secret: &[u8],
) -> Result<Option<i64>, StoreError> {
    let ticket = require_ticket(conn, mail.ticket_id)?;
    let now = unix_now();
    let recipients = serde_json::to_string(&mail.recipients).unwrap_or_else(|_| "[]".into());
    if let Some(limit) = mail.per_hour_limit {
        let recent: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'acknowledgement' AND recipients = ?1 AND created_at > ?2",
            )?
            .query_row(params![recipients, now - 3600], |r| r.get(0))?;
        if recent >= i64::from(limit) {
            event(
                conn,
                ticket,
                "acknowledgement-suppressed",
                "system",
                &format!(
                    "{} already got {recent} acknowledgement(s) this hour",
                    mail.recipients.join(", ")
                ),
                now,
            )?;
            return Ok(None);
        }
    }
    let author = mail.agent_email.as_deref().unwrap_or(&mail.channel_address);
    insert_message(
        conn,
        ticket,
        Direction::Outbound,
        &mail.channel,
        author,
        Some(&mail.from_name),
        &mail.subject,
        &mail.text,
        Some(&mail.message_id),
        Some(&mail.raw),
        now,
    )?;
    let row = conn.last_insert_rowid();
    if mail.agent_email.is_some() {
        super::notify::notify_followers(conn, ticket, author, row, now)?;
    }
    if let (Some(agent), true) = (&mail.agent_email, mail.take_unowned) {
        take_unowned(conn, ticket, agent, now)?;
    }
    insert_attachments(conn, row, &mail.attachments)?;
    for address in &mail.copies {
        let who = crate::ingest::parse::Mailbox {
            name: None,
            email: address.to_lowercase(),
        };
        let contact = upsert_contact(conn, &who, now)?;
        if add_participant(conn, ticket, contact, "participant", now)? {
            event(
                conn,
                ticket,
                "participant-added",
                author,
                &format!("{} copied on a reply", who.email),
                now,
            )?;
        } else {
            // Typed back in by hand: offered again from now on.
            copy_again(conn, ticket, contact)?;
        }
    }
    for address in &mail.left_out {
        let left = exec(
            conn,
            "UPDATE ticket_participants SET copied = 0
             WHERE ticket_id = ?1 AND copied = 1 AND role = 'participant'
               AND contact_id = (SELECT id FROM contacts WHERE email = ?2)",
            params![ticket, address.to_lowercase()],
        )?;
        if left > 0 {
            event(
                conn,
                ticket,
                "participant-left-out",
                author,
                &format!("{address} left out of the copies (offered again when they write)"),
                now,
            )?;
        }
    }
    // A customer's answer quoting our Message-ID threads back here.
    exec(
        conn,
        "INSERT OR IGNORE INTO thread_ids (msgid, ticket_id) VALUES (?1, ?2)",
        params![mail.message_id, ticket],
    )?;
    exec(
        conn,
        "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status, next_attempt_at,
            created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, '', ?5, 'queued', ?6 + ?8, ?6, ?7)",
        params![row, ticket, mail.channel, mail.kind.as_str(), recipients, now, now + mail.max_queue_seconds, mail.hold_seconds.max(0)],
    )?;
    let id = conn.last_insert_rowid();
    exec(
        conn,
        "UPDATE outbox SET mail_from = ?1, draft = ?2, source_row = ?3 WHERE id = ?4",
        params![
            bounce_address(&mail.channel_address, secret, id),
            mail.draft,
            mail.source_row,
            id
        ],
    )?;
    event(
        conn,
        ticket,
        mail.kind.as_str(),
        author,
        &format!(
            "{} to {} queued (outbox {id})",
            mail.kind.as_str(),
            mail.recipients.join(", ")
        ),
        now,
    )?;
    // A reminder before closing is not a change of the ticket: the wait it is about
    // keeps its clock (and its place in the inbox).
    if mail.kind != OutboxKind::Reminder {
        exec(
            conn,
            "UPDATE tickets SET updated_at = ?1 WHERE id = ?2",
            params![now, ticket],
        )?;
    }
    if let (OutboxKind::Reply, Some(_), true) = (mail.kind, &mail.pipelines, mail.status_when_sent)
    {
        exec(
            conn,
            "UPDATE outbox SET moves_when_sent = ?1 WHERE id = ?2",
            params![author, id],
        )?;
    } else if let (OutboxKind::Reply, Some(pipelines)) = (mail.kind, &mail.pipelines) {
        let (_, before) = super::desk::ticket_state(conn, ticket)?;
        super::desk::after_agent_reply(conn, ticket, pipelines, author, now)?;
        if mail.close {
            super::desk::close_with_reply(conn, ticket, pipelines, author, now)?;
        }
        let (_, after) = super::desk::ticket_state(conn, ticket)?;
        if before != after {
            exec(
                conn,
                "UPDATE outbox SET status_before = ?1, status_after = ?2 WHERE id = ?3",
                params![before, after, id],
            )?;
        }
    }
    Ok(Some(id))
}

/// Open a ticket with the agent's first mail to the customer, in one transaction: the
/// customer (as a contact), the ticket (owned by the agent), and the mail `first_mail`
/// builds for the ticket's number, stored and queued like a reply. The ticket's number
/// and the outbox id; nothing is kept when any part fails.
pub(super) fn open_ticket(
    conn: &Connection,
    new: &NewTicket,
    first_mail: impl FnOnce(TicketId) -> Result<QueuedMail, StoreError>,
    secret: &[u8],
) -> Result<(TicketId, i64), StoreError> {
    let now = unix_now();
    let contact = upsert_contact(conn, &new.customer, now)?;
    let tags = serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".into());
    exec(
        conn,
        concat!(
            "INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at,
                 pipeline, priority, tags, closed, owner)
             VALUES (",
            super::erase::next_ticket_id!(),
            ", ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            new.subject,
            new.status,
            new.channel,
            contact,
            now,
            new.pipeline,
            new.priority,
            tags,
            new.closed,
            new.agent
        ],
    )?;
    let ticket = conn.last_insert_rowid();
    add_participant(conn, ticket, contact, "customer", now)?;
    event(
        conn,
        ticket,
        "created",
        &new.agent,
        &format!(
            "new ticket written by {} to {} via {}; owned by {}",
            new.agent, new.customer.email, new.channel, new.agent
        ),
        now,
    )?;
    let mail = first_mail(ticket)?;
    if mail.ticket_id != ticket || mail.kind != OutboxKind::Reply {
        return Err(StoreError::Invalid(
            "a new ticket's first mail must be a reply on it".into(),
        ));
    }
    let outbox = queue_mail(conn, &mail, secret)?
        .ok_or_else(|| StoreError::Invalid("the first mail was not queued".into()))?;
    Ok((ticket, outbox))
}

/// Delivery succeeded (for at least one recipient; `refused` lists the others with the
/// server's words, which go on the ticket as a note). An entry cancelled while it was
/// being delivered is recorded as sent: the mail did go out.
/// What became of one outbox entry at the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxResult {
    /// Accepted: the relay's reply, and recipients it refused (address, its words).
    Sent {
        /// Entry id.
        id: i64,
        /// The relay's final reply.
        response: String,
        /// Recipients refused while others were accepted.
        refused: Vec<(String, String)>,
    },
    /// A temporary failure: try again at `next_at` unless the entry has expired.
    Deferred {
        /// Entry id.
        id: i64,
        /// When to try again (Unix seconds).
        next_at: i64,
        /// The reason.
        error: String,
    },
    /// Refused for good.
    Failed {
        /// Entry id.
        id: i64,
        /// The relay's words.
        error: String,
    },
}

impl OutboxResult {
    /// The entry it is about.
    pub fn id(&self) -> i64 {
        match self {
            OutboxResult::Sent { id, .. }
            | OutboxResult::Deferred { id, .. }
            | OutboxResult::Failed { id, .. } => *id,
        }
    }
}

/// Apply one result; `pipelines` move the ticket of a scheduled reply that went.
pub(super) fn record(
    conn: &Connection,
    result: &OutboxResult,
    pipelines: &[Pipeline],
) -> Result<(), StoreError> {
    match result {
        OutboxResult::Sent {
            id,
            response,
            refused,
        } => outbox_sent(conn, *id, response, refused, pipelines),
        OutboxResult::Deferred { id, next_at, error } => {
            outbox_defer(conn, *id, *next_at, error).map(|_| ())
        }
        OutboxResult::Failed { id, error } => outbox_fail(conn, *id, error),
    }
}

fn outbox_sent(
    conn: &Connection,
    id: i64,
    response: &str,
    refused: &[(String, String)],
    pipelines: &[Pipeline],
) -> Result<(), StoreError> {
    let now = unix_now();
    // An agent's notification belongs to no thread: its ticket's history stays quiet.
    let sent: Option<(Option<TicketId>, Option<String>)> = conn
        .prepare_cached(
            "UPDATE outbox SET status = 'sent', sent_at = ?1, attempts = attempts + 1, last_error = ?3
             WHERE id = ?2 AND status IN ('queued', 'cancelled')
             RETURNING CASE WHEN kind = 'notification' THEN NULL ELSE ticket_id END,
                       CASE WHEN kind = 'reply' THEN moves_when_sent END",
        )?
        .query_row(
            params![now, id, (!refused.is_empty()).then(|| refused_words(refused))],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (ticket, mover) = sent.unwrap_or((None, None));
    if let (Some(t), Some(agent)) = (ticket, mover) {
        // The mail went: that is recorded whatever becomes of the status move (a
        // pipeline removed from the config meanwhile).
        let moved = super::writer::in_savepoint(conn, |conn| {
            super::desk::after_agent_reply(conn, t, pipelines, &agent, now)
        });
        if let Err(e) = moved {
            log::warn!("outbox {id}: ticket #{t} keeps its status: {e}");
        }
    }
    if let Some(t) = ticket {
        event(
            conn,
            t,
            "delivered",
            "system",
            &format!("outbox {id} delivered: {response}"),
            now,
        )?;
        if !refused.is_empty() {
            let text = format!(
                "Delivered, but the relay refused {}",
                refused_words(refused)
            );
            insert_message(
                conn,
                t,
                Direction::Note,
                "",
                "system",
                None,
                "(recipients refused)",
                &text,
                None,
                None,
                now,
            )?;
            event(
                conn,
                t,
                "delivery-failed",
                "system",
                &format!("outbox {id}: {}", refused_words(refused)),
                now,
            )?;
        }
    }
    Ok(())
}

fn refused_words(refused: &[(String, String)]) -> String {
    refused
        .iter()
        .map(|(r, w)| format!("{r} ({w})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A temporary failure: try again at `next_at`, unless the entry has expired.
fn outbox_defer(conn: &Connection, id: i64, next_at: i64, error: &str) -> Result<bool, StoreError> {
    let now = unix_now();
    let expired: Option<bool> = conn
        .prepare_cached("SELECT expires_at <= ?1 FROM outbox WHERE id = ?2 AND status = 'queued'")?
        .query_row(params![next_at.max(now), id], |r| r.get(0))
        .optional()?;
    match expired {
        None => Ok(false),
        Some(true) => {
            outbox_fail(
                conn,
                id,
                &format!("gave up after temporary failures; last: {error}"),
            )?;
            Ok(false)
        }
        Some(false) => {
            exec(
                conn,
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?1, last_error = ?2 WHERE id = ?3",
                params![next_at, error, id],
            )?;
            Ok(true)
        }
    }
}

/// A permanent failure: the entry stops, and the ticket gets a note with the server's words.
fn outbox_fail(conn: &Connection, id: i64, error: &str) -> Result<(), StoreError> {
    fail_entry(conn, id, error, Failure::Refused)
}

/// How an entry failed: refused by the relay while queued, or bounced after it was sent.
#[derive(Clone, Copy)]
enum Failure {
    Refused,
    Bounced,
}

/// Mark an entry failed and tell its ticket, in the server's words.
fn fail_entry(conn: &Connection, id: i64, error: &str, how: Failure) -> Result<(), StoreError> {
    let now = unix_now();
    let (sql, subject, verb, kind) = match how {
        Failure::Refused => (
            "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?1 WHERE id = ?2 AND status = 'queued'
             RETURNING ticket_id, recipients, kind",
            "(delivery failed)",
            "failed",
            "delivery-failed",
        ),
        Failure::Bounced => (
            "UPDATE outbox SET status = 'failed', last_error = ?1 WHERE id = ?2 AND status IN ('queued', 'sent')
             RETURNING ticket_id, recipients, kind",
            "(bounce)",
            "bounced",
            "bounced",
        ),
    };
    let row: Option<(TicketId, String, String)> = conn
        .prepare_cached(sql)?
        .query_row(params![error, id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    // A notification that failed is in the outbox list with its error; the ticket's
    // thread is the customer's conversation and does not show it.
    if let Some((ticket, recipients, _)) = row.filter(|(_, _, kind)| kind != "notification") {
        let ticket = live_ticket(conn, ticket)?.unwrap_or(ticket);
        let recipients: Vec<String> = serde_json::from_str(&recipients).unwrap_or_default();
        let text = format!("Delivery to {} {verb}: {error}", recipients.join(", "));
        insert_message(
            conn,
            ticket,
            Direction::Note,
            "",
            "system",
            None,
            subject,
            &text,
            None,
            None,
            now,
        )?;
        event(
            conn,
            ticket,
            kind,
            "system",
            &format!("outbox {id}: {error}"),
            now,
        )?;
    }
    Ok(())
}

/// Retry a failed or queued entry now, for `actor`; the entry's ticket.
pub(super) fn outbox_retry(conn: &Connection, id: i64, actor: &str) -> Result<i64, StoreError> {
    let now = unix_now();
    let ticket: Option<(i64, String)> = conn
        .prepare_cached(
            "UPDATE outbox SET status = 'queued', next_attempt_at = ?1, expires_at = MAX(expires_at, ?1 + 86400)
             WHERE id = ?2 AND status IN ('queued', 'failed') RETURNING ticket_id, kind",
        )?
        .query_row(params![now, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (ticket, kind) = ticket.ok_or_else(|| not_pending(id))?;
    event(
        conn,
        ticket,
        "outbox",
        actor,
        &format!("{kind} (outbox {id}) sent again"),
        now,
    )?;
    Ok(ticket)
}

/// Cancel a queued or failed entry, for `actor`; the entry's ticket. The message stays
/// in the thread, marked cancelled; the status the reply gave the ticket is undone.
pub(super) fn outbox_cancel(
    conn: &Connection,
    id: i64,
    actor: &str,
    pipelines: &[Pipeline],
) -> Result<i64, StoreError> {
    type Cancelled = (i64, String, Option<String>, Option<String>);
    let cancelled: Option<Cancelled> = conn
        .prepare_cached(
            "UPDATE outbox SET status = 'cancelled', moves_when_sent = NULL
             WHERE id = ?1 AND status IN ('queued', 'failed')
             RETURNING ticket_id, kind, status_before, status_after",
        )?
        .query_row(params![id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let (ticket, kind, before, after) = cancelled.ok_or_else(|| not_pending(id))?;
    let now = unix_now();
    event(
        conn,
        ticket,
        "outbox",
        actor,
        &format!("{kind} (outbox {id}) cancelled"),
        now,
    )?;
    if let (Some(before), Some(after)) = (before, after) {
        super::desk::undo_reply_status(conn, ticket, pipelines, (&before, &after), actor, now)?;
    }
    Ok(ticket)
}

fn not_pending(id: i64) -> StoreError {
    StoreError::Invalid(format!(
        "outbox entry {id} does not exist or was already sent or cancelled"
    ))
}

/// A bounce came back for an entry (even one the relay had accepted): mark it failed
/// with the diagnostic and note it on the ticket.
pub(super) fn outbox_bounced(
    conn: &Connection,
    id: i64,
    diagnostic: &str,
) -> Result<(), StoreError> {
    fail_entry(conn, id, diagnostic, Failure::Bounced)
}
