//! Plain values the store returns to queries; serialized as-is by the control socket.

use serde::{Deserialize, Serialize};

/// A contact as shown beside a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRef {
    /// Address.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
}

/// One row of `tickets list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    /// Ticket number.
    pub id: i64,
    /// Pipeline.
    #[serde(default)]
    pub pipeline: String,
    /// `low`, `medium`, `high`, `urgent`.
    #[serde(default)]
    pub priority: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Team, when assigned to one.
    #[serde(default)]
    pub team: Option<String>,
    /// Subject.
    pub subject: String,
    /// Status (pipeline stage).
    pub status: String,
    /// Channel name.
    pub channel: String,
    /// The customer.
    pub contact: ContactRef,
    /// Assigned agent.
    pub owner: Option<String>,
    /// Number of messages.
    pub messages: i64,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// One message in `tickets show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Row id.
    pub id: i64,
    /// RFC 3339 time an internal note was last corrected, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// RFC 3339 time an internal note was deleted, if it was (its text is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<String>,
    /// `inbound`, `outbound` or `note`.
    pub direction: String,
    /// Message-ID header.
    pub message_id: Option<String>,
    /// Sender address.
    pub from: Option<String>,
    /// Sender's display name, when the mail gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// Subject.
    pub subject: String,
    /// True for automatic mail and bounces.
    pub auto: bool,
    /// `bounce`, `auto-reply`, `report`, `bulk`, or none.
    pub auto_kind: Option<String>,
    /// Why it was filed here (`reply-token`, `verified-tag`, `headers`, `subject-tag`, `new`).
    pub thread_reason: String,
    /// Forwarder, when filed under the original sender.
    pub forwarded_by: Option<String>,
    /// How the message entered (`lmtp`, `pipe`, `import`).
    pub source: String,
    /// Number of attachments.
    pub attachments: i64,
    /// Plain-text body.
    pub text: String,
    /// Submitted form fields an agent may see (hidden ones are never read out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<crate::model::VisibleField>,
    /// RFC 3339.
    pub created_at: String,
    /// HTML body as received, unsanitized: for the web page, which cleans it; never sent
    /// over the control socket.
    #[serde(skip)]
    pub html: Option<String>,
    /// For mail we sent: its outbox entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// For a reply: the customer's rating of it and their words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<(crate::desk::ratings::Rating, String)>,
}

/// What became of a message we sent (its outbox entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its outbox entry (cancel or retry it).
    #[serde(default)]
    pub outbox: i64,
    /// `reply`, `acknowledgement` or `forward`.
    pub kind: String,
    /// `queued`, `sent`, `failed` or `cancelled`.
    pub status: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// What the agent typed, once the mail was cancelled (to edit it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// While queued: Unix seconds of its next attempt (the end of the undo window, or
    /// the retry after a temporary failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<i64>,
    /// A cancelled forward: the ticket's mail it was sending (to forward it again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<i64>,
}

/// A person on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantView {
    /// Address.
    pub email: String,
    /// Name.
    pub name: Option<String>,
    /// `customer`, `participant` or `forwarder`.
    pub role: String,
    /// Offered in a reply's Cc box (false once an agent took them out of it).
    #[serde(default = "yes")]
    pub copied: bool,
}

fn yes() -> bool {
    true
}

/// One entry of a ticket's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    /// What happened.
    pub kind: String,
    /// Who did it.
    pub actor: String,
    /// In words.
    pub detail: String,
    /// RFC 3339.
    pub at: String,
}

/// `tickets show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketDetail {
    /// Ticket number.
    pub id: i64,
    /// Pipeline.
    #[serde(default)]
    pub pipeline: String,
    /// `low`, `medium`, `high`, `urgent`.
    #[serde(default)]
    pub priority: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its fields (`[[ticket_field]]`) that have a value, by name.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// The fields its pipeline wants before an agent closes it that it lacks (the
    /// config's, so filled in by whoever holds it: `frontdeskctl tickets show`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed_to_close: Vec<String>,
    /// Team, when assigned to one.
    #[serde(default)]
    pub team: Option<String>,
    /// Subject.
    pub subject: String,
    /// Status.
    pub status: String,
    /// Channel.
    pub channel: String,
    /// The customer.
    pub contact: ContactRef,
    /// Assigned agent.
    pub owner: Option<String>,
    /// Set when this ticket was merged into another.
    pub merged_into: Option<i64>,
    /// RFC 3339 end of the ticket's snooze, while it is snoozed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Messages, oldest first.
    pub messages: Vec<MessageView>,
    /// Older messages left out of `messages` (a long thread's page shows its newest).
    #[serde(default)]
    pub earlier: u64,
    /// People on the ticket.
    pub participants: Vec<ParticipantView>,
    /// Agents following it (addresses).
    #[serde(default)]
    pub followers: Vec<String>,
    /// Event log, oldest first.
    pub events: Vec<EventView>,
    /// Older events were left out of `events` (with the older messages).
    #[serde(default)]
    pub earlier_events: bool,
    /// Unix seconds the customer has waited since for an answer (their oldest mail
    /// after the desk's last answer), while they wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_since: Option<i64>,
    /// The ticket was answered before (its next answer has the `next_answer` target).
    #[serde(default)]
    pub answered: bool,
}

