//! `/metrics` in the Prometheus text format, and the HTTP latency histogram behind it.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::channels::status::{FolderStatus, SyncState};
use crate::store::{ChannelStats, StoreCounts};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// A fixed-bucket histogram of HTTP request durations.
#[derive(Default)]
pub struct LatencyHistogram {
    buckets: [AtomicU64; 10],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl LatencyHistogram {
    /// Record one request.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP frontdesk_http_request_duration_seconds Time to answer an HTTP request."
        );
        let _ = writeln!(
            out,
            "# TYPE frontdesk_http_request_duration_seconds histogram"
        );
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "frontdesk_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "frontdesk_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "frontdesk_http_request_duration_seconds_sum {}",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "frontdesk_http_request_duration_seconds_count {count}");
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Everything `/metrics` shows, gathered by the caller.
pub struct Snapshot<'a> {
    /// Ticket and message totals.
    pub counts: &'a StoreCounts,
    /// Per-channel ingest.
    pub channels: &'a [(String, ChannelStats, Vec<FolderStatus>)],
    /// Outbox (queued, failed).
    pub outbox: (i64, i64),
    /// Unix seconds now.
    pub now: i64,
    /// Request latency.
    pub latency: &'a LatencyHistogram,
}

/// Render the Prometheus text exposition (pure).
pub fn render(s: &Snapshot<'_>) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    metric(
        "frontdesk_messages_ingested_total",
        "counter",
        "Messages stored, per channel.",
        s.channels
            .iter()
            .map(|(n, st, _)| {
                (
                    format!("{{channel=\"{}\"}}", label(n)),
                    st.messages.to_string(),
                )
            })
            .collect(),
    );
    metric(
        "frontdesk_duplicates_total",
        "counter",
        "Re-deliveries recognised and not stored again, per channel.",
        s.channels
            .iter()
            .map(|(n, st, _)| {
                (
                    format!("{{channel=\"{}\"}}", label(n)),
                    st.duplicates.to_string(),
                )
            })
            .collect(),
    );
    metric(
        "frontdesk_tickets_open",
        "gauge",
        "Tickets not in a closed stage.",
        vec![(String::new(), s.counts.tickets_open.to_string())],
    );
    metric(
        "frontdesk_messages",
        "gauge",
        "Messages in the store.",
        vec![(String::new(), s.counts.messages.to_string())],
    );
    metric(
        "frontdesk_outbox_queued",
        "gauge",
        "Outgoing messages waiting for delivery.",
        vec![(String::new(), s.outbox.0.to_string())],
    );
    metric(
        "frontdesk_outbox_failed",
        "gauge",
        "Outgoing messages that failed for good.",
        vec![(String::new(), s.outbox.1.to_string())],
    );
    let folders = || {
        s.channels
            .iter()
            .flat_map(|(n, _, f)| f.iter().map(move |f| (n, f)))
    };
    metric(
        "frontdesk_imap_backlog",
        "gauge",
        "Messages on the IMAP server not yet stored.",
        folders()
            .map(|(n, f)| {
                (
                    format!(
                        "{{channel=\"{}\",folder=\"{}\"}}",
                        label(n),
                        label(&f.folder)
                    ),
                    f.backlog.to_string(),
                )
            })
            .collect(),
    );
    metric(
        "frontdesk_imap_sync_lag_seconds",
        "gauge",
        "Seconds since the folder last reached the end of the mailbox (-1: never).",
        folders()
            .map(|(n, f)| {
                let lag = f.last_success.map(|t| (s.now - t).max(0)).unwrap_or(-1);
                (
                    format!(
                        "{{channel=\"{}\",folder=\"{}\"}}",
                        label(n),
                        label(&f.folder)
                    ),
                    lag.to_string(),
                )
            })
            .collect(),
    );
    metric(
        "frontdesk_imap_up",
        "gauge",
        "1 while the folder's puller is connected or syncing, else 0.",
        folders()
            .map(|(n, f)| {
                let up = matches!(f.state, SyncState::Idle | SyncState::Syncing);
                (
                    format!(
                        "{{channel=\"{}\",folder=\"{}\"}}",
                        label(n),
                        label(&f.folder)
                    ),
                    u8::from(up).to_string(),
                )
            })
            .collect(),
    );
    s.latency.render(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family() {
        let latency = LatencyHistogram::default();
        latency.observe(Duration::from_millis(3));
        latency.observe(Duration::from_millis(300));
        let counts = StoreCounts {
            tickets_open: 4,
            tickets: 5,
            messages: 9,
            contacts: 2,
        };
        let stats = ChannelStats {
            channel: "support".into(),
            messages: 9,
            duplicates: 1,
            last_message_at: None,
        };
        let folder = FolderStatus {
            folder: "IN\"BOX".into(),
            state: SyncState::BackingOff,
            idle_supported: Some(true),
            last_success: Some(100),
            last_error: None,
            last_error_at: None,
            imported: 3,
            backlog: 7,
            history: None,
            retry_at: None,
        };
        let channels = vec![("support".to_string(), stats, vec![folder])];
        let text = render(&Snapshot {
            counts: &counts,
            channels: &channels,
            outbox: (2, 1),
            now: 130,
            latency: &latency,
        });
        for line in [
            "frontdesk_messages_ingested_total{channel=\"support\"} 9",
            "frontdesk_duplicates_total{channel=\"support\"} 1",
            "frontdesk_tickets_open 4",
            "frontdesk_outbox_queued 2",
            "frontdesk_outbox_failed 1",
            "frontdesk_imap_backlog{channel=\"support\",folder=\"IN\\\"BOX\"} 7",
            "frontdesk_imap_sync_lag_seconds{channel=\"support\",folder=\"IN\\\"BOX\"} 30",
            "frontdesk_imap_up{channel=\"support\",folder=\"IN\\\"BOX\"} 0",
            "frontdesk_http_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "frontdesk_http_request_duration_seconds_bucket{le=\"+Inf\"} 2",
            "frontdesk_http_request_duration_seconds_count 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
