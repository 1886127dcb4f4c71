//! Numbered migrations, run at start-up in one transaction each.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};

use super::StoreError;

/// The migrations, in order; `PRAGMA user_version` counts how many have run.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    ("0002_imap", include_str!("migrations/0002_imap.sql")),
    (
        "0003_outbound",
        include_str!("migrations/0003_outbound.sql"),
    ),
    ("0004_routing", include_str!("migrations/0004_routing.sql")),
    ("0005_web", include_str!("migrations/0005_web.sql")),
    ("0006_fields", include_str!("migrations/0006_fields.sql")),
    (
        "0007_outbox_queue",
        include_str!("migrations/0007_outbox_queue.sql"),
    ),
    (
        "0008_inbox_indexes",
        include_str!("migrations/0008_inbox_indexes.sql"),
    ),
    (
        "0009_message_layout",
        include_str!("migrations/0009_message_layout.sql"),
    ),
    (
        "0010_activity_order",
        include_str!("migrations/0010_activity_order.sql"),
    ),
    (
        "0011_ticket_seen",
        include_str!("migrations/0011_ticket_seen.sql"),
    ),
    ("0012_snooze", include_str!("migrations/0012_snooze.sql")),
    (
        "0013_ticket_stats",
        include_str!("migrations/0013_ticket_stats.sql"),
    ),
    (
        "0014_blocked_senders",
        include_str!("migrations/0014_blocked_senders.sql"),
    ),
    ("0015_forward", include_str!("migrations/0015_forward.sql")),
    (
        "0016_outbox_message",
        include_str!("migrations/0016_outbox_message.sql"),
    ),
    (
        "0017_mentions",
        include_str!("migrations/0017_mentions.sql"),
    ),
    (
        "0018_outbox_status",
        include_str!("migrations/0018_outbox_status.sql"),
    ),
    (
        "0019_outbox_draft",
        include_str!("migrations/0019_outbox_draft.sql"),
    ),
    (
        "0020_blocked_domains",
        include_str!("migrations/0020_blocked_domains.sql"),
    ),
    (
        "0021_notifications",
        include_str!("migrations/0021_notifications.sql"),
    ),
    (
        "0022_left_out",
        include_str!("migrations/0022_left_out.sql"),
    ),
    (
        "0023_followers",
        include_str!("migrations/0023_followers.sql"),
    ),
    (
        "0024_note_edits",
        include_str!("migrations/0024_note_edits.sql"),
    ),
    (
        "0025_agent_signature",
        include_str!("migrations/0025_agent_signature.sql"),
    ),
    (
        "0026_snippets",
        include_str!("migrations/0026_snippets.sql"),
    ),
    (
        "0027_status_when_sent",
        include_str!("migrations/0027_status_when_sent.sql"),
    ),
    (
        "0028_notification_ids",
        include_str!("migrations/0028_notification_ids.sql"),
    ),
    (
        "0029_message_tickets",
        include_str!("migrations/0029_message_tickets.sql"),
    ),
    ("0030_reports", include_str!("migrations/0030_reports.sql")),
    ("0031_sla", include_str!("migrations/0031_sla.sql")),
    (
        "0032_overdue_notices",
        include_str!("migrations/0032_overdue_notices.sql"),
    ),
    ("0033_ratings", include_str!("migrations/0033_ratings.sql")),
    (
        "0034_search_words",
        include_str!("migrations/0034_search_words.sql"),
    ),
    (
        "0035_contact_domains",
        include_str!("migrations/0035_contact_domains.sql"),
    ),
    (
        "0036_saved_views",
        include_str!("migrations/0036_saved_views.sql"),
    ),
    ("0037_surveys", include_str!("migrations/0037_surveys.sql")),
    (
        "0038_auto_close",
        include_str!("migrations/0038_auto_close.sql"),
    ),
    (
        "0039_close_reminders",
        include_str!("migrations/0039_close_reminders.sql"),
    ),
    (
        "0040_search_without_rating_links",
        include_str!("migrations/0040_search_without_rating_links.sql"),
    ),
    (
        "0041_contact_notes",
        include_str!("migrations/0041_contact_notes.sql"),
    ),
    (
        "0042_ticket_fields",
        include_str!("migrations/0042_ticket_fields.sql"),
    ),
    ("0043_erasure", include_str!("migrations/0043_erasure.sql")),
    (
        "0044_two_step",
        include_str!("migrations/0044_two_step.sql"),
    ),
];

