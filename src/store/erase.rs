//! Erasing a customer, as a data-protection request ("forget me") asks: their tickets
//! with all the mail, replies, notes, files and history on them, their own mail on
//! other customers' tickets, and their contact row, in one transaction.
//!
//! Deleted rows are overwritten (`PRAGMA secure_delete`, FTS5's `secure-delete`), the
//! search index's words that only their mail had are forgotten, and the numbers of
//! erased tickets and mail are never given again: a late reply carrying an erased
//! ticket's reply address or subject tag must not land on someone else's ticket.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::writer::exec;
use super::StoreError;
use crate::model::unix_now;

/// The `meta` key holding the highest ticket number ever erased.
const TICKETS_ERASED_UP_TO: &str = "tickets_erased_up_to";

/// The `meta` key holding the highest message number ever erased.
const MESSAGES_ERASED_UP_TO: &str = "messages_erased_up_to";

/// The number a new ticket gets: one past the highest in use or ever erased.
macro_rules! next_ticket_id {
    () => {
        "(SELECT max(coalesce(max(id), 0),
                     coalesce((SELECT value FROM meta WHERE key = 'tickets_erased_up_to'), 0)) + 1
          FROM tickets)"
    };
}
pub(super) use next_ticket_id;

/// The number a new message gets: one past the highest in use or ever erased.
macro_rules! next_message_id {
    () => {
        "(SELECT max(coalesce(max(id), 0),
                     coalesce((SELECT value FROM meta WHERE key = 'messages_erased_up_to'), 0)) + 1
          FROM messages)"
    };
}
pub(super) use next_message_id;

/// What erasing a customer takes away (or took away).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// The customer's number.
    pub contact: i64,
    /// Their address.
    pub email: String,
    /// Their name, when known.
    pub name: Option<String>,
    /// Their tickets (merged ones left out, though they go too).
    pub tickets: usize,
    /// The mail, replies and notes on those tickets.
    pub messages: usize,
    /// Their own mail on other customers' tickets.
    pub elsewhere: usize,
    /// Files attached to all that mail.
    pub attachments: usize,
    /// Outgoing mail on their tickets not sent yet, which will not go.
    pub unsent: usize,
}

/// One erasure as the desk's history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// When (unix seconds).
    pub at: i64,
    /// Who erased.
    pub by: String,
    /// The customer's number and how much went (never their address).
    pub what: String,
}

