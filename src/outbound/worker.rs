//! The outbox worker: delivers due entries, retries temporary failures with backoff,
//! fails permanent ones with a note on the ticket. Everything it knows is in the
//! store, so a restart picks up where it stopped.
//!
//! One feeder reads due entries from the store in id order and hands them to a queue
//! per relay; up to `max_connections` sessions per relay take from that queue and stay
//! connected while it has work, and the feeder tops it up before it runs dry. One
//! recorder writes the results as they come, a batch per commit.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::send::{deliver, retry_delay, Delivery, Results, Source};
use crate::config::SmtpConfig;
use crate::model::unix_now;
use crate::pipeline::Pipeline;
use crate::store::{OutboxItem, OutboxResult};

/// Longest sleep when nothing is due, so expiry and clock changes are noticed.
const IDLE_WAKE: Duration = Duration::from_secs(60);
/// Most entries read at once (the store also caps a read at 64 MiB of mail).
const READ: u32 = 1024;
/// Entries read to get going when nothing is being sent.
const FIRST_READ: u32 = 64;
/// The feeder reads more when fewer than this many wait in memory.
const LOW_WATER: usize = 256;
/// Most results committed together.
const RECORD_BATCH: usize = 1024;
/// Longest a result waits for others to share its commit (it was delivered already;
/// only a crash in this window sends it again).
const RECORD_LINGER: Duration = Duration::from_millis(5);

/// A lock that a panicked task held is still consistent here (every critical section
/// is a few field updates), so take it anyway rather than stop sending mail.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One relay's waiting messages and how many sessions are taking from them.
struct RelayQueue {
    relay: SmtpConfig,
    /// Knows the entries cancelled after they were read.
    pipeline: Pipeline,
    /// Where a dropped (cancelled) entry stops being in flight.
    in_flight: Arc<Mutex<HashSet<i64>>>,
    state: Mutex<QueueState>,
    /// Told when the queue gets short, so the feeder reads more.
    low: Arc<Notify>,
    shutdown: CancellationToken,
}

#[derive(Default)]
struct QueueState {
    items: VecDeque<OutboxItem>,
    /// Sessions counted here are sure to take from `items` again; one that finds it
    /// empty leaves the count in the same lock, so work added later always finds
    /// either a session that will take it or a new one started for it.
    sessions: usize,
}

impl Source for RelayQueue {
    fn next(&self) -> Option<OutboxItem> {
        let mut s = lock(&self.state);
        let mut item = None;
        while !self.shutdown.is_cancelled() {
            let Some(next) = s.items.pop_front() else {
                break;
            };
            // Cancelled after it was read: the cancel wins, the store already says so.
            if self.pipeline.take_outbox_cancel(next.id) {
                lock(&self.in_flight).remove(&next.id);
                continue;
            }
            item = Some(next);
            break;
        }
        if item.is_none() {
            s.sessions = s.sessions.saturating_sub(1);
        }
        if s.items.len() < LOW_WATER {
            self.low.notify_one();
        }
        item
    }
}

/// What the worker shares between its tasks.
struct Worker {
    pipeline: Pipeline,
    relays: Mutex<Vec<Arc<RelayQueue>>>,
    /// Entries handed to a session and not yet recorded: never read twice.
    in_flight: Arc<Mutex<HashSet<i64>>>,
    /// Told when recorded results leave `in_flight`.
    settled: Notify,
    low: Arc<Notify>,
    results: Results,
    sessions: TaskTracker,
    shutdown: CancellationToken,
}

/// Run until `shutdown`; `kick` wakes it when something is queued.
pub async fn run(pipeline: Pipeline, kick: Arc<Notify>, shutdown: CancellationToken) {
    let (results, received) = tokio::sync::mpsc::unbounded_channel();
    let worker = Arc::new(Worker {
        pipeline: pipeline.clone(),
        relays: Mutex::new(Vec::new()),
        in_flight: Default::default(),
        settled: Notify::new(),
        low: Arc::new(Notify::new()),
        results,
        sessions: TaskTracker::new(),
        shutdown: shutdown.clone(),
    });
    let recorder = tokio::spawn(record_all(worker.clone(), received));
    feed(&worker, &kick).await;
    // Stopping: sessions finish the message they are on (Source::next says no more),
    // the rest stays queued in the store for the next start.
    worker.sessions.close();
    worker.sessions.wait().await;
    lock(&worker.relays).clear();
    drop(worker);
    let _ = recorder.await;
}

