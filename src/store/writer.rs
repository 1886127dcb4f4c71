//! The writer thread: batches queued operations into one transaction (group commit)
//! and answers each caller only after that transaction has committed.

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::{mpsc, oneshot};

use super::erase::{next_message_id, next_ticket_id};
use super::outbound::copy_again;
use super::{ImapCursor, IngestOutcome, StoreError};
use crate::desk::notify::Reason;
use crate::ingest::parse::Mailbox;
use crate::ingest::thread::{decide, Decision, Evidence};
use crate::ingest::PreparedMessage;
use crate::model::{unix_now, Direction, ImapOrigin, ThreadReason, TicketId};

/// Most operations committed together; bounds latency and memory of one batch.
const MAX_BATCH: usize = 256;
/// Most raw bytes in one batch.
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// The status of a ticket merged into another.
pub const MERGED_STATUS: &str = "Merged";

/// One queued write: applied inside the batch transaction, answered after the commit.
pub(super) trait Job: Send {
    /// Raw bytes it carries, to bound a batch's memory.
    fn bytes(&self) -> usize;
    /// Run it (inside its own savepoint).
    fn apply(&mut self, conn: &Connection);
    /// Answer the caller: its own result if the batch committed, else the commit error.
    fn finish(self: Box<Self>, commit: Result<(), &rusqlite::Error>);
    /// What it writes: how far a batch moves the store's generations (and so ends the
    /// cached pages built on them), and whether its commit must reach the disk.
    fn kind(&self) -> Kind;
}

/// What a write is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// The desk's data: mail, tickets, settings. Every page may show it; it survives
    /// a power loss before anyone hears it was written.
    Desk,
    /// Mail queued for agents (notifications): no page shows it; it survives a power
    /// loss.
    AgentMail,
    /// What an agent has had on screen: only their inbox shows it (the agent's
    /// [`read_mark_slot`]). A power loss may forget the last ones, which costs a "new"
    /// mark shown again.
    ReadMark(u8),
    /// A session's last activity: no page shows it. A power loss may forget it, which
    /// costs a minute of idle time.
    SessionTouch,
}

impl Kind {
    /// Which cached pages it can change.
    pub(super) fn shows(self) -> Shows {
        match self {
            Kind::Desk => Shows::Everything,
            Kind::ReadMark(_) => Shows::ReadMarks,
            Kind::AgentMail | Kind::SessionTouch => Shows::Nothing,
        }
    }

    /// Whether its commit must be synced to disk before the writer answers. A batch
    /// of only bookkeeping skips the sync (the next synced commit carries it along),
    /// so agents clicking through tickets do not cost a disk flush each.
    pub(super) fn durable(self) -> bool {
        matches!(self, Kind::Desk | Kind::AgentMail)
    }
}

/// Which cached pages a write can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Shows {
    /// Bookkeeping no page shows (a session's last activity, mail queued).
    Nothing,
    /// Only what one agent has read: the inbox's "new to you" marks. Ticket pages,
    /// searches and sessions stay cached.
    ReadMarks,
    /// Anything else.
    Everything,
}

/// How many read-mark generations there are: agents share one when their addresses
/// hash alike, which costs only a page rendered again.
pub(super) const READ_MARK_SLOTS: usize = 256;

/// Which read-mark generation counts `agent`'s read marks (FNV-1a of the address, case
/// ignored, its high bits mixed down).
pub(super) fn read_mark_slot(agent: &str) -> u8 {
    let hash = agent.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    });
    // One slot per value of a u8: the top byte of a Fibonacci-hashed mix.
    (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8
}

/// The store's generations: how many committed batches reached each kind of page.
pub(super) struct Generations {
    /// Batches with a write of [`Shows::Everything`].
    pub everything: std::sync::atomic::AtomicU64,
    /// Per [`read_mark_slot`]: batches with that slot's read marks and nothing that
    /// moved `everything`.
    pub read_marks: [std::sync::atomic::AtomicU64; READ_MARK_SLOTS],
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            everything: Default::default(),
            read_marks: std::array::from_fn(|_| Default::default()),
        }
    }
}

/// A [`Job`] made of a closure and the channel its result goes back on.
pub(super) struct Op<T, F> {
    pub(super) bytes: usize,
    pub(super) kind: Kind,
    pub(super) work: Option<F>,
    pub(super) result: Option<Result<T, StoreError>>,
    pub(super) reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Op<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn bytes(&self) -> usize {
        self.bytes
    }

    fn kind(&self) -> Kind {
        self.kind
    }

    fn apply(&mut self, conn: &Connection) {
        if let Some(work) = self.work.take() {
            self.result = Some(in_savepoint(conn, work));
        }
    }

    fn finish(self: Box<Self>, commit: Result<(), &rusqlite::Error>) {
        let answer = match (commit, self.result) {
            (Ok(()), Some(result)) => result,
            (Ok(()), None) => Err(StoreError::Closed),
            (Err(e), _) => Err(StoreError::Sqlite(e_clone(e))),
        };
        let _ = self.reply.send(answer);
    }
}

