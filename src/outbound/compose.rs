//! Building replies and acknowledgements: From name, subject, threading headers,
//! signature, quoted history, MIME (pure; the clock and ids are passed in).

use crate::desk::subject::{without_prefixes, FORWARD_PREFIXES, REPLY_PREFIXES};
use mail_send::mail_builder::headers::raw::Raw;
use mail_send::mail_builder::MessageBuilder;

use super::template::{html_escape, Escape, Template};
use crate::ingest::thread::{reply_address, subject_tag};
use crate::model::TicketId;

/// The agent a reply is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    /// Login address.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Their own signature lines.
    pub signature: String,
}

/// How a channel names itself in From.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FromNameMode {
    /// "Jane Doe at Acme" (see `from_name_format`).
    AgentAndCompany,
    /// "Acme".
    Company,
}

/// A channel's outgoing identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Team address (From).
    pub address: String,
    /// Company name.
    pub company: String,
    /// From name mode.
    pub from_name: FromNameMode,
    /// Format for `agent_and_company`: `{agent}`, `{first_name}`, `{company}`.
    pub from_name_format: String,
    /// Signature appended to replies.
    pub signature: Option<Template>,
    /// Put `[#N-mac]` in subjects.
    pub subject_tag: bool,
    /// Ask the customer to rate replies, on this desk address (`[http] public_url`).
    pub ratings_url: Option<String>,
}

/// An earlier message quoted under the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quoted {
    /// Who wrote it.
    pub from: String,
    /// When, already formatted.
    pub date: String,
    /// Its text.
    pub text: String,
}

/// A file attached to a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingAttachment {
    /// File name.
    pub filename: String,
    /// `type/subtype`.
    pub content_type: String,
    /// Bytes.
    pub data: Vec<u8>,
}

/// What an agent's mail is to the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writing {
    /// An answer on the thread: "Re:" subject, history quoted when asked.
    Reply,
    /// A mail of the thread passed on: "Fwd:" subject, and the quote is passed on whole
    /// as a forwarded message.
    Forward,
    /// The first mail of a ticket the agent opens: the subject as typed.
    First,
}

impl Writing {
    /// What an agent's mail from a ticket's reply box is: a forward when it goes to
    /// someone else, else a reply, unless the ticket has no mail yet (an agent's first
    /// mail cancelled before it went), when it is still the first.
    pub fn from_ticket(forward: bool, ticket_has_mail: bool) -> Writing {
        match (forward, ticket_has_mail) {
            (true, _) => Writing::Forward,
            (false, true) => Writing::Reply,
            (false, false) => Writing::First,
        }
    }
}

/// Everything a reply is made of.
#[derive(Debug, Clone)]
pub struct ReplyInput<'a> {
    /// Ticket number.
    pub ticket: TicketId,
    /// The ticket's subject.
    pub ticket_subject: &'a str,
    /// Recipients.
    pub to: &'a [String],
    /// Copies.
    pub cc: &'a [String],
    /// The agent.
    pub agent: &'a Agent,
    /// The channel identity.
    pub identity: &'a Identity,
    /// Server secret (reply token, subject tag).
    pub secret: &'a [u8],
    /// What the agent wrote.
    pub body: &'a str,
    /// History to quote, if any.
    pub quote: Option<&'a Quoted>,
    /// Reply, forward or a new ticket's first mail.
    pub writing: Writing,
    /// Message-IDs of the ticket's thread, oldest first.
    pub thread_ids: &'a [String],
    /// The message being answered.
    pub in_reply_to: Option<&'a str>,
    /// Attachments.
    pub attachments: &'a [OutgoingAttachment],
    /// Our new Message-ID (without brackets).
    pub message_id: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// A built message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// Message-ID without brackets.
    pub message_id: String,
    /// Subject.
    pub subject: String,
    /// From display name.
    pub from_name: String,
    /// Envelope recipients.
    pub recipients: Vec<String>,
    /// The text part as sent.
    pub text: String,
    /// The text part as the thread shows it and search finds it: without the rating
    /// links (an agent clicking them would rate their own reply, and every reply would
    /// be found by "good").
    pub shown: String,
    /// RFC 5322 bytes.
    pub raw: Vec<u8>,
}

