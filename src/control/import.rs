//! Reading an mbox file or a Maildir folder for `frontdeskctl import`, in date order.

use std::path::{Path, PathBuf};

use mail_parser::MessageParser;

/// One message found in a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxMessage {
    /// Where it came from (file, or mbox and index), for error messages.
    pub origin: String,
    /// Date header (or mbox/maildir time) as Unix seconds, for ordering.
    pub date: Option<i64>,
    /// The bytes.
    pub raw: Vec<u8>,
}

/// Why a mailbox could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// I/O on the path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Neither an mbox file nor a Maildir.
    #[error("{0}: not an mbox file or a Maildir folder (a folder needs cur/ or new/)")]
    Unknown(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The Date header of raw bytes, parsing headers only.
pub fn date_of(raw: &[u8]) -> Option<i64> {
    let raw = crate::ingest::parse::strip_mbox_from_line(raw);
    MessageParser::new()
        .parse_headers(raw)
        .and_then(|m| m.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp()))
}

/// Every message of the mailbox at `path`, oldest first (stable for equal dates).
pub fn read_mailbox(path: &Path) -> Result<Vec<MailboxMessage>, ImportError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    let mut messages = if meta.is_dir() {
        read_maildir(path)?
    } else {
        read_mbox(path)?
    };
    messages.sort_by_key(|m| m.date.unwrap_or(i64::MAX));
    Ok(messages)
}

fn read_mbox(path: &Path) -> Result<Vec<MailboxMessage>, ImportError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let iter = mail_parser::mailbox::mbox::MessageIterator::new(std::io::BufReader::new(file));
    let mut out = Vec::new();
    for (i, m) in iter.enumerate() {
        let m = m.map_err(|_| ImportError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("cannot read message {}", i + 1),
            ),
        })?;
        let internal = m.internal_date() as i64;
        let raw = m.unwrap_contents();
        let date = date_of(&raw).or((internal > 0).then_some(internal));
        out.push(MailboxMessage {
            origin: format!("{}#{}", path.display(), i + 1),
            date,
            raw,
        });
    }
    Ok(out)
}

fn read_maildir(path: &Path) -> Result<Vec<MailboxMessage>, ImportError> {
    let mut out = Vec::new();
    let mut found = false;
    for sub in ["cur", "new"] {
        let dir = path.join(sub);
        if !dir.is_dir() {
            continue;
        }
        found = true;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(io(&dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for file in entries {
            let raw = std::fs::read(&file).map_err(io(&file))?;
            let date = date_of(&raw);
            out.push(MailboxMessage {
                origin: file.display().to_string(),
                date,
                raw,
            });
        }
    }
    if !found {
        return Err(ImportError::Unknown(path.to_path_buf()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_is_read_in_date_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("box");
        std::fs::write(
            &path,
            "From a@b Sat Jan  1 00:00:00 2022\nFrom: a@b.c\nDate: Sat, 1 Jan 2022 10:00:00 +0000\nSubject: second\n\nx\n\nFrom a@b Sat Jan  1 00:00:00 2022\nFrom: a@b.c\nDate: Fri, 31 Dec 2021 10:00:00 +0000\nSubject: first\n\n>From the start\n",
        )
        .unwrap();
        let msgs = read_mailbox(&path).unwrap();
        assert_eq!(msgs.len(), 2);
        assert!(String::from_utf8_lossy(&msgs[0].raw).contains("Subject: first"));
        assert!(String::from_utf8_lossy(&msgs[1].raw).contains("Subject: second"));
    }

    #[test]
    fn maildir_needs_cur_or_new() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_mailbox(dir.path()),
            Err(ImportError::Unknown(_))
        ));
        std::fs::create_dir(dir.path().join("cur")).unwrap();
        std::fs::write(
            dir.path().join("cur/1:2,S"),
            "From: a@b.c\nSubject: s\n\nb\n",
        )
        .unwrap();
        assert_eq!(read_mailbox(dir.path()).unwrap().len(), 1);
    }
}