/// Run until every sender is gone and the queue is drained.
pub(super) fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Box<dyn Job>>,
    generations: std::sync::Arc<Generations>,
    mut notices: NoticeFeed,
) {
    // The connection is opened with `synchronous=FULL`.
    let mut synced = true;
    while let Some(first) = rx.blocking_recv() {
        let mut bytes = first.bytes();
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(job) => {
                    bytes += job.bytes();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        if commit_batch(&mut conn, batch, &generations, &mut synced) == Shows::Everything {
            notices.publish(&conn);
        }
        if wal_size(&conn) > WAL_HARD_LIMIT {
            let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
        }
    }
    // Leave a small WAL behind for the next start.
    let _ = conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
}

fn wal_size(conn: &Connection) -> u64 {
    conn.path()
        .and_then(|p| std::fs::metadata(format!("{p}-wal")).ok())
        .map(|m| m.len())
        .unwrap_or(0)
}

/// How often the checkpoint thread copies the WAL into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
/// A WAL larger than this is checkpointed by the writer itself (a stream of commits
/// can keep the background checkpoint from ever reaching the end).
const WAL_HARD_LIMIT: u64 = 512 * 1024 * 1024;

/// The checkpoint thread: PASSIVE checkpoints, which never block the writer, until
/// the store is dropped.
pub(super) fn checkpoints(
    conn: Connection,
    wal: std::path::PathBuf,
    stop: std::sync::mpsc::Receiver<()>,
) {
    loop {
        match stop.recv_timeout(CHECKPOINT_EVERY) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            _ => return,
        }
        if std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0 {
            continue;
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            log::warn!("store: background checkpoint failed: {e}");
        }
    }
}

/// Tells agents' open pages of each notification once its transaction has committed.
pub(super) struct NoticeFeed {
    /// Where they go (each page keeps those for its agent).
    pub tx: tokio::sync::broadcast::Sender<std::sync::Arc<super::DueNotice>>,
    /// The number of the newest one told.
    pub told: i64,
}

impl NoticeFeed {
    /// Send the notifications committed since the last call.
    fn publish(&mut self, conn: &Connection) {
        match super::notify::notices_after(conn, self.told) {
            Ok(new) => {
                for notice in new {
                    self.told = self.told.max(notice.id);
                    // Nobody listening is fine: mail still tells them.
                    let _ = self.tx.send(std::sync::Arc::new(notice));
                }
            }
            Err(e) => log::warn!("store: cannot read new notifications for open pages: {e}"),
        }
    }
}

/// Run a batch in one transaction; how far what it committed shows.
fn commit_batch(
    conn: &mut Connection,
    mut batch: Vec<Box<dyn Job>>,
    generations: &Generations,
    synced: &mut bool,
) -> Shows {
    let durable = batch.iter().any(|job| job.kind().durable());
    if durable != *synced {
        let mode = if durable { "FULL" } else { "NORMAL" };
        match conn.pragma_update(None, "synchronous", mode) {
            Ok(()) => *synced = durable,
            // Still FULL: bookkeeping is synced after all, which costs only time.
            Err(e) if !durable => log::warn!("store: cannot skip the sync: {e}"),
            Err(e) => {
                log::error!("store: cannot go back to synced commits: {e}");
                for job in batch {
                    job.finish(Err(&e));
                }
                return Shows::Nothing;
            }
        }
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        log::error!("store: cannot begin a write transaction: {e}");
        for job in batch {
            job.finish(Err(&e));
        }
        return Shows::Nothing;
    }
    for job in batch.iter_mut() {
        job.apply(conn);
    }
    // Every caller hears back only now, after the commit (Invariant 1).
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            super::words::words_committed();
            // Before anyone hears of the write: whatever they read next must not come
            // from a cache filled before it.
            let shows = batch
                .iter()
                .map(|job| job.kind().shows())
                .max()
                .unwrap_or(Shows::Nothing);
            let bump = |counter: &std::sync::atomic::AtomicU64| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Release);
            };
            match shows {
                Shows::Nothing => {}
                // Only the inboxes of the agents who read something.
                Shows::ReadMarks => {
                    for job in &batch {
                        if let Kind::ReadMark(slot) = job.kind() {
                            bump(&generations.read_marks[usize::from(slot)]);
                        }
                    }
                }
                Shows::Everything => bump(&generations.everything),
            }
            for job in batch {
                job.finish(Ok(()));
            }
            shows
        }
        Err(e) => {
            log::error!("store: commit failed, nothing in this batch was stored: {e}");
            super::words::words_rolled_back();
            let _ = conn.execute_batch("ROLLBACK");
            for job in batch {
                job.finish(Err(&e));
            }
            Shows::Nothing
        }
    }
}

/// rusqlite errors are not Clone; keep the code and message.
fn e_clone(e: &rusqlite::Error) -> rusqlite::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            rusqlite::Error::SqliteFailure(*code, msg.clone())
        }
        other => rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR),
            Some(other.to_string()),
        ),
    }
}

