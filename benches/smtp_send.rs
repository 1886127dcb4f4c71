//! SMTP send benchmark (issue 4): 5,000 replies through frontdesk's durable outbox to
//! Postfix's `smtp-sink`, and in the same run the same number of messages (one of the
//! composed replies, byte for byte) sent by Postfix's `smtp-source` to the same sink at
//! the same concurrency.
//!
//! Run: `cargo bench --bench smtp_send` (see bench/README.md for the knobs).
//!
//! Not a Criterion bench (`harness = false`): one timed pass per sender, connection count
//! and round is the measurement; the servers are real processes on loopback.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use common::*;

const SMTP_SOURCE: &str = "/usr/sbin/smtp-source";
const SMTP_SINK: &str = "/usr/sbin/smtp-sink";
/// The channel's team address at frontdesk.
const CHANNEL_ADDRESS: &str = "support@example.com";
/// The agent who replies.
const AGENT: &str = "jane.doe@example.com";
/// How long sending may take before the run is called broken.
const SEND_TIMEOUT: Duration = Duration::from_secs(900);
/// The reply text (a typical short agent answer; the signature is added by frontdesk).
const REPLY_BODY: &str = "Hello,\n\n\
Thank you for getting in touch. I have checked your order and the parcel left our \
warehouse yesterday; the carrier's tracking page should show it within a few hours. \
If it has not arrived by Friday, just answer this message and I will send a replacement \
straight away, at no cost to you.\n\n\
Sorry for the wait, and have a good day.\n";

struct Settings {
    n: usize,
    conns: Vec<usize>,
    rounds: usize,
    keep: bool,
    paths: Paths,
}

impl Settings {
    fn from_env() -> Result<Settings> {
        let n = env_usize("FRONTDESK_BENCH_N", 5_000)?;
        if n == 0 {
            bail!("FRONTDESK_BENCH_N must be at least 1");
        }
        let conns = env_conns(&[4])?;
        if conns.iter().any(|&c| c == 0 || c > 100) {
            bail!(
                "FRONTDESK_BENCH_CONNS: connection counts must be 1..=100 (max_connections' range)"
            );
        }
        Ok(Settings {
            n,
            conns,
            // Each timed send is short (well under a second when it goes well): take medians.
            rounds: env_usize("FRONTDESK_BENCH_ROUNDS", 3)?.max(1),
            keep: std::env::var_os("FRONTDESK_BENCH_KEEP")
                .is_some_and(|v| !v.is_empty() && v != "0"),
            paths: Paths::from_env(),
        })
    }
}

// ---------------------------------------------------------------- the sink

/// Postfix's smtp-sink on a free loopback port: accepts and discards; `-c` keeps a
/// running message counter on its stdout, which the bench reads back.
struct Sink {
    child: Child,
    port: u16,
    out: PathBuf,
}

