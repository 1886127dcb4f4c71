//! The shared message corpus (`../shared/corpus`, or `$FRONTDESK_CORPUS`) through parse,
//! classify and forward detection, checked against its MANIFEST.tsv.
//!
//! Every mismatch is collected and the test fails once with the whole list, so one run shows
//! everything that is off. Where the manifest disagrees with the message bytes, the entry is
//! listed below with the reason instead of loosening the check.

use std::fmt::Write as _;
use std::panic;
use std::path::PathBuf;

use frontdesk::ingest::classify::{classify, AutoKind};
use frontdesk::ingest::forward::{detect_forward, ForwardStyle};
use frontdesk::ingest::parse::{parse, ParsedMail};

/// Manifest `auto` values the message bytes contradict: (file, value to expect, why).
const AUTO_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "autoreplies/discourse__auto_generated_precedence.eml",
    "bulk",
    "its only signal is `Precedence: list` (no Auto-Submitted, no DSN, no auto-reply subject, \
     no Subject at all); the manifest's own definition puts Precedence bulk/junk/list under \
     `bulk`, as for the 20 other Precedence/List-Id files. Both verdicts suppress automatic \
     answers, so Invariant 3 holds either way.",
)];

/// Files outside `forwards/` that genuinely are forwards by a header block: (file, why).
/// None so far.
const FORWARDS_ELSEWHERE: &[(&str, &str)] = &[];

/// One row of MANIFEST.tsv.
struct Entry {
    file: String,
    kind: String,
    original_sender: String,
    auto: String,
    /// The `exercises` notes; hand-written notes come first.
    exercises: String,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("FRONTDESK_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

fn manifest(dir: &std::path::Path) -> Vec<Entry> {
    let path = dir.join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); set FRONTDESK_CORPUS to the corpus folder",
            path.display()
        )
    });
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("MANIFEST.tsv has no `{name}` column"))
    };
    let (file, kind, original, auto, exercises) = (
        col("file"),
        col("kind"),
        col("original_sender"),
        col("auto"),
        col("exercises"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            let cell = |i: usize| cells.get(i).copied().unwrap_or("").trim().to_string();
            Entry {
                file: cell(file),
                kind: cell(kind),
                original_sender: cell(original),
                auto: cell(auto),
                exercises: cell(exercises),
            }
        })
        .collect()
}

/// Parse, turning a panic inside the parser into an error message.
fn parse_caught(raw: &[u8]) -> Result<ParsedMail, String> {
    let result = panic::catch_unwind(|| parse(raw));
    match result {
        Ok(Ok(mail)) => Ok(mail),
        Ok(Err(e)) => Err(format!("parse error: {e}")),
        Err(cause) => {
            let why = cause
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| cause.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(format!("parser panicked: {why}"))
        }
    }
}

#[test]
fn corpus_matches_manifest() {
    let dir = corpus_dir();
    let entries = manifest(&dir);
    assert!(!entries.is_empty(), "MANIFEST.tsv lists no messages");

    // Keep the panic hook quiet while parser panics are caught and listed.
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));

    let mut mismatches: Vec<String> = Vec::new();
    let mut forwards_checked = 0;
    let mut attached_elsewhere = 0;
    for entry in &entries {
        let raw = match std::fs::read(dir.join(&entry.file)) {
            Ok(raw) => raw,
            Err(e) => {
                mismatches.push(format!("{}: cannot read: {e}", entry.file));
                continue;
            }
        };
        let mail = match parse_caught(&raw) {
            Ok(mail) => mail,
            Err(why) => {
                mismatches.push(format!("{}: {why}", entry.file));
                continue;
            }
        };

        // Classification with no envelope and no own addresses: the bytes alone.
        let c = classify(&mail, None, &[]);
        let expected_auto = AUTO_EXCEPTIONS
            .iter()
            .find(|(f, _, _)| *f == entry.file)
            .map_or(entry.auto.as_str(), |(_, v, _)| v);
        let ok = match expected_auto {
            "auto" => c.is_automatic(),
            "bulk" => c.auto == Some(AutoKind::Bulk),
            "no" => c.auto.is_none(),
            other => {
                mismatches.push(format!("{}: unknown auto value `{other}`", entry.file));
                true
            }
        };
        if !ok {
            mismatches.push(format!(
                "{}: auto expected `{expected_auto}`, got {:?} (subject {:?})",
                entry.file, c.auto, mail.subject
            ));
        }

        let found = detect_forward(&mail);
        if entry.kind == "forwards" {
            forwards_checked += 1;
            // The manifest keeps the address as written (one has capitals); ours is lower case.
            let expected =
                (entry.original_sender != "-").then(|| entry.original_sender.to_lowercase());
            let got = found.as_ref().map(|f| f.original.email.clone());
            if got != expected {
                mismatches.push(format!(
                    "{}: original sender expected {:?}, got {:?}",
                    entry.file, expected, found
                ));
            }
        } else if let Some(f) = found {
            if entry.exercises.starts_with("NOT a forward") {
                // Checked by hand: e.g. a reply that attaches mails as evidence.
                mismatches.push(format!(
                    "{}: marked NOT a forward, but a {:?} forward gave {}",
                    entry.file, f.style, f.original.email
                ));
            } else if f.style == ForwardStyle::Attached {
                // An attached message/rfc822 is a forward by structure; the manifest only
                // names original senders for files filed under forwards/.
                attached_elsewhere += 1;
            } else if entry.original_sender == "-"
                && !FORWARDS_ELSEWHERE
                    .iter()
                    .any(|(file, _)| *file == entry.file)
            {
                mismatches.push(format!(
                    "{}: not a forward, but a {:?} header block gave {}",
                    entry.file, f.style, f.original.email
                ));
            }
        }
    }
    panic::set_hook(hook);

    let mut report = String::new();
    for m in &mismatches {
        let _ = writeln!(report, "  {m}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches over {} corpus files ({} forwards checked, {} attached messages \
         outside forwards/):\n{}",
        mismatches.len(),
        entries.len(),
        forwards_checked,
        attached_elsewhere,
        report
    );
    println!(
        "{} corpus files match the manifest ({} forwards checked, {} attached messages \
         outside forwards/)",
        entries.len(),
        forwards_checked,
        attached_elsewhere
    );
}
