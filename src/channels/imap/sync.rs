//! One puller per account and folder: connect, catch up by UID, then IDLE (or poll),
//! reconnecting with backoff. The server-side action (`after_fetch`) is applied only
//! to messages whose commit has returned (Invariant 1).

use std::sync::Arc;
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use futures_util::TryStreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::connect::{connect, imap_reason, ConnectError, ImapSession};
use super::oauth::TokenCache;
use super::plan;
use crate::channels::status::{StatusBoard, SyncState};
use crate::config::{AfterFetch, ImapConfig, ImportExisting};
use crate::ingest::Inbound;
use crate::model::{unix_now, ImapOrigin, Source};
use crate::pipeline::{IngestFailure, Pipeline};
use crate::store::ImapCursor;

/// Re-issue IDLE well before servers' 29-minute limit (RFC 2177).
const IDLE_RENEW: Duration = Duration::from_secs(25 * 60);
/// A session that ran this long resets the backoff.
const HEALTHY_SESSION: Duration = Duration::from_secs(60);

/// The server's complaint when an IDLE response is an untagged NO, BAD or BYE.
fn idle_failure(response: &async_imap::imap_proto::Response<'_>) -> Option<String> {
    use async_imap::imap_proto::{Response, Status};
    match response {
        Response::Data {
            status: Status::No | Status::Bad | Status::Bye,
            outcome,
        } => Some(
            outcome
                .information
                .as_deref()
                .unwrap_or("no reason given")
                .to_string(),
        ),
        _ => None,
    }
}

/// A batch's stored UIDs, each with whether it was new (not a duplicate).
type BatchResult = Result<Vec<(u32, bool)>, SyncError>;

/// How far a catch-up has come.
#[derive(Debug, Clone, Copy)]
struct Progress {
    history_total: u64,
    history_done: u64,
    remaining: u64,
}

/// Parse a fetched batch in parallel, wait until the batch before it has committed,
/// then commit it (one group commit) and say so on `done`.
async fn store_batch(
    pipeline: Pipeline,
    channel: String,
    folder: String,
    cursor: ImapCursor,
    messages: Vec<(u32, Vec<u8>)>,
    previous: Option<tokio::sync::oneshot::Receiver<()>>,
    done: tokio::sync::oneshot::Sender<()>,
) -> BatchResult {
    let prepared = futures_util::future::join_all(messages.into_iter().map(|(uid, raw)| {
        let origin = ImapOrigin {
            account: cursor.account.clone(),
            folder: cursor.folder.clone(),
            uidvalidity: cursor.uidvalidity,
            uid,
        };
        let inbound = Inbound {
            channel: channel.clone(),
            raw,
            envelope_from: None,
            recipients: Vec::new(),
            source: Source::Imap,
            historical: uid < cursor.history_below,
            imap: Some(origin.clone()),
        };
        let pipeline = pipeline.clone();
        async move { (origin, pipeline.prepare(inbound).await) }
    }))
    .await;
    let mut commits = Vec::new();
    for (origin, result) in prepared {
        match result {
            Ok(p) => commits.push((origin, Some(p))),
            Err(IngestFailure::Rejected(e)) => {
                log::error!(
                    target: "frontdesk::imap",
                    CHANNEL = channel.as_str();
                    "{channel} {folder} UID {}: unusable message skipped: {e}",
                    origin.uid
                );
                commits.push((origin, None));
            }
            Err(e) => return Err(SyncError::Store(e.to_string())),
        }
    }
    if let Some(previous) = previous {
        // The batch before failed (its sender was dropped): store nothing after it.
        previous
            .await
            .map_err(|_| SyncError::Store("an earlier batch was not stored".into()))?;
    }
    let results = futures_util::future::join_all(commits.into_iter().map(|(origin, prepared)| {
        let pipeline = pipeline.clone();
        async move {
            let result = match prepared {
                Some(p) => pipeline.commit(p).await.map(|o| !o.duplicate),
                None => pipeline
                    .store()
                    .skip_imap_uid(origin.clone())
                    .await
                    .map(|_| false)
                    .map_err(IngestFailure::from),
            };
            (origin.uid, result)
        }
    }))
    .await;
    let mut out = Vec::with_capacity(results.len());
    for (uid, result) in results {
        out.push((uid, result.map_err(|e| SyncError::Store(e.to_string()))?));
    }
    let _ = done.send(());
    Ok(out)
}

