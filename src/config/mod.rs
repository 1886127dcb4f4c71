//! Configuration: the TOML file ([`raw`]) checked into a [`Config`] whose fields cannot be wrong.
//!
//! Every problem in a file is collected and reported at once, each with the file, the
//! line and the key at fault, so a sysadmin fixes a file in one pass.

pub mod raw;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use raw::{
    RawAck, RawAutoClose, RawChannel, RawChannelSla, RawConfig, RawImap, RawMacro,
    RawNotifications, RawPipeline, RawRouting, RawRule, RawSla, RawSmtp, RawSnippet, RawSurvey,
    RawTargets, RawTicketDefaults, RawTicketField,
};

use crate::desk::lifecycle::{Pipeline, Priority, Stage};
use crate::desk::routing::{RoutingMode, RoutingRule};
use crate::desk::sla::{self, OfficeHours, Sla, Targets};

use crate::outbound::compose::{
    FromNameMode, Identity, ACK_TOKENS, SIGNATURE_TOKENS, SNIPPET_TOKENS,
};
use crate::outbound::template::Template;
use toml::Spanned;

/// Longest `[[macro]] name`: it labels a menu entry.
pub const MAX_MACRO_NAME: usize = 60;
/// Longest `[notifications] delay_seconds`.
pub const MAX_NOTIFY_DELAY_SECONDS: i64 = 3600;
/// `[notifications] delay_seconds` when not set: long enough for an agent at the page
/// to read the ticket first (then no mail is sent).
const DEFAULT_NOTIFY_DELAY_SECONDS: i64 = 60;
/// Longest `[smtp] undo_seconds`: an agent's reply should not wait longer than this.
const MAX_UNDO_SECONDS: i64 = 300;

/// Default control socket when the file names none.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/frontdesk/control.sock";
/// Default config file.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/frontdesk/frontdesk.toml";
/// Default LMTP message limit: 25 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// `[daemon]`.
    pub daemon: DaemonConfig,
    /// `[http]`.
    pub http: HttpConfig,
    /// `[lmtp]`.
    pub lmtp: LmtpConfig,
    /// `[smtp]`, the default relay for replies.
    pub smtp: Option<SmtpConfig>,
    /// Pipelines (the built-in "Support" when the file has none).
    pub pipelines: std::sync::Arc<Vec<Pipeline>>,
    /// The channels, in file order.
    pub channels: Vec<Channel>,
    /// Canned replies, in file order.
    pub snippets: Vec<Snippet>,
    /// Rules for new tickets, in file order.
    pub rules: Vec<crate::desk::rules::Rule>,
    /// Macros agents apply by hand, in file order.
    pub macros: Vec<crate::desk::macros::Macro>,
    /// What the desk records about each ticket, in file order.
    pub ticket_fields: Vec<crate::desk::ticket_fields::FieldDef>,
    /// `[notifications]`: mail to agents about their tickets (none without it).
    pub notifications: Option<NotificationsConfig>,
    /// `[sla]`: answer-time targets (none without it).
    pub sla: Option<Sla>,
}

/// `[notifications]`: agents get mail when a ticket is assigned to them, its customer
/// writes, or a colleague mentions them (each agent chooses on their account page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationsConfig {
    /// From address (and envelope sender).
    pub from: String,
    /// From name.
    pub from_name: String,
    /// How long a notification waits before it is mailed.
    pub delay: Duration,
}

/// `[[snippet]]`: text an agent inserts into a reply, filled in for the ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    /// What agents pick it by.
    pub name: String,
    /// The text ([`crate::outbound::compose::SNIPPET_TOKENS`]).
    pub body: Template,
}

/// `[daemon]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DaemonConfig {
    /// Directory holding `frontdesk.db`.
    pub data_dir: PathBuf,
    /// Control socket path.
    pub control_socket: PathBuf,
    /// Company name for From names and templates.
    pub company_name: String,
    /// Log level.
    pub log_level: log::LevelFilter,
}

/// `[http]`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// The URL agents use, if set.
    pub public_url: Option<String>,
    /// Serve https ourselves (no reverse proxy in front).
    pub tls: Option<HttpTls>,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in.
    pub session_lifetime: Duration,
    /// Who may read `/metrics` (default: this host only).
    pub metrics_allow: Vec<IpNet>,
    /// Every agent must sign in with two steps: one without it set up can only set it
    /// up (or sign out) until they do.
    pub require_two_step: bool,
}

/// An address range: `ip/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    /// The network address.
    pub addr: std::net::IpAddr,
    /// Leading bits that must match.
    pub prefix: u8,
}

impl IpNet {
    /// Parse `ip` or `ip/prefix`.
    pub fn parse(s: &str) -> Option<IpNet> {
        let (ip, prefix) = match s.trim().split_once('/') {
            Some((ip, p)) => (ip, Some(p.parse::<u8>().ok()?)),
            None => (s.trim(), None),
        };
        let addr: std::net::IpAddr = ip.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// True when `ip` is in the range (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let bits = |a: IpAddr| -> u128 {
            match a {
                IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
                IpAddr::V6(v) => u128::from(v),
            }
        };
        if ip.is_ipv4() != self.addr.is_ipv4() {
            return false;
        }
        // Both kinds sit in the top bits of a u128, so the mask is the top `prefix` bits.
        let shift = 128 - u32::from(self.prefix);
        let mask = if shift >= 128 { 0 } else { u128::MAX << shift };
        bits(ip) & mask == bits(self.addr) & mask
    }

    /// This host: 127.0.0.0/8 and ::1.
    pub fn loopback() -> Vec<IpNet> {
        ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|s| IpNet::parse(s))
            .collect()
    }
}

impl HttpConfig {
    /// Session cookies get `Secure` when agents reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.tls.is_some()
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }
}

/// The listener's own certificate, loaded when the config is (so a bad one is a config
/// error, and SIGHUP picks up a renewed one).
#[derive(Clone)]
pub struct HttpTls {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
    /// The loaded pair.
    pub server: std::sync::Arc<rustls::ServerConfig>,
}

impl std::fmt::Debug for HttpTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTls")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

impl PartialEq for HttpTls {
    fn eq(&self, other: &Self) -> bool {
        self.cert_file == other.cert_file && self.key_file == other.key_file
    }
}

/// `[lmtp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LmtpConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Largest message accepted.
    pub max_message_bytes: usize,
    /// Idle timeout per command.
    pub idle_timeout: Duration,
    /// Most concurrent sessions.
    pub max_sessions: usize,
}

/// The kinds of channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// A team mailbox.
    Email,
}

/// One channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// Unique name.
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
    /// Team address, lower case.
    pub address: String,
    /// Aliases, lower case.
    pub aliases: Vec<String>,
    /// File forwards under the original sender.
    pub forward_original_sender: bool,
    /// Pull a mailbox over IMAP.
    pub imap: Option<ImapConfig>,
    /// From name mode.
    pub from_name: FromNameMode,
    /// `agent_and_company` format: `{agent}`, `{first_name}`, `{company}`.
    pub from_name_format: String,
    /// Signature template.
    pub signature: Option<Template>,
    /// Put `[#N-mac]` in subjects.
    pub subject_tag: bool,
    /// An agent who answers a ticket nobody owns becomes its owner.
    pub assign_on_reply: bool,
    /// This channel's own relay, overriding `[smtp]`.
    pub smtp: Option<SmtpConfig>,
    /// The instant reply.
    pub acknowledgement: Option<AckConfig>,
    /// The survey after closing.
    pub survey: Option<SurveyConfig>,
    /// Closing tickets left waiting on the customer.
    pub auto_close: Option<crate::desk::auto_close::AutoClose>,
    /// Replies end with links for the customer to rate them, to this desk address
    /// (`[http] public_url`); `None` when the channel does not ask.
    pub ratings: Option<String>,
    /// Properties of new tickets.
    pub ticket: TicketDefaults,
    /// Routing of new tickets.
    pub routing: RoutingRule,
    /// Lines of `routing.users` / `routing.teams` entries, for errors found against the
    /// store (unknown user or team) at start-up and reload.
    pub routing_lines: Vec<(String, usize)>,
}

/// `[channel.ticket]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDefaults {
    /// Pipeline.
    pub pipeline: String,
    /// Starting stage.
    pub status: String,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Vec<String>,
}

/// An outbound relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS mode.
    pub tls: TlsMode,
    /// Extra trust anchor.
    pub ca_file: Option<PathBuf>,
    /// Login name and password file, when the relay wants AUTH.
    pub login: Option<(String, PathBuf)>,
    /// EHLO name.
    pub hello_name: String,
    /// Most parallel connections.
    pub max_connections: usize,
    /// Give up after this long.
    pub max_queue: Duration,
    /// How long an agent's reply or forward waits in the outbox, where "Cancel sending"
    /// still stops it (zero: sent at once).
    pub undo: Duration,
}

/// `[channel.acknowledgement]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckConfig {
    /// Subject.
    pub subject: Template,
    /// Body.
    pub body: Template,
    /// Most per contact per hour.
    pub max_per_hour: u32,
}

/// `[channel.survey]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyConfig {
    /// Seconds after closing that it goes (the ticket still closed then).
    pub after: i64,
    /// Subject.
    pub subject: Template,
    /// Body, before the rating links.
    pub body: Template,
    /// The desk's public address, which the rating links lead to (`[http] public_url`).
    pub public_url: String,
}

/// A survey's subject when the config gives none.
pub const SURVEY_SUBJECT: &str = "How did we do with \"{{ticket.subject}}\"?";

/// A survey's body when the config gives none.
pub const SURVEY_BODY: &str = "Hello,\n\n\
we closed your request \"{{ticket.subject}}\" (#{{ticket.id}}). If you have a moment, \
tell us how we did: one click is enough, and a few words help us more.\n\n\
{{company}}\n";

/// A survey goes this long after closing when the config does not say.
const SURVEY_AFTER: i64 = 3600;

/// How an IMAP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain, then STARTTLS before login.
    Starttls,
    /// No TLS: loopback only.
    None,
}

/// How to log in to IMAP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapAuth {
    /// LOGIN with a password read from a file.
    Password {
        /// The file.
        password_file: PathBuf,
    },
    /// SASL XOAUTH2 with an access token refreshed from `token_url`.
    XOAuth2 {
        /// Client id.
        client_id: String,
        /// File with the client secret (some providers need none).
        client_secret_file: Option<PathBuf>,
        /// File with the refresh token.
        refresh_token_file: PathBuf,
        /// Token endpoint.
        token_url: String,
    },
}

/// What to do on the server with a message once it is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFetch {
    /// Set `\Seen`.
    Seen,
    /// Move it to a folder.
    Move(String),
    /// Delete and expunge it.
    Delete,
    /// Leave it alone.
    Keep,
}

