//! Agents: names derived from the full name, duplicates refused, passwords from stdin
//! stored as Argon2id (read back with rusqlite, read-only), deactivation keeps history
//! and stops new tickets.

use rusqlite::{Connection, OpenFlags};

use crate::harness::Daemon;
use crate::{add_user, deliver, enable, ok, refused, start, ticket_by_subject, user, Delivery};

const BASE: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

const ROUTED: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"

[channel.routing]
mode = "users_and_teams"
users = ["alice@example.com", "bob@example.com"]
"#;

/// users.password_hash, read from the database file read-only.
fn password_hash(d: &Daemon, email: &str) -> Option<String> {
    let db = d.data_dir.join("frontdesk.db");
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", db.display()));
    conn.query_row(
        "SELECT password_hash FROM users WHERE email = ?1",
        [email],
        |r| r.get(0),
    )
    .unwrap_or_else(|e| panic!("no users row for {email}: {e}"))
}

#[test]
fn names_flags_and_duplicates() {
    let d = start(BASE);
    ok(
        &d,
        &[
            "users",
            "add",
            "Mary@Example.com",
            "--name",
            "Mary Ann Smith",
            "--admin",
            "--seat",
        ],
    );
    add_user(&d, "cher@example.com", "Cher", false);
    ok(
        &d,
        &[
            "users",
            "add",
            "vdb@example.com",
            "--name",
            "Ludwig van Beethoven",
            "--first-name",
            "Ludwig",
            "--last-name",
            "van Beethoven",
        ],
    );

    let mary = user(&d, "mary@example.com");
    assert_eq!(mary["full_name"], "Mary Ann Smith");
    assert_eq!(mary["first_name"], "Mary Ann");
    assert_eq!(mary["last_name"], "Smith");
    assert_eq!(mary["admin"], true);
    assert_eq!(mary["seat"], true);
    assert_eq!(mary["active"], true);
    assert_eq!(mary["available"], true);
    let cher = user(&d, "cher@example.com");
    assert_eq!(
        (cher["first_name"].as_str(), cher["last_name"].as_str()),
        (Some("Cher"), Some(""))
    );
    assert_eq!(cher["seat"], false);
    assert_eq!(cher["admin"], false);
    let vdb = user(&d, "vdb@example.com");
    assert_eq!(vdb["first_name"], "Ludwig");
    assert_eq!(vdb["last_name"], "van Beethoven");

    // Duplicates, in any case, are refused and change nothing.
    let before = d.ctl_json(&["users", "list"]);
    let (_, err) = refused(
        &d,
        &["users", "add", "MARY@example.com", "--name", "Other Mary"],
    );
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(before, d.ctl_json(&["users", "list"]));
    let (_, err) = refused(&d, &["users", "add", "not-an-address", "--name", "X"]);
    assert!(err.contains("not a valid address"), "{err}");
    let (_, err) = refused(&d, &["users", "add", "blank@example.com", "--name", "  "]);
    assert!(err.contains("--name"), "{err}");
    assert_eq!(before, d.ctl_json(&["users", "list"]));

    // users set: a new name derives first and last again; seat and availability.
    ok(
        &d,
        &[
            "users",
            "set",
            "mary@example.com",
            "--name",
            "Mary Jones",
            "--seat",
            "off",
            "--available",
            "off",
        ],
    );
    let mary = user(&d, "mary@example.com");
    assert_eq!(mary["full_name"], "Mary Jones");
    assert_eq!(mary["first_name"], "Mary");
    assert_eq!(mary["last_name"], "Jones");
    assert_eq!(mary["seat"], false);
    assert_eq!(mary["available"], false);
    let (_, err) = refused(&d, &["users", "set", "mary@example.com", "--seat", "maybe"]);
    assert!(err.contains("on or off"), "{err}");

    // The human listing shows them too.
    let out = ok(&d, &["users", "list"]);
    assert!(
        out.contains("mary@example.com") && out.contains("Mary Jones"),
        "{out}"
    );
}

