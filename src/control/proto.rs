//! Requests and responses on the control socket: one JSON object per line each way.

use serde::{Deserialize, Serialize};

use crate::channels::status::FolderStatus;
use crate::store::{ChannelStats, StoreCounts, TicketDetail, TicketFilter, TicketSummary};

/// A request from `frontdeskctl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Request {
    /// Version, uptime, counts, channels.
    Status {},
    /// Tickets, newest activity first.
    TicketsList {
        /// Filter.
        #[serde(default)]
        filter: TicketFilter,
    },
    /// One ticket.
    TicketsShow {
        /// Ticket number.
        id: i64,
    },
    /// Channels with their state.
    ChannelsList {},
    /// Store one message; answered after the commit.
    Inject {
        /// Channel name.
        channel: String,
        /// The message, base64.
        raw_base64: String,
        /// Historical import (no automatic mail).
        #[serde(default)]
        historical: bool,
    },
    /// Make a channel's IMAP pullers sync now.
    ChannelsSync {
        /// Channel name.
        name: String,
    },
    /// Re-read the config file.
    Reload {},
    /// Write a verified online backup of the database.
    Backup {
        /// Absolute path of the copy (must not exist).
        path: String,
    },
    /// Add an agent.
    UsersAdd {
        /// Login address.
        email: String,
        /// Full name.
        name: String,
        /// First name (derived from the full name when absent).
        #[serde(default)]
        first_name: Option<String>,
        /// Last name (derived from the full name when absent).
        #[serde(default)]
        last_name: Option<String>,
        /// Administrator.
        #[serde(default)]
        admin: bool,
        /// Has a seat.
        #[serde(default)]
        seat: bool,
    },
    /// List agents.
    UsersList {},
    /// Change an agent.
    UsersSet {
        /// Address.
        email: String,
        /// Seat on/off.
        #[serde(default)]
        seat: Option<bool>,
        /// Administrator on/off.
        #[serde(default)]
        admin: Option<bool>,
        /// Available on/off.
        #[serde(default)]
        available: Option<bool>,
        /// Full name.
        #[serde(default)]
        name: Option<String>,
        /// First name.
        #[serde(default)]
        first_name: Option<String>,
        /// Last name.
        #[serde(default)]
        last_name: Option<String>,
        /// Which notification mail they get (`assigned,mention`, `all`, `none`).
        #[serde(default)]
        notify: Option<String>,
        /// Their own signature lines.
        #[serde(default)]
        signature: Option<String>,
        /// Two-step sign-in: only `false` (off) is taken; agents turn it on themselves.
        #[serde(default)]
        two_step: Option<bool>,
    },
    /// Set an agent's password (hashed with Argon2id by the daemon).
    UsersPasswd {
        /// Address.
        email: String,
        /// The new password.
        password: String,
    },
    /// Deactivate an agent.
    UsersDeactivate {
        /// Address.
        email: String,
    },
    /// Make a deactivated agent active again.
    UsersReactivate {
        /// Address.
        email: String,
    },
    /// Create a team.
    TeamsAdd {
        /// Name.
        name: String,
    },
    /// Change a team's members.
    TeamsMembers {
        /// Team.
        name: String,
        /// Addresses to add.
        #[serde(default)]
        add: Vec<String>,
        /// Addresses to remove.
        #[serde(default)]
        remove: Vec<String>,
    },
    /// List teams.
    TeamsList {},
    /// List snippets: the configuration's, then those written in the page.
    SnippetsList {},
    /// Add a snippet (`id` `None`) or change one (a part left `None` stays).
    SnippetsSave {
        /// The snippet to change (as `snippets list` numbers it); none to add one.
        #[serde(default)]
        id: Option<i64>,
        /// Its name.
        #[serde(default)]
        name: Option<String>,
        /// Its text.
        #[serde(default)]
        body: Option<String>,
    },
    /// Delete a snippet written in the page.
    SnippetsDelete {
        /// Its number.
        id: i64,
    },
    /// An agent follows a ticket, or stops.
    TicketsFollow {
        /// Ticket.
        id: i64,
        /// The agent.
        agent: String,
        /// Follow (true) or stop (false).
        on: bool,
    },
    /// List customers as the page's directory does: latest activity first, or those
    /// whose name or address holds `search` (`@domain`: at that domain).
    ContactsList {
        /// Most rows.
        #[serde(default)]
        limit: Option<u32>,
        /// Words of a name or address, or `@domain`.
        #[serde(default)]
        search: Option<String>,
        /// Only the customers this agent owns.
        #[serde(default)]
        owner: Option<String>,
    },
    /// One contact and their tickets.
    ContactsShow {
        /// Address.
        email: String,
    },
    /// Import customers: a file's rows, already read (`contacts import`).
    ContactsImport {
        /// The rows.
        rows: Vec<crate::desk::contact_import::ImportRow>,
        /// Only say what it would do.
        #[serde(default)]
        dry_run: bool,
        /// Who imports (the notes' author); the CLI's user when absent.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Erase a customer: their tickets, their mail on others' tickets and their contact
    /// row, for good (a data-protection request).
    ContactsErase {
        /// Contact address.
        email: String,
        /// Only say what it would erase.
        #[serde(default)]
        dry_run: bool,
    },
    /// Delete a ticket (and those merged into it) for good, with all mail on it.
    TicketsDelete {
        /// Ticket number.
        id: i64,
        /// Only say what it would delete.
        #[serde(default)]
        dry_run: bool,
    },
    /// The customers erased and tickets deleted, newest first (who, when, how much).
    ContactsErased {
        /// Most rows.
        #[serde(default = "default_erased_limit")]
        limit: u32,
    },
    /// Set or clear a contact's owner.
    ContactsSetOwner {
        /// Contact address.
        email: String,
        /// Agent address; none clears.
        #[serde(default)]
        owner: Option<String>,
    },
    /// Assign a ticket.
    TicketsAssign {
        /// Ticket.
        id: i64,
        /// To this agent.
        #[serde(default)]
        agent: Option<String>,
        /// To this team.
        #[serde(default)]
        team: Option<String>,
        /// Who does it (for the event log).
        #[serde(default)]
        actor: Option<String>,
    },
    /// Merge a ticket into another.
    TicketsMerge {
        /// The ticket that goes.
        id: i64,
        /// The ticket that stays.
        into: i64,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Delete an internal note, whoever wrote it (one posted by mistake).
    TicketsDeleteNote {
        /// The ticket it is on.
        id: i64,
        /// The note (its message number).
        message: i64,
    },
    /// Split a customer's mail off a ticket into a new ticket.
    TicketsSplit {
        /// The ticket it is on.
        id: i64,
        /// The mail (its message number).
        message: i64,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Add and remove a ticket's tags.
    TicketsTag {
        /// Ticket.
        id: i64,
        /// Tags to add.
        #[serde(default)]
        add: Vec<String>,
        /// Tags to remove.
        #[serde(default)]
        remove: Vec<String>,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Move a ticket to a stage.
    TicketsStatus {
        /// Ticket.
        id: i64,
        /// Stage name.
        stage: String,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Move a ticket to another pipeline.
    TicketsPipeline {
        /// Ticket.
        id: i64,
        /// Pipeline name.
        pipeline: String,
        /// Stage in it (default: its first).
        #[serde(default)]
        stage: Option<String>,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Change a ticket's priority.
    TicketsPriority {
        /// Ticket.
        id: i64,
        /// `low|medium|high|urgent`.
        priority: String,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Set or clear a field (`[[ticket_field]]`) of a ticket.
    TicketsField {
        /// Ticket.
        id: i64,
        /// The field's name.
        name: String,
        /// Its new value; empty clears it.
        #[serde(default)]
        value: String,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Apply a macro (`[[macro]]`) to a ticket: all its changes or none.
    TicketsMacro {
        /// Ticket.
        id: i64,
        /// The macro's name.
        name: String,
        /// Who applies it (a macro giving the ticket to "me" needs one).
        #[serde(default)]
        actor: Option<String>,
    },
    /// Give a ticket a new subject.
    TicketsRename {
        /// Ticket.
        id: i64,
        /// The new subject.
        subject: String,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Mark a ticket as spam (close it, tag it, block its customer) or not spam.
    TicketsSpam {
        /// Ticket.
        id: i64,
        /// False: not spam (unblock, untag, reopen).
        spam: bool,
        /// Block the sender's whole domain too.
        #[serde(default)]
        domain: bool,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Snooze an open ticket for a length or until a time, or wake it.
    TicketsSnooze {
        /// Ticket.
        id: i64,
        /// How long ("4h", "3d"), counted on the daemon's clock.
        #[serde(default, rename = "for")]
        length: Option<String>,
        /// Until when (RFC 3339).
        #[serde(default)]
        until: Option<String>,
        /// Wake it now instead.
        #[serde(default)]
        wake: bool,
        /// Who does it.
        #[serde(default)]
        actor: Option<String>,
    },
    /// Reply to a ticket as an agent.
    TicketsReply {
        /// Ticket.
        id: i64,
        /// Agent address.
        agent: String,
        /// Body text.
        body: String,
        /// Extra copies.
        #[serde(default)]
        cc: Vec<String>,
        /// Quote the last customer message.
        #[serde(default)]
        quote: bool,
        /// Attachments.
        #[serde(default)]
        attachments: Vec<AttachmentData>,
        /// Close the ticket with the reply.
        #[serde(default)]
        close: bool,
        /// Forward the ticket's latest incoming mail to these addresses instead.
        #[serde(default)]
        forward: Option<String>,
        /// Forward this mail of the ticket (a message row) instead of the latest incoming.
        #[serde(default)]
        forward_message: Option<i64>,
        /// Send it at this RFC 3339 time instead of now.
        #[serde(default)]
        send_at: Option<String>,
    },
    /// The reports page's figures for the last `days` days.
    Report {
        /// Days, today included (1 to 366).
        days: i64,
        /// The clock days start in, minutes east of UTC (without `zone`).
        #[serde(default)]
        tz_minutes: i64,
        /// The zone days start in ("Europe/Berlin"), clock changes and all.
        #[serde(default)]
        zone: Option<String>,
    },
    /// Open a ticket by writing to a customer first, as an agent (who owns it).
    TicketsOpen {
        /// Agent address.
        agent: String,
        /// The channel it leaves from; the configuration's first when absent.
        #[serde(default)]
        channel: Option<String>,
        /// The customer: `Name <address>` or the address.
        to: String,
        /// Subject.
        subject: String,
        /// Body text.
        body: String,
        /// Copies.
        #[serde(default)]
        cc: Vec<String>,
        /// Attachments.
        #[serde(default)]
        attachments: Vec<AttachmentData>,
    },
    /// Add an internal note.
    TicketsNote {
        /// Ticket.
        id: i64,
        /// Author address.
        agent: String,
        /// Text.
        body: String,
        /// Files.
        #[serde(default)]
        attachments: Vec<AttachmentData>,
    },
    /// Outbox entries.
    OutboxList {
        /// Only this status.
        #[serde(default)]
        status: Option<String>,
        /// Most rows.
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Retry an entry now.
    OutboxRetry {
        /// Entry id.
        id: i64,
    },
    /// Cancel an entry.
    OutboxCancel {
        /// Entry id.
        id: i64,
    },
}

/// One snippet as `snippets list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetRow {
    /// Its number (only those written in the page have one).
    pub id: Option<i64>,
    /// What agents pick it by.
    pub name: String,
    /// Its text (a template).
    pub body: String,
    /// Who last wrote it; `None` for the configuration's.
    pub updated_by: Option<String>,
}

/// A file sent with a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentData {
    /// File name.
    pub filename: String,
    /// `type/subtype`.
    pub content_type: String,
    /// Bytes, base64.
    pub data_base64: String,
}

impl Request {
    /// The tickets this request changes (open pages are told).
    pub fn changed_tickets(&self) -> Vec<i64> {
        match self {
            Request::TicketsReply { id, .. }
            | Request::TicketsNote { id, .. }
            | Request::TicketsAssign { id, .. }
            | Request::TicketsTag { id, .. }
            | Request::TicketsStatus { id, .. }
            | Request::TicketsPipeline { id, .. }
            | Request::TicketsPriority { id, .. }
            | Request::TicketsField { id, .. }
            | Request::TicketsRename { id, .. }
            | Request::TicketsSpam { id, .. }
            | Request::TicketsSplit { id, .. }
            | Request::TicketsDeleteNote { id, .. }
            | Request::TicketsFollow { id, .. } => vec![*id],
            Request::TicketsMerge { id, into, .. } => vec![*id, *into],
            // (A snooze goes through the pipeline, which tells open pages itself.)
            _ => Vec::new(),
        }
    }
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Response {
    /// Success with a payload.
    Ok {
        /// Always true.
        ok: bool,
        /// The payload.
        data: ResponseData,
    },
    /// Failure.
    Err {
        /// Always false.
        ok: bool,
        /// What went wrong, in words.
        error: String,
        /// What kind of failure: `temporary`, `rejected`, `not-found`, `bad-request`, `failed`.
        kind: ErrorKind,
    },
}

/// Failure classes, so clients pick exit codes without parsing words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Try again later (store busy, disk full).
    Temporary,
    /// The input is unusable (bad message).
    Rejected,
    /// No such ticket or channel.
    NotFound,
    /// The request itself is wrong (unknown command, bad JSON).
    BadRequest,
    /// The peer may not use the control socket.
    Forbidden,
    /// Anything else (e.g. a bad config on reload).
    Failed,
}

impl Response {
    /// A success.
    pub fn ok(data: ResponseData) -> Self {
        Response::Ok { ok: true, data }
    }

    /// A failure.
    pub fn err(kind: ErrorKind, error: impl Into<String>) -> Self {
        Response::Err {
            ok: false,
            error: error.into(),
            kind,
        }
    }
}

/// Payloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ResponseData {
    /// `status`.
    Status(StatusInfo),
    /// `tickets list`.
    Tickets {
        /// Rows.
        tickets: Vec<TicketSummary>,
    },
    /// `tickets show`.
    Ticket(Box<TicketDetail>),
    /// `channels list`.
    Channels {
        /// Rows.
        channels: Vec<ChannelInfo>,
    },
    /// `inject`.
    Injected(InjectResult),
    /// `channels sync`.
    Synced {
        /// The channel woken.
        channel: String,
    },
    /// `users list`.
    Users {
        /// Rows.
        users: Vec<crate::store::UserView>,
    },
    /// `teams list`.
    Teams {
        /// Rows.
        teams: Vec<crate::store::TeamView>,
    },
    /// `snippets list`.
    Snippets {
        /// Rows: the configuration's first.
        snippets: Vec<SnippetRow>,
    },
    /// `contacts list`.
    Customers {
        /// Rows, latest activity first.
        customers: Vec<crate::store::CustomerRow>,
    },
    /// `contacts import`.
    Imported {
        /// What it added and changed (or would, on a dry run).
        imported: crate::desk::contact_import::ImportCounts,
    },
    /// `contacts erase`.
    Erased {
        /// What it erased (or would, on a dry run).
        erased: crate::store::Erasure,
    },
    /// `tickets delete`.
    Deleted {
        /// What it deleted (or would, on a dry run).
        deleted: crate::store::TicketDeletion,
    },
    /// `contacts erased`.
    Erasures {
        /// Newest first.
        erasures: Vec<crate::store::ErasureRecord>,
    },
    /// `contacts show`.
    Contacts {
        /// Rows.
        contacts: Vec<crate::store::ContactView>,
    },
    /// `outbox list`.
    Outbox {
        /// Rows.
        outbox: Vec<crate::store::OutboxView>,
    },
    /// `report`.
    Report {
        /// The figures.
        report: Box<crate::desk::reports::Report>,
    },
    /// A command that did one thing; the words say what.
    Done {
        /// In words.
        done: String,
        /// The id made or touched.
        id: i64,
    },
    /// `reload`.
    Reloaded {
        /// What changed, in words.
        changes: Vec<String>,
    },
}

/// Daemon status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusInfo {
    /// Package version.
    pub version: String,
    /// Seconds since start.
    pub uptime_seconds: u64,
    /// Daemon pid.
    pub pid: u32,
    /// Database path.
    pub database: String,
    /// The address the LMTP listener is bound to.
    pub lmtp_listen: String,
    /// The address the HTTP listener is bound to.
    pub http_listen: String,
    /// Totals.
    pub counts: StoreCounts,
    /// Channels.
    pub channels: Vec<ChannelInfo>,
}

/// One channel and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelInfo {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Team address.
    pub address: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// `active` for push channels; for IMAP the worst folder's state (`connected`,
    /// `syncing`, `connecting`, `backing off`, `failing`).
    pub state: String,
    /// Each IMAP folder's puller.
    pub imap: Vec<FolderStatus>,
    /// Original-sender rule on.
    pub forward_original_sender: bool,
    /// Ingest figures.
    pub stats: ChannelStats,
}

/// The result of `inject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectResult {
    /// Ticket the message is in.
    pub ticket_id: i64,
    /// Stored message row.
    pub message: i64,
    /// True when the message opened the ticket.
    pub new_ticket: bool,
    /// True when it was already stored.
    pub duplicate: bool,
    /// Why it went there.
    pub reason: String,
}

/// How many erasures `contacts erased` lists unless told.
fn default_erased_limit() -> u32 {
    50
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let r: Request = serde_json::from_str(r#"{"cmd":"tickets-show","id":3}"#).unwrap();
        assert_eq!(r, Request::TicketsShow { id: 3 });
        let r: Request = serde_json::from_str(r#"{"cmd":"status"}"#).unwrap();
        assert_eq!(r, Request::Status {});
    }

    #[test]
    fn unknown_commands_are_errors() {
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"format-disk"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"cmd":"status","x":1}"#).is_err());
        assert!(serde_json::from_str::<Request>("not json").is_err());
    }
}
