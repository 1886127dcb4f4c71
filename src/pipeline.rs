//! The ingest edge every ingress calls: pure preparation off the async threads,
//! then one commit through the store's writer.

use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::ingest::{self, Inbound, IngestContext, IngestError, PreparedMessage};
use crate::store::{IngestOutcome, Store, StoreError};

/// Why an ingest did not store a message.
#[derive(Debug, thiserror::Error)]
pub enum IngestFailure {
    /// The channel named is not configured (permanent).
    #[error("no channel named {0:?}")]
    UnknownChannel(String),
    /// The message itself is unusable (permanent).
    #[error("message refused: {0}")]
    Rejected(#[from] IngestError),
    /// The store could not commit (temporary: the sender should retry).
    #[error("cannot store the message now: {0}")]
    Store(#[from] StoreError),
}

impl IngestFailure {
    /// True when retrying later may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(self, IngestFailure::Store(_))
    }
}

/// How often the desk looks for answers that became overdue (`[sla]`), at the least.
const LOOK_FOR_LATE_EVERY: u64 = 20;
/// How long after a change the desk looks for overdue answers (changes come in bursts).
const LOOK_FOR_LATE_AFTER_CHANGE: std::time::Duration = std::time::Duration::from_secs(1);

/// Shared by every ingress: the current config and the store.
#[derive(Clone)]
pub struct Pipeline {
    config: Arc<RwLock<Arc<Config>>>,
    store: Store,
    /// Wakes the outbox worker when mail is queued.
    outbox_kick: Arc<tokio::sync::Notify>,
    /// Ticket ids that changed, for live pages.
    changes: tokio::sync::broadcast::Sender<i64>,
    /// Outbox entries cancelled since the worker last looked: one it already read
    /// from the store is dropped before it reaches the relay.
    outbox_cancels: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
    /// Bumped by every config swap (reload).
    config_generation: Arc<std::sync::atomic::AtomicU64>,
    /// Wakes the snooze waker when a snooze is set (it may end sooner than the next).
    snooze_kick: Arc<tokio::sync::Notify>,
}

impl Pipeline {
    /// A pipeline over a store with a starting config.
    pub fn new(config: Config, store: Store) -> Self {
        Pipeline {
            config: Arc::new(RwLock::new(Arc::new(config))),
            store,
            outbox_kick: Arc::new(tokio::sync::Notify::new()),
            changes: tokio::sync::broadcast::channel(1024).0,
            outbox_cancels: Default::default(),
            config_generation: Default::default(),
            snooze_kick: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// How many times the config was replaced: what was rendered under another value
    /// may show old settings.
    pub fn config_generation(&self) -> u64 {
        self.config_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Tell the outbox worker an entry was cancelled (after the cancel committed).
    pub fn outbox_cancelled(&self, id: i64) {
        self.cancels().insert(id);
    }

    /// Whether `id` was cancelled since the worker last asked; forgets it.
    pub fn take_outbox_cancel(&self, id: i64) -> bool {
        self.cancels().remove(&id)
    }

    /// Forget every cancel (the worker holds no entry read before them).
    pub fn clear_outbox_cancels(&self) {
        self.cancels().clear();
    }

    fn cancels(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<i64>> {
        self.outbox_cancels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tell live pages a ticket changed (after its commit).
    pub fn ticket_changed(&self, ticket: i64) {
        let _ = self.changes.send(ticket);
    }

    /// Follow ticket changes.
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// Snooze an open ticket until `until` (unix seconds) or wake it (`None`), for
    /// `actor`; the words for the history. Open pages and the snooze waker hear of it.
    pub async fn snooze(
        &self,
        ticket: i64,
        until: Option<i64>,
        actor: String,
    ) -> Result<String, StoreError> {
        let words = self.store.snooze(ticket, until, actor).await?;
        self.snooze_kick.notify_one();
        self.ticket_changed(ticket);
        Ok(words)
    }

    /// Change many tickets at once for `actor`, all or none (see
    /// [`crate::store::BulkChange`]); how many changed. Open pages hear of each ticket,
    /// and the snooze waker of a macro's snooze.
    pub async fn change_many(
        &self,
        tickets: Vec<i64>,
        change: crate::store::BulkChange,
        actor: String,
    ) -> Result<usize, StoreError> {
        let snoozes = change
            .apply
            .as_ref()
            .is_some_and(|plan| plan.snooze_until.is_some());
        let pipelines = self.config().pipelines.clone();
        let changed = self
            .store
            .change_many(tickets.clone(), change, pipelines, actor)
            .await?;
        if snoozes {
            self.snooze_kick.notify_one();
        }
        for ticket in tickets {
            self.ticket_changed(ticket);
        }
        Ok(changed)
    }

    /// Wake snoozed tickets as their snoozes end, until `shutdown`: they come back on
    /// top of the open views, and open pages refresh.
    pub async fn wake_snoozes(&self, shutdown: tokio_util::sync::CancellationToken) {
        // However far off the next snooze ends, look again at least this often (a
        // clock change, a snooze the kick missed while we were waking others).
        const LOOK_AT_LEAST_EVERY: i64 = 60;
        loop {
            let now = crate::model::unix_now();
            let wait = match self.store.read(|r| r.next_wake()).await {
                Ok(Some(at)) if at <= now => match self.store.wake_due(now).await {
                    Ok(woken) => {
                        for ticket in woken {
                            log::info!("ticket #{ticket}: the snooze ended");
                            self.ticket_changed(ticket);
                        }
                        continue;
                    }
                    Err(e) => {
                        // Not in a tight loop: try again in a while.
                        log::warn!("cannot wake snoozed tickets: {e}");
                        5
                    }
                },
                Ok(Some(at)) => (at - now).min(LOOK_AT_LEAST_EVERY),
                Ok(None) => LOOK_AT_LEAST_EVERY,
                Err(e) => {
                    log::warn!("cannot read the next snooze: {e}");
                    LOOK_AT_LEAST_EVERY
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.snooze_kick.notified() => {}
                _ = tokio::time::sleep(std::time::Duration::from_secs(wait as u64)) => {}
            }
        }
    }

    /// Until `shutdown`, close the tickets left waiting on the customer past their
    /// channel's `[channel.auto_close]` span (none without it); open pages refresh.
    pub async fn close_waiting(&self, shutdown: tokio_util::sync::CancellationToken) {
        use crate::desk::auto_close;
        // Most tickets closed in one transaction; a look that fills it looks again at
        // once (a desk turning the rule on may have a backlog).
        const PER_LOOK: usize = 100;
        loop {
            let config = self.config();
            let rules: Vec<(String, auto_close::AutoClose)> = config
                .channels
                .iter()
                .filter_map(|c| Some((c.name.clone(), c.auto_close.clone()?)))
                .collect();
            let mut more = false;
            if !rules.is_empty() {
                // Reminders first: a ticket whose rule reminds closes only once reminded.
                let now = crate::model::unix_now();
                let reminders = auto_close::reminder_sweeps(&rules, &config.pipelines, now);
                more |= crate::outbound::reminder::send_due(self, &config, reminders).await
                    >= crate::outbound::reminder::REMINDERS_PER_LOOK;
                let sweeps = auto_close::sweeps(&rules, &config.pipelines, now);
                // A write would end every cached page: only when one is due.
                let look = sweeps.clone();
                match self
                    .store
                    .read(move |r| r.any_waiting_too_long(&look))
                    .await
                {
                    Ok(false) => {}
                    Ok(true) => match self.store.auto_close(sweeps, now, PER_LOOK).await {
                        Ok(closed) => {
                            more |= closed.len() >= PER_LOOK;
                            for ticket in closed {
                                log::info!("ticket #{ticket}: closed, no answer from the customer");
                                self.ticket_changed(ticket);
                            }
                        }
                        Err(e) => log::warn!("cannot close tickets left waiting: {e}"),
                    },
                    Err(e) => log::warn!("cannot look for tickets left waiting: {e}"),
                }
            }
            if more {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(auto_close::look_every(&rules)) => {}
            }
        }
    }

    /// Until `shutdown`, with answer targets in the config, tell agents of each answer
    /// that becomes overdue (a notification, mailed and shown like the others). Looks
    /// every [`LOOK_FOR_LATE_EVERY`] seconds, and soon after any change (a ticket made
    /// urgent may be late at once); a look that finds nothing new writes nothing.
    pub async fn tell_overdue(&self, shutdown: tokio_util::sync::CancellationToken) {
        let mut changes = self.subscribe_changes();
        loop {
            if let Some(sla) = self.config().sla.clone() {
                let now = crate::model::unix_now();
                let cutoffs = sla.cutoffs(now);
                match self.store.read(move |r| r.untold_overdue(cutoffs)).await {
                    Ok(0) => {}
                    Ok(_) => match self.store.tell_overdue(sla, now).await {
                        Ok(told) => {
                            for ticket in told {
                                log::info!("ticket #{ticket}: the customer's answer is overdue");
                                self.ticket_changed(ticket);
                            }
                        }
                        Err(e) => log::warn!("cannot tell agents of overdue answers: {e}"),
                    },
                    Err(e) => log::warn!("cannot look for overdue answers: {e}"),
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = changes.recv() => {
                    // A burst of changes (a mail import) makes one look, not one each.
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(LOOK_FOR_LATE_AFTER_CHANGE) => {}
                    }
                    while !matches!(
                        changes.try_recv(),
                        Err(tokio::sync::broadcast::error::TryRecvError::Empty
                            | tokio::sync::broadcast::error::TryRecvError::Closed)
                    ) {}
                }
                _ = tokio::time::sleep(std::time::Duration::from_secs(LOOK_FOR_LATE_EVERY)) => {}
            }
        }
    }

    /// Wake the outbox worker.
    pub fn kick_outbox(&self) {
        self.outbox_kick.notify_one();
    }

    /// The notifier the outbox worker waits on.
    pub fn outbox_kick(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_kick.clone()
    }

    /// The config in force now.
    pub fn config(&self) -> Arc<Config> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swap in a new, already validated config; sessions pick it up at their next message.
    pub fn replace_config(&self, config: Config) {
        let mut guard = match self.config.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(config);
        self.config_generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Make the pure decisions about one message, off the async threads.
    pub async fn prepare(&self, inbound: Inbound) -> Result<PreparedMessage, IngestFailure> {
        let config = self.config();
        if config.channel(&inbound.channel).is_none() {
            return Err(IngestFailure::UnknownChannel(inbound.channel));
        }
        let secret = self.store.secret().to_vec();
        tokio::task::spawn_blocking(move || {
            let own = config.own_addresses();
            let channel = config
                .channel(&inbound.channel)
                .ok_or_else(|| IngestFailure::UnknownChannel(inbound.channel.clone()))?;
            ingest::prepare(
                inbound,
                IngestContext {
                    channel,
                    pipelines: &config.pipelines,
                    own_addresses: &own,
                    secret: &secret,
                    rules: &config.rules,
                },
            )
            .map_err(IngestFailure::from)
        })
        .await
        .map_err(|_| IngestFailure::Store(StoreError::Closed))?
    }

    /// Commit one prepared message. Returns only after the commit (Invariant 1).
    pub async fn commit(&self, prepared: PreparedMessage) -> Result<IngestOutcome, IngestFailure> {
        let (channel, key) = (prepared.channel.clone(), prepared.idempotency_key.clone());
        let message_id = prepared.mail.message_id.clone();
        // Only what an acknowledgement needs is kept past the commit; the message itself
        // moves into the writer.
        let wants_ack = !prepared.historical
            && !prepared.classification.suppresses_auto_reply()
            && self
                .config()
                .channel(&prepared.channel)
                .is_some_and(|c| c.acknowledgement.is_some());
        let ack_view = wants_ack.then(|| ack_view(&prepared));
        let outcome = self.store.ingest(prepared).await?;
        if !outcome.duplicate {
            self.ticket_changed(outcome.ticket_id);
        }
        if let Some(view) = ack_view.filter(|_| !outcome.blocked) {
            crate::outbound::maybe_acknowledge(self, &view, &outcome).await;
        }
        log::info!(
            target: "frontdesk::ingest",
            CHANNEL = channel.as_str(), TICKET_ID = outcome.ticket_id,
            MESSAGE_ID = message_id.as_deref().unwrap_or(""), MESSAGE_KEY = key.as_str();
            "{} on {channel}: ticket #{} ({})",
            if outcome.duplicate { "duplicate ignored" } else if outcome.new_ticket { "new ticket" } else { "message added" },
            outcome.ticket_id,
            outcome.reason.as_str()
        );
        Ok(outcome)
    }

    /// Prepare and commit one message. Returns only after the commit (Invariant 1).
    pub async fn ingest(&self, inbound: Inbound) -> Result<IngestOutcome, IngestFailure> {
        let prepared = self.prepare(inbound).await?;
        self.commit(prepared).await
    }
}

/// A copy of a prepared message without its bytes and attachments, for the
/// acknowledgement decision after the commit.
fn ack_view(p: &PreparedMessage) -> PreparedMessage {
    let mut mail = p.mail.clone();
    mail.attachments.clear();
    mail.html_body = None;
    mail.text_body.clear();
    PreparedMessage {
        channel: p.channel.clone(),
        source: p.source,
        historical: p.historical,
        idempotency_key: p.idempotency_key.clone(),
        raw: Vec::new(),
        mail,
        contact: p.contact.clone(),
        forwarded_by: p.forwarded_by.clone(),
        participants: Vec::new(),
        classification: p.classification.clone(),
        keys: p.keys.clone(),
        imap: None,
        desk: p.desk.clone(),
    }
}
