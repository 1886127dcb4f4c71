//! What each channel's pullers are doing, for `channels list`, `/healthz` and the log.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// A puller's state, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncState {
    /// Waiting for new mail (IDLE or between polls).
    Idle,
    /// Fetching and storing.
    Syncing,
    /// Opening a connection.
    Connecting,
    /// Waiting to retry after an error.
    BackingOff,
    /// Failing in a way retrying will not fix (credentials, certificate).
    Failing,
}

impl SyncState {
    /// The printed name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Idle => "connected",
            SyncState::Syncing => "syncing",
            SyncState::Connecting => "connecting",
            SyncState::BackingOff => "backing off",
            SyncState::Failing => "failing",
        }
    }
}

/// One IMAP folder's puller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderStatus {
    /// Folder name.
    pub folder: String,
    /// State now.
    pub state: SyncState,
    /// True when the server offers IDLE (push); false means polling.
    pub idle_supported: Option<bool>,
    /// Unix seconds of the last sync that reached the end of the folder.
    pub last_success: Option<i64>,
    /// The last error in words.
    pub last_error: Option<String>,
    /// Unix seconds of the last error.
    pub last_error_at: Option<i64>,
    /// Messages stored by this puller since the daemon started.
    pub imported: u64,
    /// Messages on the server not yet stored.
    pub backlog: u64,
    /// History import progress: (done, total), while it runs.
    pub history: Option<(u64, u64)>,
    /// Unix seconds of the next retry while backing off.
    pub retry_at: Option<i64>,
}

impl FolderStatus {
    fn new(folder: &str) -> Self {
        FolderStatus {
            folder: folder.to_string(),
            state: SyncState::Connecting,
            idle_supported: None,
            last_success: None,
            last_error: None,
            last_error_at: None,
            imported: 0,
            backlog: 0,
            history: None,
            retry_at: None,
        }
    }
}

/// Shared by the pullers (writers) and the control socket and web (readers).
#[derive(Clone, Default)]
pub struct StatusBoard {
    folders: Arc<Mutex<BTreeMap<(String, String), FolderStatus>>>,
}

impl StatusBoard {
    /// Change one folder's status.
    pub fn update(&self, channel: &str, folder: &str, f: impl FnOnce(&mut FolderStatus)) {
        if let Ok(mut map) = self.folders.lock() {
            let entry = map
                .entry((channel.to_string(), folder.to_string()))
                .or_insert_with(|| FolderStatus::new(folder));
            f(entry);
        }
    }

    /// Forget a folder (its channel was removed or changed).
    pub fn remove(&self, channel: &str, folder: &str) {
        if let Ok(mut map) = self.folders.lock() {
            map.remove(&(channel.to_string(), folder.to_string()));
        }
    }

    /// A channel's folders.
    pub fn folders(&self, channel: &str) -> Vec<FolderStatus> {
        self.folders
            .lock()
            .map(|map| {
                map.iter()
                    .filter(|((c, _), _)| c == channel)
                    .map(|(_, s)| s.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A channel's overall state: its worst folder, or `active` for push-only channels.
pub fn channel_state(folders: &[FolderStatus]) -> String {
    folders
        .iter()
        .map(|f| f.state)
        .max()
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "active".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_state_wins() {
        let mut a = FolderStatus::new("INBOX");
        a.state = SyncState::Idle;
        let mut b = FolderStatus::new("Other");
        b.state = SyncState::BackingOff;
        assert_eq!(channel_state(&[a.clone(), b]), "backing off");
        assert_eq!(channel_state(&[a]), "connected");
        assert_eq!(channel_state(&[]), "active");
    }
}
