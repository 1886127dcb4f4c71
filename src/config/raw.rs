//! The file as written: serde structs that refuse unknown keys and keep spans for errors.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[daemon]`.
    pub daemon: Spanned<RawDaemon>,
    /// `[http]`.
    #[serde(default)]
    pub http: RawHttp,
    /// `[lmtp]`.
    #[serde(default)]
    pub lmtp: RawLmtp,
    /// `[smtp]`: the outbound relay.
    pub smtp: Option<Spanned<RawSmtp>>,
    /// `[[pipeline]]` tables.
    #[serde(default)]
    pub pipeline: Vec<Spanned<RawPipeline>>,
    /// `[[channel]]` tables.
    #[serde(default)]
    pub channel: Vec<Spanned<RawChannel>>,
    /// `[[snippet]]` tables: canned text agents insert into replies.
    #[serde(default)]
    pub snippet: Vec<Spanned<RawSnippet>>,
    /// `[[rule]]` tables: what a new ticket gets when its first mail matches.
    #[serde(default)]
    pub rule: Vec<Spanned<RawRule>>,
    /// `[[ticket_field]]` tables: what the desk records about each ticket.
    #[serde(default)]
    pub ticket_field: Vec<Spanned<RawTicketField>>,
    /// `[[macro]]` tables: changes agents apply to a ticket in one click.
    #[serde(default, rename = "macro")]
    pub macros: Vec<Spanned<RawMacro>>,
    /// `[notifications]`: mail to agents about their tickets.
    pub notifications: Option<Spanned<RawNotifications>>,
    /// `[sla]`: how soon customers should have an answer.
    pub sla: Option<Spanned<RawSla>>,
}

/// `[sla]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSla {
    /// How soon a ticket's first answer is due, by priority.
    pub first_answer: Option<Spanned<RawTargets>>,
    /// How soon each later answer is due (as `first_answer` when absent).
    pub next_answer: Option<Spanned<RawTargets>>,
    /// The hours that count ("mon-fri 09:00-17:00"); around the clock when absent.
    pub office_hours: Option<Spanned<String>>,
    /// The office hours' time zone (IANA name); the host's when absent.
    pub timezone: Option<Spanned<String>>,
    /// Days out of office hours ("2026-12-24", or "12-25" every year).
    pub holidays: Option<Spanned<Vec<String>>>,
}

/// A span of time per priority ("30m", "4h", "2d").
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    /// Low.
    pub low: Option<Spanned<String>>,
    /// Medium.
    pub medium: Option<Spanned<String>>,
    /// High.
    pub high: Option<Spanned<String>>,
    /// Urgent.
    pub urgent: Option<Spanned<String>>,
}

/// `[notifications]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotifications {
    /// The address notifications come from (a no-reply address, not a channel's).
    pub from: Spanned<String>,
    /// The name shown with it.
    pub from_name: Option<Spanned<String>>,
    /// Seconds a notification waits (to be gathered with others, or made moot by the
    /// agent reading the ticket) before it is mailed.
    pub delay_seconds: Option<Spanned<i64>>,
}

/// `[[snippet]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnippet {
    /// What agents pick it by.
    pub name: Spanned<String>,
    /// The text, a template (`{{contact.first_name}}`, `{{agent.first_name}}`, ...).
    pub body: Spanned<String>,
}

/// `[[ticket_field]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTicketField {
    /// What agents read it as.
    pub name: Spanned<String>,
    /// `"text"` (the default), `"number"`, `"choice"` or `"date"`.
    pub kind: Option<Spanned<String>>,
    /// The values a choice may take.
    #[serde(default)]
    pub choices: Vec<Spanned<String>>,
    /// `true`: agents fill it in before closing a ticket; or the pipelines where so.
    pub required_to_close: Option<Spanned<toml::Value>>,
    /// Inbox rows show its value.
    #[serde(default)]
    pub in_inbox: bool,
}

/// `[[macro]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMacro {
    /// What agents pick it by.
    pub name: Spanned<String>,
    /// `"me"`, `"nobody"` or an agent's address.
    pub owner: Option<Spanned<String>>,
    /// A team, instead of an owner.
    pub team: Option<Spanned<String>>,
    /// A stage of the ticket's pipeline.
    pub status: Option<Spanned<String>>,
    /// A new priority.
    pub priority: Option<Spanned<String>>,
    /// Tags added.
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// Tags taken off.
    #[serde(default)]
    pub untag: Vec<Spanned<String>>,
    /// An internal note.
    pub note: Option<Spanned<String>>,
    /// A reply put in the reply box for the agent to review and send (a snippet's
    /// tokens).
    pub reply: Option<Spanned<String>>,
    /// Snooze this long ("3d").
    pub snooze: Option<Spanned<String>>,
    /// Ticket fields set (an empty value clears one).
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, Spanned<String>>,
}

