//! The store: the only module that speaks SQL.
//!
//! One SQLite file in WAL mode. A single writer thread owns the write connection and
//! commits queued operations in batches (group commit: one fsync for many ingests,
//! `synchronous=FULL`); callers get their answer only after the commit, which is what
//! lets every ingress acknowledge only durable mail (Invariant 1). Queries run on a
//! small pool of read-only connections.

/// The columns `read::summary_row` reads, for queries over `tickets t JOIN contacts c`.
macro_rules! summary_columns {
    () => {
        "t.id, t.subject, t.status, t.channel, c.email, c.name, t.owner,
         t.message_count, t.created_at, t.updated_at,
         t.pipeline, t.priority, t.tags, t.team"
    };
}

/// The kinds of wait, in the order of their cut-offs in `sla::Cutoffs` (first answers
/// low to urgent, then next answers): answered before (1) or not (0), and priority.
const WAIT_KINDS: [(u8, &str); 8] = [
    (0, "low"),
    (0, "medium"),
    (0, "high"),
    (0, "urgent"),
    (1, "low"),
    (1, "medium"),
    (1, "high"),
    (1, "urgent"),
];

/// The tickets whose customer's wait is late: it started by its kind's cut-off. One
/// range of the waiting tickets' index per kind (and per channel with targets of its
/// own), so a desk with a few late tickets among thousands waiting reads only those
/// few. Its parameters start at ?9 (after the inbox views' eight), as [`overdue_bind`]
/// gives them: the desk's eight cut-offs, then each such channel's name and eight.
fn overdue_waits(cut: &crate::desk::sla::Cutoffs) -> String {
    let name_param = |k: usize| 17 + 9 * k;
    let own: Vec<String> = (0..cut.channels.len())
        .map(|k| format!("?{}", name_param(k)))
        .collect();
    let mut selects = Vec::with_capacity(8 * (1 + cut.channels.len()));
    let mut block = |first_cut: usize, channel: String| {
        for (i, (answered, priority)) in WAIT_KINDS.iter().enumerate() {
            selects.push(format!(
                "SELECT w.id FROM tickets w INDEXED BY tickets_waiting WHERE w.answered = {answered}
                   AND w.priority = '{priority}' AND w.waiting_since <= ?{cut}{channel}
                   AND w.closed = 0 AND w.waiting_since IS NOT NULL AND w.merged_into IS NULL",
                cut = first_cut + i,
            ));
        }
    };
    // The desk's targets hold for the channels without their own.
    block(
        9,
        if own.is_empty() {
            String::new()
        } else {
            format!(" AND w.channel NOT IN ({})", own.join(", "))
        },
    );
    for k in 0..cut.channels.len() {
        let name = name_param(k);
        block(name + 1, format!(" AND w.channel = ?{name}"));
    }
    selects.join(" UNION ALL ")
}

/// Parameters for a query built on [`overdue_waits`]: ?1 to ?8 (the inbox views' other
/// parameters) NULL, then the cut-offs and channels from ?9 on.
fn overdue_bind(cut: &crate::desk::sla::Cutoffs) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    let mut bind = vec![Value::Null; 8];
    bind.extend(
        cut.first
            .iter()
            .chain(&cut.next)
            .map(|c| Value::Integer(*c)),
    );
    for c in &cut.channels {
        bind.push(Value::Text(c.channel.clone()));
        bind.extend(c.first.iter().chain(&c.next).map(|c| Value::Integer(*c)));
    }
    bind
}

/// The condition on `tickets t` that says a ticket waits on the customer, as the
/// desk's auto-close looks find it: `?1` the waiting stage, `?2` last changed at or
/// before, `?3` the channel, `?4` the pipeline. Not a ticket that is snoozed, merged,
/// or has a reply or forward waiting to go (it would move the ticket again when sent).
macro_rules! waiting_on_the_customer {
    () => {
        "t.status = ?1 COLLATE NOCASE AND t.closed = 0 AND t.updated_at <= ?2
         AND t.channel = ?3 AND t.pipeline = ?4 COLLATE NOCASE
         AND t.merged_into IS NULL AND t.snoozed_until IS NULL
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.status = 'queued'
                         AND o.ticket_id = t.id AND o.kind IN ('reply', 'forward'))"
    };
}

mod close_reminders;
mod customers;
mod desk;
mod erase;
mod notify;
mod outbound;
mod rank;
mod ratings;
mod read;
mod reports;
mod saved_views;
mod schema;
mod snippets;
mod surveys;
pub mod views;
mod web;
mod words;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};
use tokio::sync::{mpsc, oneshot};

use crate::ingest::PreparedMessage;
use crate::model::{ImapOrigin, ThreadReason, TicketId};
pub use close_reminders::{ReminderDue, WaitStanding};
pub use customers::{
    CustomerCursor, CustomerDetail, CustomerList, CustomerRow, CustomerTicket, COLLEAGUES,
    CUSTOMERS_PAGE, CUSTOMER_TICKETS,
};
pub use desk::{Assignment, BulkChange, UserChanges};
pub use erase::{Erasure, ErasureRecord, TicketDeletion};
pub use notify::{DueNotice, NoticeMail};
pub use outbound::{NewTicket, NewUser, NoteFiles, OutboxKind, OutboxResult, QueuedMail};
pub use ratings::RateableReply;
pub use saved_views::SavedView;
pub use snippets::StoredSnippet;
pub use surveys::{SurveyDue, SURVEY_WINDOW};
pub use views::*;
pub use web::{
    AttachmentView, InboxQuery, InboxRow, InboxView, LoginRecord, SearchHit, SessionRow,
    SessionView,
};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite refused.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer frontdesk.
    #[error("the database {path} has schema version {found}, newer than this frontdesk knows ({known}); refusing to open it (upgrade frontdesk or restore a backup)")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// Ours.
        known: i64,
    },
    /// A file-system step failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A migration left the database inconsistent; it was rolled back.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The writer thread has stopped.
    #[error("the store is shutting down")]
    Closed,
    /// The request cannot be done as asked (no such ticket, user exists, ...).
    #[error("{0}")]
    Invalid(String),
}

impl StoreError {
    /// True when the disk (or the database's size limit) is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DiskFull)
    }
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    /// The ticket the message is in.
    pub ticket_id: TicketId,
    /// The stored message's row id.
    pub message_row: i64,
    /// True when this message opened the ticket.
    pub new_ticket: bool,
    /// True when the message was already stored (same idempotency key): nothing changed.
    pub duplicate: bool,
    /// Why it went there.
    pub reason: ThreadReason,
    /// Tickets merged into `ticket_id` because this message connected them.
    pub merged: Vec<TicketId>,
    /// The sender is blocked: the message was filed as spam (no acknowledgement).
    pub blocked: bool,
}

/// An IMAP folder's sync position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapCursor {
    /// `user@host:port`.
    pub account: String,
    /// Folder.
    pub folder: String,
    /// UIDVALIDITY the UIDs belong to.
    pub uidvalidity: u32,
    /// Highest UID whose message is committed.
    pub last_uid: u32,
    /// UIDs below this are history (present before the first sync).
    pub history_below: u32,
}

/// A session to start for an agent who signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the cookie's token.
    pub token_hash: String,
    /// The agent.
    pub user_id: i64,
    /// Its anti-CSRF token.
    pub csrf: String,
    /// The browser's `User-Agent`, shortened.
    pub user_agent: Option<String>,
    /// The address it signed in from.
    pub address: Option<String>,
}

/// The second step of a sign-in, as the store checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecondStep {
    /// The time step whose code the agent's app showed.
    Step(i64),
    /// The hash of a recovery code (see [`crate::auth::totp::recovery_hash`]).
    Recovery(String),
}

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: mpsc::Sender<Box<dyn writer::Job>>,
    readers: Mutex<Vec<Connection>>,
    /// At most one read per pooled connection at a time: a burst of page views queues
    /// here instead of opening connections (each with its own page cache) without end.
    read_permits: tokio::sync::Semaphore,
    /// Bumped by the writer after every commit: anything read before is possibly stale.
    generations: Arc<writer::Generations>,
    /// Each notification as it commits, for agents' open pages.
    notices: tokio::sync::broadcast::Sender<Arc<DueNotice>>,
    secret: Vec<u8>,
    /// Messages per searched word, for ranking (see `rank`).
    phrase_figures: rank::PhraseFigures,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Held for the store's life: one writer per database file.
    _lock: std::fs::File,
    /// Dropping it stops the checkpoint thread.
    _stop_checkpoints: std::sync::mpsc::Sender<()>,
}

impl Inner {
    /// Run `query` on a pooled reader connection in one read transaction, on this
    /// thread; the caller holds a read permit.
    fn read_pooled<T>(
        &self,
        query: impl FnOnce(&read::Reader<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.readers.lock().map_err(|_| StoreError::Closed)?.pop();
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
                configure(&c)?;
                c
            }
        };
        let result = read_snapshot(&conn, |conn| {
            query(&read::Reader::new(conn, &self.phrase_figures))
        });
        if let Ok(mut pool) = self.readers.lock() {
            pool.push(conn);
        }
        result
    }
}

/// Take an exclusive lock on `data_dir/frontdesk.lock`, so a second daemon pointed at
/// the same data refuses to start instead of writing beside the first.
fn lock_data_dir(data_dir: &Path) -> Result<std::fs::File, StoreError> {
    use std::os::unix::io::AsRawFd;
    let path = data_dir.join("frontdesk.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| StoreError::Io {
            what: "cannot open lock file",
            path: path.clone(),
            source,
        })?;
    // SAFETY: flock on a descriptor we own; it does not touch memory.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(StoreError::Io {
            what: "another frontdeskd is already using",
            path: data_dir.to_path_buf(),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(file)
}

/// Process-wide SQLite settings, made before the first connection: no memory
/// statistics, whose one global mutex every page allocation of every connection takes
/// (readers on several threads queued on it).
fn configure_sqlite_once() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config with an int argument, as SQLITE_CONFIG_MEMSTATUS takes.
        // Once SQLite is initialised (a connection opened elsewhere first) it answers
        // SQLITE_MISUSE and changes nothing, which only costs the speed-up.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS,
                0 as std::os::raw::c_int,
            )
        };
        if rc != rusqlite::ffi::SQLITE_OK {
            log::debug!("SQLite memory statistics stay on (sqlite3_config: {rc})");
        }
    });
}

/// Run `query` inside one read transaction: every statement sees the same snapshot,
/// and SQLite checks the WAL for other connections' commits once, not per statement
/// (a commit seen between statements would drop the connection's page cache again).
fn read_snapshot<T>(
    conn: &Connection,
    query: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if !conn.is_autocommit() {
        // Left open by an earlier COMMIT that failed; start clean.
        conn.prepare_cached("ROLLBACK")?.execute([])?;
    }
    conn.prepare_cached("BEGIN")?.execute([])?;
    let result = query(conn);
    // A read transaction has nothing to keep: ending it cannot lose work, and if it
    // fails the connection is still usable for the next BEGIN, which reports it.
    if let Err(e) = conn
        .prepare_cached("COMMIT")
        .and_then(|mut s| s.execute([]))
    {
        log::warn!("ending a read transaction failed: {e}");
    }
    result
}

/// Prepared statements kept per connection: more than the store has distinct ones.
const STATEMENT_CACHE: usize = 512;

/// Open settings shared by every connection.
fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // rusqlite keeps 16 prepared statements by default; a mail's ingest or a page's
    // read runs more than that in turn, so each evicted the next and every
    // statement was parsed and planned again (a third of an IMAP import's CPU).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Savepoint journals and sorts stay in memory: every write job runs in a
    // savepoint, and a temp file there costs a pwrite per changed page.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    rank::register(conn)?;
    customers::register_lower(conn)?;
    Ok(())
}

/// Notifications kept for a page that reads slowly; past this it misses the oldest
/// (their mail still goes).
const NOTICE_BACKLOG: usize = 256;

