//! The control socket and `frontdeskctl`: errors, inject (the pipe transport's exit codes),
//! import of an mbox file and a Maildir folder, the socket's mode.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::harness::{corpus_dir, output, Daemon, Mail, Settings, FRONTDESKCTL};

const EX_DATAERR: i32 = 65;
const EX_NOUSER: i32 = 67;
const EX_TEMPFAIL: i32 = 75;

/// Thread T014 of the corpus (four messages), and thread T015 (two).
const MBOX_THREADS: &[&[&str]] = &[
    &[
        "notmuch__default_cur_31.eml",
        "notmuch__default_cur_34.eml",
        "notmuch__default_cur_35.eml",
        "notmuch__default_cur_36.eml",
    ],
    &["notmuch__default_cur_38.eml", "notmuch__default_cur_39.eml"],
];
/// Thread T005 of the corpus (five messages).
const MAILDIR_THREAD: &[&str] = &[
    "notmuch__default_01.eml",
    "notmuch__default_02.eml",
    "notmuch__default_cur_40.eml",
    "notmuch__default_foo_baz_11.eml",
    "notmuch__default_foo_cur_07.eml",
];

fn corpus_file(name: &str) -> Vec<u8> {
    let path = corpus_dir().join("replies-threads").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An mbox (mboxrd quoting) of `files`, newest first so the import has to sort by date.
fn write_mbox(path: &Path, files: &[&str], extra: &[Vec<u8>]) {
    let mut out = Vec::new();
    let messages = files
        .iter()
        .rev()
        .map(|name| corpus_file(name))
        .chain(extra.iter().cloned());
    for bytes in messages {
        let raw = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
        out.extend_from_slice(b"From archive@example.org Thu Jan  1 00:00:00 2009\n");
        for line in raw.lines() {
            let body = line.trim_start_matches('>');
            if body.starts_with("From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    std::fs::write(path, out).unwrap();
}

/// A Maildir with `files` spread over `cur/` and `new/`.
fn write_maildir(dir: &Path, files: &[&str]) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (i, name) in files.iter().enumerate() {
        let target = if i % 2 == 0 {
            dir.join("cur")
                .join(format!("{}.M{i}P1.host:2,S", 1_258_000_000 + i))
        } else {
            dir.join("new")
                .join(format!("{}.M{i}P1.host", 1_258_000_000 + i))
        };
        std::fs::write(target, corpus_file(name)).unwrap();
    }
}

fn mail(subject: &str, id: &str) -> Vec<u8> {
    Mail::new("Ivy <ivy@example.org>", "support@example.com", subject, id).bytes()
}

#[test]
fn an_unknown_request_gets_ok_false_and_the_connection_stays_usable() {
    let d = Daemon::start();
    let mut c = d.control();
    let r = c.call_raw(r#"{"cmd":"bogus"}"#).unwrap();
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["kind"], "bad-request", "{r}");
    assert!(
        r["error"].as_str().unwrap().contains("bogus"),
        "the error names the command: {r}"
    );
    let r = c.call_raw("this is not json").unwrap();
    assert_eq!(r["ok"], false, "{r}");
    let r = c.call_raw(r#"{"cmd":"status","extra":1}"#).unwrap();
    assert_eq!(r["ok"], false, "{r}");
    let r = c
        .call_raw(r#"{"cmd":"tickets-show","id":"seven"}"#)
        .unwrap();
    assert_eq!(r["ok"], false, "{r}");
    let r = c.call(&json!({"cmd": "status"})).unwrap();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["data"]["lmtp_listen"], d.lmtp.as_str());
    let r = c.call(&json!({"cmd": "tickets-show", "id": 999})).unwrap();
    assert_eq!(
        (r["ok"].clone(), r["kind"].clone()),
        (json!(false), json!("not-found")),
        "{r}"
    );
}

#[test]
fn ctl_reports_unknown_commands_and_missing_tickets() {
    let d = Daemon::start();
    let (code, out, err) = d.ctl(&["bogus"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(err.contains("bogus"), "the error names the command: {err}");
    let (code, _, err) = d.ctl(&["tickets", "show", "999"]);
    assert_ne!(code, 0);
    assert!(err.contains("no ticket"), "{err}");
    let (code, _, err) = d.ctl(&["tickets", "show", "abc"]);
    assert_ne!(code, 0);
    assert!(err.contains("abc"), "{err}");
    let (code, _, err) = d.ctl(&["tickets", "list", "--limit", "many"]);
    assert_ne!(code, 0);
    assert!(err.contains("many"), "{err}");
    // The socket can also be found through the config file.
    let mut cmd = std::process::Command::new(FRONTDESKCTL);
    cmd.args(["--config", d.config_path.to_str().unwrap(), "status"]);
    let (code, out, err) = output(cmd, None);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&d.lmtp),
        "status names the LMTP address: {out}"
    );
}

/// `frontdeskctl tickets list | head -1`: a reader that stops early ends frontdeskctl
/// quietly (exit 0, nothing on stderr), as with any Unix tool; it used to panic.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let d = Daemon::start();
    for n in 0..3 {
        let mail = format!("From: p{n}@example.org\r\nSubject: pipe {n}\r\nMessage-ID: <pipe{n}@example.org>\r\n\r\nx\r\n");
        let (code, _, err) =
            d.ctl_stdin(&["inject", "--channel", "support"], Some(mail.as_bytes()));
        assert_eq!(code, 0, "{err}");
    }
    for args in [
        &["tickets", "list"][..],
        &["--json", "tickets", "list"][..],
        &["completions", "bash"][..],
    ] {
        // The reading end is closed before frontdeskctl writes its first line.
        let (read_end, write_end) = std::io::pipe().unwrap();
        drop(read_end);
        let child = std::process::Command::new(FRONTDESKCTL)
            .arg("--socket")
            .arg(&d.socket)
            .args(args)
            .stdout(write_end)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let done = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&done.stderr);
        assert!(
            done.status.success() && err.is_empty(),
            "{args:?}: {:?}, stderr:\n{err}",
            done.status
        );
    }
}

#[test]
fn inject_from_stdin_and_from_a_file_commits_then_exits_0() {
    let d = Daemon::start();
    let (code, out, err) = d.ctl_stdin(
        &["--json", "inject", "--channel", "support"],
        Some(&mail("via stdin", "pipe-1@example.org")),
    );
    assert_eq!(code, 0, "{err}");
    let first: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(first["new_ticket"], true, "{first}");
    assert_eq!(first["duplicate"], false, "{first}");
    let ticket = first["ticket_id"].as_i64().unwrap();

    let mut reply = Mail::new(
        "Ivy <ivy@example.org>",
        "support@example.com",
        "Re: via stdin",
        "pipe-2@example.org",
    );
    reply.in_reply_to = "pipe-1@example.org".into();
    let path = reply.write(d.dir.path(), "reply.eml");
    let (code, out, err) = d.ctl(&["--json", "inject", "--channel", "support", "--file", &path]);
    assert_eq!(code, 0, "{err}");
    let second: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(second["ticket_id"], ticket, "{second}");
    assert_eq!(second["reason"], "headers", "{second}");

    // A re-run of the pipe (the MTA retrying) stores nothing new and still exits 0.
    let (code, out, err) = d.ctl(&["inject", "--channel", "support", "--file", &path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("already stored"), "{out}");

    let shown = d.ticket(ticket);
    let msgs = shown["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{shown:#}");
    assert!(msgs.iter().all(|m| m["source"] == "pipe"), "{shown:#}");
    assert_eq!(shown["contact"]["email"], "ivy@example.org");
    assert_eq!(d.counts()["messages"], 2);
    // Human output names the ticket too.
    let (code, out, _) = d.ctl(&["tickets", "show", &ticket.to_string()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("via stdin") && out.contains("ivy@example.org"),
        "{out}"
    );
}

#[test]
fn inject_exit_codes_tell_the_mta_what_to_do() {
    let mut d = Daemon::start_with(Settings {
        max_message_bytes: Some(10_000),
        ..Settings::default()
    });
    // Over max_message_bytes: EX_DATAERR (the MTA bounces it, as LMTP's 552 would).
    let mut big = Mail::new(
        "big@example.org",
        "support@example.com",
        "huge",
        "huge@example.org",
    );
    big.body = "y".repeat(76).repeat(200);
    let (code, _, err) = d.ctl_stdin(&["inject", "--channel", "support"], Some(&big.bytes()));
    assert_eq!(code, EX_DATAERR, "{err}");
    // Unknown channel: EX_NOUSER.
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "nosuch"],
        Some(&mail("lost", "lost@example.org")),
    );
    assert_eq!(code, EX_NOUSER, "{err}");
    assert!(err.contains("nosuch"), "{err}");
    // Unusable messages: EX_DATAERR, nothing stored.
    for bad in [
        &b""[..],
        b"\r\n\r\n  \r\n",
        b"just some words without any header\r\n",
    ] {
        let (code, _, err) = d.ctl_stdin(&["inject", "--channel", "support"], Some(bad));
        assert_eq!(code, EX_DATAERR, "{bad:?}: {err}");
    }
    // A missing --file is the local side's problem; the MTA should keep the mail.
    let (code, _, _) = d.ctl(&[
        "inject",
        "--channel",
        "support",
        "--file",
        "/nonexistent/message.eml",
    ]);
    assert_ne!(code, 0);
    assert_eq!(d.counts()["messages"], 0);
    assert!(d.tickets().is_empty());

    // Daemon stopped (socket removed): EX_TEMPFAIL, so the MTA retries.
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(&mail("later", "later@example.org")),
    );
    assert_eq!(code, EX_TEMPFAIL, "{err}");

    // Daemon crashed (stale socket file, nobody listening): EX_TEMPFAIL too.
    d.restart();
    d.crash();
    assert!(d.socket.exists(), "a crash leaves the socket file behind");
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(&mail("later", "later@example.org")),
    );
    assert_eq!(code, EX_TEMPFAIL, "{err}");

    // And after the restart it goes through.
    d.restart();
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(&mail("later", "later@example.org")),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(d.counts()["messages"], 1);
}

