//! IMAP pull against a real Dovecot on loopback (issue 3): every test starts its own
//! Dovecot from a temp dir ([`dovecot`]) and its own `frontdeskd` (the shared daemon
//! harness of `tests/it`), and checks the result both through `frontdeskctl --json` /
//! the control socket and on the server with `doveadm`.
//!
//! - [`import`]: initial import of the corpus (count, dedup, threads per MANIFEST.tsv);
//!   UIDVALIDITY change.
//! - [`idle`]: new mail becomes a ticket within 2 s through IDLE.
//! - [`resilience`]: Dovecot stopped mid-sync; frontdeskd SIGKILLed mid-batch.
//! - [`after_fetch`]: `seen`, `move:`, `delete`, `keep`, and `import_existing`.
//! - [`tls`]: implicit TLS and STARTTLS with a test CA; wrong CA and wrong name refused.
//! - [`auth`]: wrong password; XOAUTH2 through Dovecot's oauth2 passdb and a local token
//!   endpoint ([`oauth_server`]), then a revoked refresh token.
//!
//! Needs Dovecot (`apt-get install -y dovecot-imapd dovecot-lmtpd`) and the `openssl`
//! command; a missing one fails the tests with that hint, nothing is skipped.

#[allow(dead_code)]
#[path = "../it/harness.rs"]
mod harness;

mod after_fetch;
mod auth;
mod certs;
mod dovecot;
mod idle;
mod import;
mod oauth_server;
mod resilience;
mod tls;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use dovecot::Dovecot;
use harness::{Daemon, Settings};

/// One `[[channel]]` with `[channel.imap]`.
#[derive(Debug, Clone)]
pub struct ImapChannel {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: &'static str,
    pub ca_file: Option<PathBuf>,
    pub username: String,
    pub password_file: Option<PathBuf>,
    /// `(client_id, refresh_token_file, token_url, client_secret_file)` for XOAUTH2.
    pub xoauth2: Option<(String, PathBuf, String, Option<PathBuf>)>,
    pub folders: Vec<String>,
    pub after_fetch: String,
    /// A TOML value: `true`, `false` or `"since:YYYY-MM-DD"`.
    pub import_existing: String,
    pub poll_seconds: u64,
}

impl ImapChannel {
    /// Plain IMAP on loopback to `dovecot` as `user`, whose password is written to a file.
    pub fn plain(name: &str, dovecot: &Dovecot, user: &str) -> ImapChannel {
        let password = dovecot
            .users
            .iter()
            .find(|u| u.name == user)
            .unwrap_or_else(|| panic!("no Dovecot user {user}"))
            .password
            .clone();
        ImapChannel {
            name: name.to_string(),
            host: "127.0.0.1".to_string(),
            port: dovecot.imap_port,
            tls: "none",
            ca_file: None,
            username: user.to_string(),
            password_file: Some(dovecot.secret_file(&format!("{name}.password"), &password)),
            xoauth2: None,
            folders: vec!["INBOX".to_string()],
            after_fetch: "seen".to_string(),
            import_existing: "true".to_string(),
            poll_seconds: 3600,
        }
    }

    /// The TOML tables.
    pub fn toml(&self) -> String {
        let q = |s: &str| format!("{s:?}");
        let mut t = format!(
            "[[channel]]\nkind = \"email\"\nname = {}\naddress = {}\n\n[channel.imap]\nhost = {}\nport = {}\ntls = {}\nusername = {}\n",
            q(&self.name),
            q(&format!("{}@example.com", self.name)),
            q(&self.host),
            self.port,
            q(self.tls),
            q(&self.username),
        );
        if let Some(ca) = &self.ca_file {
            t.push_str(&format!("ca_file = {}\n", q(&ca.display().to_string())));
        }
        if let Some(p) = &self.password_file {
            t.push_str(&format!(
                "password_file = {}\n",
                q(&p.display().to_string())
            ));
        }
        if let Some((client_id, refresh, url, secret)) = &self.xoauth2 {
            t.push_str(&format!(
                "auth = \"xoauth2\"\nclient_id = {}\nrefresh_token_file = {}\ntoken_url = {}\n",
                q(client_id),
                q(&refresh.display().to_string()),
                q(url)
            ));
            if let Some(s) = secret {
                t.push_str(&format!(
                    "client_secret_file = {}\n",
                    q(&s.display().to_string())
                ));
            }
        }
        let folders: Vec<String> = self.folders.iter().map(|f| q(f)).collect();
        t.push_str(&format!(
            "folders = [{}]\nafter_fetch = {}\nimport_existing = {}\npoll_seconds = {}\n\n",
            folders.join(", "),
            q(&self.after_fetch),
            self.import_existing,
            self.poll_seconds
        ));
        t
    }
}

