//! A bad config file is refused before anything is touched: exit code 78 (EX_CONFIG) and
//! `FILE:LINE: KEY: message` on stderr. Cases as data: each names how to break a good file
//! and what the message must point at.

use std::path::Path;
use std::process::Command;

use crate::harness::{output, Daemon, FRONTDESKD};

/// A good file; `{dir}` is replaced by the test's temp dir.
const GOOD: &str = r#"[daemon]
data_dir = "{dir}/data"
control_socket = "{dir}/control.sock"
company_name = "Acme"

[http]
listen = "127.0.0.1:0"

[lmtp]
listen = "127.0.0.1:0"
max_message_bytes = 1000000

[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
aliases = ["help@example.com"]

[[channel]]
kind = "email"
name = "sales"
address = "sales@example.com"
"#;

/// One way to break [`GOOD`].
struct Case {
    name: &'static str,
    /// Replace the first occurrence of this text ...
    find: &'static str,
    /// ... with this.
    replace: &'static str,
    /// The line the message must name: the 1-based line of the broken file holding this text.
    line_of: &'static str,
    /// The message must name this key.
    key: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "toml syntax error",
        find: "company_name = \"Acme\"",
        replace: "company_name = \"Acme",
        line_of: "company_name = \"Acme",
        key: "company_name",
    },
    Case {
        name: "unknown key",
        find: "max_message_bytes = 1000000",
        replace: "max_message_bytes = 1000000\nmax_mesage_count = 5",
        line_of: "max_mesage_count",
        key: "lmtp.max_mesage_count",
    },
    Case {
        name: "unknown key in a channel",
        find: "name = \"sales\"",
        replace: "name = \"sales\"\nforward_orignal_sender = true",
        line_of: "forward_orignal_sender",
        key: "channel[2].forward_orignal_sender",
    },
    Case {
        name: "missing company_name",
        find: "company_name = \"Acme\"\n",
        replace: "",
        line_of: "[daemon]",
        key: "daemon.company_name",
    },
    Case {
        name: "bad address",
        find: "address = \"sales@example.com\"",
        replace: "address = \"sales at example\"",
        line_of: "sales at example",
        key: "channel[2].address",
    },
    Case {
        name: "bad alias",
        find: "aliases = [\"help@example.com\"]",
        replace: "aliases = [\"help@\"]",
        line_of: "help@\"",
        key: "channel[1].aliases[1]",
    },
    Case {
        name: "duplicate channel name",
        find: "name = \"sales\"",
        replace: "name = \"support\" # again",
        line_of: "# again",
        key: "channel[2].name",
    },
    Case {
        name: "duplicate address across channels",
        find: "address = \"sales@example.com\"",
        replace: "address = \"Help@Example.com\"",
        line_of: "Help@Example.com",
        key: "channel[2].address",
    },
    Case {
        name: "bad listen address",
        find: "listen = \"127.0.0.1:0\"\nmax",
        replace: "listen = \"localhost\"\nmax",
        line_of: "listen = \"localhost\"",
        key: "lmtp.listen",
    },
    Case {
        name: "bad http listen port",
        find: "listen = \"127.0.0.1:0\"",
        replace: "listen = \"127.0.0.1:99999\"",
        line_of: "127.0.0.1:99999",
        key: "http.listen",
    },
    Case {
        name: "out of range number",
        find: "max_message_bytes = 1000000",
        replace: "max_message_bytes = 0",
        line_of: "max_message_bytes = 0",
        key: "lmtp.max_message_bytes",
    },
];

fn line_number(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in\n{text}"))
        + 1
}

/// Run `frontdeskd ARGS`: (exit code, stdout, stderr).
fn frontdeskd(args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(FRONTDESKD);
    cmd.args(args)
        .env_remove("JOURNAL_STREAM")
        .env_remove("NOTIFY_SOCKET");
    output(cmd, None)
}

fn good(dir: &Path) -> String {
    GOOD.replace("{dir}", dir.to_str().unwrap())
}

