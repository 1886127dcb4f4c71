//! Reads and writes for the agent web page: sessions, inbox views, search, attachments.

use rusqlite::{params, Connection, OptionalExtension};

use super::rank::{Figure, PhraseFigures};
use super::words::Widening;
use super::writer::exec;
use super::StoreError;
use crate::desk::search::{Field, OwnerFilter, SearchQuery, Term};
use crate::desk::sla::Cutoffs;

/// A signed-in agent's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// Agent address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Anti-CSRF token for this session's forms.
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request.
    pub last_seen: i64,
    /// Agent is available for new tickets.
    pub available: bool,
    /// Agent is an administrator (may erase customers).
    pub admin: bool,
    /// Agent signs in with a code from an authenticator app too.
    pub two_step: bool,
}

/// Credentials to check at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRecord {
    /// Row id.
    pub user_id: i64,
    /// Argon2id hash, if a password was ever set.
    pub password_hash: Option<String>,
    /// Not deactivated.
    pub active: bool,
    /// Their authenticator secret (base32) when two-step sign-in is on.
    pub two_step_secret: Option<String>,
}

pub(super) fn login_record(
    conn: &Connection,
    email: &str,
) -> Result<Option<LoginRecord>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, password_hash, active, totp_secret FROM users WHERE email = ?1",
        )?
        .query_row([email], |r| {
            Ok(LoginRecord {
                user_id: r.get(0)?,
                password_hash: r.get(1)?,
                active: r.get(2)?,
                two_step_secret: r.get(3)?,
            })
        })
        .optional()?)
}

/// The authenticator secret an agent is setting up, not yet confirmed by a code.
pub(super) fn two_step_pending(
    conn: &Connection,
    email: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT totp_pending FROM users WHERE email = ?1")?
        .query_row([email], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Keep (or with `None` forget) the secret an agent is setting up.
pub(super) fn set_two_step_pending(
    conn: &Connection,
    email: &str,
    secret: Option<&str>,
) -> Result<(), StoreError> {
    if exec(
        conn,
        "UPDATE users SET totp_pending = ?1 WHERE email = ?2",
        params![secret, email],
    )? == 0
    {
        return Err(StoreError::Invalid(format!("no user {email}")));
    }
    Ok(())
}

/// Turn two-step sign-in on with the secret being set up, if it is still `secret` (a
/// second "Set up" in another tab replaces it), marking `step` used, keeping the
/// recovery codes' hashes and signing out every session of the agent's but
/// `keep_session`. False when the secret was replaced.
pub(super) fn turn_on_two_step(
    conn: &Connection,
    email: &str,
    secret: &str,
    step: i64,
    recovery: &[String],
    keep_session: &str,
) -> Result<bool, StoreError> {
    let changed = exec(
        conn,
        "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_step = ?3
         WHERE email = ?1 AND totp_pending = ?2",
        params![email, secret, step],
    )?;
    if changed == 0 {
        return Ok(false);
    }
    replace_recovery(conn, email, recovery)?;
    exec(
        conn,
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?1)
           AND token_hash IS NOT ?2",
        params![email, keep_session],
    )?;
    Ok(true)
}

/// An agent's recovery codes are these (hashes) alone; the old ones stop working.
pub(super) fn replace_recovery(
    conn: &Connection,
    email: &str,
    hashes: &[String],
) -> Result<(), StoreError> {
    let user_id: i64 = conn
        .prepare_cached("SELECT id FROM users WHERE email = ?1")?
        .query_row([email], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Invalid(format!("no user {email}")))?;
    exec(
        conn,
        "DELETE FROM two_step_recovery WHERE user_id = ?1",
        params![user_id],
    )?;
    for hash in hashes {
        exec(
            conn,
            "INSERT OR IGNORE INTO two_step_recovery (user_id, code_hash) VALUES (?1, ?2)",
            params![user_id, hash],
        )?;
    }
    Ok(())
}

/// Use one of an agent's recovery codes (its hash): true, and it is gone, when it was
/// theirs and unused, and two-step sign-in is on.
pub(super) fn use_recovery(
    conn: &Connection,
    user_id: i64,
    hash: &str,
) -> Result<bool, StoreError> {
    Ok(exec(
        conn,
        "DELETE FROM two_step_recovery WHERE user_id = ?1 AND code_hash = ?2
           AND EXISTS (SELECT 1 FROM users WHERE id = ?1 AND totp_secret IS NOT NULL)",
        params![user_id, hash],
    )? == 1)
}

/// How many recovery codes an agent has left.
pub(super) fn recovery_left(conn: &Connection, email: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM two_step_recovery
             WHERE user_id = (SELECT id FROM users WHERE email = ?1)",
        )?
        .query_row([email], |r| r.get(0))?)
}

/// Use time step `step` of an agent's codes: true, and it is theirs, only when it is
/// later than every step used before (a code works once, and never an older one).
pub(super) fn use_two_step(conn: &Connection, user_id: i64, step: i64) -> Result<bool, StoreError> {
    Ok(exec(
        conn,
        "UPDATE users SET totp_step = ?2
         WHERE id = ?1 AND totp_secret IS NOT NULL AND totp_step < ?2",
        params![user_id, step],
    )? == 1)
}

pub(super) fn create_session(
    conn: &Connection,
    session: &super::NewSession,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen, user_agent, address)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
        params![
            session.token_hash,
            session.user_id,
            session.csrf,
            now,
            session.user_agent,
            session.address
        ],
    )?;
    Ok(())
}

/// One of an agent's sessions, as their account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 of its token (names it in the form that ends it; not the token).
    pub token_hash: String,
    /// Unix seconds of the sign-in.
    pub created_at: i64,
    /// Unix seconds of its last request.
    pub last_seen: i64,
    /// The browser's `User-Agent`, if it sent one.
    pub user_agent: Option<String>,
    /// The address it signed in from.
    pub address: Option<String>,
    /// The session asking (the one whose CSRF token was given).
    pub current: bool,
}

/// An agent's sessions, the latest used first; the one with anti-CSRF token `csrf` is
/// marked current.
pub(super) fn sessions_of(
    conn: &Connection,
    email: &str,
    csrf: &str,
) -> Result<Vec<SessionRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.token_hash, s.created_at, s.last_seen, s.user_agent, s.address, s.csrf = ?2
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.email = ?1 ORDER BY s.last_seen DESC, s.created_at DESC",
    )?;
    let rows = stmt.query_map(params![email, csrf], |r| {
        Ok(SessionRow {
            token_hash: r.get(0)?,
            created_at: r.get(1)?,
            last_seen: r.get(2)?,
            user_agent: r.get(3)?,
            address: r.get(4)?,
            current: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// End an agent's sessions but `keep`: the one named `only`, or every other. How many
/// ended.
pub(super) fn end_sessions(
    conn: &Connection,
    email: &str,
    keep: &str,
    only: Option<&str>,
) -> Result<usize, StoreError> {
    exec(
        conn,
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?1)
           AND token_hash <> ?2 AND (?3 IS NULL OR token_hash = ?3)",
        params![email, keep, only],
    )
}

/// Delete sessions unused since `idle_before` or made before `created_before`.
pub(super) fn sweep_sessions(
    conn: &Connection,
    idle_before: i64,
    created_before: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2",
        params![idle_before, created_before],
    )?;
    Ok(())
}

pub(super) fn touch_session(
    conn: &Connection,
    token_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "UPDATE sessions SET last_seen = ?1 WHERE token_hash = ?2",
        params![now, token_hash],
    )?;
    Ok(())
}

/// Record that `email`'s ticket page showed `ticket` up to message row `last_message`
/// (never moving back: an older page rendered late does not unread newer mail).
pub(super) fn mark_seen(
    conn: &Connection,
    email: &str,
    ticket: i64,
    last_message: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO ticket_seen (user_id, ticket_id, last_message)
         SELECT u.id, ?2, ?3 FROM users u WHERE u.email = ?1
         ON CONFLICT (user_id, ticket_id)
         DO UPDATE SET last_message = MAX(last_message, excluded.last_message)",
        params![email, ticket, last_message],
    )?;
    Ok(())
}