/// What the first sync does with mail already in the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportExisting {
    /// Import it all as history.
    All,
    /// Skip it: only new mail becomes tickets.
    Nothing,
    /// Import what arrived since this day (`(year, month, day)`).
    Since(i32, u8, u8),
}

/// `[channel.imap]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapConfig {
    /// Server host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS mode.
    pub tls: TlsMode,
    /// Extra trust anchor.
    pub ca_file: Option<PathBuf>,
    /// Login name.
    pub username: String,
    /// Credentials.
    pub auth: ImapAuth,
    /// Folders to pull.
    pub folders: Vec<String>,
    /// Action after commit.
    pub after_fetch: AfterFetch,
    /// First-sync behaviour.
    pub import_existing: ImportExisting,
    /// Poll interval without IDLE.
    pub poll_interval: Duration,
}

/// A secret file path: absolute as given; relative names are systemd credentials
/// (`$CREDENTIALS_DIRECTORY/NAME`) when the daemon runs under `LoadCredential=`,
/// else relative to the config file's directory.
pub fn resolve_secret_path(config_path: &Path, value: &str) -> PathBuf {
    let p = PathBuf::from(value);
    if p.is_absolute() {
        return p;
    }
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let candidate = Path::new(&dir).join(&p);
        if candidate.exists() {
            return candidate;
        }
    }
    config_path.parent().unwrap_or(Path::new(".")).join(p)
}

/// True for names and addresses that stay on this host.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false)
}

impl Channel {
    /// The identity replies are sent with.
    pub fn identity(&self, company: &str) -> Identity {
        Identity {
            address: self.address.clone(),
            company: company.to_string(),
            from_name: self.from_name,
            from_name_format: self.from_name_format.clone(),
            signature: self.signature.clone(),
            subject_tag: self.subject_tag,
            ratings_url: self.ratings.clone(),
        }
    }

    /// The address and every alias.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.address.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// Dotted key path (`channel[2].address`).
    pub key: String,
    /// What is wrong, in words.
    pub message: String,
}

/// Why a config file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file was read but is wrong; every problem is listed.
    #[error("{}", render_problems(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// All problems found.
        problems: Vec<ConfigProblem>,
    },
}

fn render_problems(path: &Path, problems: &[ConfigProblem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = match p.line {
            Some(line) => fmt::write(
                &mut out,
                format_args!("{}:{}: {}: {}", path.display(), line, p.key, p.message),
            ),
            None => fmt::write(
                &mut out,
                format_args!("{}: {}: {}", path.display(), p.key, p.message),
            ),
        };
    }
    out
}

impl Config {
    /// Read and validate a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Validate file contents; `path` is only used in messages and kept in the result.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let invalid = |problems| ConfigError::Invalid {
            path: path.to_path_buf(),
            problems,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            invalid(vec![ConfigProblem {
                line: e.span().map(|s| line_of(text, s.start)),
                key: key_from_toml_error(text, &e),
                message: e.message().trim().to_string(),
            }])
        })?;
        let mut v = Validator {
            text,
            path,
            problems: Vec::new(),
            pipelines: Vec::new(),
            public_url: None,
        };
        let config = v.config(path, raw);
        if v.problems.is_empty() {
            Ok(config)
        } else {
            Err(invalid(v.problems))
        }
    }

    /// The channel a recipient address delivers to (address or alias; a `+tag` is ignored).
    pub fn channel_for_recipient(&self, recipient: &str) -> Option<&Channel> {
        let wanted = strip_subaddress(&recipient.trim().trim_matches(['<', '>']).to_lowercase());
        self.channels
            .iter()
            .find(|c| c.addresses().any(|a| a == wanted))
    }

    /// A channel by name.
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name == name)
    }

    /// A pipeline by name (case-insensitive).
    pub fn pipeline(&self, name: &str) -> Option<&Pipeline> {
        self.pipelines
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The channels' names, in the file's order.
    pub fn channel_names(&self) -> Vec<String> {
        self.channels.iter().map(|c| c.name.clone()).collect()
    }

    /// Every address of every channel, lower case.
    pub fn own_addresses(&self) -> Vec<String> {
        self.channels
            .iter()
            .flat_map(|c| c.addresses().map(str::to_string))
            .collect()
    }

    /// Path of the SQLite database.
    pub fn database_path(&self) -> PathBuf {
        self.daemon.data_dir.join("frontdesk.db")
    }
}

impl Config {
    /// Problems only the store can reveal: routing that names users or teams that do
    /// not exist (refused), and listed users without a seat (warnings, returned apart).
    pub fn check_routing(
        &self,
        users: &[(String, bool)],
        teams: &[String],
    ) -> (Vec<ConfigProblem>, Vec<String>) {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        for (i, c) in self.channels.iter().enumerate() {
            let line = |what: &str| {
                c.routing_lines
                    .iter()
                    .find(|(k, _)| k == what)
                    .map(|(_, l)| *l)
            };
            for u in &c.routing.users {
                match users.iter().find(|(e, _)| e == u) {
                    None => problems.push(ConfigProblem {
                        line: line(&format!("user:{u}")),
                        key: format!("channel[{}].routing.users", i + 1),
                        message: format!("no user {u} (add it with `frontdeskctl users add`)"),
                    }),
                    Some((_, false)) => warnings.push(format!(
                        "channel {}: routing lists {u}, who has no seat and gets no tickets (`frontdeskctl users set {u} --seat on`)",
                        c.name
                    )),
                    Some(_) => {}
                }
            }
            for t in &c.routing.teams {
                if !teams.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                    problems.push(ConfigProblem {
                        line: line(&format!("team:{t}")),
                        key: format!("channel[{}].routing.teams", i + 1),
                        message: format!("no team {t} (create it with `frontdeskctl teams add`)"),
                    });
                }
            }
        }
        (problems, warnings)
    }
}

/// `local+tag@domain` to `local@domain`.
pub fn strip_subaddress(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => match local.split_once('+') {
            Some((base, _)) => format!("{base}@{domain}"),
            None => address.to_string(),
        },
        None => address.to_string(),
    }
}

/// A plausible single mail address: `local@domain` with a dotted domain, no spaces.
pub fn is_valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.is_empty()
        && domain.len() <= 253
        && !address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"()[]\\".contains(c))
        && !local.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

/// The host part of an `http(s)://host[:port]/...` URL.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.starts_with('[') {
        return authority
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
            .unwrap_or(authority);
    }
    authority
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(authority)
}

/// `YYYY-MM-DD` to a valid calendar day.
fn parse_day(s: &str) -> Option<(i32, u8, u8)> {
    let mut parts = s.trim().splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u8 = parts.next()?.parse().ok()?;
    let d: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(m).ok()?;
    time::Date::from_calendar_date(y, month, d)
        .ok()
        .map(|_| (y, m, d))
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The dotted table path (`daemon`, `channel[2].imap`) in force at `offset`.
fn table_path_at(text: &str, offset: usize) -> Option<String> {
    // Include the line holding `offset`: a table's own span starts at its header.
    let offset = offset.min(text.len());
    let end = text[offset..]
        .find('\n')
        .map(|i| offset + i)
        .unwrap_or(text.len());
    let scope = &text[..end];
    let mut path: Option<String> = None;
    let mut arrays: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for line in scope.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("[[").and_then(|l| l.split("]]").next()) {
            let name = name.trim().to_string();
            let n = arrays.entry(name.clone()).or_insert(0);
            *n += 1;
            path = Some(format!("{name}[{n}]"));
        } else if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let name = name.trim();
            // `[channel.imap]` belongs to the latest `[[channel]]`.
            path = Some(match name.split_once('.') {
                Some((parent, child)) if arrays.contains_key(parent) => {
                    format!("{parent}[{}].{child}", arrays[parent])
                }
                _ => name.to_string(),
            });
        }
    }
    path
}

/// Best effort at naming the key a toml/serde error is about (`unknown field `x``).
fn key_from_toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message();
    if let Some(rest) = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.strip_prefix("missing field `"))
    {
        if let Some(name) = rest.split('`').next() {
            return match e.span().and_then(|s| table_path_at(text, s.start)) {
                Some(table) => format!("{table}.{name}"),
                None => name.to_string(),
            };
        }
    }
    match e.span() {
        Some(span) if span.start < text.len() => {
            let line_start = text[..span.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let line = text[line_start..].lines().next().unwrap_or("").trim();
            line.split('=').next().unwrap_or(line).trim().to_string()
        }
        _ => "(file)".to_string(),
    }
}

struct Validator<'t> {
    text: &'t str,
    path: &'t Path,
    problems: Vec<ConfigProblem>,
    /// Pipelines validated so far (channels refer to them).
    pipelines: Vec<Pipeline>,
    /// `[http] public_url`, once validated (rating links point there).
    public_url: Option<String>,
}

