//! The facts the reports page adds up (`desk::reports`): tickets opened or closed in a
//! period, replies sent in it, customers' ratings given in it, and how many tickets are
//! open now.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::StoreError;
use crate::desk::lifecycle::{parse_priority_change, Priority};
use crate::desk::ratings::Rating;
use crate::desk::reports::{Facts, RatingFact, ReplyFact, TicketFact};

/// Facts for the period from `since` on. Merged tickets and spam are left out: they were
/// never work of their own.
pub(super) fn report_facts(conn: &Connection, since: i64) -> Result<Facts, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.channel, t.owner, t.created_at, t.closed, t.closed_at,
                (SELECT m.direction FROM messages m WHERE m.ticket_id = t.id ORDER BY m.id LIMIT 1) = 'inbound',
                t.priority,
                t.closed = 1 AND EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = t.id
                    AND e.kind = 'status' AND e.actor = 'frontdesk' AND e.created_at = t.closed_at
                    AND instr(e.detail, '(' || ?2) > 0)
         FROM tickets t
         WHERE (t.created_at >= ?1 OR t.closed_at >= ?1)
           AND t.merged_into IS NULL
           AND NOT EXISTS (SELECT 1 FROM json_each(t.tags) j WHERE j.value = 'spam')",
    )?;
    let tickets = stmt
        .query_map(params![since, crate::desk::auto_close::WHY], |r| {
            Ok(TicketFact {
                id: r.get(0)?,
                channel: r.get(1)?,
                owner: r.get(2)?,
                created_at: r.get(3)?,
                closed: r.get(4)?,
                closed_at: r.get(5)?,
                customer_first: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
                priority: r.get(7)?,
                priority_changes: Vec::new(),
                closed_unanswered: r.get(8)?,
                fields: Vec::new(),
            })
        })?
        .collect::<Result<Vec<TicketFact>, _>>()?;
    // The same tickets' changes of priority (few: most tickets keep the one they came
    // with), from the history, by the ticket's own index.
    let mut changes: HashMap<i64, Vec<(i64, Priority)>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT e.ticket_id, e.created_at, e.detail
         FROM tickets t JOIN events e ON e.ticket_id = t.id
         WHERE (t.created_at >= ?1 OR t.closed_at >= ?1)
           AND t.merged_into IS NULL AND e.kind = 'priority'
         ORDER BY e.ticket_id, e.id",
    )?;
    let rows = stmt.query_map([since], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (ticket, at, words) = row?;
        if let Some((before, _)) = parse_priority_change(&words) {
            changes.entry(ticket).or_default().push((at, before));
        }
    }
    // Their ticket fields, for the tables by field.
    let mut fields: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT f.ticket_id, f.name, f.value
         FROM tickets t JOIN ticket_fields f ON f.ticket_id = t.id
         WHERE (t.created_at >= ?1 OR t.closed_at >= ?1) AND t.merged_into IS NULL",
    )?;
    let rows = stmt.query_map([since], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    for row in rows {
        let (ticket, name, value) = row?;
        fields.entry(ticket).or_default().push((name, value));
    }
    let tickets = tickets
        .into_iter()
        .map(|mut t| {
            t.priority_changes = changes.remove(&t.id).unwrap_or_default();
            t.fields = fields.remove(&t.id).unwrap_or_default();
            t
        })
        .collect();
    // A reply cancelled before it went has no `sent_at`; one that bounced later was
    // still an answer sent.
    let mut stmt = conn.prepare_cached(
        "SELECT o.ticket_id, o.sent_at, m.from_email FROM outbox o JOIN messages m ON m.id = o.message_row
         WHERE o.kind = 'reply' AND o.sent_at IS NOT NULL AND o.sent_at >= ?1",
    )?;
    let replies = stmt
        .query_map([since], |r| {
            Ok(ReplyFact {
                ticket: r.get(0)?,
                sent_at: r.get(1)?,
                agent: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        // A survey's rating counts for the agent who owns its ticket (the desk's
        // address sent it).
        "SELECT COALESCE(CASE WHEN s.ticket_id IS NULL THEN m.from_email ELSE t.owner END, ''),
                r.rating, r.rated_at, s.ticket_id IS NOT NULL, m.channel
         FROM ratings r INDEXED BY ratings_rated_at JOIN messages m ON m.id = r.message_row
         LEFT JOIN surveys s ON s.message_row = m.id LEFT JOIN tickets t ON t.id = s.ticket_id
         WHERE r.rated_at >= ?1",
    )?;
    let ratings = stmt
        .query_map([since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .filter_map(|row| match row {
            Ok((agent, rating, rated_at, survey, channel)) => {
                Rating::parse(&rating).map(|rating| {
                    Ok(RatingFact {
                        agent,
                        rating,
                        rated_at,
                        survey,
                        channel,
                    })
                })
            }
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()?;
    let (open_now, unassigned_now) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(owner IS NULL), 0) FROM tickets
         WHERE closed = 0 AND merged_into IS NULL",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Facts {
        tickets,
        replies,
        ratings,
        open_now,
        unassigned_now,
    })
}