/// Make `ticket`'s last message new to `email` again ("Mark unread"): what they were
/// shown goes back to the message before it. False when there is no such ticket or
/// agent.
pub(super) fn mark_unseen(conn: &Connection, email: &str, ticket: i64) -> Result<bool, StoreError> {
    let changed = exec(
        conn,
        "INSERT INTO ticket_seen (user_id, ticket_id, last_message)
         SELECT u.id, t.id, COALESCE((SELECT MAX(m.id) FROM messages m
                                      WHERE m.ticket_id = t.id AND m.id < t.last_message), 0)
         FROM users u, tickets t WHERE u.email = ?1 AND t.id = ?2 AND t.merged_into IS NULL
         ON CONFLICT (user_id, ticket_id) DO UPDATE SET last_message = excluded.last_message",
        params![email, ticket],
    )?;
    Ok(changed > 0)
}

/// The last message row of `ticket` that `email` was shown (0: none).
pub(super) fn last_seen(conn: &Connection, email: &str, ticket: i64) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT s.last_message FROM ticket_seen s JOIN users u ON u.id = s.user_id
             WHERE u.email = ?1 AND s.ticket_id = ?2",
        )?
        .query_row(params![email, ticket], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

pub(super) fn delete_session(conn: &Connection, token_hash: &str) -> Result<(), StoreError> {
    exec(
        conn,
        "DELETE FROM sessions WHERE token_hash = ?1",
        params![token_hash],
    )?;
    Ok(())
}

pub(super) fn session(
    conn: &Connection,
    token_hash: &str,
) -> Result<Option<SessionView>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT u.email, u.full_name, s.csrf, s.created_at, s.last_seen, u.available, u.admin,
                    u.totp_secret IS NOT NULL
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND u.active = 1",
        )?
        .query_row([token_hash], |r| {
            Ok(SessionView {
                email: r.get(0)?,
                name: r.get(1)?,
                csrf: r.get(2)?,
                created_at: r.get(3)?,
                last_seen: r.get(4)?,
                available: r.get(5)?,
                admin: r.get(6)?,
                two_step: r.get(7)?,
            })
        })
        .optional()?)
}

/// An attachment as listed on the ticket page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentView {
    /// Row id.
    pub id: i64,
    /// The message it belongs to.
    pub message_row: i64,
    /// File name.
    pub filename: Option<String>,
    /// `type/subtype`.
    pub content_type: String,
    /// Content-ID for `cid:` references.
    pub content_id: Option<String>,
    /// Inline part.
    pub inline: bool,
    /// Decoded size.
    pub size: i64,
    /// Index among the message's attachments.
    pub position: i64,
}

fn attachment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentView> {
    Ok(AttachmentView {
        id: r.get(0)?,
        message_row: r.get(1)?,
        filename: r.get(2)?,
        content_type: r.get(3)?,
        content_id: r.get(4)?,
        inline: r.get(5)?,
        size: r.get(6)?,
        position: r.get(7)?,
    })
}

pub(super) fn ticket_attachments(
    conn: &Connection,
    ticket: i64,
) -> Result<Vec<AttachmentView>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.message_id, a.filename, a.content_type, a.content_id, a.inline, a.size, a.position
         FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.ticket_id = ?1 ORDER BY a.id",
    )?;
    let rows = stmt.query_map([ticket], attachment_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One attachment with the raw message holding it.
pub(super) fn attachment(
    conn: &Connection,
    id: i64,
) -> Result<Option<(AttachmentView, i64, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT a.id, a.message_id, a.filename, a.content_type, a.content_id, a.inline, a.size, a.position, m.ticket_id, r.raw
             FROM attachments a JOIN messages m ON m.id = a.message_id
             LEFT JOIN message_raw r ON r.message_id = a.message_id WHERE a.id = ?1",
        )?
        .query_row([id], |r| Ok((attachment_row(r)?, r.get(8)?, r.get::<_, Option<Vec<u8>>>(9)?.unwrap_or_default())))
        .optional()?)
}

/// A message's attachments that are files (not inline images), and its original.
pub(super) fn message_files(
    conn: &Connection,
    row: i64,
) -> Result<(Vec<AttachmentView>, Vec<u8>), StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, a.message_id, a.filename, a.content_type, a.content_id, a.inline, a.size, a.position
         FROM attachments a WHERE a.message_id = ?1 AND a.inline = 0 ORDER BY a.position",
    )?;
    let files: Vec<AttachmentView> = stmt
        .query_map([row], attachment_row)?
        .collect::<Result<_, _>>()?;
    if files.is_empty() {
        return Ok((files, Vec::new()));
    }
    let raw = message_original(conn, row)?
        .map(|(_, raw)| raw)
        .unwrap_or_default();
    Ok((files, raw))
}

/// A message's stored original (as received or as sent) and its ticket; none for
/// notes and unknown rows.
pub(super) fn message_original(
    conn: &Connection,
    row: i64,
) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT m.ticket_id, r.raw FROM messages m JOIN message_raw r ON r.message_id = m.id
             WHERE m.id = ?1 AND m.direction <> 'note'",
        )?
        .query_row([row], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// Ticket.
    pub ticket_id: i64,
    /// Ticket subject.
    pub subject: String,
    /// Matching text with `\u{2}`/`\u{3}` around the matched words.
    pub snippet: String,
    /// Customer.
    pub contact: String,
    /// The ticket's status (pipeline stage).
    pub status: String,
    /// The status is a closed stage.
    pub closed: bool,
}

/// A search's filters on the ticket, bound in the order [`ticket_filters`] numbers them.
struct TicketFilters {
    status: Option<String>,
    channel: Option<String>,
    tag: Option<String>,
    open: Option<bool>,
    /// An address or first name in lower case; empty for nobody's.
    owner: Option<String>,
    /// Written into the statement, not bound (one of four fixed words).
    priority: Option<crate::desk::lifecycle::Priority>,
}

impl TicketFilters {
    fn of(q: &SearchQuery, me: &str) -> TicketFilters {
        TicketFilters {
            status: q.status.clone(),
            channel: q.channel.clone(),
            tag: q.tag.clone(),
            open: q.open,
            owner: q.owner.as_ref().map(|o| match o {
                OwnerFilter::Me => me.to_lowercase(),
                OwnerFilter::Nobody => String::new(),
                OwnerFilter::Agent(a) => a.clone(),
            }),
            priority: q.priority,
        }
    }
}

