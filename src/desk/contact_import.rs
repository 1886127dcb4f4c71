//! Customers from a spreadsheet: a CSV export of another help desk's or CRM's contacts
//! (HubSpot's "Email", "First Name", "Last Name", "Contact owner", or plain "email",
//! "name", "owner", "note"). Which columns say what, and every row checked, before
//! anything is stored.

use std::collections::HashMap;

/// Rows one import takes at most.
pub const MAX_ROWS: usize = 100_000;

/// One customer as a row of the file says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportRow {
    /// The file's line the row starts on (the header is line 1).
    pub line: usize,
    /// Address, lower case.
    pub email: String,
    /// Name; none when the row leaves it empty (a name already known stays).
    pub name: Option<String>,
    /// The owning agent as the file names them (address or full name); none: as it is.
    pub owner: Option<String>,
    /// A note for every agent; none: as it is.
    pub note: Option<String>,
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// No column holds the addresses.
    #[error("no column of addresses: name one \"Email\" (the columns are {0})")]
    NoEmailColumn(String),
    /// Not readable as CSV.
    #[error("line {0}: not CSV: {1}")]
    NotCsv(usize, String),
    /// A row that cannot be taken.
    #[error("line {0}: {1}")]
    Row(usize, String),
    /// Nothing but the header.
    #[error("the file has no customers, only a header")]
    Empty,
    /// More than [`MAX_ROWS`].
    #[error("more than {MAX_ROWS} rows: split the file")]
    TooMany,
}

/// What a column says, from its header ("First Name", "E-mail", "Contact owner").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Email,
    Name,
    First,
    Last,
    Owner,
    Note,
}

fn column(header: &str) -> Option<Column> {
    let key: String = header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match key.as_str() {
        "email" | "emailaddress" | "mail" => Column::Email,
        "name" | "fullname" | "contactname" | "contact" => Column::Name,
        "firstname" | "givenname" => Column::First,
        "lastname" | "surname" | "familyname" => Column::Last,
        "owner" | "contactowner" | "agent" => Column::Owner,
        "note" | "notes" => Column::Note,
        _ => return None,
    })
}

/// Every row of `file`, checked; every problem found when any is (nothing is half
/// taken). Columns it does not know are left out; empty cells leave what the desk
/// knows as it is.
pub fn parse(file: &[u8]) -> Result<Vec<ImportRow>, Vec<ImportError>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => return Err(vec![ImportError::NotCsv(1, e.to_string())]),
    };
    let mut columns: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(c) = column(h) {
            columns.entry(c).or_insert(i);
        }
    }
    let Some(&email_at) = columns.get(&Column::Email) else {
        let names: Vec<String> = headers.iter().map(|h| format!("{h:?}")).collect();
        return Err(vec![ImportError::NoEmailColumn(names.join(", "))]);
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    // Lines counted from byte offsets: on a CRLF file the reader's own count, and the
    // offset it gives, can stop at the line break before a row.
    let mut counted = (0usize, 1usize);
    let mut line_of = |byte: u64| {
        let mut byte = (byte as usize).min(file.len()).max(counted.0);
        while matches!(file.get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        counted.1 += memchr::memchr_iter(b'\n', &file[counted.0..byte]).count();
        counted.0 = byte;
        counted.1
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_of(p.byte()));
                problems.push(ImportError::NotCsv(line, e.to_string()));
                break;
            }
        };
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() + problems.len() >= MAX_ROWS {
            return Err(vec![ImportError::TooMany]);
        }
        let cell = |c: Column| {
            columns
                .get(&c)
                .and_then(|&i| record.get(i))
                .filter(|v| !v.is_empty())
        };
        match row(line, email_at, &record, cell) {
            Ok(r) => match seen.get(&r.email) {
                Some(first) => problems.push(ImportError::Row(
                    line,
                    format!("{} is on line {first} already", r.email),
                )),
                None => {
                    seen.insert(r.email.clone(), line);
                    rows.push(r);
                }
            },
            Err(reason) => problems.push(ImportError::Row(line, reason)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if rows.is_empty() {
        return Err(vec![ImportError::Empty]);
    }
    Ok(rows)
}

/// One row, or why it cannot be taken.
fn row<'r>(
    line: usize,
    email_at: usize,
    record: &'r csv::StringRecord,
    cell: impl Fn(Column) -> Option<&'r str>,
) -> Result<ImportRow, String> {
    let email = record.get(email_at).unwrap_or("").to_lowercase();
    if email.is_empty() {
        return Err("no address".into());
    }
    if !crate::config::is_valid_address(&email) {
        return Err(format!("{email:?} is not an address"));
    }
    let typed = match (cell(Column::Name), cell(Column::First), cell(Column::Last)) {
        (Some(name), _, _) => name.to_string(),
        (None, first, last) => [first, last]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let name = super::subject::contact_name(&typed).map_err(|e| format!("the name {e}"))?;
    let note = cell(Column::Note)
        .map(super::subject::contact_note)
        .transpose()
        .map_err(|e| format!("the note {e}"))?
        .filter(|n| !n.is_empty());
    Ok(ImportRow {
        line,
        email,
        name,
        owner: cell(Column::Owner).map(str::to_string),
        note,
    })
}

/// The agent a file's owner cell names: by address, else by full name (any case); an
/// agent who is gone, or a name two agents share, is refused.
pub fn owner_of<'a>(typed: &str, agents: &'a [crate::store::UserView]) -> Result<&'a str, String> {
    let typed = typed.trim();
    let by_address = agents.iter().find(|a| a.email.eq_ignore_ascii_case(typed));
    let by_name: Vec<_> = agents
        .iter()
        .filter(|a| {
            !a.full_name.trim().is_empty() && a.full_name.trim().eq_ignore_ascii_case(typed)
        })
        .collect();
    let agent = match (by_address, by_name.as_slice()) {
        (Some(a), _) | (None, &[a]) => a,
        (None, []) => return Err(format!("no agent {typed:?} (an address or full name)")),
        (None, _) => {
            return Err(format!(
                "{typed:?} names more than one agent: use the address"
            ))
        }
    };
    if !agent.active {
        return Err(format!("{} is deactivated", agent.email));
    }
    Ok(&agent.email)
}

