//! Initial import of a mailbox holding the corpus, and a UIDVALIDITY change.

use std::collections::{BTreeMap, BTreeSet};

use std::time::Duration;

use serde_json::json;

use crate::dovecot::{Dovecot, Options, User};
use crate::harness::{corpus_dir, Daemon};
use crate::*;

/// One corpus file: path, bytes, Message-ID (as frontdesk parses it), thread id.
struct CorpusFile {
    file: String,
    raw: Vec<u8>,
    message_id: Option<String>,
    thread: String,
}

fn corpus(kinds: &[&str]) -> Vec<CorpusFile> {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("corpus MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (f, k, t) = (col("file"), col("kind"), col("thread"));
    lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.len() > t && kinds.contains(&c[k]))
        .map(|c| {
            let raw = std::fs::read(dir.join(c[f])).expect("corpus file");
            let message_id = frontdesk::ingest::parse::parse(&raw)
                .unwrap_or_else(|e| panic!("{}: corpus file does not parse: {e}", c[f]))
                .message_id;
            CorpusFile {
                file: c[f].to_string(),
                raw,
                message_id,
                thread: c[t].to_string(),
            }
        })
        .collect()
}

/// How many distinct messages `files` are: one per Message-ID, else one per content.
fn distinct(files: &[&CorpusFile]) -> usize {
    let mut keys = BTreeSet::new();
    for f in files {
        match &f.message_id {
            Some(id) => keys.insert(format!("mid:{id}")),
            // Dovecot serves CRLF whatever the file had: compare without CRs.
            None => keys.insert(format!(
                "raw:{}",
                String::from_utf8_lossy(&f.raw).replace('\r', "")
            )),
        };
    }
    keys.len()
}

/// Message-ID -> live ticket, for every stored message, through the control socket.
fn ticket_of_each_message(d: &Daemon) -> BTreeMap<String, i64> {
    let list = control(
        d,
        json!({"cmd": "tickets-list", "filter": {"limit": 100000}}),
    );
    let mut conn = d.control();
    let mut out = BTreeMap::new();
    for t in list["tickets"].as_array().expect("tickets") {
        let id = t["id"].as_i64().expect("ticket id");
        let detail = conn.data(&json!({"cmd": "tickets-show", "id": id}));
        assert!(
            detail["merged_into"].is_null(),
            "tickets list shows merged #{id}"
        );
        for m in detail["messages"].as_array().expect("messages") {
            if let Some(mid) = m["message_id"].as_str() {
                if let Some(other) = out.insert(mid.to_string(), id) {
                    panic!("<{mid}> is stored in tickets #{other} and #{id}");
                }
            }
        }
    }
    out
}

