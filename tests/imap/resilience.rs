//! The server or the daemon dies in the middle of a sync of ~1500 messages: the sync
//! finishes later with every message stored exactly once.

use std::time::{Duration, Instant};

use crate::dovecot::{Dovecot, Options, User};
use crate::*;

const BULK: usize = 1500;

fn bulk(tag: &str) -> Vec<Vec<u8>> {
    (0..BULK).map(|i| test_mail(tag, i)).collect()
}

/// Poll (fast) until some but not all of `total` messages are stored; the count then.
/// Fails when the whole sync finished first: then there was no "mid" to test.
fn wait_mid_sync(d: &crate::harness::Daemon, total: i64) -> i64 {
    wait_mid_sync_after(d, total, 50)
}

/// [`wait_mid_sync`] with at least `at_least` stored.
fn wait_mid_sync_after(d: &crate::harness::Daemon, total: i64, at_least: i64) -> i64 {
    let deadline = Instant::now() + SYNC_DEADLINE;
    loop {
        let n = stored_messages(d);
        if n >= at_least && n < total {
            return n;
        }
        assert!(
            n < total,
            "all {total} messages were stored before the test could interrupt the sync"
        );
        assert!(
            Instant::now() < deadline,
            "sync did not start: {n} stored; channel:\n{:#}",
            channel(d, "support")
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// History import of 1500 messages; Dovecot is stopped (SIGTERM to the master, which
/// drops the session) in the middle. The folder shows `backing off` with an error; after
/// Dovecot is back it reconnects by itself (no `channels sync`), shows `connected`, and
/// all 1500 are stored exactly once, the history left unseen on the server.
#[test]
fn dovecot_restart_mid_sync_loses_and_duplicates_nothing() {
    let user = "bulk@test.example";
    let mut dovecot = Dovecot::start(Options {
        users: vec![User::new(user, "secret-4")],
        ..Options::default()
    });
    dovecot.fill_maildir(user, "INBOX", &bulk("bulk"), None);
    let ch = ImapChannel::plain("support", &dovecot, user);
    let d = daemon(&[&ch]);
    let at_stop = wait_mid_sync(&d, BULK as i64);
    dovecot.stop();
    let c = wait_channel(&d, "support", "backing off", SYNC_DEADLINE, |c| {
        c["state"] == "backing off"
    });
    let f = folder0(&c);
    assert!(
        f["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "no error shown while Dovecot is down: {c:#}"
    );
    assert!(f["retry_at"].is_i64(), "no retry time: {c:#}");
    let stored_while_down = stored_messages(&d);
    assert!(
        stored_while_down < BULK as i64,
        "everything stored although Dovecot stopped after {at_stop}"
    );
    eprintln!("Dovecot stopped after {at_stop} stored; {stored_while_down} when it was down");

    dovecot.resume();
    wait_stored(&d, BULK as i64, SYNC_DEADLINE);
    let c = wait_channel(&d, "support", "connected again", SYNC_DEADLINE, caught_up);
    assert!(folder0(&c)["last_error"].is_null(), "{c:#}");
    assert_eq!(stored_messages(&d), BULK as i64);
    assert_eq!(
        dovecot.search(user, "INBOX", &["UNSEEN"]).len(),
        BULK,
        "history import touched flags"
    );
}

/// 1500 new (not history) messages arrive while frontdesk is connected; frontdeskd is
/// SIGKILLed in the middle of the batches, three times (restarting in between). At each kill every message the server shows
/// `\Seen` is already committed (Invariant 1: flags only after the commit). After a
/// restart on the same data dir all 1500 are stored exactly once and all are `\Seen`.
#[test]
fn sigkill_mid_batch_loses_and_duplicates_nothing() {
    let user = "crash@test.example";
    let dovecot = Dovecot::start(Options {
        users: vec![User::new(user, "secret-5")],
        ..Options::default()
    });
    let mut ch = ImapChannel::plain("support", &dovecot, user);
    ch.import_existing = "false".into();
    ch.after_fetch = "seen".into();
    let mut d = daemon(&[&ch]);
    wait_channel(&d, "support", "connected", SYNC_DEADLINE, caught_up);
    dovecot.fill_maildir(user, "INBOX", &bulk("crash"), None);
    // Three kills at different points of the stream of batches, each followed by a
    // restart on the same data dir.
    let mut last = 0i64;
    for round in 0..3 {
        wait_mid_sync_after(&d, BULK as i64, last + 50);
        d.crash();
        // The dead daemon's database: what was committed.
        let committed: i64 = {
            let db = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).expect("open db");
            db.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
                .expect("count messages")
        };
        let seen = dovecot.search(user, "INBOX", &["SEEN"]).len() as i64;
        eprintln!("SIGKILL {round}: {committed} committed, {seen} \\Seen on the server");
        assert!(
            committed < BULK as i64,
            "all messages were committed before SIGKILL {round}"
        );
        assert!(
            seen <= committed,
            "{seen} messages \\Seen on the server but only {committed} committed"
        );
        last = committed;
        if round < 2 {
            d.restart();
        }
    }
    d.restart();
    wait_stored(&d, BULK as i64, SYNC_DEADLINE);
    wait_channel(
        &d,
        "support",
        "caught up after restart",
        SYNC_DEADLINE,
        caught_up,
    );
    assert_eq!(stored_messages(&d), BULK as i64);
    crate::harness::wait_until("all messages \\Seen", SYNC_DEADLINE, || {
        dovecot.search(user, "INBOX", &["UNSEEN"]).is_empty()
    });
    assert_eq!(dovecot.search(user, "INBOX", &["ALL"]).len(), BULK);
}
