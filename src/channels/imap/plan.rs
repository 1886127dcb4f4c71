//! Pure helpers for the IMAP sync: UID sets, batches, backoff, dates.

use std::time::Duration;

/// Most messages fetched in one `UID FETCH`.
pub const MAX_BATCH_MESSAGES: usize = 50;
/// Most bytes fetched in one `UID FETCH` (one larger message still goes alone).
pub const MAX_BATCH_BYTES: u64 = 8 * 1024 * 1024;

/// `1:3,7,9:10` from sorted UIDs.
pub fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// Split (uid, size) pairs, in UID order, into fetch batches bounded in count and bytes.
pub fn batches(mut messages: Vec<(u32, u64)>, max_count: usize, max_bytes: u64) -> Vec<Vec<u32>> {
    messages.sort_unstable();
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    let mut bytes = 0u64;
    for (uid, size) in messages {
        if !current.is_empty() && (current.len() >= max_count || bytes + size > max_bytes) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(uid);
        bytes += size;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Delay before reconnect attempt `attempt` (0-based): 2 s doubling to 5 min, with
/// ±25 % jitter from `jitter` in [0, 1) so many accounts do not retry in step.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 2f64 * 2f64.powi(attempt.min(16) as i32);
    let capped = base.min(300.0);
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64(capped * factor)
}

/// An IMAP SEARCH date (`1-Feb-2024`).
pub fn imap_date(year: i32, month: u8, day: u8) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS[(month.clamp(1, 12) - 1) as usize];
    format!("{day}-{m}-{year}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn batches_bound_count_and_bytes() {
        let msgs = vec![(3, 10), (1, 10), (2, 10), (4, 100), (5, 1)];
        assert_eq!(
            batches(msgs.clone(), 2, 1000),
            vec![vec![1, 2], vec![3, 4], vec![5]]
        );
        assert_eq!(batches(msgs, 10, 50), vec![vec![1, 2, 3], vec![4], vec![5]]);
        assert!(batches(vec![], 10, 10).is_empty());
    }

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0, 0.5), Duration::from_secs(2));
        assert_eq!(backoff(3, 0.5), Duration::from_secs(16));
        assert_eq!(backoff(30, 0.5), Duration::from_secs(300));
        assert!(backoff(0, 0.0) < backoff(0, 0.99));
    }

    #[test]
    fn dates() {
        assert_eq!(imap_date(2024, 2, 1), "1-Feb-2024");
    }
}