/// What one puller works on.
pub struct Puller {
    /// Channel name.
    pub channel: String,
    /// Its IMAP settings.
    pub config: ImapConfig,
    /// The folder.
    pub folder: String,
    /// Ingest.
    pub pipeline: Pipeline,
    /// Status for `channels list`.
    pub board: StatusBoard,
    /// Bumped by `channels sync`.
    pub wake: watch::Receiver<u64>,
    /// OAuth2 tokens for the account.
    pub tokens: Arc<TokenCache>,
}

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("IMAP error: {0}")]
    Imap(String),
    #[error("{0}")]
    Folder(String),
    #[error("cannot store messages: {0}")]
    Store(String),
}

impl From<async_imap::error::Error> for SyncError {
    fn from(e: async_imap::error::Error) -> Self {
        SyncError::Imap(imap_reason(&e))
    }
}

fn account_of(config: &ImapConfig) -> String {
    format!("{}@{}:{}", config.username, config.host, config.port)
}

impl Puller {
    fn set(&self, f: impl FnOnce(&mut crate::channels::status::FolderStatus)) {
        self.board.update(&self.channel, &self.folder, f);
    }

    /// Run until `shutdown`, reconnecting with backoff after failures.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut attempt = 0u32;
        loop {
            self.set(|s| {
                // A refused login or certificate stays visible as failing until a
                // connection succeeds, rather than flickering to "connecting".
                if s.state != SyncState::Failing {
                    s.state = SyncState::Connecting;
                }
                s.retry_at = None;
            });
            let started = std::time::Instant::now();
            let result = self.session(&shutdown).await;
            if shutdown.is_cancelled() {
                return;
            }
            if started.elapsed() > HEALTHY_SESSION {
                attempt = 0;
            }
            let (error, permanent) = match result {
                Ok(()) => return,
                Err(SyncError::Connect(e)) => {
                    let permanent = e.is_auth() || matches!(e, ConnectError::Tls { .. });
                    (e.to_string(), permanent)
                }
                Err(e) => (e.to_string(), false),
            };
            let delay = plan::backoff(attempt, rand::random::<f64>());
            attempt = attempt.saturating_add(1);
            log::warn!(
                target: "frontdesk::imap",
                CHANNEL = self.channel.as_str();
                "{} {}: {error}; retrying in {}s",
                self.channel, self.folder, delay.as_secs()
            );
            let now = unix_now();
            self.set(|s| {
                s.state = if permanent {
                    SyncState::Failing
                } else {
                    SyncState::BackingOff
                };
                s.last_error = Some(error);
                s.last_error_at = Some(now);
                s.retry_at = Some(now + delay.as_secs() as i64);
            });
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(delay) => {}
                _ = self.wake.changed() => {}
            }
        }
    }

    /// One connected session: returns Ok only at shutdown.
    async fn session(&mut self, shutdown: &CancellationToken) -> Result<(), SyncError> {
        let mut session = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            s = connect(&self.config, &self.tokens) => s?,
        };
        let idle_supported = session.capabilities().await?.has_str("IDLE");
        let can_move = session.capabilities().await?.has_str("MOVE");
        self.set(|s| s.idle_supported = Some(idle_supported));
        if let AfterFetch::Move(target) = &self.config.after_fetch {
            // Make sure the destination exists; "already exists" is fine.
            let _ = session.create(target).await;
        }
        let mailbox = session.select(&self.folder).await.map_err(|e| {
            SyncError::Folder(format!(
                "cannot open folder {:?}: {}",
                self.folder,
                imap_reason(&e)
            ))
        })?;
        let uidvalidity = mailbox.uid_validity.ok_or_else(|| {
            SyncError::Folder(format!("folder {:?} has no UIDVALIDITY", self.folder))
        })?;
        let uid_next = match mailbox.uid_next {
            Some(n) => n,
            None => {
                session
                    .uid_search("ALL")
                    .await?
                    .into_iter()
                    .max()
                    .unwrap_or(0)
                    + 1
            }
        };
        let cursor = self.cursor(uidvalidity, uid_next).await?;
        self.finish_pending_actions(&mut session, &cursor, can_move)
            .await?;
        let mut cursor = cursor;
        // Wake-ups that brought nothing, to notice a server that keeps ending IDLE.
        let mut empty_wakes: std::collections::VecDeque<std::time::Instant> = Default::default();
        loop {
            self.set(|s| s.state = SyncState::Syncing);
            let before = cursor.last_uid;
            cursor = self
                .catch_up(&mut session, cursor, can_move, shutdown)
                .await?;
            if cursor.last_uid == before {
                let now = std::time::Instant::now();
                empty_wakes.push_back(now);
                while empty_wakes
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(10))
                {
                    empty_wakes.pop_front();
                }
                if empty_wakes.len() > 50 {
                    return Err(SyncError::Imap(
                        "the server keeps ending IDLE without new mail; reconnecting".into(),
                    ));
                }
            }
            if shutdown.is_cancelled() {
                let _ = session.logout().await;
                return Ok(());
            }
            let now = unix_now();
            self.set(|s| {
                s.state = SyncState::Idle;
                s.last_success = Some(now);
                s.last_error = None;
                s.backlog = 0;
                s.history = None;
            });
            session = if idle_supported {
                match self.idle(session, shutdown).await? {
                    Some(s) => s,
                    None => return Ok(()),
                }
            } else {
                tokio::select! {
                    _ = shutdown.cancelled() => {
                        let _ = session.logout().await;
                        return Ok(());
                    }
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = self.wake.changed() => {}
                }
                session.noop().await?;
                session
            };
        }
    }

    /// The stored cursor, created or reset as the first sync or a UIDVALIDITY change needs.
    async fn cursor(&self, uidvalidity: u32, uid_next: u32) -> Result<ImapCursor, SyncError> {
        let account = account_of(&self.config);
        let folder = self.folder.clone();
        let store = self.pipeline.store();
        let stored = {
            let (a, f) = (account.clone(), folder.clone());
            store
                .read(move |r| r.imap_cursor(&a, &f))
                .await
                .map_err(|e| SyncError::Store(e.to_string()))?
        };
        match stored {
            Some(c) if c.uidvalidity == uidvalidity => Ok(c),
            previous => {
                let cursor = match (&previous, self.config.import_existing) {
                    // UIDVALIDITY changed: rescan everything as history; the content keys
                    // (Message-ID, hash) make what we already have a no-op.
                    (Some(_), _) => ImapCursor {
                        account,
                        folder,
                        uidvalidity,
                        last_uid: 0,
                        history_below: uid_next,
                    },
                    (None, ImportExisting::Nothing) => ImapCursor {
                        account,
                        folder,
                        uidvalidity,
                        last_uid: uid_next.saturating_sub(1),
                        history_below: uid_next,
                    },
                    (None, _) => ImapCursor {
                        account,
                        folder,
                        uidvalidity,
                        last_uid: 0,
                        history_below: uid_next,
                    },
                };
                if previous.is_some() {
                    log::warn!(
                        target: "frontdesk::imap",
                        CHANNEL = self.channel.as_str();
                        "{} {}: UIDVALIDITY changed to {uidvalidity}; rescanning the folder (nothing is stored twice)",
                        self.channel, self.folder
                    );
                }
                store
                    .set_imap_cursor(cursor.clone())
                    .await
                    .map_err(|e| SyncError::Store(e.to_string()))?;
                Ok(cursor)
            }
        }
    }

    /// After a crash between a commit and its server action, finish the action.
    async fn finish_pending_actions(
        &self,
        session: &mut ImapSession,
        cursor: &ImapCursor,
        can_move: bool,
    ) -> Result<(), SyncError> {
        if self.config.after_fetch == AfterFetch::Keep || cursor.last_uid < cursor.history_below {
            return Ok(());
        }
        let range = format!("UID {}:{}", cursor.history_below.max(1), cursor.last_uid);
        let query = match self.config.after_fetch {
            AfterFetch::Seen => format!("{range} UNSEEN"),
            _ => range,
        };
        let mut uids: Vec<u32> = session
            .uid_search(&query)
            .await?
            .into_iter()
            .filter(|u| *u >= cursor.history_below && *u <= cursor.last_uid)
            .collect();
        uids.sort_unstable();
        self.after_fetch(session, &uids, can_move).await
    }

    /// Fetch and store everything after the cursor.
    async fn catch_up(
        &self,
        session: &mut ImapSession,
        mut cursor: ImapCursor,
        can_move: bool,
        shutdown: &CancellationToken,
    ) -> Result<ImapCursor, SyncError> {
        let mut pending: Vec<u32> = session
            .uid_search(format!("UID {}:*", cursor.last_uid.saturating_add(1)))
            .await?
            .into_iter()
            .filter(|u| *u > cursor.last_uid)
            .collect();
        if let ImportExisting::Since(y, m, d) = self.config.import_existing {
            // Only history before the cutoff date is skipped; new mail always comes in.
            if pending.iter().any(|u| *u < cursor.history_below) {
                let recent = session
                    .uid_search(format!(
                        "UID {}:{} SINCE {}",
                        cursor.last_uid.saturating_add(1),
                        cursor.history_below.saturating_sub(1).max(1),
                        plan::imap_date(y, m, d)
                    ))
                    .await?;
                pending.retain(|u| *u >= cursor.history_below || recent.contains(u));
            }
        }
        pending.sort_unstable();
        if pending.is_empty() {
            return Ok(cursor);
        }
        let mut progress = Progress {
            history_total: pending
                .iter()
                .filter(|u| **u < cursor.history_below)
                .count() as u64,
            history_done: 0,
            remaining: pending.len() as u64,
        };
        let start = progress;
        self.set(|s| {
            s.backlog = start.remaining;
            s.history = (start.history_total > 0).then_some((0, start.history_total));
        });

        let sizes: Vec<(u32, u64)> = {
            let mut out = Vec::with_capacity(pending.len());
            for chunk in pending.chunks(1000) {
                let fetches: Vec<_> = session
                    .uid_fetch(plan::uid_set(chunk), "(UID RFC822.SIZE)")
                    .await?
                    .try_collect()
                    .await?;
                out.extend(
                    fetches
                        .iter()
                        .filter_map(|f| Some((f.uid?, u64::from(f.size.unwrap_or(0))))),
                );
            }
            out
        };
        // Batch N is parsed and committed while batch N+1 downloads; commits stay in
        // UID order (each batch waits for the one before it), so the cursor never gets
        // ahead of a message that is not yet stored.
        let mut in_flight: Option<tokio::task::JoinHandle<BatchResult>> = None;
        let mut previous_done: Option<tokio::sync::oneshot::Receiver<()>> = None;
        for batch in plan::batches(sizes, plan::MAX_BATCH_MESSAGES, plan::MAX_BATCH_BYTES) {
            if shutdown.is_cancelled() {
                break;
            }
            let fetches: Vec<_> = session
                .uid_fetch(plan::uid_set(&batch), "(UID BODY.PEEK[])")
                .await?
                .try_collect()
                .await?;
            let mut messages: Vec<(u32, Vec<u8>)> = fetches
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .collect();
            drop(fetches);
            messages.sort_unstable_by_key(|(uid, _)| *uid);
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let task = tokio::spawn(store_batch(
                self.pipeline.clone(),
                self.channel.clone(),
                self.folder.clone(),
                cursor.clone(),
                messages,
                previous_done.replace(done_rx),
                done_tx,
            ));
            if let Some(earlier) = in_flight.replace(task) {
                self.finish_batch(session, earlier, &mut cursor, can_move, &mut progress)
                    .await?;
            }
        }
        if let Some(last) = in_flight {
            self.finish_batch(session, last, &mut cursor, can_move, &mut progress)
                .await?;
        }
        Ok(cursor)
    }

    /// Wait for a batch's commit, advance the cursor and the status, then apply
    /// `after_fetch` to its messages on the server.
    async fn finish_batch(
        &self,
        session: &mut ImapSession,
        task: tokio::task::JoinHandle<BatchResult>,
        cursor: &mut ImapCursor,
        can_move: bool,
        progress: &mut Progress,
    ) -> Result<(), SyncError> {
        let results = task.await.map_err(|e| SyncError::Store(e.to_string()))??;
        let mut act_on = Vec::new();
        let mut stored = 0u64;
        for (uid, new) in results {
            stored += u64::from(new);
            cursor.last_uid = cursor.last_uid.max(uid);
            progress.remaining = progress.remaining.saturating_sub(1);
            if uid < cursor.history_below {
                progress.history_done += 1;
            } else {
                act_on.push(uid);
            }
        }
        let p = *progress;
        self.set(|s| {
            s.imported += stored;
            s.backlog = p.remaining;
            if p.history_total > 0 {
                s.history = Some((p.history_done, p.history_total));
            }
        });
        // Only now, with the batch committed, touch the messages on the server.
        self.after_fetch(session, &act_on, can_move).await
    }

    /// Apply `after_fetch` to committed, non-historical messages.
    async fn after_fetch(
        &self,
        session: &mut ImapSession,
        uids: &[u32],
        can_move: bool,
    ) -> Result<(), SyncError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = plan::uid_set(uids);
        match &self.config.after_fetch {
            AfterFetch::Keep => {}
            AfterFetch::Seen => {
                let _: Vec<_> = session
                    .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                    .await?
                    .try_collect()
                    .await?;
            }
            AfterFetch::Move(target) => {
                if can_move {
                    session.uid_mv(&set, target).await?;
                } else {
                    session.uid_copy(&set, target).await?;
                    self.delete(session, &set).await?;
                }
            }
            AfterFetch::Delete => self.delete(session, &set).await?,
        }
        Ok(())
    }

    async fn delete(&self, session: &mut ImapSession, set: &str) -> Result<(), SyncError> {
        let _: Vec<_> = session
            .uid_store(set, "+FLAGS.SILENT (\\Deleted)")
            .await?
            .try_collect()
            .await?;
        let uidplus = session.capabilities().await?.has_str("UIDPLUS");
        if uidplus {
            let _: Vec<_> = session.uid_expunge(set).await?.try_collect().await?;
        } else {
            let _: Vec<_> = session.expunge().await?.try_collect().await?;
        }
        Ok(())
    }

    /// Wait in IDLE until the server reports a change, `channels sync`, the renewal
    /// time, or shutdown (then `None`, after logging out).
    async fn idle(
        &mut self,
        session: ImapSession,
        shutdown: &CancellationToken,
    ) -> Result<Option<ImapSession>, SyncError> {
        let mut handle = session.idle();
        handle.init().await?;
        let stop_for_shutdown = {
            let (wait, stop) = handle.wait_with_timeout(IDLE_RENEW);
            tokio::pin!(wait);
            let outcome = tokio::select! {
                r = &mut wait => Some(r),
                _ = shutdown.cancelled() => None,
                _ = self.wake.changed() => Some(Ok(IdleResponse::ManualInterrupt)),
            };
            drop(stop);
            match outcome {
                None => true,
                Some(Ok(IdleResponse::NewData(data))) => {
                    // An untagged NO/BAD/BYE in IDLE means the session is broken (the
                    // folder was deleted, the server is going away): reconnect.
                    if let Some(why) = idle_failure(data.parsed()) {
                        return Err(SyncError::Imap(format!("server ended IDLE: {why}")));
                    }
                    false
                }
                Some(Ok(_)) => false,
                Some(Err(e)) => return Err(e.into()),
            }
        };
        let mut session = handle.done().await?;
        if stop_for_shutdown {
            let _ = session.logout().await;
            return Ok(None);
        }
        Ok(Some(session))
    }
}