/// The corpus's replies-threads in INBOX and four other kinds in a second folder, plus a
/// few second copies (same Message-ID) in the second folder: every distinct message is
/// stored exactly once, the per-folder `imported` figures add up, history stays
/// untouched on the server, and files sharing a MANIFEST thread id share one ticket
/// (and no other).
#[test]
fn corpus_import_counts_and_threads() {
    let user = "corpus@test.example";
    let dovecot = Dovecot::start(Options {
        users: vec![User::new(user, "secret-1")],
        ..Options::default()
    });
    let threads = corpus(&["replies-threads"]);
    let others = corpus(&["plain", "forwards", "autoreplies", "html"]);
    // Second copies of threaded messages, delivered into the other folder too.
    let copies: Vec<&CorpusFile> = threads
        .iter()
        .filter(|f| f.message_id.is_some())
        .step_by(10)
        .collect();
    assert!(copies.len() >= 5, "too few copies");
    dovecot.fill_maildir(
        user,
        "INBOX",
        &threads.iter().map(|f| f.raw.clone()).collect::<Vec<_>>(),
        None,
    );
    let mut other_raw: Vec<Vec<u8>> = others.iter().map(|f| f.raw.clone()).collect();
    other_raw.extend(copies.iter().map(|f| f.raw.clone()));
    dovecot.fill_maildir(user, "Other", &other_raw, None);
    let all: Vec<&CorpusFile> = threads.iter().chain(others.iter()).collect();
    let expected = distinct(&all) as i64;
    let files_in_inbox = threads.len();
    assert!(expected > 250, "corpus too small: {expected}");

    let mut ch = ImapChannel::plain("support", &dovecot, user);
    ch.folders = vec!["INBOX".into(), "Other".into()];
    ch.import_existing = "true".into();
    ch.after_fetch = "seen".into();
    let mut d = daemon(&[&ch]);
    wait_stored(&d, expected, SYNC_DEADLINE);
    let c = wait_channel(&d, "support", "caught up", SYNC_DEADLINE, caught_up);
    let imported: i64 = c["imap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["imported"].as_i64().unwrap())
        .sum();
    assert_eq!(
        imported, expected,
        "imported figures do not add up to the stored messages: {c:#}"
    );
    for f in c["imap"].as_array().unwrap() {
        assert!(f["last_success"].is_i64(), "no last_success: {f}");
        assert!(f["last_error"].is_null(), "error after import: {f}");
    }
    assert_eq!(stored_messages(&d), expected);

    // History is imported without touching the server.
    assert_eq!(
        dovecot.search(user, "INBOX", &["UNSEEN"]).len(),
        files_in_inbox,
        "history import changed flags in INBOX"
    );
    assert_eq!(
        dovecot.search(user, "Other", &["ALL"]).len(),
        other_raw.len()
    );

    // Threads per MANIFEST.tsv, within replies-threads.
    let tickets = ticket_of_each_message(&d);
    let ticket_of = |f: &CorpusFile| -> i64 {
        let mid = f
            .message_id
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no Message-ID", f.file));
        *tickets
            .get(mid)
            .unwrap_or_else(|| panic!("{} (<{mid}>) was not stored", f.file))
    };
    let mut problems = Vec::new();
    let threaded: Vec<&CorpusFile> = threads.iter().filter(|f| f.message_id.is_some()).collect();
    for a in &threaded {
        for b in &threaded {
            if a.file >= b.file {
                continue;
            }
            let same_thread =
                (a.thread != "-" && a.thread == b.thread) || a.message_id == b.message_id;
            let (ta, tb) = (ticket_of(a), ticket_of(b));
            if same_thread && ta != tb {
                problems.push(format!(
                    "{} and {} are thread {} but in tickets #{ta} and #{tb}",
                    a.file, b.file, a.thread
                ));
            }
            if !same_thread && ta == tb {
                problems.push(format!(
                    "{} ({}) and {} ({}) share ticket #{ta}",
                    a.file, a.thread, b.file, b.thread
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} threading problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    let groups: BTreeSet<&str> = threads
        .iter()
        .filter(|f| f.thread != "-")
        .map(|f| f.thread.as_str())
        .collect();
    assert!(groups.len() >= 20, "only {} thread groups", groups.len());

    // A restart on the same data dir fetches nothing again.
    d.crash();
    d.restart();
    wait_channel(
        &d,
        "support",
        "caught up after restart",
        SYNC_DEADLINE,
        caught_up,
    );
    assert_eq!(
        stored_messages(&d),
        expected,
        "restart stored messages again"
    );
}

fn uidvalidity_fixture(user: &str, folder: &str) -> (Dovecot, Vec<Vec<u8>>) {
    let dovecot = Dovecot::start(Options {
        users: vec![User::new(user, "secret-2")],
        ..Options::default()
    });
    let mut messages: Vec<Vec<u8>> = (0..12).map(|i| test_mail("uv", i)).collect();
    // No Message-ID: only the content hash can tell it is the same message.
    messages.push(
        b"From: nomid@test.example\r\nTo: support@example.com\r\nSubject: no id here\r\n\
          Date: Wed, 5 Mar 2025 09:00:00 +0000\r\n\r\nA message without a Message-ID.\r\n"
            .to_vec(),
    );
    dovecot.doveadm(&["mailbox", "create", "-u", user, folder]);
    for m in &messages {
        dovecot.save(user, folder, m);
    }
    (dovecot, messages)
}

/// Delete and recreate `folder` with the same `messages` plus one new one; asserts that
/// the UIDVALIDITY really changed.
fn recreate(dovecot: &Dovecot, user: &str, folder: &str, messages: &[Vec<u8>]) {
    let before = dovecot.status(user, folder, "uidvalidity");
    dovecot.doveadm(&["mailbox", "delete", "-u", user, folder]);
    dovecot.doveadm(&["mailbox", "create", "-u", user, folder]);
    for m in messages {
        dovecot.save(user, folder, m);
    }
    let after = dovecot.status(user, folder, "uidvalidity");
    assert_ne!(before, after, "the recreated folder kept its UIDVALIDITY");
    dovecot.save(user, folder, &test_mail("uv-new", 1));
}

/// The folder is deleted and recreated with the same messages (a new UIDVALIDITY) while
/// frontdesk is down: on restart nothing is stored twice (Message-ID and content-hash
/// keys), and a genuinely new message in the recreated folder is imported.
#[test]
fn uidvalidity_change_while_stopped_rescans_without_duplicates() {
    let (user, folder) = ("uv@test.example", "Support");
    let (dovecot, messages) = uidvalidity_fixture(user, folder);
    let n = messages.len() as i64;
    let mut ch = ImapChannel::plain("support", &dovecot, user);
    ch.folders = vec![folder.into()];
    ch.after_fetch = "keep".into();
    let mut d = daemon(&[&ch]);
    wait_stored(&d, n, SYNC_DEADLINE);
    wait_channel(&d, "support", "caught up", SYNC_DEADLINE, caught_up);
    d.crash();
    recreate(&dovecot, user, folder, &messages);
    d.restart();
    wait_stored(&d, n + 1, SYNC_DEADLINE);
    d.wait_for_log("UIDVALIDITY changed", SYNC_DEADLINE);
    wait_channel(&d, "support", "caught up", SYNC_DEADLINE, caught_up);
    assert_eq!(stored_messages(&d), n + 1, "messages stored twice");
    assert!(ticket_of_each_message(&d).contains_key(&test_mail_id("uv-new", 1)));
}

/// The same while frontdesk sits in IDLE on the folder. Dovecot answers the stale
/// session with untagged `* NO Internal error` from then on; the puller must give that
/// session up and reconnect (seeing the new UIDVALIDITY), not loop on it.
#[test]
fn uidvalidity_change_while_idle_rescans_without_duplicates() {
    let (user, folder) = ("uv@test.example", "Support");
    let (dovecot, messages) = uidvalidity_fixture(user, folder);
    let n = messages.len() as i64;
    let mut ch = ImapChannel::plain("support", &dovecot, user);
    ch.folders = vec![folder.into()];
    ch.after_fetch = "keep".into();
    let d = daemon(&[&ch]);
    wait_stored(&d, n, SYNC_DEADLINE);
    wait_channel(&d, "support", "caught up", SYNC_DEADLINE, caught_up);
    recreate(&dovecot, user, folder, &messages);
    wait_stored(&d, n + 1, Duration::from_secs(20));
    d.wait_for_log("UIDVALIDITY changed", SYNC_DEADLINE);
    wait_channel(&d, "support", "caught up", SYNC_DEADLINE, caught_up);
    // One more round trip: a forced sync finds nothing new either.
    control(&d, json!({"cmd": "channels-sync", "name": "support"}));
    wait_channel(&d, "support", "caught up", SYNC_DEADLINE, caught_up);
    assert_eq!(stored_messages(&d), n + 1, "messages stored twice");
}
