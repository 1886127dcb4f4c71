//! `frontdeskctl`: a thin client of the daemon's control socket.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use clap::{Parser, Subcommand};
use frontdesk::config::{Config, DEFAULT_CONFIG_PATH, DEFAULT_CONTROL_SOCKET};
use frontdesk::control::client::{Client, ClientError};
use frontdesk::control::import::read_mailbox;
use frontdesk::control::proto::{
    AttachmentData, ChannelInfo, ErrorKind, InjectResult, Request, SnippetRow, StatusInfo,
};
use frontdesk::desk::reports::Report;
use frontdesk::store::{
    ContactView, CustomerRow, OutboxView, TeamView, TicketDetail, TicketFilter, TicketSummary,
    UserView,
};

/// sysexits codes that MTAs' pipe transports understand.
const EX_USAGE: u8 = 64;
const EX_DATAERR: u8 = 65;
const EX_NOINPUT: u8 = 66;
const EX_NOUSER: u8 = 67;
const EX_UNAVAILABLE: u8 = 69;
const EX_TEMPFAIL: u8 = 75;
const EX_NOPERM: u8 = 77;
const EX_CONFIG: u8 = 78;
/// sysexits EX_IOERR: the output could not be written.
const EX_IOERR: i32 = 74;

/// `println!` that ends the program quietly when the reader has gone
/// (`frontdeskctl tickets list | head`), as Unix tools do, instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            output_failed(e)
        }
    };
}

/// Stdout refused a line: a closed pipe is a reader that has seen enough (exit 0);
/// anything else (a full disk) is reported.
fn output_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("frontdeskctl: cannot write the output: {e}");
    std::process::exit(EX_IOERR)
}

