//! Agents' notifications: written in the transaction of the change they tell about,
//! read back by the notifier when due, and swapped for queued mail in one transaction
//! (so each is mailed once, even across a crash).

use rusqlite::{params, Connection, OptionalExtension};

use super::writer::exec;
use super::StoreError;
use crate::desk::lifecycle::Priority;
use crate::desk::notify::{Prefs, Reason};
use crate::desk::sla::{self, Cutoffs, Sla};
use crate::model::{unix_now, TicketId};

/// The `users` column that says whether an agent wants mail for `reason`.
fn pref_column(reason: Reason) -> &'static str {
    match reason {
        Reason::Assigned => "notify_assigned",
        Reason::CustomerReply => "notify_replies",
        Reason::Mention => "notify_mentions",
        Reason::NewTicket => "notify_new",
        Reason::Followed => "notify_followed",
        Reason::Overdue => "notify_overdue",
        Reason::BadRating => "notify_bad_rating",
    }
}

/// Tell the agent `email` about `ticket`, if they want mail for `reason` and are not
/// the one who did it.
pub(super) fn notify_agent(
    conn: &Connection,
    email: &str,
    ticket: TicketId,
    reason: Reason,
    actor: &str,
    message_row: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO notifications (user_id, ticket_id, reason, actor, message_row, created_at)
         SELECT id, ?2, ?3, ?4, ?5, ?6 FROM users
         WHERE email = ?1 AND active = 1 AND {} = 1 AND email <> ?4 COLLATE NOCASE",
        pref_column(reason)
    );
    exec(
        conn,
        &sql,
        params![email, ticket, reason.as_str(), actor, message_row, now],
    )?;
    Ok(())
}

/// Tell every agent who asked for it that `ticket` came in and nobody owns it.
pub(super) fn notify_new_ticket(
    conn: &Connection,
    ticket: TicketId,
    actor: &str,
    message_row: i64,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO notifications (user_id, ticket_id, reason, actor, message_row, created_at)
         SELECT id, ?1, 'new-ticket', ?2, ?3, ?4 FROM users
         WHERE active = 1 AND seat = 1 AND notify_new = 1",
        params![ticket, actor, message_row, now],
    )?;
    Ok(())
}

/// Tell the agents following `ticket` of message `message_row` by `actor` (the
/// customer's mail, a colleague's reply or note), unless they did it or already hear of
/// that message for another reason (so call this after the other notifications).
pub(super) fn notify_followers(
    conn: &Connection,
    ticket: TicketId,
    actor: &str,
    message_row: i64,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO notifications (user_id, ticket_id, reason, actor, message_row, created_at)
         SELECT u.id, ?1, 'followed', ?2, ?3, ?4 FROM followers f JOIN users u ON u.id = f.user_id
         WHERE f.ticket_id = ?1 AND u.active = 1 AND u.notify_followed = 1
           AND u.email <> ?2 COLLATE NOCASE
           AND NOT EXISTS (SELECT 1 FROM notifications n
                           WHERE n.message_row = ?3 AND n.user_id = u.id)",
        params![ticket, actor, message_row, now],
    )?;
    Ok(())
}

/// How many tickets' customers wait past their answer target and were not told of yet
/// (a read, so a look that finds none writes nothing).
pub(super) fn untold_overdue(conn: &Connection, cutoffs: &Cutoffs) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM tickets t WHERE t.id IN ({})
             AND t.overdue_told IS NOT t.waiting_since",
            super::overdue_waits(cutoffs)
        ))?
        .query_row(
            rusqlite::params_from_iter(super::overdue_bind(cutoffs)),
            |r| r.get(0),
        )?)
}

