//! Wiring only: open the store, bind the listeners, run them until a signal, drain.

use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use std::sync::{Arc, Mutex};

use crate::channels::imap::ImapSupervisor;
use crate::channels::status::StatusBoard;
use crate::config::Config;
use crate::control::server::{self as control, ControlContext};
use crate::pipeline::Pipeline;
use crate::store::Store;

/// Why the daemon could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The store would not open.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A listener could not be bound.
    #[error("cannot listen on {what} {addr}: {source}")]
    Bind {
        /// Which listener.
        what: &'static str,
        /// Its address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The config names users or teams the store does not have.
    #[error("config refused:\n{0}")]
    Config(crate::config::ConfigError),
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// How long SIGTERM waits for in-flight sessions to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// This host's name for greetings.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        if let Ok(name) = std::str::from_utf8(&buf[..end]) {
            if !name.is_empty() {
                return name.to_string();
            }
        }
    }
    "localhost".to_string()
}

async fn bind_tcp(
    what: &'static str,
    addr: std::net::SocketAddr,
) -> Result<TcpListener, DaemonError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| DaemonError::Bind {
            what,
            addr: addr.to_string(),
            source,
        })
}

/// The running parts that commands and signals act on.
#[derive(Clone)]
pub struct Services {
    /// Config and store.
    pub pipeline: Pipeline,
    /// Pullers' status.
    pub board: StatusBoard,
    /// IMAP pullers.
    pub imap: Arc<Mutex<ImapSupervisor>>,
}

impl Services {
    /// Re-read the config file and apply it atomically; the old config stays on error.
    pub async fn reload(&self) -> Result<Vec<String>, String> {
        let changes = reload(&self.pipeline).await?;
        let config = self.pipeline.config();
        match self.imap.lock() {
            Ok(mut imap) => imap.apply(&config),
            Err(poisoned) => poisoned.into_inner().apply(&config),
        }
        Ok(changes)
    }

    /// Make a channel's IMAP pullers sync now; false when it has none.
    pub fn sync_now(&self, channel: &str) -> bool {
        match self.imap.lock() {
            Ok(imap) => imap.sync_now(channel),
            Err(poisoned) => poisoned.into_inner().sync_now(channel),
        }
    }
}

/// Check a config's routing against the users and teams in the store.
pub async fn check_routing(
    config: &Config,
    pipeline_store: &Store,
) -> Result<(), crate::config::ConfigError> {
    let (users, teams) = pipeline_store
        .read(|r| r.routing_names())
        .await
        .map_err(|e| crate::config::ConfigError::Invalid {
            path: config.path.clone(),
            problems: vec![crate::config::ConfigProblem {
                line: None,
                key: "(store)".into(),
                message: e.to_string(),
            }],
        })?;
    let users: Vec<(String, bool)> = users
        .into_iter()
        .map(|u| (u.email, u.seat && u.active))
        .collect();
    let (problems, warnings) = config.check_routing(&users, &teams);
    for w in warnings {
        log::warn!("{}: {w}", config.path.display());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(crate::config::ConfigError::Invalid {
            path: config.path.clone(),
            problems,
        })
    }
}

/// Re-read the config file and swap it in; the old config stays on error.
async fn reload(pipeline: &Pipeline) -> Result<Vec<String>, String> {
    let old = pipeline.config();
    let refuse = |e: crate::config::ConfigError| {
        log::error!("reload refused, keeping the running config:\n{e}");
        format!("reload refused, the running config is kept:\n{e}")
    };
    let new = Config::load(&old.path).map_err(refuse)?;
    check_routing(&new, pipeline.store())
        .await
        .map_err(refuse)?;
    let mut changes = Vec::new();
    for c in &new.channels {
        match old.channel(&c.name) {
            None => changes.push(format!("channel {} added", c.name)),
            Some(o) if o != c => changes.push(format!("channel {} changed", c.name)),
            Some(_) => {}
        }
    }
    for c in &old.channels {
        if new.channel(&c.name).is_none() {
            changes.push(format!("channel {} removed", c.name));
        }
    }
    if new.lmtp.listen != old.lmtp.listen || new.http.listen != old.http.listen {
        changes.push("listen addresses changed: they take effect at the next restart".to_string());
    }
    if new.daemon.data_dir != old.daemon.data_dir
        || new.daemon.control_socket != old.daemon.control_socket
    {
        changes.push(
            "data_dir/control_socket changed: they take effect at the next restart".to_string(),
        );
    }
    changes.extend(http_changes(&old.http, &new.http));
    if new.smtp != old.smtp {
        changes.push("[smtp] relay changed".to_string());
    }
    if new.pipelines != old.pipelines {
        changes.push("pipelines changed".to_string());
    }
    crate::logging::set_level(new.daemon.log_level);
    pipeline.replace_config(new);
    if changes.is_empty() {
        changes.push("no changes".to_string());
    }
    log::info!("config reloaded: {}", changes.join("; "));
    Ok(changes)
}

