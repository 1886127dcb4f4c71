//! Helpers shared by the benchmarks (`lmtp_ingest`, `imap_import`, `smtp_send`,
//! `web_pages`): the generated corpus, a small LMTP client, throw-away Dovecot and
//! frontdeskd processes, /proc readings and a tiny HTTP client. Each bench uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The corpus seed the issues' figures are for.
pub const SEED: u64 = 42;
/// How long one reply may take before the run is called broken.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

/// Where things are: the crate, `../shared`, the target dir and the release binaries.
#[derive(Clone, Debug)]
pub struct Paths {
    pub manifest_dir: PathBuf,
    pub shared: PathBuf,
    pub target_dir: PathBuf,
    pub frontdeskd: PathBuf,
    pub frontdeskctl: PathBuf,
}

impl Paths {
    pub fn from_env() -> Paths {
        let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let shared = match std::env::var_os("FRONTDESK_SHARED") {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => manifest_dir.join("../shared"),
        };
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(p) if !p.is_empty() => {
                let p = PathBuf::from(p);
                if p.is_absolute() {
                    p
                } else {
                    manifest_dir.join(p)
                }
            }
            _ => manifest_dir.join("target"),
        };
        Paths {
            manifest_dir,
            shared,
            target_dir,
            frontdeskd: PathBuf::from(env!("CARGO_BIN_EXE_frontdeskd")),
            frontdeskctl: PathBuf::from(env!("CARGO_BIN_EXE_frontdeskctl")),
        }
    }

    /// Refuse to run without the release binaries.
    pub fn check_binaries(&self) -> Result<()> {
        for b in [&self.frontdeskd, &self.frontdeskctl] {
            if !b.is_file() {
                bail!(
                    "{} is missing: run `cargo build --release` or `cargo bench`",
                    b.display()
                );
            }
        }
        Ok(())
    }

    /// A fresh scratch dir under `target/bench-tmp/` (same file system as the build, not
    /// a tmpfs), readable by the unprivileged user Dovecot drops to when run as root.
    pub fn scratch(&self, prefix: &str) -> Result<tempfile::TempDir> {
        let root = self.target_dir.join("bench-tmp");
        std::fs::create_dir_all(&root)?;
        let scratch = tempfile::Builder::new().prefix(prefix).tempdir_in(&root)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755))?;
        Ok(scratch)
    }

    /// Refuse to run without Dovecot or dovecot.sh.
    pub fn dovecot_script(&self, what: &str) -> Result<PathBuf> {
        if !Path::new("/usr/sbin/dovecot").exists() || !Path::new("/usr/lib/dovecot/lmtp").exists()
        {
            bail!(
                "Dovecot is not installed, and this benchmark needs it ({what}).\n\
                 Install it with: sudo apt-get install -y dovecot-imapd dovecot-lmtpd"
            );
        }
        let script = self.shared.join("bench/dovecot.sh");
        if !script.is_file() {
            bail!(
                "{} not found (set FRONTDESK_SHARED to the shared directory)",
                script.display()
            );
        }
        Ok(script)
    }
}

/// Generate the corpus once into `target/bench-corpus/nN-seed42/`; regenerate only when
/// it is missing.
pub fn ensure_corpus(paths: &Paths, n: usize) -> Result<PathBuf> {
    let script = paths.shared.join("bench/corpus.py");
    let cache = paths.target_dir.join("bench-corpus");
    let dir = cache.join(format!("n{n}-seed{SEED}"));
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
    let tmp = cache.join(format!("n{n}-seed{SEED}.partial"));
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "bench: generating the corpus ({n} messages, seed {SEED}) into {} ...",
        dir.display()
    );
    let status = Command::new("python3")
        .arg(&script)
        .args(["--n", &n.to_string(), "--seed", &SEED.to_string(), "--out"])
        .arg(&tmp)
        .status()
        .context("running python3 (is it installed?)")?;
    if !status.success() {
        bail!("{} failed: {status}", script.display());
    }
    std::fs::rename(&tmp, &dir)
        .with_context(|| format!("renaming {} to {}", tmp.display(), dir.display()))?;
    Ok(dir)
}

/// `FRONTDESK_BENCH_CONNS` (comma-separated connection counts, each at least 1), or
/// `default` when unset.
pub fn env_conns(default: &[usize]) -> Result<Vec<usize>> {
    let conns = match std::env::var("FRONTDESK_BENCH_CONNS") {
        Ok(v) if !v.trim().is_empty() => v
            .split(',')
            .map(|s| {
                s.trim()
                    .parse::<usize>()
                    .with_context(|| format!("FRONTDESK_BENCH_CONNS={v:?}"))
            })
            .collect::<Result<Vec<_>>>()?,
        _ => default.to_vec(),
    };
    if conns.contains(&0) {
        anyhow::bail!("FRONTDESK_BENCH_CONNS: connection counts must be at least 1");
    }
    Ok(conns)
}