/// `[[rule]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// What the history calls it.
    pub name: Spanned<String>,
    /// The channels it looks at (default: all).
    #[serde(default)]
    pub channels: Vec<Spanned<String>>,
    /// Senders: addresses or `@domain`.
    #[serde(default)]
    pub from: Vec<Spanned<String>>,
    /// Addresses the mail is written to.
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
    /// Phrases in the subject.
    #[serde(default)]
    pub subject: Vec<Spanned<String>>,
    /// Phrases in the subject or text.
    #[serde(default)]
    pub text: Vec<Spanned<String>>,
    /// The ticket's priority.
    pub priority: Option<Spanned<String>>,
    /// Tags the ticket gets.
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// The agent who gets the ticket.
    pub owner: Option<Spanned<String>>,
    /// The team that gets the ticket.
    pub team: Option<Spanned<String>>,
    /// The stage the ticket starts in.
    pub status: Option<Spanned<String>>,
    /// `false`: the customer gets no acknowledgement.
    pub acknowledge: Option<Spanned<bool>>,
    /// `"new ticket"` (the default) or `"every mail"` of the customer.
    pub when: Option<Spanned<String>>,
    /// Ticket fields the new ticket gets.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, Spanned<String>>,
}

/// `[daemon]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDaemon {
    /// Where the database lives.
    pub data_dir: Spanned<String>,
    /// The control socket path.
    pub control_socket: Option<Spanned<String>>,
    /// The team's company name, used in From names.
    pub company_name: Spanned<String>,
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub log_level: Option<Spanned<String>>,
}

/// `[http]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// `host:port` to listen on.
    pub listen: Option<Spanned<String>>,
    /// The URL agents use (behind a proxy, `https://…` makes cookies Secure).
    pub public_url: Option<Spanned<String>>,
    /// PEM certificate chain: serve https ourselves (with `tls_key_file`).
    pub tls_cert_file: Option<Spanned<String>>,
    /// PEM private key for `tls_cert_file`.
    pub tls_key_file: Option<Spanned<String>>,
    /// A session unused this long ends (seconds).
    pub session_idle_seconds: Option<Spanned<i64>>,
    /// A session ends this long after sign-in, used or not (seconds).
    pub session_lifetime_seconds: Option<Spanned<i64>>,
    /// Client addresses (`ip` or `ip/prefix`) that may read `/metrics`.
    pub metrics_allow: Option<Vec<Spanned<String>>>,
    /// Every agent must sign in with two steps (password and an app's code).
    pub require_two_step: Option<bool>,
}

/// `[lmtp]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLmtp {
    /// `host:port` to listen on.
    pub listen: Option<Spanned<String>>,
    /// Largest message accepted, in bytes.
    pub max_message_bytes: Option<Spanned<i64>>,
    /// Seconds a session may stay silent before it is closed.
    pub idle_timeout_seconds: Option<Spanned<i64>>,
    /// Most concurrent sessions.
    pub max_sessions: Option<Spanned<i64>>,
}

/// One `[[channel]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    /// `email` (other kinds come later).
    pub kind: Spanned<String>,
    /// Unique name.
    pub name: Spanned<String>,
    /// The team address.
    pub address: Spanned<String>,
    /// More addresses that deliver into this channel.
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    /// File forwards from team members under the original sender.
    #[serde(default)]
    pub forward_original_sender: bool,
    /// `[channel.imap]`: pull this mailbox over IMAP.
    pub imap: Option<Spanned<RawImap>>,
    /// `agent_and_company` or `company`.
    pub from_name: Option<Spanned<String>>,
    /// Format of an `agent_and_company` From name.
    pub from_name_format: Option<Spanned<String>>,
    /// Signature template.
    pub signature: Option<Spanned<String>>,
    /// Put the ticket tag in reply subjects.
    pub subject_tag: Option<bool>,
    /// An agent who answers a ticket nobody owns takes it (default true).
    pub assign_on_reply: Option<bool>,
    /// `[channel.smtp]`: this channel's own relay.
    pub smtp: Option<Spanned<RawSmtp>>,
    /// Ask customers to rate each reply (links under it).
    pub ratings: Option<Spanned<bool>>,
    /// `[channel.acknowledgement]`: the instant reply.
    pub acknowledgement: Option<Spanned<RawAck>>,
    /// `[channel.survey]`: one mail after closing, asking how the desk did.
    pub survey: Option<Spanned<RawSurvey>>,
    /// `[channel.auto_close]`: close tickets left waiting on the customer.
    pub auto_close: Option<Spanned<RawAutoClose>>,
    /// `[channel.ticket]`: properties of tickets this channel opens.
    pub ticket: Option<Spanned<RawTicketDefaults>>,
    /// `[channel.routing]`: who gets them.
    pub routing: Option<Spanned<RawRouting>>,
    /// `[channel.sla]`: this channel's own answer targets.
    pub sla: Option<Spanned<RawChannelSla>>,
}

/// `[channel.sla]`: targets in place of `[sla]`'s for one channel's tickets.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannelSla {
    /// How soon a ticket's first answer is due, by priority.
    pub first_answer: Option<Spanned<RawTargets>>,
    /// How soon each later answer is due.
    pub next_answer: Option<Spanned<RawTargets>>,
    /// The channel's own hours ("mon-sun 00:00-24:00", or "always"); the desk's when
    /// absent.
    pub office_hours: Option<Spanned<String>>,
    /// The time zone of the channel's hours; the desk's when absent.
    pub timezone: Option<Spanned<String>>,
    /// The channel's days out of its hours; the desk's when absent.
    pub holidays: Option<Spanned<Vec<String>>>,
}