/// Execute one statement through the connection's statement cache (compiled once).
pub(super) fn exec(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// Run one operation in a savepoint so its failure undoes only its own writes.
pub(super) fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    // Prepared once per connection: a savepoint per write is on every hot path.
    conn.prepare_cached("SAVEPOINT op")?.execute([])?;
    match f(conn) {
        Ok(v) => {
            conn.prepare_cached("RELEASE op")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            log::warn!("store: operation rolled back: {e}");
            super::words::words_rolled_back();
            conn.execute_batch("ROLLBACK TO op; RELEASE op")?;
            Err(e)
        }
    }
}

/// The live ticket a ticket id stands for, following merges.
pub(super) fn live_ticket(
    conn: &Connection,
    mut id: TicketId,
) -> Result<Option<TicketId>, StoreError> {
    for _ in 0..64 {
        let merged: Option<Option<TicketId>> = conn
            .prepare_cached("SELECT merged_into FROM tickets WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match merged {
            None => return Ok(None),
            Some(None) => return Ok(Some(id)),
            Some(Some(next)) => id = next,
        }
    }
    Ok(None)
}

pub(super) fn upsert_contact(
    conn: &Connection,
    who: &Mailbox,
    now: i64,
) -> Result<i64, StoreError> {
    let existing: Option<(i64, Option<String>)> = conn
        .prepare_cached("SELECT id, name FROM contacts WHERE email = ?1")?
        .query_row([&who.email], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((id, name)) => {
            if name.is_none() && who.name.is_some() {
                exec(
                    conn,
                    "UPDATE contacts SET name = ?1 WHERE id = ?2",
                    params![who.name, id],
                )?;
            }
            Ok(id)
        }
        None => {
            exec(
                conn,
                "INSERT INTO contacts (email, name, created_at) VALUES (?1, ?2, ?3)",
                params![who.email, who.name, now],
            )?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// Whether this contact is one of the ticket's people.
fn is_participant(conn: &Connection, ticket: TicketId, contact: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM ticket_participants WHERE ticket_id = ?1 AND contact_id = ?2",
        )?
        .exists(params![ticket, contact])?)
}

/// Whether one of the ticket's forwards went to `email`.
fn answers_a_forward(conn: &Connection, ticket: TicketId, email: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM messages m JOIN outbox o ON o.message_row = m.id
             WHERE m.ticket_id = ?1 AND m.direction = 'outbound' AND o.kind = 'forward'
               AND EXISTS (SELECT 1 FROM json_each(o.recipients) r WHERE lower(r.value) = ?2)",
        )?
        .exists(params![ticket, email.to_lowercase()])?)
}

/// Add a person to a ticket; true when they were not on it yet.
pub(super) fn add_participant(
    conn: &Connection,
    ticket: TicketId,
    contact: i64,
    role: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let n = exec(conn,
        "INSERT OR IGNORE INTO ticket_participants (ticket_id, contact_id, role, added_at) VALUES (?1, ?2, ?3, ?4)",
        params![ticket, contact, role, now],
    )?;
    Ok(n > 0)
}

/// Give new ticket `ticket` to `team` (by a rule), spelled as the desk has it; the
/// history says so when the desk has no such team.
fn give_team(conn: &Connection, ticket: TicketId, team: &str, now: i64) -> Result<(), StoreError> {
    let known: Option<String> = conn
        .prepare_cached("SELECT name FROM teams WHERE name = ?1 COLLATE NOCASE")?
        .query_row([team], |r| r.get(0))
        .optional()?;
    match known {
        Some(name) => {
            exec(
                conn,
                "UPDATE tickets SET team = ?1 WHERE id = ?2",
                params![name, ticket],
            )?;
        }
        None => event(
            conn,
            ticket,
            "unassigned",
            "routing",
            &format!("no team named {team:?} (frontdeskctl teams add)"),
            now,
        )?,
    }
    Ok(())
}

pub(super) fn event(
    conn: &Connection,
    ticket: TicketId,
    kind: &str,
    actor: &str,
    detail: &str,
    now: i64,
) -> Result<(), StoreError> {
    exec(conn,
        "INSERT INTO events (ticket_id, kind, actor, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ticket, kind, actor, detail, now],
    )?;
    Ok(())
}

fn gather_evidence(
    conn: &Connection,
    message: &PreparedMessage,
    contact_id: i64,
) -> Result<Evidence, StoreError> {
    let keys = &message.keys;
    let token = match (keys.reply_token, keys.verified_tag) {
        (Some(t), _) => live_ticket(conn, t)?.map(|t| (t, ThreadReason::ReplyToken)),
        (None, Some(t)) => live_ticket(conn, t)?.map(|t| (t, ThreadReason::VerifiedTag)),
        (None, None) => None,
    };
    let mut header_tickets = Vec::new();
    let mut stmt = conn.prepare_cached("SELECT ticket_id FROM thread_ids WHERE msgid = ?1")?;
    for id in &keys.ids {
        let found: Option<TicketId> = stmt.query_row([id], |r| r.get(0)).optional()?;
        if let Some(t) = found {
            if let Some(live) = live_ticket(conn, t)? {
                header_tickets.push(live);
            }
        }
    }
    let plain_tag_with_known_sender = match keys.plain_tag {
        Some(t) => match live_ticket(conn, t)? {
            Some(live) => conn
                .prepare_cached(
                    "SELECT 1 FROM ticket_participants WHERE ticket_id = ?1 AND contact_id = ?2",
                )?
                .query_row(params![live, contact_id], |_| Ok(()))
                .optional()?
                .map(|_| live),
            None => None,
        },
        None => None,
    };
    Ok(Evidence {
        token,
        header_tickets,
        plain_tag_with_known_sender,
    })
}

