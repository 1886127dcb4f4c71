//! LMTP ingest benchmark: the same mailbox delivered over LMTP to frontdesk and to
//! Dovecot's own LMTP service (into a Maildir), in the same run, with 1 and 4
//! concurrent connections. Prints messages/s for both, the ratio, frontdesk's peak RSS.
//!
//! Run: `cargo bench --bench lmtp_ingest` (see bench/README.md for the knobs).
//!
//! Not a Criterion bench (`harness = false`): one timed pass per target and
//! connection count is the measurement; the servers are real processes on loopback.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use common::*;

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
    paths: Paths,
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

impl Settings {
    fn from_env() -> Result<Settings> {
        let paths = Paths::from_env();
        let n = env_usize("FRONTDESK_BENCH_N", 10_000)?;
        if n == 0 {
            bail!("FRONTDESK_BENCH_N must be at least 1");
        }
        let conns = env_conns(&[1, 4])?;
        let rounds = env_usize("FRONTDESK_BENCH_ROUNDS", 1)?.max(1);
        let targets = match std::env::var("FRONTDESK_BENCH_TARGETS") {
            Ok(v) if !v.trim().is_empty() => v
                .split(',')
                .map(|s| match s.trim() {
                    "dovecot" => Ok(Target::Dovecot),
                    "frontdesk" => Ok(Target::Frontdesk),
                    other => Err(anyhow!(
                        "FRONTDESK_BENCH_TARGETS: unknown target {other:?} (dovecot, frontdesk)"
                    )),
                })
                .collect::<Result<Vec<_>>>()?,
            _ => vec![Target::Dovecot, Target::Frontdesk],
        };
        if targets.contains(&Target::Dovecot) && rounds * conns.len() > DOVECOT_USERS {
            bail!("at most {DOVECOT_USERS} Dovecot runs (one fresh user each): lower FRONTDESK_BENCH_ROUNDS or FRONTDESK_BENCH_CONNS");
        }
        Ok(Settings {
            n,
            conns,
            rounds,
            targets,
            keep: std::env::var_os("FRONTDESK_BENCH_KEEP")
                .is_some_and(|v| !v.is_empty() && v != "0"),
            manifest_dir: paths.manifest_dir.clone(),
            shared: paths.shared.clone(),
            target_dir: paths.target_dir.clone(),
            frontdeskd: paths.frontdeskd.clone(),
            frontdeskctl: paths.frontdeskctl.clone(),
            paths,
        })
    }
}

