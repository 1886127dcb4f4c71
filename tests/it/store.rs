//! The store seen from outside: a database the daemon does not understand is refused
//! untouched, with a clear message.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::harness::Daemon;
use rusqlite::OptionalExtension;

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

/// A database written by an earlier version (schema 3, before routing and sessions) is
/// backed up, migrated at start-up, and its data is still there and usable.
#[test]
fn a_database_from_an_earlier_version_is_backed_up_and_migrated() {
    let mut d = Daemon::start();
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    // Replace the database with one built by the first three migrations only.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(d.data_dir.join(format!("frontdesk.db{suffix}")));
    }
    {
        let conn = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
        for sql in [
            include_str!("../../src/store/migrations/0001_init.sql"),
            include_str!("../../src/store/migrations/0002_imap.sql"),
            include_str!("../../src/store/migrations/0003_outbound.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.execute_batch(
            "INSERT INTO meta (key, value) VALUES ('secret', x'0102030405060708');
             INSERT INTO contacts (id, email, name, created_at) VALUES (1, 'old@example.org', 'Old Customer', 1);
             INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at)
                 VALUES (1, 'from the old version', 'New', 'support', 1, 1, 1),
                        (2, 'touched later', 'New', 'support', 1, 1, 9),
                        (3, 'touched in the same second', 'New', 'support', 1, 1, 9);
             INSERT INTO messages (id, ticket_id, direction, channel, source, message_id, contact_id, from_email,
                 subject, headers, text_body, raw, thread_reason, created_at)
                 VALUES (1, 1, 'inbound', 'support', 'lmtp', 'old1@example.org', 1, 'old@example.org',
                 'from the old version', '', 'old body', CAST('Subject: from the old version' AS BLOB), 'new', 1);
             INSERT INTO search (rowid, subject, body, contact)
                 VALUES (1, 'from the old version', 'old body', 'old@example.org');
             INSERT INTO attachments (message_id, filename, content_type, inline, size, position)
                 VALUES (1, 'old.pdf', 'application/pdf', 0, 3, 1);
             INSERT INTO thread_ids (msgid, ticket_id) VALUES ('old1@example.org', 1);
             INSERT INTO ingest_keys (key, message_id) VALUES ('mid:old1@example.org', 1);
             INSERT INTO outbox (id, message_row, ticket_id, channel, kind, mail_from, recipients, status,
                 attempts, next_attempt_at, created_at, expires_at, sent_at)
                 VALUES (7, 1, 1, 'support', 'reply', 'b@example.com', '[\"old@example.org\"]', 'sent',
                 1, 1, 1, 99, 2);
             INSERT INTO users (id, email, full_name, first_name, last_name, created_at)
                 VALUES (1, 'jo@acme.test', 'Jo Old', 'Jo', 'Old', 1);
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    d.restart();
    let backup = std::fs::read_dir(&d.data_dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().contains("frontdesk.db.before-v"))
        .expect("no backup was taken before migrating");
    let version: i64 =
        rusqlite::Connection::open_with_flags(&backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
    assert_eq!(version, 3, "the backup must be the database as it was");
    // Schema 10 keeps the old order: last activity first, ties by number.
    let order = d.ticket_ids();
    assert_eq!(order, [3, 2, 1]);
    // Schema 13 counted each ticket's messages and noted the newest and who wrote it.
    assert_eq!(
        ticket_stats(&d.data_dir.join("frontdesk.db")),
        [
            (1, 1, 1, Some("inbound".to_string())),
            (2, 0, 0, None),
            (3, 0, 0, None)
        ]
    );
    let t = d.ticket(1);
    assert_eq!(t["subject"], "from the old version");
    assert_eq!(t["pipeline"], "Support", "{t:#}");
    assert_eq!(t["priority"], "medium", "{t:#}");
    // Old threads still thread: a reply to the old message joins ticket 1.
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(b"From: old@example.org\r\nSubject: Re: from the old version\r\nMessage-ID: <old2@example.org>\r\nIn-Reply-To: <old1@example.org>\r\n\r\nstill here\r\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(d.ticket(1)["messages"].as_array().unwrap().len(), 2);
    let order = d.ticket_ids();
    assert_eq!(
        order,
        [1, 3, 2],
        "the reply moves the old ticket to the top"
    );
    // Schema 9 moved the raw mail to its own table; the attachment still points at it.
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    let conn = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
    let raw: Vec<u8> = conn
        .query_row(
            "SELECT raw FROM message_raw WHERE message_id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(raw, b"Subject: from the old version");
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('messages')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!columns.iter().any(|c| c == "raw"), "{columns:?}");
    assert_eq!(columns.last().map(String::as_str), Some("headers"));
    let (file, of): (String, i64) = conn
        .query_row(
            "SELECT a.filename, m.id FROM attachments a JOIN messages m ON m.id = a.message_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((file.as_str(), of), ("old.pdf", 1));
    // Schema 15 rebuilt the outbox to take forwards: the old entry is all there.
    let entry: (i64, String, String, String, i64, Option<i64>) = conn
        .query_row(
            "SELECT message_row, kind, recipients, status, expires_at, sent_at FROM outbox WHERE id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        entry,
        (
            1,
            "reply".into(),
            "[\"old@example.org\"]".into(),
            "sent".into(),
            99,
            Some(2)
        )
    );
    conn.execute("UPDATE outbox SET kind = 'forward' WHERE id = 7", [])
        .expect("schema 15 takes forwards");
    // Schema 16 finds a message's outbox entry by its row.
    let index: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'outbox_message'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1);
    // Schema 17: no one is mentioned yet; schema 18: old entries moved no status;
    // schema 19: nor kept a draft.
    let mentions: i64 = conn
        .query_row("SELECT COUNT(*) FROM mentions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mentions, 0);
    let kept: (Option<String>, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT status_before, status_after, draft FROM outbox WHERE id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(kept, (None, None, None));
    // Schema 27: replies queued before moved their ticket then; none waits to move it.
    let movers: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE moves_when_sent IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(movers, 0);
    // Schema 20: no domain is blocked.
    let domains: i64 = conn
        .query_row("SELECT COUNT(*) FROM blocked_domains", [], |r| r.get(0))
        .unwrap();
    assert_eq!(domains, 0);
    // Schema 21: agents from before get the default notifications (not new tickets);
    // none is pending; the outbox takes a notification, which belongs to no message.
    // (Schema 23 adds following, on by default, and nobody follows anything yet.)
    let notify: (i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT notify_assigned, notify_replies, notify_mentions, notify_new, notify_followed
             FROM users WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(notify, (1, 1, 1, 0, 1));
    let followers: i64 = conn
        .query_row("SELECT COUNT(*) FROM followers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(followers, 0);
    let pending: i64 = conn
        .query_row("SELECT COUNT(*) FROM notifications", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    // Schema 28: a notification's number is never given to another, even once it was
    // mailed and deleted (open pages are told of each number once).
    let numbers: Vec<i64> = (0..2)
        .map(|_| {
            let id = conn
                .query_row(
                    "INSERT INTO notifications (user_id, ticket_id, reason, actor, created_at)
                     VALUES (1, 1, 'assigned', 'routing', 1) RETURNING id",
                    [],
                    |r| r.get(0),
                )
                .expect("schema 28 takes a notification");
            conn.execute("DELETE FROM notifications WHERE id = ?1", [id])
                .unwrap();
            id
        })
        .collect();
    assert!(numbers[1] > numbers[0], "{numbers:?}");
    // Schema 32: agents from before hear of overdue answers; nothing was told yet; the
    // rebuilt table goes on numbering after the old one's last notification.
    // Schema 33: and of their replies rated "Not good"; nothing is rated yet.
    let (overdue, bad, told): (i64, i64, Option<i64>) = conn
        .query_row(
            "SELECT u.notify_overdue, u.notify_bad_rating, t.overdue_told FROM users u, tickets t
             WHERE u.id = 1 AND t.id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((overdue, bad, told), (1, 1, None));
    let rated: i64 = conn
        .query_row("SELECT COUNT(*) FROM ratings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rated, 0);
    // Schema 34 lists the words the index held, so that half-typed ones find them;
    // the mail since ("Re: … still here") added its own.
    let words: Vec<String> = conn
        .prepare("SELECT word FROM search_words ORDER BY word")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        words,
        ["body", "example", "from", "here", "old", "org", "re", "still", "the", "version"],
        "{words:?}"
    );
    // Schema 35 finds a customer's colleagues by their domain.
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id FROM contacts
             WHERE lower(substr(email, instr(email, '@') + 1)) = 'example.org'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("contacts_domain"), "{plan}");
    // Schema 37 rebuilt the outbox for surveys: the old entry is there as it was (made
    // a forward above), the waits still follow it, and nobody was surveyed.
    let old_reply: (i64, String, String, Option<i64>) = conn
        .query_row(
            "SELECT message_row, kind, status, sent_at FROM outbox WHERE id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(old_reply, (1, "forward".into(), "sent".into(), Some(2)));
    let surveyed: i64 = conn
        .query_row("SELECT COUNT(*) FROM surveys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(surveyed, 0);
    let triggers: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'
             AND name IN ('ticket_wait_recount', 'outbox_wait_insert', 'outbox_wait_sent')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 3, "the wait triggers are back");
    // Schema 38: the look for tickets left waiting seeks them by stage and last change.
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id FROM tickets
             WHERE status = 'waiting on contact' COLLATE NOCASE AND closed = 0 AND updated_at <= 5",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("tickets_open_stage_change"), "{plan}");
    // Schema 36: nobody saved a view yet.
    let views: i64 = conn
        .query_row("SELECT COUNT(*) FROM saved_views", [], |r| r.get(0))
        .unwrap();
    assert_eq!(views, 0);
    let next: i64 = conn
        .query_row(
            "INSERT INTO notifications (user_id, ticket_id, reason, actor, created_at)
             VALUES (1, 1, 'overdue', 'olga@example.org', 1) RETURNING id",
            [],
            |r| r.get(0),
        )
        .expect("schema 32 takes an overdue answer");
    assert!(next > numbers[1], "{next} after {numbers:?}");
    conn.execute(
        "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
             next_attempt_at, created_at, expires_at, raw)
         VALUES (NULL, 1, '', 'notification', 'd@acme.test', '[]', 'cancelled', 1, 1, 1, x'00')",
        [],
    )
    .expect("schema 21 takes notifications");
    conn.execute(
        "INSERT INTO outbox (message_row, ticket_id, channel, kind, mail_from, recipients, status,
             next_attempt_at, created_at, expires_at)
         VALUES (1, 1, 'support', 'survey', 'd@acme.test', '[]', 'cancelled', 1, 1, 1)",
        [],
    )
    .expect("schema 37 takes surveys");
    // Schema 22: everyone on a ticket is offered in the Cc box, as before.
    let copied: String = conn
        .query_row(
            "SELECT dflt_value FROM pragma_table_info('ticket_participants') WHERE name = 'copied'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(copied, "1");
    // Schema 26: no snippet was written in the page yet.
    let snippets: i64 = conn
        .query_row("SELECT COUNT(*) FROM snippets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(snippets, 0);
    // Schema 25: nobody has signature lines of their own yet.
    let signature: String = conn
        .query_row("SELECT signature FROM users WHERE id = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(signature, "");
    // Schema 24: no note was ever corrected.
    let edited: i64 = conn
        .query_row("SELECT COUNT(*) FROM note_edits", [], |r| r.get(0))
        .unwrap();
    assert_eq!(edited, 0);
    // Schema 14: nobody is blocked.
    let blocked: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM contacts WHERE blocked <> 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(blocked, 0);
    let dangling: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
        .unwrap();
    assert_eq!(dangling, None);
}

/// Each ticket's (id, message_count, last_message, last_speaker) as schema 13 keeps them.
fn ticket_stats(db: &Path) -> Vec<(i64, i64, i64, Option<String>)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT id, message_count, last_message, last_speaker FROM tickets ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The same figures computed from the messages themselves.
fn ticket_stats_from_messages(db: &Path) -> Vec<(i64, i64, i64, Option<String>)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT t.id,
                    (SELECT COUNT(*) FROM messages m WHERE m.ticket_id = t.id),
                    (SELECT COALESCE(MAX(m.id), 0) FROM messages m WHERE m.ticket_id = t.id),
                    (SELECT m.direction FROM messages m WHERE m.ticket_id = t.id
                       AND m.direction <> 'note' ORDER BY m.id DESC LIMIT 1)
             FROM tickets t ORDER BY t.id",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The figures each ticket keeps about its messages (count, newest, who wrote last)
/// follow every way messages come and go: new mail, a reply in a thread, a note (which
/// is nobody's last word), and a merge that moves a thread to another ticket.
#[test]
fn ticket_figures_follow_mail_notes_and_merges() {
    let d = Daemon::start();
    let inject = |mail: &str| {
        let (code, _, err) =
            d.ctl_stdin(&["inject", "--channel", "support"], Some(mail.as_bytes()));
        assert_eq!(code, 0, "{err}");
    };
    inject("From: a@example.org\r\nSubject: first\r\nMessage-ID: <s1@example.org>\r\n\r\none\r\n");
    inject("From: b@example.org\r\nSubject: second\r\nMessage-ID: <s2@example.org>\r\n\r\ntwo\r\n");
    inject("From: a@example.org\r\nSubject: Re: first\r\nMessage-ID: <s3@example.org>\r\nIn-Reply-To: <s1@example.org>\r\n\r\nthree\r\n");
    let db = d.data_dir.join("frontdesk.db");
    let ids = d.ticket_ids();
    assert_eq!(ids.len(), 2);
    let (first, second) = (ids[0], ids[1]);
    let (code, out, err) = d.ctl(&["users", "add", "jane@acme.test", "--name", "Jane Doe"]);
    assert_eq!(code, 0, "{err}{out}");
    for (id, words) in [(first, "noted"), (second, "also noted")] {
        let (code, out, err) = d.ctl_stdin(
            &["tickets", "note", &id.to_string(), "--as", "jane@acme.test"],
            Some(words.as_bytes()),
        );
        assert_eq!(code, 0, "{err}{out}");
    }
    assert_eq!(ticket_stats(&db), ticket_stats_from_messages(&db));
    let stats = ticket_stats(&db);
    let of = |id: i64| stats.iter().find(|s| s.0 == id).cloned().unwrap();
    // Two mails and a note; the note is the newest message but not the last word.
    assert_eq!(of(first).1, 3, "{stats:?}");
    assert_eq!(of(first).3.as_deref(), Some("inbound"), "{stats:?}");
    assert_eq!(of(second).1, 2, "{stats:?}");
    let (code, out, err) = d.ctl(&[
        "tickets",
        "merge",
        &second.to_string(),
        "--into",
        &first.to_string(),
    ]);
    assert_eq!(code, 0, "{err}{out}");
    let after = ticket_stats(&db);
    assert_eq!(after, ticket_stats_from_messages(&db));
    let moved = after.iter().find(|s| s.0 == second).cloned().unwrap();
    assert_eq!((moved.1, moved.2, moved.3), (0, 0, None), "{after:?}");
    let into = after.iter().find(|s| s.0 == first).cloned().unwrap();
    assert_eq!(into.1, of(first).1 + of(second).1, "{after:?}");
}

/// The inbox and `tickets list` follow the order of last activity exactly, even for
/// tickets touched within one second (`updated_at` holds whole seconds; before schema 10
/// such ties fell back to the ticket number).
#[test]
fn tickets_are_listed_in_the_exact_order_of_their_last_activity() {
    let d = Daemon::start();
    for n in 1..=3 {
        let mail = format!(
            "From: c{n}@example.org\r\nSubject: order {n}\r\nMessage-ID: <order{n}@example.org>\r\n\r\nbody\r\n"
        );
        let (code, _, err) =
            d.ctl_stdin(&["inject", "--channel", "support"], Some(mail.as_bytes()));
        assert_eq!(code, 0, "{err}");
    }
    let ids = d.ticket_ids();
    assert_eq!(ids.len(), 3);
    let (first, second, third) = (ids[2], ids[1], ids[0]);
    // Touch the first, then the third: the untouched second ticket sinks to the bottom.
    for id in [first, third] {
        let (code, _, err) = d.ctl(&["tickets", "tag", &id.to_string(), "--add", "seen"]);
        assert_eq!(code, 0, "{err}");
    }
    let order = d.ticket_ids();
    assert_eq!(order, [third, first, second]);
    // Touching the first again brings it back above the third.
    let (code, _, err) = d.ctl(&["tickets", "priority", &first.to_string(), "high"]);
    assert_eq!(code, 0, "{err}");
    let order = d.ticket_ids();
    assert_eq!(order, [first, third, second]);
}

/// A field a channel marks hidden (web forms keep them for rules) is stored with the
/// message but never read out to an agent; the other fields are.
#[test]
fn hidden_form_fields_are_never_shown() {
    let mut d = Daemon::start();
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(b"From: form@example.org\r\nSubject: contact form\r\nMessage-ID: <form1@example.org>\r\n\r\nPlease call me\r\n"),
    );
    assert_eq!(code, 0, "{err}");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    {
        // What a web-form ingress stores (that ingress comes with its own issue).
        let conn = rusqlite::Connection::open(d.data_dir.join("frontdesk.db")).unwrap();
        let fields = r#"[{"name":"Phone","value":"+49 30 1234"},{"name":"crm_secret","value":"s3cr3t-token","hidden":true}]"#;
        let n = conn
            .execute(
                "UPDATE messages SET fields = ?1 WHERE message_id = 'form1@example.org'",
                [fields],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    d.restart();
    let t = d.ticket(1);
    let shown = t.to_string();
    assert!(
        !shown.contains("s3cr3t-token") && !shown.contains("crm_secret"),
        "a hidden field was read out: {t:#}"
    );
    assert_eq!(
        t["messages"][0]["fields"],
        serde_json::json!([["Phone", "+49 30 1234"]]),
        "{t:#}"
    );
}