/// Read due entries and hand them out until `shutdown`.
async fn feed(worker: &Arc<Worker>, kick: &Notify) {
    let store = worker.pipeline.store().clone();
    let mut after = 0i64;
    loop {
        if worker.shutdown.is_cancelled() {
            return;
        }
        // Enough waiting in memory: wait until the sessions have taken most of it.
        if waiting(worker) >= LOW_WATER {
            tokio::select! {
                _ = worker.shutdown.cancelled() => return,
                _ = worker.low.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        let from = after;
        // A small first read when the queue is idle, so the first message goes out
        // while the rest is read.
        let limit = if waiting(worker) == 0 && lock(&worker.in_flight).is_empty() {
            FIRST_READ
        } else {
            READ
        };
        let due = match store
            .read(move |r| r.outbox_due(unix_now(), limit, from))
            .await
        {
            Ok(d) => d,
            Err(e) => {
                log::error!("outbox: cannot read the queue: {e}");
                Vec::new()
            }
        };
        if let Some(last) = due.last() {
            after = last.id;
            dispatch(worker, due);
            continue;
        }
        // Nothing after the cursor. Entries before it (deferred ones now due) are read
        // by starting over, but only once everything handed out is recorded, so that
        // no entry is ever read while a session has it.
        let busy = !lock(&worker.in_flight).is_empty();
        if busy {
            tokio::select! {
                _ = worker.shutdown.cancelled() => return,
                _ = kick.notified() => {}
                _ = worker.settled.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        if after != 0 {
            after = 0;
            // Nothing read before now is held any more.
            worker.pipeline.clear_outbox_cancels();
            continue;
        }
        let next = store.read(|r| r.outbox_next_due()).await.ok().flatten();
        let wait = match next {
            Some(at) => {
                Duration::from_secs((at - unix_now()).clamp(0, IDLE_WAKE.as_secs() as i64) as u64)
            }
            None => IDLE_WAKE,
        };
        tokio::select! {
            _ = worker.shutdown.cancelled() => return,
            _ = kick.notified() => {}
            _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
        }
    }
}

/// Messages waiting in memory, over every relay.
fn waiting(worker: &Worker) -> usize {
    let relays: Vec<Arc<RelayQueue>> = lock(&worker.relays).clone();
    relays.iter().map(|q| lock(&q.state).items.len()).sum()
}

/// Put entries on their relay's queue and start sessions for them as needed.
fn dispatch(worker: &Arc<Worker>, due: Vec<OutboxItem>) {
    let config = worker.pipeline.config();
    for item in due {
        if !lock(&worker.in_flight).insert(item.id) {
            continue;
        }
        let relay = config
            .channel(&item.channel)
            .and_then(|c| c.smtp.clone())
            .or_else(|| config.smtp.clone());
        let Some(relay) = relay else {
            let _ = worker.results.send((
                item,
                Delivery::Temporary("no [smtp] relay is configured".into()),
            ));
            continue;
        };
        let queue = relay_queue(worker, relay);
        let start = {
            let mut s = lock(&queue.state);
            s.items.push_back(item);
            let wanted = queue.relay.max_connections.max(1).min(s.items.len());
            let start = wanted.saturating_sub(s.sessions);
            s.sessions += start;
            start
        };
        for _ in 0..start {
            let (worker, queue) = (worker.clone(), queue.clone());
            worker
                .sessions
                .clone()
                .spawn(async move { session(&worker, &queue).await });
        }
    }
}

/// The queue for `relay` (a reload that changes a relay's settings gets a new one).
fn relay_queue(worker: &Worker, relay: SmtpConfig) -> Arc<RelayQueue> {
    let mut relays = lock(&worker.relays);
    if let Some(q) = relays.iter().find(|q| q.relay == relay) {
        return q.clone();
    }
    let q = Arc::new(RelayQueue {
        relay,
        pipeline: worker.pipeline.clone(),
        in_flight: worker.in_flight.clone(),
        state: Mutex::new(QueueState::default()),
        low: worker.low.clone(),
        shutdown: worker.shutdown.clone(),
    });
    relays.push(q.clone());
    q
}

/// One connection's life: send until the queue is dry. When it cannot connect, or the
/// connection breaks, and it was the last one for this relay, what is left waits for
/// the next attempt with the reason.
async fn session(worker: &Worker, queue: &RelayQueue) {
    let Err(why) = deliver(&queue.relay, queue, &worker.results).await else {
        return;
    };
    let rest: Vec<OutboxItem> = {
        let mut s = lock(&queue.state);
        s.sessions = s.sessions.saturating_sub(1);
        // Stopping is not the relay's fault: what was not tried stays due as it is.
        if s.sessions == 0 && !worker.shutdown.is_cancelled() {
            s.items.drain(..).collect()
        } else {
            Vec::new()
        }
    };
    for item in rest {
        let _ = worker
            .results
            .send((item, Delivery::Temporary(why.clone())));
    }
}

/// Log and durably record results until every sender is gone: the ones that arrived
/// while the previous batch committed, and those that follow within [`RECORD_LINGER`],
/// go in one transaction, so a fast relay costs few fsyncs and a slow one little waiting.
async fn record_all(
    worker: Arc<Worker>,
    mut results: tokio::sync::mpsc::UnboundedReceiver<(OutboxItem, Delivery)>,
) {
    let pipeline = worker.pipeline.clone();
    let settled = Arc::downgrade(&worker);
    drop(worker);
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while results.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        // While results keep coming, gather a little longer: each commit rewrites the
        // pages it touches and waits for an fsync, so fewer, larger ones cost less.
        let until = tokio::time::Instant::now() + RECORD_LINGER;
        while batch.len() < RECORD_BATCH {
            let room = RECORD_BATCH - batch.len();
            match tokio::time::timeout_at(until, results.recv_many(&mut batch, room)).await {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
        let now = unix_now();
        let mut tickets: Vec<i64> = batch.iter().map(|(item, _)| item.ticket_id).collect();
        tickets.sort_unstable();
        tickets.dedup();
        let marks: Vec<OutboxResult> = batch
            .drain(..)
            .map(|(item, delivery)| result_of(&item, delivery, now))
            .collect();
        let ids: Vec<i64> = marks.iter().map(OutboxResult::id).collect();
        let pipelines = pipeline.config().pipelines.clone();
        match pipeline.store().outbox_record(marks, pipelines).await {
            // Open ticket pages show how their mail went.
            Ok(()) => tickets.into_iter().for_each(|t| pipeline.ticket_changed(t)),
            Err(e) => log::error!("outbox: cannot record delivery results: {e}"),
        }
        if let Some(worker) = settled.upgrade() {
            let mut f = lock(&worker.in_flight);
            for id in ids {
                f.remove(&id);
            }
            drop(f);
            worker.settled.notify_one();
        }
    }
}

/// The durable mark for one delivery, logged as it is decided.
fn result_of(item: &OutboxItem, delivery: Delivery, now: i64) -> OutboxResult {
    let id = item.id;
    match delivery {
        Delivery::Sent(response, refused) => {
            log::info!(target: "frontdesk::outbox", OUTBOX_ID = id; "outbox {id} delivered: {response}");
            OutboxResult::Sent {
                id,
                response,
                refused,
            }
        }
        Delivery::Temporary(error) => {
            let delay = retry_delay(item.attempts);
            log::warn!(target: "frontdesk::outbox", OUTBOX_ID = id; "outbox {id} deferred {delay}s: {error}");
            OutboxResult::Deferred {
                id,
                next_at: now + delay,
                error,
            }
        }
        Delivery::Permanent(error) => {
            log::warn!(target: "frontdesk::outbox", OUTBOX_ID = id; "outbox {id} failed: {error}");
            OutboxResult::Failed { id, error }
        }
    }
}