/// The (outbox entry, live ticket) a bounce or VERP-addressed auto-reply is about.
fn bounce_target(
    conn: &Connection,
    message: &PreparedMessage,
) -> Result<Option<(Option<i64>, TicketId)>, StoreError> {
    if let Some(id) = message.keys.bounce_outbox {
        let ticket: Option<TicketId> = conn
            .prepare_cached("SELECT ticket_id FROM outbox WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if let Some(t) = ticket {
            if let Some(live) = live_ticket(conn, t)? {
                return Ok(Some((Some(id), live)));
            }
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, m.ticket_id FROM messages m LEFT JOIN outbox o ON o.message_row = m.id
         WHERE m.message_id = ?1 AND m.direction = 'outbound' ORDER BY m.id DESC LIMIT 1",
    )?;
    for id in &message.keys.reported_ids {
        let found: Option<(Option<i64>, TicketId)> = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((outbox, t)) = found {
            if let Some(live) = live_ticket(conn, t)? {
                return Ok(Some((outbox, live)));
            }
        }
    }
    Ok(None)
}

/// Move everything of `from` into `into` and leave `from` as a pointer.
pub(super) fn merge_ticket(
    conn: &Connection,
    from: TicketId,
    into: TicketId,
    why: &str,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "UPDATE messages SET ticket_id = ?1 WHERE ticket_id = ?2",
        params![into, from],
    )?;
    exec(
        conn,
        "UPDATE thread_ids SET ticket_id = ?1 WHERE ticket_id = ?2",
        params![into, from],
    )?;
    // Mentions go along; one already on the target for the same note cannot be.
    exec(
        conn,
        "UPDATE OR IGNORE mentions SET ticket_id = ?1 WHERE ticket_id = ?2",
        params![into, from],
    )?;
    exec(
        conn,
        "DELETE FROM mentions WHERE ticket_id = ?1",
        params![from],
    )?;
    super::notify::move_followers_and_notifications(conn, from, into)?;
    // Fields the surviving ticket lacks come along; its own values stand.
    exec(
        conn,
        "INSERT OR IGNORE INTO ticket_fields (ticket_id, name, value)
         SELECT ?1, name, value FROM ticket_fields WHERE ticket_id = ?2",
        params![into, from],
    )?;
    exec(
        conn,
        "INSERT OR IGNORE INTO ticket_participants (ticket_id, contact_id, role, added_at)
         SELECT ?1, contact_id, CASE role WHEN 'customer' THEN 'participant' ELSE role END, added_at
         FROM ticket_participants WHERE ticket_id = ?2",
        params![into, from],
    )?;
    exec(
        conn,
        "UPDATE tickets SET merged_into = ?1, status = ?2, updated_at = ?3 WHERE id = ?4",
        params![into, MERGED_STATUS, now, from],
    )?;
    exec(conn,
        "UPDATE tickets SET created_at = MIN(created_at, (SELECT created_at FROM tickets WHERE id = ?2)) WHERE id = ?1",
        params![into, from],
    )?;
    event(
        conn,
        into,
        "merged",
        "system",
        &format!("ticket #{from} merged in: {why}"),
        now,
    )?;
    event(
        conn,
        from,
        "merged",
        "system",
        &format!("merged into ticket #{into}: {why}"),
        now,
    )?;
    Ok(())
}

/// Point `ids` at `ticket`, merging any other live tickets they already point to into
/// the oldest; returns the surviving ticket and the merged ones.
fn link_ids(
    conn: &Connection,
    ticket: TicketId,
    ids: &[String],
    now: i64,
) -> Result<(TicketId, Vec<TicketId>), StoreError> {
    let mut tickets = vec![ticket];
    {
        let mut stmt = conn.prepare_cached("SELECT ticket_id FROM thread_ids WHERE msgid = ?1")?;
        for id in ids {
            if let Some(t) = stmt
                .query_row([id], |r| r.get::<_, TicketId>(0))
                .optional()?
            {
                if let Some(live) = live_ticket(conn, t)? {
                    tickets.push(live);
                }
            }
        }
    }
    tickets.sort_unstable();
    tickets.dedup();
    let target = tickets[0];
    let merged: Vec<TicketId> = tickets[1..].to_vec();
    for other in &merged {
        merge_ticket(
            conn,
            *other,
            target,
            "a message referenced both threads",
            now,
        )?;
    }
    let mut stmt =
        conn.prepare_cached("INSERT OR IGNORE INTO thread_ids (msgid, ticket_id) VALUES (?1, ?2)")?;
    for id in ids {
        stmt.execute(params![id, target])?;
    }
    Ok((target, merged))
}

