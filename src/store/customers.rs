//! The customers directory: who writes to the desk, latest first, found by name,
//! address or domain; and one customer's page with all of their tickets.

use rusqlite::{params, Connection, OptionalExtension};

use super::views::{ContactNote, OtherTicket};
use super::writer::exec;
use super::StoreError;
use crate::desk::contact_import::{owner_of, ImportCounts, ImportRow};
use crate::ingest::UNKNOWN_SENDER;

/// Customers on one page of the directory.
pub const CUSTOMERS_PAGE: usize = 50;

/// Tickets a customer's page lists before linking to the inbox for the rest.
pub const CUSTOMER_TICKETS: usize = 50;

/// Colleagues a customer's page lists before linking to the search for the rest.
pub const COLLEAGUES: usize = 10;

/// Where a page of the directory starts: after the row with this key (for the whole
/// directory, a customer's latest ticket's place in the desk's order of activity and
/// its number; for a search, that place, or -1 without tickets, and the customer's
/// number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerCursor(pub i64, pub i64);

impl CustomerCursor {
    /// The cursor as the page's `after` parameter writes it (`1700000000.42`).
    pub fn to_param(self) -> String {
        format!("{}.{}", self.0, self.1)
    }

    /// A cursor read from the page's `after` parameter; `None` when it is not one.
    pub fn parse(param: &str) -> Option<Self> {
        let (a, b) = param.split_once('.')?;
        Some(CustomerCursor(a.parse().ok()?, b.parse().ok()?))
    }
}

/// One row of the customers directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CustomerRow {
    /// Contact number (the page's `/customers/<id>`).
    pub id: i64,
    /// Address.
    pub email: String,
    /// Name, when known.
    pub name: Option<String>,
    /// The agent who owns the customer.
    pub owner: Option<String>,
    /// An agent marked their mail as spam.
    pub blocked: bool,
    /// Their tickets still open (merged ones left out).
    pub open: i64,
    /// All their tickets (merged ones left out).
    pub tickets: i64,
    /// When one of their tickets last moved (unix seconds); none without tickets.
    pub last_activity: Option<i64>,
}

/// One page of the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerList {
    /// The customers, latest activity first.
    pub rows: Vec<CustomerRow>,
    /// Where the next page starts, when there is one.
    pub next: Option<CustomerCursor>,
}

/// One of a customer's tickets on their page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerTicket {
    /// Ticket number.
    pub id: i64,
    /// Subject.
    pub subject: String,
    /// Status (pipeline stage).
    pub status: String,
    /// Channel name.
    pub channel: String,
    /// Owning agent.
    pub owner: Option<String>,
    /// Whether it is closed.
    pub closed: bool,
    /// When it last moved (unix seconds).
    pub updated: i64,
}

/// A customer's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDetail {
    /// The directory's row for them (counts, owner, blocked).
    pub row: CustomerRow,
    /// What agents noted about them.
    pub note: ContactNote,
    /// Their whole domain is blocked as spam (this domain).
    pub blocked_domain: Option<String>,
    /// When the desk first heard of them (unix seconds).
    pub since: i64,
    /// Their tickets, latest activity first, at most [`CUSTOMER_TICKETS`].
    pub tickets: Vec<CustomerTicket>,
    /// Others' tickets they were copied on (or forwarded), latest first, a few.
    pub copied_on: Vec<OtherTicket>,
    /// Other customers of their company's domain, when it is a company's, latest
    /// first, at most [`COLLEAGUES`].
    pub colleagues: Vec<CustomerRow>,
    /// Their company has more people than are listed.
    pub colleagues_more: bool,
}

/// How a directory row is read (`c` is the contact). The counts go along the contact's
/// own index: left to itself, SQLite counts a customer's open tickets along the index
/// of every open ticket, a second on a big desk.
macro_rules! row_columns {
    () => {
        "c.id, c.email, c.name, c.owner, c.blocked,
         (SELECT count(*) FROM tickets o INDEXED BY tickets_contact_activity
          WHERE o.contact_id = c.id AND o.merged_into IS NULL AND o.closed = 0),
         (SELECT count(*) FROM tickets o INDEXED BY tickets_contact_activity
          WHERE o.contact_id = c.id AND o.merged_into IS NULL)"
    };
}