impl Sink {
    fn start(dir: &Path) -> Result<Sink> {
        let port = free_ports(1)?[0];
        let out = dir.join(format!("smtp-sink-{port}.out"));
        let mut cmd = Command::new(SMTP_SINK);
        cmd.arg("-c");
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            cmd.args(["-u", "nobody"]);
        }
        // -m: as many simultaneous sessions as any run uses (default 256).
        let child = cmd
            .arg(format!("127.0.0.1:{port}"))
            .arg("256")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out)?)
            .stderr(std::fs::File::create(
                dir.join(format!("smtp-sink-{port}.err")),
            )?)
            .spawn()
            .context("starting smtp-sink")?;
        let sink = Sink { child, port, out };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("smtp-sink did not listen on 127.0.0.1:{port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(sink)
    }

    /// Messages received so far (the last `mesg=N` of its counter line).
    fn messages(&self) -> u64 {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.rsplit("mesg=")
            .next()
            .and_then(|t| {
                t.trim()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    }

    fn cpu(&self) -> Option<f64> {
        proc_cpu_seconds(self.child.id())
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A "relay" that accepts connections and never greets, so the outbox worker waits on
/// it while the queue fills; closed once the daemon is told to stop.
struct Blackhole {
    port: u16,
    held: Arc<Mutex<Vec<std::net::TcpStream>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Blackhole {
    fn start() -> Result<Blackhole> {
        let listener = StdListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (h, s) = (held.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((c, _)) => h.lock().unwrap().push(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            h.lock().unwrap().clear();
        });
        Ok(Blackhole { port, held, stop })
    }

    fn connections(&self) -> usize {
        self.held.lock().map(|v| v.len()).unwrap_or(0)
    }

    fn close(&self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Ok(mut v) = self.held.lock() {
            v.clear();
        }
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.close();
    }
}

// ---------------------------------------------------------------- frontdesk

fn frontdesk_config(relay_port: u16, conns: usize) -> String {
    format!(
        "[smtp]\n\
         host = \"127.0.0.1\"\n\
         port = {relay_port}\n\
         tls = \"none\"\n\
         hello_name = \"desk.example.com\"\n\
         max_connections = {conns}\n\
         \n\
         [[channel]]\n\
         kind = \"email\"\n\
         name = \"support\"\n\
         address = \"{CHANNEL_ADDRESS}\"\n\
         aliases = [\"support@desk.example\"]\n"
    )
}

/// Small, distinct customer messages: one new ticket each.
fn customer_messages(n: usize) -> Vec<Message> {
    (0..n)
        .map(|i| {
            let raw = format!(
                "Return-Path: <customer{i}@customer.example>\n\
                 From: Customer Number{i} <customer{i}@customer.example>\n\
                 To: Support <support@desk.example>\n\
                 Subject: Order {i}: where is my parcel?\n\
                 Date: Mon, 1 Jan 2024 12:00:00 +0000\n\
                 Message-ID: <order-{i}@customer.example>\n\
                 MIME-Version: 1.0\n\
                 Content-Type: text/plain; charset=utf-8\n\
                 \n\
                 Hello,\n\nI ordered item {i} two weeks ago and it has still not arrived.\n\
                 Could you tell me where it is?\n\nRegards,\nCustomer {i}\n"
            );
            Message {
                from: format!("customer{i}@customer.example"),
                data: to_data(raw.as_bytes()),
            }
        })
        .collect()
}

struct Prepared {
    queue_secs: f64,
    /// One composed reply as stored (the bytes the worker sends), its envelope.
    sample: Vec<u8>,
    sample_from: String,
    sample_rcpt: String,
    mean_bytes: f64,
}

/// Untimed set-up, then the queue: tickets by LMTP, an agent, and `n` replies queued over
/// the control socket while the relay is a black hole (nothing can be sent). The daemon
/// is stopped at the end; the queue is in its database.
fn prepare(
    s: &Settings,
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    conns: usize,
) -> Result<Prepared> {
    let _ = std::fs::remove_dir_all(dir);
    let hole = Blackhole::start()?;
    let mut fd = Frontdesk::start(
        &s.paths,
        dir,
        "benches/smtp_send.rs",
        &frontdesk_config(hole.port, conns),
    )?;
    let msgs = Arc::new(customer_messages(s.n));
    let (d, secs) = deliver(rt, fd.lmtp, CHANNEL_ADDRESS, &msgs, 4)?;
    if d.failures > 0 {
        bail!("ingesting the customer messages failed: {:?}", d.samples);
    }
    eprintln!(
        "bench:   {} customer messages ingested by LMTP in {secs:.1}s (not timed)",
        s.n
    );
    fd.call(
        &serde_json::json!({"cmd": "users-add", "email": AGENT, "name": "Jane Doe", "seat": true}),
    )?;
    let tickets: Vec<i64> = {
        let db = open_db_readonly(&fd.db_path())?;
        let mut stmt = db.prepare("SELECT id FROM tickets ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids
    };
    if tickets.len() != s.n {
        bail!(
            "{} tickets after ingesting {} customer messages",
            tickets.len(),
            s.n
        );
    }
    // Queue the replies: several control connections, one request at a time each.
    let t = Instant::now();
    let workers = 4;
    let tickets = Arc::new(tickets);
    let mut handles = Vec::new();
    for w in 0..workers {
        let tickets = tickets.clone();
        let sock = fd.socket();
        handles.push(std::thread::spawn(move || -> Result<()> {
            let mut ctl = Control::connect(&sock)?;
            for id in tickets.iter().skip(w).step_by(workers) {
                ctl.call(&serde_json::json!({"cmd": "tickets-reply", "id": id, "agent": AGENT, "body": REPLY_BODY}))
                    .with_context(|| format!("tickets-reply {id}"))?;
            }
            Ok(())
        }));
    }
    for h in handles {
        h.join()
            .map_err(|_| anyhow!("queueing thread panicked"))??;
    }
    let queue_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "bench:   {} replies queued in {queue_secs:.1}s ({:.0}/s; the worker is held by a relay that never greets: {} connection(s))",
        s.n,
        s.n as f64 / queue_secs,
        hole.connections()
    );
    // Stop the daemon, then let go of the held connections so its worker's round ends.
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(fd.pid() as libc::pid_t, libc::SIGTERM) };
    std::thread::sleep(Duration::from_millis(100));
    hole.close();
    let stop = fd.stop();
    eprintln!("bench:   daemon stopped for the restart: {}", stop.exit);
    let db = open_db_readonly(&dir.join("data/frontdesk.db"))?;
    let (queued, mean): (i64, f64) = db.query_row(
        "SELECT COUNT(*), AVG(LENGTH(m.raw)) FROM outbox o JOIN messages m ON m.id = o.message_row WHERE o.status = 'queued'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if queued != s.n as i64 {
        bail!("{queued} outbox entries queued, wanted {}", s.n);
    }
    let (raw, from, rcpt): (Vec<u8>, String, String) = db.query_row(
        "SELECT m.raw, o.mail_from, o.recipients FROM outbox o JOIN messages m ON m.id = o.message_row ORDER BY o.id LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let rcpt: Vec<String> = serde_json::from_str(&rcpt)?;
    Ok(Prepared {
        queue_secs,
        sample: raw,
        sample_from: from,
        sample_rcpt: rcpt
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("no recipient"))?,
        mean_bytes: mean,
    })
}

struct SendRun {
    sender: &'static str,
    conns: usize,
    round: usize,
    secs: f64,
    /// frontdesk: spawn to the control socket answering.
    ready: f64,
    sent: u64,
    received: u64,
    client_cpu: Option<f64>,
    sink_cpu: Option<f64>,
    machine_busy: f64,
    peak_kib: Option<u64>,
    deferred_retried: usize,
}

impl SendRun {
    fn rate(&self) -> f64 {
        self.sent as f64 / self.secs
    }
}

/// Restart frontdeskd on the filled queue with the relay pointing at the sink and time it
/// from spawn until the database shows every entry `sent`.
fn send_frontdesk(
    s: &Settings,
    dir: &Path,
    sink: &Sink,
    conns: usize,
    round: usize,
) -> Result<SendRun> {
    let db_path = dir.join("data/frontdesk.db");
    // Entries whose connection broke when the black hole closed were deferred by a
    // minute (src/outbound/worker.rs): make them due again with `outbox-retry` below.
    let deferred: Vec<i64> = {
        let db = open_db_readonly(&db_path)?;
        let mut stmt =
            db.prepare("SELECT id FROM outbox WHERE status = 'queued' AND attempts > 0")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        ids
    };
    let m0 = sink.messages();
    let k0 = sink.cpu();
    let b0 = machine_cpu();
    let mut fd = Frontdesk::start(
        &s.paths,
        dir,
        "benches/smtp_send.rs",
        &frontdesk_config(sink.port, conns),
    )?;
    let profiler = profile_daemon(fd.pid(), conns, round)?;
    for id in &deferred {
        fd.call(&serde_json::json!({"cmd": "outbox-retry", "id": id}))?;
    }
    let db = open_db_readonly(&db_path)?;
    let mut stmt = db.prepare("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")?;
    let n = s.n as i64;
    let secs = loop {
        let sent: i64 = stmt.query_row([], |r| r.get(0))?;
        let at = fd.started.elapsed();
        if sent >= n {
            break at.as_secs_f64();
        }
        if at > SEND_TIMEOUT {
            bail!(
                "only {sent} of {n} sent after {SEND_TIMEOUT:?}\nfrontdeskd log tail:\n{}",
                log_tail(&fd.log, 20)
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let b1 = machine_cpu();
    let k1 = sink.cpu();
    let client_cpu = proc_cpu_seconds(fd.pid());
    if let Some(mut perf) = profiler {
        // SIGINT makes perf write its file and exit.
        let _ = Command::new("kill")
            .args(["-INT", &perf.id().to_string()])
            .status();
        let _ = perf.wait();
    }
    let (failed, queued): (i64, i64) = db.query_row(
        "SELECT SUM(status = 'failed'), SUM(status = 'queued') FROM outbox",
        [],
        |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?.unwrap_or(0),
                r.get::<_, Option<i64>>(1)?.unwrap_or(0),
            ))
        },
    )?;
    drop(stmt);
    drop(db);
    let stop = fd.stop();
    if failed + queued > 0 {
        bail!("{failed} outbox entries failed and {queued} still queued");
    }
    // The sink counts a message when it sees the final "."; give it a moment.
    std::thread::sleep(Duration::from_millis(100));
    Ok(SendRun {
        sender: "frontdesk",
        conns,
        round,
        secs,
        ready: fd.ready_after.as_secs_f64(),
        sent: s.n as u64,
        received: sink.messages() - m0,
        client_cpu,
        sink_cpu: k0.zip(k1).map(|(a, b)| b - a),
        machine_busy: b1 - b0,
        peak_kib: stop.vm_hwm_kib,
        deferred_retried: deferred.len(),
    })
}

/// With `FRONTDESK_BENCH_PERF` set, `perf record` samples the daemon's timed run into
/// `target/bench-perf/smtp_send-<conns>c-<round>.data` (for `perf report -i`).
fn profile_daemon(pid: u32, conns: usize, round: usize) -> Result<Option<Child>> {
    if std::env::var_os("FRONTDESK_BENCH_PERF").is_none_or(|v| v.is_empty()) {
        return Ok(None);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-perf");
    std::fs::create_dir_all(&dir)?;
    let out = dir.join(format!("smtp_send-{conns}c-{round}.data"));
    let child = Command::new("perf")
        .args(["record", "-q", "-e", "cpu-clock", "-F", "20000", "-g", "-p"])
        .arg(pid.to_string())
        .arg("-o")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("FRONTDESK_BENCH_PERF is set but `perf` could not be started")?;
    Ok(Some(child))
}

/// The same number of messages, the composed reply's bytes, by smtp-source.
fn send_smtp_source(
    s: &Settings,
    dir: &Path,
    p: &Prepared,
    sink: &Sink,
    conns: usize,
    round: usize,
) -> Result<SendRun> {
    // smtp-source -F sends the file's lines with CRLF appended and dot-stuffs them.
    let file = dir.join("reply.eml");
    let text: Vec<u8> = p.sample.iter().copied().filter(|&b| b != b'\r').collect();
    std::fs::write(&file, text)?;
    let m0 = sink.messages();
    let k0 = sink.cpu();
    let b0 = machine_cpu();
    let t0 = Instant::now();
    let mut child = Command::new(SMTP_SOURCE)
        .arg("-d") // reuse each connection for the next message, as frontdesk's worker does
        .args(["-s", &conns.to_string(), "-m", &s.n.to_string()])
        .args([
            "-M",
            "desk.example.com",
            "-f",
            &p.sample_from,
            "-t",
            &p.sample_rcpt,
        ])
        .arg("-F")
        .arg(&file)
        .arg(format!("127.0.0.1:{}", sink.port))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("smtp-source.err"))?)
        .spawn()
        .context("starting smtp-source")?;
    let (status, usage) = wait_rusage(&mut child)?;
    let secs = t0.elapsed().as_secs_f64();
    let b1 = machine_cpu();
    let k1 = sink.cpu();
    if !status.success() {
        bail!(
            "smtp-source failed ({status}): {}",
            log_tail(&dir.join("smtp-source.err"), 10)
        );
    }
    std::thread::sleep(Duration::from_millis(100));
    Ok(SendRun {
        sender: "smtp-source",
        conns,
        round,
        secs,
        ready: 0.0,
        sent: s.n as u64,
        received: sink.messages() - m0,
        client_cpu: Some(usage.cpu_seconds),
        sink_cpu: k0.zip(k1).map(|(a, b)| b - a),
        machine_busy: b1 - b0,
        peak_kib: Some(usage.max_rss_kib),
        deferred_retried: 0,
    })
}

// ---------------------------------------------------------------- report

/// What the source says about the durability of a sent mark (read, not assumed).
fn durability_note(s: &Settings) -> String {
    let read = |p: &str| std::fs::read_to_string(s.paths.manifest_dir.join(p)).unwrap_or_default();
    let line =
        |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).map(|i| i + 1);
    let store = read("src/store/mod.rs");
    let worker = read("src/outbound/worker.rs");
    let outbound = read("src/store/outbound.rs");
    let full = line(&store, "\"synchronous\", \"FULL\"");
    let sent = line(&store, "pub async fn outbox_record");
    let together = line(
        &worker,
        "while the previous batch committed, and those that follow",
    );
    let update = line(&outbound, "UPDATE outbox SET status = 'sent'");
    match (full, sent, together, update) {
        (Some(a), Some(b), Some(c), Some(d)) => format!(
            "frontdesk durability: each reply and its outbox entry were committed before the relay saw them; each \
             `sent` mark is written by the writer (src/store/mod.rs:{b} → src/store/outbound.rs:{d}) and \
             committed with synchronous=FULL (src/store/mod.rs:{a}). The worker records results as the relay \
             answers: the ones that arrived while the previous batch committed, and those that follow \
             within 5 ms, in one transaction (src/outbound/worker.rs:{c}), so only a crash between the \
             relay's 250 and that commit sends a message again after the restart (at-least-once)."
        ),
        _ => "frontdesk durability: NOT CONFIRMED — the sent-mark path (outbox_record / synchronous=FULL / \
              the worker's batched recording) moved; check before trusting these figures."
            .to_string(),
    }
}

fn print_report(s: &Settings, results: &[SendRun], preps: &[(usize, Prepared)], out: &mut String) {
    let n = s.n;
    let _ = writeln!(out);
    let mean = preps.first().map(|(_, p)| p.mean_bytes).unwrap_or(0.0);
    let _ = writeln!(
        out,
        "SMTP send: {n} replies (composed by frontdesk, mean {mean:.0} bytes; smtp-source sends one of them) to \
         Postfix smtp-sink on loopback; {} CPU(s); load average at the end {}",
        std::thread::available_parallelism().map(|p| p.get()).unwrap_or(0),
        loadavg()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<12} {:>5} {:>5} {:>8} {:>9} {:>10} {:>11} {:>10} {:>9} {:>9} {:>9}",
        "sender",
        "conns",
        "round",
        "sent",
        "seconds",
        "msgs/s",
        "client cpu-s",
        "sink cpu-s",
        "all cpu-s",
        "peak MiB",
        "received"
    );
    for r in results {
        let _ = writeln!(
            out,
            "{:<12} {:>5} {:>5} {:>8} {:>9.3} {:>10.1} {:>11} {:>10} {:>9.2} {:>9} {:>9}",
            r.sender,
            r.conns,
            r.round + 1,
            r.sent,
            r.secs,
            r.rate(),
            r.client_cpu
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "?".into()),
            r.sink_cpu
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "?".into()),
            r.machine_busy,
            r.peak_kib
                .map(|k| format!("{:.1}", k as f64 / 1024.0))
                .unwrap_or_else(|| "?".into()),
            r.received
        );
    }
    let _ = writeln!(
        out,
        "(frontdesk: spawn of frontdeskd on the full queue to the first 2 ms poll of its database showing all {n} \
         entries `sent` — start-up, reading the queue, SMTP and the durable sent marks; its client cpu-s is over \
         the daemon's life. smtp-source: spawn to exit, -d (connection reuse) -s CONNS -m {n} -F reply. peak MiB: \
         frontdeskd's VmHWM, smtp-source's ru_maxrss. received: the sink's own counter)"
    );
    for r in results.iter().filter(|r| r.sender == "frontdesk") {
        let _ = writeln!(
            out,
            "frontdesk {}c round {}: control socket up after {:.3}s; {} entr(ies) deferred when the black hole closed, \
             made due again with outbox-retry",
            r.conns,
            r.round + 1,
            r.ready,
            r.deferred_retried
        );
    }
    for (c, p) in preps {
        let _ = writeln!(
            out,
            "queueing (not timed above) at {c}c: {n} `tickets-reply` requests over 4 control connections in {:.1}s ({:.0} replies/s)",
            p.queue_secs,
            n as f64 / p.queue_secs
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<6} {:>17} {:>16} {:>22}   target ≥ 0.80×",
        "conns", "smtp-source msg/s", "frontdesk msg/s", "frontdesk/smtp-source"
    );
    for &c in &s.conns {
        let med = |who: &str| {
            let v: Vec<f64> = results
                .iter()
                .filter(|r| r.sender == who && r.conns == c)
                .map(|r| r.rate())
                .collect();
            (!v.is_empty()).then(|| median_max(&v).0)
        };
        let cpu = |who: &str| {
            let v: Vec<f64> = results
                .iter()
                .filter(|r| r.sender == who && r.conns == c)
                .map(|r| r.client_cpu.unwrap_or(f64::NAN) / r.sent as f64 * 1000.0)
                .collect();
            (!v.is_empty()).then(|| median_max(&v).0)
        };
        let (a, b) = (med("smtp-source"), med("frontdesk"));
        let ratio = match (a, b) {
            (Some(a), Some(b)) if a > 0.0 => format!(
                "{:.2}×  {}",
                b / a,
                if b / a >= 0.8 { "MET" } else { "NOT MET" }
            ),
            _ => "-".into(),
        };
        let f = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_else(|| "-".into());
        let _ = writeln!(out, "{:<6} {:>17} {:>16} {:>22}", c, f(a), f(b), ratio);
        let _ = writeln!(
            out,
            "       client CPU per message: smtp-source {} ms, frontdeskd {} ms (daemon life, incl. start-up)",
            cpu("smtp-source").map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into()),
            cpu("frontdesk").map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into())
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", durability_note(s));
}

