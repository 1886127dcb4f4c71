//! Read-only queries.

use rusqlite::{params, Connection, OptionalExtension};

use super::views::*;
use super::{ImapCursor, StoreError};
use crate::model::rfc3339;

/// Queries over one read-only connection.
pub struct Reader<'c> {
    conn: &'c Connection,
}

impl<'c> Reader<'c> {
    pub(super) fn new(conn: &'c Connection) -> Self {
        Reader { conn }
    }

    /// Tickets, most recently active first; merged tickets are left out.
    pub fn tickets(&self, filter: &TicketFilter) -> Result<Vec<TicketSummary>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.id, t.subject, t.status, t.channel, c.email, c.name, t.owner,
                    (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id), t.created_at, t.updated_at
             FROM tickets t JOIN contacts c ON c.id = t.contact_id
             WHERE t.merged_into IS NULL
               AND (?1 IS NULL OR t.status = ?1 COLLATE NOCASE)
               AND (?2 IS NULL OR t.channel = ?2)
             ORDER BY t.updated_at DESC, t.id DESC
             LIMIT ?3",
        )?;
        let limit = filter.limit.unwrap_or(50) as i64;
        let rows = stmt.query_map(params![filter.status, filter.channel, limit], |r| {
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
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One ticket with its messages, people and events.
    pub fn ticket(&self, id: i64) -> Result<Option<TicketDetail>, StoreError> {
        let head = self
            .conn
            .query_row(
                "SELECT t.id, t.subject, t.status, t.channel, c.email, c.name, t.owner, t.merged_into,
                        t.created_at, t.updated_at
                 FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?1",
                [id],
                |r| {
                    Ok(TicketDetail {
                        id: r.get(0)?,
                        subject: r.get(1)?,
                        status: r.get(2)?,
                        channel: r.get(3)?,
                        contact: ContactRef { email: r.get(4)?, name: r.get(5)? },
                        owner: r.get(6)?,
                        merged_into: r.get(7)?,
                        created_at: rfc3339(r.get(8)?),
                        updated_at: rfc3339(r.get(9)?),
                        messages: Vec::new(),
                        participants: Vec::new(),
                        events: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut detail) = head else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, m.direction, m.message_id, m.from_email, m.subject, m.auto, m.thread_reason,
                    m.forwarded_by, m.source, (SELECT COUNT(*) FROM attachments a WHERE a.message_id = m.id),
                    m.text_body, m.created_at
             FROM messages m WHERE m.ticket_id = ?1 ORDER BY COALESCE(m.sent_at, m.created_at), m.id",
        )?;
        detail.messages = stmt
            .query_map([id], |r| {
                let auto_kind: Option<String> = r.get(5)?;
                Ok(MessageView {
                    id: r.get(0)?,
                    direction: r.get(1)?,
                    message_id: r.get(2)?,
                    from: r.get(3)?,
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
                    created_at: rfc3339(r.get(11)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT c.email, c.name, p.role FROM ticket_participants p JOIN contacts c ON c.id = p.contact_id
             WHERE p.ticket_id = ?1 ORDER BY p.role = 'customer' DESC, p.added_at, c.email",
        )?;
        detail.participants = stmt
            .query_map([id], |r| {
                Ok(ParticipantView {
                    email: r.get(0)?,
                    name: r.get(1)?,
                    role: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT kind, actor, detail, created_at FROM events WHERE ticket_id = ?1 ORDER BY id",
        )?;
        detail.events = stmt
            .query_map([id], |r| {
                Ok(EventView {
                    kind: r.get(0)?,
                    actor: r.get(1)?,
                    detail: r.get(2)?,
                    at: rfc3339(r.get(3)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(detail))
    }

    /// Totals for `status`.
    pub fn counts(&self) -> Result<StoreCounts, StoreError> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM tickets WHERE merged_into IS NULL AND status <> 'Closed'),
                    (SELECT COUNT(*) FROM tickets WHERE merged_into IS NULL),
                    (SELECT COUNT(*) FROM messages),
                    (SELECT COUNT(*) FROM contacts)",
            [],
            |r| Ok(StoreCounts { tickets_open: r.get(0)?, tickets: r.get(1)?, messages: r.get(2)?, contacts: r.get(3)? }),
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

    /// A cheap query proving the database answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}
