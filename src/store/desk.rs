//! Writes for routing, lifecycle, teams and ticket properties.

use rusqlite::{params, Connection, OptionalExtension};

use super::writer::{event, exec, live_ticket};
use super::StoreError;
use crate::desk::lifecycle::{on_agent_reply, on_customer_message, Pipeline, Priority};
use crate::desk::notify::Reason;
use crate::desk::routing::{route, route_with_reason, AgentState, RoutingRule};
use crate::model::{rfc3339, unix_now, TicketId};

/// Every agent with what routing needs: seat, availability, open tickets, teams.
pub(super) fn agent_states(conn: &Connection) -> Result<Vec<AgentState>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.email, u.active, u.seat, u.available,
                (SELECT COUNT(*) FROM tickets t WHERE t.owner = u.email AND t.closed = 0 AND t.merged_into IS NULL),
                (SELECT group_concat(tm.name, char(10)) FROM team_members m JOIN teams tm ON tm.id = m.team_id WHERE m.user_id = u.id)
         FROM users u ORDER BY u.email",
    )?;
    let rows = stmt.query_map([], |r| {
        let teams: Option<String> = r.get(5)?;
        Ok(AgentState {
            email: r.get(0)?,
            active: r.get(1)?,
            seat: r.get(2)?,
            available: r.get(3)?,
            open_tickets: r.get::<_, i64>(4)?.max(0) as u32,
            teams: teams
                .map(|t| t.split('\n').map(str::to_string).collect())
                .unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Route a ticket that was just opened, inside its transaction.
pub(super) fn route_new_ticket(
    conn: &Connection,
    ticket: TicketId,
    channel: &str,
    contact_id: i64,
    rule: &RoutingRule,
    now: i64,
) -> Result<Option<String>, StoreError> {
    if rule.mode == crate::desk::routing::RoutingMode::Nobody {
        return Ok(None);
    }
    let agents = agent_states(conn)?;
    let owner: Option<String> = conn
        .prepare_cached("SELECT owner FROM contacts WHERE id = ?1")?
        .query_row([contact_id], |r| r.get(0))
        .optional()?
        .flatten();
    let last: Option<String> = conn
        .prepare_cached("SELECT last_assigned FROM routing_state WHERE channel = ?1")?
        .query_row([channel], |r| r.get(0))
        .optional()?
        .flatten();
    let Some((chosen, reason)) =
        route_with_reason(rule, &agents, owner.as_deref(), last.as_deref())
    else {
        event(
            conn,
            ticket,
            "unassigned",
            "routing",
            "no eligible agent",
            now,
        )?;
        return Ok(None);
    };
    exec(
        conn,
        "UPDATE tickets SET owner = ?1 WHERE id = ?2",
        params![chosen, ticket],
    )?;
    exec(
        conn,
        "INSERT INTO routing_state (channel, last_assigned) VALUES (?1, ?2)
         ON CONFLICT(channel) DO UPDATE SET last_assigned = excluded.last_assigned",
        params![channel, chosen],
    )?;
    event(
        conn,
        ticket,
        "assigned",
        "routing",
        &format!("assigned to {chosen} ({})", reason.as_str()),
        now,
    )?;
    super::notify::notify_agent(
        conn,
        &chosen,
        ticket,
        Reason::Assigned,
        "routing",
        None,
        now,
    )?;
    Ok(Some(chosen))
}

pub(super) fn ticket_state(
    conn: &Connection,
    ticket: TicketId,
) -> Result<(String, String), StoreError> {
    conn.prepare_cached("SELECT pipeline, status FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))
}

fn set_status(
    conn: &Connection,
    ticket: TicketId,
    pipeline: &Pipeline,
    status: &str,
    now: i64,
) -> Result<(), StoreError> {
    // A closed ticket has nothing to wake up for.
    exec(
        conn,
        "UPDATE tickets SET status = ?1, closed = ?2, updated_at = ?3,
             snoozed_until = CASE WHEN ?2 THEN NULL ELSE snoozed_until END,
             closed_at = CASE WHEN NOT ?2 THEN NULL WHEN closed THEN closed_at ELSE ?3 END
         WHERE id = ?4",
        params![status, pipeline.is_closed(status), now, ticket],
    )?;
    Ok(())
}

/// Refuse an agent's move of `ticket` into `stage` of `p` while a field the pipeline
/// wants before closing (`required_to_close`) is empty; a ticket already there passes.
fn check_fields_to_close(
    conn: &Connection,
    ticket: TicketId,
    p: &Pipeline,
    (from, stage): (&str, &str),
) -> Result<(), StoreError> {
    if p.required_to_close.is_empty() || from.eq_ignore_ascii_case(stage) {
        return Ok(());
    }
    let filled: Vec<String> = conn
        .prepare_cached("SELECT name FROM ticket_fields WHERE ticket_id = ?1")?
        .query_map([ticket], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    match p.missing_to_close(stage, &filled).as_slice() {
        [] => Ok(()),
        missing => Err(StoreError::Invalid(
            crate::desk::lifecycle::missing_fields_words(missing),
        )),
    }
}

fn find_pipeline<'a>(pipelines: &'a [Pipeline], name: &str) -> Option<&'a Pipeline> {
    pipelines.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// A customer's message reopens a closed ticket, or brings one waiting on them back to us.
pub(super) fn after_customer_message(
    conn: &Connection,
    ticket: TicketId,
    pipelines: &[Pipeline],
    who: &str,
    now: i64,
) -> Result<(), StoreError> {
    let woken = conn
        .prepare_cached(
            "UPDATE tickets SET snoozed_until = NULL WHERE id = ?1 AND snoozed_until IS NOT NULL",
        )?
        .execute([ticket])?;
    if woken > 0 {
        event(
            conn,
            ticket,
            "snooze",
            who,
            "woken: the customer wrote",
            now,
        )?;
    }
    let (pipeline, status) = ticket_state(conn, ticket)?;
    let Some(p) = find_pipeline(pipelines, &pipeline) else {
        return Ok(());
    };
    if let Some(next) = on_customer_message(p, &status) {
        set_status(conn, ticket, p, &next, now)?;
        let kind = if p.is_closed(&status) {
            "reopened"
        } else {
            "status"
        };
        event(
            conn,
            ticket,
            kind,
            who,
            &format!("{status} → {next} (customer replied)"),
            now,
        )?;
    }
    Ok(())
}

/// An agent's reply moves the ticket to the pipeline's agent-reply stage.
pub(super) fn after_agent_reply(
    conn: &Connection,
    ticket: TicketId,
    pipelines: &[Pipeline],
    agent: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (pipeline, status) = ticket_state(conn, ticket)?;
    let Some(p) = find_pipeline(pipelines, &pipeline) else {
        return Ok(());
    };
    if let Some(next) = on_agent_reply(p, &status) {
        move_for(
            conn,
            ticket,
            p,
            (&status, &next),
            "agent replied",
            agent,
            now,
        )?;
    }
    Ok(())
}

/// Move a ticket from one stage to another for a reason the history gives in brackets.
fn move_for(
    conn: &Connection,
    ticket: TicketId,
    p: &Pipeline,
    (from, to): (&str, &str),
    why: &str,
    agent: &str,
    now: i64,
) -> Result<(), StoreError> {
    set_status(conn, ticket, p, to, now)?;
    event(
        conn,
        ticket,
        "status",
        agent,
        &format!("{from} → {to} ({why})"),
        now,
    )
}

/// A cancelled reply's ticket goes back to the status it had before the reply moved it,
/// if it is still where the reply left it (a later change by anyone stands).
pub(super) fn undo_reply_status(
    conn: &Connection,
    ticket: TicketId,
    pipelines: &[Pipeline],
    (before, after): (&str, &str),
    agent: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (pipeline, status) = ticket_state(conn, ticket)?;
    let Some(p) = find_pipeline(pipelines, &pipeline) else {
        return Ok(());
    };
    if status == after && before != after && p.stages.iter().any(|s| s.name == before) {
        move_for(
            conn,
            ticket,
            p,
            (&status, before),
            "reply cancelled",
            agent,
            now,
        )?;
    }
    Ok(())
}

/// Close a ticket with the reply just queued ("Send and close"): its pipeline's first
/// closed stage. A pipeline without one refuses, and the reply with it.
pub(super) fn close_with_reply(
    conn: &Connection,
    ticket: TicketId,
    pipelines: &[Pipeline],
    agent: &str,
    now: i64,
) -> Result<(), StoreError> {
    let (pipeline, status) = ticket_state(conn, ticket)?;
    let p = find_pipeline(pipelines, &pipeline).ok_or_else(|| {
        StoreError::Invalid(format!(
            "ticket #{ticket}'s pipeline {pipeline:?} is no longer configured"
        ))
    })?;
    let stage = p
        .closing_stage()
        .ok_or_else(|| StoreError::Invalid(format!("pipeline {:?} has no closed stage", p.name)))?;
    if stage.name != status {
        check_fields_to_close(conn, ticket, p, (&status, &stage.name))?;
        move_for(
            conn,
            ticket,
            p,
            (&status, &stage.name),
            "closed with the reply",
            agent,
            now,
        )?;
    }
    Ok(())
}

/// Mark a ticket as spam (`spam`) or not. Spam blocks its customer, tags the ticket
/// `spam` and closes it; the customer's later mail is filed the same way (see
/// `writer::ingest`). "Not spam" unblocks them, takes the tag off and, if the ticket
/// was filed as spam, reopens it as their mail would. The words for the history.
pub(super) fn mark_spam(
    conn: &Connection,
    ticket: TicketId,
    spam: bool,
    pipelines: &[Pipeline],
    agent: &str,
) -> Result<String, StoreError> {
    mark_spam_with_domain(conn, ticket, spam, (pipelines, None), agent)
}

/// [`mark_spam`], and with `Some(own addresses)` block (or, for not spam, unblock) the
/// sender's whole domain too, unless it is a shared mail service or one of ours. "Not
/// spam" always lifts a block on the sender's domain.
pub(super) fn mark_spam_with_domain(
    conn: &Connection,
    ticket: TicketId,
    spam: bool,
    (pipelines, domain_of): (&[Pipeline], Option<&[String]>),
    agent: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let (contact, email): (i64, String) = conn
        .prepare_cached(
            "SELECT c.id, c.email FROM tickets t JOIN contacts c ON c.id = t.contact_id WHERE t.id = ?1",
        )?
        .query_row([ticket], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let tags: String = conn
        .prepare_cached("SELECT tags FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| r.get(0))?;
    // A ticket of theirs closed for its own reasons stays closed on "Not spam".
    let filed_as_spam = serde_json::from_str::<Vec<String>>(&tags)
        .unwrap_or_default()
        .iter()
        .any(|t| t == super::writer::SPAM_TAG);
    let now = unix_now();
    exec(
        conn,
        "UPDATE contacts SET blocked = ?1 WHERE id = ?2",
        params![spam, contact],
    )?;
    let tag = [super::writer::SPAM_TAG.to_string()];
    let (add, remove): (&[String], &[String]) = if spam { (&tag, &[]) } else { (&[], &tag) };
    set_tags(conn, ticket, add, remove, agent)?;
    let (pipeline, status) = ticket_state(conn, ticket)?;
    let p = find_pipeline(pipelines, &pipeline);
    let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_string();
    let domain_words = match (spam, domain_of) {
        (true, Some(own)) => {
            let domain = crate::desk::spam::blockable_domain(&email, own)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            exec(
                conn,
                "INSERT OR IGNORE INTO blocked_domains (domain, blocked_by, created_at)
                 VALUES (?1, ?2, ?3)",
                params![domain, agent, now],
            )?;
            format!(", and so is all of {domain}")
        }
        (false, _) => {
            // The block that caught them: their domain, or one it is part of.
            let lifted: Vec<String> = conn
                .prepare_cached(
                    "DELETE FROM blocked_domains WHERE ?1 = domain OR substr(?1, -length(domain) - 1) = '.' || domain
                     RETURNING domain",
                )?
                .query_map(params![domain], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if lifted.is_empty() {
                String::new()
            } else {
                format!(", nor is {}", lifted.join(", "))
            }
        }
        (true, None) => String::new(),
    };
    let words = if spam {
        format!("marked as spam; {email} is blocked{domain_words}")
    } else {
        format!("not spam; {email} is no longer blocked{domain_words}")
    };
    event(conn, ticket, "spam", agent, &words, now)?;
    let next = match p {
        Some(p) if spam => p
            .closing_stage()
            .filter(|s| s.name != status)
            .map(|s| s.name.clone()),
        Some(p) => {
            on_customer_message(p, &status).filter(|_| filed_as_spam && p.is_closed(&status))
        }
        None => None,
    };
    if let (Some(p), Some(next)) = (p, next) {
        let why = if spam { "spam" } else { "not spam" };
        move_for(conn, ticket, p, (&status, &next), why, agent, now)?;
    }
    Ok(words)
}

/// How a ticket should be assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// To this agent.
    Agent(String),
    /// To this team: its least-loaded eligible member, if any.
    Team(String),
    /// To nobody.
    Nobody,
}

/// Assign a ticket by hand.
pub(super) fn assign(
    conn: &Connection,
    ticket: TicketId,
    to: &Assignment,
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let now = unix_now();
    let (owner, team, words) = match to {
        Assignment::Nobody => (None, None, "unassigned".to_string()),
        Assignment::Agent(email) => {
            let active: Option<bool> = conn
                .prepare_cached("SELECT active FROM users WHERE email = ?1")?
                .query_row([email], |r| r.get(0))
                .optional()?;
            match active {
                None => return Err(StoreError::Invalid(format!("no user {email}"))),
                Some(false) => {
                    return Err(StoreError::Invalid(format!("user {email} is deactivated")))
                }
                Some(true) => (Some(email.clone()), None, format!("assigned to {email}")),
            }
        }
        Assignment::Team(name) => {
            let canonical: Option<String> = conn
                .prepare_cached("SELECT name FROM teams WHERE name = ?1 COLLATE NOCASE")?
                .query_row([name], |r| r.get(0))
                .optional()?;
            let Some(team) = canonical else {
                return Err(StoreError::Invalid(format!("no team {name}")));
            };
            let rule = RoutingRule {
                mode: crate::desk::routing::RoutingMode::UsersAndTeams,
                users: Vec::new(),
                teams: vec![team.clone()],
                available_only: true,
            };
            let chosen = route(&rule, &agent_states(conn)?, None, None);
            let words = match &chosen {
                Some(a) => format!("assigned to team {team} ({a})"),
                None => format!("assigned to team {team} (no member available)"),
            };
            (chosen, Some(team), words)
        }
    };
    let before: Option<String> = conn
        .prepare_cached("SELECT owner FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| r.get(0))?;
    exec(
        conn,
        "UPDATE tickets SET owner = ?1, team = ?2, updated_at = ?3 WHERE id = ?4",
        params![owner, team, now, ticket],
    )?;
    // A ticket a colleague hands to an agent is new to them, as a new message is: what
    // their ticket page showed them before, they last read as someone else's ticket.
    if let Some(new_owner) = owner.as_deref() {
        if before.as_deref() != Some(new_owner) && new_owner != actor {
            exec(
                conn,
                "DELETE FROM ticket_seen WHERE ticket_id = ?1
                   AND user_id = (SELECT id FROM users WHERE email = ?2)",
                params![ticket, new_owner],
            )?;
            super::notify::notify_agent(
                conn,
                new_owner,
                ticket,
                Reason::Assigned,
                actor,
                None,
                now,
            )?;
        }
    }
    event(conn, ticket, "assigned", actor, &words, now)?;
    Ok(words)
}

/// Add and remove a ticket's tags; the words for the history ("+vip −refund"), or
/// "tags unchanged" (and no event) when the list stays as it was.
pub(super) fn set_tags(
    conn: &Connection,
    ticket: TicketId,
    add: &[String],
    remove: &[String],
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let stored: String = conn
        .prepare_cached("SELECT tags FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| r.get(0))?;
    let before: Vec<String> = serde_json::from_str(&stored).unwrap_or_default();
    let after = crate::desk::tags::edit(&before, add, remove)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let words = crate::desk::tags::describe(&before, &after);
    if words.is_empty() {
        return Ok("tags unchanged".into());
    }
    let json = serde_json::to_string(&after).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let now = unix_now();
    exec(
        conn,
        "UPDATE tickets SET tags = ?1, updated_at = ?2 WHERE id = ?3",
        params![json, now, ticket],
    )?;
    event(conn, ticket, "tags", actor, &words, now)?;
    Ok(words)
}

/// Give `ticket` what the rules for every mail gave the customer's later mail on it:
/// their tags added, their priority, and their fields where the ticket has none. When
/// that changed something the history names the rules; rules that find the ticket as
/// they say record nothing. Tags a full
/// ticket has no room for are left out, and the history says so: the mail is never
/// refused for them.
pub(super) fn later_mail_rules(
    conn: &Connection,
    ticket: TicketId,
    outcome: &crate::desk::rules::Outcome,
    now: i64,
) -> Result<(), StoreError> {
    if outcome.applied.is_empty() {
        return Ok(());
    }
    let (stored, priority): (String, String) = conn
        .prepare_cached("SELECT tags, priority FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let before: Vec<String> = serde_json::from_str(&stored).unwrap_or_default();
    let (tags, left_out) = match crate::desk::tags::edit(&before, &outcome.tags, &[]) {
        Ok(tags) => (tags, None),
        Err(e) => (before.clone(), Some(e)),
    };
    let new_priority = outcome
        .priority
        .map(|p| p.as_str())
        .filter(|p| *p != priority);
    // Fields are filled in where the ticket has none: a value an agent (or an earlier
    // rule) gave stands.
    let mut filled = Vec::new();
    for (name, value) in &outcome.fields {
        let added = exec(
            conn,
            "INSERT OR IGNORE INTO ticket_fields (ticket_id, name, value) VALUES (?1, ?2, ?3)",
            params![ticket, name, value],
        )?;
        if added > 0 {
            filled.push(crate::desk::ticket_fields::change_words(
                name,
                None,
                Some(value),
            ));
        }
    }
    if tags == before && new_priority.is_none() && filled.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_string(&tags).map_err(|e| StoreError::Invalid(e.to_string()))?;
    exec(
        conn,
        "UPDATE tickets SET tags = ?1, priority = coalesce(?2, priority) WHERE id = ?3",
        params![json, new_priority, ticket],
    )?;
    for words in &filled {
        event(conn, ticket, "field", "frontdesk", words, now)?;
    }
    for applied in &outcome.applied {
        let words = match &left_out {
            Some(e) if !outcome.tags.is_empty() => format!("{applied} (tags not added: {e})"),
            _ => applied.clone(),
        };
        event(conn, ticket, "rule", "frontdesk", &words, now)?;
    }
    Ok(())
}

/// Snooze an open ticket until `until` (unix seconds, in the future), or wake it
/// (`None`); the words for the history.
pub(super) fn snooze(
    conn: &Connection,
    ticket: TicketId,
    until: Option<i64>,
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let (closed, snoozed): (bool, Option<i64>) = conn
        .prepare_cached("SELECT closed, snoozed_until FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let now = unix_now();
    let words = match until {
        Some(_) if closed => {
            return Err(StoreError::Invalid(format!(
                "ticket #{ticket} is closed: only an open ticket can be snoozed"
            )))
        }
        Some(t) if t <= now => {
            return Err(StoreError::Invalid(format!(
                "a snooze must end in the future, not at {}",
                rfc3339(t)
            )))
        }
        Some(t) => format!("snoozed until {}", rfc3339(t)),
        None if snoozed.is_none() => return Ok(format!("ticket #{ticket} was not snoozed")),
        None => "woken by hand".to_string(),
    };
    exec(
        conn,
        "UPDATE tickets SET snoozed_until = ?1, updated_at = ?2 WHERE id = ?3",
        params![until, now, ticket],
    )?;
    event(conn, ticket, "snooze", actor, &words, now)?;
    Ok(words)
}

/// Wake every ticket whose snooze has ended by `now`: back on top of the open views.
pub(super) fn wake_due(conn: &Connection, now: i64) -> Result<Vec<TicketId>, StoreError> {
    let due: Vec<TicketId> = conn
        .prepare_cached(
            "SELECT id FROM tickets WHERE snoozed_until IS NOT NULL AND snoozed_until <= ?1
             ORDER BY snoozed_until, id",
        )?
        .query_map([now], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for &ticket in &due {
        exec(
            conn,
            "UPDATE tickets SET snoozed_until = NULL, updated_at = ?1 WHERE id = ?2",
            params![now, ticket],
        )?;
        event(conn, ticket, "snooze", "frontdesk", "the snooze ended", now)?;
    }
    Ok(due)
}

/// The tickets `sweep` finds waiting on the customer untouched (see
/// `desk::auto_close` and `waiting_on_the_customer!`), at most `limit`, oldest change
/// first, with their status. With a reminder, only those reminded early enough.
pub(super) fn waiting_too_long(
    conn: &Connection,
    sweep: &crate::desk::auto_close::Sweep,
    limit: usize,
) -> Result<Vec<(TicketId, String)>, StoreError> {
    let rows = conn
        .prepare_cached(concat!(
            "SELECT t.id, t.status FROM tickets t WHERE ",
            waiting_on_the_customer!(),
            " AND (?6 IS NULL OR EXISTS (SELECT 1 FROM close_reminders r
                   WHERE r.ticket_id = t.id AND r.last_change = t.updated_at AND r.queued_at <= ?6))
             ORDER BY t.updated_at, t.id LIMIT ?5"
        ))?
        .query_map(
            params![
                sweep.waiting,
                sweep.idle_since,
                sweep.channel,
                sweep.pipeline,
                limit as i64,
                sweep.reminded_by
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Close the tickets the sweeps find (see [`waiting_too_long`]), at most `limit` in
/// all; the tickets closed.
pub(super) fn auto_close(
    conn: &Connection,
    sweeps: &[crate::desk::auto_close::Sweep],
    now: i64,
    limit: usize,
) -> Result<Vec<TicketId>, StoreError> {
    let mut closed = Vec::new();
    for sweep in sweeps {
        let room = limit.saturating_sub(closed.len());
        if room == 0 {
            break;
        }
        // Only the closing stage matters to the move (whether it closes).
        let pipeline = Pipeline {
            name: sweep.pipeline.clone(),
            stages: vec![crate::desk::lifecycle::Stage {
                name: sweep.closing.clone(),
                closed: true,
            }],
            reopen_stage: String::new(),
            agent_reply_stage: String::new(),
            required_to_close: Vec::new(),
        };
        for (ticket, status) in waiting_too_long(conn, sweep, room)? {
            move_for(
                conn,
                ticket,
                &pipeline,
                (&status, &sweep.closing),
                &sweep.why,
                "frontdesk",
                now,
            )?;
            closed.push(ticket);
        }
    }
    Ok(closed)
}

/// Merge ticket `from` into `into` by hand (following earlier merges of either): its
/// messages, thread ids and people move, and `from` stays as a pointer to `into`.
pub(super) fn merge(
    conn: &Connection,
    from: TicketId,
    into: TicketId,
    actor: &str,
) -> Result<String, StoreError> {
    let from_live = live_ticket(conn, from)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{from}")))?;
    let into_live = live_ticket(conn, into)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{into}")))?;
    if from_live == into_live {
        return Err(StoreError::Invalid(if from == into {
            format!("ticket #{from} cannot be merged into itself")
        } else {
            format!("tickets #{from} and #{into} are already one ticket, #{into_live}")
        }));
    }
    super::writer::merge_ticket(
        conn,
        from_live,
        into_live,
        &format!("merged by {actor}"),
        unix_now(),
    )?;
    Ok(format!("ticket #{from_live} merged into #{into_live}"))
}

/// Split the customer's mail `row` (not the one that opened it) off `ticket` into a new
/// ticket of its own (a new question asked on an old thread). The mail and its
/// Message-ID move (answers to it thread to the new ticket); the new ticket has the
/// mail's sender as customer, the old one's channel, pipeline (in its first open stage),
/// priority, owner and team; both histories say so. The new ticket's number.
pub(super) fn split(
    conn: &Connection,
    ticket: TicketId,
    row: i64,
    (pipelines, own): (&[Pipeline], &[String]),
    actor: &str,
) -> Result<TicketId, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    type Mail = (String, Option<i64>, String, Option<String>, i64, String);
    let mail: Option<Mail> = conn
        .prepare_cached(
            "SELECT direction, contact_id, subject, message_id, created_at, headers FROM messages
             WHERE id = ?1 AND ticket_id = ?2",
        )?
        .query_row(params![row, ticket], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let (direction, sender, subject, message_id, created_at, headers) = mail
        .ok_or_else(|| StoreError::Invalid(format!("message {row} is not on ticket #{ticket}")))?;
    if direction != "inbound" {
        return Err(StoreError::Invalid(format!(
            "message {row} is not a customer's mail: only those are split off"
        )));
    }
    // The mail that opened the ticket stays: it is what the ticket is about.
    let opening: i64 = conn
        .prepare_cached(
            "SELECT id FROM messages WHERE ticket_id = ?1
             ORDER BY COALESCE(sent_at, created_at), id LIMIT 1",
        )?
        .query_row([ticket], |r| r.get(0))?;
    if opening == row {
        return Err(StoreError::Invalid(format!(
            "message {row} opened ticket #{ticket}: only a later mail is split off"
        )));
    }
    type Head = (String, i64, String, String, Option<String>, Option<String>);
    let (channel, customer, pipeline, priority, owner, team): Head = conn
        .prepare_cached(
            "SELECT channel, contact_id, pipeline, priority, owner, team FROM tickets WHERE id = ?1",
        )?
        .query_row([ticket], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
    let stage = find_pipeline(pipelines, &pipeline)
        .and_then(|p| p.stages.iter().find(|s| !s.closed))
        .map(|s| s.name.clone())
        .ok_or_else(|| {
            StoreError::Invalid(format!(
                "ticket #{ticket}'s pipeline {pipeline:?} is no longer configured"
            ))
        })?;
    let contact = sender.unwrap_or(customer);
    let now = unix_now();
    exec(
        conn,
        concat!(
            "INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at,
                 pipeline, priority, owner, team)
             VALUES (",
            super::erase::next_ticket_id!(),
            ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            crate::desk::subject::split_off(&subject),
            stage,
            channel,
            contact,
            created_at,
            now,
            pipeline,
            priority,
            owner,
            team
        ],
    )?;
    let new = conn.last_insert_rowid();
    // The same order, the same product: the fields go along as they are.
    exec(
        conn,
        "INSERT INTO ticket_fields (ticket_id, name, value)
         SELECT ?1, name, value FROM ticket_fields WHERE ticket_id = ?2",
        params![new, ticket],
    )?;
    super::writer::add_participant(conn, new, contact, "customer", now)?;
    // Whom the mail copied are the new ticket's people too (its replies copy them).
    let customer_email: String = conn
        .prepare_cached("SELECT email FROM contacts WHERE id = ?1")?
        .query_row([contact], |r| r.get(0))?;
    let copied = crate::ingest::parse::parse(format!("{headers}\r\n\r\n").as_bytes())
        .map(|mail| crate::ingest::copied_people(&mail, own, &customer_email))
        .unwrap_or_default();
    for person in &copied {
        let id = super::writer::upsert_contact(conn, person, now)?;
        super::writer::add_participant(conn, new, id, "participant", now)?;
    }
    exec(
        conn,
        "UPDATE messages SET ticket_id = ?1 WHERE id = ?2",
        params![new, row],
    )?;
    if let Some(id) = message_id {
        exec(
            conn,
            "UPDATE thread_ids SET ticket_id = ?1 WHERE msgid = ?2 AND ticket_id = ?3",
            params![new, id, ticket],
        )?;
    }
    exec(
        conn,
        "UPDATE tickets SET updated_at = ?1 WHERE id = ?2",
        params![now, ticket],
    )?;
    event(
        conn,
        ticket,
        "split",
        actor,
        &format!("message {row} split off into ticket #{new}"),
        now,
    )?;
    event(
        conn,
        new,
        "split",
        actor,
        &format!("split off ticket #{ticket} (message {row})"),
        now,
    )?;
    Ok(new)
}

/// One change made to many tickets at once (the inbox's bulk form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkChange {
    /// A new owner, or none to leave owners as they are.
    pub assign: Option<Assignment>,
    /// A stage of each ticket's pipeline, or none to leave statuses.
    pub stage: Option<String>,
    /// A macro applied to each (see `apply_macro_to`), after the owner and status.
    pub apply: Option<crate::desk::macros::Plan>,
    /// Mark each as spam (see `mark_spam`), after the changes above.
    pub spam: bool,
}

/// Apply `change` to every ticket in `tickets`, all or none: the first ticket that cannot
/// take it fails the whole job (its savepoint rolls back), named in the error.
pub(super) fn change_many(
    conn: &Connection,
    tickets: &[TicketId],
    change: &BulkChange,
    pipelines: &[Pipeline],
    actor: &str,
) -> Result<usize, StoreError> {
    let named = |id: TicketId, e: StoreError| match e {
        StoreError::Invalid(why) => StoreError::Invalid(format!("ticket #{id}: {why}")),
        other => other,
    };
    for &id in tickets {
        if let Some(to) = &change.assign {
            assign(conn, id, to, actor).map_err(|e| named(id, e))?;
        }
        if let Some(stage) = &change.stage {
            change_status(conn, id, stage, pipelines, actor).map_err(|e| named(id, e))?;
        }
        if let Some(plan) = &change.apply {
            apply_macro_to(conn, id, plan, pipelines, actor).map_err(|e| named(id, e))?;
        }
        if change.spam {
            mark_spam(conn, id, true, pipelines, actor).map_err(|e| named(id, e))?;
        }
    }
    Ok(tickets.len())
}

/// Apply a macro's `plan` to one ticket: its history names the macro, then each change
/// as if made by hand; a status or priority the ticket already has is left as it is.
fn apply_macro_to(
    conn: &Connection,
    ticket: TicketId,
    plan: &crate::desk::macros::Plan,
    pipelines: &[Pipeline],
    actor: &str,
) -> Result<(), StoreError> {
    use crate::desk::macros::Handover;
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    event(
        conn,
        ticket,
        "macro",
        actor,
        &format!("applied macro {:?}", plan.name),
        unix_now(),
    )?;
    if let Some(to) = &plan.assign {
        let to = match to {
            Handover::Agent(a) => Assignment::Agent(a.clone()),
            Handover::Team(t) => Assignment::Team(t.clone()),
            Handover::Nobody => Assignment::Nobody,
        };
        assign(conn, ticket, &to, actor)?;
    }
    // Fields before the status: a macro that fills in what closing needs may close.
    if !plan.fields.is_empty() {
        set_ticket_fields(conn, ticket, &plan.fields, actor)?;
    }
    if let Some(stage) = &plan.status {
        let (_, status) = ticket_state(conn, ticket)?;
        if !status.eq_ignore_ascii_case(stage) {
            change_status(conn, ticket, stage, pipelines, actor)?;
        }
    }
    if let Some(priority) = plan.priority {
        let current: String = conn
            .prepare_cached("SELECT priority FROM tickets WHERE id = ?1")?
            .query_row([ticket], |r| r.get(0))?;
        if current != priority.as_str() {
            change_priority(conn, ticket, priority, actor)?;
        }
    }
    if !plan.add_tags.is_empty() || !plan.remove_tags.is_empty() {
        set_tags(conn, ticket, &plan.add_tags, &plan.remove_tags, actor)?;
    }
    if let Some(note) = &plan.note {
        super::outbound::add_note(conn, ticket, actor, note, None)?;
    }
    if let Some(until) = plan.snooze_until {
        snooze(conn, ticket, Some(until), actor)?;
    }
    Ok(())
}

/// Set (`Some`) or clear (`None`) fields of a ticket, each value already checked (see
/// `desk::ticket_fields::check`); the history's words ("Order number: 4711"), or
/// "fields unchanged" (and no event) when every field already was so.
pub(super) fn set_ticket_fields(
    conn: &Connection,
    ticket: TicketId,
    changes: &[(String, Option<String>)],
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let now = unix_now();
    let mut said = Vec::new();
    for (name, value) in changes {
        let before: Option<String> = conn
            .prepare_cached("SELECT value FROM ticket_fields WHERE ticket_id = ?1 AND name = ?2")?
            .query_row(params![ticket, name], |r| r.get(0))
            .optional()?;
        if before == *value {
            continue;
        }
        match value {
            Some(v) => exec(
                conn,
                "INSERT INTO ticket_fields (ticket_id, name, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (ticket_id, name) DO UPDATE SET name = excluded.name, value = excluded.value",
                params![ticket, name, v],
            )?,
            None => exec(
                conn,
                "DELETE FROM ticket_fields WHERE ticket_id = ?1 AND name = ?2",
                params![ticket, name],
            )?,
        };
        let words =
            crate::desk::ticket_fields::change_words(name, before.as_deref(), value.as_deref());
        event(conn, ticket, "field", actor, &words, now)?;
        said.push(words);
    }
    if said.is_empty() {
        return Ok("fields unchanged".into());
    }
    exec(
        conn,
        "UPDATE tickets SET updated_at = ?1 WHERE id = ?2",
        params![now, ticket],
    )?;
    Ok(said.join("; "))
}

/// Move a ticket to a stage of its pipeline.
pub(super) fn change_status(
    conn: &Connection,
    ticket: TicketId,
    stage: &str,
    pipelines: &[Pipeline],
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let (pipeline, status) = ticket_state(conn, ticket)?;
    let p = find_pipeline(pipelines, &pipeline).ok_or_else(|| {
        StoreError::Invalid(format!(
            "ticket #{ticket}'s pipeline {pipeline:?} is no longer configured"
        ))
    })?;
    let target = p.stage(stage).ok_or_else(|| {
        let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
        StoreError::Invalid(format!(
            "{stage:?} is not a stage of pipeline {:?} (stages: {})",
            p.name,
            names.join(", ")
        ))
    })?;
    check_fields_to_close(conn, ticket, p, (&status, &target.name))?;
    let now = unix_now();
    set_status(conn, ticket, p, &target.name, now)?;
    let words = format!("{status} → {}", target.name);
    event(conn, ticket, "status", actor, &words, now)?;
    Ok(words)
}

/// Move a ticket to another pipeline, at `stage` (its first stage when not given).
pub(super) fn change_pipeline(
    conn: &Connection,
    ticket: TicketId,
    pipeline: &str,
    stage: Option<&str>,
    pipelines: &[Pipeline],
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let (from, status) = ticket_state(conn, ticket)?;
    let p = find_pipeline(pipelines, pipeline).ok_or_else(|| {
        let names: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
        StoreError::Invalid(format!(
            "no pipeline {pipeline:?} (pipelines: {})",
            names.join(", ")
        ))
    })?;
    let target = match stage {
        Some(stage) => p.stage(stage).ok_or_else(|| {
            let names: Vec<&str> = p.stages.iter().map(|s| s.name.as_str()).collect();
            StoreError::Invalid(format!(
                "{stage:?} is not a stage of pipeline {:?} (stages: {})",
                p.name,
                names.join(", ")
            ))
        })?,
        None => p
            .stages
            .first()
            .ok_or_else(|| StoreError::Invalid(format!("pipeline {:?} has no stages", p.name)))?,
    };
    // Another pipeline's stage of the same name is still a move into it.
    let from_status = if from.eq_ignore_ascii_case(&p.name) {
        status.as_str()
    } else {
        ""
    };
    check_fields_to_close(conn, ticket, p, (from_status, &target.name))?;
    let now = unix_now();
    exec(
        conn,
        "UPDATE tickets SET pipeline = ?1 WHERE id = ?2",
        params![p.name, ticket],
    )?;
    set_status(conn, ticket, p, &target.name, now)?;
    let words = format!("{from} / {status} → {} / {}", p.name, target.name);
    event(conn, ticket, "pipeline", actor, &words, now)?;
    Ok(words)
}

/// Take a person off a ticket (they get no more copies of replies); never the customer.
pub(super) fn remove_participant(
    conn: &Connection,
    ticket: TicketId,
    email: &str,
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let role: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT p.contact_id, p.role FROM ticket_participants p JOIN contacts c ON c.id = p.contact_id
             WHERE p.ticket_id = ?1 AND c.email = ?2",
        )?
        .query_row(params![ticket, email], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((contact, role)) = role else {
        return Err(StoreError::Invalid(format!(
            "{email} is not on ticket #{ticket}"
        )));
    };
    if role == "customer" {
        return Err(StoreError::Invalid(format!(
            "{email} is the customer of ticket #{ticket} and stays on it"
        )));
    }
    exec(
        conn,
        "DELETE FROM ticket_participants WHERE ticket_id = ?1 AND contact_id = ?2",
        params![ticket, contact],
    )?;
    let words = format!("{email} taken off the ticket");
    event(
        conn,
        ticket,
        "participant-removed",
        actor,
        &words,
        unix_now(),
    )?;
    Ok(words)
}

/// Give a ticket a new subject (already cleaned by `desk::subject::clean`); the words
/// for the history, or "subject unchanged" (and no event) when it is the same.
pub(super) fn rename(
    conn: &Connection,
    ticket: TicketId,
    subject: &str,
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let old: String = conn
        .prepare_cached("SELECT subject FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| r.get(0))?;
    if old == subject {
        return Ok("subject unchanged".into());
    }
    let now = unix_now();
    exec(
        conn,
        "UPDATE tickets SET subject = ?1, updated_at = ?2 WHERE id = ?3",
        params![subject, now, ticket],
    )?;
    let words = format!("subject “{old}” → “{subject}”");
    event(conn, ticket, "renamed", actor, &words, now)?;
    Ok(words)
}

/// Change a ticket's priority.
pub(super) fn change_priority(
    conn: &Connection,
    ticket: TicketId,
    priority: Priority,
    actor: &str,
) -> Result<String, StoreError> {
    let ticket = live_ticket(conn, ticket)?
        .ok_or_else(|| StoreError::Invalid(format!("no ticket #{ticket}")))?;
    let old: String = conn
        .prepare_cached("SELECT priority FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| r.get(0))?;
    let now = unix_now();
    exec(
        conn,
        "UPDATE tickets SET priority = ?1, updated_at = ?2 WHERE id = ?3",
        params![priority.as_str(), now, ticket],
    )?;
    let words = crate::desk::lifecycle::priority_change_words(&old, priority);
    event(conn, ticket, "priority", actor, &words, now)?;
    Ok(words)
}

/// Create a team.
pub(super) fn add_team(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT id FROM teams WHERE name = ?1 COLLATE NOCASE")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    if exists.is_some() {
        return Err(StoreError::Invalid(format!("team {name} already exists")));
    }
    exec(
        conn,
        "INSERT INTO teams (name, created_at) VALUES (?1, ?2)",
        params![name, unix_now()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Add and remove team members; every address must be a user and the team must exist.
pub(super) fn team_members(
    conn: &Connection,
    team: &str,
    add: &[String],
    remove: &[String],
) -> Result<String, StoreError> {
    let team_id: i64 = conn
        .prepare_cached("SELECT id FROM teams WHERE name = ?1 COLLATE NOCASE")?
        .query_row([team], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Invalid(format!("no team {team}")))?;
    let user_id = |email: &str| -> Result<i64, StoreError> {
        conn.prepare_cached("SELECT id FROM users WHERE email = ?1")?
            .query_row([email], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::Invalid(format!("no user {email}")))
    };
    for email in add {
        exec(
            conn,
            "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?1, ?2)",
            params![team_id, user_id(email)?],
        )?;
    }
    for email in remove {
        exec(
            conn,
            "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
            params![team_id, user_id(email)?],
        )?;
    }
    Ok(format!(
        "team {team}: {} added, {} removed",
        add.len(),
        remove.len()
    ))
}

/// Set a contact's owner (an existing user) or clear it.
/// Set a contact's name (already cleaned; `None` clears it) and owner together, from
/// the ticket page's contact panel: both or neither.
pub(super) fn update_contact(
    conn: &Connection,
    contact: &str,
    edit: &ContactEdit,
    agent: &str,
) -> Result<String, StoreError> {
    let owned = set_contact_owner(conn, contact, edit.owner.as_deref())?;
    exec(
        conn,
        "UPDATE contacts SET name = ?1 WHERE email = ?2",
        params![edit.name, contact],
    )?;
    let mut said = match &edit.name {
        Some(n) => format!("{contact} is called {n:?}; {owned}"),
        None => format!("{contact} has no name; {owned}"),
    };
    // Only a changed note is signed anew: saving the name leaves its author.
    if let Some(note) = &edit.note {
        let changed = exec(
            conn,
            "UPDATE contacts SET note = ?1, note_by = ?2, note_at = ?3
             WHERE email = ?4 AND note <> ?1",
            params![note, agent, unix_now(), contact],
        )?;
        if changed > 0 {
            said.push_str(if note.is_empty() {
                "; note removed"
            } else {
                "; note saved"
            });
        }
    }
    Ok(said)
}

/// What the contact panel's form changes about a customer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactEdit {
    /// Their name (`None`: none).
    pub name: Option<String>,
    /// The agent who owns them (`None`: nobody).
    pub owner: Option<String>,
    /// What agents note about them; `None` leaves it as it is.
    pub note: Option<String>,
}

pub(super) fn set_contact_owner(
    conn: &Connection,
    contact: &str,
    owner: Option<&str>,
) -> Result<String, StoreError> {
    if let Some(o) = owner {
        let exists: Option<i64> = conn
            .prepare_cached("SELECT id FROM users WHERE email = ?1")?
            .query_row([o], |r| r.get(0))
            .optional()?;
        if exists.is_none() {
            return Err(StoreError::Invalid(format!("no user {o}")));
        }
    }
    let n = exec(
        conn,
        "UPDATE contacts SET owner = ?1 WHERE email = ?2",
        params![owner, contact],
    )?;
    if n == 0 {
        return Err(StoreError::Invalid(format!("no contact {contact}")));
    }
    Ok(match owner {
        Some(o) => format!("{contact} is now owned by {o}"),
        None => format!("{contact} has no owner"),
    })
}

/// What `users set` may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// Seat on or off.
    pub seat: Option<bool>,
    /// Administrator on or off.
    pub admin: Option<bool>,
    /// Available on or off.
    pub available: Option<bool>,
    /// New full name (first and last derived unless given).
    pub full_name: Option<String>,
    /// New first name.
    pub first_name: Option<String>,
    /// New last name.
    pub last_name: Option<String>,
    /// Deactivate.
    pub deactivate: bool,
    /// New Argon2id password hash. Every session of the user ends with it, but
    /// `keep_session`.
    pub password_hash: Option<String>,
    /// With a new password: the session (token hash) it was changed from, which stays.
    pub keep_session: Option<String>,
    /// Which mail about tickets the agent wants.
    pub notify: Option<crate::desk::notify::Prefs>,
    /// Their own signature lines (see [`crate::outbound::compose::agent_signature`]).
    pub signature: Option<String>,
    /// Turn two-step sign-in off (an agent who lost their phone), and forget any
    /// secret being set up.
    pub two_step_off: bool,
    /// Make a deactivated agent active again.
    pub reactivate: bool,
    /// Exactly these teams (existing ones, by name): joins and leaves the others.
    pub teams: Option<Vec<String>>,
}

/// Change an agent.
pub(super) fn update_user(
    conn: &Connection,
    email: &str,
    c: &UserChanges,
) -> Result<String, StoreError> {
    let exists: Option<i64> = conn
        .prepare_cached("SELECT id FROM users WHERE email = ?1")?
        .query_row([email], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::Invalid(format!("no user {email}")));
    }
    let mut done = Vec::new();
    if let Some(seat) = c.seat {
        exec(
            conn,
            "UPDATE users SET seat = ?1 WHERE email = ?2",
            params![seat, email],
        )?;
        done.push(format!("seat {}", if seat { "on" } else { "off" }));
    }
    if let Some(admin) = c.admin {
        exec(
            conn,
            "UPDATE users SET admin = ?1 WHERE email = ?2",
            params![admin, email],
        )?;
        done.push(format!(
            "administrator {}",
            if admin { "on" } else { "off" }
        ));
    }
    if let Some(available) = c.available {
        exec(
            conn,
            "UPDATE users SET available = ?1 WHERE email = ?2",
            params![available, email],
        )?;
        done.push(if available {
            "available".to_string()
        } else {
            "away".to_string()
        });
    }
    if let Some(full) = &c.full_name {
        exec(
            conn,
            "UPDATE users SET full_name = ?1 WHERE email = ?2",
            params![full, email],
        )?;
        done.push(format!("name {full:?}"));
    }
    if let Some(first) = &c.first_name {
        exec(
            conn,
            "UPDATE users SET first_name = ?1 WHERE email = ?2",
            params![first, email],
        )?;
    }
    if let Some(last) = &c.last_name {
        exec(
            conn,
            "UPDATE users SET last_name = ?1 WHERE email = ?2",
            params![last, email],
        )?;
    }
    if let Some(hash) = &c.password_hash {
        exec(
            conn,
            "UPDATE users SET password_hash = ?1 WHERE email = ?2",
            params![hash, email],
        )?;
        // Whoever had the old password (and a session from it) is out.
        let ended = exec(
            conn,
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?1)
               AND token_hash IS NOT ?2",
            params![email, c.keep_session],
        )?;
        done.push(format!("password changed, {ended} session(s) signed out"));
    }
    if let Some(signature) = &c.signature {
        exec(
            conn,
            "UPDATE users SET signature = ?1 WHERE email = ?2",
            params![signature, email],
        )?;
        done.push("signature changed".to_string());
    }
    if let Some(prefs) = &c.notify {
        super::notify::set_prefs(conn, email, prefs)?;
        done.push(format!("notifications {}", prefs.list()));
    }
    if c.two_step_off {
        let was_on: bool = conn
            .prepare_cached("SELECT totp_secret IS NOT NULL FROM users WHERE email = ?1")?
            .query_row([email], |r| r.get(0))?;
        exec(
            conn,
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE email = ?1",
            params![email],
        )?;
        exec(
            conn,
            "DELETE FROM two_step_recovery
             WHERE user_id = (SELECT id FROM users WHERE email = ?1)",
            params![email],
        )?;
        done.push(
            if was_on {
                "two-step sign-in off"
            } else {
                "two-step sign-in was off"
            }
            .to_string(),
        );
    }
    if let Some(teams) = &c.teams {
        let user_id: i64 = conn
            .prepare_cached("SELECT id FROM users WHERE email = ?1")?
            .query_row([email], |r| r.get(0))?;
        let mut ids = Vec::with_capacity(teams.len());
        for team in teams {
            let id: i64 = conn
                .prepare_cached("SELECT id FROM teams WHERE name = ?1 COLLATE NOCASE")?
                .query_row([team], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::Invalid(format!("no team {team}")))?;
            ids.push(id);
        }
        exec(
            conn,
            "DELETE FROM team_members WHERE user_id = ?1",
            params![user_id],
        )?;
        for id in ids {
            exec(
                conn,
                "INSERT OR IGNORE INTO team_members (team_id, user_id) VALUES (?1, ?2)",
                params![id, user_id],
            )?;
        }
        done.push(if teams.is_empty() {
            "in no team".to_string()
        } else {
            format!("teams {}", teams.join(", "))
        });
    }
    if c.reactivate {
        exec(
            conn,
            "UPDATE users SET active = 1 WHERE email = ?1",
            params![email],
        )?;
        done.push("reactivated".to_string());
    }
    if c.deactivate {
        exec(
            conn,
            "UPDATE users SET active = 0, available = 0 WHERE email = ?1",
            params![email],
        )?;
        done.push("deactivated".to_string());
    }
    Ok(format!(
        "user {email}: {}",
        if done.is_empty() {
            "nothing to change".to_string()
        } else {
            done.join(", ")
        }
    ))
}