/// How many customers an import adds, changes and finds as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportCounts {
    /// New to the desk.
    pub added: usize,
    /// Known, with a name, owner or note the file changes.
    pub changed: usize,
    /// Known, and the file changes nothing about them.
    pub unchanged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hubspot_export_gives_names_owners_and_leaves_other_columns_out() {
        let file = "\u{feff}\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Contact owner\",\"Phone Number\"\r\n\
                    \"101\",\"Olga\",\"Ortiz\",\"Olga@Customer.Example.org\",\"Dana Lind\",\"+49 30 1\"\r\n\
                    \"102\",\"\",\"\",\"piet@customer.example.org\",\"\",\"\"\r\n\
                    \"103\",\"Mo\",\"\",\"mo@gmail.com\",\"jane@acme.test\",\"\"\r\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(
            rows,
            [
                ImportRow {
                    line: 2,
                    email: "olga@customer.example.org".into(),
                    name: Some("Olga Ortiz".into()),
                    owner: Some("Dana Lind".into()),
                    note: None,
                },
                ImportRow {
                    line: 3,
                    email: "piet@customer.example.org".into(),
                    name: None,
                    owner: None,
                    note: None,
                },
                ImportRow {
                    line: 4,
                    email: "mo@gmail.com".into(),
                    name: Some("Mo".into()),
                    owner: Some("jane@acme.test".into()),
                    note: None,
                },
            ]
        );
    }

    #[test]
    fn plain_columns_a_note_over_lines_and_blank_rows() {
        let file = "email,name,owner,note\n\
                    olga@example.org,  Olga   Ortiz ,,\"Prefers phone\n\ncontract 4711\"\n\
                    ,,,\n\
                    bea@example.org,,bea@acme.test,\n";
        let rows = parse(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name.as_deref(), Some("Olga Ortiz"));
        assert_eq!(
            rows[0].note.as_deref(),
            Some("Prefers phone\n\ncontract 4711")
        );
        assert_eq!(rows[1].line, 6, "lines count the note's");
        assert_eq!(rows[1].owner.as_deref(), Some("bea@acme.test"));
    }

    #[test]
    fn every_bad_row_is_named_and_none_is_taken() {
        let long = "x".repeat(201);
        let file = format!(
            "Email,Name\nolga@example.org,Olga\nnot-an-address,X\n,Nameless\nOLGA@example.org,Again\nbea@example.org,{long}\n"
        );
        let problems = parse(file.as_bytes()).unwrap_err();
        let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "line 3: \"not-an-address\" is not an address",
                "line 4: no address",
                "line 5: olga@example.org is on line 2 already",
                "line 6: the name is longer than 200 characters",
            ]
        );
    }

    #[test]
    fn a_file_without_addresses_or_customers_is_refused() {
        let said = |file: &str| {
            parse(file.as_bytes())
                .unwrap_err()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert_eq!(
            said("Name,Phone\nOlga,1\n"),
            "no column of addresses: name one \"Email\" (the columns are \"Name\", \"Phone\")"
        );
        assert_eq!(said("Email\n"), "the file has no customers, only a header");
        assert_eq!(
            said(""),
            "no column of addresses: name one \"Email\" (the columns are )"
        );
        assert!(
            said("Email,Name\n\"olga@example.org,Olga\n").starts_with("line "),
            "an open quote"
        );
    }

    #[test]
    fn an_owner_is_named_by_address_or_full_name() {
        let agent = |email: &str, name: &str, active| crate::store::UserView {
            email: email.into(),
            full_name: name.into(),
            first_name: String::new(),
            last_name: String::new(),
            admin: false,
            seat: true,
            available: true,
            active,
            notify: String::new(),
            signature: String::new(),
            two_step: false,
        };
        let agents = [
            agent("dana@acme.test", "Dana Lind", true),
            agent("jane@acme.test", "Jane Doe", true),
            agent("jane.d@acme.test", "Jane Doe", true),
            agent("gone@acme.test", "Gone Away", false),
        ];
        assert_eq!(owner_of("DANA@acme.test", &agents), Ok("dana@acme.test"));
        assert_eq!(owner_of(" dana lind ", &agents), Ok("dana@acme.test"));
        assert_eq!(
            owner_of("jane.d@acme.test", &agents),
            Ok("jane.d@acme.test")
        );
        assert_eq!(
            owner_of("Jane Doe", &agents),
            Err("\"Jane Doe\" names more than one agent: use the address".into())
        );
        assert_eq!(
            owner_of("Bob", &agents),
            Err("no agent \"Bob\" (an address or full name)".into())
        );
        assert_eq!(
            owner_of("Gone Away", &agents),
            Err("gone@acme.test is deactivated".into())
        );
    }
}