#[test]
fn passwords_come_from_stdin_and_are_stored_as_argon2id() {
    let d = start(BASE);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    assert_eq!(password_hash(&d, "alice@example.com"), None);

    let secret = "correct horse battery staple";
    let (code, out, err) = d.ctl_stdin(
        &["users", "passwd", "alice@example.com"],
        Some(format!("{secret}\n").as_bytes()),
    );
    assert_eq!(code, 0, "passwd failed: {err}\n{out}");
    assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
    let hash = password_hash(&d, "alice@example.com").expect("a hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(secret));
    assert!(
        !d.log().contains(secret),
        "the password is in the daemon log"
    );

    // Too short: refused, the hash stays.
    let (code, _, err) = d.ctl_stdin(&["users", "passwd", "alice@example.com"], Some(b"short\n"));
    assert_ne!(code, 0);
    assert!(err.contains("at least 8"), "{err}");
    assert_eq!(
        password_hash(&d, "alice@example.com").as_deref(),
        Some(hash.as_str())
    );

    // An unknown user: refused.
    let (code, _, err) = d.ctl_stdin(
        &["users", "passwd", "ghost@example.com"],
        Some(b"long enough password\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("no user ghost@example.com"), "{err}");

    // A new password gets a new salt.
    let (code, _, err) = d.ctl_stdin(
        &["users", "passwd", "alice@example.com"],
        Some(format!("{secret}\n").as_bytes()),
    );
    assert_eq!(code, 0, "{err}");
    let again = password_hash(&d, "alice@example.com").unwrap();
    assert!(again.starts_with("$argon2id$"));
    assert_ne!(again, hash, "same salt twice");
}

#[test]
fn deactivated_agents_keep_their_tickets_and_get_no_new_ones() {
    let d = start(BASE);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    add_user(&d, "bob@example.com", "Bob Baker", true);
    enable(&d, ROUTED);
    deliver(
        &d,
        &[
            Delivery::new("c1@customer.org", "support@example.com", "One", "one@c"),
            Delivery::new("c2@customer.org", "support@example.com", "Two", "two@c"),
        ],
    );
    assert_eq!(ticket_by_subject(&d, "One")["owner"], "alice@example.com");
    assert_eq!(ticket_by_subject(&d, "Two")["owner"], "bob@example.com");
    let history = ticket_by_subject(&d, "One");

    ok(&d, &["users", "deactivate", "alice@example.com"]);
    let alice = user(&d, "alice@example.com");
    assert_eq!(alice["active"], false);
    assert_eq!(alice["available"], false);

    // Her ticket and its history are untouched.
    let after = ticket_by_subject(&d, "One");
    assert_eq!(after["owner"], "alice@example.com");
    assert_eq!(after["events"], history["events"]);

    // New tickets go to bob only.
    deliver(
        &d,
        &(3..9)
            .map(|i| {
                Delivery::new(
                    &format!("c{i}@customer.org"),
                    "support@example.com",
                    &format!("Later {i}"),
                    &format!("later{i}@c"),
                )
            })
            .collect::<Vec<_>>(),
    );
    for i in 3..9 {
        assert_eq!(
            ticket_by_subject(&d, &format!("Later {i}"))["owner"],
            "bob@example.com",
            "ticket {i}"
        );
    }
    // Turning her "available" back on does not bring a deactivated agent back.
    ok(
        &d,
        &["users", "set", "alice@example.com", "--available", "on"],
    );
    deliver(
        &d,
        &[Delivery::new(
            "c9@customer.org",
            "support@example.com",
            "Later 9",
            "later9@c",
        )],
    );
    assert_eq!(ticket_by_subject(&d, "Later 9")["owner"], "bob@example.com");

    // She cannot be assigned nor reply.
    let id = after["id"].to_string();
    let (_, err) = refused(&d, &["tickets", "assign", &id, "alice@example.com"]);
    assert!(err.contains("deactivated"), "{err}");
    let (code, _, err) = d.ctl_stdin(
        &["tickets", "reply", &id, "--as", "alice@example.com"],
        Some(b"hello\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("no active agent"), "{err}");
}