fn import(d: &Daemon, path: &Path) -> serde_json::Value {
    d.ctl_json(&["import", "--channel", "support", path.to_str().unwrap()])
}

fn tickets_by_size(d: &Daemon) -> Vec<(i64, i64)> {
    let mut t: Vec<(i64, i64)> = d
        .tickets()
        .iter()
        .map(|t| (t["messages"].as_i64().unwrap(), t["id"].as_i64().unwrap()))
        .collect();
    t.sort_unstable_by(|a, b| b.cmp(a));
    t
}

#[test]
fn importing_an_mbox_threads_conversations_and_a_rerun_stores_nothing() {
    let d = Daemon::start();
    let mbox: PathBuf = d.dir.path().join("history.mbox");
    // One more message whose body has lines that need mbox quoting.
    let mut quoted = Mail::new(
        "Lu <lu@example.org>",
        "support@example.com",
        "quoting",
        "quoting@example.org",
    );
    quoted.body = "From the start it failed.\r\n>From a quote.\r\nend\r\n".into();
    write_mbox(&mbox, &MBOX_THREADS.concat(), &[quoted.bytes()]);
    let first = import(&d, &mbox);
    assert_eq!(first["messages"], 7, "{first}");
    assert_eq!(first["stored"], 7, "{first}");
    assert_eq!(first["duplicates"], 0, "{first}");
    assert_eq!(first["rejected"], 0, "{first}");
    assert_eq!(first["new_tickets"], 3, "{first}");
    let sizes = tickets_by_size(&d);
    assert_eq!(
        sizes.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![4, 2, 1],
        "one ticket per thread"
    );
    let single = d.ticket(sizes[2].1);
    let text = single["messages"][0]["text"]
        .as_str()
        .unwrap()
        .replace("\r\n", "\n");
    assert_eq!(
        text.trim_end(),
        "From the start it failed.\n>From a quote.\nend",
        "mboxrd quoting undone"
    );
    let big = d.ticket(sizes[0].1);
    let msgs = big["messages"].as_array().unwrap();
    assert!(msgs.iter().all(|m| m["source"] == "import"), "{big:#}");
    // In date order: the thread's first message opened the ticket, under its author.
    assert!(
        msgs[0]["message_id"]
            .as_str()
            .unwrap()
            .contains("ddd65cda0911171950o4eea4389v86de9525e46052d3"),
        "{big:#}"
    );
    assert_eq!(big["contact"]["email"], "gzjjgod@gmail.com");
    assert!(
        msgs[1..].iter().all(|m| m["thread_reason"] == "headers"),
        "{big:#}"
    );

    let again = import(&d, &mbox);
    assert_eq!(again["stored"], 0, "{again}");
    assert_eq!(again["duplicates"], 7, "{again}");
    assert_eq!(again["new_tickets"], 0, "{again}");
    assert_eq!(
        tickets_by_size(&d).iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![4, 2, 1]
    );
    assert_eq!(d.counts()["messages"], 7);
}