/// The From display name for an agent on a channel.
pub fn from_name(identity: &Identity, agent: Option<&Agent>) -> String {
    match (identity.from_name, agent) {
        (FromNameMode::AgentAndCompany, Some(agent)) => identity
            .from_name_format
            .replace("{agent}", &agent.full_name)
            .replace("{first_name}", &agent.first_name)
            .replace("{company}", &identity.company)
            .trim()
            .to_string(),
        _ => identity.company.clone(),
    }
}

/// `Re: <subject> [#N-mac]`, without piling up `Re:` or tags.
pub fn reply_subject(ticket_subject: &str, tag: Option<&str>) -> String {
    prefixed_subject("Re:", REPLY_PREFIXES, ticket_subject, tag)
}

/// The subject of a forward: `Fwd: <subject>` and the tag, like [`reply_subject`].
pub fn forward_subject(ticket_subject: &str, tag: Option<&str>) -> String {
    prefixed_subject("Fwd:", FORWARD_PREFIXES, ticket_subject, tag)
}

/// The longest subject an agent may give a ticket they open, in characters.
pub const MAX_SUBJECT: usize = 200;

/// The subject an agent typed for a ticket they open, checked: one line (breaks become
/// spaces), trimmed, 1 to [`MAX_SUBJECT`] characters. Refused in words.
pub fn first_subject_input(typed: &str) -> Result<String, String> {
    let line: String = typed
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.chars().count() {
        0 => Err("give it a subject".into()),
        n if n > MAX_SUBJECT => Err(format!(
            "the subject is {n} characters long; at most {MAX_SUBJECT}"
        )),
        _ => Ok(line),
    }
}

/// A new ticket's subject as the agent typed it, then the tag.
pub fn first_subject(ticket_subject: &str, tag: Option<&str>) -> String {
    let mut subject = ticket_subject.trim().to_string();
    if let Some(tag) = tag {
        if !subject.contains(tag) {
            subject.push(' ');
            subject.push_str(tag);
        }
    }
    subject
}

/// `prefix` and the subject without the prefixes in `strip`, then `tag`.
fn prefixed_subject(
    prefix: &str,
    strip: &[&str],
    ticket_subject: &str,
    tag: Option<&str>,
) -> String {
    let base = without_prefixes(ticket_subject, strip);
    let mut subject = format!("{prefix} {base}");
    if let Some(tag) = tag {
        if !subject.contains(tag) {
            subject.push(' ');
            subject.push_str(tag);
        }
    }
    subject
}

/// References: the first id (the thread's root) and the last nine, as mail clients do
/// to keep the header short.
pub fn references(thread_ids: &[String], in_reply_to: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = thread_ids.to_vec();
    if let Some(parent) = in_reply_to {
        if !ids.iter().any(|i| i == parent) {
            ids.push(parent.to_string());
        }
    }
    if ids.len() > 10 {
        let mut short = vec![ids[0].clone()];
        short.extend_from_slice(&ids[ids.len() - 9..]);
        ids = short;
    }
    ids
}

fn agent_value(agent: &Agent, company: &str, token: &str) -> String {
    match token {
        "agent.full_name" => agent.full_name.clone(),
        "agent.first_name" => agent.first_name.clone(),
        "agent.last_name" => agent.last_name.clone(),
        "agent.signature" => agent.signature.clone(),
        "company" => company.to_string(),
        _ => String::new(),
    }
}

/// The stored original of an internal note with files: a MIME message of its text and
/// files (never sent), so its files are kept and read back as a mail's are.
pub fn note_original(
    author: &str,
    text: &str,
    files: &[OutgoingAttachment],
    now: i64,
) -> Result<Vec<u8>, std::io::Error> {
    let mut builder = MessageBuilder::new()
        .from(author.to_string())
        .subject("(note)")
        .date(now)
        .text_body(text.to_string());
    for f in files {
        builder = builder.attachment(f.content_type.clone(), f.filename.clone(), f.data.clone());
    }
    builder.write_to_vec()
}

/// Longest signature an agent may keep, in characters.
pub const MAX_AGENT_SIGNATURE: usize = 1000;
/// Most lines of an agent's signature.
pub const MAX_AGENT_SIGNATURE_LINES: usize = 10;

/// An agent's own signature lines as stored: line breaks made `\n`, trailing blanks
/// trimmed; refused (in words) when longer than [`MAX_AGENT_SIGNATURE`] characters or
/// [`MAX_AGENT_SIGNATURE_LINES`] lines.
pub fn agent_signature(text: &str) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let clean = lines.join("\n").trim_end().to_string();
    if clean.chars().count() > MAX_AGENT_SIGNATURE {
        return Err(format!(
            "a signature holds at most {MAX_AGENT_SIGNATURE} characters"
        ));
    }
    if clean.lines().count() > MAX_AGENT_SIGNATURE_LINES {
        return Err(format!(
            "a signature holds at most {MAX_AGENT_SIGNATURE_LINES} lines"
        ));
    }
    Ok(clean)
}

