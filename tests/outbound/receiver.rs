//! The SMTP receiver the replies go to: `tests/clients/smtp_receiver.py` (aiosmtpd) as a
//! child process on a loopback port it picks itself; it can be told to refuse chosen
//! addresses (a rules file) and can be killed and brought back on the same port.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness;

/// How long the receiver may take to listen.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// One message the receiver accepted.
#[derive(Debug, Clone)]
pub struct Received {
    /// Envelope MAIL FROM.
    pub mail_from: String,
    /// Envelope RCPT TO.
    pub rcpt_tos: Vec<String>,
    /// The .eml file.
    pub path: PathBuf,
    /// Its bytes.
    pub raw: Vec<u8>,
}

impl Received {
    /// The file as a string path (for the Python scripts).
    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("utf-8 path")
    }

    /// True when the raw message contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        String::from_utf8_lossy(&self.raw).contains(needle)
    }
}

/// A running (or stopped) receiver.
pub struct Receiver {
    pub dir: tempfile::TempDir,
    pub spool: PathBuf,
    pub rules: PathBuf,
    pub port: u16,
    lmtp: Option<String>,
    /// Whether it offers PIPELINING (RFC 2920).
    pipelining: bool,
    child: Option<Child>,
}

impl Receiver {
    /// A receiver that keeps what it accepts.
    pub fn start() -> Receiver {
        Receiver::start_with(None)
    }

    /// A receiver that also hands every accepted message to the LMTP server `lmtp`.
    pub fn start_with(lmtp: Option<String>) -> Receiver {
        Receiver::start_as(lmtp, true)
    }

    /// A receiver that does not offer PIPELINING: the client must send one command at
    /// a time.
    pub fn start_without_pipelining() -> Receiver {
        Receiver::start_as(None, false)
    }

    fn start_as(lmtp: Option<String>, pipelining: bool) -> Receiver {
        let dir = tempfile::Builder::new()
            .prefix("fd-smtp")
            .tempdir()
            .expect("temp dir");
        let spool = dir.path().join("spool");
        std::fs::create_dir_all(&spool).expect("mkdir spool");
        let rules = dir.path().join("rules.json");
        let mut r = Receiver {
            dir,
            spool,
            rules,
            port: 0,
            lmtp,
            pipelining,
            child: None,
        };
        r.spawn(0);
        r
    }

    fn spawn(&mut self, port: u16) {
        assert!(self.child.is_none(), "the receiver already runs");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("receiver.log"))
            .expect("receiver log");
        let mut cmd = Command::new("python3");
        cmd.arg(harness::client_script("smtp_receiver.py"))
            .arg("--spool")
            .arg(&self.spool)
            .arg("--port")
            .arg(port.to_string())
            .arg("--rules")
            .arg(&self.rules);
        if let Some(l) = &self.lmtp {
            cmd.arg("--lmtp").arg(l);
        }
        if !self.pipelining {
            cmd.arg("--no-pipelining");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn smtp_receiver.py (python3 with aiosmtpd)");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(START_DEADLINE) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("smtp_receiver.py did not start within {START_DEADLINE:?}");
            }
        };
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "smtp_receiver.py printed {line:?} ({e}); is aiosmtpd installed (pip install aiosmtpd)?\n{}",
                self.log()
            )
        });
        self.port = v["port"].as_u64().expect("port") as u16;
        assert!(port == 0 || self.port == port, "receiver moved port");
        self.child = Some(child);
    }

    /// Whether it offers PIPELINING.
    pub fn offers_pipelining(&self) -> bool {
        self.pipelining
    }

    /// The receiver's stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("receiver.log")).unwrap_or_default()
    }

    /// Kill it (the relay is down); wait until its port refuses connections.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("receiver not running");
        let _ = child.kill();
        let _ = child.wait();
        let port = self.port;
        harness::wait_until("the receiver's port to close", START_DEADLINE, || {
            TcpStream::connect(("127.0.0.1", port)).is_err()
        });
    }

    /// Start it again on the same port.
    pub fn resume(&mut self) {
        let port = self.port;
        self.spawn(port);
    }

    /// Refuse or accept per `rules` (see the script); takes effect at the next command.
    pub fn set_rules(&self, rules: &Value) {
        let tmp = self.rules.with_extension("tmp");
        std::fs::write(&tmp, rules.to_string()).expect("write rules");
        std::fs::rename(&tmp, &self.rules).expect("rename rules");
    }

    /// Everything accepted so far, in order of arrival.
    pub fn messages(&self) -> Vec<Received> {
        let mut metas: Vec<(u128, String, PathBuf)> = std::fs::read_dir(&self.spool)
            .expect("read spool")
            .filter_map(|e| {
                let p = e.ok()?.path();
                let name = p.file_name()?.to_str()?.to_string();
                let seq = name
                    .strip_prefix("msg-")?
                    .strip_suffix(".json")?
                    .to_string();
                let t: u128 = seq.split('-').next()?.parse().ok()?;
                Some((t, seq, p))
            })
            .collect();
        metas.sort();
        metas
            .into_iter()
            .map(|(_, seq, p)| {
                let meta: Value =
                    serde_json::from_slice(&std::fs::read(&p).expect("read meta")).expect("meta");
                let path = self.spool.join(format!("msg-{seq}.eml"));
                Received {
                    mail_from: meta["mail_from"].as_str().unwrap_or("").to_string(),
                    rcpt_tos: meta["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    raw: std::fs::read(&path).expect("read message"),
                    path,
                }
            })
            .collect()
    }

    /// Messages whose raw bytes contain `needle`.
    pub fn matching(&self, needle: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.contains(needle))
            .collect()
    }

    /// Wait until `n` messages contain `needle`; those messages.
    pub fn wait_for(&self, needle: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let found = self.matching(needle);
            if found.len() >= n {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} message(s) with {needle:?} within {within:?}, wanted {n}\n{}",
                found.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Messages with `address` among the envelope recipients.
    pub fn for_rcpt(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Wait until `n` messages went to `address`; those messages.
    pub fn wait_rcpt(&self, address: &str, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let found = self.for_rcpt(address);
            if found.len() >= n {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} message(s) for {address} within {within:?}, wanted {n}\n{}",
                found.len(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every MAIL/RCPT/DATA the receiver answered, refused ones included.
    pub fn attempts(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.spool.join("attempts.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// How often `address` was offered at `stage` (`mail`, `rcpt`, `data`).
    pub fn attempts_for(&self, stage: &str, address: &str) -> usize {
        self.attempts()
            .iter()
            .filter(|a| {
                a["stage"] == stage
                    && a["address"]
                        .as_str()
                        .is_some_and(|s| s.to_lowercase().contains(&address.to_lowercase()))
            })
            .count()
    }

    /// The spool dir as a path.
    #[allow(dead_code)]
    pub fn spool(&self) -> &Path {
        &self.spool
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- smtp receiver ({}) ----\n{}\nattempts:\n{}",
                self.dir.path().display(),
                self.log(),
                std::fs::read_to_string(self.spool.join("attempts.jsonl")).unwrap_or_default()
            );
        }
    }
}