/// Counts for `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCounts {
    /// Tickets not merged and not closed.
    pub tickets_open: i64,
    /// All tickets not merged.
    pub tickets: i64,
    /// Stored messages.
    pub messages: i64,
    /// Contacts.
    pub contacts: i64,
}

/// Per-channel ingest figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelStats {
    /// Channel name.
    pub channel: String,
    /// Messages stored.
    pub messages: i64,
    /// Re-deliveries ignored.
    pub duplicates: i64,
    /// RFC 3339 of the last stored message.
    pub last_message_at: Option<String>,
}

/// Filter for `tickets list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketFilter {
    /// Only this status (case-insensitive).
    pub status: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Most rows.
    pub limit: Option<u32>,
    /// Only tickets of this contact (address).
    #[serde(default)]
    pub contact: Option<String>,
    /// Only open tickets whose customer's answer is overdue (`[sla]`), whatever the
    /// other filters say.
    #[serde(default)]
    pub overdue: bool,
    /// Only this priority (`low`, `medium`, `high`, `urgent`).
    #[serde(default)]
    pub priority: Option<String>,
    /// Only tickets whose field (name, letter case aside) has this value.
    #[serde(default)]
    pub field: Option<(String, String)>,
}

/// An agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Login address.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Administrator.
    pub admin: bool,
    /// Has a seat.
    pub seat: bool,
    /// Available for new tickets.
    pub available: bool,
    /// Not deactivated.
    pub active: bool,
    /// Which mail about tickets they get (`assigned,mention`, or `none`).
    #[serde(default)]
    pub notify: String,
    /// Their own signature lines (`{{agent.signature}}` in a channel's signature).
    #[serde(default)]
    pub signature: String,
    /// Signs in with a code from an authenticator app too.
    #[serde(default)]
    pub two_step: bool,
}

/// What composing a reply needs to know about a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyContext {
    /// The live ticket.
    pub ticket_id: i64,
    /// Subject.
    pub subject: String,
    /// Channel.
    pub channel: String,
    /// The customer.
    pub contact: ContactRef,
    /// Message-IDs of the thread, oldest first.
    pub thread_ids: Vec<String>,
    /// Whether any mail reached or left the ticket (one cancelled before it went does
    /// not count): without any, an agent's reply is the ticket's first mail.
    pub has_mail: bool,
    /// The mail a reply quotes or a forward sends (the latest inbound one unless another
    /// was asked for): (Message-ID, from, RFC 2822 date, text).
    pub source: Option<(Option<String>, String, String, String)>,
    /// That message's row (a forward takes its files along).
    pub source_row: Option<i64>,
}

/// An outbox entry due for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Entry id.
    pub id: i64,
    /// The ticket it was sent from (open pages are told how it went).
    pub ticket_id: i64,
    /// Channel.
    pub channel: String,
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// The bytes.
    pub raw: Vec<u8>,
    /// Attempts so far.
    pub attempts: i64,
}

/// An outbox entry as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxView {
    /// Entry id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Channel.
    pub channel: String,
    /// `reply` or `acknowledgement`.
    pub kind: String,
    /// Recipients.
    pub recipients: Vec<String>,
    /// `queued`, `sent`, `failed`, `cancelled`.
    pub status: String,
    /// Attempts.
    pub attempts: i64,
    /// Last error.
    pub last_error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, while queued.
    pub next_attempt_at: Option<String>,
    /// RFC 3339, once sent.
    pub sent_at: Option<String>,
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    /// Name.
    pub name: String,
    /// Member addresses.
    pub members: Vec<String>,
}

/// What the ticket page's contact panel shows: the owner and the contact's other
/// tickets, newest activity first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPanel {
    /// The customer's number (their page, `/customers/<id>`).
    pub id: i64,
    /// Owning agent.
    pub owner: Option<String>,
    /// What agents noted about them.
    pub note: ContactNote,
    /// Their other tickets (merged ones left out), at most the panel's limit.
    pub others: Vec<OtherTicket>,
    /// They have more tickets than the panel lists.
    pub more: bool,
    /// An agent marked their mail as spam: later mail is filed away.
    pub blocked: bool,
    /// Their whole domain is blocked as spam (this domain).
    pub blocked_domain: Option<String>,
    /// The latest tickets of others who write from their company's domain, when asked.
    pub colleagues: Vec<ColleagueTicket>,
    /// Their colleagues have more tickets than the panel lists.
    pub colleagues_more: bool,
}

/// A note agents keep about a customer, shown beside each of their tickets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactNote {
    /// The note (lines separated by `\n`); empty when there is none.
    pub text: String,
    /// The agent who wrote it last.
    pub by: Option<String>,
    /// When (unix seconds).
    pub at: Option<i64>,
}

/// A ticket of a customer's colleague (another contact of the same domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColleagueTicket {
    /// The ticket.
    pub ticket: OtherTicket,
    /// The colleague's address.
    pub email: String,
}

/// One line of the contact panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherTicket {
    /// Ticket number.
    pub id: i64,
    /// Subject.
    pub subject: String,
    /// Status (pipeline stage).
    pub status: String,
}

/// A contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactView {
    /// Address.
    pub email: String,
    /// Name.
    pub name: Option<String>,
    /// Owning agent.
    pub owner: Option<String>,
    /// What agents noted about them (empty: nothing).
    #[serde(default)]
    pub note: String,
    /// Tickets where they are the customer.
    pub tickets: Vec<TicketSummary>,
}