/// The conditions of [`TicketFilters`] on `t`, bound from `?{n}` to `?{n+4}` (a NULL
/// leaves its condition out), and the priority's, written in.
fn ticket_filters(n: usize, priority: Option<crate::desk::lifecycle::Priority>) -> String {
    format!(
        "{priority} AND (?{n} IS NULL OR t.status = ?{n} COLLATE NOCASE)
         AND (?{c} IS NULL OR t.channel = ?{c} COLLATE NOCASE)
         AND (?{g} IS NULL OR EXISTS (SELECT 1 FROM json_each(t.tags) j WHERE j.value = ?{g}))
         AND (?{o} IS NULL OR t.closed = NOT ?{o})
         AND (?{w} IS NULL OR (?{w} = '' AND t.owner IS NULL) OR t.owner = ?{w}
              OR t.owner IN (SELECT u.email FROM users u WHERE lower(u.first_name) = ?{w}))",
        c = n + 1,
        g = n + 2,
        o = n + 3,
        w = n + 4,
        priority = priority.map_or_else(
            || "1".to_string(),
            |p| format!("t.priority = '{}'", p.as_str())
        ),
    )
}

/// Full-text search with the box's filters (see `desk::search`): the tickets whose
/// mail holds every word, best first; without words, the tickets the filters keep,
/// latest activity first. `me` is who `owner:me` is.
pub(super) fn search(
    conn: &Connection,
    figures: &PhraseFigures,
    q: &SearchQuery,
    me: &str,
    limit: u32,
) -> Result<Vec<SearchHit>, StoreError> {
    let filters = TicketFilters::of(q, me);
    if !q.has_words() {
        return if q.has_filters() {
            listed(conn, &filters, limit)
        } else {
            Ok(Vec::new())
        };
    }
    // A ticket whose field holds what was typed, whole ("A-4711"), comes first.
    let by_field = if q.terms.iter().all(|t| t.field == Field::Any) {
        let words: Vec<&str> = q.terms.iter().map(|t| t.word.as_str()).collect();
        field_matches(conn, &filters, &words.join(" "), limit)?
    } else {
        Vec::new()
    };
    if by_field.is_empty() {
        return mail_matches(conn, figures, q, &filters, limit);
    }
    let shown: std::collections::HashSet<i64> = by_field.iter().map(|h| h.ticket_id).collect();
    let mut hits = by_field;
    let room = (limit as usize).saturating_sub(hits.len());
    hits.extend(
        mail_matches(conn, figures, q, &filters, limit)?
            .into_iter()
            .filter(|h| !shown.contains(&h.ticket_id))
            .take(room),
    );
    Ok(hits)
}

/// The tickets whose mail holds every word of `q`, best first (see [`search`]).
fn mail_matches(
    conn: &Connection,
    figures: &PhraseFigures,
    q: &SearchQuery,
    filters: &TicketFilters,
    limit: u32,
) -> Result<Vec<SearchHit>, StoreError> {
    let filtered = q.has_filters().then_some(filters);
    let typed = if q.prefix_last {
        LastAs::Begun
    } else {
        LastAs::Typed
    };
    let hits = ranked(conn, figures, q, typed, limit, filtered)?;
    // Whole words first: a prefix of a word found in most mail costs FTS5 a walk of
    // every posting of every word it starts. Only when they find less than a page is
    // the last word taken as typed half-way ("warr" finds "warranty").
    if q.prefix_last || hits.len() >= limit as usize {
        return Ok(hits);
    }
    // A last word that begins no other word would find the same again. One found
    // whole that begins more than MAX_EXPANSIONS others ("garcia": garcia1@…,
    // garcia2@… in addresses) is taken as typed: it was most likely typed in full, and
    // the prefix query would merge the postings of every one of those words.
    if let Some(last) = q.terms.last() {
        match super::words::widening(conn, &last.word)? {
            Widening::Nothing => return Ok(hits),
            Widening::Many if !hits.is_empty() => return Ok(hits),
            Widening::Few | Widening::Many => {}
        }
    }
    if hits.is_empty() {
        return ranked(conn, figures, q, LastAs::Begun, limit, filtered);
    }
    // Found whole, and it begins a few longer words: their matches come after the
    // whole word's ("print" as typed first, then "printer"), and only their postings
    // are walked again.
    let shown: std::collections::HashSet<i64> = hits.iter().map(|h| h.ticket_id).collect();
    let room = limit as usize - hits.len();
    let more = ranked(conn, figures, q, LastAs::Longer, limit, filtered)?;
    let mut hits = hits;
    hits.extend(
        more.into_iter()
            .filter(|h| !shown.contains(&h.ticket_id))
            .take(room),
    );
    Ok(hits)
}

/// How [`ranked`] takes a search's last word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastAs {
    /// Whole, as typed.
    Typed,
    /// As the start of words: itself and every word it begins.
    Begun,
    /// Only the longer words it begins (listed in `search_words`); nothing when there
    /// are none or too many to list.
    Longer,
}

/// The tickets `filters` keep with a field whose value is `value` (letter case aside),
/// latest activity first; the snippet names the field.
fn field_matches(
    conn: &Connection,
    filters: &TicketFilters,
    value: &str,
    limit: u32,
) -> Result<Vec<SearchHit>, StoreError> {
    filtered(conn, filters, limit, Some(value))
}

/// The tickets `filters` keep, latest activity first (a search of filters alone).
fn listed(
    conn: &Connection,
    filters: &TicketFilters,
    limit: u32,
) -> Result<Vec<SearchHit>, StoreError> {
    filtered(conn, filters, limit, None)
}

/// The tickets `filters` keep, latest activity first, one hit each; with `field_value`,
/// only those with a field holding it, which their snippet names.
fn filtered(
    conn: &Connection,
    filters: &TicketFilters,
    limit: u32,
    field_value: Option<&str>,
) -> Result<Vec<SearchHit>, StoreError> {
    let (fields, from, matching) = match field_value {
        Some(_) => (
            "f.name, f.value",
            "ticket_fields f JOIN tickets t ON t.id = f.ticket_id",
            "f.value = ?7 COLLATE NOCASE AND",
        ),
        None => ("'', ''", "tickets t", ""),
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.id, t.subject, c.email, t.status, t.closed, {fields}
         FROM {from} JOIN contacts c ON c.id = t.contact_id
         WHERE {matching} t.merged_into IS NULL AND {}
         ORDER BY t.activity DESC LIMIT ?6",
        ticket_filters(1, filters.priority)
    ))?;
    let mut bind: Vec<rusqlite::types::Value> = vec![
        filters.status.clone().into(),
        filters.channel.clone().into(),
        filters.tag.clone().into(),
        filters.open.into(),
        filters.owner.clone().into(),
        i64::from(limit).into(),
    ];
    if let Some(v) = field_value {
        bind.push(v.to_string().into());
    }
    let rows = stmt.query_map(rusqlite::params_from_iter(bind), |r| {
        let (name, value): (String, String) = (r.get(5)?, r.get(6)?);
        Ok(SearchHit {
            ticket_id: r.get(0)?,
            subject: r.get(1)?,
            snippet: if name.is_empty() {
                String::new()
            } else {
                format!("{name}: \u{2}{value}\u{3}")
            },
            contact: r.get(2)?,
            status: r.get(3)?,
            closed: r.get(4)?,
        })
    })?;
    let mut hits: Vec<SearchHit> = Vec::new();
    // One hit per ticket, though two of its fields hold the value.
    for hit in rows {
        let hit = hit?;
        if !hits.iter().any(|h| h.ticket_id == hit.ticket_id) {
            hits.push(hit);
        }
    }
    Ok(hits)
}