/// Tell the agents whose answers became overdue by `now` under `sla`: a ticket's owner,
/// else its team's members, else every agent with a seat; and its followers (those who
/// want it). Each wait is told once; one already late by more than
/// [`sla::TELL_WITHIN`] (the desk was down, targets were just set) is only marked,
/// being in the Overdue view already. The tickets told about.
pub(super) fn tell_overdue(
    conn: &Connection,
    sla: &Sla,
    now: i64,
) -> Result<Vec<TicketId>, StoreError> {
    let cutoffs = sla.cutoffs(now);
    let waits: Vec<(TicketId, String, String, i64, bool)> = conn
        .prepare_cached(&format!(
            "SELECT t.id, t.channel, t.priority, t.waiting_since, t.answered FROM tickets t
             WHERE t.id IN ({}) AND t.overdue_told IS NOT t.waiting_since
             ORDER BY t.waiting_since, t.id",
            super::overdue_waits(&cutoffs)
        ))?
        .query_map(
            rusqlite::params_from_iter(super::overdue_bind(&cutoffs)),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?
        .collect::<Result<_, _>>()?;
    let mut told = Vec::new();
    for (ticket, channel, priority, since, answered) in waits {
        exec(
            conn,
            "UPDATE tickets SET overdue_told = waiting_since WHERE id = ?1",
            [ticket],
        )?;
        let due = Priority::parse(&priority).and_then(|p| sla.due(&channel, since, p, answered));
        if !due.is_some_and(|due| sla::worth_telling(due, now)) {
            continue;
        }
        // About the customer's latest mail: its sender is who waits, its words the news.
        exec(
            conn,
            "INSERT INTO notifications (user_id, ticket_id, reason, actor, message_row, created_at)
             SELECT u.id, t.id, 'overdue', COALESCE(m.from_email, c.email), m.id, ?2
             FROM tickets t JOIN contacts c ON c.id = t.contact_id
             LEFT JOIN messages m ON m.id = (SELECT MAX(x.id) FROM messages x
                                             WHERE x.ticket_id = t.id AND x.direction = 'inbound')
             JOIN users u ON u.active = 1 AND u.notify_overdue = 1
             WHERE t.id = ?1
               AND (CASE WHEN t.owner IS NOT NULL THEN u.email = t.owner
                         WHEN t.team IS NOT NULL THEN u.id IN (
                             SELECT m2.user_id FROM team_members m2 JOIN teams tm ON tm.id = m2.team_id
                             WHERE tm.name = t.team)
                         ELSE u.seat = 1 END
                    OR u.id IN (SELECT f.user_id FROM followers f WHERE f.ticket_id = t.id))",
            params![ticket, now],
        )?;
        told.push(ticket);
    }
    Ok(told)
}

/// A merged ticket's followers and pending notifications go with its messages (one
/// already following the target stays one follower).
pub(super) fn move_followers_and_notifications(
    conn: &Connection,
    from: TicketId,
    into: TicketId,
) -> Result<(), StoreError> {
    exec(
        conn,
        "UPDATE notifications SET ticket_id = ?1 WHERE ticket_id = ?2",
        params![into, from],
    )?;
    exec(
        conn,
        "UPDATE OR IGNORE followers SET ticket_id = ?1 WHERE ticket_id = ?2",
        params![into, from],
    )?;
    exec(
        conn,
        "DELETE FROM followers WHERE ticket_id = ?1",
        params![from],
    )?;
    Ok(())
}

/// `email` follows `ticket` (`on`) or stops; the words for the history, `None` when
/// nothing changed.
pub(super) fn follow(
    conn: &Connection,
    ticket: TicketId,
    email: &str,
    on: bool,
) -> Result<Option<String>, StoreError> {
    let ticket = super::writer::live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let now = unix_now();
    let changed = if on {
        exec(
            conn,
            "INSERT OR IGNORE INTO followers (user_id, ticket_id, created_at)
             SELECT id, ?2, ?3 FROM users WHERE email = ?1 AND active = 1",
            params![email, ticket, now],
        )?
    } else {
        exec(
            conn,
            "DELETE FROM followers WHERE ticket_id = ?2
               AND user_id = (SELECT id FROM users WHERE email = ?1)",
            params![email, ticket],
        )?
    };
    if changed == 0 {
        return Ok(None);
    }
    let words = if on {
        "follows this ticket"
    } else {
        "stopped following this ticket"
    };
    super::writer::event(conn, ticket, "follow", email, words, now)?;
    Ok(Some(format!("{email} {words} (#{ticket})")))
}

/// Who follows `ticket`, in the order they started.
pub(super) fn followers(conn: &Connection, ticket: TicketId) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.email FROM followers f JOIN users u ON u.id = f.user_id
         WHERE f.ticket_id = ?1 ORDER BY f.created_at, u.email",
    )?;
    let rows = stmt.query_map([ticket], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A notification that is due, with what its mail says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueNotice {
    /// Its id.
    pub id: i64,
    /// The agent's address.
    pub email: String,
    /// The agent's name.
    pub name: String,
    /// The ticket.
    pub ticket: TicketId,
    /// Its subject.
    pub subject: String,
    /// Why.
    pub reason: Reason,
    /// Who did it, as stored: an agent's address, a customer's, or `routing`.
    pub actor: String,
    /// Who did it, in words (an agent's or sender's name when known).
    pub actor_name: String,
    /// The text of the message it is about.
    pub text: Option<String>,
    /// That message's direction (`inbound`, `outbound`, `note`); `survey` for a bad
    /// rating given to the survey after closing (of the desk's help, not a reply).
    pub direction: Option<String>,
    /// Nothing to tell any more: the agent has read the ticket since, it has another
    /// owner (or, for a new ticket, an owner at all), or the agent was deactivated; for
    /// an overdue answer, the customer got it (reading the ticket does not end a wait);
    /// for a bad rating, the customer changed it.
    pub moot: bool,
}

/// A notification's columns, as [`notice_at`] reads them: with its agent, ticket and
/// message (`n`, `u`, `t`, `m`).
const NOTICE_SELECT: &str =
    "SELECT n.id, u.email, u.full_name, n.ticket_id, t.subject, n.reason, n.actor,
                CASE WHEN n.reason = 'bad-rating'
                     THEN COALESCE((SELECT c.name FROM contacts c WHERE c.email = n.actor), n.actor)
                     ELSE COALESCE(a.full_name, m.from_name, n.actor) END,
                CASE WHEN n.reason = 'bad-rating'
                     THEN (SELECT x.comment FROM ratings x WHERE x.message_row = n.message_row)
                     ELSE m.text_body END,
                CASE WHEN n.reason = 'bad-rating'
                          AND EXISTS (SELECT 1 FROM surveys v WHERE v.message_row = n.message_row)
                     THEN 'survey' ELSE m.direction END,
                u.active = 0
                OR t.merged_into IS NOT NULL
                OR (n.reason NOT IN ('overdue', 'bad-rating')
                    AND EXISTS (SELECT 1 FROM ticket_seen s WHERE s.user_id = n.user_id
                                AND s.ticket_id = n.ticket_id
                                AND s.last_message >= COALESCE(n.message_row, 0)))
                OR CASE n.reason
                     WHEN 'assigned' THEN t.owner IS NOT u.email
                     WHEN 'customer-reply' THEN t.owner IS NOT u.email
                     WHEN 'new-ticket' THEN t.owner IS NOT NULL OR t.closed
                     WHEN 'overdue' THEN t.closed OR t.waiting_since IS NOT t.overdue_told
                         OR (t.owner IS NOT NULL AND t.owner IS NOT u.email
                             AND NOT EXISTS (SELECT 1 FROM followers f
                                 WHERE f.user_id = n.user_id AND f.ticket_id = n.ticket_id))
                     WHEN 'bad-rating' THEN NOT EXISTS (SELECT 1 FROM ratings x
                         WHERE x.message_row = n.message_row AND x.rating = 'bad')
                     WHEN 'followed' THEN NOT EXISTS (SELECT 1 FROM followers f
                         WHERE f.user_id = n.user_id AND f.ticket_id = n.ticket_id)
                     ELSE 0 END";

/// The joins [`NOTICE_SELECT`] reads through, after `FROM notifications n …`.
const NOTICE_JOINS: &str = "JOIN users u ON u.id = n.user_id
         JOIN tickets t ON t.id = n.ticket_id
         LEFT JOIN users a ON a.email = n.actor
         LEFT JOIN messages m ON m.id = n.message_row";

/// One row of [`NOTICE_SELECT`].
fn notice_at(r: &rusqlite::Row<'_>) -> rusqlite::Result<DueNotice> {
    let reason: String = r.get(5)?;
    // The CHECK constraint allows only the known names; an unknown one (a newer
    // frontdesk's) is dropped as moot rather than told wrongly.
    let known = Reason::parse(&reason);
    Ok(DueNotice {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        ticket: r.get(3)?,
        subject: r.get(4)?,
        reason: known.unwrap_or(Reason::Mention),
        actor: r.get(6)?,
        actor_name: r.get(7)?,
        text: r.get(8)?,
        direction: r.get(9)?,
        moot: r.get::<_, bool>(10)? || known.is_none(),
    })
}

/// Notifications created at or before `due_by`, oldest first, at most `limit`.
pub(super) fn due_notices(
    conn: &Connection,
    due_by: i64,
    limit: u32,
) -> Result<Vec<DueNotice>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{NOTICE_SELECT}
         FROM notifications n INDEXED BY notifications_due
         {NOTICE_JOINS}
         WHERE n.created_at <= ?1
         ORDER BY n.created_at, n.id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![due_by, limit], notice_at)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Notifications numbered after `after`, in order (numbers are never reused).
