//! Snippets agents keep in the page (the configuration's `[[snippet]]` tables are read
//! from the file, not stored).

use rusqlite::{params, Connection, OptionalExtension};

use super::writer::exec;
use super::StoreError;
use crate::model::unix_now;

/// A snippet written in the page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredSnippet {
    /// Its number.
    pub id: i64,
    /// What agents pick it by.
    pub name: String,
    /// The text, a template (checked before it is stored).
    pub body: String,
    /// Who last wrote it.
    pub updated_by: String,
}

/// Every stored snippet, by name.
pub(super) fn snippets(conn: &Connection) -> Result<Vec<StoredSnippet>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, body, updated_by FROM snippets ORDER BY name COLLATE NOCASE, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(StoredSnippet {
            id: r.get(0)?,
            name: r.get(1)?,
            body: r.get(2)?,
            updated_by: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Add a snippet (`id` `None`) or rewrite snippet `id`; its id. Another snippet of the
/// same name (in any case) is refused.
pub(super) fn save_snippet(
    conn: &Connection,
    id: Option<i64>,
    name: &str,
    body: &str,
    actor: &str,
) -> Result<i64, StoreError> {
    let taken: Option<i64> = conn
        .prepare_cached("SELECT id FROM snippets WHERE name = ?1 COLLATE NOCASE")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    if taken.is_some_and(|other| Some(other) != id) {
        return Err(StoreError::Invalid(format!(
            "there is already a snippet named {name:?}"
        )));
    }
    let now = unix_now();
    match id {
        None => {
            exec(
                conn,
                "INSERT INTO snippets (name, body, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, body, actor, now],
            )?;
            Ok(conn.last_insert_rowid())
        }
        Some(id) => {
            let changed = exec(
                conn,
                "UPDATE snippets SET name = ?1, body = ?2, updated_by = ?3, updated_at = ?4 WHERE id = ?5",
                params![name, body, actor, now, id],
            )?;
            if changed == 0 {
                return Err(StoreError::Invalid(format!("no snippet {id}")));
            }
            Ok(id)
        }
    }
}

/// Delete snippet `id`; its name.
pub(super) fn delete_snippet(conn: &Connection, id: i64) -> Result<String, StoreError> {
    conn.prepare_cached("DELETE FROM snippets WHERE id = ?1 RETURNING name")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Invalid(format!("no snippet {id}")))
}