impl Validator<'_> {
    fn problem<T>(&mut self, at: &Spanned<T>, key: impl Into<String>, message: impl Into<String>) {
        self.problems.push(ConfigProblem {
            line: Some(line_of(self.text, at.span().start)),
            key: key.into(),
            message: message.into(),
        });
    }

    fn listen(&mut self, value: Option<&Spanned<String>>, key: &str, default: &str) -> SocketAddr {
        let fallback: SocketAddr = default
            .parse()
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)));
        match value {
            None => fallback,
            Some(s) => match s.get_ref().parse::<SocketAddr>() {
                Ok(addr) => addr,
                Err(_) => {
                    self.problem(
                        s,
                        key,
                        format!(
                            "{:?} is not an address:port such as \"127.0.0.1:2424\"",
                            s.get_ref()
                        ),
                    );
                    fallback
                }
            },
        }
    }

    fn positive(&mut self, value: Option<&Spanned<i64>>, key: &str, default: i64, max: i64) -> i64 {
        match value {
            None => default,
            Some(v) if *v.get_ref() >= 1 && *v.get_ref() <= max => *v.get_ref(),
            Some(v) => {
                self.problem(
                    v,
                    key,
                    format!("{} is out of range (1 to {max})", v.get_ref()),
                );
                default
            }
        }
    }

    fn config(&mut self, path: &Path, mut raw: RawConfig) -> Config {
        let daemon_span = raw.daemon.span();
        let d = raw.daemon.into_inner();
        if d.data_dir.get_ref().trim().is_empty() {
            self.problem(&d.data_dir, "daemon.data_dir", "must not be empty");
        }
        if d.company_name.get_ref().trim().is_empty() {
            self.problem(&d.company_name, "daemon.company_name", "must not be empty");
        }
        let log_level = match &d.log_level {
            None => log::LevelFilter::Info,
            Some(l) => match l.get_ref().parse() {
                Ok(level) => level,
                Err(_) => {
                    self.problem(
                        l,
                        "daemon.log_level",
                        "must be one of off, error, warn, info, debug, trace",
                    );
                    log::LevelFilter::Info
                }
            },
        };
        let _ = daemon_span;
        let daemon = DaemonConfig {
            data_dir: PathBuf::from(d.data_dir.get_ref()),
            control_socket: d
                .control_socket
                .as_ref()
                .map(|s| PathBuf::from(s.get_ref()))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONTROL_SOCKET)),
            company_name: d.company_name.get_ref().trim().to_string(),
            log_level,
        };
        let public_url = match &raw.http.public_url {
            None => None,
            Some(u)
                if u.get_ref().starts_with("https://") || u.get_ref().starts_with("http://") =>
            {
                Some(u.get_ref().trim_end_matches('/').to_string())
            }
            Some(u) => {
                self.problem(
                    u,
                    "http.public_url",
                    format!("{:?} must start with https:// or http://", u.get_ref()),
                );
                None
            }
        };
        let tls = match (&raw.http.tls_cert_file, &raw.http.tls_key_file) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let cert_file = resolve_secret_path(self.path, cert.get_ref());
                let key_file = resolve_secret_path(self.path, key.get_ref());
                match crate::tls::server_config(&cert_file, &key_file) {
                    Ok(server) => Some(HttpTls {
                        cert_file,
                        key_file,
                        server,
                    }),
                    Err((crate::tls::ServerFile::Cert, e)) => {
                        self.problem(cert, "http.tls_cert_file", e);
                        None
                    }
                    Err((crate::tls::ServerFile::Key, e)) => {
                        self.problem(key, "http.tls_key_file", e);
                        None
                    }
                }
            }
            (Some(one), None) | (None, Some(one)) => {
                self.problem(
                    one,
                    "http",
                    "tls_cert_file and tls_key_file go together: set both or neither",
                );
                None
            }
        };
        self.public_url = public_url.clone();
        let http = HttpConfig {
            listen: self.listen(raw.http.listen.as_ref(), "http.listen", "127.0.0.1:8025"),
            public_url,
            tls,
            session_idle: Duration::from_secs(self.positive(
                raw.http.session_idle_seconds.as_ref(),
                "http.session_idle_seconds",
                12 * 3600,
                365 * 86_400,
            ) as u64),
            metrics_allow: match &raw.http.metrics_allow {
                None => IpNet::loopback(),
                Some(list) => list
                    .iter()
                    .filter_map(|v| {
                        let net = IpNet::parse(v.get_ref());
                        if net.is_none() {
                            self.problem(
                                v,
                                "http.metrics_allow",
                                format!("{:?} is not an address or address/prefix", v.get_ref()),
                            );
                        }
                        net
                    })
                    .collect(),
            },
            session_lifetime: Duration::from_secs(self.positive(
                raw.http.session_lifetime_seconds.as_ref(),
                "http.session_lifetime_seconds",
                7 * 86_400,
                365 * 86_400,
            ) as u64),
            require_two_step: raw.http.require_two_step.unwrap_or(false),
        };
        let lmtp = LmtpConfig {
            listen: self.listen(raw.lmtp.listen.as_ref(), "lmtp.listen", "127.0.0.1:2424"),
            max_message_bytes: self.positive(
                raw.lmtp.max_message_bytes.as_ref(),
                "lmtp.max_message_bytes",
                DEFAULT_MAX_MESSAGE_BYTES as i64,
                1 << 30,
            ) as usize,
            idle_timeout: Duration::from_secs(self.positive(
                raw.lmtp.idle_timeout_seconds.as_ref(),
                "lmtp.idle_timeout_seconds",
                300,
                86_400,
            ) as u64),
            max_sessions: self.positive(
                raw.lmtp.max_sessions.as_ref(),
                "lmtp.max_sessions",
                200,
                100_000,
            ) as usize,
        };
        let smtp = raw
            .smtp
            .as_ref()
            .and_then(|s| self.smtp("smtp", s.get_ref()));
        let mut pipelines: Vec<Pipeline> = Vec::new();
        for (i, p) in raw.pipeline.iter().enumerate() {
            if let Some(p) = self.pipeline(i, p.get_ref(), &pipelines) {
                pipelines.push(p);
            }
        }
        if raw.pipeline.is_empty() {
            pipelines.push(Pipeline::default_support());
        }
        self.pipelines = pipelines.clone();
        let mut channels: Vec<Channel> = Vec::new();
        let mut seen_addresses: Vec<(String, String)> = Vec::new();
        // Each channel's own answer targets go with the desk's, into `Sla`.
        let channel_slas: Vec<(usize, String, Spanned<RawChannelSla>)> = raw
            .channel
            .iter_mut()
            .enumerate()
            .filter_map(|(i, ch)| {
                let ch = ch.get_mut();
                let sla = ch.sla.take()?;
                Some((i, ch.name.get_ref().clone(), sla))
            })
            .collect();
        for (i, ch) in raw.channel.into_iter().enumerate() {
            if let Some(c) = self.channel(i, ch.into_inner(), &channels, &mut seen_addresses) {
                channels.push(c);
            }
        }
        let mut snippets: Vec<Snippet> = Vec::new();
        for (i, raw) in raw.snippet.iter().enumerate() {
            if let Some(sn) = self.snippet(i, raw.get_ref(), &snippets) {
                snippets.push(sn);
            }
        }
        let mut ticket_fields: Vec<crate::desk::ticket_fields::FieldDef> = Vec::new();
        for (i, raw) in raw.ticket_field.iter().enumerate() {
            if let Some(f) = self.ticket_field(i, raw, &ticket_fields) {
                for p in self.required_in(i, raw.get_ref(), &pipelines) {
                    pipelines[p].required_to_close.push(f.name.clone());
                }
                ticket_fields.push(f);
            }
        }
        let mut rules: Vec<crate::desk::rules::Rule> = Vec::new();
        for (i, raw) in raw.rule.iter().enumerate() {
            if let Some(r) = self.rule(i, raw, &rules, &channels, &ticket_fields) {
                rules.push(r);
            }
        }
        let mut macros: Vec<crate::desk::macros::Macro> = Vec::new();
        for (i, raw) in raw.macros.iter().enumerate() {
            if let Some(m) = self.macro_table(i, raw, &macros, &ticket_fields) {
                macros.push(m);
            }
        }
        let notifications = raw
            .notifications
            .as_ref()
            .and_then(|n| self.notifications(n, smtp.is_some(), &channels));
        let sla = match &raw.sla {
            Some(table) => self.sla(table, &channel_slas),
            None => {
                for (i, _, table) in &channel_slas {
                    self.problem(
                        table,
                        format!("channel[{}].sla", i + 1),
                        "needs the desk's [sla]: its targets hold where a channel sets none, and its office hours for every channel",
                    );
                }
                None
            }
        };
        Config {
            path: path.to_path_buf(),
            daemon,
            http,
            lmtp,
            smtp,
            pipelines: std::sync::Arc::new(pipelines),
            channels,
            snippets,
            rules,
            macros,
            ticket_fields,
            notifications,
            sla,
        }
    }

    /// A priority as written, or the problem.
    fn priority(&mut self, value: &Spanned<String>, key: String) -> Option<Priority> {
        let parsed = Priority::parse(value.get_ref());
        if parsed.is_none() {
            self.problem(
                value,
                key,
                format!("{:?} must be low, medium, high or urgent", value.get_ref()),
            );
        }
        parsed
    }

    /// Tags as written, each once, or the problem with each unusable one.
    fn tags(&mut self, values: &[Spanned<String>], key: String) -> Vec<String> {
        let mut tags = Vec::new();
        for t in values {
            let tag = t.get_ref().trim().to_string();
            if tag.is_empty() || tag.contains(',') {
                self.problem(
                    t,
                    key.clone(),
                    format!("{:?} is not a usable tag", t.get_ref()),
                );
            } else if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        tags
    }

    fn rule(
        &mut self,
        i: usize,
        table: &Spanned<RawRule>,
        earlier: &[crate::desk::rules::Rule],
        channels: &[Channel],
        ticket_fields: &[crate::desk::ticket_fields::FieldDef],
    ) -> Option<crate::desk::rules::Rule> {
        use crate::desk::rules::{Assign, Rule};
        let raw = table.get_ref();
        let key = |k: &str| format!("rule[{}].{k}", i + 1);
        let before = self.problems.len();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.problem(&raw.name, key("name"), "must not be empty");
        } else if earlier.iter().any(|r| r.name.eq_ignore_ascii_case(&name)) {
            self.problem(&raw.name, key("name"), format!("duplicate rule {name:?}"));
        }
        let mut rule_channels = Vec::new();
        for c in &raw.channels {
            match channels
                .iter()
                .find(|ch| ch.name.eq_ignore_ascii_case(c.get_ref().trim()))
            {
                Some(ch) => rule_channels.push(ch.name.clone()),
                None => self.problem(
                    c,
                    key("channels"),
                    format!("no channel named {:?}", c.get_ref()),
                ),
            }
        }
        let mut from = Vec::new();
        for f in &raw.from {
            let v = f.get_ref().trim().to_lowercase();
            let usable = match v.strip_prefix('@') {
                Some(domain) => domain.contains('.') && !domain.contains('@'),
                None => v
                    .split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@')),
            };
            if usable {
                from.push(v);
            } else {
                self.problem(
                    f,
                    key("from"),
                    format!("{:?} is neither an address nor @domain (\"olga@example.com\", \"@example.com\")", f.get_ref()),
                );
            }
        }
        let mut to = Vec::new();
        for t in &raw.to {
            let v = strip_subaddress(&t.get_ref().trim().to_lowercase());
            if v.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
            {
                to.push(v);
            } else {
                self.problem(t, key("to"), format!("{:?} is not an address", t.get_ref()));
            }
        }
        let mut phrases = |values: &[Spanned<String>], name: &str| -> Vec<String> {
            let mut out = Vec::new();
            for v in values {
                let p = v.get_ref().trim().to_lowercase();
                if p.is_empty() {
                    self.problem(v, key(name), "a phrase must not be empty");
                } else {
                    out.push(p);
                }
            }
            out
        };
        let subject = phrases(&raw.subject, "subject");
        let text = phrases(&raw.text, "text");
        if raw.from.is_empty() && raw.to.is_empty() && raw.subject.is_empty() && raw.text.is_empty()
        {
            self.problem(
                table,
                format!("rule[{}]", i + 1),
                "needs a condition (from, to, subject or text); for every ticket of a channel use its [channel.ticket]",
            );
        }
        let priority = raw
            .priority
            .as_ref()
            .and_then(|p| self.priority(p, key("priority")));
        let tags = self.tags(&raw.tags, key("tags"));
        let assign = match (&raw.owner, &raw.team) {
            (Some(_), Some(team)) => {
                self.problem(team, key("team"), "give owner or team, not both");
                None
            }
            (Some(owner), None) => {
                let email = owner.get_ref().trim().to_lowercase();
                if !email.contains('@') {
                    self.problem(
                        owner,
                        key("owner"),
                        format!("{:?} is not an agent's address", owner.get_ref()),
                    );
                }
                Some(Assign::Agent(email))
            }
            (None, Some(team)) => {
                let name = team.get_ref().trim().to_string();
                if name.is_empty() {
                    self.problem(team, key("team"), "must not be empty");
                }
                Some(Assign::Team(name))
            }
            (None, None) => None,
        };
        // A stage every channel the rule looks at has in its pipeline.
        let status = raw.status.as_ref().and_then(|st| {
            let wanted = st.get_ref().trim();
            let looked_at: Vec<&Channel> = channels
                .iter()
                .filter(|c| rule_channels.is_empty() || rule_channels.contains(&c.name))
                .collect();
            let stage_of = |c: &Channel| {
                self.pipelines
                    .iter()
                    .find(|p| p.name == c.ticket.pipeline)
                    .and_then(|p| p.stage(wanted))
                    .map(|s| s.name.clone())
            };
            let lacking: Vec<&str> = looked_at
                .iter()
                .filter(|c| stage_of(c).is_none())
                .map(|c| c.name.as_str())
                .collect();
            // As the (first) pipeline spells it, for the history.
            let spelled = looked_at.first().and_then(|c| stage_of(c));
            if wanted.is_empty() {
                self.problem(st, key("status"), "must not be empty");
                None
            } else if !lacking.is_empty() {
                self.problem(
                    st,
                    key("status"),
                    format!(
                        "{wanted:?} is not a stage of the pipeline of channel {} (limit the rule with channels = [...])",
                        lacking.join(", ")
                    ),
                );
                None
            } else {
                spelled.or_else(|| Some(wanted.to_string()))
            }
        });
        let no_acknowledgement = raw.acknowledge.as_ref().is_some_and(|a| !*a.get_ref());
        let every_mail = match raw
            .when
            .as_ref()
            .map(|w| (w, w.get_ref().trim().to_lowercase()))
        {
            None => false,
            Some((_, w)) if w == "new ticket" => false,
            Some((_, w)) if w == "every mail" => true,
            Some((w, _)) => {
                self.problem(
                    w,
                    key("when"),
                    format!(
                        "{:?} is neither \"new ticket\" nor \"every mail\"",
                        w.get_ref()
                    ),
                );
                false
            }
        };
        let fields: Vec<(String, String)> = self
            .field_values(&raw.fields, key("fields"), ticket_fields, false)
            .into_iter()
            .filter_map(|(n, v)| Some((n, v?)))
            .collect();
        if every_mail {
            // What happens once, when a ticket opens: it cannot follow each mail.
            for (given, name) in [
                (raw.owner.is_some(), "owner"),
                (raw.team.is_some(), "team"),
                (raw.status.is_some(), "status"),
                (raw.acknowledge.is_some(), "acknowledge"),
            ] {
                if given {
                    self.problem(
                        table,
                        key(name),
                        "is for new tickets only: a rule for every mail gives priority, tags and fields",
                    );
                }
            }
        }
        if priority.is_none()
            && raw.priority.is_none()
            && tags.is_empty()
            && raw.tags.is_empty()
            && assign.is_none()
            && raw.status.is_none()
            && !no_acknowledgement
            && raw.fields.is_empty()
        {
            self.problem(
                table,
                format!("rule[{}]", i + 1),
                "does nothing: give it a priority, tags, an owner or a team, a status, fields, or acknowledge = false",
            );
        }
        (self.problems.len() == before).then_some(Rule {
            name,
            channels: rule_channels,
            from,
            to,
            subject,
            text,
            priority,
            tags,
            assign,
            status,
            no_acknowledgement,
            every_mail,
            fields,
        })
    }

    fn ticket_field(
        &mut self,
        i: usize,
        table: &Spanned<RawTicketField>,
        earlier: &[crate::desk::ticket_fields::FieldDef],
    ) -> Option<crate::desk::ticket_fields::FieldDef> {
        use crate::desk::ticket_fields::{FieldDef, Kind, MAX_NAME, MAX_VALUE};
        let raw = table.get_ref();
        let key = |k: &str| format!("ticket_field[{}].{k}", i + 1);
        let before = self.problems.len();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.problem(&raw.name, key("name"), "must not be empty");
        } else if name.chars().count() > MAX_NAME {
            self.problem(
                &raw.name,
                key("name"),
                format!("is longer than {MAX_NAME} characters"),
            );
        } else if name.chars().any(char::is_control) {
            self.problem(&raw.name, key("name"), "must be one line");
        } else if earlier.iter().any(|f| f.name.eq_ignore_ascii_case(&name)) {
            self.problem(
                &raw.name,
                key("name"),
                format!("duplicate ticket field {name:?}"),
            );
        }
        let kind = raw
            .kind
            .as_ref()
            .map_or("text".to_string(), |k| k.get_ref().trim().to_lowercase());
        let kind = match kind.as_str() {
            "text" => Some(Kind::Text),
            "number" => Some(Kind::Number),
            "date" => Some(Kind::Date),
            "choice" => {
                let mut choices: Vec<String> = Vec::new();
                for c in &raw.choices {
                    let v = c.get_ref().trim().to_string();
                    if v.is_empty()
                        || v.chars().count() > MAX_VALUE
                        || v.chars().any(char::is_control)
                    {
                        self.problem(
                            c,
                            key("choices"),
                            format!("{:?} is not a usable choice (one line of 1 to {MAX_VALUE} characters)", c.get_ref()),
                        );
                    } else if choices.iter().any(|e| e.eq_ignore_ascii_case(&v)) {
                        self.problem(c, key("choices"), format!("{v:?} is given twice"));
                    } else {
                        choices.push(v);
                    }
                }
                if raw.choices.is_empty() {
                    self.problem(
                        table,
                        key("choices"),
                        "a choice needs its choices = [\"...\", ...]",
                    );
                }
                Some(Kind::Choice(choices))
            }
            _ => {
                if let Some(k) = &raw.kind {
                    self.problem(
                        k,
                        key("kind"),
                        format!("{:?} is not one of text, number, choice, date", k.get_ref()),
                    );
                }
                None
            }
        };
        if !raw.choices.is_empty() && !matches!(kind, Some(Kind::Choice(_))) {
            self.problem(
                table,
                key("choices"),
                "only a field of kind = \"choice\" has choices",
            );
        }
        (self.problems.len() == before).then_some(FieldDef {
            name,
            kind: kind?,
            in_inbox: raw.in_inbox,
        })
    }

    /// The pipelines (their indexes) where agents must fill in field `i` before closing
    /// a ticket: every one for `required_to_close = true`, else those it names.
    fn required_in(
        &mut self,
        i: usize,
        raw: &RawTicketField,
        pipelines: &[Pipeline],
    ) -> Vec<usize> {
        let Some(value) = &raw.required_to_close else {
            return Vec::new();
        };
        let key = format!("ticket_field[{}].required_to_close", i + 1);
        let names = match value.get_ref() {
            toml::Value::Boolean(true) => return (0..pipelines.len()).collect(),
            toml::Value::Boolean(false) => return Vec::new(),
            toml::Value::Array(names) => names,
            _ => {
                self.problem(
                    value,
                    key,
                    "is true, false or a list of pipelines ([\"Billing\"])",
                );
                return Vec::new();
            }
        };
        let mut chosen = Vec::new();
        for name in names {
            let found = name.as_str().and_then(|n| {
                pipelines
                    .iter()
                    .position(|p| p.name.eq_ignore_ascii_case(n.trim()))
            });
            match found {
                Some(p) if !chosen.contains(&p) => chosen.push(p),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = pipelines.iter().map(|p| p.name.as_str()).collect();
                    self.problem(
                        value,
                        key.clone(),
                        format!("{name} is not a pipeline (pipelines: {})", known.join(", ")),
                    );
                }
            }
        }
        if names.is_empty() {
            self.problem(value, key, "names no pipeline; leave it out instead");
        }
        chosen
    }

    /// Ticket fields a rule or macro sets, each checked against its field's kind; with
    /// `may_clear`, an empty value clears the field (`None`), else it is refused.
    fn field_values(
        &mut self,
        raw: &std::collections::BTreeMap<String, Spanned<String>>,
        key: String,
        defs: &[crate::desk::ticket_fields::FieldDef],
        may_clear: bool,
    ) -> Vec<(String, Option<String>)> {
        let mut fields = Vec::new();
        for (name, value) in raw {
            let Some(def) = crate::desk::ticket_fields::find(defs, name) else {
                self.problem(
                    value,
                    key.clone(),
                    format!("no [[ticket_field]] named {name:?}"),
                );
                continue;
            };
            match crate::desk::ticket_fields::check(def, value.get_ref()) {
                Ok(None) if !may_clear => {
                    self.problem(value, key.clone(), format!("{name}: give a value"))
                }
                Ok(v) => fields.push((def.name.clone(), v)),
                Err(e) => self.problem(value, key.clone(), e.to_string()),
            }
        }
        fields
    }

    fn macro_table(
        &mut self,
        i: usize,
        table: &Spanned<RawMacro>,
        earlier: &[crate::desk::macros::Macro],
        ticket_fields: &[crate::desk::ticket_fields::FieldDef],
    ) -> Option<crate::desk::macros::Macro> {
        use crate::desk::macros::{Macro, Owner};
        let raw = table.get_ref();
        let key = |k: &str| format!("macro[{}].{k}", i + 1);
        let before = self.problems.len();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.problem(&raw.name, key("name"), "must not be empty");
        } else if name.chars().count() > MAX_MACRO_NAME {
            self.problem(
                &raw.name,
                key("name"),
                format!("is longer than {MAX_MACRO_NAME} characters"),
            );
        } else if earlier.iter().any(|m| m.name.eq_ignore_ascii_case(&name)) {
            self.problem(&raw.name, key("name"), format!("duplicate macro {name:?}"));
        }
        let owner = match (&raw.owner, &raw.team) {
            (Some(_), Some(team)) => {
                self.problem(team, key("team"), "give owner or team, not both");
                None
            }
            (Some(owner), None) => {
                let v = owner.get_ref().trim().to_lowercase();
                match v.as_str() {
                    "me" => Some(Owner::Me),
                    "nobody" => Some(Owner::Nobody),
                    _ if v
                        .split_once('@')
                        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty()) =>
                    {
                        Some(Owner::Agent(v))
                    }
                    _ => {
                        self.problem(
                            owner,
                            key("owner"),
                            format!(
                                "{:?} is neither \"me\", \"nobody\" nor an agent's address",
                                owner.get_ref()
                            ),
                        );
                        None
                    }
                }
            }
            (None, Some(team)) => {
                let name = team.get_ref().trim().to_string();
                if name.is_empty() {
                    self.problem(team, key("team"), "must not be empty");
                }
                Some(Owner::Team(name))
            }
            (None, None) => None,
        };
        // A stage of some pipeline, as the first pipeline having it spells it; a ticket
        // in a pipeline without it is refused when the macro is applied.
        let mut closes = false;
        let status = raw.status.as_ref().and_then(|st| {
            let wanted = st.get_ref().trim();
            let found: Vec<&crate::desk::lifecycle::Stage> = self
                .pipelines
                .iter()
                .filter_map(|p| p.stage(wanted))
                .collect();
            closes = found.iter().any(|s| s.closed);
            match found.first() {
                Some(stage) if !wanted.is_empty() => Some(stage.name.clone()),
                _ => {
                    let names: Vec<&str> = self
                        .pipelines
                        .iter()
                        .flat_map(|p| p.stages.iter().map(|s| s.name.as_str()))
                        .collect();
                    self.problem(
                        st,
                        key("status"),
                        format!(
                            "{wanted:?} is not a stage of any pipeline (stages: {})",
                            names.join(", ")
                        ),
                    );
                    None
                }
            }
        });
        let priority = raw
            .priority
            .as_ref()
            .and_then(|p| self.priority(p, key("priority")));
        let add_tags = self.tags(&raw.tags, key("tags"));
        let remove_tags = self.tags(&raw.untag, key("untag"));
        for t in &raw.untag {
            if add_tags
                .iter()
                .any(|a| a.eq_ignore_ascii_case(t.get_ref().trim()))
            {
                self.problem(
                    t,
                    key("untag"),
                    format!("{:?} is in tags as well", t.get_ref()),
                );
            }
        }
        let note = raw.note.as_ref().and_then(|n| {
            let text = n.get_ref().trim();
            if text.is_empty() {
                self.problem(
                    n,
                    key("note"),
                    "must not be empty (leave it out for no note)",
                );
                None
            } else {
                Some(text.to_string())
            }
        });
        let snooze = raw.snooze.as_ref().and_then(|sn| {
            match crate::desk::snooze::parse_length(sn.get_ref()) {
                Ok(_) if closes => {
                    self.problem(
                        sn,
                        key("snooze"),
                        "a closed ticket cannot be snoozed: the macro's status closes it",
                    );
                    None
                }
                Ok(seconds) => Some(seconds),
                Err(e) => {
                    self.problem(sn, key("snooze"), e.to_string());
                    None
                }
            }
        });
        let reply = raw.reply.as_ref().and_then(|r| {
            if r.get_ref().trim().is_empty() {
                self.problem(
                    r,
                    key("reply"),
                    "must not be empty (leave it out for no reply)",
                );
                return None;
            }
            self.template(r, key("reply"), SNIPPET_TOKENS)?;
            Some(r.get_ref().clone())
        });
        let fields = self.field_values(&raw.fields, key("fields"), ticket_fields, true);
        if raw.owner.is_none()
            && raw.team.is_none()
            && raw.status.is_none()
            && raw.priority.is_none()
            && raw.tags.is_empty()
            && raw.untag.is_empty()
            && raw.note.is_none()
            && raw.reply.is_none()
            && raw.snooze.is_none()
            && raw.fields.is_empty()
        {
            self.problem(
                table,
                format!("macro[{}]", i + 1),
                "does nothing: give it an owner or team, a status, a priority, tags, untag, fields, a note, a reply or a snooze",
            );
        }
        (self.problems.len() == before).then_some(Macro {
            name,
            owner,
            status,
            priority,
            add_tags,
            remove_tags,
            note,
            reply,
            snooze,
            fields,
        })
    }

    fn sla(
        &mut self,
        table: &Spanned<RawSla>,
        channel_slas: &[(usize, String, Spanned<RawChannelSla>)],
    ) -> Option<Sla> {
        let before = self.problems.len();
        let raw = table.get_ref();
        let first_answer = match &raw.first_answer {
            Some(t) => self.targets(t, "sla.first_answer"),
            None => {
                self.problem(
                    table,
                    "sla.first_answer",
                    "is needed: how soon each priority's first answer is due, as { urgent = \"1h\", high = \"4h\", medium = \"1d\" }",
                );
                Targets::default()
            }
        };
        // A priority next_answer leaves out has its first answer's target.
        let next_answer = match &raw.next_answer {
            Some(t) => self.targets(t, "sla.next_answer").or(first_answer),
            None => first_answer,
        };
        let zone = self.time_zone(raw.timezone.as_ref(), "sla.timezone");
        let holidays = self
            .holidays(raw.holidays.as_ref(), "sla.holidays")
            .unwrap_or_default();
        let hours = match &raw.office_hours {
            Some(h) => match sla::parse_hours(h.get_ref()) {
                Ok(days) => Some(OfficeHours {
                    days,
                    zone: zone.unwrap_or_else(jiff::tz::TimeZone::system),
                    holidays,
                }),
                Err(e) => {
                    self.problem(h, "sla.office_hours", e);
                    None
                }
            },
            None => {
                if let Some(z) = &raw.timezone {
                    self.problem(
                        z,
                        "sla.timezone",
                        "is the time zone of office_hours, which are not set",
                    );
                }
                if let Some(list) = &raw.holidays {
                    self.problem(
                        list,
                        "sla.holidays",
                        "are days out of office_hours, which are not set",
                    );
                }
                None
            }
        };
        let channels = channel_slas
            .iter()
            .map(|(i, name, table)| {
                let key = |k: &str| format!("channel[{}].sla.{k}", i + 1);
                let raw = table.get_ref();
                let own_first = match &raw.first_answer {
                    Some(t) => self.targets(t, &key("first_answer")),
                    None => Targets::default(),
                };
                let own_next = match &raw.next_answer {
                    Some(t) => self.targets(t, &key("next_answer")),
                    None => Targets::default(),
                };
                if raw.first_answer.is_none()
                    && raw.next_answer.is_none()
                    && raw.office_hours.is_none()
                    && raw.timezone.is_none()
                    && raw.holidays.is_none()
                {
                    self.problem(
                        table,
                        key("first_answer"),
                        "or next_answer or office_hours is needed: the targets or hours this channel's tickets have in place of [sla]'s",
                    );
                }
                let own_hours = self.channel_hours(&key, raw, hours.as_ref());
                // What the channel leaves out is the desk's; a next answer it leaves
                // out is its own first answer's, as in [sla].
                sla::ChannelTargets {
                    channel: name.clone(),
                    first_answer: own_first.or(first_answer),
                    next_answer: own_next.or(own_first).or(next_answer),
                    hours: own_hours,
                }
            })
            .collect();
        (self.problems.len() == before).then_some(Sla {
            first_answer,
            next_answer,
            hours,
            channels,
        })
    }

    /// An office-hours time zone as written at `key`, if given and known.
    fn time_zone(
        &mut self,
        value: Option<&Spanned<String>>,
        key: &str,
    ) -> Option<jiff::tz::TimeZone> {
        let z = value?;
        match sla::zone(z.get_ref()) {
            Ok(zone) => Some(zone),
            Err(e) => {
                self.problem(z, key, e);
                None
            }
        }
    }

    /// Holidays as written at `key`, if given and all readable.
    fn holidays(
        &mut self,
        value: Option<&Spanned<Vec<String>>>,
        key: &str,
    ) -> Option<Vec<sla::Holiday>> {
        let list = value?;
        match sla::parse_holidays(list.get_ref()) {
            Ok(days) => Some(days),
            Err(e) => {
                self.problem(list, key, e);
                None
            }
        }
    }

    /// The hours a channel's time counts in: its own `office_hours` ("always": around
    /// the clock), else the desk's `desk` hours; its own time zone and holidays, else
    /// the desk's.
    fn channel_hours(
        &mut self,
        key: &dyn Fn(&str) -> String,
        raw: &RawChannelSla,
        desk: Option<&OfficeHours>,
    ) -> Option<OfficeHours> {
        let zone = self.time_zone(raw.timezone.as_ref(), &key("timezone"));
        let holidays = self.holidays(raw.holidays.as_ref(), &key("holidays"));
        let days = match &raw.office_hours {
            Some(h) if h.get_ref().trim().eq_ignore_ascii_case("always") => None,
            Some(h) => match sla::parse_hours(h.get_ref()) {
                Ok(days) => Some(days),
                Err(e) => {
                    self.problem(h, key("office_hours"), e);
                    return None;
                }
            },
            None => desk.map(|d| d.days),
        };
        let Some(days) = days else {
            // Around the clock: a time zone or holidays would have nothing to shape.
            let why = if raw.office_hours.is_some() {
                "which are \"always\""
            } else {
                "which neither this channel nor [sla] sets"
            };
            if let Some(z) = &raw.timezone {
                self.problem(
                    z,
                    key("timezone"),
                    format!("is the time zone of office_hours, {why}"),
                );
            }
            if let Some(list) = &raw.holidays {
                self.problem(
                    list,
                    key("holidays"),
                    format!("are days out of office_hours, {why}"),
                );
            }
            return None;
        };
        Some(OfficeHours {
            days,
            zone: zone
                .or_else(|| desk.map(|d| d.zone.clone()))
                .unwrap_or_else(jiff::tz::TimeZone::system),
            holidays: holidays
                .or_else(|| desk.map(|d| d.holidays.clone()))
                .unwrap_or_default(),
        })
    }

    fn targets(&mut self, table: &Spanned<RawTargets>, key: &str) -> Targets {
        let raw = table.get_ref();
        let mut span = |value: &Option<Spanned<String>>, name: &str| -> Option<i64> {
            let v = value.as_ref()?;
            let parsed = sla::parse_span(v.get_ref());
            if parsed.is_none() {
                self.problem(
                    v,
                    format!("{key}.{name}"),
                    format!(
                        "{:?} is not a span of time, as \"30m\", \"4h\" or \"2d\" (a minute to 366 days)",
                        v.get_ref()
                    ),
                );
            }
            parsed
        };
        let targets = Targets {
            low: span(&raw.low, "low"),
            medium: span(&raw.medium, "medium"),
            high: span(&raw.high, "high"),
            urgent: span(&raw.urgent, "urgent"),
        };
        if raw.low.is_none() && raw.medium.is_none() && raw.high.is_none() && raw.urgent.is_none() {
            self.problem(
                table,
                key,
                "names no priority: give low, medium, high or urgent a span of time",
            );
        }
        targets
    }

    fn notifications(
        &mut self,
        table: &Spanned<RawNotifications>,
        have_relay: bool,
        channels: &[Channel],
    ) -> Option<NotificationsConfig> {
        let before = self.problems.len();
        let raw = table.get_ref();
        if !have_relay {
            self.problem(
                table,
                "notifications",
                "needs an [smtp] relay to send them through",
            );
        }
        let from = raw.from.get_ref().trim().to_lowercase();
        if !is_valid_address(&from) {
            self.problem(
                &raw.from,
                "notifications.from",
                format!("{:?} is not a valid mail address", raw.from.get_ref()),
            );
        } else if let Some(c) = channels.iter().find(|c| c.addresses().any(|a| a == from)) {
            // An agent's out-of-office answer to it would land in the desk as a ticket.
            self.problem(
                &raw.from,
                "notifications.from",
                format!(
                    "{from:?} is channel {:?}'s address; use a no-reply address the desk does not receive",
                    c.name
                ),
            );
        }
        let from_name = match &raw.from_name {
            Some(n) if n.get_ref().contains(['\r', '\n']) => {
                self.problem(n, "notifications.from_name", "must be one line");
                String::new()
            }
            Some(n) => n.get_ref().trim().to_string(),
            None => "frontdesk".to_string(),
        };
        let delay = match &raw.delay_seconds {
            None => DEFAULT_NOTIFY_DELAY_SECONDS,
            Some(v) if (0..=MAX_NOTIFY_DELAY_SECONDS).contains(v.get_ref()) => *v.get_ref(),
            Some(v) => {
                self.problem(
                    v,
                    "notifications.delay_seconds",
                    format!(
                        "{} is out of range (0 to {MAX_NOTIFY_DELAY_SECONDS})",
                        v.get_ref()
                    ),
                );
                0
            }
        };
        (self.problems.len() == before).then(|| NotificationsConfig {
            from,
            from_name,
            delay: Duration::from_secs(delay as u64),
        })
    }

    fn snippet(&mut self, i: usize, raw: &RawSnippet, earlier: &[Snippet]) -> Option<Snippet> {
        let key = |k: &str| format!("snippet[{}].{k}", i + 1);
        let name = raw.name.get_ref().trim().to_string();
        let mut ok = true;
        if name.is_empty() {
            self.problem(&raw.name, key("name"), "must not be empty");
            ok = false;
        } else if earlier.iter().any(|s| s.name.eq_ignore_ascii_case(&name)) {
            self.problem(
                &raw.name,
                key("name"),
                format!("duplicate snippet {name:?}"),
            );
            ok = false;
        }
        if raw.body.get_ref().trim().is_empty() {
            self.problem(&raw.body, key("body"), "must not be empty");
            ok = false;
        }
        let body = self.template(&raw.body, key("body"), SNIPPET_TOKENS)?;
        ok.then_some(Snippet { name, body })
    }

    fn pipeline(&mut self, i: usize, raw: &RawPipeline, earlier: &[Pipeline]) -> Option<Pipeline> {
        let key = |k: &str| format!("pipeline[{}].{k}", i + 1);
        let before = self.problems.len();
        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            self.problem(&raw.name, key("name"), "must not be empty");
        } else if earlier.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
            self.problem(
                &raw.name,
                key("name"),
                format!("duplicate pipeline {name:?}"),
            );
        }
        let mut stages: Vec<Stage> = Vec::new();
        for s in &raw.stages {
            let stage = s.get_ref();
            let n = stage.name.get_ref().trim().to_string();
            if n.is_empty() {
                self.problem(&stage.name, key("stages"), "a stage needs a name");
            } else if stages.iter().any(|x| x.name.eq_ignore_ascii_case(&n)) {
                self.problem(
                    &stage.name,
                    key("stages"),
                    format!("stage {n:?} is listed twice"),
                );
            } else {
                stages.push(Stage {
                    name: n,
                    closed: stage.closed,
                });
            }
        }
        if stages.is_empty() {
            self.problem(
                &raw.name,
                key("stages"),
                "a pipeline needs at least one stage",
            );
        } else if !stages.iter().any(|s| s.closed) {
            self.problem(
                &raw.name,
                key("stages"),
                "a pipeline needs a stage with closed = true",
            );
        }
        let mut pick = |v: &Option<Spanned<String>>, k: &str, default: String| match v {
            None => default,
            Some(s) => match stages
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(s.get_ref().trim()))
            {
                Some(x) if !x.closed => x.name.clone(),
                Some(_) => {
                    self.problems.push(ConfigProblem {
                        line: Some(line_of(self.text, s.span().start)),
                        key: key(k),
                        message: format!("{:?} is a closed stage", s.get_ref()),
                    });
                    default
                }
                None => {
                    self.problems.push(ConfigProblem {
                        line: Some(line_of(self.text, s.span().start)),
                        key: key(k),
                        message: format!("{:?} is not a stage of pipeline {name:?}", s.get_ref()),
                    });
                    default
                }
            },
        };
        let reopen_default = crate::desk::lifecycle::default_stage(&stages, "Waiting on us");
        let reply_default = crate::desk::lifecycle::default_stage(&stages, "Waiting on contact");
        let reopen_stage = pick(&raw.reopen_stage, "reopen_stage", reopen_default);
        let agent_reply_stage = pick(&raw.agent_reply_stage, "agent_reply_stage", reply_default);
        if self.problems.len() > before {
            return None;
        }
        Some(Pipeline {
            name,
            stages,
            reopen_stage,
            agent_reply_stage,
            required_to_close: Vec::new(),
        })
    }

    fn ticket_defaults(
        &mut self,
        i: usize,
        raw: Option<&RawTicketDefaults>,
    ) -> Option<TicketDefaults> {
        let key = |k: &str| format!("channel[{}].ticket.{k}", i + 1);
        let first = self
            .pipelines
            .first()
            .cloned()
            .unwrap_or_else(Pipeline::default_support);
        let Some(raw) = raw else {
            let status = first
                .stages
                .iter()
                .find(|s| !s.closed)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            return Some(TicketDefaults {
                pipeline: first.name,
                status,
                priority: Priority::Medium,
                tags: Vec::new(),
            });
        };
        let before = self.problems.len();
        let pipeline = match &raw.pipeline {
            None => first,
            Some(p) => match self
                .pipelines
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(p.get_ref().trim()))
            {
                Some(x) => x.clone(),
                None => {
                    self.problem(
                        p,
                        key("pipeline"),
                        format!("no pipeline named {:?}", p.get_ref()),
                    );
                    first
                }
            },
        };
        let status = match &raw.status {
            None => pipeline
                .stages
                .iter()
                .find(|s| !s.closed)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            Some(s) => match pipeline.stage(s.get_ref()) {
                Some(st) => st.name.clone(),
                None => {
                    self.problem(
                        s,
                        key("status"),
                        format!(
                            "{:?} is not a stage of pipeline {:?}",
                            s.get_ref(),
                            pipeline.name
                        ),
                    );
                    String::new()
                }
            },
        };
        let priority = match &raw.priority {
            None => Priority::Medium,
            Some(p) => self
                .priority(p, key("priority"))
                .unwrap_or(Priority::Medium),
        };
        let tags = self.tags(&raw.tags, key("tags"));
        if self.problems.len() > before {
            return None;
        }
        Some(TicketDefaults {
            pipeline: pipeline.name,
            status,
            priority,
            tags,
        })
    }

    fn routing(
        &mut self,
        i: usize,
        raw: Option<&RawRouting>,
    ) -> Option<(RoutingRule, Vec<(String, usize)>)> {
        let key = |k: &str| format!("channel[{}].routing.{k}", i + 1);
        let Some(raw) = raw else {
            return Some((RoutingRule::default(), Vec::new()));
        };
        let before = self.problems.len();
        let mode = match raw.mode.get_ref().as_str() {
            "nobody" => RoutingMode::Nobody,
            "users_and_teams" => RoutingMode::UsersAndTeams,
            "contact_owner" => RoutingMode::ContactOwner,
            other => {
                self.problem(
                    &raw.mode,
                    key("mode"),
                    format!(
                        "{other:?} must be \"nobody\", \"users_and_teams\" or \"contact_owner\""
                    ),
                );
                RoutingMode::Nobody
            }
        };
        let mut lines = Vec::new();
        let mut users = Vec::new();
        for u in &raw.users {
            let email = u.get_ref().trim().to_lowercase();
            if !is_valid_address(&email) {
                self.problem(
                    u,
                    key("users"),
                    format!("{:?} is not a user address", u.get_ref()),
                );
            } else {
                lines.push((format!("user:{email}"), line_of(self.text, u.span().start)));
                users.push(email);
            }
        }
        let mut teams = Vec::new();
        for t in &raw.teams {
            let name = t.get_ref().trim().to_string();
            if name.is_empty() {
                self.problem(t, key("teams"), "a team name must not be empty");
            } else {
                lines.push((format!("team:{name}"), line_of(self.text, t.span().start)));
                teams.push(name);
            }
        }
        if mode == RoutingMode::UsersAndTeams
            && users.is_empty()
            && teams.is_empty()
            && self.problems.len() == before
        {
            self.problem(
                &raw.mode,
                key("mode"),
                "users_and_teams needs at least one entry in users or teams",
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some((
            RoutingRule {
                mode,
                users,
                teams,
                available_only: raw.available_only.unwrap_or(true),
            },
            lines,
        ))
    }

    /// `implicit | starttls | none`, `none` only to a loopback host (a password would
    /// otherwise cross the network in clear text).
    fn tls_mode(
        &mut self,
        raw: Option<&Spanned<String>>,
        key: String,
        host: &str,
        default: TlsMode,
    ) -> TlsMode {
        let Some(value) = raw else { return default };
        match value.get_ref().as_str() {
            "implicit" => TlsMode::Implicit,
            "starttls" => TlsMode::Starttls,
            "none" => {
                if !is_loopback_host(host) {
                    self.problem(value, key, format!("\"none\" sends credentials and mail in clear text; it is only allowed to a loopback host, not {host:?}"));
                }
                TlsMode::None
            }
            other => {
                self.problem(
                    value,
                    key,
                    format!("{other:?} must be \"implicit\", \"starttls\" or \"none\""),
                );
                default
            }
        }
    }

    /// An extra trust anchor file that must exist.
    fn ca_file(&mut self, raw: Option<&Spanned<String>>, key: String) -> Option<PathBuf> {
        let value = raw?;
        let path = resolve_secret_path(self.path, value.get_ref());
        if path.exists() {
            Some(path)
        } else {
            self.problem(
                value,
                key,
                format!("file {} does not exist", path.display()),
            );
            None
        }
    }

    fn smtp(&mut self, prefix: &str, raw: &RawSmtp) -> Option<SmtpConfig> {
        let key = |k: &str| format!("{prefix}.{k}");
        let before = self.problems.len();
        let host = raw.host.get_ref().trim().to_string();
        if host.is_empty() || host.contains(char::is_whitespace) {
            self.problem(&raw.host, key("host"), "must be a host name or address");
        }
        let tls = self.tls_mode(raw.tls.as_ref(), key("tls"), &host, TlsMode::Starttls);
        let default_port = match tls {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        };
        let port = self.positive(raw.port.as_ref(), &key("port"), default_port, 65_535) as u16;
        let ca_file = self.ca_file(raw.ca_file.as_ref(), key("ca_file"));
        let login = match (&raw.username, &raw.password_file) {
            (Some(u), Some(p)) => self
                .secret_file(p, key("password_file"))
                .map(|p| (u.get_ref().trim().to_string(), p)),
            (Some(u), None) => {
                self.problem(u, key("password_file"), "is required with username");
                None
            }
            (None, Some(p)) => {
                self.problem(p, key("username"), "is required with password_file");
                None
            }
            (None, None) => None,
        };
        let hello_name = raw
            .hello_name
            .as_ref()
            .map(|h| h.get_ref().trim().to_string())
            .unwrap_or_else(crate::daemon::hostname);
        let max_connections = self.positive(
            raw.max_connections.as_ref(),
            &key("max_connections"),
            4,
            100,
        ) as usize;
        let days = self.positive(raw.max_queue_days.as_ref(), &key("max_queue_days"), 5, 60) as u64;
        let undo = match &raw.undo_seconds {
            None => 0,
            Some(v) if (0..=MAX_UNDO_SECONDS).contains(v.get_ref()) => *v.get_ref() as u64,
            Some(v) => {
                self.problem(
                    v,
                    key("undo_seconds"),
                    format!("{} is out of range (0 to {MAX_UNDO_SECONDS})", v.get_ref()),
                );
                0
            }
        };
        if self.problems.len() > before {
            return None;
        }
        Some(SmtpConfig {
            host,
            port,
            tls,
            ca_file,
            login,
            hello_name,
            max_connections,
            max_queue: Duration::from_secs(days * 86_400),
            undo: Duration::from_secs(undo),
        })
    }

    fn template(
        &mut self,
        value: &Spanned<String>,
        key: String,
        allowed: &[&str],
    ) -> Option<Template> {
        match Template::parse(value.get_ref(), allowed) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(value, key, e.to_string());
                None
            }
        }
    }

    fn acknowledgement(&mut self, i: usize, raw: &RawAck) -> Option<AckConfig> {
        let key = |k: &str| format!("channel[{}].acknowledgement.{k}", i + 1);
        let subject = self.template(&raw.subject, key("subject"), ACK_TOKENS);
        let body = self.template(&raw.body, key("body"), ACK_TOKENS);
        let max_per_hour =
            self.positive(raw.max_per_hour.as_ref(), &key("max_per_hour"), 3, 1000) as u32;
        Some(AckConfig {
            subject: subject?,
            body: body?,
            max_per_hour,
        })
    }

    /// A span of time such as "4h" or "2d 12h" in seconds, `default` when not given;
    /// a problem (and 0) when it is not one.
    fn span(&mut self, value: Option<&Spanned<String>>, key: String, default: i64) -> i64 {
        let Some(v) = value else {
            return default;
        };
        sla::parse_span(v.get_ref()).unwrap_or_else(|| {
            self.problem(
                v,
                key,
                format!(
                    "{:?} is not a span of time, as \"30m\", \"4h\", \"7d\" or \"2d 12h\" (a minute to 366 days)",
                    v.get_ref()
                ),
            );
            0
        })
    }

    fn survey(&mut self, i: usize, table: &Spanned<RawSurvey>) -> Option<SurveyConfig> {
        let key = |k: &str| format!("channel[{}].survey.{k}", i + 1);
        let raw = table.get_ref();
        let before = self.problems.len();
        let after = self.span(raw.after.as_ref(), key("after"), SURVEY_AFTER);
        let mut text = |value: &Option<Spanned<String>>, name: &str, default: &str| match value {
            Some(v) => self.template(v, key(name), ACK_TOKENS),
            None => Template::parse(default, ACK_TOKENS).ok(),
        };
        let subject = text(&raw.subject, "subject", SURVEY_SUBJECT);
        let body = text(&raw.body, "body", SURVEY_BODY);
        let public_url = self.public_url.clone();
        if public_url.is_none() {
            self.problem(
                table,
                format!("channel[{}].survey", i + 1),
                "needs [http] public_url: customers open the rating links from their mail",
            );
        }
        if self.problems.len() != before {
            return None;
        }
        Some(SurveyConfig {
            after,
            subject: subject?,
            body: body?,
            public_url: public_url?,
        })
    }

    fn auto_close(
        &mut self,
        i: usize,
        table: &Spanned<RawAutoClose>,
        pipeline: &str,
    ) -> Option<crate::desk::auto_close::AutoClose> {
        use crate::desk::auto_close::{waiting_stage, AutoClose, DEFAULT_AFTER};
        let raw = table.get_ref();
        let key = |k: &str| format!("channel[{}].auto_close.{k}", i + 1);
        let before = self.problems.len();
        let after = self.span(raw.after.as_ref(), key("after"), DEFAULT_AFTER);
        let reminder = self.close_reminder(i, raw, after);
        let rule = AutoClose {
            after,
            stage: raw.stage.as_ref().map(|s| s.get_ref().trim().to_string()),
            reminder,
        };
        let pipeline = self
            .pipelines
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(pipeline))
            .cloned()
            .unwrap_or_else(Pipeline::default_support);
        if waiting_stage(&rule, &pipeline).is_none() {
            let why = match &rule.stage {
                Some(name) => match pipeline.stage(name) {
                    None => format!("{name:?} is not a stage of pipeline {:?}", pipeline.name),
                    Some(s) if s.closed => format!("{:?} is a closed stage: it has nothing left to close", s.name),
                    Some(s) => format!(
                        "{:?} is where a customer's mail puts a ticket: it waits on the desk, not on the customer",
                        s.name
                    ),
                },
                None => format!(
                    "pipeline {:?} has no open stage, apart from where a customer's mail puts a ticket, for an agent's reply to wait in, or no closed stage; name one with stage = \"...\"",
                    pipeline.name
                ),
            };
            match &raw.stage {
                Some(v) => self.problem(v, key("stage"), why),
                None => self.problem(table, format!("channel[{}].auto_close", i + 1), why),
            }
        }
        (self.problems.len() == before).then_some(rule)
    }

    /// `[channel.auto_close]`'s reminder: none without `remind`, which must leave some
    /// of `after` before it; its texts only with it.
    fn close_reminder(
        &mut self,
        i: usize,
        raw: &RawAutoClose,
        after: i64,
    ) -> Option<crate::desk::auto_close::Reminder> {
        use crate::desk::auto_close::{default_reminder_body, Reminder, REMINDER_SUBJECT};
        let key = |k: &str| format!("channel[{}].auto_close.{k}", i + 1);
        let Some(remind) = &raw.remind else {
            for (value, name) in [
                (&raw.reminder_subject, "reminder_subject"),
                (&raw.reminder_body, "reminder_body"),
            ] {
                if let Some(v) = value {
                    self.problem(
                        v,
                        key(name),
                        "has no reminder to word: set remind = \"2d\" (how long before the closing it goes)",
                    );
                }
            }
            return None;
        };
        let before = self.span(Some(remind), key("remind"), 0);
        if before == 0 {
            return None;
        }
        if before >= after {
            self.problem(
                remind,
                key("remind"),
                format!(
                    "{:?} is not shorter than after ({}): the reminder would go before the ticket waits at all",
                    remind.get_ref(),
                    crate::desk::auto_close::span_in_words(after)
                ),
            );
            return None;
        }
        let mut text = |value: &Option<Spanned<String>>, name: &str, default: &str| match value {
            Some(v) => self.template(v, key(name), ACK_TOKENS),
            None => Template::parse(default, ACK_TOKENS).ok(),
        };
        let subject = text(&raw.reminder_subject, "reminder_subject", REMINDER_SUBJECT);
        let body = text(
            &raw.reminder_body,
            "reminder_body",
            &default_reminder_body(before),
        );
        Some(Reminder {
            before,
            subject: subject?,
            body: body?,
        })
    }

    fn channel(
        &mut self,
        i: usize,
        ch: RawChannel,
        earlier: &[Channel],
        seen_addresses: &mut Vec<(String, String)>,
    ) -> Option<Channel> {
        let key = |k: &str| format!("channel[{}].{k}", i + 1);
        let name = ch.name.get_ref().trim().to_string();
        let mut ok = true;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            self.problem(
                &ch.name,
                key("name"),
                format!(
                    "{:?} must be non-empty letters, digits, '-', '_' or '.'",
                    ch.name.get_ref()
                ),
            );
            ok = false;
        } else if earlier.iter().any(|c| c.name == name) {
            self.problem(
                &ch.name,
                key("name"),
                format!("duplicate channel name {name:?}"),
            );
            ok = false;
        }
        let kind = match ch.kind.get_ref().as_str() {
            "email" => Some(ChannelKind::Email),
            "form" | "chat" | "messenger" | "whatsapp" | "call" => {
                self.problem(
                    &ch.kind,
                    key("kind"),
                    format!(
                        "kind {:?} is not supported by this version yet (only \"email\")",
                        ch.kind.get_ref()
                    ),
                );
                None
            }
            other => {
                self.problem(
                    &ch.kind,
                    key("kind"),
                    format!("unknown kind {other:?}: expected \"email\""),
                );
                None
            }
        };
        let mut addresses = Vec::new();
        for (k, value) in std::iter::once((key("address"), &ch.address)).chain(
            ch.aliases
                .iter()
                .enumerate()
                .map(|(j, a)| (format!("channel[{}].aliases[{}]", i + 1, j + 1), a)),
        ) {
            let address = value.get_ref().trim().to_lowercase();
            if !is_valid_address(&address) {
                self.problem(
                    value,
                    k,
                    format!("{:?} is not a valid mail address", value.get_ref()),
                );
                ok = false;
                continue;
            }
            if let Some((_, other)) = seen_addresses.iter().find(|(a, _)| *a == address) {
                self.problem(
                    value,
                    k,
                    format!("address {address:?} is already used by channel {other:?}"),
                );
                ok = false;
                continue;
            }
            seen_addresses.push((address.clone(), name.clone()));
            addresses.push(address);
        }
        let imap = match &ch.imap {
            Some(raw) => {
                let imap = self.imap(i, raw.get_ref());
                ok &= imap.is_some();
                imap
            }
            None => None,
        };
        let from_name = match ch.from_name.as_ref().map(|f| f.get_ref().as_str()) {
            None | Some("agent_and_company") => FromNameMode::AgentAndCompany,
            Some("company") => FromNameMode::Company,
            Some(other) => {
                if let Some(f) = &ch.from_name {
                    self.problem(
                        f,
                        key("from_name"),
                        format!("{other:?} must be \"agent_and_company\" or \"company\""),
                    );
                }
                ok = false;
                FromNameMode::AgentAndCompany
            }
        };
        let from_name_format = match &ch.from_name_format {
            None => "{agent} at {company}".to_string(),
            Some(f) => {
                let text = f.get_ref().clone();
                let stripped = text
                    .replace("{agent}", "")
                    .replace("{first_name}", "")
                    .replace("{company}", "");
                if stripped.contains(['{', '}'])
                    || !text.contains("{agent}") && !text.contains("{first_name}")
                {
                    self.problem(
                        f,
                        key("from_name_format"),
                        "may use {agent}, {first_name} and {company}, and must name the agent",
                    );
                    ok = false;
                }
                text
            }
        };
        let signature = match &ch.signature {
            None => None,
            Some(sig) => {
                let t = self.template(sig, key("signature"), SIGNATURE_TOKENS);
                ok &= t.is_some();
                t
            }
        };
        let smtp = match &ch.smtp {
            None => None,
            Some(raw) => {
                let s = self.smtp(&format!("channel[{}].smtp", i + 1), raw.get_ref());
                ok &= s.is_some();
                s
            }
        };
        let acknowledgement = match &ch.acknowledgement {
            Some(raw) if raw.get_ref().enabled => {
                let a = self.acknowledgement(i, raw.get_ref());
                ok &= a.is_some();
                a
            }
            _ => None,
        };
        let survey = match &ch.survey {
            Some(table) if table.get_ref().enabled => {
                let made = self.survey(i, table);
                ok &= made.is_some();
                made
            }
            _ => None,
        };
        let ratings = match &ch.ratings {
            Some(on) if *on.get_ref() => {
                let url = self.public_url.clone();
                if url.is_none() {
                    self.problem(
                        on,
                        key("ratings"),
                        "needs [http] public_url: customers open the rating links from their mail",
                    );
                    ok = false;
                }
                url
            }
            _ => None,
        };
        let ticket = self.ticket_defaults(i, ch.ticket.as_ref().map(|t| t.get_ref()));
        ok &= ticket.is_some();
        let auto_close = match (&ch.auto_close, &ticket) {
            (Some(table), Some(ticket)) if table.get_ref().enabled => {
                let made = self.auto_close(i, table, &ticket.pipeline);
                ok &= made.is_some();
                made
            }
            _ => None,
        };
        let routing = self.routing(i, ch.routing.as_ref().map(|r| r.get_ref()));
        ok &= routing.is_some();
        let kind = kind?;
        if !ok || addresses.is_empty() {
            return None;
        }
        let (routing, routing_lines) = routing?;
        let address = addresses.remove(0);
        Some(Channel {
            name,
            kind,
            address,
            aliases: addresses,
            forward_original_sender: ch.forward_original_sender,
            imap,
            from_name,
            from_name_format,
            signature,
            subject_tag: ch.subject_tag.unwrap_or(true),
            assign_on_reply: ch.assign_on_reply.unwrap_or(true),
            smtp,
            acknowledgement,
            survey,
            auto_close,
            ratings,
            ticket: ticket?,
            routing,
            routing_lines,
        })
    }

    /// A secret file key: resolved, and checked to exist unless it is a systemd
    /// credential name that only exists under the service.
    fn secret_file(&mut self, value: &Spanned<String>, key: String) -> Option<PathBuf> {
        let raw = value.get_ref().trim();
        if raw.is_empty() {
            self.problem(value, key, "must name a file");
            return None;
        }
        let path = resolve_secret_path(self.path, raw);
        // A bare name with no CREDENTIALS_DIRECTORY may be a systemd credential that only
        // exists when the service runs: check it then, not now.
        let maybe_credential =
            !raw.contains('/') && std::env::var_os("CREDENTIALS_DIRECTORY").is_none();
        if !path.exists() && !maybe_credential {
            self.problem(
                value,
                key,
                format!("file {} does not exist", path.display()),
            );
            return None;
        }
        Some(path)
    }

    fn imap(&mut self, i: usize, raw: &RawImap) -> Option<ImapConfig> {
        let key = |k: &str| format!("channel[{}].imap.{k}", i + 1);
        let before = self.problems.len();
        let host = raw.host.get_ref().trim().to_string();
        if host.is_empty() || host.contains(char::is_whitespace) {
            self.problem(&raw.host, key("host"), "must be a host name or address");
        }
        let tls = self.tls_mode(raw.tls.as_ref(), key("tls"), &host, TlsMode::Implicit);
        let default_port = if tls == TlsMode::Implicit { 993 } else { 143 };
        let port = self.positive(raw.port.as_ref(), &key("port"), default_port, 65_535) as u16;
        let ca_file = self.ca_file(raw.ca_file.as_ref(), key("ca_file"));
        let username = raw.username.get_ref().trim().to_string();
        if username.is_empty() {
            self.problem(&raw.username, key("username"), "must not be empty");
        }
        let auth = match raw.auth.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("password") => {
                for (value, name) in [
                    (&raw.client_id, "client_id"),
                    (&raw.client_secret_file, "client_secret_file"),
                    (&raw.refresh_token_file, "refresh_token_file"),
                    (&raw.token_url, "token_url"),
                ] {
                    if let Some(v) = value {
                        self.problem(v, key(name), "only used with auth = \"xoauth2\"");
                    }
                }
                match &raw.password_file {
                    Some(p) => self
                        .secret_file(p, key("password_file"))
                        .map(|password_file| ImapAuth::Password { password_file }),
                    None => {
                        self.problem(
                            &raw.username,
                            key("password_file"),
                            "is required for password login (or set auth = \"xoauth2\")",
                        );
                        None
                    }
                }
            }
            Some("xoauth2") => {
                if let Some(p) = &raw.password_file {
                    self.problem(p, key("password_file"), "not used with auth = \"xoauth2\"");
                }
                let client_id = raw
                    .client_id
                    .as_ref()
                    .map(|c| c.get_ref().trim().to_string());
                let token_url = raw
                    .token_url
                    .as_ref()
                    .map(|t| t.get_ref().trim().to_string());
                if client_id.as_deref().map(str::is_empty).unwrap_or(true) {
                    self.problem(
                        &raw.username,
                        key("client_id"),
                        "is required with auth = \"xoauth2\"",
                    );
                }
                match (&raw.token_url, &token_url) {
                    (Some(t), Some(url))
                        if !(url.starts_with("https://")
                            || (url.starts_with("http://") && is_loopback_host(url_host(url)))) =>
                    {
                        self.problem(
                            t,
                            key("token_url"),
                            "must be an https:// URL (http:// only to a loopback host)",
                        );
                    }
                    (None, _) => self.problem(
                        &raw.username,
                        key("token_url"),
                        "is required with auth = \"xoauth2\"",
                    ),
                    _ => {}
                }
                let client_secret_file = raw
                    .client_secret_file
                    .as_ref()
                    .and_then(|f| self.secret_file(f, key("client_secret_file")));
                let refresh = match &raw.refresh_token_file {
                    Some(f) => self.secret_file(f, key("refresh_token_file")),
                    None => {
                        self.problem(
                            &raw.username,
                            key("refresh_token_file"),
                            "is required with auth = \"xoauth2\"",
                        );
                        None
                    }
                };
                match (client_id, token_url, refresh) {
                    (Some(client_id), Some(token_url), Some(refresh_token_file)) => {
                        Some(ImapAuth::XOAuth2 {
                            client_id,
                            client_secret_file,
                            refresh_token_file,
                            token_url,
                        })
                    }
                    _ => None,
                }
            }
            Some(other) => {
                if let Some(a) = &raw.auth {
                    self.problem(
                        a,
                        key("auth"),
                        format!("{other:?} must be \"password\" or \"xoauth2\""),
                    );
                }
                None
            }
        };
        let folders: Vec<String> = match &raw.folders {
            None => vec!["INBOX".to_string()],
            Some(list) => {
                let mut out = Vec::new();
                for f in list {
                    let name = f.get_ref().trim().to_string();
                    if name.is_empty() || name.contains(['\r', '\n', '"']) {
                        self.problem(
                            f,
                            key("folders"),
                            format!("{:?} is not a usable folder name", f.get_ref()),
                        );
                    } else if out.contains(&name) {
                        self.problem(
                            f,
                            key("folders"),
                            format!("folder {name:?} is listed twice"),
                        );
                    } else {
                        out.push(name);
                    }
                }
                if out.is_empty() && list.is_empty() {
                    self.problems.push(ConfigProblem {
                        line: None,
                        key: key("folders"),
                        message: "must name at least one folder".into(),
                    });
                }
                out
            }
        };
        let after_fetch = match raw.after_fetch.as_ref() {
            None => AfterFetch::Seen,
            Some(a) => match a.get_ref().as_str() {
                "seen" => AfterFetch::Seen,
                "delete" => AfterFetch::Delete,
                "keep" => AfterFetch::Keep,
                other => match other.strip_prefix("move:").map(str::trim) {
                    Some(folder) if !folder.is_empty() && !folders.iter().any(|f| f == folder) => {
                        AfterFetch::Move(folder.to_string())
                    }
                    Some(folder) if !folder.is_empty() => {
                        self.problem(a, key("after_fetch"), format!("cannot move into {folder:?}: it is one of the folders being pulled"));
                        AfterFetch::Keep
                    }
                    _ => {
                        self.problem(a, key("after_fetch"), format!("{other:?} must be \"seen\", \"move:FOLDER\", \"delete\" or \"keep\""));
                        AfterFetch::Keep
                    }
                },
            },
        };
        let import_existing = match raw.import_existing.as_ref() {
            None => ImportExisting::Nothing,
            Some(v) => match v.get_ref() {
                toml::Value::Boolean(true) => ImportExisting::All,
                toml::Value::Boolean(false) => ImportExisting::Nothing,
                toml::Value::String(s) => match s.strip_prefix("since:").and_then(parse_day) {
                    Some((y, m, d)) => ImportExisting::Since(y, m, d),
                    None => {
                        self.problem(
                            v,
                            key("import_existing"),
                            format!("{s:?} must be true, false or \"since:YYYY-MM-DD\""),
                        );
                        ImportExisting::Nothing
                    }
                },
                _ => {
                    self.problem(
                        v,
                        key("import_existing"),
                        "must be true, false or \"since:YYYY-MM-DD\"",
                    );
                    ImportExisting::Nothing
                }
            },
        };
        let poll_interval = Duration::from_secs(self.positive(
            raw.poll_seconds.as_ref(),
            &key("poll_seconds"),
            60,
            86_400,
        ) as u64);
        if self.problems.len() > before {
            return None;
        }
        Some(ImapConfig {
            host,
            port,
            tls,
            ca_file,
            username,
            auth: auth?,
            folders,
            after_fetch,
            import_existing,
            poll_interval,
        })
    }
}

#[cfg(test)]
mod tests;
