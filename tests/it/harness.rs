//! The test harness: a daemon per test in its own temp dir, started as a child process
//! from a generated config, ready when its control socket answers, killed on drop.
//!
//! Nothing here waits with a fixed sleep: every wait polls a condition until a deadline
//! (generous, for a busy 2-core machine) and fails with the daemon's log when it passes.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The daemon binary under test.
pub const FRONTDESKD: &str = env!("CARGO_BIN_EXE_frontdeskd");
/// The admin CLI under test.
pub const FRONTDESKCTL: &str = env!("CARGO_BIN_EXE_frontdeskctl");

/// How long a daemon may take to answer on its control socket after start.
pub const START_DEADLINE: Duration = Duration::from_secs(20);
/// How long one client command (ctl, a Python client) may run.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(45);

/// The channels most tests use: `support` (with an alias) and `sales`.
pub const DEFAULT_CHANNELS: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
aliases = ["help@example.com"]
forward_original_sender = true

[[channel]]
kind = "email"
name = "sales"
address = "sales@example.com"
"#;

/// `tests/` of this package.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// A client script under `tests/clients/`.
pub fn client_script(name: &str) -> PathBuf {
    tests_dir().join("clients").join(name)
}

/// The shared corpus (`../shared/corpus`, or `$FRONTDESK_CORPUS`).
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("FRONTDESK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// Settings that vary between tests; everything else is fixed by [`Daemon::config_text`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// `[lmtp] max_message_bytes`.
    pub max_message_bytes: Option<u64>,
    /// `[lmtp] idle_timeout_seconds`.
    pub idle_timeout_seconds: Option<u64>,
    /// `[lmtp] max_sessions`.
    pub max_sessions: Option<u64>,
    /// The `[[channel]]` tables, as TOML.
    pub channels: String,
    /// `[http] public_url`.
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_message_bytes: None,
            idle_timeout_seconds: None,
            max_sessions: None,
            channels: DEFAULT_CHANNELS.to_string(),
            public_url: None,
        }
    }
}

/// One daemon under test.
pub struct Daemon {
    /// Holds config, data dir, socket and log; removed on drop.
    pub dir: tempfile::TempDir,
    /// The config file.
    pub config_path: PathBuf,
    /// `[daemon] data_dir`.
    pub data_dir: PathBuf,
    /// `[daemon] control_socket`.
    pub socket: PathBuf,
    /// Where the daemon's stderr (its log) goes; appended to across restarts.
    pub log_path: PathBuf,
    /// The running child, if any.
    child: Option<Child>,
    /// Bound LMTP address of the running child (`host:port`).
    pub lmtp: String,
    /// Bound HTTP address of the running child.
    pub http: String,
}

impl Daemon {
    /// A daemon on the default channels.
    pub fn start() -> Daemon {
        Daemon::start_with(Settings::default())
    }