/// The frontdesk side's channel: the corpus addresses its mail To: support@desk.example.
fn start_frontdesk(s: &Settings, dir: &Path) -> Result<Frontdesk> {
    Frontdesk::start(
        &s.paths,
        dir,
        "benches/lmtp_ingest.rs",
        &format!(
            "[[channel]]\n\
             kind = \"email\"\n\
             name = \"support\"\n\
             address = \"{FRONTDESK_RCPT}\"\n\
             # the corpus addresses its mail To: support@desk.example\n\
             aliases = [\"support@desk.example\"]\n\
             forward_original_sender = true\n"
        ),
    )
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

fn run_dovecot(
    rt: &tokio::runtime::Runtime,
    dc: &Dovecot,
    user_no: usize,
    msgs: &Arc<Vec<Message>>,
    conns: usize,
    round: usize,
) -> Result<RunResult> {
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

fn run_frontdesk(
    rt: &tokio::runtime::Runtime,
    s: &Settings,
    dir: &Path,
    msgs: &Arc<Vec<Message>>,
    conns: usize,
    round: usize,
) -> Result<RunResult> {
    let _ = std::fs::remove_dir_all(dir); // a fresh data dir
    let mut fd = start_frontdesk(s, dir)?;
    let c0 = proc_cpu_seconds(fd.pid());
    let b0 = machine_cpu();
    let delivered = deliver(rt, fd.lmtp, FRONTDESK_RCPT, msgs, conns);
    let b1 = machine_cpu();
    let c1 = proc_cpu_seconds(fd.pid());
    let stored = fd.stored().ok();
    let stop = fd.stop();
    let (delivery, secs) =
        delivered.map_err(|e| anyhow!("{e:#}\nfrontdeskd log tail:\n{}", log_tail(&fd.log, 20)))?;
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
        let growth = format!(
            "{:.2}→{:.2}",
            p50_of(&by_pos[..tenth]),
            p50_of(&by_pos[by_pos.len() - tenth..])
        );
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
    let _ = writeln!(
        out,
        "{:<6} {:>14} {:>14} {:>20}   target ≥ 1.00×",
        "conns", "dovecot msg/s", "frontdesk msg/s", "frontdesk/dovecot"
    );
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

    let hwm: Vec<u64> = results
        .iter()
        .filter_map(|r| r.fd.as_ref().and_then(|f| f.vm_hwm_kib))
        .collect();
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
        .map(|r| {
            format!(
                "{} {}c: {} stored of {n}",
                r.target.name(),
                r.conns,
                r.stored.unwrap_or(0)
            )
        })
        .collect();
    let _ = writeln!(out);
    if failures == 0 && short.is_empty() {
        let _ = writeln!(
            out,
            "every reply was 250 and every target stored all {n} messages"
        );
    } else {
        let _ = writeln!(
            out,
            "PROBLEMS: {failures} non-250 replies; {}",
            if short.is_empty() {
                "counts OK".into()
            } else {
                short.join("; ")
            }
        );
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
        if !Path::new("/usr/sbin/dovecot").exists() || !Path::new("/usr/lib/dovecot/lmtp").exists()
        {
            bail!(
                "Dovecot is not installed, and this benchmark measures frontdesk against Dovecot's LMTP.\n\
                 Install it with: sudo apt-get install -y dovecot-imapd dovecot-lmtpd\n\
                 (or run only frontdesk with FRONTDESK_BENCH_TARGETS=frontdesk — then no ratio is printed)"
            );
        }
        if !dovecot_script.is_file() {
            bail!(
                "{} not found (set FRONTDESK_SHARED to the shared directory)",
                dovecot_script.display()
            );
        }
    }
    for b in [&s.frontdeskd, &s.frontdeskctl] {
        if !b.is_file() {
            bail!(
                "{} is missing: run `cargo build --release` or `cargo bench`",
                b.display()
            );
        }
    }

    let corpus = ensure_corpus(&s.paths, s.n)?;
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
    let scratch = tempfile::Builder::new()
        .prefix("lmtp_ingest-")
        .tempdir_in(&scratch_root)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(scratch.path(), std::fs::Permissions::from_mode(0o755))?;
    }
    let scratch_path = scratch.path().to_path_buf();
    eprintln!("bench: scratch dir {}", scratch_path.display());

    // Client on one thread: the machine's cores are for the servers.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    let mut dovecot = if s.targets.contains(&Target::Dovecot) {
        Some(Dovecot::start(
            &dovecot_script,
            &scratch_path.join("dovecot"),
        )?)
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
            let sig_rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(sig_rt) = sig_rt {
                sig_rt.block_on(async {
                    let _ = tokio::signal::ctrl_c().await;
                });
                flag.store(true, Ordering::SeqCst);
                eprintln!("\nbench: interrupted, stopping servers");
                if have_dc {
                    let _ = Command::new("bash")
                        .arg(&dc_script)
                        .arg("stop")
                        .arg(&dc_dir)
                        .status();
                }
                // frontdeskd is in our process group and gets the same SIGINT (it drains and exits).
                std::process::exit(130);
            }
        });
    }

    // Warm Dovecot up (its auth and lmtp processes start on first use), as frontdesk's
    // start-up is not timed either: one message to the IMAP user "bench", not timed.
    if let Some(dc) = dovecot.as_ref() {
        let one = Arc::new(vec![Message {
            from: msgs[0].from.clone(),
            data: msgs[0].data.clone(),
        }]);
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
                    eprintln!(
                        "bench: {} with {c} connection(s), round {} ...",
                        target.name(),
                        round + 1
                    );
                    let r = match target {
                        Target::Dovecot => {
                            user_no += 1;
                            let dc = dovecot
                                .as_ref()
                                .ok_or_else(|| anyhow!("dovecot not started"))?;
                            let r = run_dovecot(&rt, dc, user_no, &msgs, c, round)?;
                            if !s.keep {
                                let _ = std::fs::remove_dir_all(
                                    dc.dir.join("home").join(format!("lmtp{user_no}")),
                                );
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
    let clean = results
        .iter()
        .all(|r| r.delivery.failures == 0 && r.stored.is_none_or(|x| x == s.n as i64));
    Ok(clean)
}