/// The tickets whose messages hold every term (the last taken as `last_as` says),
/// best first, one hit per ticket; only those `filters` keep.
fn ranked(
    conn: &Connection,
    figures: &PhraseFigures,
    q: &SearchQuery,
    last_as: LastAs,
    limit: u32,
    filters: Option<&TicketFilters>,
) -> Result<Vec<SearchHit>, StoreError> {
    // A half-typed last word is searched as the whole words it begins, when there
    // are few: FTS5's own prefix query merges all their postings first (`words`).
    let expanded = match (q.terms.last(), last_as) {
        (Some(last), LastAs::Begun) => super::words::expansions(conn, &last.word)?,
        (Some(last), LastAs::Longer) => {
            let whole = super::words::tokens(conn, &last.word)?.join(" ");
            super::words::expansions(conn, &last.word)?
                .map(|phrases| phrases.into_iter().filter(|p| *p != whole).collect())
        }
        _ => None,
    };
    let last = match (&expanded, last_as) {
        (Some(words), LastAs::Longer) if words.is_empty() => return Ok(Vec::new()),
        (Some(words), _) => LastWord::Words(words),
        (None, LastAs::Begun) => LastWord::Prefix,
        (None, LastAs::Longer) => return Ok(Vec::new()),
        (None, LastAs::Typed) => LastWord::Whole,
    };
    let phrases = fts_phrases(&q.terms, last);
    if phrases.is_empty() {
        return Ok(Vec::new());
    }
    let words = q.words_in(Field::Any);
    // How many messages hold each term, for its weight (kept a while: see `rank`);
    // each word a half-typed one stands for weighs as the whole of them.
    let mut held = Vec::with_capacity(phrases.len());
    for (term, _) in &phrases {
        let n = match figures.get(Figure::Held, term) {
            Some(n) => n,
            None => {
                let n: i64 = conn
                    .prepare_cached("SELECT count(*) FROM search WHERE search MATCH ?1")?
                    .query_row([term], |r| r.get(0))?;
                figures.put(Figure::Held, term, n);
                n
            }
        };
        held.push(n);
    }
    let weights: Vec<i64> = phrases
        .iter()
        .zip(&held)
        .flat_map(|((_, alternatives), n)| std::iter::repeat_n(*n, *alternatives))
        .collect();
    // Ranked within the newest matches: FTS5 walks a word's postings newest first and
    // stops there, so a word found in most mail costs no more than a rare one. With
    // filters, the newest matches they keep: each posting's ticket is looked at as the
    // walk goes.
    let first_count = if filters.is_some() { 9 } else { 3 };
    let args: String = (0..weights.len())
        .map(|i| format!(", ?{}", i + first_count))
        .collect();
    let mut stmt = conn.prepare_cached(&match filters {
        None => format!(
            "SELECT rowid, fd_rank(search{args}) FROM search WHERE search MATCH ?1 ORDER BY rowid DESC LIMIT ?2"
        ),
        Some(_) => format!(
            "SELECT search.rowid, fd_rank(search{args}) FROM search
             JOIN messages m INDEXED BY messages_ticket_of ON m.id = search.rowid
             JOIN tickets t ON t.id = m.ticket_id
             WHERE search MATCH ?1 AND search.rowid >= ?8 AND t.merged_into IS NULL AND {}
             ORDER BY search.rowid DESC LIMIT ?2",
            ticket_filters(3, filters.and_then(|f| f.priority))
        ),
    })?;
    let fts = fts_match(&phrases);
    // A filter that keeps few of a common word's mails would otherwise have every one
    // of them looked up: the walk stops at the newest FILTERED_WINDOW matches.
    // No walk to bound when a word is in fewer mails than that anyway.
    let rarest = held.iter().copied().min().unwrap_or(0);
    let floor: i64 = match filters {
        Some(_) if rarest > FILTERED_WINDOW => match figures.get(Figure::WindowFloor, &fts) {
            Some(floor) => floor,
            None => {
                let floor = conn
                    .prepare_cached(
                        "SELECT rowid FROM search WHERE search MATCH ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2",
                    )?
                    .query_row(params![fts, FILTERED_WINDOW - 1], |r| r.get(0))
                    .optional()?
                    .unwrap_or(i64::MIN);
                figures.put(Figure::WindowFloor, &fts, floor);
                floor
            }
        },
        _ => i64::MIN,
    };
    let window = if filters.is_some() {
        FILTERED_SEARCH_WINDOW
    } else {
        SEARCH_WINDOW
    };
    let mut bind: Vec<&dyn rusqlite::ToSql> = vec![&fts, &window];
    if let Some(f) = filters {
        bind.extend([
            &f.status as &dyn rusqlite::ToSql,
            &f.channel,
            &f.tag,
            &f.open,
            &f.owner,
            &floor,
        ]);
    }
    bind.extend(weights.iter().map(|n| n as &dyn rusqlite::ToSql));
    let mut scored: Vec<(i64, f64)> = stmt
        .query_map(bind.as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // Best first; ties go to the newer message.
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    // The best few: their ticket and text by key (a second full-text pass for
    // snippet() would cost as much as the search again for a prefix word).
    let mut hit = conn.prepare_cached(
        "SELECT t.id, t.subject, m.text_body, c.email, t.status, t.closed
         FROM messages m
         JOIN tickets t ON t.id = m.ticket_id
         JOIN contacts c ON c.id = t.contact_id
         WHERE m.id = ?1 AND t.merged_into IS NULL",
    )?;
    // A thread's mails often all hold the words (replies quote): which ticket a mail is
    // on comes from a small index first, and only a ticket not shown yet has its mail's
    // long row read.
    let mut ticket_of = conn.prepare_cached(
        "SELECT ticket_id FROM messages INDEXED BY messages_ticket_of WHERE id = ?1",
    )?;
    let mut shown: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut out: Vec<SearchHit> = Vec::new();
    for (rowid, _) in scored {
        if out.len() >= limit as usize {
            break;
        }
        let ticket: Option<i64> = ticket_of.query_row([rowid], |r| r.get(0)).optional()?;
        if ticket.is_some_and(|t| shown.contains(&t)) {
            continue;
        }
        let found = hit
            .query_row([rowid], |r| {
                Ok((
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ),
                    (r.get::<_, String>(4)?, r.get::<_, bool>(5)?),
                ))
            })
            .optional()?;
        let Some(((ticket_id, subject, text, contact), (status, closed))) = found else {
            continue;
        };
        // One hit per ticket, best first.
        if !shown.insert(ticket_id) {
            continue;
        }
        out.push(SearchHit {
            ticket_id,
            snippet: snippet(&text, &words),
            subject,
            contact,
            status,
            closed,
        });
    }
    Ok(out)
}

