//! LMTP ingest benchmark: the same mailbox delivered over LMTP to frontdesk and to
//! Dovecot's own LMTP service (into a Maildir), in the same run, with 1 and 4
//! concurrent connections. Prints messages/s for both, the ratio, frontdesk's peak RSS.
//!
//! Run: `cargo bench --bench lmtp_ingest` (see bench/README.md for the knobs).
//!
//! Not a Criterion bench (`harness = false`): one timed pass per target and
//! connection count is the measurement; the servers are real processes on loopback.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The corpus seed the issue's figures are for.
const SEED: u64 = 42;
/// How long one reply may take before the run is called broken.
const REPLY_TIMEOUT: Duration = Duration::from_secs(120);
/// Dovecot users dovecot.sh creates for LMTP runs (lmtp1..lmtp40).
const DOVECOT_USERS: usize = 40;
/// The envelope recipient at frontdesk.
const FRONTDESK_RCPT: &str = "support@example.com";

// ---------------------------------------------------------------- settings

struct Settings {
    n: usize,
    conns: Vec<usize>,
    rounds: usize,
    targets: Vec<Target>,
    keep: bool,
    manifest_dir: PathBuf,
    shared: PathBuf,
    target_dir: PathBuf,
    frontdeskd: PathBuf,
    frontdeskctl: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Target {
    Dovecot,
    Frontdesk,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Dovecot => "dovecot",
            Target::Frontdesk => "frontdesk",
        }
    }
}

fn env_usize(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().with_context(|| format!("{name}={v:?} is not a number")),
        _ => Ok(default),
    }
}

impl Settings {
    fn from_env() -> Result<Settings> {
        let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let n = env_usize("FRONTDESK_BENCH_N", 10_000)?;
        if n == 0 {
            bail!("FRONTDESK_BENCH_N must be at least 1");
        }
        let conns = match std::env::var("FRONTDESK_BENCH_CONNS") {
            Ok(v) if !v.trim().is_empty() => v
                .split(',')
                .map(|s| s.trim().parse::<usize>().with_context(|| format!("FRONTDESK_BENCH_CONNS={v:?}")))
                .collect::<Result<Vec<_>>>()?,
            _ => vec![1, 4],
        };
        if conns.iter().any(|&c| c == 0) {
            bail!("FRONTDESK_BENCH_CONNS: connection counts must be at least 1");
        }
        let rounds = env_usize("FRONTDESK_BENCH_ROUNDS", 1)?.max(1);
        let targets = match std::env::var("FRONTDESK_BENCH_TARGETS") {
            Ok(v) if !v.trim().is_empty() => v
                .split(',')
                .map(|s| match s.trim() {
                    "dovecot" => Ok(Target::Dovecot),
                    "frontdesk" => Ok(Target::Frontdesk),
                    other => Err(anyhow!("FRONTDESK_BENCH_TARGETS: unknown target {other:?} (dovecot, frontdesk)")),
                })
                .collect::<Result<Vec<_>>>()?,
            _ => vec![Target::Dovecot, Target::Frontdesk],
        };
        if targets.contains(&Target::Dovecot) && rounds * conns.len() > DOVECOT_USERS {
            bail!("at most {DOVECOT_USERS} Dovecot runs (one fresh user each): lower FRONTDESK_BENCH_ROUNDS or FRONTDESK_BENCH_CONNS");
        }
        let shared = match std::env::var_os("FRONTDESK_SHARED") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => manifest_dir.join("../shared"),
        };
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(p) if !p.is_empty() => {
                let p = PathBuf::from(p);
                if p.is_absolute() { p } else { manifest_dir.join(p) }
            }
            _ => manifest_dir.join("target"),
        };
        Ok(Settings {
            n,
            conns,
            rounds,
            targets,
            keep: std::env::var_os("FRONTDESK_BENCH_KEEP").is_some_and(|v| !v.is_empty() && v != "0"),
            manifest_dir,
            shared,
            target_dir,
            frontdeskd: PathBuf::from(env!("CARGO_BIN_EXE_frontdeskd")),
            frontdeskctl: PathBuf::from(env!("CARGO_BIN_EXE_frontdeskctl")),
        })
    }
}

// ---------------------------------------------------------------- corpus

/// One message ready for the wire: envelope sender and the DATA payload
/// (CRLF line endings, dot-stuffed, ending with `.\r\n`), built once for both targets.
struct Message {
    from: String,
    data: Vec<u8>,
}