/// The channel's signature for `agent`, if it has one.
pub fn render_signature(identity: &Identity, agent: &Agent, escape: Escape) -> Option<String> {
    identity
        .signature
        .as_ref()
        .map(|s| s.render(|t| agent_value(agent, &identity.company, t), escape))
}

/// A message passed on whole, under the header block mail programs use.
fn forwarded_text(q: &Quoted, subject: &str) -> String {
    format!(
        "---------- Forwarded message ----------\nFrom: {}\nDate: {}\nSubject: {}\n\n{}\n",
        q.from,
        q.date,
        subject,
        q.text.trim_end()
    )
}

fn quote_text(q: &Quoted) -> String {
    let mut out = format!("On {}, {} wrote:\n", q.date, q.from);
    for line in q.text.lines() {
        out.push('>');
        if !line.is_empty() && !line.starts_with('>') {
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Build a reply.
pub fn compose_reply(input: &ReplyInput<'_>) -> Result<Composed, std::io::Error> {
    let identity = input.identity;
    let name = from_name(identity, Some(input.agent));
    let tag = identity
        .subject_tag
        .then(|| subject_tag(input.secret, input.ticket));
    let subject = match input.writing {
        Writing::Forward => forward_subject(input.ticket_subject, tag.as_deref()),
        Writing::Reply => reply_subject(input.ticket_subject, tag.as_deref()),
        Writing::First => first_subject(input.ticket_subject, tag.as_deref()),
    };
    let signature_text = render_signature(identity, input.agent, Escape::None);
    let signature_html = render_signature(identity, input.agent, Escape::Html);

    let mut text = input.body.trim_end().to_string();
    text.push('\n');
    let mut html = format!(
        "<div>{}</div>\n",
        html_escape(input.body.trim_end()).replace('\n', "<br>\n")
    );
    if let (Some(t), Some(h)) = (&signature_text, &signature_html) {
        if !t.trim().is_empty() {
            text.push('\n');
            text.push_str(t.trim_end());
            text.push('\n');
            html.push_str(&format!(
                "<div class=\"signature\">{}</div>\n",
                h.trim_end()
            ));
        }
    }
    // Under the signature, above any quoted history: the customer's links to rate this
    // reply (never in a forward, which goes to someone else). The thread shows the
    // reply without them.
    let mut shown = text.clone();
    if let (Some(url), false) = (&identity.ratings_url, input.writing == Writing::Forward) {
        let mac = crate::desk::ratings::reply_mac(input.secret, input.message_id);
        let page = crate::desk::ratings::page_url(url, input.ticket, &mac);
        text.push('\n');
        let question = crate::desk::ratings::REPLY_QUESTION;
        text.push_str(&crate::desk::ratings::footer_text(question, &page));
        html.push_str(&crate::desk::ratings::footer_html(question, &page));
    }
    if let (Some(q), Writing::Forward) = (input.quote, input.writing) {
        let forwarded = forwarded_text(q, input.ticket_subject);
        text.push('\n');
        text.push_str(&forwarded);
        shown.push('\n');
        shown.push_str(&forwarded);
        html.push_str(&format!(
            "<div class=\"forwarded\">{}</div>\n",
            html_escape(forwarded.trim_end()).replace('\n', "<br>\n")
        ));
    } else if let Some(q) = input.quote {
        let quoted = quote_text(q);
        text.push('\n');
        text.push_str(&quoted);
        shown.push('\n');
        shown.push_str(&quoted);
        html.push_str(&format!(
            "<p>On {}, {} wrote:</p>\n<blockquote type=\"cite\">{}</blockquote>\n",
            html_escape(&q.date),
            html_escape(&q.from),
            html_escape(q.text.trim_end()).replace('\n', "<br>\n")
        ));
    }
    let html = format!("<!DOCTYPE html>\n<html><body>\n{html}</body></html>\n");
    let reply_to = reply_address(&identity.address, input.secret, input.ticket);
    let refs = references(input.thread_ids, input.in_reply_to);

    let mut builder = MessageBuilder::new()
        .from((name.clone(), identity.address.clone()))
        .reply_to(reply_to)
        .to(input.to.to_vec())
        .subject(subject.clone())
        .message_id(input.message_id.to_string())
        .date(input.now)
        .header("X-Frontdesk-Ticket", Raw::new(input.ticket.to_string()))
        .text_body(text.clone())
        .html_body(html);
    if !input.cc.is_empty() {
        builder = builder.cc(input.cc.to_vec());
    }
    if let Some(parent) = input.in_reply_to {
        builder = builder.in_reply_to(parent.to_string());
    }
    if !refs.is_empty() {
        builder = builder.references(refs);
    }
    for a in input.attachments {
        builder = builder.attachment(a.content_type.clone(), a.filename.clone(), a.data.clone());
    }
    let raw = builder.write_to_vec()?;
    Ok(Composed {
        message_id: input.message_id.to_string(),
        subject,
        from_name: name,
        recipients: input.to.iter().chain(input.cc.iter()).cloned().collect(),
        text,
        shown,
        raw,
    })
}

/// Values for an acknowledgement template.
#[derive(Debug, Clone)]
pub struct AckInput<'a> {
    /// Ticket number.
    pub ticket: TicketId,
    /// Ticket subject.
    pub ticket_subject: &'a str,
    /// The customer.
    pub contact_email: &'a str,
    /// The customer's name, if known.
    pub contact_name: Option<&'a str>,
    /// Channel identity.
    pub identity: &'a Identity,
    /// Subject template.
    pub subject: &'a Template,
    /// Body template.
    pub body: &'a Template,
    /// Secret.
    pub secret: &'a [u8],
    /// The customer's message we acknowledge.
    pub in_reply_to: Option<&'a str>,
    /// Our Message-ID.
    pub message_id: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// Tokens an acknowledgement may use.
pub const ACK_TOKENS: &[&str] = &[
    "contact.name",
    "contact.email",
    "ticket.id",
    "ticket.subject",
    "company",
];
/// Tokens a signature may use.
pub const SIGNATURE_TOKENS: &[&str] = &[
    "agent.full_name",
    "agent.first_name",
    "agent.last_name",
    "agent.signature",
    "company",
];
/// Tokens a snippet may use.
pub const SNIPPET_TOKENS: &[&str] = &[
    "agent.full_name",
    "agent.first_name",
    "agent.last_name",
    "agent.signature",
    "company",
    "contact.name",
    "contact.first_name",
    "contact.email",
    "ticket.id",
    "ticket.subject",
];

/// The longest snippet name, in characters.
pub const MAX_SNIPPET_NAME: usize = 80;
/// The longest snippet text, in characters.
pub const MAX_SNIPPET_TEXT: usize = 10_000;

/// A snippet as an agent typed it, checked: the name trimmed, one line, at most
/// [`MAX_SNIPPET_NAME`] characters and not the name of one of the configuration's
/// (`configured`); the text with `\n` line breaks, at most [`MAX_SNIPPET_TEXT`]
/// characters, a template of [`SNIPPET_TOKENS`]. Refused in words.
pub fn snippet_input(
    name: &str,
    text: &str,
    configured: &[&str],
) -> Result<(String, String), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the snippet needs a name".into());
    }
    if name.contains(['\r', '\n']) || name.chars().count() > MAX_SNIPPET_NAME {
        return Err(format!(
            "a snippet's name is one line of at most {MAX_SNIPPET_NAME} characters"
        ));
    }
    if configured.iter().any(|c| c.eq_ignore_ascii_case(name)) {
        return Err(format!(
            "the configuration has a snippet named {name:?}; choose another name"
        ));
    }
    let text = text.replace("\r\n", "\n");
    if text.trim().is_empty() {
        return Err("the snippet has no text".into());
    }
    if text.chars().count() > MAX_SNIPPET_TEXT {
        return Err(format!(
            "a snippet holds at most {MAX_SNIPPET_TEXT} characters"
        ));
    }
    Template::parse(&text, SNIPPET_TOKENS).map_err(|e| e.to_string())?;
    Ok((name.to_string(), text))
}

/// The ticket a snippet is filled in for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetContext<'a> {
    /// The agent replying.
    pub agent: &'a Agent,
    /// The company name.
    pub company: &'a str,
    /// The customer's display name, if known.
    pub contact_name: Option<&'a str>,
    /// The customer's address.
    pub contact_email: &'a str,
    /// Ticket number.
    pub ticket_id: i64,
    /// Ticket subject.
    pub ticket_subject: &'a str,
}

