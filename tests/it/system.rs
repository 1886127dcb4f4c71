//! The daemon and its host: sd_notify readiness, watchdog and stopping; a full disk
//! answered with 452 so the MTA keeps the mail.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{exit_code, wait_until};

fn config(dir: &Path, data_dir: &Path) -> std::path::PathBuf {
    let path = dir.join("frontdesk.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\ndata_dir = {:?}\ncontrol_socket = {:?}\ncompany_name = \"Acme\"\n\n[http]\nlisten = \"127.0.0.1:0\"\n\n[lmtp]\nlisten = \"127.0.0.1:0\"\n\n[[channel]]\nkind = \"email\"\nname = \"support\"\naddress = \"support@example.com\"\n",
            data_dir.display().to_string(),
            dir.join("control.sock").display().to_string()
        ),
    )
    .unwrap();
    path
}

fn recv_until(sock: &UnixDatagram, want: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        sock.set_read_timeout(Some(
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(10)),
        ))
        .unwrap();
        if let Ok(n) = sock.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            let done = text.lines().any(|l| l == want);
            seen.push(text);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want:?} from the daemon within {within:?}; got {seen:?}");
}

/// Under systemd (`Type=notify`, `WatchdogSec=`) the daemon says READY once it listens,
/// pings the watchdog while its store answers, and says STOPPING on SIGTERM.
#[test]
fn sd_notify_ready_watchdog_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&notify_path).unwrap();
    let cfg = config(dir.path(), &dir.path().join("data"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdeskd"))
        .arg("--config")
        .arg(&cfg)
        .env("NOTIFY_SOCKET", &notify_path)
        .env("WATCHDOG_USEC", "2000000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    recv_until(&sock, "READY=1", Duration::from_secs(20));
    // The control socket answers by the time READY is sent.
    assert!(std::os::unix::net::UnixStream::connect(dir.path().join("control.sock")).is_ok());
    recv_until(&sock, "WATCHDOG=1", Duration::from_secs(5));
    recv_until(&sock, "WATCHDOG=1", Duration::from_secs(5));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    recv_until(&sock, "STOPPING=1", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "daemon did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit_code(&status), 0);
}

/// Kills a daemon the test started if the test ends early (a failed assertion).
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: signalling a child of ours; harmless if it already exited.
        unsafe { libc::kill(self.0 as i32, libc::SIGKILL) };
    }
}

/// Unmounts the test's tmpfs even when the test fails.
struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

const LMTP_SEND: &str = r#"
import smtplib, sys, json
host, port, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
start = int(sys.argv[5]) if len(sys.argv) > 5 else 0
out = []
s = smtplib.LMTP(host, port)
for i in range(start, start + n):
    body = ("x" * 76 + "\r\n") * (size // 78)
    msg = f"From: c{i}@customer.org\r\nTo: support@example.com\r\nSubject: big {i}\r\nMessage-ID: <big{i}@customer.org>\r\n\r\n{body}".encode()
    try:
        s.sendmail(f"c{i}@customer.org", ["support@example.com"], msg)
        out.append([i, 250, ""])
    except smtplib.SMTPDataError as e:
        out.append([i, e.smtp_code, e.smtp_error.decode(errors="replace")])
    except smtplib.SMTPRecipientsRefused as e:
        code, text = list(e.recipients.values())[0]
        out.append([i, code, text.decode(errors="replace")])
        s = smtplib.LMTP(host, port)
s.quit()
print(json.dumps(out))
"#;

pub fn lmtp_send(addr: &str, start: usize, n: usize, size: usize) -> Vec<(usize, i64, String)> {
    let (host, port) = addr.rsplit_once(':').unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            LMTP_SEND,
            host,
            port,
            &n.to_string(),
            &size.to_string(),
            &start.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<(usize, i64, String)> = serde_json::from_slice(&out.stdout).unwrap();
    v
}

/// A full disk: LMTP answers 452 (the MTA keeps the mail), nothing half-written, the
/// daemon stays up; once there is room the same message is accepted and stored once.
/// Needs root to mount a small tmpfs; elsewhere it says so and checks nothing.
#[test]
fn a_full_disk_is_a_temporary_failure_and_loses_nothing() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("a_full_disk_is_a_temporary_failure_and_loses_nothing: needs root to mount a tmpfs; not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(ok.success(), "mount tmpfs failed");
    let _mount = Mount(data.clone());
    let cfg = config(dir.path(), &data);
    let log = std::fs::File::create(dir.path().join("daemon.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontdeskd"))
        .arg("--config")
        .arg(&cfg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let _guard = KillOnDrop(child.id());
    let ctl = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_frontdeskctl"))
            .arg("--socket")
            .arg(dir.path().join("control.sock"))
            .arg("--json")
            .args(args)
            .output()
            .unwrap()
    };
    wait_until("daemon ready", Duration::from_secs(20), || {
        ctl(&["status"]).status.success()
    });
    let status: serde_json::Value = serde_json::from_slice(&ctl(&["status"]).stdout).unwrap();
    let lmtp = status["lmtp_listen"].as_str().unwrap().to_string();

    // 40 messages of 200 KB into a 3 MB disk.
    let replies = lmtp_send(&lmtp, 0, 40, 200_000);
    let accepted: Vec<usize> = replies.iter().filter(|r| r.1 == 250).map(|r| r.0).collect();
    let refused: Vec<&(usize, i64, String)> = replies.iter().filter(|r| r.1 != 250).collect();
    assert!(!accepted.is_empty(), "nothing fit at all: {replies:?}");
    assert!(!refused.is_empty(), "the disk never filled: {replies:?}");
    for r in &refused {
        assert!(
            r.1 == 452 || r.1 == 451,
            "a full disk must be a temporary failure, got {r:?}"
        );
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon died on a full disk"
    );
    let messages = |ctl: &dyn Fn(&[&str]) -> std::process::Output| -> i64 {
        let v: serde_json::Value = serde_json::from_slice(&ctl(&["status"]).stdout).unwrap();
        v["counts"]["messages"].as_i64().unwrap()
    };
    assert_eq!(
        messages(&ctl) as usize,
        accepted.len(),
        "stored differs from acknowledged"
    );

    // Room again: the MTA's retry of the first refused message is accepted, once.
    let ok = Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&data)
        .status()
        .unwrap();
    assert!(ok.success());
    let first_refused = refused[0].0;
    let retry = lmtp_send(&lmtp, first_refused, 1, 200_000);
    assert_eq!(retry[0].1, 250, "{retry:?}");
    let again = lmtp_send(&lmtp, first_refused, 1, 200_000);
    assert_eq!(again[0].1, 250, "{again:?}");
    assert_eq!(messages(&ctl) as usize, accepted.len() + 1);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}