/// How many of the newest matches a search ranks.
pub const SEARCH_WINDOW: i64 = 500;

/// How many of the newest matches its filters keep a search with filters ranks: each
/// costs a look at its ticket on the way.
pub const FILTERED_SEARCH_WINDOW: i64 = 300;

/// How many of the newest matches a search with filters looks through for the
/// [`FILTERED_SEARCH_WINDOW`] its filters keep.
pub const FILTERED_WINDOW: i64 = 10_000;

/// Characters of context on each side of the first match in a snippet.
const SNIPPET_CONTEXT: usize = 60;

/// A short excerpt of `text` around the first place any of `words` starts a word (case
/// and accents as typed are not folded beyond lower case), the match between `\u{2}` and
/// `\u{3}` (the page turns those into a highlight); the start of the text when no word
/// is found as typed.
pub fn snippet(text: &str, words: &[String]) -> String {
    // Most mail is ASCII, whose lower case is a byte-wise copy (a tenth of a search's
    // time went to lower-casing hits' text through the Unicode tables).
    let lower = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        text.to_lowercase()
    };
    let wanted: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    // Byte offsets of the lower-cased text line up with the original only when
    // lower-casing kept every length; otherwise fall back to the start of the text.
    let aligned = lower.len() == text.len();
    let found = aligned
        .then(|| {
            lower.char_indices().find_map(|(i, _)| {
                let at_word_start = lower[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                if !at_word_start {
                    return None;
                }
                wanted
                    .iter()
                    .filter(|w| !w.is_empty() && lower[i..].starts_with(w.as_str()))
                    .map(|w| (i, w.len()))
                    .max_by_key(|(_, len)| *len)
            })
        })
        .flatten();
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_whitespace() || c.is_control() {
                    ' '
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    match found {
        Some((at, len)) => {
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(SNIPPET_CONTEXT)
                .map(|(i, _)| i)
                .unwrap_or(0);
            let end_of_match = at + len;
            let end = text[end_of_match..]
                .char_indices()
                .nth(SNIPPET_CONTEXT)
                .map(|(i, _)| end_of_match + i)
                .unwrap_or(text.len());
            format!(
                "{}{}\u{2}{}\u{3}{}{}",
                if start > 0 { "… " } else { "" },
                clean(&text[start..at]),
                clean(&text[at..end_of_match]),
                clean(&text[end_of_match..end]),
                if end < text.len() { " …" } else { "" }
            )
        }
        None => {
            let end = text
                .char_indices()
                .nth(2 * SNIPPET_CONTEXT)
                .map(|(i, _)| i)
                .unwrap_or(text.len());
            format!(
                "{}{}",
                clean(&text[..end]),
                if end < text.len() { " …" } else { "" }
            )
        }
    }
}

/// The terms as one FTS5 query, each required. FTS5 takes juxtaposed phrases as
/// AND, but not a parenthesised group beside a phrase, so the AND is written out.
fn fts_match(phrases: &[(String, usize)]) -> String {
    phrases
        .iter()
        .map(|(term, _)| term.as_str())
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// How the last word of a search is taken.
#[derive(Debug, Clone, Copy)]
enum LastWord<'a> {
    /// Whole, as the others.
    Whole,
    /// As the start of words, by FTS5's prefix query.
    Prefix,
    /// As any of these phrases (the words it begins, from `words::expansions`).
    Words(&'a [String]),
}

/// Each term as an FTS5 query term, with how many phrases FTS5 numbers in it: a
/// quoted phrase (no operator injection), in its column when it has one; the last one
/// taken as `last` says.
fn fts_phrases(terms: &[Term], last: LastWord<'_>) -> Vec<(String, usize)> {
    let column = |t: &Term| match t.field {
        Field::Any => "",
        Field::Subject => "subject : ",
        Field::From => "contact : ",
    };
    let count = terms.len();
    terms
        .iter()
        .enumerate()
        .map(|(i, t)| match last {
            LastWord::Prefix if i + 1 == count => (format!("{}\"{}\"*", column(t), t.word), 1),
            LastWord::Words(words) if i + 1 == count && !words.is_empty() => {
                let any: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
                (format!("{}({})", column(t), any.join(" OR ")), words.len())
            }
            _ => (format!("{}\"{}\"", column(t), t.word), 1),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{fts_match, fts_phrases, snippet, LastWord};
    use crate::desk::search::parse;
    use crate::store::SecondStep::{Recovery, Step};
    use crate::store::{NewSession, NewUser, Store, UserChanges};

    /// A session to start for `user` with token hash `token`.
    fn signed(token: String, user: i64) -> NewSession {
        NewSession {
            token_hash: token,
            user_id: user,
            csrf: "c".into(),
            ..NewSession::default()
        }
    }

    #[tokio::test]
    async fn two_step_turns_on_only_with_the_key_set_up_and_each_step_works_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let jane = store
            .add_user(NewUser {
                email: "jane@acme.test".into(),
                full_name: "Jane Doe".into(),
                first_name: "Jane".into(),
                last_name: "Doe".into(),
                admin: false,
                seat: true,
            })
            .await
            .unwrap();
        let session = |n: u8| (format!("token{n}"), format!("csrf{n}"));
        for n in [1, 2] {
            let (token, csrf) = session(n);
            store
                .create_session(
                    NewSession {
                        token_hash: token,
                        user_id: jane,
                        csrf,
                        ..NewSession::default()
                    },
                    3600,
                    86_400,
                )
                .await
                .unwrap();
        }
        let on = |store: &Store| {
            let store = store.clone();
            async move {
                store
                    .read(|r| r.login_record("jane@acme.test"))
                    .await
                    .unwrap()
                    .unwrap()
                    .two_step_secret
            }
        };
        // Off: no step can be used, no key to confirm.
        assert!(!store
            .create_session_with_code(signed("t3".into(), jane), Step(5), (3600, 86_400))
            .await
            .unwrap());
        assert!(!store
            .turn_on_two_step(
                "jane@acme.test".into(),
                "KEY".into(),
                5,
                vec!["R1".into()],
                "token1".into()
            )
            .await
            .unwrap());
        store
            .set_two_step_pending("jane@acme.test".into(), Some("OLDKEY".into()))
            .await
            .unwrap();
        store
            .set_two_step_pending("jane@acme.test".into(), Some("KEY".into()))
            .await
            .unwrap();
        // A key replaced by a second "Set up" is not the one turned on.
        assert!(!store
            .turn_on_two_step(
                "jane@acme.test".into(),
                "OLDKEY".into(),
                5,
                vec!["R1".into()],
                "token1".into()
            )
            .await
            .unwrap());
        assert_eq!(on(&store).await, None);
        assert!(store
            .turn_on_two_step(
                "jane@acme.test".into(),
                "KEY".into(),
                5,
                vec!["R1".into(), "R2".into()],
                "token1".into()
            )
            .await
            .unwrap());
        assert_eq!(on(&store).await.as_deref(), Some("KEY"));
        let pending = store
            .read(|r| r.two_step_pending("jane@acme.test"))
            .await
            .unwrap();
        assert_eq!(pending, None, "the key set up is no longer pending");
        let live = |token: &'static str| {
            let store = store.clone();
            async move {
                store
                    .read(move |r| r.session(token))
                    .await
                    .unwrap()
                    .map(|s| s.two_step)
            }
        };
        assert_eq!(live("token1").await, Some(true), "the session it came from");
        assert_eq!(live("token2").await, None, "another session outlived it");
        // Step 5 turned it on: it and older steps are spent, later ones work once.
        for (step, works) in [
            (5, false),
            (4, false),
            (6, true),
            (6, false),
            (8, true),
            (7, false),
        ] {
            assert_eq!(
                store
                    .create_session_with_code(
                        signed(format!("s{step}{works}"), jane),
                        Step(step),
                        (3600, 86_400)
                    )
                    .await
                    .unwrap(),
                works,
                "step {step}"
            );
        }
        assert_eq!(live("s6true").await, Some(true));
        assert_eq!(live("s6false").await, None);
        // Recovery codes: each of hers works once, no one else's at all.
        let left = |store: &Store| {
            let store = store.clone();
            async move {
                store
                    .read(|r| r.recovery_left("jane@acme.test"))
                    .await
                    .unwrap()
            }
        };
        assert_eq!(left(&store).await, 2);
        for (code, works) in [("R1", true), ("R1", false), ("R3", false), ("R2", true)] {
            assert_eq!(
                store
                    .create_session_with_code(
                        signed(format!("r{code}{works}"), jane),
                        Recovery(code.into()),
                        (3600, 86_400)
                    )
                    .await
                    .unwrap(),
                works,
                "recovery {code}"
            );
        }
        assert_eq!(left(&store).await, 0);
        store
            .replace_recovery_codes("jane@acme.test".into(), vec!["R4".into()])
            .await
            .unwrap();
        assert_eq!(left(&store).await, 1);
        // Off, by the sysadmin: the key and the recovery codes go, sessions stay.
        let said = store
            .update_user(
                "jane@acme.test".into(),
                UserChanges {
                    two_step_off: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(said.contains("two-step sign-in off"), "{said}");
        assert_eq!(on(&store).await, None);
        assert_eq!(live("s6true").await, Some(false));
        assert_eq!(left(&store).await, 0);
        assert!(!store
            .create_session_with_code(signed("t9".into(), jane), Step(9), (3600, 86_400))
            .await
            .unwrap());
    }

    /// A search box as an FTS5 query, the last word taken as `last` says.
    fn fts_query_as(input: &str, last: LastWord<'_>) -> String {
        fts_match(&fts_phrases(&parse(input).terms, last))
    }

    /// A search box as an FTS5 query, the last word whole or a prefix.
    fn fts_query(input: &str, prefix_last: bool) -> String {
        let last = if prefix_last {
            LastWord::Prefix
        } else {
            LastWord::Whole
        };
        fts_query_as(input, last)
    }

    #[test]
    fn a_half_typed_word_is_the_words_it_begins() {
        let words = ["warrant".to_string(), "warranty".to_string()];
        assert_eq!(
            fts_query_as("broken warr", LastWord::Words(&words)),
            "\"broken\" AND (\"warrant\" OR \"warranty\")"
        );
        assert_eq!(
            fts_query_as("subject:warr", LastWord::Words(&words)),
            "subject : (\"warrant\" OR \"warranty\")"
        );
        // FTS5 numbers each word as a phrase of its own: the ranking gets a weight
        // for each.
        let counted: Vec<usize> = fts_phrases(&parse("broken warr").terms, LastWord::Words(&words))
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(counted, [1, 2]);
        // Only the last word; no words at all leaves it whole.
        assert_eq!(
            fts_query_as("warr broken", LastWord::Words(&words)),
            "\"warr\" AND (\"warrant\" OR \"warranty\")"
        );
        assert_eq!(fts_query_as("warr", LastWord::Words(&[])), "\"warr\"");
    }

    #[test]
    fn snippets_show_the_first_match_in_context() {
        let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            snippet("Hello, my Printer is on fire.", &w(&["printer"])),
            "Hello, my \u{2}Printer\u{3} is on fire."
        );
        // A prefix of a word matches; the middle of a word does not.
        assert_eq!(
            snippet("reprint the printers", &w(&["print"])),
            "reprint the \u{2}print\u{3}ers"
        );
        // The longest of several words that start there.
        assert_eq!(
            snippet("update now", &w(&["up", "update"])),
            "\u{2}update\u{3} now"
        );
        // Long text is cut around the match, on character boundaries.
        let long = format!("{} needle {}", "ä".repeat(200), "ö".repeat(200));
        let s = snippet(&long, &w(&["needle"]));
        assert!(s.starts_with("… ") && s.ends_with(" …"), "{s}");
        assert!(s.contains("\u{2}needle\u{3}"));
        assert_eq!(s.chars().filter(|&c| c == 'ä').count(), 60);
        // Line breaks become spaces; no match gives the start.
        assert_eq!(snippet("a\nb", &w(&["zzz"])), "a b");
        assert_eq!(snippet("", &w(&["x"])), "");
        // Lower-casing that changes lengths (İ) falls back to the start.
        assert_eq!(snippet("İx needle", &w(&["needle"])), "İx needle");
    }

    #[test]
    fn search_words_are_quoted() {
        assert_eq!(fts_query("printer fire", false), "\"printer\" AND \"fire\"");
        assert_eq!(fts_query("printer fire", true), "\"printer\" AND \"fire\"*");
        assert_eq!(
            fts_query("OR NOT ) ( \"x", true),
            "\"OR\" AND \"NOT\" AND \"x\"*"
        );
        assert_eq!(
            fts_query("NEAR(a b)", false),
            "\"NEAR\" AND \"a\" AND \"b\""
        );
        assert_eq!(fts_query("  ", true), "");
        assert_eq!(fts_query("*", true), "");
        assert_eq!(
            fts_query("jane@customer.org", false),
            "\"jane@customer.org\""
        );
        assert_eq!(fts_query("warr*", true), "\"warr\"*");
        assert_eq!(fts_query("-- invoice", false), "\"invoice\"");
        assert_eq!(fts_query("@ . _", true), "");
    }

    #[test]
    fn a_trailing_star_asks_for_a_prefix() {
        let star = |input: &str| parse(input).prefix_last;
        assert!(star("warr*"));
        assert!(star("printer warr* "));
        assert!(!star("warr"));
        assert!(!star("*warr"));
        assert!(!star(""));
    }

    #[test]
    fn from_and_subject_words_search_their_column() {
        assert_eq!(
            fts_query("from:olga subject:hinge broken", true),
            "contact : \"olga\" AND subject : \"hinge\" AND \"broken\"*"
        );
        // A filter is no part of the full-text query.
        assert_eq!(fts_query("refund is:open tag:vip", false), "\"refund\"");
    }
}

/// Which tickets an inbox view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxView {
    /// Open and nobody's.
    Unassigned,
    /// Open and mine.
    Mine,
    /// Open, and naming me in a note (`@`).
    Mentions,
    /// Open, and followed by me.
    Following,
    /// Open and my teams' (assigned to a team of mine or a member of one).
    Teams,
    /// Every open ticket.
    Open,
    /// Open tickets whose customer's answer is overdue (`[sla]`; snoozed ones too).
    Overdue,
    /// Open tickets snoozed until later (the other open views leave them out).
    Snoozed,
    /// Closed ones.
    Closed,
    /// Everything.
    All,
}

impl InboxView {
    /// Parse the `view` query parameter.
    pub fn parse(s: &str) -> Option<InboxView> {
        Some(match s {
            "unassigned" => InboxView::Unassigned,
            "mine" => InboxView::Mine,
            "mentions" => InboxView::Mentions,
            "following" => InboxView::Following,
            "teams" => InboxView::Teams,
            "open" => InboxView::Open,
            "overdue" => InboxView::Overdue,
            "snoozed" => InboxView::Snoozed,
            "closed" => InboxView::Closed,
            "all" => InboxView::All,
            _ => return None,
        })
    }

    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            InboxView::Unassigned => "unassigned",
            InboxView::Mine => "mine",
            InboxView::Mentions => "mentions",
            InboxView::Following => "following",
            InboxView::Teams => "teams",
            InboxView::Open => "open",
            InboxView::Overdue => "overdue",
            InboxView::Snoozed => "snoozed",
            InboxView::Closed => "closed",
            InboxView::All => "all",
        }
    }

    /// Every view, in menu order.
    pub const ALL: [InboxView; 10] = [
        InboxView::Unassigned,
        InboxView::Mine,
        InboxView::Mentions,
        InboxView::Following,
        InboxView::Teams,
        InboxView::Open,
        InboxView::Overdue,
        InboxView::Snoozed,
        InboxView::Closed,
        InboxView::All,
    ];

    /// The view's condition on `t`; the Overdue view's with `cut` (see
    /// `overdue_waits`).
    fn condition(self, cut: &Cutoffs) -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed(match self {
            InboxView::Unassigned => "t.owner IS NULL AND t.closed = 0 AND t.snoozed_until IS NULL",
            InboxView::Mine => "t.owner = ?1 AND t.closed = 0 AND t.snoozed_until IS NULL",
            // Snoozed too: a colleague asking for help is not put off by a snooze.
            // `+t.closed` keeps SQLite off the open-tickets index: an agent's few
            // mentions are looked up one by one, not every open ticket walked.
            InboxView::Mentions => {
                "+t.closed = 0 AND t.id IN (SELECT mt.ticket_id FROM mentions mt
                     WHERE mt.user_id = (SELECT id FROM users WHERE email = ?1))"
            }
            // Likewise (snoozed included, walked by the agent's few follows).
            InboxView::Following => {
                "+t.closed = 0 AND t.id IN (SELECT f.ticket_id FROM followers f
                     WHERE f.user_id = (SELECT id FROM users WHERE email = ?1))"
            }
            InboxView::Teams => {
                "t.closed = 0 AND t.snoozed_until IS NULL AND (t.team IN (SELECT tm.name FROM teams tm JOIN team_members m ON m.team_id = tm.id JOIN users u ON u.id = m.user_id WHERE u.email = ?1)
                 OR t.owner IN (SELECT u2.email FROM users u2 JOIN team_members m2 ON m2.user_id = u2.id
                     WHERE m2.team_id IN (SELECT m3.team_id FROM team_members m3 JOIN users u3 ON u3.id = m3.user_id WHERE u3.email = ?1)))"
            }
            InboxView::Open => "t.closed = 0 AND t.snoozed_until IS NULL",
            // Found in the waiting tickets' own index (`+t.closed` keeps SQLite off
            // walking every ticket in activity order for the few late ones).
            InboxView::Overdue => {
                return std::borrow::Cow::Owned(format!(
                    "+t.closed = 0 AND t.id IN ({})",
                    super::overdue_waits(cut)
                ));
            }
            InboxView::Snoozed => "t.closed = 0 AND t.snoozed_until IS NOT NULL",
            InboxView::Closed => "t.closed = 1",
            InboxView::All => "1 = 1",
        })
    }
}