fn main() -> ExitCode {
    match real_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("smtp_send: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<bool> {
    let s = Settings::from_env()?;
    if !Path::new(SMTP_SOURCE).exists() || !Path::new(SMTP_SINK).exists() {
        bail!(
            "Postfix's smtp-source/smtp-sink are not installed, and this benchmark measures frontdesk against them.\n\
             Install them with: sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postfix\n\
             (the bench needs only /usr/sbin/smtp-source and /usr/sbin/smtp-sink; the postfix service itself need not run)"
        );
    }
    s.paths.check_binaries()?;
    let scratch = s.paths.scratch("smtp_send-")?;
    let scratch_path = scratch.path().to_path_buf();
    eprintln!(
        "bench: scratch dir {}; load average {}",
        scratch_path.display(),
        loadavg()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _interrupted = stop_on_ctrl_c(None, scratch_path.clone(), || {});
    let sink = Sink::start(&scratch_path)?;
    eprintln!("bench: smtp-sink on 127.0.0.1:{}", sink.port);

    let mut results = Vec::new();
    let mut preps = Vec::new();
    let outcome: Result<()> = (|| {
        for round in 0..s.rounds {
            for &c in &s.conns {
                let dir = scratch_path.join(format!("frontdesk-{c}c-r{}", round + 1));
                eprintln!(
                    "bench: preparing {} queued replies ({c} connection(s), round {}) ...",
                    s.n,
                    round + 1
                );
                let p = prepare(&s, &rt, &dir, c)?;
                let order: [&str; 2] = if round % 2 == 0 {
                    ["smtp-source", "frontdesk"]
                } else {
                    ["frontdesk", "smtp-source"]
                };
                for who in order {
                    eprintln!(
                        "bench: {who}, {c} connection(s), round {} (load average {}) ...",
                        round + 1,
                        loadavg()
                    );
                    let r = if who == "frontdesk" {
                        send_frontdesk(&s, &dir, &sink, c, round)?
                    } else {
                        send_smtp_source(&s, &dir, &p, &sink, c, round)?
                    };
                    eprintln!(
                        "bench:   {:.3}s, {:.1} msgs/s, sink received {}",
                        r.secs,
                        r.rate(),
                        r.received
                    );
                    results.push(r);
                }
                if !s.keep {
                    let _ = std::fs::remove_dir_all(&dir);
                }
                preps.push((c, p));
            }
        }
        Ok(())
    })();
    drop(sink);
    if s.keep {
        let kept = scratch.keep();
        eprintln!("bench: kept scratch dir {}", kept.display());
    }
    let mut out = String::new();
    if !results.is_empty() {
        print_report(&s, &results, &preps, &mut out);
    }
    let short: Vec<String> = results
        .iter()
        .filter(|r| r.received != r.sent)
        .map(|r| {
            format!(
                "{} {}c round {}: sink received {} of {}",
                r.sender,
                r.conns,
                r.round + 1,
                r.received,
                r.sent
            )
        })
        .collect();
    if short.is_empty() {
        if !results.is_empty() {
            let _ = writeln!(
                out,
                "every run delivered all {} messages (the sink's counter agrees)",
                s.n
            );
        }
    } else {
        let _ = writeln!(out, "PROBLEMS: {}", short.join("; "));
    }
    print!("{out}");
    let _ = std::io::stdout().flush();
    outcome?;
    Ok(short.is_empty())
}