    /// A daemon with `settings`, ready to use.
    pub fn start_with(settings: Settings) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("fd-it")
            .tempdir()
            .expect("temp dir");
        let data_dir = dir.path().join("data");
        let socket = dir.path().join("control.sock");
        let config_path = dir.path().join("frontdesk.toml");
        let log_path = dir.path().join("daemon.log");
        let mut d = Daemon {
            dir,
            config_path,
            data_dir,
            socket,
            log_path,
            child: None,
            lmtp: String::new(),
            http: String::new(),
        };
        d.write_config(&settings);
        d.restart();
        d
    }

    /// The config file text for `settings` in this daemon's dir.
    pub fn config_text(&self, settings: &Settings) -> String {
        let mut lmtp = String::from("listen = \"127.0.0.1:0\"\n");
        if let Some(n) = settings.max_message_bytes {
            lmtp.push_str(&format!("max_message_bytes = {n}\n"));
        }
        if let Some(n) = settings.idle_timeout_seconds {
            lmtp.push_str(&format!("idle_timeout_seconds = {n}\n"));
        }
        if let Some(n) = settings.max_sessions {
            lmtp.push_str(&format!("max_sessions = {n}\n"));
        }
        let public_url = settings
            .public_url
            .as_ref()
            .map(|u| format!("public_url = {u:?}\n"))
            .unwrap_or_default();
        format!(
            "[daemon]\ndata_dir = {:?}\ncontrol_socket = {:?}\ncompany_name = \"Acme\"\nlog_level = \"info\"\n\n\
             [http]\nlisten = \"127.0.0.1:0\"\n{public_url}\n[lmtp]\n{lmtp}\n{}",
            self.data_dir.display().to_string(),
            self.socket.display().to_string(),
            settings.channels
        )
    }

    /// Rewrite the config file (a running daemon sees it on SIGHUP or `reload`).
    pub fn write_config(&self, settings: &Settings) {
        std::fs::write(&self.config_path, self.config_text(settings)).expect("write config");
    }

    /// Start the daemon (again) on the same config and data dir and wait until it is ready.
    pub fn restart(&mut self) {
        assert!(
            self.child.is_none(),
            "restart() while the daemon still runs"
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open daemon log");
        let child = Command::new(FRONTDESKD)
            .arg("--config")
            .arg(&self.config_path)
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn frontdeskd");
        self.child = Some(child);
        let status = self.wait_ready();
        self.lmtp = status["lmtp_listen"]
            .as_str()
            .expect("lmtp_listen")
            .to_string();
        self.http = status["http_listen"]
            .as_str()
            .expect("http_listen")
            .to_string();
    }

    /// Poll `status` until it answers; the status JSON.
    fn wait_ready(&mut self) -> Value {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                self.child = None;
                panic!(
                    "frontdeskd exited during start-up with {status}\n{}",
                    self.log()
                );
            }
            if let Ok(mut c) = ControlConn::connect(&self.socket) {
                if let Ok(v) = c.call(&serde_json::json!({"cmd": "status"})) {
                    if v["ok"] == true {
                        return v["data"].clone();
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "frontdeskd not ready after {START_DEADLINE:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run the daemon on this config in the foreground, expecting it to refuse to start:
    /// (exit code, stderr). Fails when it is still running after [`COMMAND_DEADLINE`].
    pub fn start_refused(&self) -> (i32, String) {
        assert!(self.child.is_none(), "the daemon already runs");
        let mut cmd = Command::new(FRONTDESKD);
        cmd.arg("--config")
            .arg(&self.config_path)
            .env_remove("JOURNAL_STREAM")
            .env_remove("NOTIFY_SOCKET");
        let (code, _, err) = output(cmd, None);
        (code, err)
    }

    /// The daemon's process id.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("daemon not running").id() as i32
    }

    /// Send a signal to the daemon.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid; no memory is touched.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "kill({}, {sig}) failed", self.pid());
    }

    /// SIGKILL and reap: a crash.
    pub fn crash(&mut self) {
        let mut child = self.child.take().expect("daemon not running");
        child.kill().expect("SIGKILL frontdeskd");
        child.wait().expect("reap frontdeskd");
    }

    /// Wait for the daemon to exit on its own (after SIGTERM) and return its status.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            let child = self.child.as_mut().expect("daemon not running");
            if let Some(status) = child.try_wait().expect("try_wait") {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "frontdeskd still running {within:?} after it was told to stop\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// True while the child process runs.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().expect("try_wait").is_none(),
            None => false,
        }
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Wait until the daemon's log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the daemon log within {within:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Run `frontdeskctl --socket S ARGS`: (exit code, stdout, stderr).
    pub fn ctl(&self, args: &[&str]) -> (i32, String, String) {
        self.ctl_stdin(args, None)
    }

    /// [`Daemon::ctl`] with `input` on stdin.
    pub fn ctl_stdin(&self, args: &[&str], input: Option<&[u8]>) -> (i32, String, String) {
        let mut cmd = Command::new(FRONTDESKCTL);
        cmd.arg("--socket").arg(&self.socket).args(args);
        output(cmd, input)
    }

    /// `frontdeskctl --json ARGS`, which must succeed; its JSON output.
    pub fn ctl_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let (code, out, err) = self.ctl(&all);
        assert_eq!(
            code, 0,
            "frontdeskctl {all:?} failed ({code}):\n{err}\n{out}"
        );
        serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("frontdeskctl {all:?} printed no JSON ({e}):\n{out}"))
    }

    /// `tickets list` with a large limit.
    pub fn tickets(&self) -> Vec<Value> {
        let v = self.ctl_json(&["tickets", "list", "--limit", "100000"]);
        v["tickets"].as_array().expect("tickets array").clone()
    }

    /// The ticket numbers of [`Daemon::tickets`], most recent activity first.
    pub fn ticket_ids(&self) -> Vec<i64> {
        self.tickets()
            .iter()
            .filter_map(|t| t["id"].as_i64())
            .collect()
    }

    /// `tickets show ID`.
    pub fn ticket(&self, id: i64) -> Value {
        self.ctl_json(&["tickets", "show", &id.to_string()])
    }

    /// `status` counts.
    pub fn counts(&self) -> Value {
        self.ctl_json(&["status"])["counts"].clone()
    }

    /// A raw connection to the control socket.
    pub fn control(&self) -> ControlConn {
        ControlConn::connect(&self.socket).expect("connect to the control socket")
    }

    /// Run a Python client from `tests/clients/` against this daemon's LMTP listener:
    /// `python3 SCRIPT HOST PORT ARGS`; its stdout parsed as JSON.
    pub fn lmtp_client(&self, script: &str, args: &[&str]) -> Value {
        let (host, port) = self.lmtp.rsplit_once(':').expect("host:port");
        python(script, &[&[host, port], args].concat())
    }

    /// Run the LMTP session script with `steps` (see `tests/clients/lmtp_session.py`).
    pub fn lmtp_session(&self, steps: &Value) -> Vec<Vec<(i64, String)>> {
        let file = tempfile::NamedTempFile::new_in(self.dir.path()).expect("temp file");
        std::fs::write(file.path(), steps.to_string()).expect("write steps");
        let v = self.lmtp_client(
            "lmtp_session.py",
            &[file.path().to_str().expect("utf-8 path")],
        );
        replies(&v)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!(
                "---- frontdeskd log ({}) ----\n{}",
                self.log_path.display(),
                self.log()
            );
        }
    }
}

