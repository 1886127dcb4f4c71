//! Read-only queries.

use rusqlite::{params, Connection, OptionalExtension};

use super::views::*;
use super::{ImapCursor, StoreError};
use crate::model::rfc3339;

/// Contacts of one domain the ticket page still takes for a company's people.
pub const COMPANY_CONTACTS: usize = 50;

/// A ticket named in a list (id, subject, status: the row's first three columns).
pub(super) fn other_ticket(r: &rusqlite::Row<'_>) -> rusqlite::Result<OtherTicket> {
    Ok(OtherTicket {
        id: r.get(0)?,
        subject: r.get(1)?,
        status: r.get(2)?,
    })
}

/// Queries over one read-only connection.
pub struct Reader<'c> {
    conn: &'c Connection,
    phrase_figures: &'c super::rank::PhraseFigures,
}

impl<'c> Reader<'c> {
    pub(super) fn new(
        conn: &'c Connection,
        phrase_figures: &'c super::rank::PhraseFigures,
    ) -> Self {
        Reader {
            conn,
            phrase_figures,
        }
    }

    /// Tickets, most recently active first; merged tickets are left out.
    pub fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketSummary>, StoreError> {
        if let (Some(contact), None, None, None, None) = (
            &filter.contact,
            &filter.status,
            &filter.channel,
            &filter.priority,
            &filter.field,
        ) {
            return self.contact_tickets(contact, filter.limit.unwrap_or(50) as i64);
        }
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM tickets t JOIN contacts c ON c.id = t.contact_id
             WHERE t.merged_into IS NULL
               AND (?1 IS NULL OR t.status = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR t.channel = ?2)
               AND (?4 IS NULL OR t.contact_id = (SELECT id FROM contacts WHERE email = ?4))
               AND (?5 IS NULL OR t.priority = lower(?5))
               AND (?6 IS NULL OR t.id IN (SELECT f.ticket_id FROM ticket_fields f
                                           WHERE f.value = ?7 COLLATE NOCASE AND f.name = ?6))
             ORDER BY t.activity DESC
             LIMIT ?3"
        ))?;
        let limit = filter.limit.unwrap_or(50) as i64;
        let (field, value) = filter.field.clone().unzip();
        let rows = stmt.query_map(
            params![
                filter.status,
                filter.channel,
                limit,
                filter.contact,
                filter.priority,
                field,
                value
            ],
            summary_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Open tickets whose customer's answer is late by `cutoffs`, most recently active
    /// first (the inbox's Overdue view).
    pub fn overdue_tickets(
        &self,
        cutoffs: crate::desk::sla::Cutoffs,
        limit: u32,
    ) -> Result<Vec<TicketSummary>, StoreError> {
        let q = super::InboxQuery {
            limit,
            cutoffs: Some(cutoffs),
            ..Default::default()
        };
        let rows = super::web::inbox(self.conn, super::InboxView::Overdue, "", &q)?;
        Ok(rows.into_iter().map(|r| r.ticket).collect())
    }

    /// Up to `limit` closed tickets due their survey at `now` (see `surveys::due`).
    pub fn surveys_due(&self, now: i64, limit: i64) -> Result<Vec<super::SurveyDue>, StoreError> {
        super::surveys::due(self.conn, now, limit)
    }

    /// The desk's replies on `ticket` (following a merge), which a rating link may name.
    pub fn rateable_replies(&self, ticket: i64) -> Result<Vec<super::RateableReply>, StoreError> {
        super::ratings::rateable_replies(self.conn, ticket)
    }

    /// How many overdue answers (by `cutoffs`) nobody was told of yet.
    pub fn untold_overdue(&self, cutoffs: crate::desk::sla::Cutoffs) -> Result<i64, StoreError> {
        super::notify::untold_overdue(self.conn, &cutoffs)
    }

    /// One ticket with its messages, people and events.
    pub fn ticket(&self, id: i64) -> Result<Option<TicketDetail>, StoreError> {
        self.ticket_thread(id, None)
    }

    /// Ticket `id` with only its `newest` messages, when given (the rest are counted in
    /// `earlier`): a thread that ran to thousands of mails still opens quickly.
    pub fn ticket_thread(
        &self,
        id: i64,
        newest: Option<u32>,
    ) -> Result<Option<TicketDetail>, StoreError> {
        let head = self
            .conn
            .prepare_cached(
                "SELECT t.id, t.subject, t.status, t.channel, c.email, c.name, t.owner, t.merged_into,
                        t.created_at, t.updated_at, t.pipeline, t.priority, t.tags, t.team,
                        t.snoozed_until, CASE WHEN t.closed = 0 THEN t.waiting_since END, t.answered
                 FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?1",
            )?
            .query_row(
                [id],
                |r| {
                    Ok(TicketDetail {
                        pipeline: r.get(10)?,
                        priority: r.get(11)?,
                        tags: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
                        fields: Default::default(),
                        needed_to_close: Vec::new(),
                        team: r.get(13)?,
                        id: r.get(0)?,
                        subject: r.get(1)?,
                        status: r.get(2)?,
                        channel: r.get(3)?,
                        contact: ContactRef { email: r.get(4)?, name: r.get(5)? },
                        owner: r.get(6)?,
                        merged_into: r.get(7)?,
                        snoozed_until: r.get::<_, Option<i64>>(14)?.map(rfc3339),
                        created_at: rfc3339(r.get(8)?),
                        updated_at: rfc3339(r.get(9)?),
                        messages: Vec::new(),
                        earlier: 0,
                        earlier_events: false,
                        participants: Vec::new(),
                        followers: Vec::new(),
                        events: Vec::new(),
                        waiting_since: r.get(15)?,
                        answered: r.get(16)?,
                    })
                },
            )
            .optional()?;
        let Some(mut detail) = head else {
            return Ok(None);
        };
        // The newest `newest` in the thread's order (everything when -1): picked by
        // their row heads first, so the left-out messages' bodies are never read.
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, m.direction, m.message_id, m.from_email, m.subject, m.auto, m.thread_reason,
                    m.forwarded_by, m.source, (SELECT COUNT(*) FROM attachments a WHERE a.message_id = m.id),
                    m.text_body, m.created_at, m.fields, m.from_name, m.html_body,
                    o.kind, o.status, o.recipients, o.id,
                    CASE WHEN o.status = 'cancelled' THEN o.draft END,
                    CASE WHEN o.status = 'queued' THEN o.next_attempt_at END,
                    CASE WHEN o.status = 'cancelled' THEN o.source_row END,
                    CASE WHEN m.direction = 'note'
                         THEN (SELECT e.edited_at FROM note_edits e WHERE e.message_row = m.id) END,
                    CASE WHEN m.direction = 'note'
                         THEN (SELECT e.deleted_at FROM note_edits e WHERE e.message_row = m.id) END,
                    CASE WHEN m.direction = 'outbound'
                         THEN (SELECT x.rating || char(10) || x.comment FROM ratings x
                               WHERE x.message_row = m.id) END
             FROM messages m LEFT JOIN outbox o ON o.message_row = m.id
             WHERE m.id IN (
                 SELECT id FROM messages WHERE ticket_id = ?1
                 ORDER BY COALESCE(sent_at, created_at) DESC, id DESC LIMIT ?2)
             ORDER BY COALESCE(m.sent_at, m.created_at), m.id",
        )?;
        let limit = newest.map_or(-1, i64::from);
        detail.messages = stmt
            .query_map(params![id, limit], |r| {
                let auto_kind: Option<String> = r.get(5)?;
                Ok(MessageView {
                    id: r.get(0)?,
                    edited_at: r.get::<_, Option<i64>>(22)?.map(rfc3339),
                    deleted_at: r.get::<_, Option<i64>>(23)?.map(rfc3339),
                    direction: r.get(1)?,
                    message_id: r.get(2)?,
                    from: r.get(3)?,
                    from_name: r.get(13)?,
                    subject: r.get(4)?,
                    auto: matches!(
                        auto_kind.as_deref(),
                        Some("bounce" | "auto-reply" | "report")
                    ),
                    auto_kind,
                    thread_reason: r.get(6)?,
                    forwarded_by: r.get(7)?,
                    source: r.get(8)?,
                    attachments: r.get(9)?,
                    text: r.get(10)?,
                    fields: crate::model::visible_fields(
                        r.get::<_, Option<String>>(12)?.as_deref(),
                    ),
                    created_at: rfc3339(r.get(11)?),
                    html: r.get(14)?,
                    delivery: match (r.get(15)?, r.get(16)?) {
                        (Some(kind), Some(status)) => Some(Delivery {
                            outbox: r.get(18)?,
                            draft: r.get(19)?,
                            next_attempt: r.get(20)?,
                            forwarded: r.get(21)?,
                            kind,
                            status,
                            recipients: serde_json::from_str(
                                &r.get::<_, Option<String>>(17)?.unwrap_or_default(),
                            )
                            .unwrap_or_default(),
                        }),
                        _ => None,
                    },
                    rating: r.get::<_, Option<String>>(24)?.and_then(|both| {
                        let (rating, comment) = both.split_once('\n')?;
                        Some((
                            crate::desk::ratings::Rating::parse(rating)?,
                            comment.to_string(),
                        ))
                    }),
                })
            })?
            .collect::<Result<_, _>>()?;
        if newest.is_some() {
            let total: i64 = self
                .conn
                .prepare_cached("SELECT message_count FROM tickets WHERE id = ?1")?
                .query_row([id], |r| r.get(0))?;
            detail.earlier = u64::try_from(total)
                .unwrap_or(0)
                .saturating_sub(detail.messages.len() as u64);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.email, c.name, p.role, p.copied FROM ticket_participants p JOIN contacts c ON c.id = p.contact_id
             WHERE p.ticket_id = ?1 ORDER BY p.role = 'customer' DESC, p.added_at, c.email",
        )?;
        detail.participants = stmt
            .query_map([id], |r| {
                Ok(ParticipantView {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                    copied: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        detail.followers = super::notify::followers(self.conn, id)?;
        detail.fields = self
            .conn
            .prepare_cached("SELECT name, value FROM ticket_fields WHERE ticket_id = ?1")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        // The history likewise: the newest `newest` (one more, to know if any are left
        // out), oldest first.
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, actor, detail, created_at FROM events WHERE id IN (
                 SELECT id FROM events WHERE ticket_id = ?1 ORDER BY id DESC LIMIT ?2)
             ORDER BY id",
        )?;
        let events_limit = newest.map_or(-1, |n| i64::from(n) + 1);
        detail.events = stmt
            .query_map(params![id, events_limit], |r| {
                Ok(EventView {
                    kind: r.get(0)?,
                    actor: r.get(1)?,
                    detail: r.get(2)?,
                    at: rfc3339(r.get(3)?),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(n) = newest.and_then(|n| usize::try_from(n).ok()) {
            if detail.events.len() > n {
                detail.events.remove(0);
                detail.earlier_events = true;
            }
        }
        Ok(Some(detail))
    }

    /// Totals for `status`.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM tickets WHERE merged_into IS NULL AND closed = 0),
                    (SELECT COUNT(*) FROM tickets WHERE merged_into IS NULL),
                    (SELECT COUNT(*) FROM messages),
                    (SELECT COUNT(*) FROM contacts)",
            [],
            |r| {
                Ok(StoreCounts {
                    tickets_open: r.get(0)?,
                    tickets: r.get(1)?,
                    messages: r.get(2)?,
                    contacts: r.get(3)?,
                })
            },
        )?)
    }

    /// Ingest figures per channel that has received anything.
    pub fn channel_stats(&self) -> Result<Vec<ChannelStats>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT channel, messages, duplicates, last_message_at FROM channel_stats ORDER BY channel")?;
        let rows = stmt.query_map([], |r| {
            Ok(ChannelStats {
                channel: r.get(0)?,
                messages: r.get(1)?,
                duplicates: r.get(2)?,
                last_message_at: r.get::<_, Option<i64>>(3)?.map(rfc3339),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// An IMAP folder's cursor: (UIDVALIDITY, highest committed UID).
    pub fn imap_cursor(
        &self,
        account: &str,
        folder: &str,
    ) -> Result<Option<ImapCursor>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT uidvalidity, last_uid, history_below FROM imap_cursors WHERE account = ?1 AND folder = ?2",
            )?
            .query_row(params![account, folder], |r| {
                Ok(ImapCursor {
                    account: account.to_string(),
                    folder: folder.to_string(),
                    uidvalidity: r.get(0)?,
                    last_uid: r.get(1)?,
                    history_below: r.get(2)?,
                })
            })
            .optional()?)
    }

    /// An agent by address.
    pub fn user(&self, email: &str) -> Result<Option<UserView>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT email, full_name, first_name, last_name, admin, seat, available, active,
                 notify_assigned, notify_replies, notify_mentions, notify_new, notify_followed,
                 notify_overdue, notify_bad_rating, signature, totp_secret IS NOT NULL
                 FROM users WHERE email = ?1",
            )?
            .query_row([email], user_row)
            .optional()?)
    }

    /// Every agent.
    pub fn users(&self) -> Result<Vec<UserView>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT email, full_name, first_name, last_name, admin, seat, available, active,
                 notify_assigned, notify_replies, notify_mentions, notify_new, notify_followed,
                 notify_overdue, notify_bad_rating, signature, totp_secret IS NOT NULL
                 FROM users ORDER BY email",
        )?;
        let rows = stmt.query_map([], user_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What a reply to `ticket` needs (following merges). Its `source` is the mail
    /// `message` names when given (a forward of an older mail), else the latest inbound.
    pub fn reply_context(
        &self,
        ticket: i64,
        message: Option<i64>,
    ) -> Result<Option<ReplyContext>, StoreError> {
        let mut id = ticket;
        for _ in 0..64 {
            let merged: Option<Option<i64>> = self
                .conn
                .prepare_cached("SELECT merged_into FROM tickets WHERE id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            match merged {
                None => return Ok(None),
                Some(Some(next)) => id = next,
                Some(None) => break,
            }
        }
        let head = self
            .conn
            .prepare_cached(
                "SELECT t.subject, t.channel, c.email, c.name FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?1",
            )?
            .query_row([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?)))
            .optional()?;
        let Some((subject, channel, email, name)) = head else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.message_id FROM messages m WHERE m.ticket_id = ?1 AND m.direction <> 'note'
               AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_row = m.id AND o.status = 'cancelled')
             ORDER BY COALESCE(m.sent_at, m.created_at), m.id",
        )?;
        // A mail cancelled in its undo window never went: nothing may refer to it. A
        // mail without a Message-ID (a web form, a chat) still makes the ticket a thread.
        let mail: Vec<Option<String>> = stmt
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let has_mail = !mail.is_empty();
        let thread_ids: Vec<String> = mail.into_iter().flatten().collect();
        // A named mail must be one of this ticket's, and mail (a note never was).
        let sql = match message {
            Some(_) => "SELECT message_id, COALESCE(from_name || ' <' || from_email || '>', from_email, ''), COALESCE(sent_at, created_at), text_body, id
                 FROM messages WHERE ticket_id = ?1 AND id = ?2 AND direction <> 'note'",
            None => "SELECT message_id, COALESCE(from_name || ' <' || from_email || '>', from_email, ''), COALESCE(sent_at, created_at), text_body, id
                 FROM messages WHERE ticket_id = ?1 AND direction = 'inbound' AND ?2 IS NULL
                 ORDER BY COALESCE(sent_at, created_at) DESC, id DESC LIMIT 1",
        };
        let last = self
            .conn
            .prepare_cached(sql)?
            .query_row(params![id, message], |r| {
                Ok((
                    (
                        r.get(0)?,
                        r.get(1)?,
                        crate::model::rfc2822(r.get(2)?),
                        r.get(3)?,
                    ),
                    r.get::<_, i64>(4)?,
                ))
            })
            .optional()?;
        let (source, source_row) = match last {
            Some((message, row)) => (Some(message), Some(row)),
            None => (None, None),
        };
        Ok(Some(ReplyContext {
            ticket_id: id,
            subject,
            channel,
            contact: ContactRef { email, name },
            thread_ids,
            has_mail,
            source,
            source_row,
        }))
    }

    /// Queued outbox entries due by `now` with ids after `after`, in id order.
    pub fn outbox_due(
        &self,
        now: i64,
        limit: u32,
        after: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        // In id order along the queued-only index, so a read touches only the rows it
        // returns (no sort, no window over the bodies) however long the history is.
        let mut stmt = self.conn.prepare_cached(
            "SELECT o.id, o.channel, o.mail_from, o.recipients, COALESCE(m.raw, o.raw), o.attempts, o.ticket_id
             FROM outbox o INDEXED BY outbox_queued LEFT JOIN message_raw m ON m.message_id = o.message_row
             WHERE o.status = 'queued' AND o.id > ?3 AND o.next_attempt_at <= ?1
             ORDER BY o.id LIMIT ?2",
        )?;
        // One read holds at most this many bytes of mail (always at least one message).
        const MAX_READ_BYTES: usize = 32 * 1024 * 1024;
        let rows = stmt.query_map(params![now, limit, after], |r| {
            let recipients: String = r.get(3)?;
            Ok(OutboxItem {
                id: r.get(0)?,
                channel: r.get(1)?,
                mail_from: r.get(2)?,
                recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                raw: r.get::<_, Option<Vec<u8>>>(4)?.unwrap_or_default(),
                attempts: r.get(5)?,
                ticket_id: r.get(6)?,
            })
        })?;
        let mut due = Vec::new();
        let mut bytes = 0;
        for row in rows {
            let item = row?;
            bytes += item.raw.len();
            due.push(item);
            if bytes >= MAX_READ_BYTES {
                break;
            }
        }
        Ok(due)
    }

    /// When the next queued entry is due.
    pub fn outbox_next_due(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'queued'")?
            .query_row([], |r| r.get(0))?)
    }

    /// Outbox entries, newest first, optionally by status.
    pub fn outbox(&self, status: Option<&str>, limit: u32) -> Result<Vec<OutboxView>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, ticket_id, channel, kind, recipients, status, attempts, last_error, created_at, next_attempt_at, sent_at
             FROM outbox WHERE (?1 IS NULL OR status = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![status, limit], |r| {
            let recipients: String = r.get(4)?;
            let status: String = r.get(5)?;
            Ok(OutboxView {
                id: r.get(0)?,
                ticket_id: r.get(1)?,
                channel: r.get(2)?,
                kind: r.get(3)?,
                recipients: serde_json::from_str(&recipients).unwrap_or_default(),
                next_attempt_at: (status == "queued")
                    .then(|| r.get::<_, i64>(9).map(rfc3339))
                    .transpose()?,
                status,
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                created_at: rfc3339(r.get(8)?),
                sent_at: r.get::<_, Option<i64>>(10)?.map(rfc3339),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queued and failed entry counts (for status and metrics).
    pub fn outbox_counts(&self) -> Result<(i64, i64), StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE status = 'queued'), (SELECT COUNT(*) FROM outbox WHERE status = 'failed')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// Every team with its members.
    pub fn teams(&self) -> Result<Vec<TeamView>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.name, (SELECT group_concat(u.email, char(10)) FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = t.id)
             FROM teams t ORDER BY t.name",
        )?;
        let rows = stmt.query_map([], |r| {
            let members: Option<String> = r.get(1)?;
            let mut members: Vec<String> = members
                .map(|m| m.split('\n').map(str::to_string).collect())
                .unwrap_or_default();
            members.sort();
            Ok(TeamView {
                name: r.get(0)?,
                members,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A page of the customers directory: latest activity first, or those a search
    /// finds by name, address or `@domain`, or those `owner` owns.
    pub fn customers(
        &self,
        search: Option<&str>,
        owner: Option<&str>,
        after: Option<super::CustomerCursor>,
    ) -> Result<super::CustomerList, StoreError> {
        super::customers::customers(self.conn, search, owner, after)
    }

    /// Customer `id`'s page (`own`: the desk's addresses, never a company).
    pub fn customer(
        &self,
        id: i64,
        own: &[String],
    ) -> Result<Option<super::CustomerDetail>, StoreError> {
        super::customers::customer(self.conn, id, own)
    }

    /// What importing `rows` would do (see `Store::import_contacts`).
    pub fn try_import(
        &self,
        rows: Vec<crate::desk::contact_import::ImportRow>,
        agents: &[UserView],
    ) -> Result<crate::desk::contact_import::ImportCounts, StoreError> {
        super::customers::try_import(self.conn, rows, agents)
    }

    /// What erasing customer `id` would delete; `None` when there is no such customer.
    pub fn erasure(&self, id: i64) -> Result<Option<super::Erasure>, StoreError> {
        super::erase::preview(self.conn, id)
    }

    /// What deleting ticket `id` would delete; `None` when there is no such ticket.
    pub fn ticket_deletion(&self, id: i64) -> Result<Option<super::TicketDeletion>, StoreError> {
        super::erase::ticket_preview(self.conn, id)
    }

    /// The latest `limit` customers erased, newest first.
    pub fn erasures(&self, limit: u32) -> Result<Vec<super::ErasureRecord>, StoreError> {
        super::erase::erasures(self.conn, limit)
    }

    /// The number of the customer with address `email` (case ignored).
    pub fn customer_id(&self, email: &str) -> Result<Option<i64>, StoreError> {
        super::erase::contact_by_email(self.conn, email)
    }

    /// The address of customer `id`.
    pub fn customer_email(&self, id: i64) -> Result<Option<String>, StoreError> {
        super::customers::customer_email(self.conn, id)
    }

    /// One contact with their tickets.
    pub fn contact(&self, email: &str) -> Result<Option<ContactView>, StoreError> {
        let head = self
            .conn
            .prepare_cached("SELECT email, name, owner, note FROM contacts WHERE email = ?1")?
            .query_row([email], |r| {
                Ok(ContactView {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    owner: r.get(2)?,
                    note: r.get(3)?,
                    tickets: Vec::new(),
                })
            })
            .optional()?;
        let Some(mut contact) = head else {
            return Ok(None);
        };
        contact.tickets = self.contact_tickets(email, 200)?;
        Ok(Some(contact))
    }

    /// The contact panel of ticket `id`: its customer's owner and up to `limit` of
    /// their other tickets. Only what the panel shows is read: a customer with many
    /// tickets must not make their every ticket page slow.
    pub fn contact_panel(
        &self,
        id: i64,
        limit: usize,
        company: Option<&str>,
    ) -> Result<ContactPanel, StoreError> {
        type Head = (Option<String>, bool, Option<String>, ContactNote, i64);
        let head: Option<Head> = self
            .conn
            .prepare_cached(
                "SELECT c.owner, c.blocked, d.domain, c.note, c.note_by, c.note_at, c.id
                 FROM tickets t JOIN contacts c ON c.id = t.contact_id
                 LEFT JOIN blocked_domains d ON substr(c.email, instr(c.email, '@') + 1) = d.domain
                     OR substr(c.email, -length(d.domain) - 1) = '.' || d.domain
                 WHERE t.id = ?1 LIMIT 1",
            )?
            .query_row([id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    ContactNote {
                        text: r.get(3)?,
                        by: r.get(4)?,
                        at: r.get(5)?,
                    },
                    r.get(6)?,
                ))
            })
            .optional()?;
        let Some((owner, blocked, blocked_domain, note, contact)) = head else {
            return Ok(ContactPanel::default());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.subject, t.status FROM tickets t
             WHERE t.contact_id = (SELECT contact_id FROM tickets WHERE id = ?1)
               AND t.merged_into IS NULL AND t.id <> ?1
             ORDER BY t.activity DESC
             LIMIT ?2",
        )?;
        let mut others = stmt
            .query_map(params![id, limit as i64 + 1], other_ticket)?
            .collect::<Result<Vec<_>, _>>()?;
        let more = others.len() > limit;
        others.truncate(limit);
        let (colleagues, colleagues_more) = match company {
            Some(domain) => self.colleague_tickets(id, domain, limit)?,
            None => (Vec::new(), false),
        };
        Ok(ContactPanel {
            id: contact,
            owner,
            note,
            others,
            more,
            blocked,
            blocked_domain,
            colleagues,
            colleagues_more,
        })
    }

    /// Up to `limit` of the latest tickets of the other contacts who write from
    /// `domain` (not ticket `id`'s customer), and whether there are more. None when
    /// more than [`COMPANY_CONTACTS`] write from it: that is a mail provider, whose
    /// customers are strangers to each other, more than a company.
    fn colleague_tickets(
        &self,
        id: i64,
        domain: &str,
        limit: usize,
    ) -> Result<(Vec<super::ColleagueTicket>, bool), StoreError> {
        let contacts: Vec<i64> = self
            .conn
            .prepare_cached(
                "SELECT id FROM contacts INDEXED BY contacts_domain
                 WHERE lower(substr(email, instr(email, '@') + 1)) = lower(?1) LIMIT ?2",
            )?
            .query_map(params![domain, COMPANY_CONTACTS as i64 + 1], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if contacts.len() > COMPANY_CONTACTS {
            return Ok((Vec::new(), false));
        }
        let ids = serde_json::to_string(&contacts).unwrap_or_else(|_| "[]".into());
        let mut found = self
            .conn
            .prepare_cached(
                "SELECT t.id, t.subject, t.status, c.email FROM tickets t JOIN contacts c ON c.id = t.contact_id
                 WHERE t.contact_id IN (SELECT value FROM json_each(?1))
                   AND t.contact_id <> (SELECT contact_id FROM tickets WHERE id = ?2)
                   AND t.merged_into IS NULL
                 ORDER BY t.activity DESC LIMIT ?3",
            )?
            .query_map(params![ids, id, limit as i64 + 1], |r| {
                Ok(super::ColleagueTicket {
                    ticket: other_ticket(r)?,
                    email: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let more = found.len() > limit;
        found.truncate(limit);
        Ok((found, more))
    }

    /// A contact's tickets, newest activity first (along the contact's own index, so a
    /// big desk costs no more than a small one).
    fn contact_tickets(&self, email: &str, limit: i64) -> Result<Vec<TicketSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT ",
            summary_columns!(),
            " FROM tickets t JOIN contacts c ON c.id = t.contact_id
             WHERE t.contact_id = (SELECT id FROM contacts WHERE email = ?1)
               AND t.merged_into IS NULL
             ORDER BY t.activity DESC
             LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![email, limit], summary_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every user address and team name, for checking the config's routing against.
    pub fn routing_names(&self) -> Result<(Vec<UserView>, Vec<String>), StoreError> {
        let teams = self.teams()?.into_iter().map(|t| t.name).collect();
        Ok((self.users()?, teams))
    }

    /// Sign-in data for an address.
    pub fn login_record(&self, email: &str) -> Result<Option<super::LoginRecord>, StoreError> {
        super::web::login_record(self.conn, email)
    }

    /// The authenticator secret `email` is setting up, not yet confirmed.
    pub fn two_step_pending(&self, email: &str) -> Result<Option<String>, StoreError> {
        super::web::two_step_pending(self.conn, email)
    }

    /// Where `email` is signed in, the latest used first; the session with anti-CSRF
    /// token `csrf` marked current.
    pub fn sessions_of(
        &self,
        email: &str,
        csrf: &str,
    ) -> Result<Vec<super::SessionRow>, StoreError> {
        super::web::sessions_of(self.conn, email, csrf)
    }

    /// How many two-step recovery codes `email` has left.
    pub fn recovery_left(&self, email: &str) -> Result<i64, StoreError> {
        super::web::recovery_left(self.conn, email)
    }

    /// A live session by token hash.
    pub fn session(&self, token_hash: &str) -> Result<Option<super::SessionView>, StoreError> {
        super::web::session(self.conn, token_hash)
    }

    /// What the reports page adds up for the period from `since` on.
    pub fn report_facts(&self, since: i64) -> Result<crate::desk::reports::Facts, StoreError> {
        super::reports::report_facts(self.conn, since)
    }

    /// The inbox views `email` saved, by name.
    pub fn saved_views(&self, email: &str) -> Result<Vec<super::SavedView>, StoreError> {
        super::saved_views::saved_views(self.conn, email)
    }

    /// The snippets agents wrote in the page, by name.
    pub fn snippets(&self) -> Result<Vec<super::StoredSnippet>, StoreError> {
        super::snippets::snippets(self.conn)
    }

    /// Agents' notifications created at or before `due_by`, oldest first.
    pub fn due_notices(
        &self,
        due_by: i64,
        limit: u32,
    ) -> Result<Vec<super::DueNotice>, StoreError> {
        super::notify::due_notices(self.conn, due_by, limit)
    }

    /// When the oldest pending notification was created, if any is pending.
    pub fn oldest_notice(&self) -> Result<Option<i64>, StoreError> {
        super::notify::oldest_notice(self.conn)
    }

    /// Which mail about tickets `email` wants; `None` for no such agent.
    pub fn notify_prefs(
        &self,
        email: &str,
    ) -> Result<Option<crate::desk::notify::Prefs>, StoreError> {
        super::notify::prefs(self.conn, email)
    }

    /// When the next snooze ends (unix seconds), if any ticket is snoozed.
    pub fn next_wake(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT MIN(snoozed_until) FROM tickets WHERE snoozed_until IS NOT NULL",
            )?
            .query_row([], |r| r.get(0))?)
    }

    /// Whether any sweep finds a ticket left waiting on the customer too long (see
    /// `desk::auto_close`): the desk writes only when there is one to close.
    pub fn any_waiting_too_long(
        &self,
        sweeps: &[crate::desk::auto_close::Sweep],
    ) -> Result<bool, StoreError> {
        for sweep in sweeps {
            if !super::desk::waiting_too_long(self.conn, sweep, 1)?.is_empty() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The tickets due a reminder before closing (see `close_reminders::due`).
    pub fn close_reminders_due(
        &self,
        sweeps: &[crate::desk::auto_close::Sweep],
        limit: usize,
    ) -> Result<Vec<super::ReminderDue>, StoreError> {
        super::close_reminders::due(self.conn, sweeps, limit)
    }

    /// Where `ticket`'s wait on the customer stands (its reminder, a reply waiting to
    /// go), for the time the desk closes it; `None` for no such ticket.
    pub fn wait_standing(&self, ticket: i64) -> Result<Option<super::WaitStanding>, StoreError> {
        super::close_reminders::wait_standing(self.conn, ticket)
    }

    /// The last message row of `ticket` that `email`'s ticket page showed (0: none).
    pub fn last_seen(&self, email: &str, ticket: i64) -> Result<i64, StoreError> {
        super::web::last_seen(self.conn, email, ticket)
    }

    /// An inbox page.
    pub fn inbox(
        &self,
        view: super::InboxView,
        me: &str,
        q: &super::InboxQuery,
    ) -> Result<Vec<super::InboxRow>, StoreError> {
        super::web::inbox(self.conn, view, me, q)
    }

    /// The values of the fields named `names` on `tickets`: (ticket, name, value), in
    /// no order (an inbox page's rows show them).
    pub fn fields_of(
        &self,
        tickets: &[i64],
        names: &[&str],
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        if tickets.is_empty() || names.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(tickets).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let names = serde_json::to_string(names).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT ticket_id, name, value FROM ticket_fields
             WHERE ticket_id IN (SELECT value FROM json_each(?1))
               AND name IN (SELECT value FROM json_each(?2))",
        )?;
        let rows = stmt.query_map(params![ids, names], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many tickets a view holds with filters (see `web::inbox_count`).
    pub fn inbox_count(
        &self,
        view: super::InboxView,
        me: &str,
        q: &super::InboxQuery,
    ) -> Result<i64, StoreError> {
        super::web::inbox_count(self.conn, view, me, q)
    }

    /// Ticket counts per inbox view.
    /// The Overdue view is counted only with `cutoffs` (a desk with answer targets).
    pub fn inbox_counts(
        &self,
        me: &str,
        cutoffs: Option<&crate::desk::sla::Cutoffs>,
    ) -> Result<Vec<(super::InboxView, i64)>, StoreError> {
        super::web::inbox_counts(self.conn, me, cutoffs)
    }

    /// Full-text search over subjects, bodies and contacts, with the search box's
    /// filters (`desk::search`); `me` is who `owner:me` is.
    pub fn search(
        &self,
        query: &crate::desk::search::SearchQuery,
        me: &str,
        limit: u32,
    ) -> Result<Vec<super::SearchHit>, StoreError> {
        super::web::search(self.conn, self.phrase_figures, query, me, limit)
    }

    /// A ticket's attachments.
    pub fn ticket_attachments(
        &self,
        ticket: i64,
    ) -> Result<Vec<super::AttachmentView>, StoreError> {
        super::web::ticket_attachments(self.conn, ticket)
    }

    /// One attachment, its ticket and its message's raw bytes.
    pub fn attachment(
        &self,
        id: i64,
    ) -> Result<Option<(super::AttachmentView, i64, Vec<u8>)>, StoreError> {
        super::web::attachment(self.conn, id)
    }

    /// A message's files (not the inline images) with the message's original bytes,
    /// which hold them.
    pub fn message_files(
        &self,
        row: i64,
    ) -> Result<(Vec<super::AttachmentView>, Vec<u8>), StoreError> {
        super::web::message_files(self.conn, row)
    }

    /// A message's original bytes (as received or sent) and its ticket.
    pub fn message_original(&self, row: i64) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        super::web::message_original(self.conn, row)
    }

    /// A cheap query proving the database answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserView> {
    Ok(UserView {
        email: r.get(0)?,
        full_name: r.get(1)?,
        first_name: r.get(2)?,
        last_name: r.get(3)?,
        admin: r.get(4)?,
        seat: r.get(5)?,
        available: r.get(6)?,
        active: r.get(7)?,
        notify: super::notify::prefs_at(r, 8)?.list(),
        signature: r.get(15)?,
        two_step: r.get(16)?,
    })
}

/// A [`TicketSummary`] from the first 14 columns of a row ([`summary_columns`]).
pub(super) fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketSummary> {
    Ok(TicketSummary {
        id: r.get(0)?,
        subject: r.get(1)?,
        status: r.get(2)?,
        channel: r.get(3)?,
        contact: ContactRef {
            email: r.get(4)?,
            name: r.get(5)?,
        },
        owner: r.get(6)?,
        messages: r.get(7)?,
        created_at: rfc3339(r.get(8)?),
        updated_at: rfc3339(r.get(9)?),
        pipeline: r.get(10)?,
        priority: r.get(11)?,
        tags: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
        team: r.get(13)?,
    })
}