pub fn env_usize(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .with_context(|| format!("{name}={v:?} is not a number")),
        _ => Ok(default),
    }
}

// ---------------------------------------------------------------- corpus

/// One message ready for the wire: envelope sender and the DATA payload
/// (CRLF line endings, dot-stuffed, ending with `.\r\n`), built once for both targets.
pub struct Message {
    pub from: String,
    pub data: Vec<u8>,
}

/// The bare envelope sender from `Return-Path: <addr>`, if the header block has one.
pub fn return_path(raw: &[u8]) -> Option<String> {
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
pub fn to_data(raw: &[u8]) -> Vec<u8> {
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
pub fn load_corpus(dir: &Path, n: usize) -> Result<(Vec<Message>, u64)> {
    let manifest =
        std::fs::read_to_string(dir.join("MANIFEST.tsv")).context("reading MANIFEST.tsv")?;
    let mut messages = Vec::with_capacity(n);
    let mut raw_bytes = 0u64;
    for line in manifest.lines().skip(1) {
        let Some(file) = line.split('\t').next().filter(|f| !f.is_empty()) else {
            continue;
        };
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
        bail!(
            "{} lists {} messages, wanted {n}",
            dir.join("MANIFEST.tsv").display(),
            messages.len()
        );
    }
    Ok((messages, raw_bytes))
}

// ---------------------------------------------------------------- LMTP client

#[derive(Default)]
pub struct Delivery {
    pub ok: usize,
    pub failures: usize,
    /// The first few non-250 replies, for the report.
    pub samples: Vec<String>,
    /// Per-message (queue position, latency MAIL to final reply in microseconds).
    pub latencies_us: Vec<(u32, u32)>,
}

impl Delivery {
    pub fn fail(&mut self, what: String) {
        self.failures += 1;
        if self.samples.len() < 5 {
            self.samples.push(what);
        }
    }
    pub fn merge(&mut self, other: Delivery) {
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

pub type Reader = BufReader<tokio::net::tcp::OwnedReadHalf>;

/// One (possibly multi-line) reply: its code and its last line.
pub async fn read_reply(r: &mut Reader, line: &mut String) -> Result<(u16, String)> {
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
        let code: u16 = text
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| anyhow!("bad reply line {text:?}"))?;
        all.push_str(text);
        all.push('\n');
        if text.as_bytes().get(3) != Some(&b'-') {
            return Ok((code, all.trim_end().to_string()));
        }
    }
}

/// One LMTP connection: LHLO once, then MAIL/RCPT/DATA per message taken from the
/// shared queue until it is empty; every per-recipient reply must be 250.
pub async fn deliver_connection(
    addr: std::net::SocketAddr,
    rcpt: String,
    msgs: Arc<Vec<Message>>,
    next: Arc<AtomicUsize>,
) -> Result<Delivery> {
    let stream = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
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
    let pipelining = text.lines().any(|l| {
        l.get(4..)
            .is_some_and(|k| k.trim().eq_ignore_ascii_case("PIPELINING"))
    });
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
            d.fail(format!(
                "message {i}: envelope refused: {} / {} / {}",
                replies[0].1, replies[1].1, replies[2].1
            ));
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
        d.latencies_us.push((
            i as u32,
            t0.elapsed().as_micros().min(u32::MAX as u128) as u32,
        ));
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
pub fn deliver(
    rt: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    rcpt: &str,
    msgs: &Arc<Vec<Message>>,
    conns: usize,
) -> Result<(Delivery, f64)> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let result = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..conns {
            tasks.push(tokio::spawn(deliver_connection(
                addr,
                rcpt.to_string(),
                msgs.clone(),
                next.clone(),
            )));
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
pub fn free_ports(k: usize) -> Result<Vec<u16>> {
    let listeners = (0..k)
        .map(|_| StdListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect()
}

pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// utime + stime of a process, seconds.
pub fn proc_cpu_seconds(pid: u32) -> Option<f64> {
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
pub fn tree_cpu_seconds(root: u32) -> Option<f64> {
    let mut parent = Vec::new();
    let mut cpu = BTreeMap::new();
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
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
pub fn machine_cpu() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    // SAFETY: see above.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    // user nice system idle iowait irq softirq steal
    let busy = get(0) + get(1) + get(2) + get(5) + get(6) + get(7);
    busy as f64 / hz
}

pub fn dir_size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if meta.is_dir() {
        std::fs::read_dir(p)
            .map(|rd| rd.flatten().map(|e| dir_size(&e.path())).sum())
            .unwrap_or(0)
    } else {
        meta.len()
    }
}

pub fn count_files(p: &Path) -> usize {
    std::fs::read_dir(p)
        .map(|rd| rd.flatten().filter(|e| e.path().is_file()).count())
        .unwrap_or(0)
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The throw-away Dovecot from ../shared/bench/dovecot.sh; stopped on drop.
pub struct Dovecot {
    pub script: PathBuf,
    pub dir: PathBuf,
    pub lmtp: std::net::SocketAddr,
    pub imap: std::net::SocketAddr,
    pub running: bool,
}

impl Dovecot {
    /// The master's pid (dovecot.sh records it; under root, setpriv execs into dovecot).
    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("dovecot.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn start(script: &Path, dir: &Path) -> Result<Dovecot> {
        let ports = free_ports(2)?;
        let mut d = Dovecot {
            script: script.to_path_buf(),
            dir: dir.to_path_buf(),
            lmtp: std::net::SocketAddr::from(([127, 0, 0, 1], ports[1])),
            imap: std::net::SocketAddr::from(([127, 0, 0, 1], ports[0])),
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

    pub fn maildir(&self, user: &str) -> PathBuf {
        self.dir.join("home").join(user).join("Maildir")
    }

    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        match Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(&self.dir)
            .output()
        {
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
pub struct Frontdesk {
    pub child: Child,
    pub dir: PathBuf,
    pub log: PathBuf,
    pub lmtp: std::net::SocketAddr,
    /// frontdeskctl, for commands run the way an admin would.
    pub ctl: PathBuf,
    /// When the process was spawned.
    pub started: Instant,
    /// Spawn to the first answer on the control socket.
    pub ready_after: Duration,
}

#[derive(Default)]
pub struct FrontdeskStop {
    pub vm_hwm_kib: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub exit: String,
    pub db_bytes: u64,
}

impl Frontdesk {
    /// The config file [`Frontdesk::start`] writes to `dir/frontdesk.toml`: data under
    /// `dir/data`, control socket `dir/control.sock`, LMTP/HTTP on `127.0.0.1:0`, then `tail`.
    pub fn config_text(dir: &Path, written_by: &str, tail: &str) -> String {
        let data = dir.join("data");
        let sock = dir.join("control.sock");
        format!(
            "# written by {written_by}\n\
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
             {tail}",
            data = data.display().to_string(),
            sock = sock.display().to_string(),
        )
    }

    /// Start `frontdeskd` on a fresh data dir under `dir` with LMTP/HTTP on
    /// `127.0.0.1:0`; `tail` is appended to the config (channels, `[smtp]`, …).
    /// Returns once the control socket answers `status` (the LMTP port is read from it).
    pub fn start(paths: &Paths, dir: &Path, written_by: &str, tail: &str) -> Result<Frontdesk> {
        std::fs::create_dir_all(dir)?;
        let sock = dir.join("control.sock");
        let config = dir.join("frontdesk.toml");
        let log = dir.join("frontdeskd.log");
        std::fs::write(&config, Frontdesk::config_text(dir, written_by, tail))?;
        let child = Command::new(&paths.frontdeskd)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)?,
            )
            .env_remove("NOTIFY_SOCKET")
            .env_remove("JOURNAL_STREAM")
            .spawn()
            .with_context(|| format!("starting {}", paths.frontdeskd.display()))?;
        let started = Instant::now();
        // Where this run's lines begin in the (appended) log.
        let log_start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let mut fd = Frontdesk {
            child,
            dir: dir.to_path_buf(),
            log,
            lmtp: "127.0.0.1:9".parse()?,
            ctl: paths.frontdeskctl.clone(),
            started,
            ready_after: Duration::ZERO,
        };
        let mut deadline = Instant::now() + Duration::from_secs(30);
        let mut migrating = false;
        loop {
            // A cached fill from an older schema is migrated before the daemon answers;
            // on a large fill that takes minutes, not seconds.
            if !migrating && migration_started(&fd.log, log_start) {
                migrating = true;
                eprintln!("bench: frontdeskd is migrating the database; waiting up to 30 minutes");
                deadline = Instant::now() + Duration::from_secs(30 * 60);
            }
            if let Some(status) = fd.child.try_wait()? {
                bail!(
                    "frontdeskd exited at start-up ({status}):\n{}",
                    log_tail(&fd.log, 20)
                );
            }
            if sock.exists() {
                if let Ok(v) = fd.call(&serde_json::json!({"cmd": "status"})) {
                    fd.ready_after = fd.started.elapsed();
                    let listen = v
                        .get("lmtp_listen")
                        .and_then(|x| x.as_str())
                        .ok_or_else(|| anyhow!("no lmtp_listen in status: {v}"))?;
                    fd.lmtp = listen
                        .parse()
                        .with_context(|| format!("lmtp_listen {listen:?}"))?;
                    return Ok(fd);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "frontdeskd did not answer on its control socket in time:\n{}",
                    log_tail(&fd.log, 20)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The control socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("control.sock")
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.dir.join("data").join("frontdesk.db")
    }

    /// A connection to the control socket for many requests.
    pub fn control(&self) -> Result<Control> {
        Control::connect(&self.socket())
    }

    /// One request on a fresh control connection; the `data` of a success.
    pub fn call(&self, request: &serde_json::Value) -> Result<serde_json::Value> {
        self.control()?.call(request)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The HTTP listener's address, from `status` (field `http_listen`).
    pub fn http_listen(&self) -> Result<std::net::SocketAddr> {
        let v = self.call(&serde_json::json!({"cmd": "status"}))?;
        let listen = v
            .get("http_listen")
            .and_then(|x| x.as_str())
            .ok_or_else(|| anyhow!("no http_listen in status: {v}"))?;
        listen
            .parse()
            .with_context(|| format!("http_listen {listen:?}"))
    }

    /// Stored-message count from the control socket.
    pub fn stored(&self) -> Result<i64> {
        let v = self.call(&serde_json::json!({"cmd": "status"}))?;
        v.pointer("/counts/messages")
            .and_then(|x| x.as_i64())
            .ok_or_else(|| anyhow!("no counts.messages in status"))
    }

    /// Read VmHWM and CPU time, then SIGTERM and wait.
    pub fn stop(&mut self) -> FrontdeskStop {
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
                    out.exit = if status.success() {
                        "exit 0 after SIGTERM".into()
                    } else {
                        format!("{status} after SIGTERM")
                    };
                    break;
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
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

pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

/// A blocking client for the control socket: one JSON object per line each way
/// (src/control/proto.rs), several requests per connection.
pub struct Control {
    reader: std::io::BufReader<std::os::unix::net::UnixStream>,
    writer: std::os::unix::net::UnixStream,
    line: String,
}

impl Control {
    pub fn connect(path: &Path) -> Result<Control> {
        let stream = std::os::unix::net::UnixStream::connect(path)
            .with_context(|| format!("connecting to {}", path.display()))?;
        stream.set_read_timeout(Some(Duration::from_secs(120)))?;
        let writer = stream.try_clone()?;
        Ok(Control {
            reader: std::io::BufReader::new(stream),
            writer,
            line: String::new(),
        })
    }

    /// Send one request without waiting for its answer (pipelining).
    pub fn send(&mut self, request: &serde_json::Value) -> Result<()> {
        let mut line = serde_json::to_vec(request)?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        Ok(())
    }

    /// Read the next answer: the `data` of a success, or the daemon's words as an error.
    pub fn recv(&mut self) -> Result<serde_json::Value> {
        self.line.clear();
        if self.reader.read_line(&mut self.line)? == 0 {
            bail!("the daemon closed the control connection");
        }
        let mut v: serde_json::Value =
            serde_json::from_str(&self.line).context("control answer")?;
        if v.get("ok").and_then(|x| x.as_bool()) == Some(true) {
            Ok(v.get_mut("data")
                .map(serde_json::Value::take)
                .unwrap_or_default())
        } else {
            bail!(
                "daemon refused: {}",
                v.get("error").and_then(|e| e.as_str()).unwrap_or("?")
            )
        }
    }

    pub fn call(&mut self, request: &serde_json::Value) -> Result<serde_json::Value> {
        self.send(request)?;
        self.recv()
    }
}

/// The machine's 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Wait for a child and get its resource usage (peak RSS, CPU) from wait4(2).
pub fn wait_rusage(child: &mut Child) -> Result<(std::process::ExitStatus, ChildUsage)> {
    use std::os::unix::process::ExitStatusExt;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 writes into both out-params.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    if r != pid {
        bail!("wait4({pid}) failed: {}", std::io::Error::last_os_error());
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok((
        std::process::ExitStatus::from_raw(status),
        ChildUsage {
            max_rss_kib: ru.ru_maxrss as u64,
            cpu_seconds: secs(ru.ru_utime) + secs(ru.ru_stime),
        },
    ))
}

/// What wait4 reports about a finished child.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChildUsage {
    pub max_rss_kib: u64,
    pub cpu_seconds: f64,
}

/// One LMTP (or SMTP) client connection kept open for messages sent one at a time.
pub struct LmtpConn {
    r: Reader,
    w: tokio::net::tcp::OwnedWriteHalf,
    line: String,
}

impl LmtpConn {
    /// Connect and say LHLO.
    pub async fn connect(addr: std::net::SocketAddr) -> Result<LmtpConn> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (r, w) = stream.into_split();
        let mut c = LmtpConn {
            r: BufReader::new(r),
            w,
            line: String::new(),
        };
        let (code, text) = read_reply(&mut c.r, &mut c.line).await?;
        if code != 220 {
            bail!("greeting: {text}");
        }
        c.w.write_all(b"LHLO bench.client.example\r\n").await?;
        let (code, text) = read_reply(&mut c.r, &mut c.line).await?;
        if code != 250 {
            bail!("LHLO: {text}");
        }
        Ok(c)
    }

    /// Deliver one message to one recipient; returns when its final reply (which must
    /// be 250) has been read, with the instant it was read.
    pub async fn send(&mut self, rcpt: &str, m: &Message) -> Result<Instant> {
        for cmd in [
            format!("MAIL FROM:<{}>\r\n", m.from),
            format!("RCPT TO:<{rcpt}>\r\n"),
        ] {
            self.w.write_all(cmd.as_bytes()).await?;
            let (code, text) = read_reply(&mut self.r, &mut self.line).await?;
            if code != 250 {
                bail!("{}: {text}", cmd.trim_end());
            }
        }
        self.w.write_all(b"DATA\r\n").await?;
        let (code, text) = read_reply(&mut self.r, &mut self.line).await?;
        if code != 354 {
            bail!("DATA: {text}");
        }
        self.w.write_all(&m.data).await?;
        let (code, text) = read_reply(&mut self.r, &mut self.line).await?;
        let at = Instant::now();
        if code != 250 {
            bail!("after the message: {text}");
        }
        Ok(at)
    }

    pub async fn quit(mut self) {
        let _ = self.w.write_all(b"QUIT\r\n").await;
        let _ = read_reply(&mut self.r, &mut self.line).await;
    }
}

/// Open frontdesk's database read-only (WAL: readers see each commit as it lands).
pub fn open_db_readonly(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening {} read-only", path.display()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Median and max of a list of seconds.
pub fn median_max(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let med = if s.len() % 2 == 1 {
        s[s.len() / 2]
    } else {
        (s[s.len() / 2 - 1] + s[s.len() / 2]) / 2.0
    };
    (med, s[s.len() - 1])
}

/// Stop a Dovecot on Ctrl-C too; frontdeskd and other children are in our process group
/// and get the same SIGINT.
pub fn stop_on_ctrl_c(
    script: Option<PathBuf>,
    dir: PathBuf,
    also: impl Fn() + Send + 'static,
) -> Arc<std::sync::atomic::AtomicBool> {
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = interrupted.clone();
    std::thread::spawn(move || {
        let Ok(sig_rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        sig_rt.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        flag.store(true, Ordering::SeqCst);
        eprintln!("\nbench: interrupted, stopping servers");
        if let Some(script) = script {
            let _ = Command::new("bash")
                .arg(&script)
                .arg("stop")
                .arg(&dir)
                .status();
        }
        also();
        std::process::exit(130);
    });
    interrupted
}

// ---------------------------------------------------------------- a tiny HTTP client

/// A whole HTTP response.
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`), read to the end.
/// Enough for set-up steps (sign-in, a first page); load is left to a real tool.
pub fn http_request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse> {
    use std::io::Read as _;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes())?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .with_context(|| format!("reading the answer to {method} {path}"))?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow!("{method} {path}: no header block in the answer"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| anyhow!("{method} {path}: bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body).ok_or_else(|| anyhow!("{method} {path}: bad chunked body"))?;
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// True when the daemon's log, from byte `from` on, says a schema migration began.
fn migration_started(log: &Path, from: u64) -> bool {
    std::fs::read(log)
        .ok()
        .and_then(|bytes| bytes.get(from as usize..).map(|b| b.to_vec()))
        .is_some_and(|tail| String::from_utf8_lossy(&tail).contains("before migrating"))
}