/// Poll `condition` until it holds; fail naming `what` when `within` passes.
pub fn wait_until(what: &str, within: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replies as printed by the Python session script: one list of `[code, text]` per step.
pub fn replies(v: &Value) -> Vec<Vec<(i64, String)>> {
    v.as_array()
        .unwrap_or_else(|| panic!("client output is not a list: {v}"))
        .iter()
        .map(|step| {
            step.as_array()
                .unwrap_or_else(|| panic!("step is not a list: {step}"))
                .iter()
                .map(|r| {
                    (
                        r[0].as_i64().expect("code"),
                        r[1].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Only the codes of [`replies`].
pub fn codes(r: &[Vec<(i64, String)>]) -> Vec<Vec<i64>> {
    r.iter()
        .map(|s| s.iter().map(|(c, _)| *c).collect())
        .collect()
}

/// Run `python3 tests/clients/SCRIPT ARGS` and parse its stdout as JSON.
pub fn python(script: &str, args: &[&str]) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg(client_script(script)).args(args);
    let out = run(cmd, None, COMMAND_DEADLINE);
    let stdout = lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} {args:?} failed ({}):\n{}\n{stdout}",
        out.status,
        lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{script} printed no JSON ({e}):\n{stdout}\n{}",
            lossy(&out.stderr)
        )
    })
}

/// Run a command to completion with a deadline; kill it and fail when it passes.
pub fn run(mut cmd: Command, input: Option<&[u8]>, within: Duration) -> Output {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let what = format!("{cmd:?}");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let pid = child.id() as i32;
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(within) {
        Ok(out) => out.unwrap_or_else(|e| panic!("{what}: {e}")),
        Err(_) => {
            // SAFETY: kill(2) on a child we spawned and have not reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{what} did not finish within {within:?}");
        }
    }
}

/// Run a command to completion (see [`run`]): (exit code, stdout, stderr).
pub fn output(cmd: Command, input: Option<&[u8]>) -> (i32, String, String) {
    let out = run(cmd, input, COMMAND_DEADLINE);
    (
        exit_code(&out.status),
        lossy(&out.stdout),
        lossy(&out.stderr),
    )
}

/// The exit code, or 128 + signal.
pub fn exit_code(status: &ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A raw connection to the control socket: JSON lines each way.
pub struct ControlConn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl ControlConn {
    /// Connect to `path`.
    pub fn connect(path: &Path) -> std::io::Result<ControlConn> {
        let stream = UnixStream::connect(path)?;
        stream.set_read_timeout(Some(COMMAND_DEADLINE))?;
        let writer = stream.try_clone()?;
        Ok(ControlConn {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Send one raw line (a newline is added) and read one answer line as JSON.
    pub fn call_raw(&mut self, line: &str) -> std::io::Result<Value> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "control socket closed",
            ));
        }
        serde_json::from_str(&answer)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// Send one request and read its answer.
    pub fn call(&mut self, request: &Value) -> std::io::Result<Value> {
        self.call_raw(&request.to_string())
    }

    /// A request that must succeed; its `data`.
    pub fn data(&mut self, request: &Value) -> Value {
        let v = self
            .call(request)
            .unwrap_or_else(|e| panic!("{request}: {e}"));
        assert_eq!(v["ok"], true, "{request} failed: {v}");
        v["data"].clone()
    }
}

/// A raw LMTP client for steps a library client cannot take (stop mid-DATA, interleave
/// with signals).
pub struct RawLmtp {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl RawLmtp {
    pub fn connect(addr: &str) -> RawLmtp {
        let s = TcpStream::connect(addr).expect("connect to LMTP");
        s.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
        RawLmtp {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    /// Send bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// One reply (multi-line joined); None when the server closed the connection.
    pub fn reply(&mut self) -> Option<(u16, String)> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return Some((line.get(..3)?.parse().ok()?, all));
            }
        }
    }

    /// One reply that must have `code`; its text.
    pub fn expect(&mut self, code: u16) -> String {
        let r = self.reply();
        assert_eq!(r.as_ref().map(|r| r.0), Some(code), "{r:?}");
        r.unwrap().1
    }
}

/// A small RFC 5322 message.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    /// From address.
    pub from: String,
    /// To address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Message-ID without brackets (none when empty).
    pub message_id: String,
    /// In-Reply-To without brackets (none when empty).
    pub in_reply_to: String,
    /// Body text.
    pub body: String,
}

impl Mail {
    /// A message from `from` to `to` with a subject and Message-ID.
    pub fn new(from: &str, to: &str, subject: &str, message_id: &str) -> Mail {
        Mail {
            from: from.into(),
            to: to.into(),
            subject: subject.into(),
            message_id: message_id.into(),
            in_reply_to: String::new(),
            body: format!("Hello,\r\n\r\nthis is about {subject}.\r\n\r\nThanks\r\n"),
        }
    }

    /// The bytes, CRLF line ends.
    pub fn bytes(&self) -> Vec<u8> {
        let mut s = format!(
            "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: Tue, 4 Mar 2025 10:00:00 +0000\r\n",
            self.from, self.to, self.subject
        );
        if !self.message_id.is_empty() {
            s.push_str(&format!("Message-ID: <{}>\r\n", self.message_id));
        }
        if !self.in_reply_to.is_empty() {
            s.push_str(&format!(
                "In-Reply-To: <{0}>\r\nReferences: <{0}>\r\n",
                self.in_reply_to
            ));
        }
        s.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        s.push_str(&self.body);
        s.into_bytes()
    }

    /// Write the message into `dir` as `name` and return the path as a string.
    pub fn write(&self, dir: &Path, name: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, self.bytes()).expect("write message");
        path.to_str().expect("utf-8 path").to_string()
    }
}
