//! Signals: SIGTERM drains (a message mid-DATA is either stored and acknowledged or not
//! stored at all) and exits 0; SIGHUP reloads the config, and a broken file keeps the old one.

use std::time::Duration;

use serde_json::json;

use crate::harness::{codes, wait_until, Daemon, Mail, RawLmtp, Settings, DEFAULT_CHANNELS};

fn ticket_subjects(d: &Daemon) -> Vec<String> {
    d.tickets()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sigterm_mid_data_stores_the_whole_message_or_nothing_and_exits_0() {
    let mut d = Daemon::start();
    let mut c = RawLmtp::connect(&d.lmtp);
    c.expect(220);
    c.send(b"LHLO term.example\r\n");
    c.expect(250);
    c.send(b"MAIL FROM:<jo@example.org>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n");
    c.expect(250);
    c.expect(250);
    c.expect(354);
    let mut m = Mail::new(
        "Jo <jo@example.org>",
        "support@example.com",
        "half way",
        "halfway@example.org",
    );
    m.body = (0..200)
        .map(|i| format!("line {i} of a long message\r\n"))
        .collect::<String>()
        + "END-OF-BODY\r\n";
    let bytes = m.bytes();
    let (first, rest) = bytes.split_at(bytes.len() / 2);
    c.send(first);
    d.signal(libc::SIGTERM);
    d.wait_for_log("stopping", Duration::from_secs(20));
    c.send(rest);
    c.send(b".\r\n");
    let after_dot = c.reply();
    // Whatever came, the session is then closed (421 or plain close), and the daemon exits 0.
    let next = c.reply();
    assert!(
        next.as_ref().is_none_or(|r| r.0 == 421),
        "after the message: {next:?}"
    );
    let status = d.wait_exit(Duration::from_secs(40));
    assert!(
        status.success(),
        "frontdeskd exited with {status}\n{}",
        d.log()
    );
    assert!(
        !d.socket.exists(),
        "the control socket is removed on a clean stop"
    );

    d.restart();
    match after_dot {
        Some((250, text)) => {
            eprintln!(
                "SIGTERM mid-DATA: the session finished its message: {}",
                text.trim()
            );
            let tickets = d.tickets();
            assert_eq!(
                tickets.len(),
                1,
                "acknowledged, so it must be stored: {tickets:#?}"
            );
            let shown = d.ticket(tickets[0]["id"].as_i64().unwrap());
            let text = shown["messages"][0]["text"].as_str().unwrap();
            assert!(
                text.contains("line 199 of a long message") && text.contains("END-OF-BODY"),
                "stored whole: {text:?}"
            );
        }
        other => {
            eprintln!("SIGTERM mid-DATA: the session was closed: {other:?}");
            assert!(
                other.as_ref().is_none_or(|r| r.0 / 100 == 4),
                "a refusal must be temporary: {other:?}"
            );
            assert_eq!(
                d.counts()["messages"],
                0,
                "not acknowledged, so nothing (no half message) may be stored"
            );
        }
    }
}

#[test]
fn sigterm_closes_idle_sessions_with_421_and_exits_0_promptly() {
    let mut d = Daemon::start();
    let mut c = RawLmtp::connect(&d.lmtp);
    c.expect(220);
    c.send(b"LHLO idle.example\r\n");
    c.expect(250);
    d.signal(libc::SIGTERM);
    let r = c.reply();
    assert_eq!(r.as_ref().map(|r| r.0), Some(421), "{r:?}");
    // The default idle timeout is 300 s: the drain must not wait for it.
    let status = d.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "frontdeskd exited with {status}");
    assert!(d.log().contains("stopped"), "{}", d.log());
}

const BILLING: &str = r#"
[[channel]]
kind = "email"
name = "billing"
address = "billing@example.com"
"#;

