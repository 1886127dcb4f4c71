//! `frontdeskd`: the help desk daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use frontdesk::config::{Config, ConfigError, DEFAULT_CONFIG_PATH};

/// Exit code for a bad configuration (sysexits EX_CONFIG).
const EX_CONFIG: u8 = 78;

#[derive(Parser)]
#[command(name = "frontdeskd", version, about = "Self-hosted help desk daemon")]
struct Args {
    /// Config file.
    #[arg(long, short, default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
    /// Check the config file and exit.
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    // malloc arenas: one per async worker thread (tokio starts one per core) plus two,
    // for the store's writer and the rest to share. With fewer, two workers can land
    // on one arena and queue on its lock: half the page rate on a 2-core host, by
    // chance from one start to the next (web bench, 2 arenas). With glibc's default
    // (8 per core) every blocking-pool thread grows its own and resident memory
    // doubles for no speed (LMTP bench).
    let arenas = std::thread::available_parallelism().map_or(2, |n| n.get()) + 2;
    // SAFETY: called before any other thread exists; mallopt only tunes the allocator.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, i32::try_from(arenas).unwrap_or(i32::MAX));
    }
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e @ ConfigError::Invalid { .. }) | Err(e @ ConfigError::Read { .. }) => {
            eprintln!("frontdeskd: config refused:\n{e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    if args.check_config {
        println!(
            "{}: OK ({} channel(s))",
            args.config.display(),
            config.channels.len()
        );
        return ExitCode::SUCCESS;
    }
    frontdesk::logging::init(config.daemon.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("frontdeskd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(frontdesk::daemon::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ frontdesk::daemon::DaemonError::Config(_)) => {
            eprintln!("frontdeskd: {e}");
            ExitCode::from(EX_CONFIG)
        }
        Err(e) => {
            log::error!("{e}");
            eprintln!("frontdeskd: {e}");
            ExitCode::FAILURE
        }
    }
}
