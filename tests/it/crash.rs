//! Crash test for Invariants 1 and 2: nothing acknowledged is lost, nothing is stored twice.
//!
//! A Python client (`tests/clients/lmtp_stream.py`) streams 2,000 generated messages over
//! four LMTP connections and reports every 250 as it arrives. After a seeded random number
//! of acknowledgements the daemon gets SIGKILL. It is restarted on the same data dir; every
//! acknowledged message must be there, once. The client then retries every message that
//! did not get its 250, plus 200 that did, and every one of the 2,000 must be stored
//! exactly once. Set FRONTDESK_CRASH_SEED to replay a run.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::harness::{client_script, Daemon};

const MESSAGES: usize = 2_000;
const CONNECTIONS: usize = 4;
const RESENT_ACKED: usize = 200;

/// How many times each token `CRASH-nnnnn` occurs among all stored messages, read back
/// through the control socket (`tickets list`, then `tickets show` for each ticket).
fn stored_tokens(d: &Daemon) -> BTreeMap<usize, usize> {
    let mut c = d.control();
    let list = c.data(&json!({"cmd": "tickets-list", "filter": {"limit": 1_000_000}}));
    let mut seen = BTreeMap::new();
    let mut total = 0;
    for t in list["tickets"].as_array().expect("tickets") {
        let shown = c.data(&json!({"cmd": "tickets-show", "id": t["id"]}));
        let messages = shown["messages"].as_array().expect("messages");
        assert_eq!(
            messages.len() as i64,
            t["messages"].as_i64().unwrap(),
            "ticket {} count",
            t["id"]
        );
        for m in messages {
            let subject = m["subject"].as_str().unwrap_or("");
            let at = subject
                .find("CRASH-")
                .unwrap_or_else(|| panic!("no token in {subject:?}"));
            let n: usize = subject[at + 6..at + 11].parse().expect("token number");
            *seen.entry(n).or_insert(0) += 1;
            total += 1;
        }
    }
    let counted = c.data(&json!({"cmd": "status"}))["counts"]["messages"]
        .as_i64()
        .unwrap();
    assert_eq!(
        total, counted,
        "messages reachable from tickets vs status count"
    );
    seen
}

/// The client's final `DONE {json}` summary.
struct Summary {
    acked: BTreeSet<usize>,
    refused: Vec<Value>,
    lost: Vec<usize>,
}