#[test]
fn the_good_file_of_these_cases_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("frontdesk.toml");
    std::fs::write(&path, good(dir.path())).unwrap();
    let (code, out, err) = frontdeskd(&["--check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !dir.path().join("data").exists(),
        "--check-config created the data dir"
    );
}

#[test]
fn each_kind_of_bad_file_is_refused_with_file_line_and_key() {
    let mut failures = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let text = good(dir.path());
        assert!(
            text.contains(case.find),
            "{}: {:?} not in the good file",
            case.name,
            case.find
        );
        let bad = text.replacen(case.find, case.replace, 1);
        let path = dir.path().join("frontdesk.toml");
        std::fs::write(&path, &bad).unwrap();
        let path_str = path.to_str().unwrap();
        let line = line_number(&bad, case.line_of);
        for check_only in [false, true] {
            let args: Vec<&str> = if check_only {
                vec!["--check-config", "--config", path_str]
            } else {
                vec!["--config", path_str]
            };
            let (code, out, err) = frontdeskd(&args);
            let want = format!("{path_str}:{line}: {}: ", case.key);
            if code != 78 {
                failures.push(format!(
                    "{} {args:?}: exit code {code}, want 78\n{out}{err}",
                    case.name
                ));
            }
            if !err.contains(&want) {
                failures.push(format!(
                    "{} {args:?}: stderr lacks {want:?}:\n{err}",
                    case.name
                ));
            }
            if dir.path().join("data").exists() || dir.path().join("control.sock").exists() {
                failures.push(format!(
                    "{} {args:?}: the data dir or socket was created",
                    case.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_problem_in_a_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let bad = good(dir.path())
        .replacen("address = \"sales@example.com\"", "address = \"nope\"", 1)
        .replacen("listen = \"127.0.0.1:0\"", "listen = \"nowhere\"", 1)
        .replacen("max_message_bytes = 1000000", "max_message_bytes = -5", 1);
    let path = dir.path().join("frontdesk.toml");
    std::fs::write(&path, &bad).unwrap();
    let (code, _, err) = frontdeskd(&["--config", path.to_str().unwrap()]);
    assert_eq!(code, 78, "{err}");
    for (needle, key) in [
        ("\"nope\"", "channel[2].address"),
        ("\"nowhere\"", "http.listen"),
        ("= -5", "lmtp.max_message_bytes"),
    ] {
        let want = format!("{}:{}: {key}: ", path.display(), line_number(&bad, needle));
        assert!(err.contains(&want), "stderr lacks {want:?}:\n{err}");
    }
}

#[test]
fn a_missing_config_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.toml");
    let (code, _, err) = frontdeskd(&["--config", path.to_str().unwrap()]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains(path.to_str().unwrap()), "{err}");
}

#[test]
fn a_bad_file_leaves_an_existing_database_untouched() {
    let mut d = Daemon::start();
    let (code, _, err) = d.ctl_stdin(
        &["inject", "--channel", "support"],
        Some(b"From: a@example.org\r\nSubject: keep me\r\nMessage-ID: <keep@example.org>\r\n\r\nbody\r\n"),
    );
    assert_eq!(code, 0, "{err}");
    d.signal(libc::SIGTERM);
    assert!(d.wait_exit(std::time::Duration::from_secs(30)).success());
    let snapshot = |dir: &Path| {
        let mut files: Vec<(String, Vec<u8>, std::time::SystemTime)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let meta = e.metadata().unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                    meta.modified().unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let before = snapshot(&d.data_dir);
    let text = std::fs::read_to_string(&d.config_path).unwrap();
    std::fs::write(
        &d.config_path,
        text.replacen("company_name = \"Acme\"", "company_name = 5", 1),
    )
    .unwrap();
    let (code, _, err) = frontdeskd(&["--config", d.config_path.to_str().unwrap()]);
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("company_name"), "{err}");
    assert!(before == snapshot(&d.data_dir), "the data dir changed");
    assert!(!d.socket.exists(), "a control socket was created");
}

#[test]
fn the_example_config_checks_clean() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/frontdesk.toml");
    let (code, out, err) = frontdeskd(&["--check-config", "--config", example.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
}