fn channel_names(d: &Daemon) -> Vec<String> {
    d.ctl_json(&["channels", "list"])["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn deliver(d: &Daemon, rcpt: &str, subject: &str, id: &str) -> Vec<Vec<i64>> {
    let m = Mail::new("kim@example.org", rcpt, subject, id);
    let path = m.write(d.dir.path(), &format!("{id}.eml"));
    let r = d.lmtp_session(&json!([
        ["lhlo", "hup.example"],
        ["mail", "kim@example.org"],
        ["rcpt", rcpt],
        ["data", path, 1],
        ["quit"]
    ]));
    codes(&r)
}

#[test]
fn sighup_adds_a_channel_and_reload_removes_one() {
    let d = Daemon::start();
    assert_eq!(channel_names(&d), ["support", "sales"]);
    d.write_config(&Settings {
        channels: format!("{DEFAULT_CHANNELS}{BILLING}"),
        ..Settings::default()
    });
    d.signal(libc::SIGHUP);
    wait_until(
        "the billing channel after SIGHUP",
        Duration::from_secs(20),
        || channel_names(&d).contains(&"billing".to_string()),
    );
    assert_eq!(channel_names(&d), ["support", "sales", "billing"]);
    // The new address takes mail at once, on the same listener.
    let c = deliver(
        &d,
        "billing@example.com",
        "invoice wrong",
        "bill-1@example.org",
    );
    assert_eq!(c[2..5], [vec![250], vec![250], vec![250]], "{c:?}");
    let billing = d.ctl_json(&["tickets", "list", "--channel", "billing"]);
    assert_eq!(
        billing["tickets"][0]["subject"], "invoice wrong",
        "{billing}"
    );

    // `frontdeskctl reload` does the same and says what changed.
    let without_sales = DEFAULT_CHANNELS.split("[[channel]]").nth(1).unwrap();
    d.write_config(&Settings {
        channels: format!("[[channel]]{without_sales}{BILLING}"),
        ..Settings::default()
    });
    let r = d.ctl_json(&["reload"]);
    assert!(r.to_string().contains("channel sales removed"), "{r}");
    assert_eq!(channel_names(&d), ["support", "billing"]);
    let c = deliver(&d, "sales@example.com", "no longer", "sales-1@example.org");
    assert_eq!(c[3], vec![550], "sales is gone: {c:?}");
}

#[test]
fn sighup_with_a_broken_file_keeps_the_running_config() {
    let mut d = Daemon::start();
    let good = std::fs::read_to_string(&d.config_path).unwrap();
    let broken = good.replacen(
        "address = \"sales@example.com\"",
        "address = \"sales@example.com\"\nadress = \"typo\"",
        1,
    );
    std::fs::write(&d.config_path, &broken).unwrap();
    d.signal(libc::SIGHUP);
    d.wait_for_log("reload refused", Duration::from_secs(20));
    assert!(d.is_running(), "a bad reload must not stop the daemon");
    assert!(
        d.log().contains(&format!("{}:", d.config_path.display())),
        "the log names the file:\n{}",
        d.log()
    );
    assert_eq!(channel_names(&d), ["support", "sales"]);
    let c = deliver(&d, "sales@example.com", "still here", "still-1@example.org");
    assert_eq!(c[2..5], [vec![250], vec![250], vec![250]], "{c:?}");
    assert_eq!(ticket_subjects(&d), ["still here"]);

    // `frontdeskctl reload` refuses it too, with file, line and key, and a non-zero exit.
    let (code, out, err) = d.ctl(&["reload"]);
    assert_ne!(code, 0, "{out}");
    let line = broken
        .lines()
        .position(|l| l.starts_with("adress"))
        .unwrap()
        + 1;
    let want = format!("{}:{line}: channel[2].adress", d.config_path.display());
    assert!(err.contains(&want), "stderr lacks {want:?}: {err}");
    assert!(d.is_running());
    assert_eq!(channel_names(&d), ["support", "sales"]);
}