/// Generate the corpus once into the cache dir; regenerate only when it is missing.
fn ensure_corpus(s: &Settings) -> Result<PathBuf> {
    let script = s.shared.join("bench/corpus.py");
    let cache = s.target_dir.join("bench-corpus");
    let dir = cache.join(format!("n{}-seed{SEED}", s.n));
    if dir.join("MANIFEST.tsv").is_file() {
        return Ok(dir);
    }
    if !script.is_file() {
        bail!(
            "corpus generator not found at {} (set FRONTDESK_SHARED to the shared directory)",
            script.display()
        );
    }
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let tmp = cache.join(format!("n{}-seed{SEED}.partial", s.n));
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("bench: generating the corpus ({} messages, seed {SEED}) into {} ...", s.n, dir.display());
    let status = Command::new("python3")
        .arg(&script)
        .args(["--n", &s.n.to_string(), "--seed", &SEED.to_string(), "--out"])
        .arg(&tmp)
        .status()
        .context("running python3 (is it installed?)")?;
    if !status.success() {
        bail!("{} failed: {status}", script.display());
    }
    std::fs::rename(&tmp, &dir).with_context(|| format!("renaming {} to {}", tmp.display(), dir.display()))?;
    Ok(dir)
}

/// The bare envelope sender from `Return-Path: <addr>`, if the header block has one.
fn return_path(raw: &[u8]) -> Option<String> {
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.len() > 12 && line[..12].eq_ignore_ascii_case(b"return-path:") {
            let v = std::str::from_utf8(&line[12..]).ok()?.trim();
            let v = v.trim_start_matches('<').trim_end_matches('>').trim();
            if v.contains('@') && !v.contains(char::is_whitespace) {
                return Some(v.to_string());
            }
            return None;
        }
    }
    None
}

/// LF or CRLF lines to a dot-stuffed CRLF DATA payload with the final `.`.
fn to_data(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32 + 8);
    let body = raw.strip_suffix(b"\n").unwrap_or(raw);
    for line in body.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Read the corpus in MANIFEST order (threads: originals before their replies).
fn load_corpus(dir: &Path, n: usize) -> Result<(Vec<Message>, u64)> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).context("reading MANIFEST.tsv")?;
    let mut messages = Vec::with_capacity(n);
    let mut raw_bytes = 0u64;
    for line in manifest.lines().skip(1) {
        let Some(file) = line.split('\t').next().filter(|f| !f.is_empty()) else { continue };
        let raw = std::fs::read(dir.join(file)).with_context(|| format!("reading {file}"))?;
        raw_bytes += raw.len() as u64;
        messages.push(Message {
            from: return_path(&raw).unwrap_or_else(|| "bench@example.net".to_string()),
            data: to_data(&raw),
        });
        if messages.len() == n {
            break;
        }
    }
    if messages.len() != n {
        bail!("{} lists {} messages, wanted {n}", dir.join("MANIFEST.tsv").display(), messages.len());
    }
    Ok((messages, raw_bytes))
}

// ---------------------------------------------------------------- LMTP client

#[derive(Default)]
struct Delivery {
    ok: usize,
    failures: usize,
    /// The first few non-250 replies, for the report.
    samples: Vec<String>,
    /// Per-message (queue position, latency MAIL to final reply in microseconds).
    latencies_us: Vec<(u32, u32)>,
}

impl Delivery {
    fn fail(&mut self, what: String) {
        self.failures += 1;
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }
    fn merge(&mut self, other: Delivery) {
        self.ok += other.ok;
        self.failures += other.failures;
        for s in other.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
        self.latencies_us.extend(other.latencies_us);
    }
}

type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

/// One (possibly multi-line) reply: its code and its last line.
async fn read_reply(r: &mut Reader, line: &mut String) -> Result<(u16, String)> {
    let mut all = String::new();
    loop {
        line.clear();
        let n = tokio::time::timeout(REPLY_TIMEOUT, r.read_line(line))
            .await
            .map_err(|_| anyhow!("no reply within {REPLY_TIMEOUT:?}"))??;
        if n == 0 {
            bail!("server closed the connection");
        }
        let text = line.trim_end();
        let code: u16 = text.get(..3).and_then(|c| c.parse().ok()).ok_or_else(|| anyhow!("bad reply line {text:?}"))?;
        all.push_str(text);
        all.push('\n');
        if text.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, all.trim_end().to_string()));
        }
    }
}