/// A snippet filled in for a ticket (plain text: replies are written as text). A
/// contact without a name is greeted by nothing rather than by their address:
/// "Hi {{contact.first_name}}," becomes "Hi ,", which the agent sees before sending.
pub fn render_snippet(snippet: &Template, c: &SnippetContext<'_>) -> String {
    snippet.render(
        |token| match token {
            "contact.name" => c.contact_name.unwrap_or("").to_string(),
            "contact.first_name" => c
                .contact_name
                .and_then(|n| n.split_whitespace().next())
                .unwrap_or("")
                .to_string(),
            "contact.email" => c.contact_email.to_string(),
            "ticket.id" => c.ticket_id.to_string(),
            "ticket.subject" => c.ticket_subject.to_string(),
            other => agent_value(c.agent, c.company, other),
        },
        Escape::None,
    )
}

/// Build an acknowledgement ("we got your message"): marked `Auto-Submitted:
/// auto-replied` (RFC 3834) so well-behaved auto-responders do not answer it.
pub fn compose_ack(input: &AckInput<'_>) -> Result<Composed, std::io::Error> {
    compose_automatic(input, "auto-replied", None)
}

/// Build the survey after closing: the channel's words, then the three rating links,
/// tied to this mail's Message-ID, to the desk at `public_url`. Marked `Auto-Submitted:
/// auto-generated` (it answers no message of theirs); the thread shows it without the
/// links.
pub fn compose_survey(input: &AckInput<'_>, public_url: &str) -> Result<Composed, std::io::Error> {
    let mac = crate::desk::ratings::reply_mac(input.secret, input.message_id);
    let page = crate::desk::ratings::page_url(public_url, input.ticket, &mac);
    let links = crate::desk::ratings::footer_text(crate::desk::ratings::SURVEY_QUESTION, &page);
    compose_automatic(input, "auto-generated", Some(&links))
}