/// What a reload changes in `[http]` (besides the listen address), in words.
fn http_changes(old: &crate::config::HttpConfig, new: &crate::config::HttpConfig) -> Vec<String> {
    let mut changes = Vec::new();
    match (&old.tls, &new.tls) {
        (None, Some(_)) => changes.push("https on for new connections".to_string()),
        (Some(_), None) => changes.push("https off for new connections".to_string()),
        // The files are read again at every reload: a renewed certificate is in use now.
        (Some(_), Some(t)) => changes.push(format!(
            "https certificate reloaded from {}",
            t.cert_file.display()
        )),
        (None, None) => {}
    }
    if (old.session_idle, old.session_lifetime) != (new.session_idle, new.session_lifetime) {
        changes.push(format!(
            "session limits now {} s idle, {} s in all",
            new.session_idle.as_secs(),
            new.session_lifetime.as_secs()
        ));
    }
    if old.metrics_allow != new.metrics_allow {
        changes.push("[http] metrics_allow changed".to_string());
    }
    if old.public_url != new.public_url {
        changes.push("[http] public_url changed".to_string());
    }
    changes
}

/// The watchdog interval systemd asked for, as sd_watchdog_enabled(3) reads it: set
/// by `WATCHDOG_USEC`, for us when `WATCHDOG_PID` is unset or names our pid.
pub fn watchdog_period(usec: Option<&str>, pid: Option<&str>, our_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok().filter(|u| *u > 0)?;
    match pid.map(|p| p.trim().parse::<u32>()) {
        None => {}
        Some(Ok(p)) if p == our_pid => {}
        _ => return None,
    }
    Some(Duration::from_micros(usec))
}

fn notify(state: &[sd_notify::NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        if let Err(e) = sd_notify::notify(false, state) {
            log::warn!("sd_notify failed: {e}");
        }
    }
}

/// How often frontdeskd asks systemd for more start-up time while the store opens.
const START_EXTEND_EVERY: Duration = Duration::from_secs(10);

/// Await `work` (opening the store), asking systemd for more start-up time while it
/// runs: an upgrade migrates and first backs up the database, which on a large one takes
/// longer than the unit's start timeout, and a start killed there would roll the
/// migration back and try again forever.
async fn extend_start_timeout_while<T>(
    work: tokio::task::JoinHandle<T>,
) -> Result<T, tokio::task::JoinError> {
    every_while(work, START_EXTEND_EVERY, || notify(&start_extension())).await
}

/// What frontdeskd tells systemd each time it asks for more start-up time.
fn start_extension() -> [sd_notify::NotifyState<'static>; 3] {
    [
        sd_notify::NotifyState::Status("opening the database (migrating it after an upgrade)"),
        // Three periods: one late tick must not let the timeout fire.
        sd_notify::NotifyState::ExtendTimeoutUsec(3 * START_EXTEND_EVERY.as_micros() as u32),
        // In case the watchdog already runs during start-up.
        sd_notify::NotifyState::Watchdog,
    ]
}

/// Await `work`, calling `tick` after each `every` it is still running.
async fn every_while<T>(
    work: impl std::future::Future<Output = T>,
    every: Duration,
    mut tick: impl FnMut(),
) -> T {
    tokio::pin!(work);
    loop {
        match tokio::time::timeout(every, &mut work).await {
            Ok(done) => return done,
            Err(_) => tick(),
        }
    }
}