#[test]
fn importing_a_maildir_threads_the_conversation_and_a_rerun_stores_nothing() {
    let d = Daemon::start();
    let maildir = d.dir.path().join("Maildir");
    write_maildir(&maildir, MAILDIR_THREAD);
    let first = import(&d, &maildir);
    assert_eq!(first["messages"], 5, "{first}");
    assert_eq!(first["stored"], 5, "{first}");
    assert_eq!(first["new_tickets"], 1, "{first}");
    let sizes = tickets_by_size(&d);
    assert_eq!(
        sizes.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![5],
        "one ticket for the thread"
    );
    let shown = d.ticket(sizes[0].1);
    assert_eq!(
        shown["contact"]["email"], "dottedmag@dottedmag.net",
        "the oldest message's author: {shown:#}"
    );

    let again = import(&d, &maildir);
    assert_eq!(again["stored"], 0, "{again}");
    assert_eq!(again["duplicates"], 5, "{again}");
    assert_eq!(d.counts()["messages"], 5);
    // Not a mailbox at all.
    let (code, _, err) = d.ctl(&[
        "import",
        "--channel",
        "support",
        d.data_dir.to_str().unwrap(),
    ]);
    assert_eq!(code, EX_DATAERR, "{err}");
}

#[test]
fn the_control_socket_is_mode_0660() {
    let d = Daemon::start();
    let mode = std::fs::metadata(&d.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660, "mode {:o}", mode & 0o777);
}