impl Store {
    /// Open (creating if needed) the database under `data_dir`, migrate it, start the writer.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        configure_sqlite_once();
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            what: "cannot create data directory",
            path: data_dir.to_path_buf(),
            source,
        })?;
        let lock = lock_data_dir(data_dir)?;
        let path = data_dir.join("frontdesk.db");
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Every commit that acknowledges mail must survive power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Checkpoints run on their own thread (below), not inside the writer's commits,
        // so ingest never waits for one; the WAL is trimmed back after each.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        schema::migrate(&mut conn, &path)?;
        let secret = schema::server_secret(&conn)?;

        let mut readers = Vec::new();
        for _ in 0..4 {
            let r = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&r)?;
            readers.push(r);
        }

        let checkpointer = Connection::open(&path)?;
        configure(&checkpointer)?;
        checkpointer.pragma_update(None, "synchronous", "FULL")?;
        let (tx, rx) = mpsc::channel(1024);
        let wal_path = data_dir.join("frontdesk.db-wal");
        let (stop_checkpoints, checkpoint_stop_rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("store-checkpoint".into())
            .spawn(move || writer::checkpoints(checkpointer, wal_path, checkpoint_stop_rx))
            .map_err(|source| StoreError::Io {
                what: "cannot start checkpoint thread for",
                path: path.clone(),
                source,
            })?;
        let generations = Arc::new(writer::Generations::default());
        let commits = generations.clone();
        let notices = tokio::sync::broadcast::channel(NOTICE_BACKLOG).0;
        let feed = writer::NoticeFeed {
            tx: notices.clone(),
            told: notify::last_notice_number(&conn)?,
        };
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer::run(conn, rx, commits, feed))
            .map_err(|source| StoreError::Io {
                what: "cannot start writer thread for",
                path: path.clone(),
                source,
            })?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                writer: tx,
                read_permits: tokio::sync::Semaphore::new(readers.len()),
                readers: Mutex::new(readers),
                generations,
                notices,
                secret,
                phrase_figures: rank::PhraseFigures::default(),
                writer_thread: Mutex::new(Some(handle)),
                _lock: lock,
                _stop_checkpoints: stop_checkpoints,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The server secret for reply tokens and subject tags (made once, kept in the DB).
    pub fn secret(&self) -> &[u8] {
        &self.inner.secret
    }

    /// Queue a write for the writer thread; resolves after the batch holding it has
    /// committed. `bytes` is the size of the data it carries (bounds a batch).
    async fn write<T, F>(&self, bytes: usize, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_job(bytes, writer::Kind::Desk, work).await
    }

    /// Run `work` in the writer; `kind` says which of the store's generations (and so
    /// which cached pages) its commit moves on, and whether it must be synced.
    async fn write_job<T, F>(
        &self,
        bytes: usize,
        kind: writer::Kind,
        work: F,
    ) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job: Box<dyn writer::Job> = Box::new(writer::Op {
            bytes,
            kind,
            work: Some(work),
            result: None,
            reply,
        });
        self.inner
            .writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Store one prepared message; returns after its transaction has committed.
    pub async fn ingest(&self, message: PreparedMessage) -> Result<IngestOutcome, StoreError> {
        self.write(message.raw.len(), move |conn| {
            writer::ingest(conn, &message)
        })
        .await
    }

    /// Set an IMAP folder's cursor (first sync, or a UIDVALIDITY change).
    pub async fn set_imap_cursor(&self, cursor: ImapCursor) -> Result<(), StoreError> {
        self.write(0, move |conn| writer::set_imap_cursor(conn, &cursor))
            .await
    }

    /// Start a session for a signed-in agent; sessions past `idle_seconds` unused or
    /// `lifetime_seconds` old are swept on the way.
    pub async fn create_session(
        &self,
        session: NewSession,
        idle_seconds: i64,
        lifetime_seconds: i64,
    ) -> Result<(), StoreError> {
        self.write(0, move |conn| {
            let now = crate::model::unix_now();
            web::create_session(conn, &session, now)?;
            web::sweep_sessions(conn, now - idle_seconds, now - lifetime_seconds)
        })
        .await
    }

    /// Start a session for an agent with two-step sign-in who typed `code`: the code of
    /// a time step, or a recovery code. False, and no session, when that step (or a
    /// later one) was used before, or the recovery code is not one of theirs left.
    pub async fn create_session_with_code(
        &self,
        session: NewSession,
        code: SecondStep,
        limits: (i64, i64),
    ) -> Result<bool, StoreError> {
        self.write(0, move |conn| {
            let took = match &code {
                SecondStep::Step(step) => web::use_two_step(conn, session.user_id, *step)?,
                SecondStep::Recovery(hash) => web::use_recovery(conn, session.user_id, hash)?,
            };
            if !took {
                return Ok(false);
            }
            let now = crate::model::unix_now();
            web::create_session(conn, &session, now)?;
            web::sweep_sessions(conn, now - limits.0, now - limits.1)?;
            Ok(true)
        })
        .await
    }

    /// End `email`'s sessions but `keep` (the one asking): only the one whose token
    /// hash is `only`, or every other. How many ended.
    pub async fn end_sessions(
        &self,
        email: String,
        keep: String,
        only: Option<String>,
    ) -> Result<usize, StoreError> {
        self.write(0, move |conn| {
            web::end_sessions(conn, &email, &keep, only.as_deref())
        })
        .await
    }

    /// Keep the authenticator secret `email` is setting up (`None`: forget it).
    pub async fn set_two_step_pending(
        &self,
        email: String,
        secret: Option<String>,
    ) -> Result<(), StoreError> {
        self.write(0, move |conn| {
            web::set_two_step_pending(conn, &email, secret.as_deref())
        })
        .await
    }

    /// Turn two-step sign-in on with the secret `email` set up, its code's `step` used,
    /// the `recovery` codes' hashes theirs, every other session of theirs but
    /// `keep_session` signed out; false when that secret is no longer the one being set
    /// up.
    pub async fn turn_on_two_step(
        &self,
        email: String,
        secret: String,
        step: i64,
        recovery: Vec<String>,
        keep_session: String,
    ) -> Result<bool, StoreError> {
        self.write(0, move |conn| {
            web::turn_on_two_step(conn, &email, &secret, step, &recovery, &keep_session)
        })
        .await
    }

    /// New recovery codes (their hashes) for `email`; the old ones stop working.
    pub async fn replace_recovery_codes(
        &self,
        email: String,
        hashes: Vec<String>,
    ) -> Result<(), StoreError> {
        self.write(0, move |conn| web::replace_recovery(conn, &email, &hashes))
            .await
    }

    /// Record activity on a session at `now`. No page shows it, so cached pages stay;
    /// the caller refreshes its cached copy of the session.
    pub async fn touch_session(&self, token_hash: String, now: i64) -> Result<(), StoreError> {
        self.write_job(0, writer::Kind::SessionTouch, move |conn| {
            web::touch_session(conn, &token_hash, now)
        })
        .await
    }

    /// Record that `email` has had `ticket` on screen up to message row `last_message`.
    pub async fn mark_seen(
        &self,
        email: String,
        ticket: i64,
        last_message: i64,
    ) -> Result<(), StoreError> {
        // Only the agent's inbox shows it ("new to you"): ticket pages, searches and
        // sessions cached under the main generation stay.
        let slot = writer::read_mark_slot(&email);
        self.write_job(0, writer::Kind::ReadMark(slot), move |conn| {
            web::mark_seen(conn, &email, ticket, last_message)
        })
        .await
    }

    /// Make `ticket`'s last message new to `email` again ("Mark unread"); refused in
    /// words when there is no such ticket.
    pub async fn mark_unseen(&self, email: String, ticket: i64) -> Result<(), StoreError> {
        // A desk write, not a read mark: the agent's cached page of the ticket must go
        // too, so that opening it again renders it and marks it read. It is rare.
        self.write(0, move |conn| {
            match web::mark_unseen(conn, &email, ticket)? {
                true => Ok(()),
                false => Err(StoreError::Invalid(format!("no ticket #{ticket}"))),
            }
        })
        .await
    }

    /// End a session.
    pub async fn delete_session(&self, token_hash: String) -> Result<(), StoreError> {
        self.write(0, move |conn| web::delete_session(conn, &token_hash))
            .await
    }

    /// Add an agent.
    pub async fn add_user(&self, user: NewUser) -> Result<i64, StoreError> {
        self.write(0, move |conn| outbound::add_user(conn, &user))
            .await
    }

    /// Assign a ticket by hand.
    pub async fn assign(
        &self,
        ticket: TicketId,
        to: Assignment,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| desk::assign(conn, ticket, &to, &actor))
            .await
    }

    /// Merge ticket `from` into `into` by hand.
    pub async fn merge(
        &self,
        from: TicketId,
        into: TicketId,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| desk::merge(conn, from, into, &actor))
            .await
    }

    /// Split a customer's mail off a ticket into a new one (whom it copied, other than
    /// the `own` addresses, join the new ticket); the new ticket's number.
    pub async fn split(
        &self,
        ticket: TicketId,
        message: i64,
        (pipelines, own): (Arc<Vec<crate::desk::lifecycle::Pipeline>>, Vec<String>),
        actor: String,
    ) -> Result<TicketId, StoreError> {
        self.write(0, move |conn| {
            desk::split(conn, ticket, message, (&pipelines, &own), &actor)
        })
        .await
    }

    /// Add and remove a ticket's tags.
    pub async fn set_tags(
        &self,
        ticket: TicketId,
        add: Vec<String>,
        remove: Vec<String>,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::set_tags(conn, ticket, &add, &remove, &actor)
        })
        .await
    }

    /// Mark a ticket as spam (blocking its customer) or not; the words for the history.
    /// With `domain` (the desk's own addresses, which are never blocked), the sender's
    /// whole domain is blocked too; not spam lifts a domain block as well.
    pub async fn mark_spam(
        &self,
        ticket: TicketId,
        spam: bool,
        (pipelines, domain): (
            Arc<Vec<crate::desk::lifecycle::Pipeline>>,
            Option<Vec<String>>,
        ),
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            let domain = domain.as_deref();
            desk::mark_spam_with_domain(conn, ticket, spam, (&pipelines, domain), &actor)
        })
        .await
    }

    /// Snooze an open ticket until `until` (unix seconds), or wake it (`None`).
    pub async fn snooze(
        &self,
        ticket: TicketId,
        until: Option<i64>,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| desk::snooze(conn, ticket, until, &actor))
            .await
    }

    /// The customer rated reply `row` (see `ratings::rate`); the words for the history.
    pub async fn rate(
        &self,
        row: i64,
        rating: crate::desk::ratings::Rating,
        comment: String,
        now: i64,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            ratings::rate(conn, row, rating, &comment, now)
        })
        .await
    }

    /// Tell the agents of the answers that became overdue by `now` under `sla`, each wait
    /// once (see `notify::tell_overdue`); the tickets told about.
    pub async fn tell_overdue(
        &self,
        sla: crate::desk::sla::Sla,
        now: i64,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.write(0, move |conn| notify::tell_overdue(conn, &sla, now))
            .await
    }

    /// Wake the tickets whose snooze has ended by `now`; their numbers.
    pub async fn wake_due(&self, now: i64) -> Result<Vec<TicketId>, StoreError> {
        self.write(0, move |conn| desk::wake_due(conn, now)).await
    }

    /// Close the tickets left waiting on the customer that `sweeps` find at `now`, at
    /// most `limit`; their numbers (see `desk::auto_close`).
    pub async fn auto_close(
        &self,
        sweeps: Vec<crate::desk::auto_close::Sweep>,
        now: i64,
        limit: usize,
    ) -> Result<Vec<TicketId>, StoreError> {
        self.write(0, move |conn| desk::auto_close(conn, &sweeps, now, limit))
            .await
    }

    /// Mark a ticket's wait reminded (see `close_reminders::queue`), with its reminder
    /// queued or the reason none could go; `false` when it no longer is due.
    pub async fn queue_close_reminder(
        &self,
        ticket: TicketId,
        last_change: i64,
        mail: Result<QueuedMail, String>,
        at: i64,
    ) -> Result<bool, StoreError> {
        let secret = self.inner.secret.clone();
        let bytes = mail.as_ref().map_or(0, |m| m.raw.len());
        self.write(bytes, move |conn| {
            close_reminders::queue(
                conn,
                ticket,
                last_change,
                mail.as_ref().map_err(String::as_str),
                at,
                &secret,
            )
        })
        .await
    }

    /// Change many tickets at once, all or none (see [`BulkChange`]); how many changed.
    pub async fn change_many(
        &self,
        tickets: Vec<TicketId>,
        change: BulkChange,
        pipelines: Arc<Vec<crate::desk::lifecycle::Pipeline>>,
        actor: String,
    ) -> Result<usize, StoreError> {
        self.write(0, move |conn| {
            desk::change_many(conn, &tickets, &change, &pipelines, &actor)
        })
        .await
    }

    /// The report for `period`, with a line for every active agent with a seat and for
    /// each of `channels` (anyone else who did something gets one too), and a table for
    /// each choice field of `fields`; and the agents, to name them.
    pub async fn report(
        &self,
        period: crate::desk::reports::Period,
        (channels, fields): (Vec<String>, Vec<crate::desk::ticket_fields::FieldDef>),
        sla: Option<crate::desk::sla::Sla>,
    ) -> Result<(crate::desk::reports::Report, Vec<UserView>), StoreError> {
        let since = period.since;
        let (facts, users) = self
            .read_long(move |r| Ok((r.report_facts(since)?, r.users()?)))
            .await?;
        let agents: Vec<String> = users
            .iter()
            .filter(|u| u.active && u.seat)
            .map(|u| u.email.clone())
            .collect();
        let report = crate::desk::reports::build_with_fields(
            period,
            &facts,
            (&agents, &channels),
            sla.as_ref(),
            &fields,
        );
        Ok((report, users))
    }

    /// Move a ticket to a stage of its pipeline.
    pub async fn change_status(
        &self,
        ticket: TicketId,
        stage: String,
        pipelines: Arc<Vec<crate::desk::lifecycle::Pipeline>>,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::change_status(conn, ticket, &stage, &pipelines, &actor)
        })
        .await
    }

    /// Move a ticket to another pipeline, at `stage` or its first stage.
    pub async fn change_pipeline(
        &self,
        ticket: TicketId,
        pipeline: String,
        stage: Option<String>,
        pipelines: Arc<Vec<crate::desk::lifecycle::Pipeline>>,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::change_pipeline(
                conn,
                ticket,
                &pipeline,
                stage.as_deref(),
                &pipelines,
                &actor,
            )
        })
        .await
    }

    /// Take a person off a ticket (never its customer).
    pub async fn remove_participant(
        &self,
        ticket: TicketId,
        email: String,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::remove_participant(conn, ticket, &email, &actor)
        })
        .await
    }

    /// Give a ticket a new subject, cleaned by `desk::subject::clean` (refused when it
    /// cannot be one).
    pub async fn rename(
        &self,
        ticket: TicketId,
        subject: String,
        actor: String,
    ) -> Result<String, StoreError> {
        let subject = crate::desk::subject::clean(&subject)
            .map_err(|e| StoreError::Invalid(format!("the subject {e}")))?;
        self.write(0, move |conn| desk::rename(conn, ticket, &subject, &actor))
            .await
    }

    /// Set or clear fields of a ticket (values checked by the caller against the
    /// config's `[[ticket_field]]`s); the words for the history.
    pub async fn set_ticket_fields(
        &self,
        ticket: TicketId,
        changes: Vec<(String, Option<String>)>,
        actor: String,
    ) -> Result<String, StoreError> {
        let bytes = changes
            .iter()
            .map(|(n, v)| n.len() + v.as_ref().map_or(0, String::len))
            .sum();
        self.write(bytes, move |conn| {
            desk::set_ticket_fields(conn, ticket, &changes, &actor)
        })
        .await
    }

    /// Change a ticket's priority.
    pub async fn change_priority(
        &self,
        ticket: TicketId,
        priority: crate::desk::lifecycle::Priority,
        actor: String,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::change_priority(conn, ticket, priority, &actor)
        })
        .await
    }

    /// Add an agent with a password (Argon2id hash) and their teams, all at once: on
    /// any refusal (the address taken, a team gone) nothing is added.
    pub async fn add_agent(
        &self,
        user: NewUser,
        password_hash: String,
        teams: Vec<String>,
    ) -> Result<i64, StoreError> {
        self.write(0, move |conn| {
            let id = outbound::add_user(conn, &user)?;
            let changes = UserChanges {
                password_hash: Some(password_hash),
                teams: Some(teams),
                ..Default::default()
            };
            desk::update_user(conn, &user.email, &changes)?;
            Ok(id)
        })
        .await
    }

    /// Create a team.
    pub async fn add_team(&self, name: String) -> Result<i64, StoreError> {
        self.write(0, move |conn| desk::add_team(conn, &name)).await
    }

    /// Change a team's members.
    pub async fn team_members(
        &self,
        team: String,
        add: Vec<String>,
        remove: Vec<String>,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::team_members(conn, &team, &add, &remove)
        })
        .await
    }

    /// Set a contact's name (cleaned by `desk::subject::contact_name`; nothing typed
    /// clears it) and owner, and, when given, the note agents keep about them (cleaned
    /// by `desk::subject::contact_note`), signed by `agent` when it changes.
    pub async fn update_contact(
        &self,
        contact: String,
        name: String,
        owner: Option<String>,
        note: Option<String>,
        agent: String,
    ) -> Result<String, StoreError> {
        let name = crate::desk::subject::contact_name(&name)
            .map_err(|e| StoreError::Invalid(format!("the name {e}")))?;
        let note = note
            .map(|n| crate::desk::subject::contact_note(&n))
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("the note {e}")))?;
        let edit = desk::ContactEdit { name, owner, note };
        self.write(0, move |conn| {
            desk::update_contact(conn, &contact, &edit, &agent)
        })
        .await
    }

    /// Import customers from a file's `rows` (see `desk::contact_import`): all of them,
    /// or none with the rows that cannot be taken named; with `dry_run`, only say what
    /// it would do.
    pub async fn import_contacts(
        &self,
        rows: Vec<crate::desk::contact_import::ImportRow>,
        actor: String,
        dry_run: bool,
    ) -> Result<crate::desk::contact_import::ImportCounts, StoreError> {
        let agents = self.read(|r| r.users()).await?;
        if dry_run {
            return self.read_long(move |r| r.try_import(rows, &agents)).await;
        }
        self.write(0, move |conn| {
            customers::import(conn, rows, &agents, &actor)
        })
        .await
    }

    /// Erase customer `contact` for `actor` (see `erase`): what went, or `None` when
    /// there is no such customer.
    pub async fn erase_customer(
        &self,
        contact: i64,
        actor: String,
    ) -> Result<Option<Erasure>, StoreError> {
        self.write(0, move |conn| erase::erase(conn, contact, &actor))
            .await
    }

    /// Delete ticket `ticket` (and those merged into it) for `actor`, as an erasure
    /// does: what went, or `None` when there is no such ticket.
    pub async fn delete_ticket(
        &self,
        ticket: TicketId,
        actor: String,
    ) -> Result<Option<TicketDeletion>, StoreError> {
        self.write(0, move |conn| erase::delete_ticket(conn, ticket, &actor))
            .await
    }

    /// Set or clear a contact's owner.
    pub async fn set_contact_owner(
        &self,
        contact: String,
        owner: Option<String>,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| {
            desk::set_contact_owner(conn, &contact, owner.as_deref())
        })
        .await
    }

    /// Change an agent.
    pub async fn update_user(
        &self,
        email: String,
        changes: UserChanges,
    ) -> Result<String, StoreError> {
        self.write(0, move |conn| desk::update_user(conn, &email, &changes))
            .await
    }

    /// `email` follows `ticket` or (`on: false`) stops; `None` when nothing changed.
    pub async fn follow(
        &self,
        ticket: TicketId,
        email: String,
        on: bool,
    ) -> Result<Option<String>, StoreError> {
        self.write(0, move |conn| notify::follow(conn, ticket, &email, on))
            .await
    }

    /// Queue notification mails and forget the notifications they (or nothing, being
    /// moot) answer, in one transaction; how many mails were queued.
    pub async fn queue_notices(
        &self,
        done: Vec<i64>,
        mails: Vec<NoticeMail>,
    ) -> Result<usize, StoreError> {
        let bytes = mails.iter().map(|m| m.raw.len()).sum();
        // No page shows notifications: cached pages stay valid.
        self.write_job(bytes, writer::Kind::AgentMail, move |conn| {
            notify::queue_notices(conn, &done, &mails)
        })
        .await
    }

    /// Add an internal note to a ticket.
    pub async fn add_note(
        &self,
        ticket: TicketId,
        author: String,
        text: String,
        files: Option<NoteFiles>,
    ) -> Result<i64, StoreError> {
        let bytes = text.len() + files.as_ref().map_or(0, |f| f.raw.len());
        self.write(bytes, move |conn| {
            outbound::add_note(conn, ticket, &author, &text, files.as_ref())
        })
        .await
    }

    /// Add a snippet (`id` `None`) or rewrite one, for `actor`; its id.
    pub async fn save_snippet(
        &self,
        id: Option<i64>,
        name: String,
        body: String,
        actor: String,
    ) -> Result<i64, StoreError> {
        self.write(body.len(), move |conn| {
            snippets::save_snippet(conn, id, &name, &body, &actor)
        })
        .await
    }

    /// `email` saves the inbox `link` as their view `name` (replacing one of that name).
    pub async fn save_view(
        &self,
        email: String,
        name: String,
        link: String,
    ) -> Result<(), StoreError> {
        self.write(link.len(), move |conn| {
            saved_views::save_view(conn, &email, &name, &link)
        })
        .await
    }

    /// `email` deletes their saved view `id`; its name.
    pub async fn delete_view(&self, email: String, id: i64) -> Result<String, StoreError> {
        self.write(0, move |conn| saved_views::delete_view(conn, &email, id))
            .await
    }

    /// Delete snippet `id`; its name.
    pub async fn delete_snippet(&self, id: i64) -> Result<String, StoreError> {
        self.write(0, move |conn| snippets::delete_snippet(conn, id))
            .await
    }

    /// `author` corrects their internal note `row`; its ticket.
    pub async fn edit_note(
        &self,
        row: i64,
        author: String,
        text: String,
    ) -> Result<TicketId, StoreError> {
        self.write(text.len(), move |conn| {
            outbound::edit_note(conn, row, &author, &text)
        })
        .await
    }

    /// Delete internal note `row`, as its author (`Some`) or the sysadmin (`None`, any
    /// note); its ticket.
    pub async fn delete_note(
        &self,
        row: i64,
        author: Option<String>,
    ) -> Result<TicketId, StoreError> {
        self.write(0, move |conn| {
            let editor = match &author {
                Some(a) => outbound::NoteEditor::Author(a),
                None => outbound::NoteEditor::Admin,
            };
            outbound::delete_note(conn, row, editor)
        })
        .await
    }

    /// Store an outgoing message and queue it in one transaction; `None` when an
    /// acknowledgement was suppressed by its rate limit.
    pub async fn queue_mail(&self, mail: QueuedMail) -> Result<Option<i64>, StoreError> {
        let secret = self.inner.secret.clone();
        self.write(mail.raw.len(), move |conn| {
            outbound::queue_mail(conn, &mail, &secret)
        })
        .await
    }

    /// Keep which channels ask for surveys, and how long after closing (see
    /// `surveys::sync_channels`).
    pub async fn sync_survey_channels(
        &self,
        channels: Vec<(String, i64)>,
    ) -> Result<(), StoreError> {
        self.write(0, move |conn| {
            surveys::sync_channels(conn, &channels, crate::model::unix_now())
        })
        .await
    }

    /// Up to `limit` closed tickets due their survey at `now` (see `surveys::due`).
    pub async fn surveys_due(&self, now: i64, limit: i64) -> Result<Vec<SurveyDue>, StoreError> {
        self.read(move |r| r.surveys_due(now, limit)).await
    }

    /// Queue a ticket's survey and mark it surveyed; `None` when it no longer is due.
    pub async fn queue_survey(&self, mail: QueuedMail) -> Result<Option<i64>, StoreError> {
        let secret = self.inner.secret.clone();
        self.write(mail.raw.len(), move |conn| {
            surveys::queue(conn, &mail, &secret, crate::model::unix_now())
        })
        .await
    }

    /// Open a ticket by writing to a customer first: the ticket, owned by the agent, and
    /// the mail `first_mail` builds for its number, queued, in one transaction (see
    /// `outbound::open_ticket`). `bytes` is about the mail's size.
    pub async fn open_ticket<F>(
        &self,
        new: NewTicket,
        bytes: usize,
        first_mail: F,
    ) -> Result<(TicketId, i64), StoreError>
    where
        F: FnOnce(TicketId) -> Result<QueuedMail, StoreError> + Send + 'static,
    {
        let secret = self.inner.secret.clone();
        self.write(bytes, move |conn| {
            outbound::open_ticket(conn, &new, first_mail, &secret)
        })
        .await
    }

    /// Record what the relay said about a run of outbox entries, in one transaction
    /// (each entry in its own savepoint): the worker's durable marks.
    /// `pipelines` move the tickets of scheduled replies that went.
    pub async fn outbox_record(
        &self,
        results: Vec<OutboxResult>,
        pipelines: Arc<Vec<crate::desk::lifecycle::Pipeline>>,
    ) -> Result<(), StoreError> {
        self.write(0, move |conn| {
            // All at once first; should one fail, again one by one, so only that one
            // stays unrecorded (and is sent again) rather than the whole batch.
            let together = writer::in_savepoint(conn, |conn| {
                results
                    .iter()
                    .try_for_each(|r| outbound::record(conn, r, &pipelines))
            });
            if together.is_err() {
                for result in &results {
                    let id = result.id();
                    if let Err(e) = writer::in_savepoint(conn, |conn| {
                        outbound::record(conn, result, &pipelines)
                    }) {
                        log::error!("outbox: cannot record the result for entry {id}: {e}");
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// Retry an outbox entry now for `actor`; the entry's ticket.
    pub async fn outbox_retry(&self, id: i64, actor: String) -> Result<i64, StoreError> {
        self.write(0, move |conn| outbound::outbox_retry(conn, id, &actor))
            .await
    }

    /// Cancel an outbox entry for `actor`; the entry's ticket (its status as it was
    /// before the reply, if the reply moved it and nothing since has).
    pub async fn outbox_cancel(
        &self,
        id: i64,
        actor: String,
        pipelines: Arc<Vec<crate::desk::lifecycle::Pipeline>>,
    ) -> Result<i64, StoreError> {
        self.write(0, move |conn| {
            outbound::outbox_cancel(conn, id, &actor, &pipelines)
        })
        .await
    }

    /// Advance a cursor past a message that cannot be stored at all.
    pub async fn skip_imap_uid(&self, origin: ImapOrigin) -> Result<(), StoreError> {
        self.write(0, move |conn| writer::skip_imap_uid(conn, &origin))
            .await
    }

    /// Write a consistent copy of the database to `dest` with SQLite's online backup
    /// (one step, so it is a single snapshot while the writer goes on), then check the
    /// copy with `PRAGMA integrity_check`. Returns the copy's size in bytes.
    pub async fn backup(&self, dest: PathBuf) -> Result<u64, StoreError> {
        let source = self.inner.path.clone();
        tokio::task::spawn_blocking(move || {
            if dest.exists() {
                return Err(StoreError::Invalid(format!(
                    "{} already exists; not overwriting it",
                    dest.display()
                )));
            }
            let partial = dest.with_extension("partial");
            let from = Connection::open_with_flags(&source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            configure(&from)?;
            {
                let mut to = Connection::open(&partial)?;
                let backup = rusqlite::backup::Backup::new(&from, &mut to)?;
                // All pages in one step (-1): one read snapshot, never restarted by the
                // writer's commits.
                loop {
                    match backup.step(-1)? {
                        rusqlite::backup::StepResult::Done => break,
                        rusqlite::backup::StepResult::More => {}
                        _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                    }
                }
            }
            let check = Connection::open_with_flags(&partial, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let verdict: String = check.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            drop(check);
            if verdict != "ok" {
                let _ = std::fs::remove_file(&partial);
                return Err(StoreError::Invalid(format!(
                    "the backup failed its integrity check: {verdict}"
                )));
            }
            std::fs::rename(&partial, &dest).map_err(|source| StoreError::Io {
                what: "cannot move the backup to",
                path: dest.clone(),
                source,
            })?;
            Ok(std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0))
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Run a short read-only query (a page's or a command's reads: a fraction of a
    /// millisecond) on a pooled connection, in one read transaction, on this thread.
    ///
    /// It runs in place because the work around it (rendering the page, writing the
    /// answer) runs on this async worker thread anyway and costs as much as the read;
    /// handing the read alone to another thread and back cost more wake-ups than the
    /// reading itself. Reads that can take milliseconds go through [`Store::read_long`].
    pub async fn read<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&read::Reader<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .inner
            .read_permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        self.inner.read_pooled(query)
    }

    /// Run a read-only query that can take milliseconds (a search, counts over every
    /// ticket, a large attachment) like [`Store::read`], but without holding up the
    /// async worker's other tasks: on a multi-thread runtime the worker hands them to
    /// a sibling first (`block_in_place`), elsewhere the blocking pool runs the query.
    pub async fn read_long<T, F>(&self, query: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&read::Reader<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        let _permit = self
            .inner
            .read_permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_thread {
            tokio::task::block_in_place(move || inner.read_pooled(query))
        } else {
            tokio::task::spawn_blocking(move || inner.read_pooled(query))
                .await
                .map_err(|_| StoreError::Closed)?
        }
    }

    /// Agents' notifications, each once, as their transactions commit (for open pages;
    /// mail reads them from the table).
    pub fn subscribe_notices(&self) -> tokio::sync::broadcast::Receiver<Arc<DueNotice>> {
        self.inner.notices.subscribe()
    }

    /// How many write batches have committed since the store opened: a value read
    /// before a query and found unchanged after means nothing was written in between.
    pub fn generation(&self) -> u64 {
        self.inner
            .generations
            .everything
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// How many write batches have committed `agent`'s read marks (what they have had
    /// on screen) and nothing else: pages that show them stamp this beside
    /// [`Store::generation`]. Another agent's reading leaves it (nearly always) alone.
    pub fn read_marks_generation(&self, agent: &str) -> u64 {
        self.inner.generations.read_marks[usize::from(writer::read_mark_slot(agent))]
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Stop the writer after it has committed everything queued, and wait for it.
    /// Call it after every task holding a clone has finished.
    pub fn close(self) {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => {
                let Inner {
                    writer,
                    writer_thread,
                    ..
                } = inner;
                drop(writer);
                if let Some(handle) = writer_thread.into_inner().ok().flatten() {
                    let _ = handle.join();
                }
            }
            Err(_) => log::warn!(
                "store still in use at close; its writer stops when the last handle goes"
            ),
        }
    }
}

pub use read::Reader;

#[cfg(test)]
mod tests {
    use super::*;

    /// A session's activity stamp is written without moving the generation (cached
    /// pages stay), a read mark moves only the read marks' one; any other write moves
    /// the generation before its caller hears back.
    #[tokio::test]
    async fn only_visible_writes_move_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let user = store
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
        store
            .create_session(
                NewSession {
                    token_hash: "hash".into(),
                    user_id: user,
                    csrf: "csrf".into(),
                    ..NewSession::default()
                },
                3600,
                86400,
            )
            .await
            .unwrap();
        let before = store.generation();
        store
            .touch_session("hash".into(), 4_000_000_000)
            .await
            .unwrap();
        assert_eq!(
            store.generation(),
            before,
            "a touch must not drop cached pages"
        );
        let seen = store
            .read(|r| r.session("hash"))
            .await
            .unwrap()
            .expect("the session");
        assert_eq!(seen.last_seen, 4_000_000_000, "the touch was not stored");
        // What an agent has read shows only in their inbox: it moves its own generation.
        let other = Connection::open(store.path()).unwrap();
        other
            .execute_batch(
                "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0);
                 INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
                 VALUES (1, 'Hinge', 'New', 'support', 1, 0, 0);",
            )
            .unwrap();
        let marks = store.read_marks_generation("jane@acme.test");
        let colleague = "bea@acme.test";
        assert_ne!(
            writer::read_mark_slot(colleague),
            writer::read_mark_slot("jane@acme.test")
        );
        let colleague_marks = store.read_marks_generation(colleague);
        store
            .mark_seen("jane@acme.test".into(), 1, 5)
            .await
            .unwrap();
        assert_eq!(
            store.generation(),
            before,
            "a read mark must not drop cached tickets, searches or sessions"
        );
        assert!(
            store.read_marks_generation("jane@acme.test") > marks,
            "a read mark must end the agent's cached inboxes"
        );
        assert_eq!(
            store.read_marks_generation(colleague),
            colleague_marks,
            "a colleague's cached inboxes stay"
        );
        let seen = store.read(|r| r.last_seen("jane@acme.test", 1)).await;
        assert_eq!(seen.unwrap(), 5, "the read mark was not stored");
        store.delete_session("hash".into()).await.unwrap();
        assert!(store.generation() > before, "a visible write must move it");
        store.close();
    }

    /// A new ticket whose first mail cannot be built is not stored at all.
    #[tokio::test]
    async fn a_new_ticket_whose_first_mail_fails_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let new = NewTicket {
            channel: "support".into(),
            customer: crate::ingest::parse::Mailbox {
                name: Some("Olga".into()),
                email: "olga@customer.example.org".into(),
            },
            subject: "Your replacement hinge".into(),
            pipeline: "Support".into(),
            status: "New".into(),
            closed: false,
            priority: "normal".into(),
            tags: vec![],
            agent: "jane@acme.test".into(),
        };
        let numbered = std::sync::Arc::new(std::sync::Mutex::new(None));
        let seen = numbered.clone();
        let refused = store
            .open_ticket(new, 0, move |ticket| {
                *seen.lock().unwrap() = Some(ticket);
                Err(StoreError::Invalid("cannot build the message".into()))
            })
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Invalid(w)) if w == "cannot build the message"),
            "{refused:?}"
        );
        assert!(numbered.lock().unwrap().is_some(), "the mail was asked for");
        let conn = Connection::open(store.path()).unwrap();
        for table in [
            "tickets",
            "contacts",
            "ticket_participants",
            "events",
            "messages",
            "outbox",
        ] {
            let n: i64 = conn
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "{table} kept a row");
        }
        store.close();
    }

    /// Every statement of one `read` sees the same snapshot: a page never shows a
    /// ticket half before and half after a write that landed while it was rendered.
    #[tokio::test]
    async fn one_read_sees_one_snapshot() {
        read_sees_one_snapshot(false).await;
        read_sees_one_snapshot(true).await;
    }

    /// The same on the daemon's runtime, where long reads leave the worker thread.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_read_sees_one_snapshot_on_the_daemons_runtime() {
        read_sees_one_snapshot(false).await;
        read_sees_one_snapshot(true).await;
    }

    /// A short read runs on the caller's thread; a long one, on a single-thread
    /// runtime, on the blocking pool, so the runtime's only thread is never held.
    #[tokio::test]
    async fn short_reads_run_in_place_and_long_ones_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let here = std::thread::current().id();
        let short = store
            .read(|_| Ok(std::thread::current().id()))
            .await
            .unwrap();
        let long = store
            .read_long(|_| Ok(std::thread::current().id()))
            .await
            .unwrap();
        assert_eq!(short, here, "a short read left the caller's thread");
        assert_ne!(long, here, "a long read held the runtime's only thread");
        store.close();
    }

    async fn read_sees_one_snapshot(long: bool) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let path = store.path().to_path_buf();
        let reads = move |r: &Reader<'_>| {
            let before = r.contact("late@example.org")?.is_some();
            // Another connection commits between this read's two statements.
            let other = Connection::open(&path)?;
            other.execute(
                "INSERT INTO contacts (email, name, created_at) VALUES ('late@example.org', 'Late', 0)",
                [],
            )?;
            let during = r.contact("late@example.org")?.is_some();
            Ok((before, during))
        };
        let (before, during) = if long {
            store.read_long(reads).await.unwrap()
        } else {
            store.read(reads).await.unwrap()
        };
        assert!(!before, "the contact does not exist yet");
        assert!(
            !during,
            "a commit made mid-read leaked into the read's snapshot (long: {long})"
        );
        let after = store.read(|r| r.contact("late@example.org")).await.unwrap();
        assert!(after.is_some(), "the next read sees the commit");
        store.close();
    }

    /// A ticket's closing time is kept while it stays closed and goes when it opens
    /// again; the report's facts leave out merged tickets and spam, and know a ticket
    /// filed closed and who sent each reply.
    #[tokio::test]
    async fn closing_times_and_report_facts() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
             VALUES (1, 'Hinge', 'New', 'support', 1, 100, 100),
                    (3, 'Old history', 'Closed', 'support', 1, 100, 100),
                    (4, 'Merged', 'New', 'support', 1, 100, 100),
                    (5, 'Pills', 'New', 'support', 1, 100, 100);
             UPDATE tickets SET closed = 1 WHERE id = 3;
             UPDATE tickets SET merged_into = 1 WHERE id = 4;
             UPDATE tickets SET tags = '[\"spam\"]' WHERE id = 5;
             INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                 created_at, text_body, headers, from_email)
             VALUES (1, 1, 'inbound', 'support', 'lmtp', 'Hinge', 'new', 100, '', '', 'olga@example.org'),
                    (2, 1, 'outbound', 'support', 'agent', 'Re: Hinge', 'reply', 150, '', '', 'jane@acme.test');
             INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                 next_attempt_at, created_at, expires_at, sent_at)
             VALUES (2, 1, 'support', 'reply', '', '[]', 'sent', 0, 150, 9999999999, 160);",
        )
        .unwrap();
        let pipelines = Arc::new(vec![crate::desk::lifecycle::Pipeline::default_support()]);
        let closed_at = |conn: &Connection| -> Option<i64> {
            conn.query_row("SELECT closed_at FROM tickets WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap()
        };
        let change = |stage: &str| {
            store.change_status(1, stage.into(), pipelines.clone(), "jane@acme.test".into())
        };
        change("Closed").await.unwrap();
        let first = closed_at(&conn).expect("closing is timed");
        change("Waiting on us").await.unwrap();
        assert_eq!(closed_at(&conn), None, "opened again");
        change("Closed").await.unwrap();
        assert!(closed_at(&conn).is_some_and(|at| at >= first));
        let facts = store.read(|r| r.report_facts(0)).await.unwrap();
        let ids: Vec<i64> = facts.tickets.iter().map(|t| t.id).collect();
        assert_eq!(ids, [1, 3], "merged and spam tickets are left out");
        assert!(facts.tickets[0].customer_first);
        assert!(facts.tickets[0].closed && facts.tickets[0].closed_at.is_some());
        assert_eq!(
            (facts.tickets[1].closed, facts.tickets[1].closed_at),
            (true, None),
            "filed closed"
        );
        assert_eq!(
            facts.replies,
            [crate::desk::reports::ReplyFact {
                ticket: 1,
                sent_at: 160,
                agent: "jane@acme.test".into(),
            }]
        );
        // Open now: ticket 5, tagged but left open, is on someone's list still.
        assert_eq!((facts.open_now, facts.unassigned_now), (1, 1));
        let later = store.read(|r| r.report_facts(1_000_000)).await.unwrap();
        assert!(later.replies.is_empty());
        assert_eq!(
            later.tickets.len(),
            1,
            "closed just now: {:?}",
            later.tickets
        );
        store.close();
    }

    /// Tickets left waiting on the customer close, oldest change first, once untouched
    /// for the span: not one in another stage, pipeline or channel, changed since,
    /// snoozed, merged, closed, or with a reply waiting to go. The history says why.
    #[tokio::test]
    async fn tickets_left_waiting_on_the_customer_close_by_themselves() {
        use crate::desk::auto_close::{sweeps, AutoClose};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
             VALUES (1, 'Waiting', 'Waiting on contact', 'support', 1, 0, 200),
                    (2, 'Waiting longer', 'waiting on contact', 'support', 1, 0, 100),
                    (3, 'Ours', 'Waiting on us', 'support', 1, 0, 100),
                    (4, 'Touched', 'Waiting on contact', 'support', 1, 0, 5000),
                    (5, 'Snoozed', 'Waiting on contact', 'support', 1, 0, 100),
                    (6, 'Merged', 'Waiting on contact', 'support', 1, 0, 100),
                    (7, 'Sales', 'Waiting on contact', 'sales', 1, 0, 100),
                    (8, 'Reply queued', 'Waiting on contact', 'support', 1, 0, 100),
                    (9, 'Other pipeline', 'Waiting on contact', 'support', 1, 0, 100);
             UPDATE tickets SET snoozed_until = 99999 WHERE id = 5;
             UPDATE tickets SET merged_into = 1 WHERE id = 6;
             UPDATE tickets SET pipeline = 'Returns' WHERE id = 9;
             INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                 next_attempt_at, created_at, expires_at)
             VALUES (NULL, 8, 'support', 'reply', '', '[]', 'queued', 0, 150, 9999999999),
                    (NULL, 1, 'support', 'acknowledgement', '', '[]', 'queued', 0, 150, 9999999999);",
        )
        .unwrap();
        let rules = [(
            "support".to_string(),
            AutoClose {
                after: 1000,
                stage: None,
                reminder: None,
            },
        )];
        let pipelines = [crate::desk::lifecycle::Pipeline::default_support()];
        let waiting = |now: i64| {
            let looks = sweeps(&rules, &pipelines, now);
            let store = &store;
            async move {
                store
                    .read(move |r| r.any_waiting_too_long(&looks))
                    .await
                    .unwrap()
            }
        };
        assert!(!waiting(1099).await, "not yet");
        assert!(waiting(1100).await);
        let closed = store
            .auto_close(sweeps(&rules, &pipelines, 1300), 1300, 1)
            .await
            .unwrap();
        assert_eq!(closed, [2], "oldest change first, one at a time");
        let closed = store
            .auto_close(sweeps(&rules, &pipelines, 1300), 1300, 100)
            .await
            .unwrap();
        assert_eq!(closed, [1]);
        assert!(!waiting(1300).await, "nothing else is due");
        let (status, is_closed, closed_at): (String, bool, i64) = conn
            .query_row(
                "SELECT status, closed, closed_at FROM tickets WHERE id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (status.as_str(), is_closed, closed_at),
            ("Closed", true, 1300)
        );
        let history: (String, String, String) = conn
            .query_row(
                "SELECT kind, actor, detail FROM events WHERE ticket_id = 2",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            history,
            (
                "status".into(),
                "frontdesk".into(),
                "waiting on contact → Closed (no answer from the customer in 16 min)".into()
            )
        );
        let open: Vec<i64> = conn
            .prepare("SELECT id FROM tickets WHERE closed = 0 ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(open, [3, 4, 5, 6, 7, 8, 9]);
        // The reports know the desk's closings from an agent's; one closed again by an
        // agent after opening is the agent's.
        let pipelines = Arc::new(vec![crate::desk::lifecycle::Pipeline::default_support()]);
        for (ticket, stage) in [(3, "Closed"), (1, "Waiting on us"), (1, "Closed")] {
            store
                .change_status(
                    ticket,
                    stage.into(),
                    pipelines.clone(),
                    "jane@acme.test".into(),
                )
                .await
                .unwrap();
        }
        let facts = store.read(|r| r.report_facts(0)).await.unwrap();
        let unanswered: Vec<i64> = facts
            .tickets
            .iter()
            .filter(|t| t.closed_unanswered)
            .map(|t| t.id)
            .collect();
        assert_eq!(unanswered, [2]);
        store.close();
    }

    /// An automatic mail to Olga on `ticket` (a survey, a reminder), ready to queue.
    fn automatic_mail(ticket: i64, kind: OutboxKind, words: &str) -> QueuedMail {
        QueuedMail {
            ticket_id: ticket,
            channel: "support".into(),
            channel_address: "support@acme.test".into(),
            kind,
            agent_email: None,
            from_name: "Acme".into(),
            subject: words.into(),
            text: words.into(),
            raw: format!("Subject: {words}\r\n\r\n{words}\r\n").into_bytes(),
            message_id: format!("{}{ticket}@acme.test", kind_word(kind)),
            recipients: vec!["olga@example.org".into()],
            max_queue_seconds: 3600,
            per_hour_limit: None,
            pipelines: None,
            attachments: Vec::new(),
            copies: Vec::new(),
            close: false,
            hold_seconds: 0,
            status_when_sent: false,
            draft: None,
            source_row: None,
            left_out: Vec::new(),
            take_unowned: false,
        }
    }

    /// An agent's reply takes a ticket nobody owns (not one a colleague owns, and not
    /// for an agent who is gone); a channel that says no leaves it unowned.
    #[tokio::test]
    async fn an_agent_who_answers_an_unowned_ticket_takes_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (email, first) in [("jane@acme.test", "Jane"), ("bea@acme.test", "Bea")] {
            store
                .add_user(NewUser {
                    email: email.into(),
                    full_name: format!("{first} Doe"),
                    first_name: first.into(),
                    last_name: "Doe".into(),
                    admin: false,
                    seat: true,
                })
                .await
                .unwrap();
        }
        Connection::open(store.path())
            .unwrap()
            .execute_batch(
                "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0);
                 INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, owner, team)
                 VALUES (1, 'Unowned', 'New', 'support', 1, 0, 0, NULL, NULL),
                        (2, 'Bea''s', 'New', 'support', 1, 0, 0, 'bea@acme.test', NULL),
                        (3, 'Team''s', 'New', 'support', 1, 0, 0, NULL, 'Billing'),
                        (4, 'Kept open', 'New', 'support', 1, 0, 0, NULL, NULL),
                        (5, 'A stranger', 'New', 'support', 1, 0, 0, NULL, NULL);",
            )
            .unwrap();
        let reply = |ticket: i64, agent: &str, take: bool| QueuedMail {
            agent_email: Some(agent.into()),
            take_unowned: take,
            message_id: format!("r{ticket}@acme.test"),
            ..automatic_mail(ticket, OutboxKind::Reply, "Hello")
        };
        for (ticket, agent, take) in [
            (1, "jane@acme.test", true),
            (2, "jane@acme.test", true),
            (3, "jane@acme.test", true),
            (4, "jane@acme.test", false),
            (5, "gone@acme.test", true),
        ] {
            store.queue_mail(reply(ticket, agent, take)).await.unwrap();
        }
        let owners: Vec<(Option<String>, Option<String>)> = store
            .read(|r| {
                (1..=5)
                    .map(|id| {
                        let t = r.ticket(id)?.expect("the ticket");
                        Ok((t.owner, t.team))
                    })
                    .collect()
            })
            .await
            .unwrap();
        let jane = Some("jane@acme.test".to_string());
        assert_eq!(
            owners,
            [
                (jane.clone(), None),
                (Some("bea@acme.test".into()), None),
                (jane, Some("Billing".into())),
                (None, None),
                (None, None),
            ]
        );
        let history = store.read(|r| r.ticket(1)).await.unwrap().unwrap().events;
        assert!(
            history.iter().any(|e| e.kind == "assigned"
                && e.detail == "assigned to jane@acme.test, who answered it"),
            "{history:?}"
        );
        store.close();
    }

    fn kind_word(kind: OutboxKind) -> &'static str {
        match kind {
            OutboxKind::Survey => "survey",
            OutboxKind::Reminder => "reminder",
            _ => "mail",
        }
    }

    /// Replies stored with their rating links lose them from their search text (the
    /// schema 40 upgrade): "good" finds a customer who wrote it, not every such reply;
    /// a reply's own words still find it, and text that only looks like the links stays.
    #[tokio::test]
    async fn search_forgets_the_rating_links_of_earlier_replies() {
        use crate::desk::ratings::{footer_text, page_url, reply_mac, REPLY_QUESTION};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        let links = footer_text(
            REPLY_QUESTION,
            &page_url("https://desk.acme.test", 1, &reply_mac(b"secret", "a1")),
        );
        let reply = format!("The hinge is on its way.\n\nJane\n\n{links}");
        let lookalike = format!("Quoting: {REPLY_QUESTION}\nGood: not a link\n");
        conn.execute_batch(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
             VALUES (1, 'Hinge', 'Waiting on contact', 'support', 1, 0, 100);",
        )
        .unwrap();
        for (row, direction, body) in [
            (1, "inbound", "Good morning, my hinge broke."),
            (2, "outbound", reply.as_str()),
            (3, "outbound", lookalike.as_str()),
        ] {
            conn.execute(
                "INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                     created_at, text_body, headers, from_email)
                 VALUES (?1, 1, ?2, 'support', 'agent', 'Hinge', 'reply', 100, ?3, '', 'x@example.org')",
                rusqlite::params![row, direction, body],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO search (rowid, subject, body, contact) VALUES (?1, 'Hinge', ?2, '')",
                rusqlite::params![row, body],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                 next_attempt_at, created_at, expires_at, sent_at)
             VALUES (2, 1, 'support', 'reply', '', '[]', 'sent', 0, 100, 999, 100),
                    (3, 1, 'support', 'reply', '', '[]', 'sent', 0, 100, 999, 100);",
        )
        .unwrap();
        let found = |words: &str| -> Vec<i64> {
            conn.prepare("SELECT rowid FROM search WHERE search MATCH ?1 ORDER BY rowid")
                .unwrap()
                .query_map([words], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(found("good"), [1, 2, 3], "before");
        assert_eq!(ratings::search_without_rating_links(&conn).unwrap(), 1);
        assert_eq!(
            found("good"),
            [1, 3],
            "the customer's word and the look-alike"
        );
        assert_eq!(found("okay"), Vec::<i64>::new());
        assert_eq!(found("hinge way jane"), [2], "the reply's own words");
        assert_eq!(
            ratings::search_without_rating_links(&conn).unwrap(),
            0,
            "once"
        );
        store.close();
    }

    /// With a reminder, a waiting ticket is due one its lead before the span ends, once
    /// per wait; the reminder does not change the ticket; the ticket closes only once
    /// the reminder has had its lead (later when it went late); a customer no mail can
    /// go to is passed over with the reason in the history and closes on its span; a
    /// change after the reminder starts a new wait with a new reminder.
    #[test]
    fn later_mail_rules_change_a_ticket_once_and_never_refuse_the_mail() {
        use crate::desk::lifecycle::Priority;
        use crate::desk::rules::Outcome;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        let full: Vec<String> = (0..crate::desk::tags::MAX_TAGS)
            .map(|i| format!("t{i}"))
            .collect();
        conn.execute(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, tags)
             VALUES (1, 'Hinge', 'New', 'support', 1, 0, 0, '[]'), (2, 'Full', 'New', 'support', 1, 0, 0, ?1)",
            [serde_json::to_string(&full).unwrap()],
        )
        .unwrap();
        let churn = Outcome {
            applied: vec!["rule \"Churn\": priority high, tags churn-risk".into()],
            priority: Some(Priority::High),
            tags: vec!["churn-risk".into()],
            ..Outcome::default()
        };
        let ticket = |id: i64| -> (String, String, i64) {
            conn.query_row(
                "SELECT tags, priority, (SELECT count(*) FROM events WHERE ticket_id = ?1 AND kind = 'rule')
                 FROM tickets WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
        };
        desk::later_mail_rules(&conn, 1, &churn, 10).unwrap();
        assert_eq!(ticket(1), (r#"["churn-risk"]"#.into(), "high".into(), 1));
        desk::later_mail_rules(&conn, 1, &churn, 20).unwrap();
        assert_eq!(ticket(1).2, 1, "nothing changed, nothing said");
        desk::later_mail_rules(&conn, 1, &Outcome::default(), 30).unwrap();
        assert_eq!(ticket(1).2, 1);
        // A ticket with no room for more tags still gets the priority; the history
        // says why the tag is missing.
        desk::later_mail_rules(&conn, 2, &churn, 40).unwrap();
        let (tags, priority, events) = ticket(2);
        assert_eq!(tags, serde_json::to_string(&full).unwrap());
        assert_eq!((priority.as_str(), events), ("high", 1));
        let said: String = conn
            .query_row(
                "SELECT detail FROM events WHERE ticket_id = 2 AND kind = 'rule'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            said.contains("tags not added: a ticket carries at most 20 tags"),
            "{said}"
        );
    }

    #[test]
    fn a_ticket_field_is_one_row_whatever_the_letter_case_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0)",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, tags)
             VALUES (1, 'Hinge', 'New', 'support', 1, 0, 0, '[]')",
            [],
        )
        .unwrap();
        let set = |name: &str, value: Option<&str>| {
            desk::set_ticket_fields(
                &conn,
                1,
                &[(name.to_string(), value.map(str::to_string))],
                "jane@acme.test",
            )
            .unwrap()
        };
        let rows = || -> Vec<(String, String)> {
            conn.prepare("SELECT name, value FROM ticket_fields WHERE ticket_id = 1")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(set("Order number", Some("4711")), "Order number: 4711");
        // The config later spells the field another way: still the same field.
        assert_eq!(
            set("Order Number", Some("4712")),
            "Order Number: 4711 → 4712"
        );
        assert_eq!(rows(), [("Order Number".to_string(), "4712".to_string())]);
        assert_eq!(set("order number", Some("4712")), "fields unchanged");
        assert_eq!(set("ORDER NUMBER", None), "ORDER NUMBER removed (was 4712)");
        assert!(rows().is_empty());
        let events: i64 = conn
            .query_row(
                "SELECT count(*) FROM events WHERE ticket_id = 1 AND kind = 'field'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(events, 3, "nothing said when nothing changed");
    }

    #[tokio::test]
    async fn waiting_tickets_are_reminded_once_per_wait_before_they_close() {
        use crate::desk::auto_close::{reminder_sweeps, sweeps, AutoClose, Reminder};
        use crate::outbound::template::Template;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0),
                 (2, 'bob@blocked.example', 0);
             UPDATE contacts SET blocked = 1 WHERE id = 2;
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
             VALUES (1, 'Hinge', 'Waiting on contact', 'support', 1, 0, 100),
                    (2, 'Blocked', 'Waiting on contact', 'support', 2, 0, 100),
                    (3, 'Later', 'Waiting on contact', 'support', 1, 0, 900),
                    (4, 'Ours', 'Waiting on us', 'support', 1, 0, 100);
             INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                 created_at, text_body, headers, from_email, message_id)
             VALUES (1, 1, 'outbound', 'support', 'agent', 'Re: Hinge', 'reply', 100, '', '', 'jane@acme.test', 'a1');",
        )
        .unwrap();
        let text = |t: &str| Template::parse(t, crate::outbound::compose::ACK_TOKENS).unwrap();
        let rules = [(
            "support".to_string(),
            AutoClose {
                after: 1000,
                stage: None,
                reminder: Some(Reminder {
                    before: 300,
                    subject: text("Still there?"),
                    body: text("Still there?"),
                }),
            },
        )];
        let pipelines = [crate::desk::lifecycle::Pipeline::default_support()];
        let due = |now: i64| -> Vec<ReminderDue> {
            close_reminders::due(&conn, &reminder_sweeps(&rules, &pipelines, now), 50).unwrap()
        };
        let closing = |now: i64| {
            let store = &store;
            let looks = sweeps(&rules, &pipelines, now);
            async move { store.auto_close(looks, now, 100).await.unwrap() }
        };
        assert!(due(799).is_empty(), "not yet: the span less the lead");
        let found = due(800);
        assert_eq!(
            found.iter().map(|d| d.ticket).collect::<Vec<_>>(),
            [1, 2],
            "oldest change first"
        );
        assert_eq!(
            (
                found[0].last_change,
                found[0].contact_email.as_str(),
                found[0].blocked,
                found[0].last_message_id.as_deref()
            ),
            (100, "olga@example.org", false, Some("a1"))
        );
        assert!(found[1].blocked);
        assert_eq!(
            closing(1200).await,
            Vec::<i64>::new(),
            "none closes unreminded"
        );

        let mail = automatic_mail(1, OutboxKind::Reminder, "Still there?");
        // Sent late (the rule was turned on at 1200): the closing waits its lead.
        assert!(store
            .queue_close_reminder(1, 100, Ok(mail.clone()), 1200)
            .await
            .unwrap());
        assert!(
            !store
                .queue_close_reminder(1, 100, Ok(mail.clone()), 1201)
                .await
                .unwrap(),
            "once per wait"
        );
        assert!(store
            .queue_close_reminder(2, 100, Err("bob@blocked.example is blocked".into()), 800)
            .await
            .unwrap());
        let (updated, kind, status, last_by_us): (i64, String, String, i64) = conn
            .query_row(
                "SELECT t.updated_at, o.kind, o.status,
                        (SELECT COUNT(*) FROM thread_ids WHERE msgid = 'reminder1@acme.test' AND ticket_id = 1)
                 FROM tickets t JOIN outbox o ON o.ticket_id = t.id WHERE t.id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(
            (updated, kind.as_str(), status.as_str(), last_by_us),
            (100, "reminder", "queued", 1),
            "the reminder leaves the ticket's last change; an answer to it threads back"
        );
        let wait = || -> (bool, Option<i64>) {
            conn.query_row(
                "SELECT answered, waiting_since FROM tickets WHERE id = 3",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        let before = wait();
        assert!(store
            .queue_close_reminder(
                3,
                900,
                Ok(QueuedMail {
                    ticket_id: 3,
                    message_id: "reminder3@acme.test".into(),
                    ..mail.clone()
                }),
                1700
            )
            .await
            .unwrap());
        assert_eq!(wait(), before, "a reminder answers nothing");
        let why: String = conn
            .query_row(
                "SELECT detail FROM events WHERE ticket_id = 2 AND kind = 'reminder-skipped'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            why,
            "no reminder before closing: bob@blocked.example is blocked"
        );
        assert_eq!(
            due(1200).iter().map(|d| d.ticket).collect::<Vec<_>>(),
            Vec::<i64>::new(),
            "every wait reminded"
        );
        assert_eq!(
            closing(1200).await,
            [2],
            "passed over: closes on its span alone"
        );
        assert_eq!(
            closing(1499).await,
            Vec::<i64>::new(),
            "the reminder's lead runs"
        );
        let standing = |ticket: i64| {
            let store = &store;
            async move {
                store
                    .read(move |r| r.wait_standing(ticket))
                    .await
                    .unwrap()
                    .expect("a ticket")
            }
        };
        assert_eq!(
            standing(1).await,
            WaitStanding {
                reminded_at: Some(1200),
                sending: false
            }
        );
        // Ticket 1 changes (a new wait), which needs a new reminder before it closes.
        conn.execute("UPDATE tickets SET updated_at = 1300 WHERE id = 1", [])
            .unwrap();
        assert_eq!(standing(1).await.reminded_at, None, "a new wait");
        assert_eq!(
            closing(2300).await,
            [3],
            "ticket 3 was reminded at 1700, its lead is past; ticket 1's new wait is unreminded"
        );
        assert_eq!(
            due(2300)
                .iter()
                .map(|d| (d.ticket, d.last_change))
                .collect::<Vec<_>>(),
            [(1, 1300)]
        );
        store.close();
    }

    /// The survey after closing comes due once, its delay after an answered ticket was
    /// closed, on a channel that asks, and for no one the desk should not mail: not for
    /// a ticket never answered, open, merged, spam, of a blocked customer, closed
    /// before the channel began asking or longer ago than the window. A ticket opened
    /// again before its survey was queued gets none.
    #[tokio::test]
    async fn surveys_come_due_once_for_answered_tickets_closed_on_asking_channels() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0),
                 (2, 'bob@spam.example', 0);
             UPDATE contacts SET blocked = 1 WHERE id = 2;
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
             VALUES (1, 'Answered', 'Closed', 'support', 1, 100, 100),
                    (2, 'Never answered', 'Closed', 'support', 1, 100, 100),
                    (3, 'Spam', 'Closed', 'support', 1, 100, 100),
                    (4, 'Merged', 'Closed', 'support', 1, 100, 100),
                    (5, 'Blocked', 'Closed', 'support', 2, 100, 100),
                    (6, 'Open', 'New', 'support', 1, 100, 100),
                    (7, 'Sales', 'Closed', 'sales', 1, 100, 100),
                    (8, 'Closed before', 'Closed', 'support', 1, 100, 100),
                    (9, 'Reopened', 'Closed', 'support', 1, 100, 100);
             UPDATE tickets SET closed = 1, closed_at = 1000 WHERE id <> 6;
             UPDATE tickets SET closed_at = 400 WHERE id = 8;
             UPDATE tickets SET closed_at = 1001 WHERE id = 9;
             UPDATE tickets SET tags = '[\"spam\"]' WHERE id = 3;
             UPDATE tickets SET merged_into = 1 WHERE id = 4;",
        )
        .unwrap();
        for ticket in 1..=9 {
            conn.execute(
                "INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                     created_at, text_body, headers, from_email, message_id)
                 VALUES (?1 * 2, ?1, 'inbound', 'support', 'lmtp', 'Q', 'new', 100, '', '', 'olga@example.org', 'q' || ?1),
                        (?1 * 2 + 1, ?1, 'outbound', 'support', 'agent', 'Re: Q', 'reply', 150, '', '', 'jane@acme.test', 'a' || ?1)",
                [ticket],
            )
            .unwrap();
            // Ticket 2's reply never went.
            conn.execute(
                "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                     next_attempt_at, created_at, expires_at, sent_at)
                 VALUES (?1 * 2 + 1, ?1, 'support', 'reply', '', '[]', 'sent', 0, 150, 9999999999,
                     CASE WHEN ?1 = 2 THEN NULL ELSE 160 END)",
                [ticket],
            )
            .unwrap();
        }
        let asking = [("support".to_string(), 3600)];
        surveys::sync_channels(&conn, &asking, 500).unwrap();
        let due = |now: i64| -> Vec<i64> {
            surveys::due(&conn, now, 50)
                .unwrap()
                .into_iter()
                .map(|d| d.ticket)
                .collect()
        };
        assert_eq!(due(4599), Vec::<i64>::new(), "not yet");
        assert_eq!(due(4601), [1, 9], "oldest closing first");
        let first = surveys::due(&conn, 4601, 1).unwrap();
        assert_eq!(
            first,
            [SurveyDue {
                ticket: 1,
                channel: "support".into(),
                subject: "Answered".into(),
                contact_email: "olga@example.org".into(),
                contact_name: None,
                last_message_id: Some("a1".into()),
            }]
        );
        assert_eq!(
            due(1000 + 3600 + SURVEY_WINDOW + 10),
            Vec::<i64>::new(),
            "too late"
        );

        let mail = |ticket: i64| automatic_mail(ticket, OutboxKind::Survey, "How did we do?");
        let outbox = store.queue_survey(mail(1)).await.unwrap();
        assert!(outbox.is_some());
        assert_eq!(
            store.queue_survey(mail(1)).await.unwrap(),
            None,
            "asked once"
        );
        // Ticket 9 opens again before its survey goes: none, and nothing written.
        conn.execute(
            "UPDATE tickets SET closed = 0, closed_at = NULL WHERE id = 9",
            [],
        )
        .unwrap();
        assert_eq!(due(4601), Vec::<i64>::new());
        assert_eq!(store.queue_survey(mail(9)).await.unwrap(), None);
        let (outboxes, surveyed): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM outbox WHERE kind = 'survey'),
                        (SELECT COUNT(*) FROM surveys)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((outboxes, surveyed), (1, 1));
        // The survey is a reply a rating link may name, marked as the survey; it is
        // not an answer.
        let rateable = store.read(|r| r.rateable_replies(1)).await.unwrap();
        assert_eq!(
            rateable.iter().map(|r| r.survey).collect::<Vec<_>>(),
            [false, true]
        );
        // Closed again, and a channel that stops and starts asking again asks only
        // about tickets closed from then on.
        conn.execute(
            "UPDATE tickets SET closed = 1, closed_at = 1001 WHERE id = 9",
            [],
        )
        .unwrap();
        assert_eq!(due(4601), [9]);
        surveys::sync_channels(&conn, &[], 4000).unwrap();
        assert_eq!(due(4601), Vec::<i64>::new(), "stopped");
        surveys::sync_channels(&conn, &asking, 4000).unwrap();
        assert_eq!(due(9000), Vec::<i64>::new(), "closed before it asked again");
        store.close();
    }

    /// Since when a customer waits and whether the ticket was answered follow the mail:
    /// only a reply the relay took answers; automatic mail and history make nobody
    /// wait; a moved mail takes its wait along. The Overdue view lists a wait that
    /// started by its cut-off.
    #[tokio::test]
    async fn waits_and_answers_follow_the_mail() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO contacts (id, email, created_at) VALUES (1, 'olga@example.org', 0);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, priority)
             VALUES (1, 'Hinge', 'New', 'support', 1, 100, 100, 'high'),
                    (2, 'Other', 'New', 'support', 1, 100, 100, 'high');",
        )
        .unwrap();
        let mail = |id: i64, ticket: i64, direction: &str, at: i64, extra: &str| {
            conn.execute_batch(&format!(
                "INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                     created_at, text_body, headers, from_email)
                 VALUES ({id}, {ticket}, '{direction}', 'support', 'lmtp', 'Hinge', 'new', {at}, '', '', 'x@example.org');
                 {extra}"
            ))
            .unwrap();
        };
        let queued = |id: i64, kind: &str| {
            format!(
                "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                     next_attempt_at, created_at, expires_at)
                 VALUES ({id}, 1, 'support', '{kind}', '', '[]', 'queued', 0, 0, 9999999999);"
            )
        };
        let wait = |ticket: i64| -> (Option<i64>, bool) {
            conn.query_row(
                "SELECT waiting_since, answered FROM tickets WHERE id = ?1",
                [ticket],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        mail(1, 1, "inbound", 100, "");
        assert_eq!(wait(1), (Some(100), false));
        mail(
            2,
            1,
            "inbound",
            110,
            "UPDATE messages SET auto = 'auto-replied' WHERE id = 2;",
        );
        mail(3, 1, "outbound", 111, &queued(3, "acknowledgement"));
        conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = 112 WHERE message_row = 3",
            [],
        )
        .unwrap();
        assert_eq!(
            wait(1),
            (Some(100), false),
            "an acknowledgement is no answer"
        );
        mail(4, 1, "outbound", 150, &queued(4, "reply"));
        assert_eq!(wait(1), (Some(100), false), "not sent yet");
        conn.execute(
            "UPDATE outbox SET status = 'sent', sent_at = 200 WHERE message_row = 4",
            [],
        )
        .unwrap();
        assert_eq!(wait(1), (None, true), "answered when the relay took it");
        mail(5, 1, "inbound", 300, "");
        assert_eq!(wait(1), (Some(300), true), "waiting for the next answer");
        mail(6, 1, "outbound", 310, &queued(6, "reply"));
        conn.execute(
            "UPDATE outbox SET status = 'cancelled' WHERE message_row = 6",
            [],
        )
        .unwrap();
        mail(
            7,
            1,
            "inbound",
            400,
            "UPDATE messages SET historical = 1 WHERE id = 7;",
        );
        assert_eq!(
            wait(1),
            (Some(300), true),
            "cancelled; history makes no wait"
        );
        // The customer's question moved to a ticket of its own takes the wait along.
        conn.execute("UPDATE messages SET ticket_id = 2 WHERE id = 5", [])
            .unwrap();
        assert_eq!(wait(1), (None, true));
        assert_eq!(wait(2), (Some(300), false));

        let overdue_in = async |cut: i64, channels: &[(&str, i64)]| {
            let high = |cut: i64| [i64::MIN, i64::MIN, cut, i64::MIN];
            let cutoffs = crate::desk::sla::Cutoffs {
                first: high(cut),
                next: [i64::MIN; 4],
                channels: channels
                    .iter()
                    .map(|(channel, cut)| crate::desk::sla::ChannelCutoffs {
                        channel: channel.to_string(),
                        first: high(*cut),
                        next: [i64::MIN; 4],
                    })
                    .collect(),
            };
            let q = InboxQuery {
                limit: 10,
                cutoffs: Some(cutoffs.clone()),
                ..Default::default()
            };
            store
                .read(move |r| {
                    let rows = r.inbox(InboxView::Overdue, "jane@acme.test", &q)?;
                    let counts = r.inbox_counts("jane@acme.test", Some(&cutoffs))?;
                    Ok((rows, counts))
                })
                .await
                .unwrap()
        };
        let overdue = async |cut: i64| overdue_in(cut, &[]).await;
        let (rows, counts) = overdue(300).await;
        assert_eq!(rows.iter().map(|r| r.ticket.id).collect::<Vec<_>>(), [2]);
        assert_eq!(rows[0].waiting_since, Some(300));
        assert!(counts.contains(&(InboxView::Overdue, 1)), "{counts:?}");
        let (rows, counts) = overdue(299).await;
        assert!(rows.is_empty());
        assert!(counts.contains(&(InboxView::Overdue, 0)), "{counts:?}");
        // A channel with targets of its own: its tickets go by them, the others by
        // the desk's.
        let ids = |rows: Vec<InboxRow>| rows.iter().map(|r| r.ticket.id).collect::<Vec<_>>();
        let (rows, counts) = overdue_in(299, &[("support", 300)]).await;
        assert_eq!(ids(rows), [2], "support's own target passed");
        assert!(counts.contains(&(InboxView::Overdue, 1)), "{counts:?}");
        let (rows, _) = overdue_in(300, &[("support", i64::MIN)]).await;
        assert!(rows.is_empty(), "support has no target for high");
        let (rows, _) = overdue_in(300, &[("sales", 299), ("billing", i64::MIN)]).await;
        assert_eq!(ids(rows), [2], "the desk's target for support");
        let (rows, _) = overdue_in(299, &[("sales", 300), ("billing", 300)]).await;
        assert!(rows.is_empty(), "other channels' targets are theirs");
        // Closed: nobody waits on the desk any more.
        conn.execute("UPDATE tickets SET closed = 1 WHERE id = 2", [])
            .unwrap();
        let (rows, counts) = overdue(300).await;
        assert!(rows.is_empty());
        assert!(counts.contains(&(InboxView::Overdue, 0)), "{counts:?}");
        store.close();
    }

    /// An answer that became overdue is told once per wait to whoever should take the
    /// ticket: its owner, else its team, else every agent with a seat; only those who
    /// want it. Reading the ticket does not end the news, the answer does; a customer
    /// writing again starts a wait told anew; news a day old is only marked.
    #[tokio::test]
    async fn overdue_answers_are_told_once_per_wait_to_whoever_should_take_them() {
        use crate::desk::sla::{Sla, Targets};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, full_name, first_name, last_name, seat, created_at)
             VALUES (1, 'jane@acme.test', 'Jane Doe', 'Jane', 'Doe', 1, 0),
                    (2, 'bea@acme.test', 'Bea K', 'Bea', 'K', 1, 0),
                    (3, 'al@acme.test', 'Al B', 'Al', 'B', 1, 0),
                    (4, 'max@acme.test', 'Max M', 'Max', 'M', 0, 0);
             UPDATE users SET notify_overdue = 0 WHERE id = 2;
             INSERT INTO teams (id, name, created_at) VALUES (1, 'billing', 0);
             INSERT INTO team_members (team_id, user_id) VALUES (1, 3);
             INSERT INTO contacts (id, email, name, created_at) VALUES (1, 'olga@example.org', 'Olga', 0);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, priority, owner, team)
             VALUES (1, 'Jane''s', 'New', 'support', 1, 100, 100, 'high', 'jane@acme.test', NULL),
                    (2, 'Billing''s', 'New', 'support', 1, 100, 100, 'high', NULL, 'billing'),
                    (3, 'Nobody''s', 'New', 'support', 1, 100, 100, 'high', NULL, NULL),
                    (4, 'Low', 'New', 'support', 1, 100, 100, 'low', NULL, NULL);
             INSERT INTO followers (user_id, ticket_id, created_at) VALUES (4, 1, 0), (4, 2, 0);",
        )
        .unwrap();
        let mail = |id: i64, ticket: i64, direction: &str, at: i64| {
            conn.execute_batch(&format!(
                "INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                     created_at, text_body, headers, from_email, from_name)
                 VALUES ({id}, {ticket}, '{direction}', 'support', 'lmtp', 'Hinge', 'new', {at},
                         'Where is it?', '', 'olga@example.org', 'Olga')"
            ))
            .unwrap();
        };
        for t in 1..=4 {
            mail(t, t, "inbound", 100);
        }
        const HOUR: i64 = 3600;
        let sla = Sla {
            first_answer: Targets {
                high: Some(HOUR),
                low: Some(24 * HOUR),
                ..Targets::default()
            },
            next_answer: Targets {
                high: Some(2 * HOUR),
                ..Targets::default()
            },
            hours: None,
            channels: Vec::new(),
        };
        let tell = async |now: i64| store.tell_overdue(sla.clone(), now).await.unwrap();
        let told = || -> Vec<(i64, String, String, Option<i64>)> {
            conn.prepare(
                "SELECT n.ticket_id, u.email, n.actor, n.message_row FROM notifications n
                 JOIN users u ON u.id = n.user_id WHERE n.reason = 'overdue'
                 ORDER BY n.ticket_id, u.email",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
        };
        let untold = async |now: i64| {
            let cut = sla.cutoffs(now);
            store.read(move |r| r.untold_overdue(cut)).await.unwrap()
        };
        assert_eq!(untold(100 + HOUR - 1).await, 0);
        assert!(tell(100 + HOUR - 1).await.is_empty(), "not late yet");
        assert_eq!(untold(100 + HOUR).await, 3);
        assert_eq!(tell(100 + HOUR).await, [1, 2, 3]);
        let olga =
            |t: i64, who: &str| (t, who.to_string(), "olga@example.org".to_string(), Some(t));
        assert_eq!(
            told(),
            [
                olga(1, "jane@acme.test"),
                olga(1, "max@acme.test"),
                olga(2, "al@acme.test"),
                olga(2, "max@acme.test"),
                olga(3, "al@acme.test"),
                olga(3, "jane@acme.test"),
            ],
            "the owner; the team; every seat but Bea, who does not want it; and Max, \
             who follows the first two"
        );
        assert_eq!(untold(100 + HOUR + 60).await, 0);
        assert!(tell(100 + HOUR + 60).await.is_empty(), "once per wait");

        // Jane reads her ticket: still news. The answer reaching the relay ends it.
        conn.execute_batch(
            "INSERT INTO ticket_seen (user_id, ticket_id, last_message) VALUES (1, 1, 1)",
        )
        .unwrap();
        let moot = async || -> Vec<(i64, String, bool)> {
            let due = store.read(|r| r.due_notices(i64::MAX, 100)).await.unwrap();
            due.into_iter()
                .filter(|d| d.reason == crate::desk::notify::Reason::Overdue)
                .map(|d| (d.ticket, d.email, d.moot))
                .collect()
        };
        assert!(moot().await.iter().all(|(_, _, moot)| !moot));
        let first = moot().await.into_iter().find(|(t, _, _)| *t == 1).unwrap();
        assert_eq!(first.1, "jane@acme.test");
        mail(10, 1, "outbound", 5000);
        conn.execute_batch(
            "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
                 next_attempt_at, created_at, expires_at, sent_at)
             VALUES (10, 1, 'support', 'reply', '', '[]', 'sent', 0, 0, 9999999999, 5000);",
        )
        .unwrap();
        let now_moot = moot().await;
        assert!(
            now_moot.contains(&(1, "jane@acme.test".into(), true)),
            "{now_moot:?}"
        );
        assert!(
            now_moot.contains(&(2, "al@acme.test".into(), false)),
            "{now_moot:?}"
        );
        assert!(
            now_moot.contains(&(1, "max@acme.test".into(), true)),
            "{now_moot:?}"
        );
        // Someone takes ticket 3: the others' news of it is moot, the taker's is not;
        // nor is a follower's when Al takes ticket 2.
        conn.execute_batch("UPDATE tickets SET owner = 'al@acme.test' WHERE id IN (2, 3)")
            .unwrap();
        let now_moot = moot().await;
        assert!(
            now_moot.contains(&(2, "max@acme.test".into(), false)),
            "{now_moot:?}"
        );
        assert!(
            now_moot.contains(&(3, "jane@acme.test".into(), true)),
            "{now_moot:?}"
        );
        assert!(
            now_moot.contains(&(3, "al@acme.test".into(), false)),
            "{now_moot:?}"
        );
        conn.execute_batch("DELETE FROM notifications").unwrap();

        // Olga writes again on ticket 1: the next answer's target (two hours) applies.
        mail(11, 1, "inbound", 6000);
        assert!(tell(6000 + 2 * HOUR - 1).await.is_empty());
        assert_eq!(tell(6000 + 2 * HOUR).await, [1]);
        assert_eq!(
            told(),
            [olga(1, "jane@acme.test"), olga(1, "max@acme.test")].map(|(t, w, a, _)| (
                t,
                w,
                a,
                Some(11)
            ))
        );

        // The low ticket, found late only after more than a day: marked, not told.
        conn.execute_batch("DELETE FROM notifications").unwrap();
        let much_later = 100 + 24 * HOUR + crate::desk::sla::TELL_WITHIN + 1;
        assert_eq!(untold(much_later).await, 1);
        assert_eq!(tell(much_later).await, Vec::<TicketId>::new());
        assert!(told().is_empty());
        assert_eq!(untold(much_later).await, 0);
        store.close();
    }

    /// A customer's rating is kept once per reply (a second replaces it), told in the
    /// ticket's history, shown under the reply and counted in the reports; a link to a
    /// merged ticket still finds its replies.
    #[tokio::test]
    async fn a_rating_is_kept_once_per_reply_and_follows_a_merge() {
        use crate::desk::ratings::Rating;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let conn = Connection::open(store.path()).unwrap();
        conn.execute_batch(
            "INSERT INTO users (id, email, full_name, first_name, last_name, seat, created_at)
             VALUES (1, 'jane@acme.test', 'Jane Doe', 'Jane', 'Doe', 1, 0);
             INSERT INTO contacts (id, email, name, created_at) VALUES (1, 'olga@example.org', 'Olga', 0);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, merged_into)
             VALUES (1, 'Hinge', 'New', 'support', 1, 100, 100, NULL),
                    (2, 'Hinge again', 'New', 'support', 1, 100, 100, 1);
             INSERT INTO messages (id, ticket_id, direction, channel, source, subject, thread_reason,
                 created_at, text_body, headers, from_email, message_id)
             VALUES (1, 1, 'inbound', 'support', 'lmtp', 'Hinge', 'new', 100, 'Broken', '', 'olga@example.org', 'q@example.org'),
                    (2, 1, 'outbound', 'support', 'web', 'Re: Hinge', 'reply', 200, 'Fixed', '', 'jane@acme.test', 'r@acme.test'),
                    (3, 1, 'note', 'support', 'web', 'Hinge', 'note', 300, 'Done', '', 'jane@acme.test', NULL);
             INSERT INTO ticket_seen (user_id, ticket_id, last_message) VALUES (1, 1, 3);",
        )
        .unwrap();
        let replies = store.read(|r| r.rateable_replies(2)).await.unwrap();
        assert_eq!(replies.len(), 1, "only the desk's reply: {replies:?}");
        let reply = &replies[0];
        assert_eq!(
            (
                reply.row,
                reply.ticket,
                reply.message_id.as_str(),
                reply.agent_name.as_str()
            ),
            (2, 1, "r@acme.test", "Jane Doe")
        );
        assert_eq!(reply.rating, None);
        assert!(store
            .read(|r| r.rateable_replies(99))
            .await
            .unwrap()
            .is_empty());

        let words = store
            .rate(2, Rating::Bad, "Still squeaks".into(), 400)
            .await
            .unwrap();
        assert_eq!(words, "rated Jane Doe's reply: Not good");
        // Jane hears of it, with Olga's words; a second "Not good" tells her nothing new.
        store
            .rate(2, Rating::Bad, "Still squeaks!".into(), 450)
            .await
            .unwrap();
        let notices = store.read(|r| r.due_notices(i64::MAX, 10)).await.unwrap();
        assert_eq!(notices.len(), 1, "{notices:?}");
        let n = &notices[0];
        assert_eq!(
            (
                n.email.as_str(),
                n.reason,
                n.actor.as_str(),
                n.actor_name.as_str()
            ),
            (
                "jane@acme.test",
                crate::desk::notify::Reason::BadRating,
                "olga@example.org",
                "Olga"
            )
        );
        assert_eq!(n.text.as_deref(), Some("Still squeaks!"));
        assert!(!n.moot, "Jane read the ticket when she replied; still news");
        store
            .rate(2, Rating::Okay, "Better now".into(), 500)
            .await
            .unwrap();
        let notices = store.read(|r| r.due_notices(i64::MAX, 10)).await.unwrap();
        assert!(notices[0].moot, "Olga thinks better of it now");
        assert!(
            store
                .rate(1, Rating::Good, String::new(), 500)
                .await
                .is_err(),
            "not a reply"
        );
        assert!(
            store
                .rate(3, Rating::Good, String::new(), 500)
                .await
                .is_err(),
            "a note"
        );
        let replies = store.read(|r| r.rateable_replies(1)).await.unwrap();
        assert_eq!(replies[0].rating, Some((Rating::Okay, "Better now".into())));
        let ticket = store.read(|r| r.ticket(1)).await.unwrap().unwrap();
        let shown: Vec<_> = ticket.messages.iter().map(|m| m.rating.clone()).collect();
        assert_eq!(
            shown,
            [None, Some((Rating::Okay, "Better now".into())), None]
        );
        let history: Vec<(String, String)> = conn
            .prepare("SELECT actor, detail FROM events WHERE kind = 'rating' ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(history.len(), 3, "{history:?}");
        assert_eq!(
            history[2],
            (
                "olga@example.org".into(),
                "rated Jane Doe's reply: Okay".into()
            )
        );
        let facts = store.read(|r| r.report_facts(450)).await.unwrap();
        assert_eq!(
            facts.ratings,
            [crate::desk::reports::RatingFact {
                agent: "jane@acme.test".into(),
                rating: Rating::Okay,
                rated_at: 500,
                survey: false,
                channel: "support".into(),
            }]
        );
        assert!(store
            .read(|r| r.report_facts(501))
            .await
            .unwrap()
            .ratings
            .is_empty());
        store.close();
    }
}
