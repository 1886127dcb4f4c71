//! The survey after closing ([channel.survey]): which closed tickets are due one, and
//! the survey queued with its mark, so each ticket is asked once.

use rusqlite::{params, Connection, OptionalExtension};

use super::outbound::{queue_mail, QueuedMail};
use super::writer::exec;
use super::StoreError;
use crate::model::TicketId;

/// A survey not sent within this long of its time is left out (the daemon was down for
/// a week, or the channel's delay was shortened): asking so late would puzzle the
/// customer. It also bounds how far back each look goes.
pub const SURVEY_WINDOW: i64 = 7 * 86_400;

/// A closed ticket whose customer is due the survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyDue {
    /// The ticket.
    pub ticket: TicketId,
    /// Its channel (the survey's words and From).
    pub channel: String,
    /// Its subject.
    pub subject: String,
    /// The customer's address.
    pub contact_email: String,
    /// The customer's name, if known.
    pub contact_name: Option<String>,
    /// The newest Message-ID on the ticket, for In-Reply-To (threads it in their mail).
    pub last_message_id: Option<String>,
}

/// Keep `survey_channels` as `channels` (name, seconds after closing) say: a channel
/// that starts asking asks from `now` on, one that stops loses its row.
pub(super) fn sync_channels(
    conn: &Connection,
    channels: &[(String, i64)],
    now: i64,
) -> Result<(), StoreError> {
    let names: Vec<&str> = channels.iter().map(|(n, _)| n.as_str()).collect();
    let listed = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
    exec(
        conn,
        "DELETE FROM survey_channels WHERE channel NOT IN (SELECT value FROM json_each(?1))",
        params![listed],
    )?;
    for (name, after) in channels {
        exec(
            conn,
            "INSERT INTO survey_channels (channel, since, after) VALUES (?1, ?2, ?3)
             ON CONFLICT (channel) DO UPDATE SET after = ?3",
            params![name, now, after],
        )?;
    }
    Ok(())
}

/// Up to `limit` tickets due their survey at `now`: closed (not merged, not spam, its
/// customer not blocked) at least their channel's delay ago and since the channel began
/// asking, within [`SURVEY_WINDOW`] of that; answered by a reply that went; never
/// surveyed. Oldest closing first.
pub(super) fn due(conn: &Connection, now: i64, limit: i64) -> Result<Vec<SurveyDue>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.channel, t.subject, c.email, c.name,
                (SELECT m.message_id FROM messages m
                 WHERE m.ticket_id = t.id AND m.message_id IS NOT NULL ORDER BY m.id DESC LIMIT 1)
         FROM survey_channels s
         JOIN tickets t INDEXED BY tickets_closed_at
              ON t.closed_at >= MAX(s.since, ?1 - s.after - ?2) AND t.closed_at <= ?1 - s.after
             AND t.channel = s.channel
         JOIN contacts c ON c.id = t.contact_id
         WHERE t.closed_at IS NOT NULL AND t.closed = 1 AND t.merged_into IS NULL AND c.blocked = 0 AND c.email <> ?3
           AND NOT EXISTS (SELECT 1 FROM surveys v WHERE v.ticket_id = t.id)
           AND NOT EXISTS (SELECT 1 FROM json_each(t.tags) g WHERE g.value = ?4)
           AND EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = t.id AND o.kind = 'reply'
                       AND o.sent_at IS NOT NULL)
         ORDER BY t.closed_at, t.id
         LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        params![
            now,
            SURVEY_WINDOW,
            crate::ingest::UNKNOWN_SENDER,
            super::writer::SPAM_TAG,
            limit
        ],
        |r| {
            Ok(SurveyDue {
                ticket: r.get(0)?,
                channel: r.get(1)?,
                subject: r.get(2)?,
                contact_email: r.get(3)?,
                contact_name: r.get(4)?,
                last_message_id: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Queue the survey `mail` for its ticket and mark the ticket surveyed, in one
/// transaction; `None` (nothing written) when the ticket opened again or was surveyed
/// since it was found due.
pub(super) fn queue(
    conn: &Connection,
    mail: &QueuedMail,
    secret: &[u8],
    now: i64,
) -> Result<Option<i64>, StoreError> {
    let still: Option<i64> = conn
        .prepare_cached(
            "SELECT t.id FROM tickets t
             WHERE t.id = ?1 AND t.closed = 1 AND t.merged_into IS NULL
               AND NOT EXISTS (SELECT 1 FROM surveys v WHERE v.ticket_id = t.id)",
        )?
        .query_row([mail.ticket_id], |r| r.get(0))
        .optional()?;
    if still.is_none() {
        return Ok(None);
    }
    let Some(outbox) = queue_mail(conn, mail, secret)? else {
        return Ok(None);
    };
    exec(
        conn,
        "INSERT INTO surveys (ticket_id, message_row, queued_at)
         SELECT ticket_id, message_row, ?2 FROM outbox WHERE id = ?1",
        params![outbox, now],
    )?;
    Ok(Some(outbox))
}