/// The latest `limit` erasures and ticket deletions, newest first.
pub(super) fn erasures(conn: &Connection, limit: u32) -> Result<Vec<ErasureRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT created_at, actor, detail FROM events
         WHERE ticket_id IS NULL AND kind IN ('erased', 'deleted') ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(ErasureRecord {
            at: r.get(0)?,
            by: r.get(1)?,
            what: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What deleting one ticket takes away (or took away).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDeletion {
    /// The ticket's number.
    pub ticket: i64,
    /// Its subject.
    pub subject: String,
    /// Its customer (who stays).
    pub customer: i64,
    /// The mail, replies and notes on it (and on tickets merged into it).
    pub messages: usize,
    /// Files attached to them.
    pub attachments: usize,
    /// Outgoing mail not sent yet, which will not go.
    pub unsent: usize,
}

/// The rows an erasure deletes, and what it says about them.
struct Plan {
    /// The customer who goes too (none when only a ticket is deleted).
    contact: Option<i64>,
    /// Their address, which the history of the tickets that stay stops naming.
    email: Option<String>,
    /// The desk's history line: its kind and words.
    record: (&'static str, String),
    /// Every ticket that goes: the customer's, those merged into them, and another
    /// customer's ticket left with no mail once theirs is gone.
    tickets: Vec<i64>,
    /// Every message that goes.
    messages: Vec<i64>,
    /// Other customers' tickets they were on, which stay: their history stops naming
    /// them.
    touched: Vec<i64>,
}

/// "1 ticket", "2 tickets".
fn counted(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// A list of numbers as the JSON array `json_each` reads.
fn json_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// The numbers a query over one `?1` gives.
fn ids(conn: &Connection, sql: &str, param: impl rusqlite::ToSql) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([param], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A count over the JSON list `?1`.
fn count(conn: &Connection, sql: &str, list: &str) -> Result<usize, StoreError> {
    let n: i64 = conn.prepare_cached(sql)?.query_row([list], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// What erasing customer `contact` would delete; `None` when there is no such customer.
fn plan(conn: &Connection, contact: i64) -> Result<Option<(Erasure, Plan)>, StoreError> {
    let head: Option<(String, Option<String>)> = conn
        .prepare_cached("SELECT email, name FROM contacts WHERE id = ?1")?
        .query_row([contact], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((email, name)) = head else {
        return Ok(None);
    };
    let own = ids(
        conn,
        "SELECT id FROM tickets WHERE contact_id = ?1 ORDER BY id",
        contact,
    )?;
    // Their mail on tickets that are not theirs (they were copied, or the ticket's
    // customer was changed).
    let mut elsewhere: Vec<(i64, i64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT m.id, m.ticket_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
             WHERE m.contact_id = ?1 AND t.contact_id <> ?1 ORDER BY m.id",
        )?;
        let rows = stmt.query_map([contact], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    // A ticket of someone else's with only their mail on it would be left empty: it
    // goes too.
    let mut seeds = own.clone();
    let mut others: Vec<i64> = elsewhere.iter().map(|(_, t)| *t).collect();
    others.sort_unstable();
    others.dedup();
    for ticket in others {
        let total: i64 = conn
            .prepare_cached("SELECT count(*) FROM messages WHERE ticket_id = ?1")?
            .query_row([ticket], |r| r.get(0))?;
        let theirs = elsewhere.iter().filter(|(_, t)| *t == ticket).count();
        if usize::try_from(total).unwrap_or(0) == theirs {
            seeds.push(ticket);
        }
    }
    // And every ticket merged into one that goes.
    let tickets = with_merged(conn, seeds)?;
    elsewhere.retain(|(_, t)| tickets.binary_search(t).is_err());
    let mut touched = ids(
        conn,
        "SELECT ticket_id FROM ticket_participants WHERE contact_id = ?1",
        contact,
    )?;
    touched.extend(elsewhere.iter().map(|(_, t)| *t));
    touched.sort_unstable();
    touched.dedup();
    touched.retain(|t| tickets.binary_search(t).is_err());
    let mut messages = messages_of(conn, &tickets)?;
    let on_tickets = messages.len();
    messages.extend(elsewhere.iter().map(|(m, _)| *m));
    messages.sort_unstable();
    let ticket_list = json_ids(&tickets);
    let (attachments, unsent) = files_and_unsent(conn, &ticket_list, &messages)?;
    let erasure = Erasure {
        contact,
        email,
        name,
        tickets: count(
            conn,
            "SELECT count(*) FROM tickets
             WHERE id IN (SELECT value FROM json_each(?1)) AND merged_into IS NULL",
            &ticket_list,
        )?,
        messages: on_tickets,
        elsewhere: elsewhere.len(),
        attachments,
        unsent,
    };
    let record = format!(
        "customer {} erased: {}, {} on them, {} of their messages on other tickets",
        erasure.contact,
        counted(erasure.tickets, "ticket"),
        counted(erasure.messages, "message"),
        erasure.elsewhere
    );
    Ok(Some((
        erasure.clone(),
        Plan {
            contact: Some(contact),
            email: Some(erasure.email),
            record: ("erased", record),
            tickets,
            messages,
            touched,
        },
    )))
}

/// How many files the `messages` have, and how many replies on the tickets of
/// `ticket_list` (JSON) wait to be sent.
fn files_and_unsent(
    conn: &Connection,
    ticket_list: &str,
    messages: &[i64],
) -> Result<(usize, usize), StoreError> {
    Ok((
        count(
            conn,
            "SELECT count(*) FROM attachments WHERE message_id IN (SELECT value FROM json_each(?1))",
            &json_ids(messages),
        )?,
        count(
            conn,
            "SELECT count(*) FROM outbox WHERE status = 'queued'
             AND ticket_id IN (SELECT value FROM json_each(?1))",
            ticket_list,
        )?,
    ))
}

/// Every ticket merged into one of `seeds` (merges chain), with the seeds, in order.
fn with_merged(conn: &Connection, mut seeds: Vec<i64>) -> Result<Vec<i64>, StoreError> {
    let mut seen = std::collections::HashSet::new();
    let mut tickets = Vec::new();
    while let Some(ticket) = seeds.pop() {
        if !seen.insert(ticket) {
            continue;
        }
        tickets.push(ticket);
        seeds.extend(ids(
            conn,
            "SELECT id FROM tickets WHERE merged_into = ?1",
            ticket,
        )?);
    }
    tickets.sort_unstable();
    Ok(tickets)
}

/// The messages on `tickets`, in order.
fn messages_of(conn: &Connection, tickets: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut messages = Vec::new();
    for ticket in tickets {
        messages.extend(ids(
            conn,
            "SELECT id FROM messages WHERE ticket_id = ?1",
            ticket,
        )?);
    }
    messages.sort_unstable();
    Ok(messages)
}

/// What deleting ticket `ticket` would delete: it, the tickets merged into it and all
/// their mail; `None` when there is no such ticket. A ticket merged into another is
/// refused: it is that one's now.
fn plan_ticket(
    conn: &Connection,
    ticket: i64,
) -> Result<Option<(TicketDeletion, Plan)>, StoreError> {
    let head: Option<(String, Option<i64>, i64)> = conn
        .prepare_cached("SELECT subject, merged_into, contact_id FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((subject, merged_into, customer)) = head else {
        return Ok(None);
    };
    if let Some(into) = merged_into {
        return Err(StoreError::Invalid(format!(
            "ticket #{ticket} was merged into #{into}: delete that one"
        )));
    }
    let tickets = with_merged(conn, vec![ticket])?;
    let messages = messages_of(conn, &tickets)?;
    let (attachments, unsent) = files_and_unsent(conn, &json_ids(&tickets), &messages)?;
    let deletion = TicketDeletion {
        ticket,
        subject,
        customer,
        messages: messages.len(),
        attachments,
        unsent,
    };
    let record = format!(
        "ticket {ticket} deleted: {}",
        counted(deletion.messages, "message")
    );
    Ok(Some((
        deletion,
        Plan {
            contact: None,
            email: None,
            record: ("deleted", record),
            tickets,
            messages,
            touched: Vec::new(),
        },
    )))
}

/// What deleting ticket `ticket` would delete; `None` when there is no such ticket.
pub(super) fn ticket_preview(
    conn: &Connection,
    ticket: i64,
) -> Result<Option<TicketDeletion>, StoreError> {
    Ok(plan_ticket(conn, ticket)?.map(|(d, _)| d))
}

/// Delete ticket `ticket` for `actor`, as [`erase`] does a customer's: what went, or
/// `None` when there is no such ticket. Its customer stays.
pub(super) fn delete_ticket(
    conn: &Connection,
    ticket: i64,
    actor: &str,
) -> Result<Option<TicketDeletion>, StoreError> {
    let Some((deletion, plan)) = plan_ticket(conn, ticket)? else {
        return Ok(None);
    };
    overwriting(conn, |conn| delete(conn, &plan, actor))?;
    Ok(Some(deletion))
}

/// What erasing customer `contact` would delete; `None` when there is no such customer.
pub(super) fn preview(conn: &Connection, contact: i64) -> Result<Option<Erasure>, StoreError> {
    Ok(plan(conn, contact)?.map(|(e, _)| e))
}

/// The customer with address `email`, case ignored.
pub(super) fn contact_by_email(conn: &Connection, email: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM contacts WHERE email = ?1 COLLATE NOCASE")?
        .query_row([email.trim()], |r| r.get(0))
        .optional()?)
}

/// The statements that delete a plan's rows, children first. `?1` is the JSON list of
/// tickets, `?2` of messages, `?3` the customer.
const DELETIONS: &[&str] = &[
    "DELETE FROM ratings WHERE message_row IN (SELECT value FROM json_each(?2))",
    "DELETE FROM surveys WHERE ticket_id IN (SELECT value FROM json_each(?1))
        OR message_row IN (SELECT value FROM json_each(?2))",
    "DELETE FROM close_reminders WHERE ticket_id IN (SELECT value FROM json_each(?1))
        OR message_row IN (SELECT value FROM json_each(?2))",
    // A forward on a ticket that stays may have sent one of their mails.
    "UPDATE outbox SET source_row = NULL WHERE source_row IN (SELECT value FROM json_each(?2))",
    "DELETE FROM outbox WHERE ticket_id IN (SELECT value FROM json_each(?1))
        OR message_row IN (SELECT value FROM json_each(?2))",
    "DELETE FROM notifications WHERE ticket_id IN (SELECT value FROM json_each(?1))
        OR message_row IN (SELECT value FROM json_each(?2))",
    "DELETE FROM mentions WHERE message_row IN (SELECT value FROM json_each(?2))",
    "DELETE FROM ingest_keys WHERE message_id IN (SELECT value FROM json_each(?2))",
    "DELETE FROM attachments WHERE message_id IN (SELECT value FROM json_each(?2))",
    "DELETE FROM message_raw WHERE message_id IN (SELECT value FROM json_each(?2))",
    "DELETE FROM search WHERE rowid IN (SELECT value FROM json_each(?2))",
    "DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?2))",
    "DELETE FROM thread_ids WHERE ticket_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM events WHERE ticket_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM ticket_fields WHERE ticket_id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM ticket_participants WHERE ticket_id IN (SELECT value FROM json_each(?1))
        OR contact_id = ?3",
    "DELETE FROM tickets WHERE id IN (SELECT value FROM json_each(?1))",
    "DELETE FROM contacts WHERE id = ?3",
];

/// Erase customer `contact` for `actor`: what went, or `None` when there is no such
/// customer. The desk's history keeps one line: who erased customer number N and how
/// much, without their address.
pub(super) fn erase(
    conn: &Connection,
    contact: i64,
    actor: &str,
) -> Result<Option<Erasure>, StoreError> {
    let Some((erasure, plan)) = plan(conn, contact)? else {
        return Ok(None);
    };
    overwriting(conn, |conn| delete(conn, &plan, actor))?;
    Ok(Some(erasure))
}

/// Run `work` with deleted content overwritten in the file (`PRAGMA secure_delete`).
fn overwriting(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    conn.pragma_update(None, "secure_delete", true)?;
    let done = work(conn);
    // Back to the default whatever happened: overwriting costs every later write.
    conn.pragma_update(None, "secure_delete", false)?;
    done
}

/// Delete a plan's rows and record it.
fn delete(conn: &Connection, plan: &Plan, actor: &str) -> Result<(), StoreError> {
    let (tickets, messages) = (json_ids(&plan.tickets), json_ids(&plan.messages));
    let words = words_of(conn, &messages)?;
    // FTS5 keeps a deleted row's words in its index until segments merge; with
    // secure-delete the delete takes them out at once.
    exec(
        conn,
        "INSERT INTO search (search, rank) VALUES ('secure-delete', 1)",
        [],
    )?;
    let values: [&dyn rusqlite::ToSql; 3] = [&tickets, &messages, &plan.contact];
    let deleted = DELETIONS.iter().try_for_each(|sql| {
        let mut stmt = conn.prepare_cached(sql)?;
        // Each statement numbers only the parameters up to the last it uses.
        let used = stmt.parameter_count();
        stmt.execute(&values[..used])?;
        Ok::<_, StoreError>(())
    });
    exec(
        conn,
        "INSERT INTO search (search, rank) VALUES ('secure-delete', 0)",
        [],
    )?;
    deleted?;
    // The tickets that stay keep their history, with someone else in their place.
    if let Some(email) = &plan.email {
        exec(
            conn,
            "UPDATE events SET
                 actor = CASE WHEN actor = ?2 COLLATE NOCASE THEN 'an erased customer' ELSE actor END,
                 detail = replace(detail, ?2, 'an erased customer')
             WHERE ticket_id IN (SELECT value FROM json_each(?1))
               AND (actor = ?2 COLLATE NOCASE OR instr(detail, ?2) > 0)",
            params![json_ids(&plan.touched), email],
        )?;
    }
    super::words::forget_unused(conn, words)?;
    for (key, ids) in [
        (TICKETS_ERASED_UP_TO, &plan.tickets),
        (MESSAGES_ERASED_UP_TO, &plan.messages),
    ] {
        if let Some(highest) = ids.iter().max() {
            exec(
                conn,
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                params![key, highest],
            )?;
        }
    }
    exec(
        conn,
        "INSERT INTO events (ticket_id, kind, actor, detail, created_at)
         VALUES (NULL, ?1, ?2, ?3, ?4)",
        params![plan.record.0, actor, plan.record.1, unix_now()],
    )?;
    Ok(())
}

/// The search index's words in messages `list` (a JSON list), before they go.
fn words_of(conn: &Connection, list: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT subject, body, contact FROM search WHERE rowid IN (SELECT value FROM json_each(?1))",
    )?;
    let texts = stmt.query_map([list], |r| {
        Ok([
            r.get::<_, Option<String>>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
        ])
    })?;
    let mut words = Vec::new();
    for text in texts {
        for part in text?.into_iter().flatten() {
            words.extend(super::words::tokens(conn, &part)?);
        }
    }
    words.sort_unstable();
    words.dedup();
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    /// Rows in `table` matching `cond`.
    fn rows(conn: &Connection, table: &str, cond: &str) -> i64 {
        conn.query_row(
            &format!("SELECT count(*) FROM {table} WHERE {cond}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// A desk where Olga (1) has two tickets (2 merged into 1), wrote on Bea's ticket
    /// 3 as a copied colleague, and is the only writer on ticket 4 (Carl's since its
    /// customer was changed); her ticket 6 is the desk's newest.
    const DESK: &str = "
        INSERT INTO contacts (id, email, name, created_at) VALUES
            (1, 'olga@customer.example', 'Olga Zanzibar', 0),
            (2, 'bea@example.org', 'Bea', 0), (3, 'carl@example.net', 'Carl', 0);
        INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at) VALUES
            (1, 'Hinge broke', 'New', 'support', 1, 0, 0),
            (2, 'Hinge again', 'Merged', 'support', 1, 0, 0),
            (3, 'Invoice', 'New', 'support', 2, 0, 0),
            (4, 'Forwarded', 'New', 'support', 3, 0, 0),
            (5, 'Carl asks', 'New', 'support', 3, 0, 0),
            (6, 'Hinge third', 'New', 'support', 1, 0, 0);
        UPDATE tickets SET merged_into = 1 WHERE id = 2;
        INSERT INTO messages (id, ticket_id, direction, channel, source, message_id, contact_id,
            from_email, subject, headers, text_body, thread_reason, created_at) VALUES
            (1, 1, 'inbound', 'support', 'lmtp', '<m1@customer.example>', 1, 'olga@customer.example',
             'Hinge broke', 'From: olga', 'my hinge zanzibarword broke', 'new', 0),
            (2, 1, 'outbound', 'support', 'agent', '<m2@desk>', NULL, 'help@desk', 'Re: Hinge',
             '', 'we send a new hinge', 'agent', 0),
            (3, 1, 'inbound', 'support', 'lmtp', '<m3@customer.example>', 1, 'olga@customer.example',
             'Hinge again', 'From: olga', 'merged mail', 'new', 0),
            (4, 3, 'inbound', 'support', 'lmtp', '<m4@example.org>', 2, 'bea@example.org',
             'Invoice', 'From: bea', 'invoice wrong', 'new', 0),
            (5, 3, 'inbound', 'support', 'lmtp', '<m5@customer.example>', 1, 'olga@customer.example',
             'Re: Invoice', 'From: olga', 'olga agrees zanzibarword', 'reply', 0),
            (6, 4, 'inbound', 'support', 'lmtp', '<m6@customer.example>', 1, 'olga@customer.example',
             'Forwarded', 'From: olga', 'forwarded by olga', 'new', 0),
            (7, 5, 'inbound', 'support', 'lmtp', '<m7@example.net>', 3, 'carl@example.net',
             'Carl asks', 'From: carl', 'carl asks invoice', 'new', 0),
            (8, 6, 'inbound', 'support', 'lmtp', '<m8@customer.example>', 1, 'olga@customer.example',
             'Hinge third', 'From: olga', 'third hinge', 'new', 0);
        INSERT INTO search (rowid, subject, body, contact)
            SELECT id, subject, text_body, coalesce(from_email, '') FROM messages;
        INSERT INTO search_words (word) VALUES ('zanzibarword'), ('invoice'), ('hinge');
        INSERT INTO message_raw (message_id, raw) VALUES (1, X'5A414E5A'), (4, X'4245');
        INSERT INTO attachments (message_id, filename, content_type, inline, size, position)
            VALUES (1, 'photo.jpg', 'image/jpeg', 0, 4, 0), (4, 'invoice.pdf', 'application/pdf', 0, 2, 0);
        INSERT INTO ingest_keys (key, message_id) VALUES ('mid:m1', 1), ('mid:m4', 4), ('mid:m5', 5);
        INSERT INTO thread_ids (msgid, ticket_id) VALUES ('m1@customer.example', 1), ('m4@example.org', 3),
            ('m5@customer.example', 3);
        INSERT INTO ticket_participants (ticket_id, contact_id, role, added_at) VALUES
            (1, 1, 'customer', 0), (3, 2, 'customer', 0), (3, 1, 'participant', 0), (4, 3, 'customer', 0);
        INSERT INTO events (ticket_id, kind, actor, detail, created_at) VALUES
            (1, 'created', 'system', 'olga', 0), (3, 'created', 'system', 'bea', 0),
            (3, 'message', 'olga@customer.example', 'message 5 from olga@customer.example', 0);
        INSERT INTO ticket_fields (ticket_id, name, value) VALUES (1, 'Order', 'A-1');
        INSERT INTO users (id, email, full_name, first_name, last_name, created_at)
            VALUES (1, 'jane@desk.example', 'Jane Doe', 'Jane', 'Doe', 0);
        INSERT INTO followers (user_id, ticket_id, created_at) VALUES (1, 1, 0), (1, 3, 0);
        INSERT INTO ticket_seen (user_id, ticket_id, last_message) VALUES (1, 1, 3), (1, 3, 5);
        INSERT INTO ratings (message_row, rating, rated_at) VALUES (2, 'good', 0);
        INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
            next_attempt_at, created_at, expires_at) VALUES
            (2, 1, 'support', 'reply', 'help@desk', '[\"olga@customer.example\"]', 'queued', 0, 0, 9),
            (NULL, 3, 'support', 'forward', 'help@desk', '[\"x@example.com\"]', 'sent', 0, 0, 9);
        UPDATE outbox SET source_row = 5 WHERE ticket_id = 3;
    ";

    #[tokio::test]
    async fn erasing_a_customer_takes_everything_of_theirs_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(DESK).unwrap();
        let preview = store.read(|r| r.erasure(1)).await.unwrap().unwrap();
        let expected = Erasure {
            contact: 1,
            email: "olga@customer.example".into(),
            name: Some("Olga Zanzibar".into()),
            // 1 and 6, and Carl's ticket 4 left with nothing but her mail; 2 was merged.
            tickets: 3,
            messages: 5,
            elsewhere: 1,
            attachments: 1,
            unsent: 1,
        };
        assert_eq!(preview, expected);
        assert_eq!(rows(&conn, "tickets", "1"), 6, "a preview changes nothing");
        assert_eq!(
            store
                .read(|r| r.customer_id("OLGA@customer.example"))
                .await
                .unwrap(),
            Some(1)
        );

        let erased = store
            .erase_customer(1, "jane@desk.example".into())
            .await
            .unwrap();
        assert_eq!(erased, Some(expected));
        assert_eq!(rows(&conn, "contacts", "id = 1"), 0);
        let left: Vec<i64> = conn
            .prepare("SELECT id FROM tickets ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            left,
            [3, 5],
            "her tickets, the merged one and the emptied one go"
        );
        let mail: Vec<i64> = conn
            .prepare("SELECT id FROM messages ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(mail, [4, 7], "Bea's and Carl's own mail stays");
        let (count, last): (i64, i64) = conn
            .query_row(
                "SELECT message_count, last_message FROM tickets WHERE id = 3",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((count, last), (1, 4), "Bea's ticket counts what is left");
        for (table, cond, n) in [
            ("search", "search MATCH 'zanzibarword'", 0),
            ("search", "search MATCH 'invoice'", 2),
            ("search_words", "word = 'zanzibarword'", 0),
            ("search_words", "word = 'invoice'", 1),
            ("message_raw", "1", 1),
            ("attachments", "1", 1),
            ("ingest_keys", "1", 1),
            ("thread_ids", "ticket_id = 1", 0),
            ("thread_ids", "ticket_id = 3", 2),
            ("ticket_participants", "contact_id = 1", 0),
            ("ticket_participants", "1", 1),
            ("events", "ticket_id IS NOT NULL", 2),
            (
                "events",
                "actor = 'an erased customer' AND detail = 'message 5 from an erased customer'",
                1,
            ),
            (
                "events",
                "kind = 'erased' AND actor = 'jane@desk.example'",
                1,
            ),
            ("events", "detail LIKE '%olga%' OR actor LIKE '%olga%'", 0),
            ("ticket_fields", "1", 0),
            ("followers", "1", 1),
            ("ticket_seen", "1", 1),
            ("ratings", "1", 0),
            ("outbox", "1", 1),
            ("outbox", "source_row IS NULL", 1),
        ] {
            assert_eq!(rows(&conn, table, cond), n, "{table} where {cond}");
        }
        let broken: Option<String> = conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .unwrap();
        assert_eq!(broken, None, "no row points at one that went");
        assert_eq!(store.read(|r| r.erasure(1)).await.unwrap(), None);
        let kept = store.read(|r| r.erasures(10)).await.unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0].by, "jane@desk.example");
        assert_eq!(
            kept[0].what,
            "customer 1 erased: 3 tickets, 5 messages on them, 1 of their messages on other tickets"
        );
        assert_eq!(
            store
                .erase_customer(1, "jane@desk.example".into())
                .await
                .unwrap(),
            None,
            "a second erasure finds nobody"
        );

        // Her numbers are never given again: the newest ticket (6) and mail (8) went.
        let next: (i64, i64) = conn
            .query_row(
                concat!("SELECT ", next_ticket_id!(), ", ", next_message_id!()),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(next, (7, 9));
        let note = store
            .add_note(3, "jane@desk.example".into(), "checked".into(), None)
            .await
            .unwrap();
        assert_eq!(note, 9, "a new note takes the next unused number");
        store.close();
    }

    #[tokio::test]
    async fn deleting_a_ticket_takes_it_and_what_was_merged_into_it_and_keeps_the_customer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(DESK).unwrap();
        let refused = store.read(|r| r.ticket_deletion(2)).await;
        assert!(
            matches!(&refused, Err(StoreError::Invalid(w)) if w == "ticket #2 was merged into #1: delete that one"),
            "{refused:?}"
        );
        let expected = TicketDeletion {
            ticket: 1,
            subject: "Hinge broke".into(),
            customer: 1,
            messages: 3,
            attachments: 1,
            unsent: 1,
        };
        assert_eq!(
            store.read(|r| r.ticket_deletion(1)).await.unwrap(),
            Some(expected.clone())
        );
        let deleted = store
            .delete_ticket(1, "jane@desk.example".into())
            .await
            .unwrap();
        assert_eq!(deleted, Some(expected));
        let deleted = store
            .delete_ticket(6, "jane@desk.example".into())
            .await
            .unwrap();
        assert_eq!(deleted.map(|d| d.messages), Some(1));
        assert_eq!(
            store
                .delete_ticket(1, "jane@desk.example".into())
                .await
                .unwrap(),
            None
        );
        for (table, cond, n) in [
            ("tickets", "id IN (1, 2, 6)", 0),
            ("tickets", "1", 3),
            ("contacts", "id = 1", 1),
            ("messages", "id IN (1, 2, 3, 8)", 0),
            ("messages", "id = 5", 1),
            ("ticket_participants", "ticket_id = 3 AND contact_id = 1", 1),
            ("search", "search MATCH 'hinge'", 0),
            ("search", "search MATCH 'zanzibarword'", 1),
            ("search_words", "word = 'hinge'", 0),
            ("search_words", "word = 'zanzibarword'", 1),
            ("outbox", "1", 1),
            ("events", "ticket_id IS NULL AND kind = 'deleted'", 2),
        ] {
            assert_eq!(rows(&conn, table, cond), n, "{table} where {cond}");
        }
        let kept = store.read(|r| r.erasures(10)).await.unwrap();
        let said: Vec<&str> = kept.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            said,
            [
                "ticket 6 deleted: 1 message",
                "ticket 1 deleted: 3 messages"
            ]
        );
        let next: i64 = conn
            .query_row(concat!("SELECT ", next_ticket_id!()), [], |r| r.get(0))
            .unwrap();
        assert_eq!(next, 7, "the newest ticket's number is not given again");
        store.close();
    }

    /// What was deleted is overwritten in the database file, not only unlinked.
    #[tokio::test]
    async fn an_erased_customers_words_are_gone_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(DESK).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let file = || {
            let mut bytes = std::fs::read(store.path()).unwrap();
            bytes.extend(std::fs::read(store.path().with_extension("db-wal")).unwrap_or_default());
            bytes
        };
        let holds = |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(
            holds(&file(), b"zanzibarword"),
            "the fixture is in the file"
        );
        store
            .erase_customer(1, "jane@desk.example".into())
            .await
            .unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let bytes = file();
        for gone in [
            &b"zanzibarword"[..],
            b"olga@customer.example",
            b"Olga Zanzibar",
        ] {
            assert!(
                !holds(&bytes, gone),
                "{} is still in the file",
                String::from_utf8_lossy(gone)
            );
        }
        assert!(holds(&bytes, b"bea@example.org"), "the others stay");
        store.close();
    }
}