/// What an upgrade to `version` does besides its SQL, in the same transaction.
fn after_sql(conn: &Connection, version: usize) -> Result<(), StoreError> {
    if version == 40 {
        let changed = super::ratings::search_without_rating_links(conn)?;
        log::info!("search: rating links taken out of {changed} earlier replies");
    }
    Ok(())
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database to [`SCHEMA_VERSION`]; refuse a newer one untouched.
///
/// Before upgrading a database that already holds data, an online backup is written
/// beside it (`frontdesk.db.before-vN`), so a failed upgrade can be undone by hand.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if found > 0 {
        let backup = path.with_extension(format!("db.before-v{}", SCHEMA_VERSION));
        // Said first: copying a large database takes a while, and the log should say why.
        log::info!(
            "upgrading the database from schema {found} to {SCHEMA_VERSION}; copying it to {} before migrating",
            backup.display()
        );
        conn.backup(rusqlite::DatabaseName::Main, &backup, None)?;
        log::info!(
            "backed up the database to {} before migrating",
            backup.display()
        );
    }
    // Foreign keys are off while tables are rebuilt (SQLite's own recipe: dropping the
    // old table must not cascade) and checked as a whole before the commit.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let migrated = run_pending(conn, found);
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrated
}

/// All pending migrations in one transaction: a failure leaves the file as it was.
fn run_pending(conn: &mut Connection, found: i64) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        after_sql(&tx, index + 1)?;
        log::info!("database migrated to version {} ({name})", index + 1);
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        return Err(StoreError::Migration(format!(
            "a row of {table} refers to a row that is gone"
        )));
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// The server secret, created on first use and kept in `meta`.
pub fn server_secret(conn: &Connection) -> Result<Vec<u8>, StoreError> {
    let existing: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'secret'", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(secret) = existing {
        return Ok(secret);
    }
    let secret: [u8; 32] = rand::random();
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('secret', ?1)",
        [secret.to_vec()],
    )?;
    Ok(secret.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schema 32 rebuilds the notifications table: a number handed out before (even one
    /// whose notification was mailed and deleted) is never handed out again.
    #[test]
    fn rebuilt_notifications_go_on_numbering() {
        let mut conn = Connection::open_in_memory().unwrap();
        // No agents nor tickets: the notifications refer to nothing.
        conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
        for (_, sql) in &MIGRATIONS[..31] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 31).unwrap();
        let add = |conn: &Connection, reason: &str| -> rusqlite::Result<i64> {
            conn.query_row(
                "INSERT INTO notifications (user_id, ticket_id, reason, actor, created_at)
                 VALUES (1, 1, ?1, 'x', 0) RETURNING id",
                [reason],
                |r| r.get(0),
            )
        };
        for _ in 0..3 {
            add(&conn, "assigned").unwrap();
        }
        assert!(add(&conn, "overdue").is_err(), "schema 31 knows no overdue");
        conn.execute_batch("DELETE FROM notifications").unwrap();
        run_pending(&mut conn, 31).unwrap();
        assert_eq!(add(&conn, "overdue").unwrap(), 4);
        let seq: Vec<(String, i64)> = conn
            .prepare("SELECT name, seq FROM sqlite_sequence WHERE name LIKE 'notifications%'")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(seq, [("notifications".to_string(), 4)]);
    }
}