/// Invariant 6: the daemon checks the peer's credentials, not only the socket's mode.
/// Needs root (to run the client as `nobody`); elsewhere it says so and passes.
#[test]
fn a_peer_outside_the_daemons_user_and_group_is_refused() {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to run a client as another user");
        return;
    }
    let d = Daemon::start();
    // Open the way to the socket so only the daemon's own check stands between.
    std::fs::set_permissions(d.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    // The refusal must reach the user every time, not only when the client's request
    // happened to be written before the daemon closed the connection.
    for attempt in 1..=10 {
        let mut cmd = std::process::Command::new(FRONTDESKCTL);
        cmd.args(["--socket", d.socket.to_str().unwrap(), "status"])
            .uid(65534)
            .gid(65534);
        let (code, out, err) = output(cmd, None);
        assert_ne!(code, 0, "nobody got an answer: {out}");
        assert!(
            err.contains("permission denied: uid 65534"),
            "attempt {attempt}: the daemon's refusal is not shown: {err}"
        );
    }
    let mut cmd = std::process::Command::new(FRONTDESKCTL);
    cmd.args([
        "--socket",
        d.socket.to_str().unwrap(),
        "inject",
        "--channel",
        "support",
    ])
    .uid(65534)
    .gid(65534);
    let (code, _, err) = output(cmd, Some(&mail("sneaky", "sneaky@example.org")));
    assert_ne!(code, 0, "{err}");
    assert_eq!(d.counts()["messages"], 0);
    assert!(
        d.log().contains("refused a connection"),
        "the refusal is logged:\n{}",
        d.log()
    );
}