/// A daemon pulling `channels`.
pub fn daemon(channels: &[&ImapChannel]) -> Daemon {
    let text: String = channels.iter().map(|c| c.toml()).collect();
    Daemon::start_with(Settings {
        channels: text,
        ..Settings::default()
    })
}

/// One control-socket request that must succeed; its `data`.
pub fn control(d: &Daemon, request: Value) -> Value {
    d.control().data(&request)
}

/// `channels list` entry of `name`.
pub fn channel(d: &Daemon, name: &str) -> Value {
    let data = control(d, json!({"cmd": "channels-list"}));
    data["channels"]
        .as_array()
        .expect("channels array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no channel {name} in {data}"))
        .clone()
}

/// Stored messages (all channels).
pub fn stored_messages(d: &Daemon) -> i64 {
    control(d, json!({"cmd": "status"}))["counts"]["messages"]
        .as_i64()
        .expect("counts.messages")
}

/// Poll `channels list` until `condition` holds for channel `name`; that entry. Fails
/// with the last entry seen (and the daemon log, via the harness) at the deadline.
pub fn wait_channel(
    d: &Daemon,
    name: &str,
    what: &str,
    within: Duration,
    mut condition: impl FnMut(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let c = channel(d, name);
        if condition(&c) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for channel {name}: {what}; last:\n{c:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Poll until `stored_messages == n`, failing with the channel states when it does not.
pub fn wait_stored(d: &Daemon, n: i64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let got = stored_messages(d);
        if got == n {
            return;
        }
        assert!(
            got <= n,
            "{got} messages stored, expected exactly {n} (duplicates?)"
        );
        assert!(
            Instant::now() < deadline,
            "only {got} of {n} messages stored after {within:?}; channels:\n{:#}",
            control(d, json!({"cmd": "channels-list"}))
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when every folder of the channel is connected (IDLE/waiting) with no backlog.
pub fn caught_up(c: &Value) -> bool {
    c["state"] == "connected"
        && c["imap"]
            .as_array()
            .is_some_and(|f| !f.is_empty() && f.iter().all(|f| f["backlog"] == 0))
}

/// The first folder's status of a channel entry.
pub fn folder0(c: &Value) -> &Value {
    &c["imap"][0]
}

/// A small distinct message: `<{tag}-{i}@test.example>`.
pub fn test_mail(tag: &str, i: usize) -> Vec<u8> {
    format!(
        "From: Customer {i} <customer{i}@{tag}.test.example>\r\n\
         To: support@example.com\r\n\
         Subject: {tag} question {i}\r\n\
         Date: Tue, 4 Mar 2025 10:00:00 +0000\r\n\
         Message-ID: <{tag}-{i}@test.example>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hello,\r\n\r\nquestion number {i} about {tag}.\r\n"
    )
    .into_bytes()
}

/// The Message-ID [`test_mail`] gives.
pub fn test_mail_id(tag: &str, i: usize) -> String {
    format!("{tag}-{i}@test.example")
}

/// Generous deadline for a whole sync on a busy 2-core machine.
pub const SYNC_DEADLINE: Duration = Duration::from_secs(60);
