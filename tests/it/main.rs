//! The integration tests: one binary, a daemon per test in its own temp dir, no fixed
//! ports, no sleeps as synchronisation (see [`harness`]).
//!
//! - [`harness`]: start `frontdeskd` on a generated config, wait until its control socket
//!   answers, talk to it with `frontdeskctl`; kill it on drop (its log is printed when a
//!   test fails).
//! - [`lmtp`]: LMTP sessions driven by Python's `smtplib.LMTP` and a raw-socket PIPELINING
//!   client (`tests/clients/`), checked through `frontdeskctl --json`.
//! - [`crash`]: SIGKILL during a 2,000-message stream; Invariants 1 and 2.
//! - [`config_errors`]: each kind of bad config file: exit 78, file:line:key, nothing touched.
//! - [`control`]: the control socket, `inject` exit codes, `import` of mbox and Maildir.
//! - [`signals`]: SIGTERM drains, SIGHUP reloads.
//! - [`store`]: a database from a newer version is refused untouched.
//!
//! Python 3 must be on PATH; `FRONTDESK_CORPUS` overrides `../shared/corpus`;
//! `FRONTDESK_CRASH_SEED` replays a crash test run.

mod config_errors;
mod control;
mod crash;
mod harness;
mod http;
mod lmtp;
mod operations;
mod signals;
mod store;
mod system;