/// `[[pipeline]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPipeline {
    /// Name.
    pub name: Spanned<String>,
    /// Ordered stages.
    pub stages: Vec<Spanned<RawStage>>,
    /// Where a customer's message puts a closed ticket.
    pub reopen_stage: Option<Spanned<String>>,
    /// Where an agent's reply puts a ticket.
    pub agent_reply_stage: Option<Spanned<String>>,
}

/// One stage.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Name.
    pub name: Spanned<String>,
    /// Done.
    #[serde(default)]
    pub closed: bool,
}

/// `[channel.ticket]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTicketDefaults {
    /// Pipeline name.
    pub pipeline: Option<Spanned<String>>,
    /// Starting stage.
    pub status: Option<Spanned<String>>,
    /// `low|medium|high|urgent`.
    pub priority: Option<Spanned<String>>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
}

/// `[channel.routing]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    /// `nobody|users_and_teams|contact_owner`.
    pub mode: Spanned<String>,
    /// Agent addresses.
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// Team names.
    #[serde(default)]
    pub teams: Vec<Spanned<String>>,
    /// Only available agents (default true).
    pub available_only: Option<bool>,
}

/// `[smtp]` or `[channel.smtp]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    /// Relay host.
    pub host: Spanned<String>,
    /// Port.
    pub port: Option<Spanned<i64>>,
    /// `implicit`, `starttls` or `none`.
    pub tls: Option<Spanned<String>>,
    /// Extra trust anchor.
    pub ca_file: Option<Spanned<String>>,
    /// Login name.
    pub username: Option<Spanned<String>>,
    /// File holding the password.
    pub password_file: Option<Spanned<String>>,
    /// Name given in EHLO.
    pub hello_name: Option<Spanned<String>>,
    /// Most parallel connections.
    pub max_connections: Option<Spanned<i64>>,
    /// Give up on a message after this many days of temporary failures.
    pub max_queue_days: Option<Spanned<i64>>,
    /// Seconds an agent's reply or forward waits before it is sent (it can be
    /// cancelled meanwhile); 0 sends at once.
    pub undo_seconds: Option<Spanned<i64>>,
}

/// `[channel.acknowledgement]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAck {
    /// On or off.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Subject template.
    pub subject: Spanned<String>,
    /// Body template.
    pub body: Spanned<String>,
    /// Most acknowledgements per contact per hour.
    pub max_per_hour: Option<Spanned<i64>>,
}

/// `[channel.survey]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSurvey {
    /// On or off.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// How long after closing it goes ("1h").
    pub after: Option<Spanned<String>>,
    /// Subject template.
    pub subject: Option<Spanned<String>>,
    /// Body template (the rating links follow it).
    pub body: Option<Spanned<String>>,
}

/// `[channel.auto_close]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAutoClose {
    /// On or off.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// How long a waiting ticket stays untouched before it closes ("7d").
    pub after: Option<Spanned<String>>,
    /// The stage that counts as waiting (default: where an agent's reply puts a ticket).
    pub stage: Option<Spanned<String>>,
    /// How long before the closing the customer is reminded ("2d"); no reminder without.
    pub remind: Option<Spanned<String>>,
    /// The reminder's subject template.
    pub reminder_subject: Option<Spanned<String>>,
    /// The reminder's body template.
    pub reminder_body: Option<Spanned<String>>,
}

fn default_true() -> bool {
    true
}

/// `[channel.imap]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImap {
    /// Server host name.
    pub host: Spanned<String>,
    /// Port (993 for implicit TLS, else 143).
    pub port: Option<Spanned<i64>>,
    /// `implicit`, `starttls` or `none`.
    pub tls: Option<Spanned<String>>,
    /// Extra trust anchor (PEM).
    pub ca_file: Option<Spanned<String>>,
    /// Login name.
    pub username: Spanned<String>,
    /// `password` (default) or `xoauth2`.
    pub auth: Option<Spanned<String>>,
    /// File holding the password.
    pub password_file: Option<Spanned<String>>,
    /// OAuth2 client id.
    pub client_id: Option<Spanned<String>>,
    /// File holding the OAuth2 client secret.
    pub client_secret_file: Option<Spanned<String>>,
    /// File holding the OAuth2 refresh token.
    pub refresh_token_file: Option<Spanned<String>>,
    /// OAuth2 token endpoint.
    pub token_url: Option<Spanned<String>>,
    /// Folders to pull.
    pub folders: Option<Vec<Spanned<String>>>,
    /// `seen`, `move:FOLDER`, `delete` or `keep`.
    pub after_fetch: Option<Spanned<String>>,
    /// `true`, `false` or `"since:YYYY-MM-DD"`.
    pub import_existing: Option<Spanned<toml::Value>>,
    /// Poll interval when the server lacks IDLE.
    pub poll_seconds: Option<Spanned<i64>>,
}
