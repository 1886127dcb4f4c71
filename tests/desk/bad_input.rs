//! Bad input: every refused `frontdeskctl` command gives a clear error, a non-zero exit
//! and changes nothing; bad pipelines and channel ticket/routing tables are refused by
//! `frontdeskd --check-config` and on reload with exit 78 / file:line:key.

use serde_json::Value;

use crate::harness::{output, Daemon, FRONTDESKD};
use crate::{add_user, deliver, ok, refused, start, ticket_by_subject, Delivery};

const CHANNELS: &str = r#"
[[pipeline]]
name = "Support"
stages = [
  { name = "New", closed = false },
  { name = "Closed", closed = true },
]

[[pipeline]]
name = "Billing"
stages = [
  { name = "Triage", closed = false },
  { name = "Refunded", closed = true },
]

[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

/// Everything a refused command could have touched.
fn snapshot(d: &Daemon, ticket: i64) -> Value {
    serde_json::json!({
        "ticket": d.ticket(ticket),
        "contact": d.ctl_json(&["contacts", "show", "cust@customer.org"]),
        "teams": d.ctl_json(&["teams", "list"]),
        "users": d.ctl_json(&["users", "list"]),
        "tickets": crate::tickets(d),
    })
}

#[test]
fn refused_commands_say_why_and_change_nothing() {
    let d = start(CHANNELS);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    add_user(&d, "zed@example.com", "Zed Zero", true);
    ok(&d, &["users", "deactivate", "zed@example.com"]);
    ok(&d, &["teams", "add", "Tier1"]);
    deliver(
        &d,
        &[Delivery::new(
            "cust@customer.org",
            "support@example.com",
            "Broken",
            "b@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Broken");
    let tid = t["id"].as_i64().unwrap();
    let id = tid.to_string();
    let before = snapshot(&d, tid);

    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "contacts",
                "set-owner",
                "cust@customer.org",
                "ghost@example.com",
            ],
            "no user ghost@example.com",
        ),
        (
            &[
                "contacts",
                "set-owner",
                "nobody@customer.org",
                "alice@example.com",
            ],
            "no contact nobody@customer.org",
        ),
        (
            &["tickets", "assign", &id, "ghost@example.com"],
            "no user ghost@example.com",
        ),
        (
            &["tickets", "assign", &id, "zed@example.com"],
            "zed@example.com is deactivated",
        ),
        (
            &["tickets", "assign", &id, "--team", "Ghosts"],
            "no team Ghosts",
        ),
        (
            &["tickets", "assign", "99999", "alice@example.com"],
            "no ticket #99999",
        ),
        (
            &["tickets", "status", &id, "Pending"],
            "not a stage of pipeline",
        ),
        // A stage of another pipeline is not a stage of this ticket's.
        (
            &["tickets", "status", &id, "Refunded"],
            "not a stage of pipeline",
        ),
        (
            &["tickets", "status", "99999", "Closed"],
            "no ticket #99999",
        ),
        (
            &["tickets", "priority", &id, "critical"],
            "must be low, medium, high or urgent",
        ),
        (
            &["teams", "members", "Ghosts", "--add", "alice@example.com"],
            "no team Ghosts",
        ),
        // One good and one unknown address: all or nothing.
        (
            &[
                "teams",
                "members",
                "Tier1",
                "--add",
                "alice@example.com",
                "--add",
                "ghost@example.com",
            ],
            "no user ghost@example.com",
        ),
        (&["teams", "add", "tier1"], "already exists"),
        (
            &["users", "set", "ghost@example.com", "--seat", "on"],
            "no user ghost@example.com",
        ),
        (
            &["users", "add", "alice@example.com", "--name", "Alice Again"],
            "already exists",
        ),
    ];
    for (args, want) in cases {
        let (code, err) = refused(&d, args);
        assert!(
            err.contains(want),
            "frontdeskctl {args:?} (exit {code}): want {want:?} in stderr:\n{err}"
        );
        let after = snapshot(&d, tid);
        assert_eq!(before, after, "frontdeskctl {args:?} changed something");
    }
    // The reply of a ghost agent is refused too and moves no status.
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "reply", &id, "--as", "zed@example.com"],
        Some(b"hi\n"),
    );
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("no active agent"), "{err}");
    assert_eq!(before, snapshot(&d, tid));
}

/// One way to break a good config.
struct Case {
    name: &'static str,
    find: &'static str,
    replace: &'static str,
    /// The line named must hold this text.
    line_of: &'static str,
    key: &'static str,
    message: &'static str,
}

const GOOD_TAIL: &str = r#"
[channel.ticket]
pipeline = "Billing"
status = "Triage"
priority = "high"
tags = ["billing"]

[channel.routing]
mode = "nobody"
"#;

