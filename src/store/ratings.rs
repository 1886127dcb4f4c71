//! Customers' ratings of replies: the replies a rating link may name, and the rating
//! written with a line in the ticket's history (and, for "Not good", a notification to
//! the reply's author).

use rusqlite::{params, Connection, OptionalExtension};

use super::writer::{event, exec};
use super::StoreError;
use crate::desk::notify::Reason;
use crate::desk::ratings::Rating;
use crate::model::TicketId;

/// A reply a customer may rate, with their rating so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateableReply {
    /// Its message row.
    pub row: i64,
    /// The ticket it is on now (after any merge).
    pub ticket: TicketId,
    /// Its Message-ID (what the link's MAC is of).
    pub message_id: String,
    /// The ticket's subject.
    pub subject: String,
    /// Who wrote it, in words.
    pub agent_name: String,
    /// Unix seconds it was written.
    pub written_at: i64,
    /// The customer's rating so far, and their words.
    pub rating: Option<(Rating, String)>,
    /// It is the survey after closing (it asks about the desk's help, not a reply).
    pub survey: bool,
}

/// The desk's replies on ticket `ticket` (or the ticket it was merged into).
pub(super) fn rateable_replies(
    conn: &Connection,
    ticket: TicketId,
) -> Result<Vec<RateableReply>, StoreError> {
    let Some(live) = super::writer::live_ticket(conn, ticket)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.ticket_id, m.message_id, t.subject, COALESCE(u.full_name, m.from_name, ''),
                m.created_at, r.rating, r.comment,
                EXISTS (SELECT 1 FROM surveys s WHERE s.message_row = m.id)
         FROM messages m JOIN tickets t ON t.id = m.ticket_id
         LEFT JOIN users u ON u.email = m.from_email
         LEFT JOIN ratings r ON r.message_row = m.id
         WHERE m.ticket_id = ?1 AND m.direction = 'outbound' AND m.message_id IS NOT NULL
         ORDER BY m.id",
    )?;
    let rows = stmt.query_map([live], |r| {
        let rating: Option<String> = r.get(6)?;
        let comment: Option<String> = r.get(7)?;
        Ok(RateableReply {
            row: r.get(0)?,
            ticket: r.get(1)?,
            message_id: r.get(2)?,
            subject: r.get(3)?,
            agent_name: r.get(4)?,
            written_at: r.get(5)?,
            rating: rating
                .as_deref()
                .and_then(Rating::parse)
                .map(|x| (x, comment.unwrap_or_default())),
            survey: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The customer rated reply `row`: keep it (replacing an earlier rating) and say so in
/// the ticket's history. A rating of the survey after closing is of the desk's help:
/// its "Not good" goes to the ticket's owner. The words for the history.
pub(super) fn rate(
    conn: &Connection,
    row: i64,
    rating: Rating,
    comment: &str,
    now: i64,
) -> Result<String, StoreError> {
    type Found = (
        TicketId,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let found: Option<(Found, bool)> = conn
        .prepare_cached(
            "SELECT m.ticket_id, COALESCE(u.full_name, m.from_name, m.from_email, 'the desk'), c.email,
                    CASE WHEN s.ticket_id IS NULL THEN m.from_email ELSE t.owner END,
                    (SELECT x.rating FROM ratings x WHERE x.message_row = m.id), s.ticket_id IS NOT NULL
             FROM messages m LEFT JOIN users u ON u.email = m.from_email
             JOIN tickets t ON t.id = m.ticket_id JOIN contacts c ON c.id = t.contact_id
             LEFT JOIN surveys s ON s.message_row = m.id
             WHERE m.id = ?1 AND m.direction = 'outbound'",
        )?
        .query_row([row], |r| {
            Ok((
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                r.get::<_, bool>(5)?,
            ))
        })
        .optional()?;
    let Some(((ticket, agent, customer, author, before), survey)) = found else {
        return Err(StoreError::Invalid(format!("no reply {row}")));
    };
    let customer = customer.unwrap_or_else(|| "the customer".into());
    let words = if survey {
        format!("rated the desk's help: {}", rating.label())
    } else {
        format!("rated {agent}'s reply: {}", rating.label())
    };
    exec(
        conn,
        "INSERT INTO ratings (message_row, rating, comment, rated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (message_row) DO UPDATE SET rating = ?2, comment = ?3, rated_at = ?4",
        params![row, rating.as_str(), comment, now],
    )?;
    event(conn, ticket, "rating", &customer, &words, now)?;
    // The reply's author hears of a "Not good" (once, not again for the same verdict).
    if let (Rating::Bad, Some(author)) = (rating, &author) {
        if before.as_deref() != Some(Rating::Bad.as_str()) {
            super::notify::notify_agent(
                conn,
                author,
                ticket,
                Reason::BadRating,
                &customer,
                Some(row),
                now,
            )?;
        }
    }
    Ok(words)
}

/// Take the rating links out of the search text of the replies stored with them
/// (before the thread kept them out), so "good" or "okay" no longer finds every such
/// reply; how many changed. Run once, by the schema 40 upgrade.
pub(super) fn search_without_rating_links(conn: &Connection) -> Result<usize, StoreError> {
    let rows: Vec<(i64, String)> = conn
        .prepare(
            "SELECT s.rowid, s.body FROM outbox o JOIN search s ON s.rowid = o.message_row
             WHERE o.kind = 'reply' AND instr(s.body, ?1) > 0",
        )?
        .query_map([crate::desk::ratings::REPLY_QUESTION], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut changed = 0;
    for (row, body) in rows {
        if let std::borrow::Cow::Owned(clean) = crate::desk::ratings::without_rating_links(&body) {
            exec(
                conn,
                "UPDATE search SET body = ?1 WHERE rowid = ?2",
                params![clean, row],
            )?;
            changed += 1;
        }
    }
    Ok(changed)
}
