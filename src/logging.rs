//! Logging: to journald (with structured fields) under systemd, to stderr otherwise.

use std::io::Write;

use log::{kv, Log, Metadata, Record};

/// Install the logger: journald when `JOURNAL_STREAM` says stderr is the journal.
pub fn init(level: log::LevelFilter) {
    let installed = std::env::var_os("JOURNAL_STREAM").is_some()
        && systemd_journal_logger::connected_to_journal()
        && systemd_journal_logger::JournalLog::new()
            .map(|j| {
                j.with_syslog_identifier("frontdeskd".to_string())
                    .install()
                    .is_ok()
            })
            .unwrap_or(false);
    if !installed {
        let _ = log::set_boxed_logger(Box::new(StderrLog { level }));
    }
    log::set_max_level(level);
}

/// Change the level after a reload.
pub fn set_level(level: log::LevelFilter) {
    log::set_max_level(level);
}

struct StderrLog {
    level: log::LevelFilter,
}

struct KvLine(String);

impl<'kvs> kv::VisitSource<'kvs> for KvLine {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        self.0.push_str(&format!(" {key}={value}"));
        Ok(())
    }
}

impl Log for StderrLog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.level.max(log::max_level())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut fields = KvLine(String::new());
        let _ = record.key_values().visit(&mut fields);
        // One write per line: stderr is unbuffered, and a line written in pieces
        // costs a syscall per piece and can interleave with other threads' lines.
        let line = format!(
            "{} {:<5} {}{}\n",
            crate::model::rfc3339(crate::model::unix_now()),
            record.level(),
            record.args(),
            fields.0
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {}
}
