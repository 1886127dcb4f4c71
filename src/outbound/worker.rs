//! The outbox worker: delivers due entries, retries temporary failures with backoff,
//! fails permanent ones with a note on the ticket. Everything it knows is in the
//! store, so a restart picks up where it stopped.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::send::{deliver, retry_delay, Delivery, Queue};
use crate::config::SmtpConfig;
use crate::model::unix_now;
use crate::pipeline::Pipeline;
use crate::store::{OutboxItem, OutboxResult};

/// Longest sleep when nothing is due, so expiry and clock changes are noticed.
const IDLE_WAKE: Duration = Duration::from_secs(60);
/// Most entries taken per round (the store also caps a round at 64 MiB of mail).
const ROUND: u32 = 2048;

/// Run until `shutdown`; `kick` wakes it when something is queued.
pub async fn run(pipeline: Pipeline, kick: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        let store = pipeline.store().clone();
        let due = match store.read(|r| r.outbox_due(unix_now(), ROUND)).await {
            Ok(d) => d,
            Err(e) => {
                log::error!("outbox: cannot read the queue: {e}");
                Vec::new()
            }
        };
        if due.is_empty() {
            let next = store.read(|r| r.outbox_next_due()).await.ok().flatten();
            let wait = match next {
                Some(at) => Duration::from_secs(
                    (at - unix_now()).clamp(0, IDLE_WAKE.as_secs() as i64) as u64,
                ),
                None => IDLE_WAKE,
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = kick.notified() => {}
                _ = tokio::time::sleep(wait.max(Duration::from_millis(200))) => {}
            }
            continue;
        }
        round(&pipeline, due).await;
    }
}

/// Deliver one round: group by relay, spread each group over its connections.
async fn round(pipeline: &Pipeline, due: Vec<OutboxItem>) {
    let config = pipeline.config();
    let mut by_relay: BTreeMap<String, (SmtpConfig, Vec<OutboxItem>)> = BTreeMap::new();
    let mut unroutable = Vec::new();
    for item in due {
        let relay = config
            .channel(&item.channel)
            .and_then(|c| c.smtp.clone())
            .or_else(|| config.smtp.clone());
        match relay {
            Some(r) => {
                let key = format!("{}:{}", r.host, r.port);
                by_relay
                    .entry(key)
                    .or_insert_with(|| (r, Vec::new()))
                    .1
                    .push(item);
            }
            None => unroutable.push(item),
        }
    }
    let (done_tx, done_rx) = tokio::sync::mpsc::unbounded_channel();
    for item in unroutable {
        let _ = done_tx.send((
            item,
            Delivery::Temporary("no [smtp] relay is configured".into()),
        ));
    }
    // Results are written as they come, a batch per commit: while one batch commits
    // the next gathers, so a fast relay costs few fsyncs and a slow one no waiting.
    let recorder = tokio::spawn(record_all(pipeline.clone(), done_rx));
    // Each relay's connections pull from one queue, so a slow message does not hold
    // the others back.
    let mut senders = Vec::new();
    let mut leftovers = Vec::new();
    for (_, (relay, items)) in by_relay {
        let connections = relay.max_connections.max(1).min(items.len());
        let queue: Arc<Queue> = Arc::new(std::sync::Mutex::new(items.into_iter().collect()));
        let relay = Arc::new(relay);
        leftovers.push(queue.clone());
        for _ in 0..connections {
            let (relay, queue, done) = (relay.clone(), queue.clone(), done_tx.clone());
            senders.push(tokio::spawn(
                async move { deliver(&relay, &queue, &done).await },
            ));
        }
    }
    let mut why = None;
    for s in senders {
        if let Ok(Err(e)) = s.await {
            why = Some(e);
        }
    }
    // What no connection could take (the relay refused every connection) waits.
    for queue in leftovers {
        let rest: Vec<OutboxItem> = queue
            .lock()
            .map(|mut q| q.drain(..).collect())
            .unwrap_or_default();
        for item in rest {
            let error = why.clone().unwrap_or_else(|| "relay unreachable".into());
            let _ = done_tx.send((item, Delivery::Temporary(error)));
        }
    }
    drop(done_tx);
    let _ = recorder.await;
}

/// Most results committed together.
const RECORD_BATCH: usize = 1024;

/// Log and durably record results until every sender is done.
async fn record_all(
    pipeline: Pipeline,
    mut results: tokio::sync::mpsc::UnboundedReceiver<(OutboxItem, Delivery)>,
) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while results.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let now = unix_now();
        let marks: Vec<OutboxResult> = batch
            .drain(..)
            .map(|(item, delivery)| result_of(&item, delivery, now))
            .collect();
        if let Err(e) = pipeline.store().outbox_record(marks).await {
            log::error!("outbox: cannot record delivery results: {e}");
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