#[derive(Parser)]
#[command(
    name = "frontdeskctl",
    version,
    about = "Manage a running frontdeskd over its control socket"
)]
struct Cli {
    /// Control socket (default: the one named in the config, else /run/frontdesk/control.sock).
    #[arg(long, global = true, conflicts_with = "config")]
    socket: Option<PathBuf>,
    /// Config file to find the control socket in.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Version, uptime, counts and channels.
    Status,
    /// Tickets.
    #[command(subcommand)]
    Tickets(TicketsCommand),
    /// Channels.
    #[command(subcommand)]
    Channels(ChannelsCommand),
    /// Store one message read from stdin (or --file); exit 0 only after it is committed.
    Inject {
        /// Channel name.
        #[arg(long)]
        channel: String,
        /// Read the message from this file instead of stdin.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Import an mbox file or a Maildir folder as historical conversations.
    Import {
        /// Channel name.
        #[arg(long)]
        channel: String,
        /// mbox file or Maildir folder.
        path: PathBuf,
    },
    /// Re-read the daemon's config file.
    Reload,
    /// What the reports page shows: tickets opened and closed, first answers and time to
    /// close, per agent, per channel and per day.
    Report {
        /// Days, today included (1 to 366).
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// The zone days start in (Europe/Berlin); this host's zone unless said.
        #[arg(long, conflicts_with = "tz_minutes")]
        zone: Option<String>,
        /// A fixed clock instead, minutes east of UTC (60 for Berlin in winter).
        #[arg(long, allow_negative_numbers = true)]
        tz_minutes: Option<i64>,
    },
    /// Write a consistent, verified copy of the database while the daemon runs.
    Backup {
        /// Where to write it (must not exist; the daemon's user must be able to write there).
        path: PathBuf,
    },
    /// Check a config file (default: --config, else /etc/frontdesk/frontdesk.toml) and exit 0 or 78.
    CheckConfig {
        /// The file.
        path: Option<PathBuf>,
        /// Also show what the file's [[rule]]s give a new ticket opened by this mail.
        #[arg(long, value_name = "MAIL")]
        try_mail: Option<PathBuf>,
        /// The channel the mail comes in on (default: the one it is addressed to).
        #[arg(long, requires = "try_mail")]
        channel: Option<String>,
    },
    /// Agents.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Teams of agents.
    #[command(subcommand)]
    Teams(TeamsCommand),
    /// Canned text for replies: the configuration's, and those agents write in the page.
    #[command(subcommand)]
    Snippets(SnippetsCommand),
    /// Contacts (customers).
    #[command(subcommand)]
    Contacts(ContactsCommand),
    /// The queue of outgoing mail.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Print a shell completion script (bash, zsh or fish) to stdout.
    #[command(hide = true)]
    Completions {
        /// Shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Add an agent.
    Add {
        /// Login address.
        email: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// First name (default: all but the last word of --name).
        #[arg(long)]
        first_name: Option<String>,
        /// Last name (default: the last word of --name).
        #[arg(long)]
        last_name: Option<String>,
        /// Administrator.
        #[arg(long)]
        admin: bool,
        /// Give the agent a seat (may be assigned tickets).
        #[arg(long)]
        seat: bool,
    },
    /// List agents.
    List,
    /// Set an agent's password (asked on the terminal, or read from stdin; never an argument).
    Passwd {
        /// Agent address.
        email: String,
    },
    /// Change an agent's seat, availability or name.
    Set {
        /// Agent address.
        email: String,
        /// on or off.
        #[arg(long, value_parser = on_off)]
        seat: Option<bool>,
        /// on or off: an administrator may also erase customers on the web page.
        #[arg(long, value_parser = on_off)]
        admin: Option<bool>,
        /// on or off (away).
        #[arg(long, value_parser = on_off)]
        available: Option<bool>,
        /// Full name.
        #[arg(long)]
        name: Option<String>,
        /// First name.
        #[arg(long)]
        first_name: Option<String>,
        /// Last name.
        #[arg(long)]
        last_name: Option<String>,
        /// Which mail about tickets the agent gets: a comma-separated list of
        /// assigned, customer-reply, mention, followed, new-ticket, overdue, bad-rating;
        /// or all, or none.
        #[arg(long)]
        notify: Option<String>,
        /// The agent's own signature lines, from this file (`-` for stdin); an empty
        /// file clears them.
        #[arg(long, value_name = "FILE")]
        signature_file: Option<PathBuf>,
        /// off: turn the agent's two-step sign-in off (a lost phone); they sign in with
        /// their password and may set it up again on their account page.
        #[arg(long, value_parser = on_off)]
        two_step: Option<bool>,
    },
    /// Deactivate an agent: history stays, no new tickets, no sign-in.
    Deactivate {
        /// Agent address.
        email: String,
    },
    /// Make a deactivated agent active again: they sign in with their password.
    Reactivate {
        /// Agent address.
        email: String,
    },
}

#[derive(Subcommand)]
enum TeamsCommand {
    /// Create a team.
    Add {
        /// Team name.
        name: String,
    },
    /// Add or remove members.
    Members {
        /// Team name.
        name: String,
        /// Agent to add (repeatable).
        #[arg(long)]
        add: Vec<String>,
        /// Agent to remove (repeatable).
        #[arg(long)]
        remove: Vec<String>,
    },
    /// List teams and their members.
    List,
}

#[derive(Subcommand)]
enum SnippetsCommand {
    /// List every snippet: the configuration's (unnumbered), then the page's.
    List,
    /// Add a snippet to the page's (checked as the page checks it).
    Add {
        /// What agents pick it by.
        name: String,
        /// Its text, from this file (`-` or none: stdin). Tokens such as
        /// {{contact.first_name | there}} are filled in for the ticket.
        #[arg(long, value_name = "FILE")]
        body_file: Option<PathBuf>,
    },
    /// Change one of the page's snippets: its name, its text or both.
    Edit {
        /// Its number (as `snippets list` shows it).
        id: i64,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new text, from this file (`-`: stdin).
        #[arg(long, value_name = "FILE", required_unless_present = "name")]
        body_file: Option<PathBuf>,
    },
    /// Delete one of the page's snippets.
    Delete {
        /// Its number.
        id: i64,
    },
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// List customers, whoever's tickets moved last first (as the page's Customers).
    List {
        /// Most rows.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Only those whose name or address holds this (`@acme.example`: at that domain).
        #[arg(long)]
        search: Option<String>,
        /// Only those this agent owns (with a ticket or not).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Import customers from a CSV file (a HubSpot contacts export, or columns email,
    /// name, owner, note): all rows or, with one bad row, none.
    Import {
        /// The file (`-`: stdin).
        file: PathBuf,
        /// Only say what it would add and change.
        #[arg(long)]
        dry_run: bool,
        /// Sign the notes as this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Erase a customer for good, as a data-protection request asks: their tickets
    /// with all mail, notes and files on them, their mail on others' tickets, and
    /// their contact. Says what it would erase unless given --yes.
    Erase {
        /// Contact address.
        email: String,
        /// Erase them (without it, nothing changes).
        #[arg(long)]
        yes: bool,
    },
    /// The customers erased, newest first: when, by whom, how much (never who).
    Erased {
        /// Most rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// One contact with their tickets.
    Show {
        /// Contact address.
        email: String,
    },
    /// Set (or with --none clear) the agent who owns a contact.
    SetOwner {
        /// Contact address.
        email: String,
        /// Agent address.
        #[arg(required_unless_present = "none")]
        agent: Option<String>,
        /// Clear the owner.
        #[arg(long, conflicts_with = "agent")]
        none: bool,
    },
}

/// "1 ticket", "2 tickets".
fn counted(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// `--field NAME=VALUE`.
fn field_filter(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("{s:?}: give NAME=VALUE (\"Order number=A-4711\")")),
    }
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        other => Err(format!("{other:?}: expected on or off")),
    }
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List entries, newest first.
    List {
        /// Only this status: queued, sent, failed, cancelled.
        #[arg(long)]
        status: Option<String>,
        /// Most rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Try a queued or failed entry again now.
    Retry {
        /// Entry id.
        id: i64,
    },
    /// Cancel a queued or failed entry.
    Cancel {
        /// Entry id.
        id: i64,
    },
}

#[derive(Subcommand)]
enum TicketsCommand {
    /// List tickets, most recent activity first.
    List {
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
        /// Only this channel.
        #[arg(long)]
        channel: Option<String>,
        /// Only this priority.
        #[arg(long, value_parser = ["low", "medium", "high", "urgent"])]
        priority: Option<String>,
        /// Only tickets whose field has this value: NAME=VALUE ("Order number=A-4711").
        #[arg(long, value_parser = field_filter)]
        field: Option<(String, String)>,
        /// Only open tickets whose customer's answer is overdue ([sla] in the config).
        #[arg(long, conflicts_with_all = ["status", "channel", "priority", "field"])]
        overdue: bool,
        /// Most rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one ticket with its messages.
    Show {
        /// Ticket number.
        id: i64,
    },
    /// Reply to the customer as an agent (body from --body-file or stdin).
    Reply {
        /// Ticket number.
        id: i64,
        /// The agent's address.
        #[arg(long = "as")]
        agent: String,
        /// Read the body from this file instead of stdin.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// Attach a file (repeatable).
        #[arg(long)]
        attach: Vec<PathBuf>,
        /// Send a copy to this address (repeatable).
        #[arg(long)]
        cc: Vec<String>,
        /// Quote the customer's last message under the reply.
        #[arg(long)]
        quote: bool,
        /// Close the ticket with the reply (its pipeline's first closed stage).
        #[arg(long)]
        close: bool,
        /// Forward the ticket's latest incoming mail, with its files, to these addresses
        /// instead of replying (the body goes on top; status and people stay).
        #[arg(long, value_name = "ADDRESSES", conflicts_with_all = ["cc", "quote", "close"])]
        forward_to: Option<String>,
        /// Forward this mail of the ticket instead of the latest incoming one (its
        /// message number, as `tickets show` lists it).
        #[arg(long, value_name = "MESSAGE", requires = "forward_to")]
        message: Option<i64>,
        /// Send it at this time instead of now (RFC 3339, such as
        /// 2026-12-01T09:00:00+01:00; at most 30 days ahead). Until then `outbox cancel`
        /// stops it, and the ticket keeps its status (it moves when the mail goes).
        #[arg(long, value_name = "TIME", conflicts_with = "close")]
        send_at: Option<String>,
    },
    /// Open a ticket by writing to a customer first (body from --body-file or stdin): the
    /// agent owns it, and the customer's answer comes back to it.
    Open {
        /// The agent writing.
        #[arg(long = "as")]
        agent: String,
        /// The customer: "Name <address>" or the address.
        #[arg(long)]
        to: String,
        /// Subject.
        #[arg(long)]
        subject: String,
        /// The channel it leaves from (the configuration's first by default).
        #[arg(long)]
        channel: Option<String>,
        /// Read the body from this file instead of stdin.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// Attach a file (repeatable).
        #[arg(long)]
        attach: Vec<PathBuf>,
        /// Send a copy to this address (repeatable).
        #[arg(long)]
        cc: Vec<String>,
    },
    /// Assign a ticket to an agent, a team, or nobody.
    Assign {
        /// Ticket number.
        id: i64,
        /// Agent address.
        #[arg(required_unless_present_any = ["team", "none"])]
        agent: Option<String>,
        /// Assign to a team (its least-loaded available member).
        #[arg(long, conflicts_with = "agent")]
        team: Option<String>,
        /// Unassign.
        #[arg(long, conflicts_with_all = ["agent", "team"])]
        none: bool,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Merge a ticket into another: its messages, thread and people move there.
    Merge {
        /// The ticket that goes.
        id: i64,
        /// The ticket that stays.
        #[arg(long)]
        into: i64,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Follow a ticket for an agent (its news reaches them; it is in their Following
    /// view), or stop with --stop.
    Follow {
        /// Ticket number.
        id: i64,
        /// The agent.
        #[arg(long = "as", value_name = "AGENT")]
        agent: String,
        /// Stop following it.
        #[arg(long)]
        stop: bool,
    },
    /// Delete a ticket for good (and the tickets merged into it), with every mail, note
    /// and file on it; its customer stays. Says what it would delete unless given --yes.
    Delete {
        /// Ticket number.
        id: i64,
        /// Delete it (without it, nothing changes).
        #[arg(long)]
        yes: bool,
    },
    /// Delete an internal note, whoever wrote it (one posted by mistake); the
    /// ticket's history keeps that it was.
    DeleteNote {
        /// Ticket number.
        id: i64,
        /// The note's message number (as `tickets show` lists it).
        #[arg(long)]
        message: i64,
    },
    /// Split a customer's mail off a ticket into a new ticket of its own.
    Split {
        /// Ticket number.
        id: i64,
        /// The mail's message number (as `tickets show` lists it).
        #[arg(long)]
        message: i64,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Add or remove a ticket's tags.
    #[command(arg_required_else_help = true)]
    Tag {
        /// Ticket number.
        id: i64,
        /// Add this tag (repeat for more).
        #[arg(long, required_unless_present = "remove")]
        add: Vec<String>,
        /// Remove this tag (repeat for more).
        #[arg(long)]
        remove: Vec<String>,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Move a ticket to a stage of its pipeline.
    Status {
        /// Ticket number.
        id: i64,
        /// Stage name.
        stage: String,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Move a ticket to another pipeline, at its first stage or --stage.
    Pipeline {
        /// Ticket number.
        id: i64,
        /// Pipeline name.
        pipeline: String,
        /// Stage in the new pipeline.
        #[arg(long)]
        stage: Option<String>,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Set a ticket's priority: low, medium, high or urgent.
    Priority {
        /// Ticket number.
        id: i64,
        /// Priority.
        priority: String,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Set a field ([[ticket_field]] in the config) of a ticket; without a value, clear it.
    Field {
        /// Ticket number.
        id: i64,
        /// The field's name.
        name: String,
        /// Its new value (a number, a choice, a day as YYYY-MM-DD, or text).
        value: Option<String>,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Apply a macro ([[macro]] in the config) to a ticket: all its changes, or none.
    Macro {
        /// Ticket number.
        id: i64,
        /// The macro's name.
        name: String,
        /// Apply it as this agent (needed when the macro gives the ticket to "me").
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Give a ticket a new subject (later replies carry it).
    Rename {
        /// Ticket number.
        id: i64,
        /// The new subject.
        subject: String,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Mark a ticket as spam: close it, tag it `spam` and block its customer, whose
    /// later mail is kept but filed the same way. `--not` undoes it.
    Spam {
        /// Ticket number.
        id: i64,
        /// Not spam: unblock the customer, take the tag off, reopen the ticket if it was
        /// filed as spam.
        #[arg(long)]
        not: bool,
        /// Block the sender's whole domain too (not a shared mail service such as
        /// gmail.com, nor one of ours); --not lifts it.
        #[arg(long, conflicts_with = "not")]
        domain: bool,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Snooze an open ticket (out of the open views until then, or until the customer
    /// writes), or wake it.
    Snooze {
        /// Ticket number.
        id: i64,
        /// For how long: a number and s, m, h, d or w ("4h", "3d").
        #[arg(long = "for", conflicts_with_all = ["until", "wake"], required_unless_present_any = ["until", "wake"])]
        length: Option<String>,
        /// Until when (RFC 3339, e.g. 2026-12-01T09:00:00+01:00).
        #[arg(long, conflicts_with = "wake")]
        until: Option<String>,
        /// Wake it now.
        #[arg(long)]
        wake: bool,
        /// Record the change as done by this agent.
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Add an internal note (never mailed; body from --body-file or stdin).
    Note {
        /// Ticket number.
        id: i64,
        /// The agent's address.
        #[arg(long = "as")]
        agent: String,
        /// Read the note from this file instead of stdin.
        #[arg(long)]
        body_file: Option<PathBuf>,
        /// Attach a file (repeatable).
        #[arg(long)]
        attach: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ChannelsCommand {
    /// List channels and their state.
    List,
    /// Make a channel's mailbox sync now.
    Sync {
        /// Channel name.
        name: String,
    },
}

fn socket_path(cli: &Cli) -> Result<PathBuf, String> {
    if let Some(s) = &cli.socket {
        return Ok(s.clone());
    }
    let config_path = cli.config.clone().or_else(|| {
        let default = PathBuf::from(DEFAULT_CONFIG_PATH);
        default.exists().then_some(default)
    });
    match config_path {
        Some(path) => match Config::load(&path) {
            Ok(c) => Ok(c.daemon.control_socket),
            // Only an explicitly named config must load; an unreadable default falls back.
            Err(e) if cli.config.is_some() => Err(format!("config refused:\n{e}")),
            Err(_) => Ok(PathBuf::from(DEFAULT_CONTROL_SOCKET)),
        },
        None => Ok(PathBuf::from(DEFAULT_CONTROL_SOCKET)),
    }
}

/// A report as text: the overview, then a table each per agent, channel and day.
fn print_report(r: &Report) {
    let p = &r.period;
    out!(
        "{} day(s) from {} to now, days in {}. {}",
        p.days,
        p.day_label(p.since),
        p.clock.label(),
        r.time_counted()
    );
    out!(
        "opened {}, closed {}{}; open now {} (nobody's {})",
        r.opened,
        r.closed,
        if r.closed_unanswered > 0 {
            format!(
                " ({} by the desk, no answer from the customer)",
                r.closed_unanswered
            )
        } else {
            String::new()
        },
        r.open_now,
        r.unassigned_now
    );
    out!(
        "first answer: {}; {} still waiting",
        r.first_response.words(),
        r.unanswered
    );
    if let Some(on_target) = &r.on_target {
        out!("first answers on target: {}", on_target.words());
    }
    out!("time to close: {}", r.time_to_close.words());
    out!("replies rated by customers: {}", r.ratings.words());
    if r.surveys.total() > 0 {
        out!("surveys after closing: {}", r.surveys.words());
    }
    out!("");
    out!(
        "{:<32} {:>7} {:>6} {:>14} {:>6} {:>10}",
        "AGENT",
        "REPLIES",
        "FIRST",
        "FIRST MEDIAN",
        "CLOSED",
        "RATED GOOD"
    );
    for a in &r.agents {
        out!(
            "{:<32} {:>7} {:>6} {:>14} {:>6} {:>10}",
            truncate(&a.agent, 32),
            a.replies,
            a.first_response.count,
            a.first_response.median_words(),
            a.closed,
            a.rated.good_of_all()
        );
    }
    out!("");
    out!(
        "{:<20} {:>7} {:>7} {:>14} {:>9} {:>10}",
        "CHANNEL",
        "OPENED",
        "CLOSED",
        "FIRST MEDIAN",
        "ON TARGET",
        "RATED GOOD"
    );
    for c in &r.channels {
        out!(
            "{:<20} {:>7} {:>7} {:>14} {:>9} {:>10}",
            truncate(&c.channel, 20),
            c.opened,
            c.closed,
            c.first_response.median_words(),
            c.on_target.map_or("–".to_string(), |t| format!(
                "{} of {}",
                t.met,
                t.met + t.missed
            )),
            c.rated.good_of_all()
        );
    }
    for table in &r.fields {
        out!("");
        out!(
            "{:<20} {:>7} {:>7} {:>14} {:>14}",
            truncate(&table.field.to_uppercase(), 20),
            "OPENED",
            "CLOSED",
            "FIRST MEDIAN",
            "CLOSE MEDIAN"
        );
        for l in &table.lines {
            let value = if l.value.is_empty() {
                "(none)"
            } else {
                &l.value
            };
            out!(
                "{:<20} {:>7} {:>7} {:>14} {:>14}",
                truncate(value, 20),
                l.opened,
                l.closed,
                l.first_response.median_words(),
                l.time_to_close.median_words()
            );
        }
    }
    out!("");
    out!("{:<16} {:>7} {:>7}", "DAY", "OPENED", "CLOSED");
    for d in &r.days {
        out!(
            "{:<16} {:>7} {:>7}",
            p.day_label(d.start),
            d.opened,
            d.closed
        );
    }
}

fn print_json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => out!("{s}"),
        Err(e) => eprintln!("frontdeskctl: cannot print JSON: {e}"),
    }
}

fn fail(e: &ClientError) -> ExitCode {
    eprintln!("frontdeskctl: {e}");
    ExitCode::from(match e {
        ClientError::Connect { .. } => EX_UNAVAILABLE,
        ClientError::Daemon {
            kind: ErrorKind::Temporary,
            ..
        } => EX_TEMPFAIL,
        ClientError::Daemon {
            kind: ErrorKind::Forbidden,
            ..
        } => EX_NOPERM,
        _ => 1,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = &cli.command {
        // Needs no config and no daemon: packaging runs it at build time.
        use clap::CommandFactory;
        let mut script = Vec::new();
        clap_complete::generate(*shell, &mut Cli::command(), "frontdeskctl", &mut script);
        if let Err(e) = std::io::stdout().write_all(&script) {
            output_failed(e);
        }
        return ExitCode::SUCCESS;
    }
    let socket = match socket_path(&cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("frontdeskctl: {e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    if let Command::CheckConfig {
        path,
        try_mail,
        channel,
    } = &cli.command
    {
        let path = path.clone().or(cli.config.clone());
        return match try_mail {
            None => check_config(path, cli.json),
            Some(mail) => try_rules(path, mail, channel.as_deref(), cli.json),
        };
    }
    match &cli.command {
        Command::Inject { channel, file } => inject(&socket, channel, file.as_deref(), cli.json),
        Command::Import { channel, path } => import(&socket, channel, path, cli.json),
        _ => match run(&cli, &socket) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        },
    }
}

fn run(cli: &Cli, socket: &Path) -> Result<(), ClientError> {
    let mut client = Client::connect(socket)?;
    match &cli.command {
        Command::Status => {
            let s: StatusInfo = client.call_as(&Request::Status {})?;
            if cli.json {
                print_json(&s);
            } else {
                out!(
                    "frontdeskd {} (pid {}), up {}",
                    s.version,
                    s.pid,
                    human_duration(s.uptime_seconds)
                );
                out!("database:  {}", s.database);
                out!("listening: LMTP {}, HTTP {}", s.lmtp_listen, s.http_listen);
                out!(
                    "tickets:   {} open, {} in all; {} messages; {} contacts",
                    s.counts.tickets_open,
                    s.counts.tickets,
                    s.counts.messages,
                    s.counts.contacts
                );
                print_channels(&s.channels);
            }
        }
        Command::Channels(ChannelsCommand::List) => {
            let value = client.call(&Request::ChannelsList {})?;
            let channels: Vec<ChannelInfo> = serde_json::from_value(value["channels"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "channels": channels }));
            } else {
                print_channels(&channels);
            }
        }
        Command::Channels(ChannelsCommand::Sync { name }) => {
            let value = client.call(&Request::ChannelsSync { name: name.clone() })?;
            if cli.json {
                print_json(&value);
            } else {
                out!("sync of channel {name} started");
            }
        }
        Command::Report {
            days,
            zone,
            tz_minutes,
        } => {
            // Days in this host's zone unless a zone or a fixed clock is given.
            let zone = match (zone, tz_minutes) {
                (Some(zone), _) => Some(zone.clone()),
                (None, Some(_)) => None,
                (None, None) => jiff::tz::TimeZone::system().iana_name().map(str::to_string),
            };
            let value = client.call(&Request::Report {
                days: *days,
                tz_minutes: tz_minutes.unwrap_or(0),
                zone,
            })?;
            let report: Report = serde_json::from_value(value["report"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "report": report }));
            } else {
                print_report(&report);
            }
        }
        Command::Tickets(TicketsCommand::List {
            status,
            channel,
            priority,
            field,
            overdue,
            limit,
        }) => {
            let value = client.call(&Request::TicketsList {
                filter: TicketFilter {
                    status: status.clone(),
                    channel: channel.clone(),
                    limit: Some(*limit),
                    contact: None,
                    overdue: *overdue,
                    priority: priority.clone(),
                    field: field.clone(),
                },
            })?;
            let tickets: Vec<TicketSummary> = serde_json::from_value(value["tickets"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "tickets": tickets }));
            } else if tickets.is_empty() {
                out!("no tickets");
            } else {
                out!(
                    "{:>6}  {:<18} {:<10} {:>4}  {:<28} SUBJECT",
                    "ID",
                    "STATUS",
                    "CHANNEL",
                    "MSGS",
                    "CONTACT"
                );
                for t in tickets {
                    out!(
                        "{:>6}  {:<18} {:<10} {:>4}  {:<28} {}",
                        t.id,
                        t.status,
                        t.channel,
                        t.messages,
                        truncate(&t.contact.email, 28),
                        truncate(&t.subject, 60)
                    );
                }
            }
        }
        Command::Tickets(TicketsCommand::Show { id }) => {
            let t: TicketDetail = client.call_as(&Request::TicketsShow { id: *id })?;
            if cli.json {
                print_json(&t);
            } else {
                print_ticket(&t);
            }
        }
        Command::Users(UsersCommand::Add {
            email,
            name,
            first_name,
            last_name,
            admin,
            seat,
        }) => {
            let value = client.call(&Request::UsersAdd {
                email: email.clone(),
                name: name.clone(),
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                admin: *admin,
                seat: *seat,
            })?;
            print_done(&value, cli.json);
        }
        Command::Users(UsersCommand::List) => {
            let value = client.call(&Request::UsersList {})?;
            let users: Vec<UserView> = serde_json::from_value(value["users"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "users": users }));
            } else if users.is_empty() {
                out!("no users");
            } else {
                out!(
                    "{:<32} {:<28} {:<5} {:<4} {:<9} {:<6} {:<8} NOTIFY",
                    "EMAIL",
                    "NAME",
                    "ADMIN",
                    "SEAT",
                    "AVAILABLE",
                    "ACTIVE",
                    "TWO-STEP"
                );
                for u in users {
                    out!(
                        "{:<32} {:<28} {:<5} {:<4} {:<9} {:<6} {:<8} {}",
                        truncate(&u.email, 32),
                        truncate(&u.full_name, 28),
                        yes(u.admin),
                        yes(u.seat),
                        yes(u.available),
                        yes(u.active),
                        yes(u.two_step),
                        u.notify
                    );
                }
            }
        }
        Command::Tickets(TicketsCommand::Reply {
            id,
            agent,
            body_file,
            attach,
            cc,
            quote,
            close,
            forward_to,
            message,
            send_at,
        }) => {
            let body = read_body(body_file.as_deref()).map_err(ClientError::Io)?;
            let attachments = read_attachments(attach)?;
            let value = client.call(&Request::TicketsReply {
                id: *id,
                agent: agent.clone(),
                body,
                cc: cc.clone(),
                quote: *quote,
                attachments,
                close: *close,
                forward: forward_to.clone(),
                forward_message: *message,
                send_at: send_at.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Open {
            agent,
            to,
            subject,
            channel,
            body_file,
            attach,
            cc,
        }) => {
            let body = read_body(body_file.as_deref()).map_err(ClientError::Io)?;
            let attachments = read_attachments(attach)?;
            let value = client.call(&Request::TicketsOpen {
                agent: agent.clone(),
                channel: channel.clone(),
                to: to.clone(),
                subject: subject.clone(),
                body,
                cc: cc.clone(),
                attachments,
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Note {
            id,
            agent,
            body_file,
            attach,
        }) => {
            let body = read_body(body_file.as_deref()).map_err(ClientError::Io)?;
            let attachments = read_attachments(attach)?;
            let value = client.call(&Request::TicketsNote {
                id: *id,
                agent: agent.clone(),
                body,
                attachments,
            })?;
            print_done(&value, cli.json);
        }
        Command::Outbox(OutboxCommand::List { status, limit }) => {
            let value = client.call(&Request::OutboxList {
                status: status.clone(),
                limit: Some(*limit),
            })?;
            let rows: Vec<OutboxView> = serde_json::from_value(value["outbox"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "outbox": rows }));
            } else if rows.is_empty() {
                out!("outbox is empty");
            } else {
                out!(
                    "{:>6} {:>6}  {:<15} {:<10} {:>3}  {:<30} DETAIL",
                    "ID",
                    "TICKET",
                    "KIND",
                    "STATUS",
                    "TRY",
                    "TO"
                );
                for o in rows {
                    let detail = match o.status.as_str() {
                        "queued" => format!(
                            "next attempt {}{}",
                            o.next_attempt_at.as_deref().unwrap_or("?"),
                            o.last_error
                                .as_deref()
                                .map(|e| format!("; last error: {e}"))
                                .unwrap_or_default()
                        ),
                        "sent" => format!("sent {}", o.sent_at.as_deref().unwrap_or("?")),
                        _ => o.last_error.clone().unwrap_or_default(),
                    };
                    out!(
                        "{:>6} {:>6}  {:<15} {:<10} {:>3}  {:<30} {}",
                        o.id,
                        o.ticket_id,
                        o.kind,
                        o.status,
                        o.attempts,
                        truncate(&o.recipients.join(", "), 30),
                        detail
                    );
                }
            }
        }
        Command::Users(UsersCommand::Passwd { email }) => {
            let password = read_password().map_err(ClientError::Io)?;
            let value = client.call(&Request::UsersPasswd {
                email: email.clone(),
                password,
            })?;
            print_done(&value, cli.json);
        }
        Command::Users(UsersCommand::Set {
            email,
            seat,
            admin,
            available,
            name,
            first_name,
            last_name,
            notify,
            signature_file,
            two_step,
        }) => {
            // `-` reads stdin, as `tickets reply` does without --body-file.
            let signature = match signature_file.as_deref() {
                Some(path) if path == Path::new("-") => {
                    Some(read_body(None).map_err(ClientError::Io)?)
                }
                Some(path) => Some(read_body(Some(path)).map_err(ClientError::Io)?),
                None => None,
            };
            let value = client.call(&Request::UsersSet {
                email: email.clone(),
                seat: *seat,
                admin: *admin,
                available: *available,
                name: name.clone(),
                first_name: first_name.clone(),
                last_name: last_name.clone(),
                notify: notify.clone(),
                signature,
                two_step: *two_step,
            })?;
            print_done(&value, cli.json);
        }
        Command::Users(UsersCommand::Deactivate { email }) => {
            let value = client.call(&Request::UsersDeactivate {
                email: email.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Users(UsersCommand::Reactivate { email }) => {
            let value = client.call(&Request::UsersReactivate {
                email: email.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Teams(TeamsCommand::Add { name }) => {
            let value = client.call(&Request::TeamsAdd { name: name.clone() })?;
            print_done(&value, cli.json);
        }
        Command::Teams(TeamsCommand::Members { name, add, remove }) => {
            let value = client.call(&Request::TeamsMembers {
                name: name.clone(),
                add: add.clone(),
                remove: remove.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Snippets(SnippetsCommand::List) => {
            let value = client.call(&Request::SnippetsList {})?;
            let snippets: Vec<SnippetRow> = serde_json::from_value(value["snippets"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "snippets": snippets }));
            } else if snippets.is_empty() {
                out!("no snippets");
            } else {
                for s in snippets {
                    let first = s.body.lines().next().unwrap_or("");
                    out!(
                        "{:>5}  {:<24} {:<24} {}",
                        s.id.map_or("-".to_string(), |id| id.to_string()),
                        s.name,
                        s.updated_by.as_deref().unwrap_or("(configuration)"),
                        first
                    );
                }
            }
        }
        Command::Snippets(SnippetsCommand::Add { name, body_file }) => {
            let body = read_body(body_file.as_deref().filter(|p| *p != Path::new("-")))
                .map_err(ClientError::Io)?;
            let value = client.call(&Request::SnippetsSave {
                id: None,
                name: Some(name.clone()),
                body: Some(body),
            })?;
            print_done(&value, cli.json);
        }
        Command::Snippets(SnippetsCommand::Edit {
            id,
            name,
            body_file,
        }) => {
            let body = match body_file.as_deref() {
                Some(path) => Some(
                    read_body(Some(path).filter(|p| *p != Path::new("-")))
                        .map_err(ClientError::Io)?,
                ),
                None => None,
            };
            let value = client.call(&Request::SnippetsSave {
                id: Some(*id),
                name: name.clone(),
                body,
            })?;
            print_done(&value, cli.json);
        }
        Command::Snippets(SnippetsCommand::Delete { id }) => {
            let value = client.call(&Request::SnippetsDelete { id: *id })?;
            print_done(&value, cli.json);
        }
        Command::Teams(TeamsCommand::List) => {
            let value = client.call(&Request::TeamsList {})?;
            let teams: Vec<TeamView> = serde_json::from_value(value["teams"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "teams": teams }));
            } else if teams.is_empty() {
                out!("no teams");
            } else {
                for t in teams {
                    out!(
                        "{:<20} {}",
                        t.name,
                        if t.members.is_empty() {
                            "(no members)".to_string()
                        } else {
                            t.members.join(", ")
                        }
                    );
                }
            }
        }
        Command::Contacts(ContactsCommand::List {
            limit,
            search,
            owner,
        }) => {
            let value = client.call(&Request::ContactsList {
                limit: Some(*limit),
                search: search.clone(),
                owner: owner.clone(),
            })?;
            let customers: Vec<CustomerRow> = serde_json::from_value(value["customers"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&serde_json::json!({ "customers": customers }));
            } else {
                out!(
                    "{:<36} {:<24} {:>5} {:>7} {:<24} LAST ACTIVITY",
                    "EMAIL",
                    "NAME",
                    "OPEN",
                    "TICKETS",
                    "OWNER"
                );
                for c in customers {
                    out!(
                        "{:<36} {:<24} {:>5} {:>7} {:<24} {}",
                        truncate(&c.email, 36),
                        truncate(c.name.as_deref().unwrap_or(""), 24),
                        c.open,
                        c.tickets,
                        truncate(c.owner.as_deref().unwrap_or("-"), 24),
                        c.last_activity
                            .map_or_else(|| "-".to_string(), frontdesk::model::rfc3339)
                    );
                }
            }
        }
        Command::Contacts(ContactsCommand::Import {
            file,
            dry_run,
            actor,
        }) => {
            let stdin = file.as_os_str() == "-";
            let bytes = if stdin {
                let mut b = Vec::new();
                std::io::stdin().read_to_end(&mut b).map(|_| b)
            } else {
                std::fs::read(file)
            }
            .map_err(ClientError::Io)?;
            let rows = frontdesk::desk::contact_import::parse(&bytes).map_err(|problems| {
                let said: Vec<String> = problems.iter().map(ToString::to_string).collect();
                ClientError::Daemon {
                    kind: ErrorKind::Rejected,
                    message: format!("{} imports nothing:\n{}", file.display(), said.join("\n")),
                }
            })?;
            let value = client.call(&Request::ContactsImport {
                rows,
                dry_run: *dry_run,
                actor: actor.clone(),
            })?;
            let counts: frontdesk::desk::contact_import::ImportCounts =
                serde_json::from_value(value["imported"].clone())
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&value);
            } else {
                out!(
                    "{}{} added, {} changed, {} as they were",
                    if *dry_run { "would be: " } else { "" },
                    counts.added,
                    counts.changed,
                    counts.unchanged
                );
            }
        }
        Command::Contacts(ContactsCommand::Erase { email, yes }) => {
            let value = client.call(&Request::ContactsErase {
                email: email.clone(),
                dry_run: !*yes,
            })?;
            let erased: frontdesk::store::Erasure = serde_json::from_value(value["erased"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&value);
            } else {
                out!(
                    "{} {}: {}, {} on them ({}), {} of their messages on other tickets{}",
                    if *yes { "erased" } else { "would erase" },
                    erased.email,
                    counted(erased.tickets, "ticket"),
                    counted(erased.messages, "message"),
                    counted(erased.attachments, "file"),
                    erased.elsewhere,
                    if erased.unsent > 0 {
                        format!("; {} unsent replies will not go", erased.unsent)
                    } else {
                        String::new()
                    }
                );
            }
            if !*yes {
                return Err(ClientError::Daemon {
                    kind: ErrorKind::Rejected,
                    message: "nothing erased: add --yes to erase them for good".into(),
                });
            }
        }
        Command::Contacts(ContactsCommand::Erased { limit }) => {
            let value = client.call(&Request::ContactsErased { limit: *limit })?;
            let erasures: Vec<frontdesk::store::ErasureRecord> =
                serde_json::from_value(value["erasures"].clone())
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&value);
            } else if erasures.is_empty() {
                out!("no customer was erased");
            } else {
                for e in erasures {
                    out!("{} {}: {}", frontdesk::model::rfc3339(e.at), e.by, e.what);
                }
            }
        }
        Command::Contacts(ContactsCommand::Show { email }) => {
            let value = client.call(&Request::ContactsShow {
                email: email.clone(),
            })?;
            let mut contacts: Vec<ContactView> = serde_json::from_value(value["contacts"].clone())
                .map_err(|e| ClientError::Protocol(e.to_string()))?;
            let Some(c) = contacts.pop() else {
                return Err(ClientError::Protocol("empty answer".into()));
            };
            if cli.json {
                print_json(&c);
            } else {
                out!(
                    "{}{}",
                    c.email,
                    c.name
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                );
                out!("  owner: {}", c.owner.as_deref().unwrap_or("(none)"));
                if !c.note.is_empty() {
                    out!("  note: {}", c.note.replace('\n', "\n        "));
                }
                out!("  tickets: {}", c.tickets.len());
                for t in c.tickets {
                    out!(
                        "    #{:<6} {:<18} {:<10} {}",
                        t.id,
                        t.status,
                        t.owner.as_deref().unwrap_or("-"),
                        truncate(&t.subject, 50)
                    );
                }
            }
        }
        Command::Contacts(ContactsCommand::SetOwner { email, agent, none }) => {
            let owner = if *none { None } else { agent.clone() };
            let value = client.call(&Request::ContactsSetOwner {
                email: email.clone(),
                owner,
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Assign {
            id,
            agent,
            team,
            none,
            actor,
        }) => {
            let (agent, team) = if *none {
                (None, None)
            } else {
                (agent.clone(), team.clone())
            };
            let value = client.call(&Request::TicketsAssign {
                id: *id,
                agent,
                team,
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Pipeline {
            id,
            pipeline,
            stage,
            actor,
        }) => {
            let value = client.call(&Request::TicketsPipeline {
                id: *id,
                pipeline: pipeline.clone(),
                stage: stage.clone(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Merge { id, into, actor }) => {
            let value = client.call(&Request::TicketsMerge {
                id: *id,
                into: *into,
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Follow { id, agent, stop }) => {
            let value = client.call(&Request::TicketsFollow {
                id: *id,
                agent: agent.clone(),
                on: !*stop,
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Delete { id, yes }) => {
            let value = client.call(&Request::TicketsDelete {
                id: *id,
                dry_run: !*yes,
            })?;
            let deleted: frontdesk::store::TicketDeletion =
                serde_json::from_value(value["deleted"].clone())
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
            if cli.json {
                print_json(&value);
            } else {
                out!(
                    "{} ticket #{} {:?}: {} ({}){}",
                    if *yes { "deleted" } else { "would delete" },
                    deleted.ticket,
                    deleted.subject,
                    counted(deleted.messages, "message"),
                    counted(deleted.attachments, "file"),
                    if deleted.unsent > 0 {
                        format!("; {} unsent replies will not go", deleted.unsent)
                    } else {
                        String::new()
                    }
                );
            }
            if !*yes {
                return Err(ClientError::Daemon {
                    kind: ErrorKind::Rejected,
                    message: "nothing deleted: add --yes to delete it for good".into(),
                });
            }
        }
        Command::Tickets(TicketsCommand::DeleteNote { id, message }) => {
            let value = client.call(&Request::TicketsDeleteNote {
                id: *id,
                message: *message,
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Split { id, message, actor }) => {
            let value = client.call(&Request::TicketsSplit {
                id: *id,
                message: *message,
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Tag {
            id,
            add,
            remove,
            actor,
        }) => {
            let value = client.call(&Request::TicketsTag {
                id: *id,
                add: add.clone(),
                remove: remove.clone(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Status { id, stage, actor }) => {
            let value = client.call(&Request::TicketsStatus {
                id: *id,
                stage: stage.clone(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Priority {
            id,
            priority,
            actor,
        }) => {
            let value = client.call(&Request::TicketsPriority {
                id: *id,
                priority: priority.clone(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Field {
            id,
            name,
            value,
            actor,
        }) => {
            let value = client.call(&Request::TicketsField {
                id: *id,
                name: name.clone(),
                value: value.clone().unwrap_or_default(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Macro { id, name, actor }) => {
            let value = client.call(&Request::TicketsMacro {
                id: *id,
                name: name.clone(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Rename { id, subject, actor }) => {
            let value = client.call(&Request::TicketsRename {
                id: *id,
                subject: subject.clone(),
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Spam {
            id,
            not,
            domain,
            actor,
        }) => {
            let value = client.call(&Request::TicketsSpam {
                id: *id,
                spam: !*not,
                domain: *domain,
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Tickets(TicketsCommand::Snooze {
            id,
            length,
            until,
            wake,
            actor,
        }) => {
            let value = client.call(&Request::TicketsSnooze {
                id: *id,
                length: length.clone(),
                until: until.clone(),
                wake: *wake,
                actor: actor.clone(),
            })?;
            print_done(&value, cli.json);
        }
        Command::Outbox(OutboxCommand::Retry { id }) => {
            let value = client.call(&Request::OutboxRetry { id: *id })?;
            print_done(&value, cli.json);
        }
        Command::Outbox(OutboxCommand::Cancel { id }) => {
            let value = client.call(&Request::OutboxCancel { id: *id })?;
            print_done(&value, cli.json);
        }
        Command::Backup { path } => {
            let absolute = if path.is_absolute() {
                path.clone()
            } else {
                std::env::current_dir().map_err(ClientError::Io)?.join(path)
            };
            let value = client.call(&Request::Backup {
                path: absolute.display().to_string(),
            })?;
            print_done(&value, cli.json);
        }
        Command::CheckConfig { .. } => {}
        Command::Reload => {
            let value = client.call(&Request::Reload {})?;
            let changes: Vec<String> =
                serde_json::from_value(value["changes"].clone()).unwrap_or_default();
            if cli.json {
                print_json(&value);
            } else {
                out!("config reloaded: {}", changes.join("; "));
            }
        }
        Command::Inject { .. } | Command::Import { .. } | Command::Completions { .. } => {}
    }
    Ok(())
}

fn inject(socket: &Path, channel: &str, file: Option<&Path>, json: bool) -> ExitCode {
    let mut raw = Vec::new();
    let read = match file {
        Some(path) => std::fs::read(path).map(|bytes| raw = bytes),
        None => std::io::stdin().read_to_end(&mut raw).map(|_| ()),
    };
    if let Err(e) = read {
        eprintln!("frontdeskctl: cannot read the message: {e}");
        return ExitCode::from(EX_TEMPFAIL);
    }
    let request = Request::Inject {
        channel: channel.to_string(),
        raw_base64: base64::engine::general_purpose::STANDARD.encode(&raw),
        historical: false,
    };
    let result = Client::connect(socket).and_then(|mut c| c.call_as::<InjectResult>(&request));
    match result {
        Ok(r) => {
            if json {
                print_json(&r);
            } else if r.duplicate {
                out!("already stored in ticket #{}", r.ticket_id);
            } else {
                out!(
                    "stored in ticket #{} ({})",
                    r.ticket_id,
                    if r.new_ticket {
                        "new ticket"
                    } else {
                        r.reason.as_str()
                    }
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("frontdeskctl: {e}");
            // The MTA keeps the mail for anything that is not the message's own fault.
            ExitCode::from(match &e {
                ClientError::Daemon {
                    kind: ErrorKind::Rejected,
                    ..
                } => EX_DATAERR,
                ClientError::Daemon {
                    kind: ErrorKind::NotFound,
                    ..
                } => EX_NOUSER,
                ClientError::Daemon {
                    kind: ErrorKind::BadRequest,
                    ..
                } => EX_USAGE,
                ClientError::Daemon {
                    kind: ErrorKind::Forbidden,
                    ..
                } => EX_NOPERM,
                _ => EX_TEMPFAIL,
            })
        }
    }
}

fn import(socket: &Path, channel: &str, path: &Path, json: bool) -> ExitCode {
    let messages = match read_mailbox(path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("frontdeskctl: {e}");
            return ExitCode::from(EX_DATAERR);
        }
    };
    let mut client = match Client::connect(socket) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let total = messages.len();
    let tty = std::io::stderr().is_terminal() && !json;
    let (mut stored, mut duplicates, mut rejected) = (0usize, 0usize, 0usize);
    let mut new_tickets = 0usize;
    for (i, m) in messages.into_iter().enumerate() {
        let request = Request::Inject {
            channel: channel.to_string(),
            raw_base64: base64::engine::general_purpose::STANDARD.encode(&m.raw),
            historical: true,
        };
        match client.call_as::<InjectResult>(&request) {
            Ok(r) if r.duplicate => duplicates += 1,
            Ok(r) => {
                stored += 1;
                new_tickets += usize::from(r.new_ticket);
            }
            Err(ClientError::Daemon {
                kind: ErrorKind::Rejected,
                message,
            }) => {
                rejected += 1;
                eprintln!(
                    "{}{}: skipped: {message}",
                    if tty { "\r\x1b[K" } else { "" },
                    m.origin
                );
            }
            Err(e) => {
                eprintln!(
                    "{}frontdeskctl: import stopped at {} ({} of {total}): {e}",
                    if tty { "\n" } else { "" },
                    m.origin,
                    i + 1
                );
                eprintln!(
                    "rerun the same command to continue: messages already stored are skipped"
                );
                return ExitCode::from(EX_TEMPFAIL);
            }
        }
        if tty && (i % 25 == 0 || i + 1 == total) {
            eprint!(
                "\r\x1b[Kimporting: {}/{total} ({stored} stored, {duplicates} already there)",
                i + 1
            );
            let _ = std::io::stderr().flush();
        }
    }
    if tty {
        eprintln!();
    }
    if json {
        print_json(&serde_json::json!({
            "messages": total, "stored": stored, "duplicates": duplicates,
            "rejected": rejected, "new_tickets": new_tickets
        }));
    } else {
        out!("imported {total} message(s): {stored} stored in {new_tickets} new ticket(s), {duplicates} already there, {rejected} skipped");
    }
    if rejected > 0 {
        ExitCode::from(EX_DATAERR)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_channels(channels: &[ChannelInfo]) {
    if channels.is_empty() {
        out!("no channels configured");
        return;
    }
    out!(
        "{:<14} {:<6} {:<12} {:<32} {:>8} {:>6}  LAST MESSAGE",
        "CHANNEL",
        "KIND",
        "STATE",
        "ADDRESS",
        "MESSAGES",
        "DUPS"
    );
    for c in channels {
        out!(
            "{:<14} {:<6} {:<12} {:<32} {:>8} {:>6}  {}",
            c.name,
            c.kind,
            c.state,
            truncate(&c.address, 32),
            c.stats.messages,
            c.stats.duplicates,
            c.stats.last_message_at.as_deref().unwrap_or("never")
        );
        for f in &c.imap {
            let mut line = format!(
                "  imap {:<12} {:<12} imported {}, backlog {}",
                f.folder,
                f.state.as_str(),
                f.imported,
                f.backlog
            );
            if let Some((done, total)) = f.history {
                line.push_str(&format!(", history {done}/{total}"));
            }
            match f.last_success {
                Some(t) => line.push_str(&format!(", last sync {}", frontdesk::model::rfc3339(t))),
                None => line.push_str(", not synced yet"),
            }
            if f.idle_supported == Some(false) {
                line.push_str(", polling (no IDLE)");
            }
            out!("{line}");
            if let Some(e) = &f.last_error {
                let when = f
                    .last_error_at
                    .map(frontdesk::model::rfc3339)
                    .unwrap_or_default();
                out!("    last error {when}: {e}");
            }
            if let Some(t) = f.retry_at {
                out!("    next retry {}", frontdesk::model::rfc3339(t));
            }
        }
    }
}

fn print_ticket(t: &TicketDetail) {
    out!("Ticket #{}: {}", t.id, t.subject);
    if let Some(into) = t.merged_into {
        out!("  merged into ticket #{into}");
    }
    out!(
        "  status:   {} (pipeline {}), priority {}",
        t.status,
        t.pipeline,
        t.priority
    );
    if !t.tags.is_empty() {
        out!("  tags:     {}", t.tags.join(", "));
    }
    for (name, value) in &t.fields {
        out!("  {name}: {value}");
    }
    if !t.needed_to_close.is_empty() {
        out!("  to close: fill in {}", t.needed_to_close.join(", "));
    }
    out!("  channel:  {}", t.channel);
    match &t.contact.name {
        Some(name) => out!("  contact:  {name} <{}>", t.contact.email),
        None => out!("  contact:  {}", t.contact.email),
    }
    out!(
        "  owner:    {}",
        t.owner.as_deref().unwrap_or("(unassigned)")
    );
    out!("  created:  {}   updated: {}", t.created_at, t.updated_at);
    if let Some(until) = &t.snoozed_until {
        out!("  snoozed:  until {until}");
    }
    if t.participants.len() > 1 {
        out!("  people:");
        for p in &t.participants {
            out!("    {:<12} {}", p.role, p.email);
        }
    }
    out!();
    for m in &t.messages {
        let mut marks = Vec::new();
        if let Some(kind) = &m.auto_kind {
            marks.push(kind.clone());
        }
        if let Some(f) = &m.forwarded_by {
            marks.push(format!("forwarded by {f}"));
        }
        if m.attachments > 0 {
            marks.push(format!("{} attachment(s)", m.attachments));
        }
        out!(
            "--- message {} · {} · {} · from {} · threaded by {}{}",
            m.id,
            m.direction,
            m.created_at,
            m.from.as_deref().unwrap_or("?"),
            m.thread_reason,
            if marks.is_empty() {
                String::new()
            } else {
                format!(" · {}", marks.join(", "))
            }
        );
        out!("Subject: {}", m.subject);
        let body: String = m.text.lines().take(20).collect::<Vec<_>>().join("\n");
        out!("{}\n", body.trim_end());
    }
    if !t.events.is_empty() {
        out!("events:");
        for e in &t.events {
            out!(
                "  {}  {:<18} {:<24} {}",
                e.at,
                e.kind,
                truncate(&e.actor, 24),
                e.detail
            );
        }
    }
}

/// `check-config`: validate a file without a daemon.
fn check_config(path: Option<PathBuf>, json: bool) -> ExitCode {
    let path = path.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    match Config::load(&path) {
        Ok(c) => {
            if json {
                print_json(
                    &serde_json::json!({ "ok": true, "path": path, "channels": c.channels.len() }),
                );
            } else {
                let rules = match c.rules.len() {
                    0 => String::new(),
                    n => format!(", {n} rule(s)"),
                };
                out!(
                    "{}: OK ({} channel(s){rules})",
                    path.display(),
                    c.channels.len()
                );
                if c.channels
                    .iter()
                    .any(|ch| !ch.routing.users.is_empty() || !ch.routing.teams.is_empty())
                {
                    out!("note: routing users and teams are checked against the database when the daemon loads the file");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if json {
                print_json(
                    &serde_json::json!({ "ok": false, "path": path, "error": e.to_string() }),
                );
            } else {
                eprintln!("{e}");
            }
            ExitCode::from(EX_CONFIG)
        }
    }
}

/// `check-config --try-mail`: what the config's rules give a new ticket opened by the
/// mail in `mail_path`, on `channel` or the channel it is addressed to.
fn try_rules(
    path: Option<PathBuf>,
    mail_path: &Path,
    channel: Option<&str>,
    json: bool,
) -> ExitCode {
    let path = path.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EX_CONFIG);
        }
    };
    let raw = match std::fs::read(mail_path) {
        Ok(raw) => raw,
        Err(e) => {
            eprintln!("frontdeskctl: cannot read {}: {e}", mail_path.display());
            return ExitCode::from(EX_NOINPUT);
        }
    };
    let mail = match frontdesk::ingest::parse::parse(&raw) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("frontdeskctl: {} is not a mail: {e}", mail_path.display());
            return ExitCode::from(EX_DATAERR);
        }
    };
    let addressed = |c: &&frontdesk::config::Channel| {
        mail.to.iter().chain(&mail.cc).any(|m| {
            let to = frontdesk::config::strip_subaddress(&m.email);
            to == c.address || c.aliases.contains(&to)
        })
    };
    let picked = match channel {
        Some(name) => config.channel(name),
        None => config
            .channels
            .iter()
            .find(addressed)
            .or(config.channels.first()),
    };
    let Some(ch) = picked else {
        eprintln!(
            "frontdeskctl: no channel named {:?} in {}",
            channel.unwrap_or(""),
            path.display()
        );
        return ExitCode::from(EX_USAGE);
    };
    let from = mail
        .from
        .as_ref()
        .map(|m| m.email.clone())
        .unwrap_or_default();
    let desk = frontdesk::ingest::DeskRules::for_mail(
        ch,
        &config.pipelines,
        &config.rules,
        &frontdesk::desk::rules::Mail {
            channel: &ch.name,
            from: &from,
            to: &frontdesk::ingest::written_to(&mail),
            subject: &mail.subject,
            text: &mail.text_body,
        },
    );
    let owner = match (&desk.team, desk.routing.users.as_slice()) {
        (None, [agent]) if desk.routing.mode != frontdesk::desk::routing::RoutingMode::Nobody => {
            Some(agent.clone())
        }
        _ => None,
    };
    let acknowledged = desk.acknowledge && ch.acknowledgement.is_some();
    if json {
        print_json(&serde_json::json!({
            "channel": ch.name,
            "from": from,
            "subject": mail.subject,
            "applied": desk.applied,
            "priority": desk.defaults.priority.as_str(),
            "tags": desk.defaults.tags,
            "team": desk.team,
            "owner": owner,
            "status": desk.defaults.status,
            "acknowledged": acknowledged,
            "fields": desk.fields.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            "later": {
                "applied": desk.later.applied,
                "priority": desk.later.priority.map(|p| p.as_str()),
                "tags": desk.later.tags,
            },
        }));
        return ExitCode::SUCCESS;
    }
    out!("channel {} · from {from} · {:?}", ch.name, mail.subject);
    if desk.applied.is_empty() {
        out!("no rule matches: the channel's own priority, tags and routing");
    }
    for applied in &desk.applied {
        out!("{applied}");
    }
    out!(
        "new ticket: status {}, priority {}, tags {}{}{}",
        desk.defaults.status,
        desk.defaults.priority.as_str(),
        if desk.defaults.tags.is_empty() {
            "none".to_string()
        } else {
            desk.defaults.tags.join(", ")
        },
        match (&desk.team, &owner) {
            (Some(team), _) => format!(", team {team} (routed to one of its members)"),
            (None, Some(agent)) => format!(", owner {agent}"),
            _ => String::new(),
        },
        if acknowledged { ", acknowledged" } else { "" }
    );
    for (name, value) in &desk.fields {
        out!("  {name}: {value}");
    }
    if !desk.later.applied.is_empty() {
        out!(
            "as later mail on a ticket: {}",
            desk.later
                .applied
                .iter()
                .map(|a| a.split_once(": ").map_or(a.as_str(), |(_, did)| did))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    ExitCode::SUCCESS
}

fn print_done(value: &serde_json::Value, json: bool) {
    if json {
        print_json(value);
    } else {
        out!("{}", value["done"].as_str().unwrap_or("done"));
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// A new password: asked twice on a terminal without echo, else one line from stdin.
fn read_password() -> std::io::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let second = rpassword::prompt_password("Again: ")?;
        if first != second {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the passwords differ",
            ));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

/// The body of a reply or note: a file, or standard input.
/// The files at `paths`, as the control protocol carries them (base64).
fn read_attachments(paths: &[PathBuf]) -> Result<Vec<AttachmentData>, ClientError> {
    let mut attachments = Vec::new();
    for path in paths {
        let data = std::fs::read(path).map_err(|e| {
            ClientError::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            ))
        })?;
        attachments.push(AttachmentData {
            filename: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "attachment".into()),
            content_type: guess_content_type(path).to_string(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(&data),
        });
    }
    Ok(attachments)
}

fn read_body(file: Option<&Path>) -> std::io::Result<String> {
    let bytes = match file {
        Some(path) => std::fs::read(path)?,
        None => {
            let mut b = Vec::new();
            std::io::stdin().read_to_end(&mut b)?;
            b
        }
    };
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the body is not UTF-8 text",
        )
    })
}

/// A content type from a file name's extension.
fn guess_content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("txt" | "log") => "text/plain",
        Some("csv") => "text/csv",
        Some("html" | "htm") => "text/html",
        Some("zip") => "application/zip",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}