fn customer_row(r: &rusqlite::Row<'_>, last: Option<i64>) -> rusqlite::Result<CustomerRow> {
    Ok(CustomerRow {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        owner: r.get(3)?,
        blocked: r.get(4)?,
        open: r.get(5)?,
        tickets: r.get(6)?,
        last_activity: last,
    })
}

/// A page of the directory: every customer with a ticket, the one whose ticket moved
/// last first; with `search`, every contact whose name or address holds it (`@acme.test`:
/// whose address is at that domain), also those only ever copied on mail; with `owner`,
/// only the contacts that agent owns (with or without a ticket).
pub(super) fn customers(
    conn: &Connection,
    search: Option<&str>,
    owner: Option<&str>,
    after: Option<CustomerCursor>,
) -> Result<CustomerList, StoreError> {
    let search = search.map(str::trim).filter(|s| !s.is_empty());
    let mut rows = match (search, owner) {
        (None, None) => latest_customers(conn, after)?,
        _ => matching_customers(conn, (search, owner), after)?,
    };
    let next = (rows.len() > CUSTOMERS_PAGE).then(|| rows[CUSTOMERS_PAGE - 1].1);
    rows.truncate(CUSTOMERS_PAGE);
    Ok(CustomerList {
        rows: rows.into_iter().map(|(row, _)| row).collect(),
        next,
    })
}

/// The directory without a search: a walk down the tickets by activity that keeps each
/// ticket which is its customer's latest, so each customer comes once, where their
/// latest ticket is, and a page costs about as many steps as it has rows.
fn latest_customers(
    conn: &Connection,
    after: Option<CustomerCursor>,
) -> Result<Vec<(CustomerRow, CustomerCursor)>, StoreError> {
    let (at, ticket) = after.map_or((i64::MAX, i64::MAX), |c| (c.0, c.1));
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        row_columns!(),
        ", t.activity, t.id, t.updated_at
         FROM tickets t INDEXED BY tickets_activity JOIN contacts c ON c.id = t.contact_id
         WHERE t.activity <= ?1 AND (t.activity < ?1 OR t.id < ?2)
           AND t.merged_into IS NULL AND c.email <> ?3
           AND NOT EXISTS (SELECT 1 FROM tickets u INDEXED BY tickets_contact_activity
                           WHERE u.contact_id = t.contact_id AND u.activity >= t.activity
                             AND u.merged_into IS NULL
                             AND (u.activity > t.activity OR u.id > t.id))
         ORDER BY t.activity DESC, t.id DESC
         LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![at, ticket, UNKNOWN_SENDER, CUSTOMERS_PAGE as i64 + 1],
        |r| {
            Ok((
                customer_row(r, Some(r.get(9)?))?,
                CustomerCursor(r.get(7)?, r.get(8)?),
            ))
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Register `fd_lower(text)` on `conn`: lower case in every script, as the search box's
/// words are lowered (SQLite's own `lower` folds only ASCII letters). NULL stays NULL.
pub(super) fn register_lower(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "fd_lower",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            Ok(ctx
                .get::<Option<String>>(0)?
                .map(|text| text.to_lowercase()))
        },
    )
}