const CASES: &[Case] = &[
    Case {
        name: "unknown pipeline",
        find: "pipeline = \"Billing\"",
        replace: "pipeline = \"Refunds\"",
        line_of: "pipeline = \"Refunds\"",
        key: "channel[1].ticket.pipeline",
        message: "no pipeline named \"Refunds\"",
    },
    Case {
        name: "stage of another pipeline",
        find: "status = \"Triage\"",
        replace: "status = \"New\"",
        line_of: "status = \"New\"",
        key: "channel[1].ticket.status",
        message: "\"New\" is not a stage of pipeline \"Billing\"",
    },
    Case {
        name: "bad priority",
        find: "priority = \"high\"",
        replace: "priority = \"critical\"",
        line_of: "priority = \"critical\"",
        key: "channel[1].ticket.priority",
        message: "must be low, medium, high or urgent",
    },
    Case {
        name: "pipeline without a closed stage",
        find: "{ name = \"Refunded\", closed = true },",
        replace: "{ name = \"Refunded\", closed = false },",
        line_of: "name = \"Billing\"",
        key: "pipeline[2].stages",
        message: "closed = true",
    },
    Case {
        name: "reopen stage not in the pipeline",
        find: "{ name = \"Refunded\", closed = true },\n]",
        replace: "{ name = \"Refunded\", closed = true },\n]\nreopen_stage = \"Reopened\"",
        line_of: "reopen_stage = \"Reopened\"",
        key: "pipeline[2].reopen_stage",
        message: "not a stage of pipeline",
    },
    Case {
        name: "agent reply stage that is closed",
        find: "{ name = \"Refunded\", closed = true },\n]",
        replace: "{ name = \"Refunded\", closed = true },\n]\nagent_reply_stage = \"Refunded\"",
        line_of: "agent_reply_stage = \"Refunded\"",
        key: "pipeline[2].agent_reply_stage",
        message: "closed stage",
    },
    Case {
        name: "unknown routing mode",
        find: "mode = \"nobody\"",
        replace: "mode = \"round_robin\"",
        line_of: "mode = \"round_robin\"",
        key: "channel[1].routing.mode",
        message: "\"round_robin\"",
    },
    Case {
        name: "users_and_teams with an empty pool",
        find: "mode = \"nobody\"",
        replace: "mode = \"users_and_teams\"",
        line_of: "mode = \"users_and_teams\"",
        key: "channel[1].routing.mode",
        message: "at least one entry",
    },
    Case {
        name: "routing user that is no address",
        find: "mode = \"nobody\"",
        replace: "mode = \"users_and_teams\"\nusers = [\"alice\"]",
        line_of: "users = [\"alice\"]",
        key: "channel[1].routing.users",
        message: "not a user address",
    },
];

fn good(dir: &std::path::Path) -> String {
    format!(
        "[daemon]\ndata_dir = {:?}\ncontrol_socket = {:?}\ncompany_name = \"Acme\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n\n[lmtp]\nlisten = \"127.0.0.1:0\"\n{CHANNELS}{GOOD_TAIL}",
        dir.join("data").display().to_string(),
        dir.join("control.sock").display().to_string(),
    )
}

#[test]
fn check_config_refuses_bad_pipelines_and_ticket_tables_with_file_line_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = good(dir.path());
    let path = dir.path().join("frontdesk.toml");
    std::fs::write(&path, &good).unwrap();
    let mut cmd = std::process::Command::new(FRONTDESKD);
    cmd.arg("--check-config").arg("--config").arg(&path);
    let (code, out, err) = output(cmd, None);
    assert_eq!(code, 0, "the good config is refused:\n{err}\n{out}");

    for case in CASES {
        assert!(
            good.contains(case.find),
            "{}: no {:?}",
            case.name,
            case.find
        );
        let bad = good.replacen(case.find, case.replace, 1);
        std::fs::write(&path, &bad).unwrap();
        let line = bad
            .lines()
            .position(|l| l.contains(case.line_of))
            .unwrap_or_else(|| panic!("{}: no {:?}", case.name, case.line_of))
            + 1;
        let mut cmd = std::process::Command::new(FRONTDESKD);
        cmd.arg("--check-config").arg("--config").arg(&path);
        let (code, _, err) = output(cmd, None);
        assert_eq!(code, 78, "{}: exit {code}\n{err}", case.name);
        let want = format!("{}:{line}: {}: ", path.display(), case.key);
        let hit = err
            .lines()
            .find(|l| l.starts_with(&want))
            .unwrap_or_else(|| panic!("{}: want {want:?} in:\n{err}", case.name));
        assert!(
            hit.contains(case.message),
            "{}: want {:?} in {hit:?}",
            case.name,
            case.message
        );
        assert!(
            !dir.path().join("data").exists(),
            "{}: --check-config touched the data dir",
            case.name
        );
    }
}

#[test]
fn reload_with_a_bad_pipeline_keeps_the_running_config() {
    let d = start(&format!("{CHANNELS}{GOOD_TAIL}"));
    let bad = format!("{CHANNELS}{GOOD_TAIL}").replace("status = \"Triage\"", "status = \"Open\"");
    crate::rewrite(&d, &bad);
    let (_, err) = refused(&d, &["reload"]);
    let line = std::fs::read_to_string(&d.config_path)
        .unwrap()
        .lines()
        .position(|l| l.contains("status = \"Open\""))
        .unwrap()
        + 1;
    let want = format!(
        "{}:{line}: channel[1].ticket.status: ",
        d.config_path.display()
    );
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
    deliver(
        &d,
        &[Delivery::new(
            "cust@customer.org",
            "support@example.com",
            "After refused reload",
            "arr@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "After refused reload");
    assert_eq!(t["pipeline"], "Billing");
    assert_eq!(t["status"], "Triage");
    assert_eq!(t["priority"], "high");
    assert_eq!(t["tags"], serde_json::json!(["billing"]));
}