/// One inbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRow {
    /// The ticket.
    pub ticket: super::TicketSummary,
    /// True when the last message (not counting notes) is the customer's.
    pub awaiting_us: bool,
    /// True for an open ticket holding a message the agent has not had on screen.
    pub unread: bool,
    /// Unix seconds its snooze ends, while it is snoozed.
    pub snoozed_until: Option<i64>,
    /// Place in the desk's order of activity (higher is later; the keyset cursor).
    pub activity: i64,
    /// Unix seconds the ticket was opened.
    pub created_at: i64,
    /// Unix seconds the customer has waited since for an answer, while they wait.
    pub waiting_since: Option<i64>,
    /// The ticket was answered before.
    pub answered: bool,
}

/// Filters of an inbox page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxQuery {
    /// Channel.
    pub channel: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Only tickets of this priority.
    pub priority: Option<crate::desk::lifecycle::Priority>,
    /// Only tickets carrying this tag (as kept: lower case).
    pub tag: Option<String>,
    /// Only tickets whose last message (notes aside) is the customer's.
    pub awaiting_us: bool,
    /// Only this customer's tickets (their address as stored).
    pub contact: Option<String>,
    /// Only tickets whose field (by name, letter case aside) has this value.
    pub field: Option<(String, String)>,
    /// The `activity` of the last row shown: the page goes on past it, in the order
    /// asked for.
    pub past: Option<i64>,
    /// Oldest activity first (a queue worked in the order it came), not newest.
    pub oldest_first: bool,
    /// Page size.
    pub limit: u32,
    /// When a wait is late, for the Overdue view (`[sla]`; none without it).
    pub cutoffs: Option<Cutoffs>,
}

