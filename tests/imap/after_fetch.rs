//! What frontdesk does on the server after storing a message (`after_fetch`), and which
//! existing messages it imports (`import_existing`).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::dovecot::{Dovecot, Options, User};
use crate::harness::{wait_until, Daemon};
use crate::*;

/// Message-IDs of every stored message.
fn stored_ids(d: &Daemon) -> BTreeSet<String> {
    let list = control(
        d,
        json!({"cmd": "tickets-list", "filter": {"limit": 100000}}),
    );
    let mut conn = d.control();
    let mut out = BTreeSet::new();
    for t in list["tickets"].as_array().expect("tickets") {
        let detail = conn.data(&json!({"cmd": "tickets-show", "id": t["id"]}));
        for m in detail["messages"].as_array().expect("messages") {
            if let Some(id) = m["message_id"].as_str() {
                out.insert(id.to_string());
            }
        }
    }
    out
}

/// Four accounts, one per mode, each with two history messages (import_existing = true)
/// and then two new ones. On the server: `seen` flags only the new ones; `move:Archive`
/// moves only the new ones into Archive (created as needed); `delete` expunges only the
/// new ones; `keep` leaves everything unseen in place. History is never touched.
#[test]
fn each_after_fetch_mode_does_what_it_says() {
    let modes = [
        ("seen", "seen"),
        ("move", "move:Archive"),
        ("delete", "delete"),
        ("keep", "keep"),
    ];
    let users: Vec<User> = modes
        .iter()
        .map(|(m, _)| User::new(&format!("{m}@test.example"), &format!("pw-{m}")))
        .collect();
    let dovecot = Dovecot::start(Options {
        users: users.clone(),
        ..Options::default()
    });
    let mut channels = Vec::new();
    for (mode, setting) in modes {
        let user = format!("{mode}@test.example");
        for i in 0..2 {
            dovecot.save(&user, "INBOX", &test_mail(&format!("{mode}-old"), i));
        }
        let mut ch = ImapChannel::plain(mode, &dovecot, &user);
        ch.after_fetch = setting.to_string();
        ch.import_existing = "true".into();
        channels.push(ch);
    }
    let d = daemon(&channels.iter().collect::<Vec<_>>());
    wait_stored(&d, 8, SYNC_DEADLINE);
    for (mode, _) in modes {
        wait_channel(&d, mode, "caught up", SYNC_DEADLINE, caught_up);
    }
    for (mode, _) in modes {
        let user = format!("{mode}@test.example");
        for i in 0..2 {
            dovecot.lmtp_deliver(&user, &test_mail(&format!("{mode}-new"), i));
        }
    }
    wait_stored(&d, 16, SYNC_DEADLINE);
    // `move` is checked last, on its own: a failure there must not hide the others.
    for mode in ["seen", "delete", "keep"] {
        wait_channel(&d, mode, "caught up", SYNC_DEADLINE, caught_up);
    }
    let ids = stored_ids(&d);
    for (mode, _) in modes {
        for kind in ["old", "new"] {
            for i in 0..2 {
                let id = test_mail_id(&format!("{mode}-{kind}"), i);
                assert!(ids.contains(&id), "<{id}> not stored");
            }
        }
    }

    let within = Duration::from_secs(20);
    let find = |user: &str, mailbox: &str, tag: &str, i: usize, query: &[&str]| -> usize {
        let mut q = vec!["HEADER", "Message-ID"];
        let id = test_mail_id(tag, i);
        q.push(&id);
        q.extend_from_slice(query);
        dovecot.search(user, mailbox, &q).len()
    };

    // seen
    let u = "seen@test.example";
    wait_until("new messages \\Seen (seen)", within, || {
        (0..2).all(|i| find(u, "INBOX", "seen-new", i, &["SEEN"]) == 1)
    });
    for i in 0..2 {
        assert_eq!(
            find(u, "INBOX", "seen-old", i, &["UNSEEN"]),
            1,
            "history flagged (seen)"
        );
    }
    assert_eq!(dovecot.search(u, "INBOX", &["ALL"]).len(), 4);

    // delete: expunged, not just flagged \Deleted
    let u = "delete@test.example";
    wait_until("new messages expunged (delete)", within, || {
        (0..2).all(|i| find(u, "INBOX", "delete-new", i, &["ALL"]) == 0)
    });
    for i in 0..2 {
        assert_eq!(
            find(u, "INBOX", "delete-old", i, &["UNSEEN", "UNDELETED"]),
            1,
            "history deleted or flagged (delete)"
        );
    }
    assert_eq!(dovecot.search(u, "INBOX", &["ALL"]).len(), 2);

    // keep
    let u = "keep@test.example";
    assert_eq!(
        dovecot.search(u, "INBOX", &["UNSEEN", "UNDELETED"]).len(),
        4,
        "keep changed the mailbox"
    );
    assert_eq!(dovecot.search(u, "INBOX", &["ALL"]).len(), 4);

    // move:Archive
    let u = "move@test.example";
    let deadline = std::time::Instant::now() + within;
    while !(0..2).all(|i| find(u, "Archive", "move-new", i, &["ALL"]) == 1) {
        assert!(
            std::time::Instant::now() < deadline,
            "the new messages did not reach Archive (move:Archive); channel:\n{:#}",
            channel(&d, "move")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    wait_until("new messages gone from INBOX (move)", within, || {
        (0..2).all(|i| find(u, "INBOX", "move-new", i, &["ALL"]) == 0)
    });
    for i in 0..2 {
        assert_eq!(
            find(u, "INBOX", "move-old", i, &["UNSEEN"]),
            1,
            "history moved or flagged (move)"
        );
    }
    assert_eq!(dovecot.search(u, "INBOX", &["ALL"]).len(), 2);
    assert_eq!(dovecot.search(u, "Archive", &["ALL"]).len(), 2);
}

fn at(year: i32, month: u32, day: u32) -> SystemTime {
    // Noon UTC, far from any day boundary in the server's time zone.
    let days = {
        // days from civil (Howard Hinnant's algorithm)
        let y = if month <= 2 { year - 1 } else { year } as i64;
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = month as i64;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    };
    UNIX_EPOCH + Duration::from_secs((days * 86400 + 12 * 3600) as u64)
}

/// `import_existing = false` imports none of the messages already there but every new
/// one; `"since:2023-01-01"` imports the existing messages whose INTERNALDATE is on or
/// after that day (and every new one), none from before.
#[test]
fn import_existing_false_and_since() {
    let dovecot = Dovecot::start(Options {
        users: vec![
            User::new("nohist@test.example", "pw-a"),
            User::new("since@test.example", "pw-b"),
        ],
        ..Options::default()
    });
    let old: Vec<Vec<u8>> = (0..3).map(|i| test_mail("nohist-old", i)).collect();
    dovecot.fill_maildir("nohist@test.example", "INBOX", &old, None);
    let u = "since@test.example";
    for (tag, date) in [
        ("since-2020", at(2020, 6, 1)),
        ("since-2022", at(2022, 12, 31)),
        ("since-cutoff", at(2023, 1, 1)),
        ("since-2024", at(2024, 5, 5)),
    ] {
        let msgs: Vec<Vec<u8>> = (0..2).map(|i| test_mail(tag, i)).collect();
        dovecot.fill_maildir(u, "INBOX", &msgs, Some(date));
    }
    // The server agrees on the dates (INTERNALDATE is the file time).
    assert_eq!(
        dovecot.search(u, "INBOX", &["SINCE", "1-Jan-2023"]).len(),
        4,
        "Dovecot does not see the INTERNALDATEs the test set"
    );

    let mut nohist = ImapChannel::plain("nohist", &dovecot, "nohist@test.example");
    nohist.import_existing = "false".into();
    let mut since = ImapChannel::plain("since", &dovecot, u);
    since.import_existing = "\"since:2023-01-01\"".into();
    let d = daemon(&[&nohist, &since]);
    wait_channel(&d, "nohist", "caught up", SYNC_DEADLINE, caught_up);
    wait_channel(&d, "since", "caught up", SYNC_DEADLINE, caught_up);
    wait_stored(&d, 4, SYNC_DEADLINE);

    dovecot.lmtp_deliver("nohist@test.example", &test_mail("nohist-new", 0));
    dovecot.lmtp_deliver(u, &test_mail("since-new", 0));
    wait_stored(&d, 6, SYNC_DEADLINE);
    wait_channel(&d, "nohist", "caught up", SYNC_DEADLINE, caught_up);
    wait_channel(&d, "since", "caught up", SYNC_DEADLINE, caught_up);
    assert_eq!(stored_messages(&d), 6);
    let ids = stored_ids(&d);
    let expected: BTreeSet<String> = [
        test_mail_id("since-cutoff", 0),
        test_mail_id("since-cutoff", 1),
        test_mail_id("since-2024", 0),
        test_mail_id("since-2024", 1),
        test_mail_id("nohist-new", 0),
        test_mail_id("since-new", 0),
    ]
    .into_iter()
    .collect();
    assert_eq!(ids, expected);
    // Existing mail that was not imported is left alone.
    assert_eq!(
        dovecot
            .search("nohist@test.example", "INBOX", &["UNSEEN"])
            .len(),
        3
    );
}
