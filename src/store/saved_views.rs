//! Inbox views agents save under a name (a view with its filters, kept as its link).

use rusqlite::{params, Connection, OptionalExtension};

use super::writer::exec;
use super::StoreError;
use crate::model::unix_now;

/// A view an agent saved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedView {
    /// Its number.
    pub id: i64,
    /// What the agent called it.
    pub name: String,
    /// The inbox link it opens (`/inbox?view=…`).
    pub link: String,
}

/// The views `email` saved, by name.
pub(super) fn saved_views(conn: &Connection, email: &str) -> Result<Vec<SavedView>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, v.name, v.link FROM saved_views v JOIN users u ON u.id = v.user_id
         WHERE u.email = ?1 ORDER BY v.name COLLATE NOCASE, v.id",
    )?;
    let rows = stmt.query_map([email], |r| {
        Ok(SavedView {
            id: r.get(0)?,
            name: r.get(1)?,
            link: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `email` saves `link` as `name`, in place of a view of theirs of that name.
pub(super) fn save_view(
    conn: &Connection,
    email: &str,
    name: &str,
    link: &str,
) -> Result<(), StoreError> {
    let saved = exec(
        conn,
        "INSERT INTO saved_views (user_id, name, link, created_at)
         SELECT id, ?2, ?3, ?4 FROM users WHERE email = ?1
         ON CONFLICT (user_id, name) DO UPDATE SET link = excluded.link",
        params![email, name, link, unix_now()],
    )?;
    if saved == 0 {
        return Err(StoreError::Invalid(format!("no agent {email}")));
    }
    Ok(())
}

/// `email` deletes their view `id`; its name.
pub(super) fn delete_view(conn: &Connection, email: &str, id: i64) -> Result<String, StoreError> {
    let name: Option<String> = conn
        .prepare_cached(
            "DELETE FROM saved_views WHERE id = ?1
               AND user_id = (SELECT id FROM users WHERE email = ?2) RETURNING name",
        )?
        .query_row(params![id, email], |r| r.get(0))
        .optional()?;
    name.ok_or_else(|| StoreError::Invalid(format!("you have no saved view {id}")))
}
