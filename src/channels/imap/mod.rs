//! IMAP pullers: one task per account and folder, restarted when the config changes.

mod connect;
mod oauth;
pub mod plan;
mod sync;

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channels::status::StatusBoard;
use crate::config::{Config, ImapConfig};
use crate::pipeline::Pipeline;

/// Keeps one puller per (channel, folder) in line with the config.
pub struct ImapSupervisor {
    pipeline: Pipeline,
    board: StatusBoard,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    running: BTreeMap<(String, String), Running>,
    wakers: BTreeMap<String, watch::Sender<u64>>,
}

struct Running {
    config: ImapConfig,
    stop: CancellationToken,
}

impl ImapSupervisor {
    /// A supervisor with no pullers yet; call [`ImapSupervisor::apply`].
    pub fn new(
        pipeline: Pipeline,
        board: StatusBoard,
        shutdown: CancellationToken,
        tracker: TaskTracker,
    ) -> Self {
        ImapSupervisor {
            pipeline,
            board,
            shutdown,
            tracker,
            running: BTreeMap::new(),
            wakers: BTreeMap::new(),
        }
    }

    /// Start, stop and restart pullers so they match `config`.
    pub fn apply(&mut self, config: &Config) {
        let mut wanted: BTreeMap<(String, String), ImapConfig> = BTreeMap::new();
        for channel in &config.channels {
            if let Some(imap) = &channel.imap {
                for folder in &imap.folders {
                    wanted.insert((channel.name.clone(), folder.clone()), imap.clone());
                }
            }
        }
        let stale: Vec<(String, String)> = self
            .running
            .iter()
            .filter(|(key, r)| wanted.get(*key) != Some(&r.config))
            .map(|(key, _)| key.clone())
            .collect();
        for key in stale {
            if let Some(r) = self.running.remove(&key) {
                r.stop.cancel();
                self.board.remove(&key.0, &key.1);
            }
        }
        let mut tokens: BTreeMap<String, Arc<oauth::TokenCache>> = BTreeMap::new();
        for ((channel, folder), imap) in wanted {
            if self
                .running
                .contains_key(&(channel.clone(), folder.clone()))
            {
                continue;
            }
            let stop = self.shutdown.child_token();
            let wake = self
                .wakers
                .entry(channel.clone())
                .or_insert_with(|| watch::channel(0).0)
                .subscribe();
            let puller = sync::Puller {
                channel: channel.clone(),
                config: imap.clone(),
                folder: folder.clone(),
                pipeline: self.pipeline.clone(),
                board: self.board.clone(),
                wake,
                tokens: tokens.entry(channel.clone()).or_default().clone(),
            };
            self.board.update(&channel, &folder, |_| {});
            self.tracker.spawn(puller.run(stop.clone()));
            self.running
                .insert((channel, folder), Running { config: imap, stop });
        }
    }

    /// Wake a channel's pullers to sync now; false when it has none.
    pub fn sync_now(&self, channel: &str) -> bool {
        match self.wakers.get(channel) {
            Some(tx) if self.running.keys().any(|(c, _)| c == channel) => {
                tx.send_modify(|n| *n += 1);
                true
            }
            _ => false,
        }
    }
}