/// Set a folder's cursor outright (first sync, UIDVALIDITY change).
pub(super) fn set_imap_cursor(conn: &Connection, cursor: &ImapCursor) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO imap_cursors (account, folder, uidvalidity, last_uid, history_below, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(account, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,
             last_uid = excluded.last_uid, history_below = excluded.history_below,
             updated_at = excluded.updated_at",
        params![cursor.account, cursor.folder, cursor.uidvalidity, cursor.last_uid, cursor.history_below, unix_now()],
    )?;
    Ok(())
}

/// Move a cursor past a UID whose message could not be stored at all (unusable bytes).
pub(super) fn skip_imap_uid(conn: &Connection, origin: &ImapOrigin) -> Result<(), StoreError> {
    exec(
        conn,
        "UPDATE imap_cursors SET last_uid = MAX(last_uid, ?4), updated_at = ?5
         WHERE account = ?1 AND folder = ?2 AND uidvalidity = ?3",
        params![
            origin.account,
            origin.folder,
            origin.uidvalidity,
            origin.uid,
            unix_now()
        ],
    )?;
    Ok(())
}

/// Record an IMAP message's key and advance its folder's cursor, in the message's
/// own transaction: after a crash the sync resumes exactly after the last commit.
fn record_imap(
    conn: &Connection,
    origin: &ImapOrigin,
    row: i64,
    now: i64,
) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT OR IGNORE INTO ingest_keys (key, message_id) VALUES (?1, ?2)",
        params![origin.key(), row],
    )?;
    exec(
        conn,
        "INSERT INTO imap_cursors (account, folder, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(account, folder) DO UPDATE SET last_uid = MAX(last_uid, excluded.last_uid),
             updated_at = excluded.updated_at
         WHERE uidvalidity = excluded.uidvalidity",
        params![origin.account, origin.folder, origin.uidvalidity, origin.uid, now],
    )?;
    Ok(())
}

/// A stored message by idempotency key: (message row, its ticket).
fn find_key(conn: &Connection, key: &str) -> Result<Option<(i64, TicketId)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT k.message_id, m.ticket_id FROM ingest_keys k JOIN messages m ON m.id = k.message_id WHERE k.key = ?1",
        )?
        .query_row([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, TicketId>(1)?)))
        .optional()?)
}