/// Run the daemon until SIGTERM/SIGINT; SIGHUP reloads the config.
pub async fn run(config: Config) -> Result<(), DaemonError> {
    let started = Instant::now();
    let data_dir = config.daemon.data_dir.clone();
    let opening = tokio::task::spawn_blocking(move || Store::open(&data_dir));
    let store = extend_start_timeout_while(opening)
        .await
        .map_err(|_| DaemonError::Store(crate::store::StoreError::Closed))??;
    if let Err(e) = check_routing(&config, &store).await {
        let store = store.clone();
        drop(store);
        return Err(DaemonError::Config(e));
    }
    let lmtp = bind_tcp("LMTP", config.lmtp.listen).await?;
    let http = bind_tcp("HTTP", config.http.listen).await?;
    let socket_path = config.daemon.control_socket.clone();
    let control = control::bind(&socket_path).map_err(|source| DaemonError::Bind {
        what: "control socket",
        addr: socket_path.display().to_string(),
        source,
    })?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;

    let lmtp_listen = lmtp.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let http_addr = http.local_addr().ok();
    let http_listen = http_addr.map(|a| a.to_string()).unwrap_or_default();
    log::info!(
        "frontdeskd {} started: LMTP {lmtp_listen}, HTTP {http_listen}, control {}, database {}, {} channel(s)",
        env!("CARGO_PKG_VERSION"),
        socket_path.display(),
        store.path().display(),
        config.channels.len()
    );
    let pipeline = Pipeline::new(config, store.clone());
    let shutdown = CancellationToken::new();
    let tracker = TaskTracker::new();
    let board = StatusBoard::default();
    let mut imap = ImapSupervisor::new(
        pipeline.clone(),
        board.clone(),
        shutdown.clone(),
        tracker.clone(),
    );
    imap.apply(&pipeline.config());
    let services = Services {
        pipeline: pipeline.clone(),
        board,
        imap: Arc::new(Mutex::new(imap)),
    };
    tracker.spawn(crate::channels::lmtp::serve(
        lmtp,
        pipeline.clone(),
        shutdown.clone(),
        tracker.clone(),
    ));
    tracker.spawn(crate::web::serve(
        http,
        services.clone(),
        shutdown.clone(),
        tracker.clone(),
    ));
    tracker.spawn(control::serve(
        control,
        ControlContext {
            services: services.clone(),
            started,
            lmtp_listen,
            http_listen,
        },
        shutdown.clone(),
        tracker.clone(),
    ));
    tracker.spawn(crate::outbound::notifier::run(
        pipeline.clone(),
        http_addr,
        shutdown.clone(),
    ));
    tracker.spawn(crate::outbound::worker::run(
        pipeline.clone(),
        pipeline.outbox_kick(),
        shutdown.clone(),
    ));
    {
        let pipeline = pipeline.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move { pipeline.wake_snoozes(shutdown).await });
    }
    {
        let pipeline = pipeline.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move { pipeline.close_waiting(shutdown).await });
    }
    tracker.spawn(crate::outbound::survey::run(
        pipeline.clone(),
        shutdown.clone(),
    ));
    {
        let pipeline = pipeline.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move { pipeline.tell_overdue(shutdown).await });
    }
    let watchdog = watchdog_period(
        std::env::var("WATCHDOG_USEC").ok().as_deref(),
        std::env::var("WATCHDOG_PID").ok().as_deref(),
        std::process::id(),
    );
    if let Some(period) = watchdog.filter(|_| std::env::var_os("NOTIFY_SOCKET").is_some()) {
        let pipeline = pipeline.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            let mut tick = tokio::time::interval(period / 2);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {
                        // Only tell systemd we are alive when the store still answers.
                        if pipeline.store().read(|r| r.ping()).await.is_ok() {
                            notify(&[sd_notify::NotifyState::Watchdog]);
                        }
                    }
                }
            }
        });
    }
    notify(&[sd_notify::NotifyState::Ready]);

    loop {
        tokio::select! {
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
            _ = sighup.recv() => {
                notify(&[sd_notify::NotifyState::Reloading]);
                let _ = services.reload().await;
                notify(&[sd_notify::NotifyState::Ready]);
            }
        }
    }
    log::info!("stopping: draining sessions");
    notify(&[sd_notify::NotifyState::Stopping]);
    shutdown.cancel();
    tracker.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, tracker.wait())
        .await
        .is_err()
    {
        log::warn!("some sessions did not finish within {DRAIN_TIMEOUT:?}; stopping anyway");
    }
    drop(pipeline);
    drop(services);
    let _ = tokio::task::spawn_blocking(move || store.close()).await;
    let _ = std::fs::remove_file(&socket_path);
    log::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchdog_settings() {
        assert_eq!(
            watchdog_period(Some("2000000"), None, 7),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            watchdog_period(Some("2000000"), Some("7"), 7),
            Some(Duration::from_secs(2))
        );
        assert_eq!(watchdog_period(Some("2000000"), Some("8"), 7), None);
        assert_eq!(watchdog_period(Some("0"), None, 7), None);
        assert_eq!(watchdog_period(Some("x"), None, 7), None);
        assert_eq!(watchdog_period(None, Some("7"), 7), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_start_asks_for_more_time_every_period_until_it_ends() {
        let mut ticks = Vec::new();
        let started = tokio::time::Instant::now();
        let work = async {
            tokio::time::sleep(Duration::from_secs(35)).await;
            "opened"
        };
        let out = every_while(work, START_EXTEND_EVERY, || {
            ticks.push(started.elapsed().as_secs())
        })
        .await;
        assert_eq!(out, "opened");
        assert_eq!(ticks, vec![10, 20, 30]);
        let told: Vec<String> = start_extension().iter().map(|s| s.to_string()).collect();
        assert_eq!(
            told,
            [
                "STATUS=opening the database (migrating it after an upgrade)",
                "EXTEND_TIMEOUT_USEC=30000000",
                "WATCHDOG=1"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_quick_start_asks_for_nothing() {
        let mut ticks = 0;
        let out = every_while(async { 7 }, START_EXTEND_EVERY, || ticks += 1).await;
        assert_eq!((out, ticks), (7, 0));
    }
}