/// An inbox view's tickets (`t` in `from`) with `q`'s filters, `columns` of each, in
/// the view's order: bound by [`inbox_bind`].
fn inbox_sql(view: InboxView, q: &InboxQuery, columns: &str, from: &str) -> String {
    format!(
        "SELECT {columns}
         FROM {from}
         WHERE t.merged_into IS NULL AND ({view})
           AND (?2 IS NULL OR t.channel = ?2)
           AND (?3 IS NULL OR t.status = ?3 COLLATE NOCASE)
           AND t.activity {past} ?4
           AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(t.tags) j WHERE j.value = ?6))
           AND (NOT ?7 OR t.last_speaker = 'inbound')
           AND {contact}
           AND {priority}
           AND {field}
         ORDER BY t.activity {order} LIMIT ?5",
        view = view.condition(q.cutoffs.as_ref().unwrap_or(&Cutoffs::NONE)),
        // One of four fixed words, written in (not bound): the overdue view's
        // parameters follow the eight above.
        priority = q.priority.map_or_else(
            || "1".to_string(),
            |p| format!("t.priority = '{}'", p.as_str())
        ),
        past = if q.oldest_first { ">" } else { "<" },
        order = if q.oldest_first { "ASC" } else { "DESC" },
        // Two statements rather than `?8 IS NULL OR ...`: only a plain equality lets
        // SQLite walk the contact's own index, so one customer's tickets cost no more
        // on a big desk than on a small one.
        contact = if q.contact.is_some() {
            "t.contact_id = (SELECT id FROM contacts WHERE email = ?8)"
        } else {
            "?8 IS NULL"
        },
        // Bound after every other parameter (the overdue view's included), and only
        // when asked for: the value's own index finds the few tickets.
        field = match &q.field {
            Some(_) => {
                let n = field_param(view, q);
                format!(
                    "t.id IN (SELECT f.ticket_id FROM ticket_fields f
                              WHERE f.value = ?{v} COLLATE NOCASE AND f.name = ?{n})",
                    v = n + 1
                )
            }
            None => "1".to_string(),
        },
    )
}