pub(super) fn notices_after(conn: &Connection, after: i64) -> Result<Vec<DueNotice>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{NOTICE_SELECT}
         FROM notifications n
         {NOTICE_JOINS}
         WHERE n.id > ?1
         ORDER BY n.id"
    ))?;
    let rows = stmt.query_map(params![after], notice_at)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The number of the newest notification ever written (0 for none).
pub(super) fn last_notice_number(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'notifications'",
        )?
        .query_row([], |r| r.get(0))?)
}

/// When the oldest pending notification was created.
pub(super) fn oldest_notice(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT MIN(created_at) FROM notifications")?
        .query_row([], |r| r.get(0))?)
}

/// A notification mail, ready for the outbox.
#[derive(Debug, Clone)]
pub struct NoticeMail {
    /// The ticket it is (first) about.
    pub ticket: TicketId,
    /// Envelope sender.
    pub mail_from: String,
    /// The agent's address.
    pub recipient: String,
    /// RFC 5322 bytes.
    pub raw: Vec<u8>,
    /// Give up after this many seconds of temporary failures.
    pub max_queue_seconds: i64,
}

/// Queue `mails` and forget the notifications `done` (mailed or moot), together.
pub(super) fn queue_notices(
    conn: &Connection,
    done: &[i64],
    mails: &[NoticeMail],
) -> Result<usize, StoreError> {
    let now = unix_now();
    let mut forget = conn.prepare_cached("DELETE FROM notifications WHERE id = ?1")?;
    for id in done {
        forget.execute([id])?;
    }
    for mail in mails {
        let recipients = serde_json::to_string(&[&mail.recipient]).unwrap_or_else(|_| "[]".into());
        exec(
            conn,
            "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                next_attempt_at, created_at, expires_at, raw)
             VALUES (NULL, ?1, '', 'notification', ?2, ?3, 'queued', ?4, ?4, ?5, ?6)",
            params![
                mail.ticket,
                mail.mail_from,
                recipients,
                now,
                now + mail.max_queue_seconds,
                mail.raw
            ],
        )?;
    }
    Ok(mails.len())
}

