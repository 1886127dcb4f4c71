//! The corpus through the real store: thread groups from MANIFEST.tsv land in one
//! ticket each, in file order and in reverse order (Invariant 4), re-delivery stores
//! nothing (Invariant 2), and forwards are filed under the original sender.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use frontdesk::config::{Channel, Config};
use frontdesk::ingest::{prepare, Inbound, IngestContext};
use frontdesk::model::Source;
use frontdesk::store::Store;

struct Entry {
    file: String,
    message_id: Option<String>,
    kind: String,
    original_sender: String,
    thread: String,
}

fn corpus_dir() -> PathBuf {
    match std::env::var_os("FRONTDESK_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

fn manifest() -> Vec<Entry> {
    let text =
        std::fs::read_to_string(corpus_dir().join("MANIFEST.tsv")).expect("corpus MANIFEST.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (f, k, o, t) = (
        col("file"),
        col("kind"),
        col("original_sender"),
        col("thread"),
    );
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let raw = std::fs::read(corpus_dir().join(c[f])).unwrap_or_default();
            Entry {
                message_id: frontdesk::ingest::parse::parse(&raw)
                    .ok()
                    .and_then(|m| m.message_id),
                file: c[f].to_string(),
                kind: c[k].to_string(),
                original_sender: c[o].to_lowercase(),
                thread: c[t].to_string(),
            }
        })
        .collect()
}

fn pipelines() -> std::sync::Arc<Vec<frontdesk::desk::lifecycle::Pipeline>> {
    std::sync::Arc::new(vec![frontdesk::desk::lifecycle::Pipeline::default_support()])
}

fn channel(forward_original_sender: bool) -> Channel {
    let text = format!(
        "[daemon]\ndata_dir = \"unused\"\ncompany_name = \"Acme\"\n\n[[channel]]\nkind = \"email\"\nname = \"support\"\naddress = \"support@example.com\"\nforward_original_sender = {forward_original_sender}\n"
    );
    let config = Config::parse(Path::new("test.toml"), &text).expect("test config");
    config.channels[0].clone()
}

/// Ingest `entries` in the given order into a fresh store; file -> (ticket, duplicate).
async fn ingest_all(
    entries: &[&Entry],
    forward_original_sender: bool,
) -> (Store, BTreeMap<String, i64>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let ch = channel(forward_original_sender);
    let own = vec![ch.address.clone()];
    let mut tickets = BTreeMap::new();
    for e in entries {
        let raw = std::fs::read(corpus_dir().join(&e.file)).unwrap();
        let inbound = Inbound {
            channel: "support".into(),
            raw,
            envelope_from: None,
            recipients: vec![],
            source: Source::Import,
            historical: true,
            imap: None,
        };
        let secret = store.secret().to_vec();
        let prepared = prepare(
            inbound,
            IngestContext {
                channel: &ch,
                pipelines: &pipelines(),
                own_addresses: &own,
                secret: &secret,
                rules: &[],
            },
        )
        .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let outcome = store
            .ingest(prepared)
            .await
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        tickets.insert(e.file.clone(), outcome.ticket_id);
    }
    (store, tickets, dir)
}

/// The live ticket of each file after all merges.
async fn live_tickets(store: &Store, tickets: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (file, t) in tickets {
        let t = *t;
        let mut live = t;
        loop {
            let detail = store
                .read(move |r| r.ticket(live))
                .await
                .unwrap()
                .expect("ticket exists");
            match detail.merged_into {
                Some(next) => live = next,
                None => break,
            }
        }
        out.insert(file.clone(), live);
    }
    out
}

