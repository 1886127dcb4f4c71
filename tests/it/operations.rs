//! Operations: `frontdeskctl backup` while the daemon writes, `check-config`, `/metrics`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::harness::{wait_until, Daemon};

fn inject(d: &Daemon, i: usize) {
    let msg = format!("From: c{i}@customer.org\r\nTo: support@example.com\r\nSubject: op {i}\r\nMessage-ID: <op{i}@customer.org>\r\n\r\nhello {i}\r\n");
    let (code, _, err) = d.ctl_stdin(&["inject", "--channel", "support"], Some(msg.as_bytes()));
    assert_eq!(code, 0, "{err}");
}

/// A backup taken during a stream of LMTP deliveries opens cleanly, passes its
/// integrity check and holds every message acknowledged before it started.
#[test]
fn backup_during_an_lmtp_stream_is_consistent_and_verified() {
    let d = Daemon::start();
    // 30 acknowledged before the backup starts (subjects "big 0".."big 29").
    let before = crate::system::lmtp_send(&d.lmtp, 0, 30, 2_000);
    assert!(before.iter().all(|r| r.1 == 250), "{before:?}");
    let lmtp = d.lmtp.clone();
    let stream = std::thread::spawn(move || crate::system::lmtp_send(&lmtp, 30, 300, 2_000));
    // Let the stream get going, so the backup runs while it writes.
    wait_until("the stream to start", Duration::from_secs(20), || {
        d.ctl_json(&["status"])["counts"]["messages"]
            .as_i64()
            .unwrap_or(0)
            > 40
    });
    let dest = d.dir.path().join("backup.db");
    let (code, out, err) = d.ctl(&["backup", dest.to_str().unwrap()]);
    let during = stream.join().unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("integrity check ok"), "{out}");
    assert!(during.iter().all(|r| r.1 == 250), "{during:?}");
    let conn =
        rusqlite::Connection::open_with_flags(&dest, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    for i in 0..30 {
        let id = format!("big{i}@customer.org");
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM messages WHERE message_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            n, 1,
            "{id} was acknowledged before the backup but is not in it"
        );
    }
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert!((30..=330).contains(&n), "backup holds {n} messages");
    // Every message in the copy is whole: it has its ticket and its key.
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM tickets t WHERE t.id = m.ticket_id)
             OR NOT EXISTS (SELECT 1 FROM ingest_keys k WHERE k.message_id = m.id)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    // An existing file is never overwritten.
    let (code, _, err) = d.ctl(&["backup", dest.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn check_config_reports_file_line_and_key() {
    let d = Daemon::start();
    let (code, out, err) = d.ctl(&["check-config", d.config_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(": OK"), "{out}");
    let bad = d.dir.path().join("bad.toml");
    std::fs::write(&bad, "[daemon]\ndata_dir = \"x\"\ncompany_name = \"A\"\n[[channel]]\nkind = \"email\"\nname = \"s\"\naddress = \"nope\"\n").unwrap();
    let (code, _, err) = d.ctl(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(code, 78);
    assert!(
        err.contains(&format!("{}:7: channel[1].address:", bad.display())),
        "{err}"
    );
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn metrics_count_what_happened() {
    let d = Daemon::start();
    for i in 0..3 {
        inject(&d, i);
    }
    inject(&d, 0); // a re-delivery
    let _ = get(&d.http, "/healthz");
    wait_until("metrics", Duration::from_secs(10), || {
        let page = get(&d.http, "/metrics");
        page.contains("frontdesk_messages_ingested_total{channel=\"support\"} 3")
    });
    let page = get(&d.http, "/metrics");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("text/plain; version=0.0.4"), "{page}");
    for line in [
        "frontdesk_duplicates_total{channel=\"support\"} 1",
        "frontdesk_tickets_open 3",
        "frontdesk_outbox_queued 0",
        "# TYPE frontdesk_http_request_duration_seconds histogram",
    ] {
        assert!(page.lines().any(|l| l == line), "missing {line:?}:\n{page}");
    }
    let count = page
        .lines()
        .find_map(|l| l.strip_prefix("frontdesk_http_request_duration_seconds_count "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(count >= 2, "{page}");

    // Only the addresses in [http] metrics_allow may read it (this host by default):
    // allow a network this client is not in, and the same request is refused.
    let text = std::fs::read_to_string(&d.config_path).unwrap();
    assert!(text.contains("[http]\n"), "{text}");
    let text = text.replace("[http]\n", "[http]\nmetrics_allow = [\"10.0.0.0/8\"]\n");
    std::fs::write(&d.config_path, text).unwrap();
    d.signal(libc::SIGHUP);
    wait_until(
        "/metrics refused after SIGHUP",
        Duration::from_secs(20),
        || get(&d.http, "/metrics").starts_with("HTTP/1.1 403"),
    );
    let page = get(&d.http, "/metrics");
    assert!(!page.contains("frontdesk_tickets_open"), "{page}");
    assert!(
        page.contains("metrics_allow"),
        "the refusal says why: {page}"
    );
    assert!(get(&d.http, "/healthz").starts_with("HTTP/1.1 200"));
}