/// The reminder that a ticket left waiting on the customer is about to close: from the
/// channel's templates, marked automatic (an auto-responder does not answer it, and an
/// answer from one would not count as the customer's).
pub fn compose_reminder(input: &AckInput<'_>) -> Result<Composed, std::io::Error> {
    compose_automatic(input, "auto-generated", None)
}

/// An automatic mail from a channel's templates, with `links` under the text as sent.
fn compose_automatic(
    input: &AckInput<'_>,
    auto_submitted: &'static str,
    links: Option<&str>,
) -> Result<Composed, std::io::Error> {
    let identity = input.identity;
    let value = |t: &str| match t {
        "contact.name" => input.contact_name.unwrap_or("").to_string(),
        "contact.email" => input.contact_email.to_string(),
        "ticket.id" => input.ticket.to_string(),
        "ticket.subject" => input.ticket_subject.to_string(),
        "company" => identity.company.clone(),
        _ => String::new(),
    };
    let mut subject = input
        .subject
        .render(value, Escape::None)
        .replace(['\r', '\n'], " ");
    if identity.subject_tag {
        subject.push(' ');
        subject.push_str(&subject_tag(input.secret, input.ticket));
    }
    let shown = input.body.render(value, Escape::None);
    let text = match links {
        Some(links) => format!("{}\n\n{links}", shown.trim_end()),
        None => shown.clone(),
    };
    let name = from_name(identity, None);
    let mut builder = MessageBuilder::new()
        .from((name.clone(), identity.address.clone()))
        .reply_to(reply_address(&identity.address, input.secret, input.ticket))
        .to(input.contact_email.to_string())
        .subject(subject.clone())
        .message_id(input.message_id.to_string())
        .date(input.now)
        .header("Auto-Submitted", Raw::new(auto_submitted))
        .header("X-Auto-Response-Suppress", Raw::new("All"))
        .header("X-Frontdesk-Ticket", Raw::new(input.ticket.to_string()))
        .text_body(text.clone());
    if let Some(parent) = input.in_reply_to {
        builder = builder
            .in_reply_to(parent.to_string())
            .references(parent.to_string());
    }
    let raw = builder.write_to_vec()?;
    Ok(Composed {
        message_id: input.message_id.to_string(),
        subject,
        from_name: name,
        recipients: vec![input.contact_email.to_string()],
        shown,
        text,
        raw,
    })
}

#[cfg(test)]
mod tests;