/// The contacts a search finds (`words`), or an agent owns (`owner`), or both, latest
/// activity first (those without a ticket last).
fn matching_customers(
    conn: &Connection,
    (words, owner): (Option<&str>, Option<&str>),
    after: Option<CustomerCursor>,
) -> Result<Vec<(CustomerRow, CustomerCursor)>, StoreError> {
    let (last, id) = after.map_or((i64::MAX, i64::MAX), |c| (c.0, c.1));
    let words = words.unwrap_or("").to_lowercase();
    // "@acme.test" alone: the company's people, along the domain index.
    let domain = words
        .strip_prefix('@')
        .filter(|d| !d.is_empty() && !d.contains(char::is_whitespace));
    let matching = if domain.is_some() {
        "c.id IN (SELECT id FROM contacts INDEXED BY contacts_domain
                  WHERE lower(substr(email, instr(email, '@') + 1)) = ?1)"
    } else if words.is_empty() && owner.is_some() {
        // "Only mine" alone: the agent's customers, along the owner index.
        "c.id IN (SELECT id FROM contacts INDEXED BY contacts_owner WHERE owner = ?6)"
    } else if words.is_ascii() {
        "(?1 = '' OR instr(lower(c.email), ?1) > 0 OR instr(lower(coalesce(c.name, '')), ?1) > 0)"
    } else {
        // SQLite's lower() folds only ASCII: "åsa" must find "Åsa" too.
        "(instr(fd_lower(c.email), ?1) > 0 OR instr(fd_lower(coalesce(c.name, '')), ?1) > 0)"
    };
    let sql = format!(
        "SELECT * FROM (SELECT {columns},
             coalesce((SELECT max(o.activity) FROM tickets o INDEXED BY tickets_contact_activity
                       WHERE o.contact_id = c.id AND o.merged_into IS NULL), -1) AS last,
             (SELECT o.updated_at FROM tickets o INDEXED BY tickets_contact_activity
              WHERE o.contact_id = c.id AND o.merged_into IS NULL
              ORDER BY o.activity DESC LIMIT 1) AS moved
           FROM contacts c WHERE {matching} AND c.email <> ?2 AND (?6 IS NULL OR c.owner = ?6))
         WHERE last < ?3 OR (last = ?3 AND id < ?4)
         ORDER BY last DESC, id DESC LIMIT ?5",
        columns = row_columns!(),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            domain.unwrap_or(&words),
            UNKNOWN_SENDER,
            last,
            id,
            CUSTOMERS_PAGE as i64 + 1,
            owner
        ],
        |r| {
            let last: i64 = r.get(7)?;
            let row = customer_row(r, r.get(8)?)?;
            let cursor = CustomerCursor(last, row.id);
            Ok((row, cursor))
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Customer `id`'s page. `own` are the desk's addresses: the people of the customer's
/// company domain are listed, not those of a mail service or of the desk itself.
pub(super) fn customer(
    conn: &Connection,
    id: i64,
    own: &[String],
) -> Result<Option<CustomerDetail>, StoreError> {
    let sql = concat!(
        "SELECT ",
        row_columns!(),
        ", (SELECT o.updated_at FROM tickets o INDEXED BY tickets_contact_activity
            WHERE o.contact_id = c.id AND o.merged_into IS NULL ORDER BY o.activity DESC LIMIT 1),
           c.note, c.note_by, c.note_at, c.created_at,
           (SELECT d.domain FROM blocked_domains d
            WHERE substr(c.email, instr(c.email, '@') + 1) = d.domain
               OR substr(c.email, -length(d.domain) - 1) = '.' || d.domain LIMIT 1)
         FROM contacts c WHERE c.id = ?1 AND c.email <> ?2"
    );
    let head = conn
        .prepare_cached(sql)?
        .query_row(params![id, UNKNOWN_SENDER], |r| {
            Ok((
                customer_row(r, r.get(7)?)?,
                ContactNote {
                    text: r.get(8)?,
                    by: r.get(9)?,
                    at: r.get(10)?,
                },
                r.get::<_, i64>(11)?,
                r.get::<_, Option<String>>(12)?,
            ))
        })
        .optional()?;
    let Some((row, note, since, blocked_domain)) = head else {
        return Ok(None);
    };
    let tickets = conn
        .prepare_cached(
            "SELECT id, subject, status, channel, owner, closed, updated_at
             FROM tickets INDEXED BY tickets_contact_activity
             WHERE contact_id = ?1 AND merged_into IS NULL
             ORDER BY activity DESC, id DESC LIMIT ?2",
        )?
        .query_map(params![id, CUSTOMER_TICKETS as i64], |r| {
            Ok(CustomerTicket {
                id: r.get(0)?,
                subject: r.get(1)?,
                status: r.get(2)?,
                channel: r.get(3)?,
                owner: r.get(4)?,
                closed: r.get(5)?,
                updated: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let copied_on = conn
        .prepare_cached(
            "SELECT t.id, t.subject, t.status FROM ticket_participants p
             JOIN tickets t ON t.id = p.ticket_id
             WHERE p.contact_id = ?1 AND t.contact_id <> ?1 AND t.merged_into IS NULL
             ORDER BY t.activity DESC LIMIT 10",
        )?
        .query_map([id], super::read::other_ticket)?
        .collect::<Result<Vec<_>, _>>()?;
    let company = crate::desk::spam::company_domain(&row.email, own);
    let (colleagues, colleagues_more) = match company {
        Some(domain) if domain_people(conn, &domain)? <= super::read::COMPANY_CONTACTS => {
            let company = format!("@{domain}");
            let mut found = matching_customers(conn, (Some(&company), None), None)?;
            found.retain(|(c, _)| c.id != id);
            let more = found.len() > COLLEAGUES;
            found.truncate(COLLEAGUES);
            (found.into_iter().map(|(c, _)| c).collect(), more)
        }
        // More than a company's worth write from it: a mail provider's strangers.
        _ => (Vec::new(), false),
    };
    Ok(Some(CustomerDetail {
        row,
        note,
        blocked_domain,
        since,
        tickets,
        copied_on,
        colleagues,
        colleagues_more,
    }))
}

/// The address of customer `id` (none for the stand-in of an unknown sender).
pub(super) fn customer_email(conn: &Connection, id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT email FROM contacts WHERE id = ?1 AND email <> ?2")?
        .query_row(params![id, UNKNOWN_SENDER], |r| r.get(0))
        .optional()?)
}

/// What an import does to one customer.
enum Planned {
    Add(ImportRow),
    Change(i64, ImportRow),
    Same,
}

/// What importing `rows` would do, or every row that cannot be taken (an owner who is
/// no agent) as "line N: why" lines.
fn plan_import(
    conn: &Connection,
    rows: Vec<ImportRow>,
    agents: &[crate::store::UserView],
) -> Result<Vec<Planned>, StoreError> {
    let mut problems = Vec::new();
    let mut planned = Vec::with_capacity(rows.len());
    let mut known = conn.prepare_cached(
        "SELECT id, name, owner, note FROM contacts WHERE email = ?1 AND email <> ?2",
    )?;
    for mut row in rows {
        if let Some(typed) = row.owner.take() {
            match owner_of(&typed, agents) {
                Ok(email) => row.owner = Some(email.to_string()),
                Err(why) => {
                    problems.push(format!("line {}: {why}", row.line));
                    continue;
                }
            }
        }
        type Known = (i64, Option<String>, Option<String>, String);
        let found: Option<Known> = known
            .query_row(params![row.email, UNKNOWN_SENDER], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        planned.push(match found {
            None => Planned::Add(row),
            Some((id, name, owner, note)) => {
                let differs = |new: &Option<String>, old: Option<&str>| {
                    new.as_deref().is_some_and(|n| Some(n) != old)
                };
                if differs(&row.name, name.as_deref())
                    || differs(&row.owner, owner.as_deref())
                    || differs(&row.note, Some(&note))
                {
                    Planned::Change(id, row)
                } else {
                    Planned::Same
                }
            }
        });
    }
    if !problems.is_empty() {
        return Err(StoreError::Invalid(problems.join("\n")));
    }
    Ok(planned)
}

fn counts(planned: &[Planned]) -> ImportCounts {
    let mut counts = ImportCounts::default();
    for p in planned {
        match p {
            Planned::Add(_) => counts.added += 1,
            Planned::Change(..) => counts.changed += 1,
            Planned::Same => counts.unchanged += 1,
        }
    }
    counts
}

/// What importing `rows` would add and change, without changing anything.
pub(super) fn try_import(
    conn: &Connection,
    rows: Vec<ImportRow>,
    agents: &[crate::store::UserView],
) -> Result<ImportCounts, StoreError> {
    Ok(counts(&plan_import(conn, rows, agents)?))
}

/// Import `rows`: new customers added, known ones given the name, owner and note the
/// file has (an empty cell leaves theirs); all of it or, with one bad row, none.
pub(super) fn import(
    conn: &Connection,
    rows: Vec<ImportRow>,
    agents: &[crate::store::UserView],
    actor: &str,
) -> Result<ImportCounts, StoreError> {
    let planned = plan_import(conn, rows, agents)?;
    let now = crate::model::unix_now();
    for p in &planned {
        match p {
            Planned::Add(row) => {
                exec(
                    conn,
                    "INSERT INTO contacts (email, name, owner, note, note_by, note_at, created_at)
                     VALUES (?1, ?2, ?3, coalesce(?4, ''), CASE WHEN ?4 IS NULL THEN NULL ELSE ?5 END,
                             CASE WHEN ?4 IS NULL THEN NULL ELSE ?6 END, ?6)",
                    params![row.email, row.name, row.owner, row.note, actor, now],
                )?;
            }
            Planned::Change(id, row) => {
                exec(
                    conn,
                    "UPDATE contacts SET name = coalesce(?2, name), owner = coalesce(?3, owner)
                     WHERE id = ?1",
                    params![id, row.name, row.owner],
                )?;
                if let Some(note) = &row.note {
                    exec(
                        conn,
                        "UPDATE contacts SET note = ?2, note_by = ?3, note_at = ?4
                         WHERE id = ?1 AND note <> ?2",
                        params![id, note, actor, now],
                    )?;
                }
            }
            Planned::Same => {}
        }
    }
    Ok(counts(&planned))
}

/// How many contacts write from `domain`, counted up to one more than a company has.
fn domain_people(conn: &Connection, domain: &str) -> Result<usize, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM contacts INDEXED BY contacts_domain
             WHERE lower(substr(email, instr(email, '@') + 1)) = lower(?1) LIMIT ?2)",
        )?
        .query_row(
            params![domain, super::read::COMPANY_CONTACTS as i64 + 1],
            |r| r.get(0),
        )?;
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        super::super::schema::migrate(&mut conn, &path).unwrap();
        register_lower(&conn).unwrap();
        (dir, conn)
    }

    fn contact(conn: &Connection, id: i64, email: &str, name: Option<&str>) {
        conn.execute(
            "INSERT INTO contacts (id, email, name, created_at) VALUES (?1, ?2, ?3, 0)",
            params![id, email, name],
        )
        .unwrap();
    }

    fn ticket(conn: &Connection, id: i64, contact: i64, activity: i64, closed: bool) {
        conn.execute(
            "INSERT INTO tickets (id, subject, status, channel, contact_id, created_at, updated_at, activity, closed)
             VALUES (?1, ?2, 'New', 'support', ?3, 0, ?4 * 100, ?4, ?5)",
            params![id, format!("Ticket {id}"), contact, activity, closed],
        )
        .unwrap();
        // The insert trigger numbers it last; the tests choose the order themselves.
        conn.execute(
            "UPDATE tickets SET activity = ?2 WHERE id = ?1",
            params![id, activity],
        )
        .unwrap();
    }

    fn emails(list: &CustomerList) -> Vec<&str> {
        list.rows.iter().map(|r| r.email.as_str()).collect()
    }

    #[test]
    fn a_search_finds_names_in_any_case_of_any_script() {
        let (_dir, conn) = store();
        contact(&conn, 1, "asa@example.se", Some("Åsa Öberg"));
        contact(&conn, 2, "zoe@example.fr", Some("ZOË Müller"));
        contact(&conn, 3, "Ilse.Strauss@example.de", Some("ILSE STRAUSS"));
        contact(&conn, 4, "oberg@example.org", Some("Per Oberg"));
        ticket(&conn, 1, 1, 10, false);
        ticket(&conn, 2, 2, 20, false);
        ticket(&conn, 3, 4, 30, false);
        let found = |words: &str| {
            emails(&customers(&conn, Some(words), None, None).unwrap())
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("åsa"), ["asa@example.se"]);
        assert_eq!(
            found("ÅSA ö"),
            ["asa@example.se"],
            "the words are lowered too"
        );
        assert_eq!(found("zoë"), ["zoe@example.fr"]);
        assert_eq!(found("müller"), ["zoe@example.fr"]);
        assert_eq!(found("öberg"), ["asa@example.se"], "ö is not o");
        assert_eq!(found("oberg"), ["oberg@example.org"]);
        assert_eq!(found("ilse.strauss"), ["Ilse.Strauss@example.de"]);
    }

    #[test]
    fn the_directory_lists_each_customer_once_where_their_latest_ticket_is() {
        let (_dir, conn) = store();
        contact(&conn, 1, "olga@acme.test", Some("Olga"));
        contact(&conn, 2, "bea@example.org", None);
        contact(&conn, 3, "carl@example.net", None);
        contact(&conn, 4, "copied@example.com", None);
        contact(&conn, 5, UNKNOWN_SENDER, None);
        ticket(&conn, 1, 1, 10, true);
        ticket(&conn, 2, 1, 50, false);
        ticket(&conn, 3, 2, 40, false);
        ticket(&conn, 4, 3, 30, true);
        // A merged ticket counts for nothing; the unknown sender is nobody.
        ticket(&conn, 5, 3, 60, false);
        conn.execute("UPDATE tickets SET merged_into = 4 WHERE id = 5", [])
            .unwrap();
        ticket(&conn, 6, 5, 70, false);
        conn.execute(
            "INSERT INTO ticket_participants (ticket_id, contact_id, role, added_at) VALUES (3, 4, 'participant', 0)",
            [],
        )
        .unwrap();
        let list = customers(&conn, None, None, None).unwrap();
        assert_eq!(
            emails(&list),
            ["olga@acme.test", "bea@example.org", "carl@example.net"]
        );
        assert_eq!(list.next, None);
        let olga = &list.rows[0];
        assert_eq!(
            (olga.open, olga.tickets, olga.last_activity),
            (1, 2, Some(5000))
        );
        let carl = &list.rows[2];
        assert_eq!(
            (carl.open, carl.tickets, carl.last_activity),
            (0, 1, Some(3000))
        );
        // Someone only ever copied on mail is found by a search, after those with tickets.
        let found = customers(&conn, Some("EXAMPLE"), None, None).unwrap();
        assert_eq!(
            emails(&found),
            ["bea@example.org", "carl@example.net", "copied@example.com"]
        );
        assert_eq!(found.rows[2].last_activity, None);
        assert_eq!(
            emails(&customers(&conn, Some("olg"), None, None).unwrap()),
            ["olga@acme.test"]
        );
        assert_eq!(
            emails(&customers(&conn, Some("@ACME.test"), None, None).unwrap()),
            ["olga@acme.test"]
        );
        assert!(
            customers(&conn, Some("@acme"), None, None)
                .unwrap()
                .rows
                .is_empty(),
            "a domain is whole"
        );
        assert!(customers(&conn, Some("unknown-sender"), None, None)
            .unwrap()
            .rows
            .is_empty());
        // An agent's own customers, with a ticket or not; with a search, those of them.
        conn.execute(
            "UPDATE contacts SET owner = 'jane@acme.example' WHERE id IN (1, 4)",
            [],
        )
        .unwrap();
        let jane = Some("jane@acme.example");
        assert_eq!(
            emails(&customers(&conn, None, jane, None).unwrap()),
            ["olga@acme.test", "copied@example.com"]
        );
        assert_eq!(
            emails(&customers(&conn, Some("example"), jane, None).unwrap()),
            ["copied@example.com"]
        );
        assert!(customers(&conn, None, Some("bea@acme.example"), None)
            .unwrap()
            .rows
            .is_empty());
        assert_eq!(
            emails(&customers(&conn, Some("  "), None, None).unwrap()).len(),
            3
        );
    }

    #[test]
    fn pages_of_the_directory_leave_nobody_out_and_show_nobody_twice() {
        let (_dir, conn) = store();
        let mut ticket_id = 0;
        for c in 1..=130_i64 {
            contact(
                &conn,
                c,
                &format!("c{c}@shop.example"),
                Some(&format!("Person {c}")),
            );
            // One to three tickets each, with activities that tie across customers.
            for k in 0..(c % 3 + 1) {
                ticket_id += 1;
                ticket(&conn, ticket_id, c, (c * 7 + k * 13) % 40, k == 0);
            }
        }
        let latest = |c: i64| {
            (0..(c % 3 + 1))
                .map(|k| (c * 7 + k * 13) % 40)
                .max()
                .unwrap()
        };
        for search in [None, Some("person"), Some("@shop.example")] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = customers(&conn, search, None, after).unwrap();
                assert!(page.rows.len() <= CUSTOMERS_PAGE);
                seen.extend(page.rows.iter().map(|r| (r.id, r.last_activity)));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen.len(), 130, "{search:?}");
            let mut ids: Vec<i64> = seen.iter().map(|s| s.0).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 130, "{search:?}: someone twice");
            for (id, last) in &seen {
                assert_eq!(*last, Some(latest(*id) * 100), "{search:?}: customer {id}");
            }
            assert!(
                seen.windows(2).all(|w| w[0].1 >= w[1].1),
                "{search:?}: latest first"
            );
        }
    }

    #[test]
    fn a_customers_page_has_their_tickets_and_their_company() {
        let (_dir, conn) = store();
        contact(&conn, 1, "olga@acme.test", Some("Olga"));
        contact(&conn, 2, "piet@acme.test", None);
        contact(&conn, 3, "olga.private@gmail.com", None);
        contact(&conn, 4, "mo@gmail.com", None);
        ticket(&conn, 1, 1, 10, true);
        ticket(&conn, 2, 1, 20, false);
        ticket(&conn, 3, 2, 30, false);
        ticket(&conn, 4, 3, 5, false);
        ticket(&conn, 5, 4, 6, false);
        conn.execute(
            "INSERT INTO ticket_participants (ticket_id, contact_id, role, added_at) VALUES (3, 1, 'participant', 0)",
            [],
        )
        .unwrap();
        conn.execute(
            "UPDATE contacts SET note = 'Prefers phone', note_by = 'jane@acme.example', owner = 'jane@acme.example' WHERE id = 1",
            [],
        )
        .unwrap();
        let own = vec!["support@acme.example".to_string()];
        let olga = customer(&conn, 1, &own).unwrap().expect("Olga");
        assert_eq!(olga.row.name.as_deref(), Some("Olga"));
        assert_eq!(olga.row.owner.as_deref(), Some("jane@acme.example"));
        assert_eq!((olga.row.open, olga.row.tickets), (1, 2));
        assert_eq!(olga.note.text, "Prefers phone");
        let tickets: Vec<(i64, bool)> = olga.tickets.iter().map(|t| (t.id, t.closed)).collect();
        assert_eq!(tickets, [(2, false), (1, true)]);
        assert_eq!(olga.copied_on.iter().map(|t| t.id).collect::<Vec<_>>(), [3]);
        assert_eq!(
            olga.colleagues
                .iter()
                .map(|c| c.email.as_str())
                .collect::<Vec<_>>(),
            ["piet@acme.test"]
        );
        // A mail service's customers are strangers to each other.
        let private = customer(&conn, 3, &own)
            .unwrap()
            .expect("her private address");
        assert!(private.colleagues.is_empty());
        assert!(customer(&conn, 99, &own).unwrap().is_none());
        contact(&conn, 5, UNKNOWN_SENDER, None);
        assert!(customer(&conn, 5, &own).unwrap().is_none());
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let c = CustomerCursor(1_700_000_000, -1);
        assert_eq!(CustomerCursor::parse(&c.to_param()), Some(c));
        assert_eq!(CustomerCursor::parse("-1.42"), Some(CustomerCursor(-1, 42)));
        for bad in ["", "1", "a.b", "1.2.3", "1.", ".2"] {
            assert_eq!(CustomerCursor::parse(bad), None, "{bad}");
        }
    }
}