/// The mail `email` wants; `None` for no such agent.
pub(super) fn prefs(conn: &Connection, email: &str) -> Result<Option<Prefs>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT notify_assigned, notify_replies, notify_mentions, notify_new, notify_followed,
                    notify_overdue, notify_bad_rating
             FROM users WHERE email = ?1",
        )?
        .query_row([email], |r| prefs_at(r, 0))
        .optional()?)
}

/// [`Prefs`] from seven columns (assigned, customer-reply, mention, new-ticket, followed,
/// overdue, bad-rating), starting at `first`.
pub(super) fn prefs_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Prefs> {
    Ok(Prefs {
        assigned: r.get(first)?,
        customer_reply: r.get(first + 1)?,
        mention: r.get(first + 2)?,
        new_ticket: r.get(first + 3)?,
        followed: r.get(first + 4)?,
        overdue: r.get(first + 5)?,
        bad_rating: r.get(first + 6)?,
    })
}

/// Store what mail `email` wants.
pub(super) fn set_prefs(conn: &Connection, email: &str, p: &Prefs) -> Result<(), StoreError> {
    exec(
        conn,
        "UPDATE users SET notify_assigned = ?1, notify_replies = ?2, notify_mentions = ?3,
            notify_new = ?4, notify_followed = ?5, notify_overdue = ?6, notify_bad_rating = ?7
         WHERE email = ?8",
        params![
            p.assigned,
            p.customer_reply,
            p.mention,
            p.new_ticket,
            p.followed,
            p.overdue,
            p.bad_rating,
            email
        ],
    )?;
    Ok(())
}