/// One LMTP connection: LHLO once, then MAIL/RCPT/DATA per message taken from the
/// shared queue until it is empty; every per-recipient reply must be 250.
async fn deliver_connection(addr: std::net::SocketAddr, rcpt: String, msgs: Arc<Vec<Message>>, next: Arc<AtomicUsize>) -> Result<Delivery> {
    let stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::with_capacity(16 * 1024, r);
    let mut line = String::new();
    let (code, text) = read_reply(&mut r, &mut line).await?;
    if code != 220 {
        bail!("greeting: {text}");
    }
    w.write_all(b"LHLO bench.client.example\r\n").await?;
    let (code, text) = read_reply(&mut r, &mut line).await?;
    if code != 250 {
        bail!("LHLO: {text}");
    }
    let pipelining = text.lines().any(|l| l.get(4..).is_some_and(|k| k.trim().eq_ignore_ascii_case("PIPELINING")));
    let mut d = Delivery::default();
    let mut cmd = Vec::with_capacity(256);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(m) = msgs.get(i) else { break };
        let t0 = Instant::now();
        cmd.clear();
        write!(cmd, "MAIL FROM:<{}>\r\n", m.from)?;
        let mail_len = cmd.len();
        write!(cmd, "RCPT TO:<{rcpt}>\r\nDATA\r\n")?;
        let replies = if pipelining {
            // RFC 2920: MAIL, RCPT and DATA in one write, then their three replies.
            w.write_all(&cmd).await?;
            let a = read_reply(&mut r, &mut line).await?;
            let b = read_reply(&mut r, &mut line).await?;
            let c = read_reply(&mut r, &mut line).await?;
            [a, b, c]
        } else {
            let rcpt_len = cmd.len() - mail_len - 6;
            w.write_all(&cmd[..mail_len]).await?;
            let a = read_reply(&mut r, &mut line).await?;
            w.write_all(&cmd[mail_len..mail_len + rcpt_len]).await?;
            let b = read_reply(&mut r, &mut line).await?;
            w.write_all(b"DATA\r\n").await?;
            let c = read_reply(&mut r, &mut line).await?;
            [a, b, c]
        };
        if replies[0].0 != 250 || replies[1].0 != 250 || replies[2].0 != 354 {
            d.fail(format!("message {i}: envelope refused: {} / {} / {}", replies[0].1, replies[1].1, replies[2].1));
            if replies[2].0 == 354 {
                // The server wants data anyway: send an empty message, then reset.
                w.write_all(b".\r\n").await?;
                read_reply(&mut r, &mut line).await?;
            }
            w.write_all(b"RSET\r\n").await?;
            read_reply(&mut r, &mut line).await?;
            continue;
        }
        w.write_all(&m.data).await?;
        // One recipient: one reply, sent by the server only once the message is stored.
        let (code, text) = read_reply(&mut r, &mut line).await?;
        d.latencies_us.push((i as u32, t0.elapsed().as_micros().min(u32::MAX as u128) as u32));
        if code == 250 {
            d.ok += 1;
        } else {
            d.fail(format!("message {i}: {text}"));
        }
    }
    w.write_all(b"QUIT\r\n").await?;
    let _ = read_reply(&mut r, &mut line).await;
    Ok(d)
}

/// Deliver every message to `addr` over `conns` connections; returns the outcome and
/// the wall-clock seconds from the first connect to the last reply.
fn deliver(rt: &tokio::runtime::Runtime, addr: std::net::SocketAddr, rcpt: &str, msgs: &Arc<Vec<Message>>, conns: usize) -> Result<(Delivery, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let result = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..conns {
            tasks.push(tokio::spawn(deliver_connection(addr, rcpt.to_string(), msgs.clone(), next.clone())));
        }
        let mut total = Delivery::default();
        let mut first_err = None;
        for t in tasks {
            match t.await {
                Ok(Ok(d)) => total.merge(d),
                Ok(Err(e)) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => {
                    first_err.get_or_insert(anyhow!("client task failed: {e}"));
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(total),
        }
    });
    let secs = start.elapsed().as_secs_f64();
    Ok((result?, secs))
}

// ---------------------------------------------------------------- processes and /proc

/// A free loopback port (bound, read, released; the tiny race is acceptable here).
fn free_ports(k: usize) -> Result<Vec<u16>> {
    let listeners = (0..k).map(|_| StdListener::bind("127.0.0.1:0")).collect::<std::io::Result<Vec<_>>>()?;
    listeners.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}

fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

/// utime + stime of a process, seconds.
fn proc_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / hz)
}

/// CPU seconds of a process tree: every live descendant of `root` (and `root`), each
/// with its reaped children's time, so processes that came and went are counted too.
fn tree_cpu_seconds(root: u32) -> Option<f64> {
    let mut parent = Vec::new();
    let mut cpu = BTreeMap::new();
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(close) = stat.rfind(')') else { continue };
        let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
        parent.push((pid, num(1) as u32));
        cpu.insert(pid, num(11) + num(12) + num(13) + num(14));
    }
    cpu.get(&root)?;
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(tree.iter().filter_map(|p| cpu.get(p)).sum::<u64>() as f64 / hz)
}