/// The number of [`inbox_sql`]'s field-name parameter (its value's is the next): after
/// the eight every view has and the overdue view's cut-offs.
fn field_param(view: InboxView, q: &InboxQuery) -> usize {
    let overdue = match (view, &q.cutoffs) {
        (InboxView::Overdue, Some(cut)) => super::overdue_bind(cut).len() - 8,
        (InboxView::Overdue, None) => super::overdue_bind(&Cutoffs::NONE).len() - 8,
        _ => 0,
    };
    9 + overdue
}

/// [`inbox_sql`]'s parameters: `past` is the page's cursor, `limit` its size.
fn inbox_bind(
    view: InboxView,
    me: &str,
    q: &InboxQuery,
    past: i64,
    limit: i64,
) -> rusqlite::ParamsFromIter<Vec<rusqlite::types::Value>> {
    let mut bind: Vec<rusqlite::types::Value> = vec![
        me.to_string().into(),
        q.channel.clone().into(),
        q.status.clone().into(),
        // A plain bound (not `?4 IS NULL OR ...`) lets the index seek to the page.
        past.into(),
        limit.into(),
        q.tag.clone().into(),
        q.awaiting_us.into(),
        q.contact.clone().into(),
    ];
    if view == InboxView::Overdue {
        let none = Cutoffs::NONE;
        let cut = q.cutoffs.as_ref().unwrap_or(&none);
        bind.extend(super::overdue_bind(cut).into_iter().skip(8));
    }
    if let Some((name, value)) = &q.field {
        debug_assert_eq!(bind.len() + 1, field_param(view, q));
        bind.push(name.clone().into());
        bind.push(value.clone().into());
    }
    rusqlite::params_from_iter(bind)
}

pub(super) fn inbox(
    conn: &Connection,
    view: InboxView,
    me: &str,
    q: &InboxQuery,
) -> Result<Vec<InboxRow>, StoreError> {
    let columns = concat!(
        summary_columns!(),
        ", t.last_speaker, t.activity,
           t.closed = 0 AND t.last_message > COALESCE((SELECT s.last_message FROM ticket_seen s
                           WHERE s.ticket_id = t.id AND s.user_id = (SELECT id FROM users WHERE email = ?1)), 0),
           t.snoozed_until, CASE WHEN t.closed = 0 THEN t.waiting_since END, t.answered"
    );
    let mut stmt = conn.prepare_cached(&inbox_sql(
        view,
        q,
        columns,
        "tickets t JOIN contacts c ON c.id = t.contact_id",
    ))?;
    let past = q
        .past
        .unwrap_or(if q.oldest_first { i64::MIN } else { i64::MAX });
    let bind = inbox_bind(view, me, q, past, i64::from(q.limit));
    let rows = stmt.query_map(bind, |r| {
        let created: i64 = r.get(8)?;
        let last: Option<String> = r.get(14)?;
        let activity: i64 = r.get(15)?;
        let unread: bool = r.get(16)?;
        let snoozed_until: Option<i64> = r.get(17)?;
        Ok(InboxRow {
            ticket: super::read::summary_row(r)?,
            awaiting_us: last.as_deref() == Some("inbound"),
            unread,
            snoozed_until,
            activity,
            created_at: created,
            waiting_since: r.get(18)?,
            answered: r.get(19)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many tickets an inbox view holds with `q`'s filters (its cursor and page size
/// aside): a saved view's count. One walk of the view's tickets.
pub(super) fn inbox_count(
    conn: &Connection,
    view: InboxView,
    me: &str,
    q: &InboxQuery,
) -> Result<i64, StoreError> {
    let whole = InboxQuery {
        past: None,
        ..q.clone()
    };
    let sql = format!(
        "SELECT COUNT(*) FROM ({})",
        inbox_sql(view, &whole, "1", "tickets t")
    );
    let past = if whole.oldest_first {
        i64::MIN
    } else {
        i64::MAX
    };
    // No limit: -1.
    let bind = inbox_bind(view, me, &whole, past, -1);
    Ok(conn.prepare_cached(&sql)?.query_row(bind, |r| r.get(0))?)
}

pub(super) fn inbox_counts(
    conn: &Connection,
    me: &str,
    cutoffs: Option<&Cutoffs>,
) -> Result<Vec<(InboxView, i64)>, StoreError> {
    // The plain views in one pass over the owner index (it covers owner and closed);
    // "my teams" has its own condition.
    let (unassigned, mine, open, closed, all): (i64, i64, i64, i64, i64) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(t.owner IS NULL AND t.closed = 0), 0),
                    COALESCE(SUM(t.owner = ?1 AND t.closed = 0), 0),
                    COALESCE(SUM(t.closed = 0), 0),
                    COALESCE(SUM(t.closed = 1), 0),
                    COUNT(*)
             FROM tickets t INDEXED BY tickets_owner_activity WHERE t.merged_into IS NULL",
        )?
        .query_row([me], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    // Snoozed tickets are few and have their own index: counted apart, then taken out
    // of the open views they would otherwise be in.
    let (snoozed_unassigned, snoozed_mine, snoozed): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(t.owner IS NULL), 0), COALESCE(SUM(t.owner = ?1), 0), COUNT(*)
             FROM tickets t INDEXED BY tickets_snoozed
             WHERE t.snoozed_until IS NOT NULL AND t.closed = 0 AND t.merged_into IS NULL",
        )?
        .query_row([me], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mentions: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM tickets t WHERE t.merged_into IS NULL AND ({})",
            InboxView::Mentions.condition(&Cutoffs::NONE)
        ))?
        .query_row([me], |r| r.get(0))?;
    let following: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM tickets t WHERE t.merged_into IS NULL AND ({})",
            InboxView::Following.condition(&Cutoffs::NONE)
        ))?
        .query_row([me], |r| r.get(0))?;
    let teams: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM tickets t WHERE t.merged_into IS NULL AND ({})",
            InboxView::Teams.condition(&Cutoffs::NONE)
        ))?
        .query_row([me], |r| r.get(0))?;
    // Only with answer targets.
    let overdue: i64 = match cutoffs {
        None => 0,
        Some(cut) => conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM ({})",
                super::overdue_waits(cut)
            ))?
            .query_row(rusqlite::params_from_iter(super::overdue_bind(cut)), |r| {
                r.get(0)
            })?,
    };
    Ok(InboxView::ALL
        .iter()
        .map(|&view| {
            let n = match view {
                InboxView::Unassigned => unassigned - snoozed_unassigned,
                InboxView::Mine => mine - snoozed_mine,
                InboxView::Mentions => mentions,
                InboxView::Following => following,
                InboxView::Teams => teams,
                InboxView::Open => open - snoozed,
                InboxView::Overdue => overdue,
                InboxView::Snoozed => snoozed,
                InboxView::Closed => closed,
                InboxView::All => all,
            };
            (view, n)
        })
        .collect())
}