/// Run the stream client for `indexes` (all when empty); call `on_ack(acks so far)` after
/// each acknowledgement.
fn stream(d: &Daemon, seed: u64, indexes: &[usize], mut on_ack: impl FnMut(usize)) -> Summary {
    let (host, port) = d.lmtp.rsplit_once(':').unwrap();
    let mut child = Command::new("python3")
        .arg(client_script("lmtp_stream.py"))
        .args([
            host,
            port,
            &seed.to_string(),
            &MESSAGES.to_string(),
            &CONNECTIONS.to_string(),
            "support@example.com",
        ])
        .args(indexes.iter().map(|i| i.to_string()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run lmtp_stream.py");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acks = 0;
    let mut done = None;
    for line in stdout.lines() {
        let line = line.expect("client output");
        if line.starts_with("ACK ") {
            acks += 1;
            on_ack(acks);
        } else if let Some(json) = line.strip_prefix("DONE ") {
            done = Some(serde_json::from_str::<Value>(json).expect("summary JSON"));
        }
    }
    let status = child.wait().expect("wait for the client");
    assert!(status.success(), "lmtp_stream.py failed: {status}");
    let v = done.expect("the client printed no summary");
    Summary {
        acked: v["acked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect(),
        refused: v["refused"].as_array().unwrap().clone(),
        lost: v["lost"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_u64().unwrap() as usize)
            .collect(),
    }
}

#[test]
fn sigkill_during_a_stream_loses_nothing_acknowledged_and_stores_nothing_twice() {
    let started = Instant::now();
    let seed: u64 = std::env::var("FRONTDESK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let kill_after = rng.gen_range(200..1500);
    eprintln!(
        "crash test: FRONTDESK_CRASH_SEED={seed}, SIGKILL after {kill_after} acknowledgements"
    );

    let mut d = Daemon::start();
    let mut killed_at = None;
    let first = {
        let pid = d.pid();
        stream(&d, seed, &[], |acks| {
            if acks == kill_after && killed_at.is_none() {
                // SAFETY: kill(2) on the daemon child; it is reaped below by crash().
                unsafe { libc::kill(pid, libc::SIGKILL) };
                killed_at = Some(started.elapsed());
            }
        })
    };
    assert!(
        killed_at.is_some(),
        "the stream ended after {} acks, before the kill",
        first.acked.len()
    );
    d.crash();
    assert!(
        first.refused.is_empty(),
        "messages refused before the crash: {:?}",
        first.refused
    );
    eprintln!(
        "crash test: killed at {:?}; {} acknowledged, {} lost in flight",
        killed_at.unwrap(),
        first.acked.len(),
        first.lost.len()
    );
    assert!(first.acked.len() >= kill_after);

    // Invariant 1: after the restart every acknowledged message is there, once.
    d.restart();
    let after_crash = stored_tokens(&d);
    let missing: Vec<usize> = first
        .acked
        .iter()
        .copied()
        .filter(|i| !after_crash.contains_key(i))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged before SIGKILL but not stored: {missing:?}"
    );
    let twice: Vec<(&usize, &usize)> = after_crash.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    // Committed-but-unacknowledged messages may be there; nothing else.
    assert!(after_crash.keys().all(|i| *i < MESSAGES));

    // The MTA's retry: everything without a 250, plus 200 that had one (idempotency).
    let mut retry: Vec<usize> = (0..MESSAGES).filter(|i| !first.acked.contains(i)).collect();
    let acked: Vec<usize> = first.acked.iter().copied().collect();
    retry.extend(
        acked
            .choose_multiple(&mut rng, RESENT_ACKED.min(acked.len()))
            .copied(),
    );
    retry.sort_unstable();
    let second = stream(&d, seed, &retry, |_| {});
    assert!(
        second.refused.is_empty(),
        "refused on retry: {:?}",
        second.refused
    );
    assert!(
        second.lost.is_empty(),
        "no answer on retry: {:?}",
        second.lost
    );
    assert_eq!(
        second.acked.len(),
        retry.len(),
        "every retried message gets its 250"
    );

    // Invariant 2: every one of the 2,000 is stored exactly once.
    let end = stored_tokens(&d);
    let wrong: Vec<(usize, usize)> = (0..MESSAGES)
        .map(|i| (i, end.get(&i).copied().unwrap_or(0)))
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "messages not stored exactly once (index, times): {wrong:?}"
    );
    assert_eq!(d.counts()["messages"], MESSAGES as i64);
    let stats = &d.ctl_json(&["channels", "list"])["channels"][0]["stats"];
    assert_eq!(stats["messages"], MESSAGES as i64, "{stats}");
    assert!(
        stats["duplicates"].as_i64().unwrap() >= RESENT_ACKED.min(acked.len()) as i64,
        "{stats}"
    );
    eprintln!("crash test: done in {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(120));
}

/// SIGTERM under load: the daemon stops taking new mail, finishes what it acknowledged,
/// exits 0, and after a restart every acknowledged message is there once.
#[test]
fn sigterm_during_a_stream_exits_0_and_keeps_every_acknowledged_message() {
    let seed: u64 = rand::thread_rng().gen();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let stop_after = rng.gen_range(100..600);
    eprintln!("sigterm stream: seed {seed}, SIGTERM after {stop_after} acknowledgements");
    let mut d = Daemon::start();
    let pid = d.pid();
    let mut sent = false;
    let first = stream(&d, seed, &[], |acks| {
        if acks == stop_after && !sent {
            // SAFETY: kill(2) on the daemon child, reaped by wait_exit below.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            sent = true;
        }
    });
    assert!(sent, "the stream ended before the SIGTERM");
    let status = d.wait_exit(Duration::from_secs(40));
    assert!(status.success(), "frontdeskd exited with {status}");
    // Sessions told to go away get a temporary code, never a permanent one.
    for r in &first.refused {
        assert_eq!(
            r[1].as_i64().unwrap() / 100,
            4,
            "refused during shutdown: {r}"
        );
    }
    d.restart();
    let stored = stored_tokens(&d);
    let missing: Vec<usize> = first
        .acked
        .iter()
        .copied()
        .filter(|i| !stored.contains_key(i))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    assert!(stored.values().all(|n| *n == 1), "stored twice");
    let retry: Vec<usize> = (0..MESSAGES).filter(|i| !first.acked.contains(i)).collect();
    let second = stream(&d, seed, &retry, |_| {});
    assert!(second.refused.is_empty() && second.lost.is_empty());
    let end = stored_tokens(&d);
    assert_eq!(end.len(), MESSAGES);
    assert!(end.values().all(|n| *n == 1), "stored twice");
}