/// Machine-wide busy CPU seconds so far (iowait and idle excluded), from /proc/stat.
fn machine_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return 0.0 };
    let Some(line) = stat.lines().next() else { return 0.0 };
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    // SAFETY: see above.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    // user nice system idle iowait irq softirq steal
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    busy as f64 / hz
}

fn dir_size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
    if meta.is_dir() {
        std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.len()
    }
}

fn count_files(p: &Path) -> usize {
    std::fs::read_dir(p).map(|rd| rd.flatten().filter(|e| e.path().is_file()).count()).unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The throw-away Dovecot from ../shared/bench/dovecot.sh; stopped on drop.
struct Dovecot {
    script: PathBuf,
    dir: PathBuf,
    lmtp: std::net::SocketAddr,
    running: bool,
}

impl Dovecot {
    /// The master's pid (dovecot.sh records it; under root, setpriv execs into dovecot).
    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("dovecot.pid")).ok()?.trim().parse().ok()
    }

    fn start(script: &Path, dir: &Path) -> Result<Dovecot> {
        let ports = free_ports(2)?;
        let mut d = Dovecot {
            script: script.to_path_buf(),
            dir: dir.to_path_buf(),
            lmtp: std::net::SocketAddr::from(([127, 0, 0, 1], ports[1])),
            running: false,
        };
        let out = Command::new("bash")
            .arg(script)
            .arg("start")
            .arg(dir)
            .env("IMAP_PORT", ports[0].to_string())
            .env("LMTP_PORT", ports[1].to_string())
            .output()
            .context("running dovecot.sh start")?;
        d.running = true; // stop even a half-started instance
        if !out.status.success() {
            bail!(
                "dovecot.sh start failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        eprintln!("bench: {}", String::from_utf8_lossy(&out.stdout).trim());
        Ok(d)
    }

    fn maildir(&self, user: &str) -> PathBuf {
        self.dir.join("home").join(user).join("Maildir")
    }

    fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        match Command::new("bash").arg(&self.script).arg("stop").arg(&self.dir).output() {
            Ok(out) => eprintln!("bench: {}", String::from_utf8_lossy(&out.stdout).trim()),
            Err(e) => eprintln!("bench: dovecot.sh stop failed: {e}"),
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One frontdeskd with a fresh data dir; SIGTERM on drop.
struct Frontdesk {
    child: Child,
    dir: PathBuf,
    log: PathBuf,
    lmtp: std::net::SocketAddr,
}

#[derive(Default)]
struct FrontdeskStop {
    vm_hwm_kib: Option<u64>,
    cpu_seconds: Option<f64>,
    exit: String,
    db_bytes: u64,
}

impl Frontdesk {
    fn start(s: &Settings, dir: &Path) -> Result<Frontdesk> {
        std::fs::create_dir_all(dir)?;
        let data = dir.join("data");
        let sock = dir.join("control.sock");
        let config = dir.join("frontdesk.toml");
        let log = dir.join("frontdeskd.log");
        std::fs::write(
            &config,
            format!(
                "# written by benches/lmtp_ingest.rs\n\
                 [daemon]\n\
                 data_dir = {data:?}\n\
                 control_socket = {sock:?}\n\
                 company_name = \"Bench\"\n\
                 log_level = \"info\"\n\
                 \n\
                 [http]\n\
                 listen = \"127.0.0.1:0\"\n\
                 \n\
                 [lmtp]\n\
                 listen = \"127.0.0.1:0\"\n\
                 \n\
                 [[channel]]\n\
                 kind = \"email\"\n\
                 name = \"support\"\n\
                 address = \"{FRONTDESK_RCPT}\"\n\
                 # the corpus addresses its mail To: support@desk.example\n\
                 aliases = [\"support@desk.example\"]\n\
                 forward_original_sender = true\n",
                data = data.display().to_string(),
                sock = sock.display().to_string(),
            ),
        )?;
        let child = Command::new(&s.frontdeskd)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .env_remove("NOTIFY_SOCKET")
            .env_remove("JOURNAL_STREAM")
            .spawn()
            .with_context(|| format!("starting {}", s.frontdeskd.display()))?;
        let mut fd = Frontdesk { child, dir: dir.to_path_buf(), log, lmtp: "127.0.0.1:9".parse()? };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = fd.child.try_wait()? {
                bail!("frontdeskd exited at start-up ({status}):\n{}", log_tail(&fd.log, 20));
            }
            if sock.exists() {
                let out = Command::new(&s.frontdeskctl)
                    .arg("--socket")
                    .arg(&sock)
                    .args(["--json", "status"])
                    .output()?;
                if out.status.success() {
                    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("frontdeskctl --json status")?;
                    let listen = v
                        .get("lmtp_listen")
                        .and_then(|x| x.as_str())
                        .ok_or_else(|| anyhow!("no lmtp_listen in status: {}", String::from_utf8_lossy(&out.stdout)))?;
                    fd.lmtp = listen.parse().with_context(|| format!("lmtp_listen {listen:?}"))?;
                    return Ok(fd);
                }
            }
            if Instant::now() > deadline {
                bail!("frontdeskd did not answer on its control socket within 30 s:\n{}", log_tail(&fd.log, 20));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stored-message count from the control socket.
    fn stored(&self, s: &Settings) -> Result<i64> {
        let out = Command::new(&s.frontdeskctl)
            .arg("--socket")
            .arg(self.dir.join("control.sock"))
            .args(["--json", "status"])
            .output()?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("frontdeskctl --json status")?;
        v.pointer("/counts/messages").and_then(|x| x.as_i64()).ok_or_else(|| anyhow!("no counts.messages in status"))
    }

    /// Read VmHWM and CPU time, then SIGTERM and wait.
    fn stop(&mut self) -> FrontdeskStop {
        let pid = self.pid();
        let mut out = FrontdeskStop {
            vm_hwm_kib: proc_status_kib(pid, "VmHWM:"),
            cpu_seconds: proc_cpu_seconds(pid),
            ..Default::default()
        };
        if let Ok(Some(status)) = self.child.try_wait() {
            out.exit = format!("had already exited: {status}");
            return out;
        }
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    out.exit = if status.success() { "exit 0 after SIGTERM".into() } else { format!("{status} after SIGTERM") };
                    break;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    out.exit = "did not stop within 60 s of SIGTERM; killed".into();
                    break;
                }
            }
        }
        out.db_bytes = dir_size(&self.dir.join("data"));
        out
    }
}

impl Drop for Frontdesk {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: as above.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
            for _ in 0..500 {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------- the runs

struct RunResult {
    target: Target,
    conns: usize,
    round: usize,
    delivery: Delivery,
    secs: f64,
    stored: Option<i64>,
    /// Bytes on disk afterwards (frontdesk: data dir; Dovecot: the user's Maildir).
    disk_bytes: u64,
    machine_busy: f64,
    /// CPU seconds the server's processes used during the delivery.
    server_cpu: Option<f64>,
    fd: Option<FrontdeskStop>,
}

impl RunResult {
    fn rate(&self) -> f64 {
        self.delivery.ok as f64 / self.secs
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn run_dovecot(rt: &tokio::runtime::Runtime, dc: &Dovecot, user_no: usize, msgs: &Arc<Vec<Message>>, conns: usize, round: usize) -> Result<RunResult> {
    let user = format!("lmtp{user_no}");
    let home = dc.dir.join("home").join(&user);
    let _ = std::fs::remove_dir_all(&home); // a fresh, empty Maildir
    let c0 = dc.pid().and_then(tree_cpu_seconds);
    let b0 = machine_cpu();
    let (delivery, secs) = deliver(rt, dc.lmtp, &user, msgs, conns)?;
    let b1 = machine_cpu();
    let c1 = dc.pid().and_then(tree_cpu_seconds);
    let md = dc.maildir(&user);
    let stored = (count_files(&md.join("new")) + count_files(&md.join("cur"))) as i64;
    let disk = dir_size(&md);
    Ok(RunResult {
        target: Target::Dovecot,
        conns,
        round,
        delivery,
        secs,
        stored: Some(stored),
        disk_bytes: disk,
        machine_busy: b1 - b0,
        server_cpu: c0.zip(c1).map(|(a, b)| b - a),
        fd: None,
    })
}

fn run_frontdesk(rt: &tokio::runtime::Runtime, s: &Settings, dir: &Path, msgs: &Arc<Vec<Message>>, conns: usize, round: usize) -> Result<RunResult> {
    let _ = std::fs::remove_dir_all(dir); // a fresh data dir
    let mut fd = Frontdesk::start(s, dir)?;
    let c0 = proc_cpu_seconds(fd.pid());
    let b0 = machine_cpu();
    let delivered = deliver(rt, fd.lmtp, FRONTDESK_RCPT, msgs, conns);
    let b1 = machine_cpu();
    let c1 = proc_cpu_seconds(fd.pid());
    let stored = fd.stored(s).ok();
    let stop = fd.stop();
    let (delivery, secs) = delivered.map_err(|e| anyhow!("{e:#}\nfrontdeskd log tail:\n{}", log_tail(&fd.log, 20)))?;
    Ok(RunResult {
        target: Target::Frontdesk,
        conns,
        round,
        delivery,
        secs,
        stored,
        disk_bytes: stop.db_bytes,
        machine_busy: b1 - b0,
        server_cpu: c0.zip(c1).map(|(a, b)| b - a),
        fd: Some(stop),
    })
}

/// What the daemon's source says about durability (read, not assumed).
fn durability_note(s: &Settings) -> String {
    let path = s.manifest_dir.join("src/store/mod.rs");
    let src = std::fs::read_to_string(&path).unwrap_or_default();
    let find = |needle: &str| src.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    let sync = find("\"synchronous\", \"FULL\"");
    let wal = find("\"journal_mode\", \"WAL\"");
    match (sync, wal) {
        (Some(a), Some(b)) => format!(
            "frontdesk durability: src/store/mod.rs:{a} sets PRAGMA synchronous=FULL and :{b} journal_mode=WAL on the \
             writer connection; the writer answers each ingest only after COMMIT (src/store/writer.rs), and LMTP \
             sends 250 only after that answer (src/channels/lmtp/session.rs). Stated from the source, not measured \
             (the pragma cannot be read from outside the process)."
        ),
        _ => format!(
            "frontdesk durability: NOT CONFIRMED — {} no longer contains `pragma_update(.., \"synchronous\", \"FULL\")` \
             and `journal_mode=WAL`; check the writer before trusting these figures.",
            path.display()
        ),
    }
}

fn print_report(s: &Settings, results: &[RunResult], raw_bytes: u64) {
    let mut out = String::new();
    let n = s.n;
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "LMTP ingest: {n} messages ({:.1} MiB as generated, seed {SEED}), same bytes to each target; {} CPU(s)",
        mib(raw_bytes),
        std::thread::available_parallelism().map(|p| p.get()).unwrap_or(0)
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<10} {:>5} {:>5} {:>8} {:>6} {:>9} {:>10} {:>9} {:>9} {:>17} {:>9} {:>9} {:>10} {:>9} {:>8}",
        "target", "conns", "round", "messages", "fail", "seconds", "msgs/s", "p50 ms", "p99 ms", "p50 1st→last 10%", "disk MiB", "srv cpu-s", "ms cpu/msg", "all cpu-s", "stored"
    );
    for r in results {
        let mut lat: Vec<u32> = r.delivery.latencies_us.iter().map(|&(_, l)| l).collect();
        lat.sort_unstable();
        // Does the cost per message grow as the mailbox fills? p50 of the first and last tenth.
        let mut by_pos = r.delivery.latencies_us.clone();
        by_pos.sort_unstable();
        let tenth = (by_pos.len() / 10).max(1).min(by_pos.len());
        let p50_of = |part: &[(u32, u32)]| {
            let mut v: Vec<u32> = part.iter().map(|&(_, l)| l).collect();
            v.sort_unstable();
            percentile(&v, 0.5)
        };
        let growth = format!("{:.2}→{:.2}", p50_of(&by_pos[..tenth]), p50_of(&by_pos[by_pos.len() - tenth..]));
        let _ = writeln!(
            out,
            "{:<10} {:>5} {:>5} {:>8} {:>6} {:>9.2} {:>10.1} {:>9.2} {:>9.2} {:>17} {:>9.1} {:>9} {:>10} {:>9.1} {:>8}",
            r.target.name(),
            r.conns,
            r.round + 1,
            r.delivery.ok + r.delivery.failures,
            r.delivery.failures,
            r.secs,
            r.rate(),
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
            growth,
            mib(r.disk_bytes),
            r.server_cpu.map(|c| format!("{c:.1}")).unwrap_or_else(|| "?".into()),
            r.server_cpu.map(|c| format!("{:.2}", c * 1000.0 / n as f64)).unwrap_or_else(|| "?".into()),
            r.machine_busy,
            r.stored.map(|x| x.to_string()).unwrap_or_else(|| "?".into()),
        );
    }
    let _ = writeln!(out, "(msgs/s counts 250 replies only; srv cpu-s: the server's own processes during the delivery; \
         all cpu-s: the whole machine during the delivery, client and anything else running included)");

    // Ratio per connection count, from the median rate of each (target, conns).
    let mut rates: BTreeMap<(usize, Target), Vec<f64>> = BTreeMap::new();
    for r in results {
        rates.entry((r.conns, r.target)).or_default().push(r.rate());
    }
    let median = |v: &Vec<f64>| {
        let mut v = v.clone();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<6} {:>14} {:>14} {:>20}   target ≥ 1.00×", "conns", "dovecot msg/s", "frontdesk msg/s", "frontdesk/dovecot");
    for &c in &s.conns {
        let d = rates.get(&(c, Target::Dovecot)).map(median);
        let f = rates.get(&(c, Target::Frontdesk)).map(median);
        let fmt = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let ratio = match (d, f) {
            (Some(d), Some(f)) if d > 0.0 => {
                let q = f / d;
                format!("{q:.2}×  {}", if q >= 1.0 { "MET" } else { "BELOW" })
            }
            _ => "-".into(),
        };
        let _ = writeln!(out, "{:<6} {:>14} {:>14} {:>20}", c, fmt(d), fmt(f), ratio);
    }

    let hwm: Vec<u64> = results.iter().filter_map(|r| r.fd.as_ref().and_then(|f| f.vm_hwm_kib)).collect();
    if !hwm.is_empty() {
        let _ = writeln!(out);
        let peak = *hwm.iter().max().unwrap_or(&0);
        let _ = writeln!(
            out,
            "frontdesk peak RSS (VmHWM just before SIGTERM): {:.1} MiB max over runs [{}]   target < 60 MiB: {}",
            peak as f64 / 1024.0,
            results
                .iter()
                .filter_map(|r| r.fd.as_ref().and_then(|f| f.vm_hwm_kib).map(|k| format!("{}c: {:.1}", r.conns, k as f64 / 1024.0)))
                .collect::<Vec<_>>()
                .join(", "),
            if (peak as f64) / 1024.0 < 60.0 { "MET" } else { "BELOW" }
        );
        for r in results {
            if let Some(f) = &r.fd {
                let _ = writeln!(
                    out,
                    "frontdeskd ({} conn, round {}): {:.1} CPU-s in the daemon over its life, stopped: {}",
                    r.conns,
                    r.round + 1,
                    f.cpu_seconds.unwrap_or(f64::NAN),
                    f.exit
                );
            }
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", durability_note(s));
    let _ = writeln!(out, "dovecot durability: mail_fsync = optimized, as configured by dovecot.sh (not verified by the bench).");
    let failures: usize = results.iter().map(|r| r.delivery.failures).sum();
    let short: Vec<String> = results
        .iter()
        .filter(|r| r.stored.is_some_and(|x| x != n as i64))
        .map(|r| format!("{} {}c: {} stored of {n}", r.target.name(), r.conns, r.stored.unwrap_or(0)))
        .collect();
    let _ = writeln!(out);
    if failures == 0 && short.is_empty() {
        let _ = writeln!(out, "every reply was 250 and every target stored all {n} messages");
    } else {
        let _ = writeln!(out, "PROBLEMS: {failures} non-250 replies; {}", if short.is_empty() { "counts OK".into() } else { short.join("; ") });
        for r in results {
            for sample in &r.delivery.samples {
                let _ = writeln!(out, "  {} {}c: {sample}", r.target.name(), r.conns);
            }
        }
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
}

fn main() -> ExitCode {
    // cargo passes `--bench` (and any filter); nothing to parse.
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("lmtp_ingest: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<bool> {
    let s = Settings::from_env()?;
    let dovecot_script = s.shared.join("bench/dovecot.sh");
    if s.targets.contains(&Target::Dovecot) {
        if !Path::new("/usr/sbin/dovecot").exists() || !Path::new("/usr/lib/dovecot/lmtp").exists() {
            bail!(
                "Dovecot is not installed, and this benchmark measures frontdesk against Dovecot's LMTP.\n\
                 Install it with: sudo apt-get install -y dovecot-imapd dovecot-lmtpd\n\
                 (or run only frontdesk with FRONTDESK_BENCH_TARGETS=frontdesk — then no ratio is printed)"
            );
        }
        if !dovecot_script.is_file() {
            bail!("{} not found (set FRONTDESK_SHARED to the shared directory)", dovecot_script.display());
        }
    }
    for b in [&s.frontdeskd, &s.frontdeskctl] {
        if !b.is_file() {
            bail!("{} is missing: run `cargo build --release` or `cargo bench`", b.display());
        }
    }

    let corpus = ensure_corpus(&s)?;
    let t = Instant::now();
    let (msgs, raw_bytes) = load_corpus(&corpus, s.n)?;
    eprintln!(
        "bench: loaded {} messages from {} ({:.1} MiB, {:.1}s); frontdeskd = {}",
        msgs.len(),
        corpus.display(),
        mib(raw_bytes),
        t.elapsed().as_secs_f64(),
        s.frontdeskd.display()
    );
    let msgs = Arc::new(msgs);

    // Scratch space on the same file system as the build (not a tmpfs), readable by the
    // unprivileged user Dovecot drops to when the bench runs as root.
    let scratch_root = s.target_dir.join("bench-tmp");
    std::fs::create_dir_all(&scratch_root)?;
    let scratch = tempfile::Builder::new().prefix("lmtp_ingest-").tempdir_in(&scratch_root)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755))?;
    }
    let scratch_path = scratch.path().to_path_buf();
    eprintln!("bench: scratch dir {}", scratch_path.display());

    // Client on one thread: the machine's cores are for the servers.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;

    let mut dovecot = if s.targets.contains(&Target::Dovecot) {
        Some(Dovecot::start(&dovecot_script, &scratch_path.join("dovecot"))?)
    } else {
        None
    };

    // Stop the servers on Ctrl-C too: a signal thread flips a flag the drop guards honour.
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        let dc_script = dovecot_script.clone();
        let dc_dir = scratch_path.join("dovecot");
        let have_dc = dovecot.is_some();
        std::thread::spawn(move || {
            let sig_rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            if let Ok(sig_rt) = sig_rt {
                sig_rt.block_on(async {
                    let _ = tokio::signal::ctrl_c().await;
                });
                flag.store(true, Ordering::SeqCst);
                eprintln!("\nbench: interrupted, stopping servers");
                if have_dc {
                    let _ = Command::new("bash").arg(&dc_script).arg("stop").arg(&dc_dir).status();
                }
                // frontdeskd is in our process group and gets the same SIGINT (it drains and exits).
                std::process::exit(130);
            }
        });
    }

    // Warm Dovecot up (its auth and lmtp processes start on first use), as frontdesk's
    // start-up is not timed either: one message to the IMAP user "bench", not timed.
    if let Some(dc) = dovecot.as_ref() {
        let one = Arc::new(vec![Message { from: msgs[0].from.clone(), data: msgs[0].data.clone() }]);
        let (d, _) = deliver(&rt, dc.lmtp, "bench", &one, 1).context("Dovecot warm-up delivery")?;
        if d.failures > 0 {
            bail!("Dovecot warm-up delivery failed: {:?}", d.samples);
        }
    }

    let mut results = Vec::new();
    let mut user_no = 0;
    let outcome: Result<()> = (|| {
        for round in 0..s.rounds {
            for &c in &s.conns {
                // Alternate which target goes first between rounds (page cache, disk state).
                let mut order = s.targets.clone();
                if round % 2 == 1 {
                    order.reverse();
                }
                for target in order {
                    if interrupted.load(Ordering::SeqCst) {
                        bail!("interrupted");
                    }
                    eprintln!("bench: {} with {c} connection(s), round {} ...", target.name(), round + 1);
                    let r = match target {
                        Target::Dovecot => {
                            user_no += 1;
                            let dc = dovecot.as_ref().ok_or_else(|| anyhow!("dovecot not started"))?;
                            let r = run_dovecot(&rt, dc, user_no, &msgs, c, round)?;
                            if !s.keep {
                                let _ = std::fs::remove_dir_all(dc.dir.join("home").join(format!("lmtp{user_no}")));
                            }
                            r
                        }
                        Target::Frontdesk => {
                            let dir = scratch_path.join(format!("frontdesk-{c}c-r{}", round + 1));
                            let r = run_frontdesk(&rt, &s, &dir, &msgs, c, round)?;
                            if !s.keep {
                                let _ = std::fs::remove_dir_all(&dir);
                            }
                            r
                        }
                    };
                    eprintln!(
                        "bench:   {:.2}s, {:.1} msgs/s, {} failures",
                        r.secs,
                        r.rate(),
                        r.delivery.failures
                    );
                    results.push(r);
                }
            }
        }
        Ok(())
    })();
    if let Some(dc) = dovecot.as_mut() {
        dc.stop();
    }
    if s.keep {
        let kept = scratch.keep();
        eprintln!("bench: kept scratch dir {}", kept.display());
    }
    if !results.is_empty() {
        print_report(&s, &results, raw_bytes);
    }
    outcome?;
    let clean = results.iter().all(|r| r.delivery.failures == 0 && r.stored.is_none_or(|x| x == s.n as i64));
    Ok(clean)
}