pub(super) fn ingest(
    conn: &Connection,
    message: &PreparedMessage,
) -> Result<IngestOutcome, StoreError> {
    let now = unix_now();
    let imap_seen = match &message.imap {
        Some(origin) => find_key(conn, &origin.key())?,
        None => None,
    };
    if let Some((row, ticket)) = match imap_seen {
        Some(found) => Some(found),
        None => find_key(conn, &message.idempotency_key)?,
    } {
        exec(
            conn,
            "INSERT INTO channel_stats (channel, duplicates) VALUES (?1, 1)
             ON CONFLICT(channel) DO UPDATE SET duplicates = duplicates + 1",
            [&message.channel],
        )?;
        let ticket = live_ticket(conn, ticket)?.unwrap_or(ticket);
        // A second copy may carry references the first lacked (a client that re-sent
        // it with more headers): link them too, so threads do not depend on which copy
        // came first. A true re-delivery has the same headers and changes nothing.
        let (ticket, merged) = link_ids(conn, ticket, &message.keys.ids, now)?;
        if let Some(origin) = &message.imap {
            record_imap(conn, origin, row, now)?;
        }
        return Ok(IngestOutcome {
            ticket_id: ticket,
            message_row: row,
            new_ticket: false,
            duplicate: true,
            reason: ThreadReason::Headers,
            merged,
            blocked: false,
        });
    }

    let mail = &message.mail;
    let contact_id = upsert_contact(conn, &message.contact, now)?;
    // A sender an agent marked as spam: kept, but filed away (see below).
    let blocked = !message.historical && contact_blocked(conn, contact_id)?;
    let mut evidence = gather_evidence(conn, message, contact_id)?;
    // A bounce or auto-reply about one of our messages belongs to that message's
    // ticket, ahead of every other rule, and never opens a ticket of its own.
    let bounced = bounce_target(conn, message)?;
    if let Some((_, ticket)) = bounced {
        evidence.token = Some((ticket, ThreadReason::Bounce));
    }
    let (ticket, reason, merged, new_ticket) = match decide(&evidence) {
        Decision::Existing {
            ticket,
            reason,
            merge,
        } => (ticket, reason, merge, false),
        Decision::New => {
            let subject = if mail.subject.is_empty() {
                "(no subject)"
            } else {
                mail.subject.as_str()
            };
            let defaults = &message.desk.defaults;
            let pipeline = message
                .desk
                .pipelines
                .iter()
                .find(|p| p.name == defaults.pipeline);
            // History arrives done: it is filed closed, so it neither fills the inbox
            // nor is routed to anyone.
            let closed_stage = pipeline
                .and_then(|p| p.stages.iter().find(|s| s.closed))
                .map(|s| s.name.clone());
            // So is a blocked sender's mail, tagged spam.
            let (status, closed) = match (message.historical || blocked, closed_stage) {
                (true, Some(stage)) => (stage, true),
                _ => (
                    defaults.status.clone(),
                    pipeline.is_some_and(|p| p.is_closed(&defaults.status)),
                ),
            };
            let mut tags = defaults.tags.clone();
            if blocked && !tags.iter().any(|t| t == SPAM_TAG) {
                tags.push(SPAM_TAG.to_string());
            }
            let tags = serde_json::to_string(&tags).unwrap_or_else(|_| "[]".into());
            exec(
                conn,
                concat!(
                    "INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, pipeline, priority, tags, closed)
                     VALUES (",
                    next_ticket_id!(),
                    ", ?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![subject, status, message.channel, contact_id, now, defaults.pipeline, defaults.priority.as_str(), tags, closed],
            )?;
            let id = conn.last_insert_rowid();
            add_participant(conn, id, contact_id, "customer", now)?;
            for applied in &message.desk.applied {
                event(conn, id, "rule", "frontdesk", applied, now)?;
            }
            for (name, value) in &message.desk.fields {
                exec(
                    conn,
                    "INSERT INTO ticket_fields (ticket_id, name, value) VALUES (?1, ?2, ?3)",
                    params![id, name, value],
                )?;
            }
            if let Some(team) = &message.desk.team {
                give_team(conn, id, team, now)?;
            }
            if !message.historical && !blocked {
                super::desk::route_new_ticket(
                    conn,
                    id,
                    &message.channel,
                    contact_id,
                    &message.desk.routing,
                    now,
                )?;
            }
            event(
                conn,
                id,
                "created",
                &message.contact.email,
                &format!(
                    "new ticket from {} via {}{}",
                    message.contact.email,
                    message.source.as_str(),
                    if blocked {
                        " (the sender is blocked: filed as spam)"
                    } else {
                        ""
                    }
                ),
                now,
            )?;
            (id, ThreadReason::New, Vec::new(), true)
        }
    };
    for other in &merged {
        merge_ticket(
            conn,
            *other,
            ticket,
            "a message referenced both threads",
            now,
        )?;
    }

    // A customer writing again reopens a closed ticket (same owner); a blocked one
    // does not.
    if !new_ticket
        && !blocked
        && !message.historical
        && !message.classification.is_automatic()
        && !message.classification.from_own_address
    {
        super::desk::after_customer_message(
            conn,
            ticket,
            &message.desk.pipelines,
            &message.contact.email,
            now,
        )?;
        super::desk::later_mail_rules(conn, ticket, &message.desk.later, now)?;
    }

    // A supplier answering a forward is on the desk's side of the ticket, not the
    // customer's: neither they nor whom they copy join its people (whom replies copy).
    let forward_answer = !new_ticket
        && !is_participant(conn, ticket, contact_id)?
        && answers_a_forward(conn, ticket, &message.contact.email)?;
    if forward_answer {
        event(
            conn,
            ticket,
            "forward-answer",
            "system",
            &format!(
                "{} answered a forward (not added to the ticket's people)",
                message.contact.email
            ),
            now,
        )?;
    }
    // Someone threading in who is not on the ticket yet is recorded, visibly; one an
    // agent had left out of the copies is copied again.
    let writes_in = !new_ticket && !forward_answer && !message.classification.is_automatic();
    if writes_in && copy_again(conn, ticket, contact_id)? {
        event(
            conn,
            ticket,
            "participant-copied",
            "system",
            &format!("{} wrote: copied on replies again", message.contact.email),
            now,
        )?;
    }
    if writes_in && add_participant(conn, ticket, contact_id, "participant", now)? {
        event(
            conn,
            ticket,
            "participant-added",
            "system",
            &format!(
                "{} joined by replying ({})",
                message.contact.email,
                reason.as_str()
            ),
            now,
        )?;
    }
    for p in message.participants.iter().filter(|_| !forward_answer) {
        let id = upsert_contact(conn, p, now)?;
        if add_participant(conn, ticket, id, "participant", now)? && !new_ticket {
            event(
                conn,
                ticket,
                "participant-added",
                "system",
                &format!("{} added from To/Cc", p.email),
                now,
            )?;
        } else if copy_again(conn, ticket, id)? {
            event(
                conn,
                ticket,
                "participant-copied",
                "system",
                &format!(
                    "{} copied again on a mail: copied on replies again",
                    p.email
                ),
                now,
            )?;
        }
    }
    let (forwarded_by, forward_style) = match &message.forwarded_by {
        Some((who, style)) => {
            let id = upsert_contact(conn, who, now)?;
            add_participant(conn, ticket, id, "forwarder", now)?;
            event(
                conn,
                ticket,
                "forward",
                "system",
                &format!(
                    "filed under original sender {} (forwarded by {}, {})",
                    message.contact.email,
                    who.email,
                    style.as_str()
                ),
                now,
            )?;
            (Some(who.email.clone()), Some(style.as_str()))
        }
        None => (None, None),
    };

    let auto = message.classification.auto.map(|a| a.as_str());
    exec(conn,
        concat!(
            "INSERT INTO messages (id, ticket_id, direction, channel, source, message_id, contact_id, from_email, from_name,
                forwarded_by, forward_style, subject, headers, text_body, html_body, auto, own_address, historical,
                thread_reason, sent_at, created_at)
             VALUES (",
            next_message_id!(),
            ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
        ),
        params![
            ticket,
            Direction::Inbound.as_str(),
            message.channel,
            message.source.as_str(),
            mail.message_id,
            contact_id,
            mail.from.as_ref().map(|f| f.email.as_str()).unwrap_or(message.contact.email.as_str()),
            mail.from.as_ref().and_then(|f| f.name.as_deref()),
            forwarded_by,
            forward_style,
            mail.subject,
            mail.header_block,
            mail.text_body,
            mail.html_body,
            auto,
            message.classification.from_own_address,
            message.historical,
            reason.as_str(),
            mail.date,
            now,
        ],
    )?;
    let row = conn.last_insert_rowid();
    exec(
        conn,
        "INSERT INTO message_raw (message_id, raw) VALUES (?1, ?2)",
        params![row, message.raw],
    )?;
    {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO attachments (message_id, filename, content_type, content_id, inline, size, position)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (position, a) in mail.attachments.iter().enumerate() {
            stmt.execute(params![
                row,
                a.filename,
                a.content_type,
                a.content_id,
                a.inline,
                a.size as i64,
                position as i64
            ])?;
        }
        let mut ids = conn.prepare_cached(
            "INSERT OR IGNORE INTO thread_ids (msgid, ticket_id) VALUES (?1, ?2)",
        )?;
        for id in &message.keys.ids {
            ids.execute(params![id, ticket])?;
        }
    }
    exec(
        conn,
        "INSERT INTO ingest_keys (key, message_id) VALUES (?1, ?2)",
        params![message.idempotency_key, row],
    )?;
    if !blocked && !message.historical && !message.classification.from_own_address {
        notify_about_mail(conn, ticket, new_ticket, &message.contact.email, row, now)?;
        super::notify::notify_followers(conn, ticket, &message.contact.email, row, now)?;
    }
    if let (Some((Some(outbox), _)), Some(why)) = (bounced, &message.keys.diagnostic) {
        super::outbound::outbox_bounced(conn, outbox, why)?;
    }
    if let Some(origin) = &message.imap {
        record_imap(conn, origin, row, now)?;
    }
    let contact_text = match &message.contact.name {
        Some(name) => format!("{name} {}", message.contact.email),
        None => message.contact.email.clone(),
    };
    conn.prepare_cached(
        "INSERT INTO search (rowid, subject, body, contact) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![row, mail.subject, mail.text_body, contact_text])?;
    super::words::remember(
        conn,
        &[
            mail.subject.as_str(),
            mail.text_body.as_str(),
            contact_text.as_str(),
        ],
    )?;
    exec(
        conn,
        "UPDATE tickets SET updated_at = ?1 WHERE id = ?2",
        params![now, ticket],
    )?;
    event(
        conn,
        ticket,
        "message",
        &message.contact.email,
        &format!("message {} received ({})", row, reason.as_str()),
        now,
    )?;
    exec(
        conn,
        "INSERT INTO channel_stats (channel, messages, last_message_at) VALUES (?1, 1, ?2)
         ON CONFLICT(channel) DO UPDATE SET messages = messages + 1, last_message_at = ?2",
        params![message.channel, now],
    )?;
    Ok(IngestOutcome {
        ticket_id: ticket,
        message_row: row,
        new_ticket,
        duplicate: false,
        reason,
        merged,
        blocked,
    })
}

/// Tell the owner that mail came in on their ticket, or, for a new ticket nobody
/// owns, the agents who asked to hear of those.
fn notify_about_mail(
    conn: &Connection,
    ticket: TicketId,
    new_ticket: bool,
    sender: &str,
    row: i64,
    now: i64,
) -> Result<(), StoreError> {
    let owner: Option<String> = conn
        .prepare_cached("SELECT owner FROM tickets WHERE id = ?1")?
        .query_row([ticket], |r| r.get(0))?;
    match (owner, new_ticket) {
        // Routing already told the owner of a new ticket it is theirs.
        (Some(_), true) => Ok(()),
        (Some(owner), false) => super::notify::notify_agent(
            conn,
            &owner,
            ticket,
            Reason::CustomerReply,
            sender,
            Some(row),
            now,
        ),
        (None, true) => super::notify::notify_new_ticket(conn, ticket, sender, row, now),
        (None, false) => Ok(()),
    }
}

/// The tag a blocked sender's tickets get.
pub(super) const SPAM_TAG: &str = "spam";

/// True when an agent has blocked this contact (marked their mail as spam).
pub(super) fn contact_blocked(conn: &Connection, contact: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT blocked OR EXISTS (SELECT 1 FROM blocked_domains d
                                       WHERE substr(email, instr(email, '@') + 1) = d.domain
                                          OR substr(email, -length(d.domain) - 1) = '.' || d.domain)
             FROM contacts WHERE id = ?1",
        )?
        .query_row([contact], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_has_a_read_mark_slot_whatever_the_case() {
        assert_eq!(
            read_mark_slot("Jane@Acme.test"),
            read_mark_slot("jane@acme.test")
        );
        // Addresses that differ by a letter or a digit spread over the slots, so a
        // team's agents rarely share one: 1,000 of them reach nearly all 256.
        let mut used = [false; READ_MARK_SLOTS];
        for i in 0..1000 {
            used[usize::from(read_mark_slot(&format!("agent{i}@acme.test")))] = true;
        }
        let reached = used.iter().filter(|u| **u).count();
        assert!(reached > 240, "{reached} slots");
    }

    #[test]
    fn read_marks_of_two_agents_in_one_batch_move_both_their_slots() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let generations = Generations::default();
        let mut synced = true;
        let (a, _) = job(Kind::ReadMark(5), "INSERT INTO t VALUES (1)");
        let (b, _) = job(Kind::ReadMark(9), "INSERT INTO t VALUES (2)");
        commit_batch(&mut conn, vec![a, b], &generations, &mut synced);
        let moved: Vec<usize> = (0..READ_MARK_SLOTS)
            .filter(|&i| generations.read_marks[i].load(std::sync::atomic::Ordering::Acquire) > 0)
            .collect();
        assert_eq!(moved, vec![5, 9]);
    }

    fn job(
        kind: Kind,
        sql: &'static str,
    ) -> (Box<dyn Job>, oneshot::Receiver<Result<(), StoreError>>) {
        let (reply, rx) = oneshot::channel();
        let work = move |conn: &Connection| -> Result<(), StoreError> {
            conn.execute_batch(sql)?;
            Ok(())
        };
        let op: Box<dyn Job> = Box::new(Op {
            bytes: 0,
            kind,
            work: Some(work),
            result: None,
            reply,
        });
        (op, rx)
    }

    fn synchronous(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    }

    /// Bookkeeping alone commits without a sync; the next batch holding the desk's data
    /// is synced again (FULL), and each batch moves only the generations it reaches.
    #[test]
    fn only_bookkeeping_skips_the_sync_and_the_desk_generation() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let generations = Generations::default();
        let mut synced = true;
        let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Acquire);
        let marks = |g: &Generations| g.read_marks.iter().map(load).collect::<Vec<u64>>();
        let only = |slot: usize, n: u64| {
            let mut v = vec![0; READ_MARK_SLOTS];
            v[slot] = n;
            v
        };

        let (mark, mark_rx) = job(Kind::ReadMark(3), "INSERT INTO t VALUES (1)");
        let (touch, _) = job(Kind::SessionTouch, "INSERT INTO t VALUES (2)");
        let shows = commit_batch(&mut conn, vec![mark, touch], &generations, &mut synced);
        assert_eq!(shows, Shows::ReadMarks);
        assert!(mark_rx.blocking_recv().unwrap().is_ok());
        assert!(!synced);
        assert_eq!(synchronous(&conn), 1, "bookkeeping commits NORMAL");
        assert_eq!(load(&generations.everything), 0);
        assert_eq!(marks(&generations), only(3, 1), "only that agent's inboxes");

        let (mail, _) = job(Kind::AgentMail, "INSERT INTO t VALUES (3)");
        let (mark, _) = job(Kind::ReadMark(3), "INSERT INTO t VALUES (4)");
        let shows = commit_batch(&mut conn, vec![mark, mail], &generations, &mut synced);
        assert_eq!(shows, Shows::ReadMarks);
        assert_eq!(synchronous(&conn), 2, "queued mail is synced");
        assert_eq!(load(&generations.everything), 0);
        assert_eq!(marks(&generations), only(3, 2));

        let (touch, _) = job(Kind::SessionTouch, "INSERT INTO t VALUES (5)");
        assert_eq!(
            commit_batch(&mut conn, vec![touch], &generations, &mut synced),
            Shows::Nothing
        );
        assert_eq!(synchronous(&conn), 1);
        let (desk, desk_rx) = job(Kind::Desk, "INSERT INTO t VALUES (6)");
        let (touch, _) = job(Kind::SessionTouch, "INSERT INTO t VALUES (7)");
        let shows = commit_batch(&mut conn, vec![touch, desk], &generations, &mut synced);
        assert_eq!(shows, Shows::Everything);
        assert!(desk_rx.blocking_recv().unwrap().is_ok());
        assert!(synced);
        assert_eq!(synchronous(&conn), 2, "the desk's data is synced again");
        assert_eq!(load(&generations.everything), 1);
        assert_eq!(marks(&generations), only(3, 2));
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 7, "every job committed");
    }
}