/// The partition of files into tickets, as sets of file names.
fn partition(live: &BTreeMap<String, i64>) -> BTreeSet<BTreeSet<String>> {
    let mut groups: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (f, t) in live {
        groups.entry(*t).or_default().insert(f.clone());
    }
    groups.into_values().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_match_manifest_in_any_order() {
    let all = manifest();
    let folders: BTreeSet<&str> = all.iter().map(|e| e.kind.as_str()).collect();
    let mut problems = Vec::new();
    for folder in folders {
        let entries: Vec<&Entry> = all.iter().filter(|e| e.kind == folder).collect();
        let (store, tickets, _dir) = ingest_all(&entries, false).await;
        let forward = live_tickets(&store, &tickets).await;
        let mut reversed_entries = entries.clone();
        reversed_entries.reverse();
        let (store_r, tickets_r, _dir_r) = ingest_all(&reversed_entries, false).await;
        let reverse = live_tickets(&store_r, &tickets_r).await;
        if partition(&forward) != partition(&reverse) {
            problems.push(format!(
                "{folder}: ticket partition differs between file order and reverse order"
            ));
        }
        // Same thread id <=> same ticket.
        for a in &entries {
            for b in &entries {
                if a.file >= b.file {
                    continue;
                }
                // Files with one Message-ID are one message delivered twice.
                let same_message = a.message_id.is_some() && a.message_id == b.message_id;
                let same_thread = (a.thread != "-" && a.thread == b.thread) || same_message;
                let same_ticket = forward[&a.file] == forward[&b.file];
                if same_thread && !same_ticket {
                    problems.push(format!(
                        "{} and {} are thread {} but in tickets #{} and #{}",
                        a.file, b.file, a.thread, forward[&a.file], forward[&b.file]
                    ));
                }
                if !same_thread && same_ticket {
                    problems.push(format!(
                        "{} ({}) and {} ({}) share ticket #{}",
                        a.file, a.thread, b.file, b.thread, forward[&a.file]
                    ));
                }
            }
        }
        store.close();
        store_r.close();
    }
    assert!(
        problems.is_empty(),
        "{} threading problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_stores_nothing_new() {
    let all = manifest();
    let entries: Vec<&Entry> = all
        .iter()
        .filter(|e| e.kind == "replies-threads" || e.kind == "malformed")
        .collect();
    let (store, _, _dir) = ingest_all(&entries, false).await;
    let before = store.read(|r| r.counts()).await.unwrap();
    let ch = channel(false);
    let own = vec![ch.address.clone()];
    for e in &entries {
        let raw = std::fs::read(corpus_dir().join(&e.file)).unwrap();
        let secret = store.secret().to_vec();
        let inbound = Inbound {
            channel: "support".into(),
            raw,
            envelope_from: None,
            recipients: vec![],
            source: Source::Lmtp,
            historical: false,
            imap: None,
        };
        let prepared = prepare(
            inbound,
            IngestContext {
                channel: &ch,
                pipelines: &pipelines(),
                own_addresses: &own,
                secret: &secret,
                rules: &[],
            },
        )
        .unwrap();
        let outcome = store.ingest(prepared).await.unwrap();
        assert!(outcome.duplicate, "{} stored twice", e.file);
    }
    let after = store.read(|r| r.counts()).await.unwrap();
    assert_eq!(before, after);
    store.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_are_filed_under_the_original_sender() {
    let all = manifest();
    let entries: Vec<&Entry> = all.iter().filter(|e| e.kind == "forwards").collect();
    let (store, tickets, _dir) = ingest_all(&entries, true).await;
    let mut problems = Vec::new();
    for e in &entries {
        let t = tickets[&e.file];
        let detail = store.read(move |r| r.ticket(t)).await.unwrap().unwrap();
        let message = detail.messages.last().expect("a message");
        if e.original_sender == "-" {
            if message.forwarded_by.is_some() {
                problems.push(format!("{}: filed as a forward, expected none", e.file));
            }
        } else if !detail
            .participants
            .iter()
            .any(|p| p.email == e.original_sender && p.role == "customer")
            && detail.contact.email != e.original_sender
        {
            problems.push(format!(
                "{}: contact {} expected {}",
                e.file, detail.contact.email, e.original_sender
            ));
        } else if message.forwarded_by.is_none() && detail.contact.email != e.original_sender {
            problems.push(format!("{}: forwarder not recorded", e.file));
        }
    }
    store.close();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
