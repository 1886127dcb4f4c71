//! The store seen from outside: a database the daemon does not understand is refused
//! untouched, with a clear message.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::harness::Daemon;

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, SystemTime)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let modified = e.metadata().unwrap().modified().unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
                modified,
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_database_from_a_newer_version_is_refused_untouched() {
    let mut d = Daemon::start();
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(b"From: a@example.org\r\nSubject: old data\r\nMessage-ID: <old@example.org>\r\n\r\nbody\r\n"),
    );
    assert_eq!(code, 0, "{err}");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    {
        let conn = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    let before = snapshot(&d.data_dir);
    let (code, err) = d.start_refused();
    assert_ne!(code, 0, "a newer database must not be opened:\n{err}");
    assert!(
        err.contains("999") && err.contains("frontdesk.db"),
        "the message names the file and its version:\n{err}"
    );
    assert!(before == snapshot(&d.data_dir), "the data dir was touched");
}
