//! Reminders before the desk closes a ticket left waiting on the customer
//! ([channel.auto_close] remind): which tickets are due one, and the reminder queued
//! with its mark, so each wait is reminded once.

use rusqlite::{params, Connection, OptionalExtension};

use super::outbound::{queue_mail, QueuedMail};
use super::writer::{event, exec};
use super::StoreError;
use crate::desk::auto_close::Sweep;
use crate::model::TicketId;

/// A ticket whose customer is due the reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderDue {
    /// The ticket.
    pub ticket: TicketId,
    /// Its channel (the reminder's words and From).
    pub channel: String,
    /// Its subject.
    pub subject: String,
    /// Its last change (unix seconds): the wait this reminder is for.
    pub last_change: i64,
    /// The customer's address.
    pub contact_email: String,
    /// The customer's name, if known.
    pub contact_name: Option<String>,
    /// Whether the customer is blocked (no mail goes to them).
    pub blocked: bool,
    /// The newest Message-ID on the ticket, for In-Reply-To (threads it in their mail).
    pub last_message_id: Option<String>,
}

/// Up to `limit` tickets the reminder `sweeps` find (see `desk::auto_close`): waiting
/// as the closing's look would find them, only sooner, and not reminded for their last
/// change. Oldest change first.
pub(super) fn due(
    conn: &Connection,
    sweeps: &[Sweep],
    limit: usize,
) -> Result<Vec<ReminderDue>, StoreError> {
    let mut out = Vec::new();
    for sweep in sweeps {
        let room = limit.saturating_sub(out.len());
        if room == 0 {
            break;
        }
        let mut stmt = conn.prepare_cached(concat!(
            "SELECT t.id, t.channel, t.subject, t.updated_at, c.email, c.name, c.blocked,
                    (SELECT m.message_id FROM messages m WHERE m.ticket_id = t.id
                       AND m.message_id IS NOT NULL ORDER BY m.id DESC LIMIT 1)
             FROM tickets t JOIN contacts c ON c.id = t.contact_id
             WHERE ",
            waiting_on_the_customer!(),
            " AND NOT EXISTS (SELECT 1 FROM close_reminders r
                              WHERE r.ticket_id = t.id AND r.last_change = t.updated_at)
             ORDER BY t.updated_at, t.id LIMIT ?5"
        ))?;
        let rows = stmt.query_map(
            params![
                sweep.waiting,
                sweep.idle_since,
                sweep.channel,
                sweep.pipeline,
                room as i64
            ],
            |r| {
                Ok(ReminderDue {
                    ticket: r.get(0)?,
                    channel: r.get(1)?,
                    subject: r.get(2)?,
                    last_change: r.get(3)?,
                    contact_email: r.get(4)?,
                    contact_name: r.get(5)?,
                    blocked: r.get(6)?,
                    last_message_id: r.get(7)?,
                })
            },
        )?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Mark `ticket`'s wait since `last_change` reminded at `at`, with `mail` queued when
/// one can go (else the history says why none did), in one transaction. `false`
/// (nothing written) when the ticket changed, closed or was reminded since it was found
/// due.
pub(super) fn queue(
    conn: &Connection,
    ticket: TicketId,
    last_change: i64,
    mail: Result<&QueuedMail, &str>,
    at: i64,
    secret: &[u8],
) -> Result<bool, StoreError> {
    let still: Option<i64> = conn
        .prepare_cached(
            "SELECT t.id FROM tickets t
             WHERE t.id = ?1 AND t.updated_at = ?2 AND t.closed = 0
               AND t.merged_into IS NULL AND t.snoozed_until IS NULL
               AND NOT EXISTS (SELECT 1 FROM close_reminders r
                               WHERE r.ticket_id = t.id AND r.last_change = ?2)",
        )?
        .query_row(params![ticket, last_change], |r| r.get(0))
        .optional()?;
    if still.is_none() {
        return Ok(false);
    }
    let message_row: Option<i64> = match mail {
        Ok(mail) => {
            let Some(outbox) = queue_mail(conn, mail, secret)? else {
                return Ok(false);
            };
            conn.prepare_cached("SELECT message_row FROM outbox WHERE id = ?1")?
                .query_row([outbox], |r| r.get(0))?
        }
        Err(why) => {
            event(
                conn,
                ticket,
                "reminder-skipped",
                "frontdesk",
                &format!("no reminder before closing: {why}"),
                at,
            )?;
            None
        }
    };
    exec(
        conn,
        "INSERT INTO close_reminders (ticket_id, last_change, message_row, queued_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![ticket, last_change, message_row, at],
    )?;
    Ok(true)
}

/// Where a ticket's wait on the customer stands, for a page that says when the desk
/// closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitStanding {
    /// When the reminder for its current wait went (or was passed over), if it did.
    pub reminded_at: Option<i64>,
    /// A reply or forward waits to go (the desk leaves the ticket be until it goes).
    pub sending: bool,
}

/// [`WaitStanding`] of `ticket`; `None` when there is no such ticket.
pub(super) fn wait_standing(
    conn: &Connection,
    ticket: TicketId,
) -> Result<Option<WaitStanding>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT r.queued_at FROM close_reminders r
                     WHERE r.ticket_id = t.id AND r.last_change = t.updated_at),
                    EXISTS (SELECT 1 FROM outbox o WHERE o.status = 'queued'
                            AND o.ticket_id = t.id AND o.kind IN ('reply', 'forward'))
             FROM tickets t WHERE t.id = ?1",
        )?
        .query_row([ticket], |r| {
            Ok(WaitStanding {
                reminded_at: r.get(0)?,
                sending: r.get(1)?,
            })
        })
        .optional()?)
}
