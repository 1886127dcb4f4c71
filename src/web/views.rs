//! Pages as strings (pure): every value from outside goes through [`esc`].

use std::collections::HashMap;
use std::fmt::Write;

pub mod agents;
pub mod customers;
pub mod erase;
pub mod rating;
pub mod reports;
pub mod sessions;
pub mod two_step;

use crate::desk::lifecycle::Priority;
use crate::desk::mentions::{handle, Mentionable};
use crate::desk::notify::{Prefs, Reason};
use crate::desk::sla::{self, Sla, Standing};
use crate::outbound::template::{html_escape as esc, Escaped};
use crate::store::{
    AttachmentView, InboxRow, InboxView, MessageView, SearchHit, SessionView, TicketDetail,
    UserView,
};

/// A line above a form: what happened (`Ok`) or why it was refused (`Err`).
pub type Flash<'a> = Result<&'a str, &'a str>;

/// What the last form did, said on top of a page: done, or refused and why.
fn flash_line(out: &mut String, flash: Option<Flash<'_>>) {
    match flash {
        Some(Ok(said)) => {
            let _ = write!(out, r#"<p class="flash" role="status">{}</p>"#, esc(said));
        }
        Some(Err(said)) => {
            let _ = write!(
                out,
                r#"<p class="flash error" role="alert">{}</p>"#,
                esc(said)
            );
        }
        None => {}
    }
}

/// The agent's own account page: who they are and a form to change their password.
pub fn account(
    session: &SessionView,
    flash: Option<Flash<'_>>,
    settings: &AccountSettings,
) -> String {
    let mut out = String::from("<h1>Your account</h1>");
    flash_line(&mut out, flash);
    let _ = write!(
        out,
        r#"<p>{} · {}</p><h2>Change your password</h2><form class="password" method="post" action="/me/password"><input type="hidden" name="csrf" value="{}"><label>Current password <input type="password" name="current" autocomplete="current-password" required></label><label>New password <input type="password" name="new" autocomplete="new-password" minlength="{min}" maxlength="{max}" required></label><label>New password again <input type="password" name="repeat" autocomplete="new-password" minlength="{min}" maxlength="{max}" required></label><button type="submit">Change password</button></form><p class="hint">At least {min} characters. Changing it signs you out everywhere else.</p>"#,
        esc(&session.name),
        esc(&session.email),
        esc(&session.csrf),
        min = crate::auth::MIN_PASSWORD,
        max = crate::auth::MAX_PASSWORD,
    );
    two_step::section(&mut out, &settings.two_step, &session.email, &session.csrf);
    sessions::section(&mut out, &settings.sessions, &session.csrf);
    notification_form(&mut out, session, settings);
    signature_form(&mut out, session, settings);
    out
}

/// The agent's own signature lines.
fn signature_form(out: &mut String, session: &SessionView, settings: &AccountSettings) {
    let _ = write!(
        out,
        r#"<h2>Your signature</h2><form class="signature" method="post" action="/me/signature"><input type="hidden" name="csrf" value="{}"><label for="my-signature">Lines under your replies (your title, a direct line)</label><textarea id="my-signature" name="signature" rows="4" maxlength="{}">{}</textarea><button type="submit">Save signature</button></form>"#,
        esc(&session.csrf),
        crate::outbound::compose::MAX_AGENT_SIGNATURE,
        esc(&settings.signature),
    );
    out.push_str(if settings.signature_shown {
        r#"<p class="hint">They go where the channel's signature says <code>{{agent.signature}}</code>; the reply box previews them.</p>"#
    } else {
        r#"<p class="hint">No channel's signature shows them yet: your administrator adds <code>{{agent.signature}}</code> to a channel's <code>signature</code> in the configuration.</p>"#
    });
}

/// What the account page shows besides the password: notification mail and the
/// agent's own signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    /// What the agent chose.
    pub prefs: Prefs,
    /// Whether this desk sends notifications at all (`[notifications]`).
    pub enabled: bool,
    /// Their signature lines.
    pub signature: String,
    /// Whether some channel's signature has a place for them.
    pub signature_shown: bool,
    /// Their two-step sign-in.
    pub two_step: two_step::TwoStep,
    /// Where they are signed in.
    pub sessions: Vec<crate::store::SessionRow>,
}

/// The "Mail me when" boxes.
fn notification_form(out: &mut String, session: &SessionView, mail: &AccountSettings) {
    let _ = write!(
        out,
        r#"<h2>Notifications</h2><form class="notify" method="post" action="/me/notifications"><input type="hidden" name="csrf" value="{}"><fieldset><legend>Tell me when</legend>"#,
        esc(&session.csrf),
    );
    for reason in Reason::ALL {
        let _ = write!(
            out,
            r#"<label><input type="checkbox" name="notify" value="{}"{}> {}</label>"#,
            reason.as_str(),
            if mail.prefs.wants(reason) {
                " checked"
            } else {
                ""
            },
            esc(reason.label()),
        );
    }
    out.push_str(r#"</fieldset><button type="submit">Save</button></form>"#);
    if mail.enabled {
        let _ = write!(
            out,
            r#"<p class="hint">By mail to {}, except for what you do yourself and for a ticket you open before the mail is due.</p>"#,
            esc(&session.email)
        );
    } else {
        out.push_str(r#"<p class="hint">This desk sends no such mail yet: your administrator turns it on with <code>[notifications]</code> in its configuration. What you choose here is kept for then, and chooses what this screen shows now.</p>"#);
    }
    // app.js fills this in: only the browser knows whether it may show them.
    out.push_str(r#"<h3>On this computer's screen</h3><p class="hint" id="desktop-state">While the desk is open in a tab, this browser can show them too; that needs JavaScript.</p><button type="button" id="desktop-on" hidden>Show them on this screen</button>"#);
}

/// "Follow" (or "Unfollow") and who follows the ticket, by name.
fn follow_form(out: &mut String, t: &TicketDetail, agents: &[UserView], me: &str, csrf: &str) {
    let following = t.followers.iter().any(|f| f == me);
    let _ = write!(
        out,
        r#"<form class="follow" method="post" action="/tickets/{}/follow">{csrf}<input type="hidden" name="on" value="{}"><button type="submit" id="follow-ticket" title="{}">{}</button></form>"#,
        t.id,
        if following { "0" } else { "1" },
        if following {
            "Stop hearing of this ticket"
        } else {
            "Hear of its mail, replies and notes, and find it under Following"
        },
        if following { "Unfollow" } else { "Follow" },
    );
    let _ = write!(
        out,
        r#"<form class="unread" method="post" action="/tickets/{}/unread">{csrf}<button type="submit" id="mark-unread" title="Keep its last message new in your inbox (u)">Mark unread</button></form>"#,
        t.id,
    );
    if !t.followers.is_empty() {
        let names: Vec<String> = t
            .followers
            .iter()
            .map(|f| {
                agents
                    .iter()
                    .find(|a| &a.email == f)
                    .map_or_else(|| f.clone(), |a| a.full_name.clone())
            })
            .collect();
        let _ = write!(
            out,
            r#"<p class="followers">Followed by {}</p>"#,
            esc(&names.join(", "))
        );
    }
}

/// What the snippets page shows.
pub struct SnippetsPage<'a> {
    /// The configuration's snippets (names only: they are edited in the file).
    pub configured: Vec<&'a str>,
    /// The ones agents wrote.
    pub stored: &'a [crate::store::StoredSnippet],
    /// What was said about the last save, if anything.
    pub flash: Option<Flash<'a>>,
    /// A refused new snippet, put back in its form: (name, text).
    pub draft: Option<(&'a str, &'a str)>,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

/// The snippets page: a form for a new one, then every snippet, the agents' own with
/// their edit form and "Delete".
pub fn snippets(p: &SnippetsPage<'_>) -> String {
    let csrf = hidden_csrf(p.csrf);
    let mut out = String::from("<h1>Snippets</h1>");
    flash_line(&mut out, p.flash);
    let tokens: Vec<String> = crate::outbound::compose::SNIPPET_TOKENS
        .iter()
        .map(|t| format!("<code>{{{{{t}}}}}</code>"))
        .collect();
    let _ = write!(
        out,
        r#"<p class="hint">The reply box's menu puts a snippet into the reply, filled in for the ticket: {}. <code>{{{{contact.first_name | there}}}}</code> gives the words to use when a value is empty.</p>"#,
        tokens.join(", ")
    );
    let (name, body) = p.draft.unwrap_or(("", ""));
    let _ = write!(
        out,
        r#"<h2>New snippet</h2><form class="snippet" method="post" action="/snippets">{csrf}<label>Name <input name="name" id="snippet-name" required maxlength="{max_name}" value="{}"></label><label for="snippet-body">Text</label><textarea id="snippet-body" name="body" rows="5" required>{}</textarea><button type="submit">Add snippet</button></form>"#,
        esc(name),
        esc(body),
        max_name = crate::outbound::compose::MAX_SNIPPET_NAME,
    );
    out.push_str(r#"<h2>The desk's snippets</h2><ul class="snippet-list">"#);
    for name in &p.configured {
        let _ = write!(
            out,
            r#"<li><strong>{}</strong> <span class="hint">from the configuration</span></li>"#,
            esc(name)
        );
    }
    for s in p.stored {
        let _ = write!(
            out,
            r#"<li id="snippet-{id}"><details><summary>{name}</summary><form class="snippet" method="post" action="/snippets/{id}">{csrf}<label>Name <input name="name" required maxlength="{max_name}" value="{name}"></label><textarea name="body" rows="5" required aria-label="Text">{body}</textarea><button type="submit">Save snippet</button></form></details> <span class="hint">by {by}</span> <form class="delete-snippet" method="post" action="/snippets/{id}/delete" data-confirm="Delete the snippet {name}?">{csrf}<button type="submit">Delete</button></form></li>"#,
            id = s.id,
            name = esc(&s.name),
            body = esc(&s.body),
            by = esc(&s.updated_by),
            max_name = crate::outbound::compose::MAX_SNIPPET_NAME,
        );
    }
    if p.configured.is_empty() && p.stored.is_empty() {
        out.push_str(r#"<li class="hint">None yet.</li>"#);
    }
    out.push_str("</ul>");
    out
}

/// A channel a new ticket can go out on, as its first mail will look.
pub struct OpeningChannel<'a> {
    /// Its name (the form's value).
    pub name: &'a str,
    /// The From line: name and address.
    pub from: String,
    /// The signature the mail ends with, rendered for the agent (may be empty).
    pub signature: String,
}

/// What the agent typed in the new-ticket form (put back when it is refused).
#[derive(Debug, Default, Clone, Copy)]
pub struct OpeningTyped<'a> {
    /// Channel name.
    pub channel: &'a str,
    /// To.
    pub to: &'a str,
    /// Cc.
    pub cc: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// Body.
    pub body: &'a str,
}

/// The form that opens a ticket by writing to a customer first.
pub struct OpeningPage<'a> {
    /// Channels to send from (at least one).
    pub channels: &'a [OpeningChannel<'a>],
    /// What was typed before, if the form comes back.
    pub typed: OpeningTyped<'a>,
    /// Why it came back, if it did.
    pub error: Option<&'a str>,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

/// The new-ticket page: from which channel, to whom, subject, text and files, with a
/// preview of the mail as the customer gets it.
pub fn new_ticket(p: &OpeningPage<'_>) -> String {
    let mut out = String::from("<h1>New ticket</h1>");
    out.push_str(r#"<p class="hint">Write to a customer first: the ticket is yours, and their answer comes back to it.</p>"#);
    flash_line(&mut out, p.error.map(Err));
    let chosen = p
        .channels
        .iter()
        .find(|c| c.name == p.typed.channel)
        .or(p.channels.first())
        .map_or("", |c| c.name);
    let _ = write!(
        out,
        r#"<form class="reply new-ticket" method="post" action="/tickets/new" enctype="multipart/form-data">{csrf}<label>From <select id="new-channel" name="channel">"#,
        csrf = hidden_csrf(p.csrf)
    );
    for c in p.channels {
        let _ = write!(
            out,
            r#"<option value="{name}"{sel}>{from}</option>"#,
            name = esc(c.name),
            sel = if c.name == chosen { " selected" } else { "" },
            from = esc(&c.from),
        );
    }
    let _ = write!(
        out,
        r#"</select></label><label>To <input type="text" id="new-to" name="to" required autocomplete="off" placeholder="Name &lt;address&gt; or the address" value="{to}"></label><label class="cc">Cc <input type="text" id="reply-cc" name="cc" value="{cc}" autocomplete="off" placeholder="addresses, separated by commas"></label><label>Subject <input type="text" id="new-subject" name="subject" required maxlength="{max}" value="{subject}"></label><label for="reply-body">Message</label><textarea id="reply-body" name="body" rows="10">{body}</textarea><label>Attach files <input type="file" id="reply-files" name="attachment" multiple></label><div class="reply-preview" aria-label="What the customer will see">"#,
        to = esc(p.typed.to),
        cc = esc(p.typed.cc),
        subject = esc(p.typed.subject),
        body = esc(p.typed.body),
        max = crate::outbound::compose::MAX_SUBJECT,
    );
    for c in p.channels {
        let _ = write!(
            out,
            r#"<div class="channel-preview" data-channel="{name}"{hidden}><p class="from-preview">From: {from}</p></div>"#,
            name = esc(c.name),
            hidden = if c.name == chosen { "" } else { " hidden" },
            from = esc(&c.from),
        );
    }
    let _ = write!(
        out,
        r#"<p>To: <span id="to-preview">{to}</span></p><p id="cc-line"{cc_hidden}>Cc: <span id="cc-preview">{cc}</span></p><p>Subject: <span id="subject-preview">{subject}</span></p><pre class="body-preview" id="body-preview">{body}</pre>"#,
        to = esc(p.typed.to),
        cc = esc(p.typed.cc),
        cc_hidden = if p.typed.cc.trim().is_empty() {
            " hidden"
        } else {
            ""
        },
        subject = esc(p.typed.subject),
        body = esc(p.typed.body),
    );
    for c in p.channels {
        let _ = write!(
            out,
            r#"<pre class="signature-preview channel-preview" data-channel="{name}"{hidden}>{sig}</pre>"#,
            name = esc(c.name),
            hidden = if c.name == chosen { "" } else { " hidden" },
            sig = esc(&c.signature),
        );
    }
    out.push_str(r#"<ul class="files-preview" id="files-preview"></ul></div><button type="submit">Send and open the ticket</button></form>"#);
    out
}

/// The frame around every signed-in page.
pub fn layout(title: &str, session: &SessionView, main: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · frontdesk</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body data-csrf="{csrf}">
<header><a class="brand" href="/inbox">frontdesk</a>
<form class="search" action="/search" method="get"><input type="search" id="search-box" name="q" placeholder="Search tickets (/)" accesskey="s" aria-label="Search"></form>
<button type="button" id="shortcuts-toggle" aria-controls="shortcuts" title="Keyboard shortcuts (?)">?</button>
<a class="new-ticket-link" href="/tickets/new" title="Write to a customer first (c)">New ticket</a>
<a class="customers-link" href="/customers" title="Everyone who writes to the desk">Customers</a>
<a class="snippets-link" href="/snippets" title="Canned text for replies">Snippets</a>
<a class="reports-link" href="/reports" title="How many tickets, how fast answered">Reports</a>
{agents}<a class="me" href="/me" title="Your account">{name} · {avail}</a>
<form method="post" action="/me/availability"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="available" value="{toggle}"><button type="submit">{toggle_label}</button></form>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">Sign out</button></form>
</header>
<p id="connection" class="connection" role="status" hidden></p>
<main id="main">{main}</main>
<p id="announce" class="sr-only" aria-live="polite"></p>
<aside id="shortcuts" class="shortcuts" hidden aria-label="Keyboard shortcuts"><h2>Keyboard</h2><dl>
<dt>j / k</dt><dd>next / previous ticket (or customer) in a list</dd><dt>o or Enter</dt><dd>open it</dd><dt>x</dt><dd>select it for a bulk change</dd>
<dt>/</dt><dd>search</dd><dt>i</dt><dd>inbox</dd><dt>c</dt><dd>new ticket: write to a customer</dd><dt>r</dt><dd>reply (on a ticket)</dd>
<dt>n</dt><dd>internal note (on a ticket)</dd><dt>t</dt><dd>assign the ticket to me</dd><dt>m</dt><dd>pick a macro (on a ticket, or for the selected tickets)</dd><dt>u</dt><dd>mark the ticket unread and go back to the inbox</dd><dt>Ctrl+Enter</dt><dd>send the reply or note being written</dd><dt>Esc</dt><dd>leave the text box; close this</dd><dt>?</dt><dd>show or hide this</dd>
</dl></aside>
</body></html>"#,
        title = esc(title),
        csrf = esc(&session.csrf),
        name = esc(&session.name),
        avail = if session.available {
            "available"
        } else {
            "away"
        },
        agents = if session.admin {
            r#"<a class="agents-link" href="/agents" title="Add and change agents">Agents</a>
"#
        } else {
            ""
        },
        toggle = if session.available { "off" } else { "on" },
        toggle_label = if session.available {
            "Set away"
        } else {
            "Set available"
        },
    )
}

/// The sign-in page.
pub fn login(error: Option<&str>, email: &str, next: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    // Where the agent was going: the page they asked for before being sent here.
    let next = next
        .map(|n| format!(r#"<input type="hidden" name="next" value="{}">"#, esc(n)))
        .unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · frontdesk</title><link rel="stylesheet" href="/static/app.css"></head>
<body class="login"><main><h1>frontdesk</h1>{error}
<form method="post" action="/login">{next}
<label>Email <input type="email" name="email" value="{email}" required autofocus autocomplete="username"></label>
<label>Password <input type="password" name="password" required autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>
<p class="hint">Forgot your password? An administrator of the desk sets you a new one.</p></main></body></html>"#,
        email = esc(email)
    )
}

fn view_label(v: InboxView) -> &'static str {
    match v {
        InboxView::Unassigned => "Unassigned",
        InboxView::Mine => "Mine",
        InboxView::Mentions => "Mentions",
        InboxView::Following => "Following",
        InboxView::Teams => "My teams",
        InboxView::Open => "All open",
        InboxView::Overdue => "Overdue",
        InboxView::Snoozed => "Snoozed",
        InboxView::Closed => "Closed",
        InboxView::All => "All",
    }
}

/// Age in words from seconds.
pub fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s < 60 => "now".into(),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The domain of an address, lower case ("" without one).
fn domain_of(email: &str) -> String {
    email.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase()
}

/// "Others at example.com": the latest tickets of the customer's colleagues, with a
/// search for all their company's mail when there are more.
fn colleagues(out: &mut String, p: &TicketPage<'_>) {
    let Some(first) = p.contact.colleagues.first() else {
        return;
    };
    let domain = domain_of(&first.email);
    let _ = write!(
        out,
        r#"<h3>Others at {}</h3><ul class="colleagues">"#,
        esc(&domain)
    );
    for c in &p.contact.colleagues {
        let _ = write!(
            out,
            r#"<li><a href="/tickets/{}">#{} {}</a> ({}) · {}</li>"#,
            c.ticket.id,
            c.ticket.id,
            esc(&c.ticket.subject),
            esc(&c.ticket.status),
            esc(&c.email)
        );
    }
    out.push_str("</ul>");
    if p.contact.colleagues_more {
        let _ = write!(
            out,
            r#"<p class="more">These are the latest. <a href="/search?q={}">All mail from {}</a></p>"#,
            esc(&crate::model::percent_encode(&format!("from:{domain}"))),
            esc(&domain)
        );
    }
}

/// Spam: blocks the sender (or their whole domain); their later mail is kept but filed
/// away. Undoing it is "Not spam" on a ticket filed as spam, and only unblocks on their
/// other tickets.
fn spam_form(out: &mut String, t: &TicketDetail, p: &TicketPage<'_>, csrf: &str) {
    let who = match &p.contact.blocked_domain {
        Some(domain) => format!("All of {domain}"),
        None => t.contact.email.clone(),
    };
    let blocked = p.contact.blocked || p.contact.blocked_domain.is_some();
    if blocked && t.tags.iter().any(|tag| tag == "spam") {
        let _ = write!(
            out,
            r#"<form class="spam blocked" method="post" action="/tickets/{}/spam">{csrf}<input type="hidden" name="spam" value="0"><p>{} is blocked as spam: their mail is filed closed, tagged spam.</p><button type="submit">Not spam</button></form>"#,
            t.id,
            esc(&who)
        );
    } else if blocked {
        let _ = write!(
            out,
            r#"<form class="spam blocked" method="post" action="/tickets/{}/spam">{csrf}<input type="hidden" name="spam" value="0"><p>{} is blocked as spam: their new mail is filed closed, tagged spam.</p><button type="submit">Unblock sender</button></form>"#,
            t.id,
            esc(&who)
        );
    } else {
        // A whole domain only where that cannot catch strangers (gmail.com) or us.
        let domain = crate::desk::spam::blockable_domain(&t.contact.email, p.own)
            .map(|d| {
                format!(
                    r#"<label><input type="checkbox" name="domain" value="1"> Block all of {}</label>"#,
                    esc(&d)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<form class="spam" method="post" action="/tickets/{}/spam" data-confirm="Mark as spam? The ticket closes and later mail from {} is filed as spam.">{csrf}<input type="hidden" name="spam" value="1">{domain}<button type="submit">Mark as spam</button></form>"#,
            t.id,
            esc(&t.contact.email)
        );
    }
}

/// "Split off" on a customer's mail other than the one that opened the ticket: it
/// becomes a ticket of its own (a new question asked on an old thread).
fn split_button(t: &TicketDetail, m: &MessageView, csrf: &str) -> String {
    let opening = t.earlier == 0 && t.messages.first().is_some_and(|f| f.id == m.id);
    if m.direction != "inbound" || opening {
        return String::new();
    }
    format!(
        r#"<form class="split" method="post" action="/tickets/{}/split" data-confirm="Split this mail off into a new ticket of its own?">{}<input type="hidden" name="message" value="{}"><button type="submit" title="Make this mail a ticket of its own">Split off</button></form>"#,
        t.id,
        hidden_csrf(csrf),
        m.id
    )
}

/// "Edit" and "Delete" under an agent's own note: the edit form holds its text.
fn note_controls(out: &mut String, m: &MessageView, csrf: &str) {
    let _ = write!(
        out,
        r#"<div class="note-controls"><details class="edit-note"><summary>Edit</summary><form method="post" action="/messages/{id}/edit">{csrf}<textarea name="body" rows="4" required aria-label="The note">{text}</textarea><button type="submit">Save note</button></form></details><form class="delete-note" method="post" action="/messages/{id}/delete" data-confirm="Delete this note? It cannot be brought back.">{csrf}<button type="submit">Delete</button></form></div>"#,
        id = m.id,
        csrf = hidden_csrf(csrf),
        text = esc(&m.text),
    );
}

/// The colleagues the note box suggests after an `@`: each active agent's handle
/// (the word that mentions exactly them) with their name and address as its label.
fn mention_agents(agents: &[UserView]) -> String {
    let active: Vec<&UserView> = agents.iter().filter(|a| a.active).collect();
    let named: Vec<Mentionable<'_>> = active
        .iter()
        .map(|a| Mentionable {
            email: &a.email,
            first_name: &a.first_name,
        })
        .collect();
    let mut out = String::from(r#"<datalist id="mention-agents">"#);
    for (agent, m) in active.iter().zip(&named) {
        let _ = write!(
            out,
            r#"<option value="{}" label="{} · {}"></option>"#,
            esc(&handle(m, &named)),
            esc(&agent.full_name),
            esc(&agent.email)
        );
    }
    out.push_str("</datalist>");
    out
}

/// The forward form: which mail (the latest incoming one unless the agent picks
/// another; a mail's own "Forward" button picks it), to whom, and a note on top.
/// Empty when the thread shown has no mail, only notes.
fn forward_form(t: &TicketDetail, csrf: &str) -> String {
    let mails: Vec<&MessageView> = t
        .messages
        .iter()
        .rev()
        .filter(|m| m.direction != "note")
        .collect();
    let Some(first) = mails.first() else {
        return String::new();
    };
    let chosen = mails
        .iter()
        .find(|m| m.direction == "inbound")
        .map_or(first.id, |m| m.id);
    let mut options = String::new();
    for m in &mails {
        let _ = write!(
            options,
            r#"<option value="{id}"{selected}>{from} · {when}</option>"#,
            id = m.id,
            selected = if m.id == chosen { " selected" } else { "" },
            from = esc(&sender(m.from_name.as_deref(), m.from.as_deref())),
            when = esc(&short_time(&m.created_at)),
        );
    }
    format!(
        r#"<details class="forward" id="forward"><summary>Forward to someone outside the desk</summary><form class="forward" method="post" action="/tickets/{id}/forward">{csrf}<label>Mail <select id="forward-message" name="message">{options}</select></label><label>To <input type="text" id="forward-to" name="to" required autocomplete="off" placeholder="addresses, separated by commas"></label><label for="forward-body">Note on top</label><textarea id="forward-body" name="body" rows="3"></textarea><p class="hint">The mail goes along with its files; an answer comes back to this ticket.</p><button type="submit">Forward</button></form></details>"#,
        id = t.id,
    )
}

/// A time as a person reads it, in UTC ("4 Mar 2025, 10:00 UTC"); the page's script
/// shows `<time>` elements in the agent's own zone.
fn short_time(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| {
            let t = t.to_offset(time::UtcOffset::UTC);
            t.format(time::macros::format_description!(
                "[day padding:none] [month repr:short] [year], [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| rfc3339.to_string())
}

/// A `<time>` element for an RFC 3339 stamp: "26 Nov 2026, 13:21 UTC", which the page's
/// script turns into the agent's own time zone; the stamp itself when it does not parse.
pub fn time_tag(rfc3339: &str) -> String {
    let shown = short_time(rfc3339);
    format!(
        r#"<time datetime="{0}" title="{0}">{1}</time>"#,
        esc(rfc3339),
        esc(&shown)
    )
}

/// A sender as "Name <address>", or the address alone.
/// The name of the agent who wrote note `m` (notes are stored with the address alone).
fn note_author_name<'a>(m: &MessageView, agents: &'a [UserView]) -> Option<&'a str> {
    if m.direction != "note" {
        return None;
    }
    let from = m.from.as_deref()?;
    agents
        .iter()
        .find(|a| a.email.eq_ignore_ascii_case(from))
        .map(|a| a.full_name.as_str())
}

fn sender(name: Option<&str>, address: Option<&str>) -> String {
    let address = address.unwrap_or("?");
    match name
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != address)
    {
        Some(name) => format!("{name} <{address}>"),
        None => address.to_string(),
    }
}

/// The inbox's filters, as the URL gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filters<'a> {
    /// Only this channel.
    pub channel: Option<&'a str>,
    /// Only this status (any case).
    pub status: Option<&'a str>,
    /// Only this priority (`low`, `medium`, `high`, `urgent`).
    pub priority: Option<&'a str>,
    /// Only tickets with this tag.
    pub tag: Option<&'a str>,
    /// Only tickets whose last message (notes aside) is the customer's.
    pub awaiting_us: bool,
    /// Only this customer's tickets.
    pub contact: Option<&'a str>,
    /// Only tickets whose field (by name) has this value.
    pub field: Option<(&'a str, &'a str)>,
    /// Oldest activity first.
    pub oldest_first: bool,
}

/// What an inbox page shows.
pub struct InboxPage<'a> {
    /// The view.
    pub view: InboxView,
    /// Counts per view.
    pub counts: &'a [(InboxView, i64)],
    /// Rows.
    pub rows: &'a [InboxRow],
    /// Channel names for the filter.
    pub channels: &'a [String],
    /// The filters applied.
    pub filters: Filters<'a>,
    /// Link to the next page, if any.
    pub next: Option<String>,
    /// Unix seconds now.
    pub now: i64,
    /// Agents for the bulk form's owner menu.
    pub agents: &'a [UserView],
    /// Teams for the bulk form's owner menu.
    pub teams: &'a [String],
    /// Every stage name of every pipeline, for the bulk form's status menu.
    pub stages: &'a [String],
    /// Anti-CSRF token.
    pub csrf: &'a str,
    /// This page's own URL, where the bulk form comes back to.
    pub back: &'a str,
    /// Answer targets: rows say when the answer is due (none without `[sla]`).
    pub sla: Option<&'a Sla>,
    /// The views this agent saved.
    pub saved: &'a [crate::store::SavedView],
    /// This view with its filters, from its first page: what "Save view" keeps.
    pub saved_link: &'a str,
    /// When the desk closes a row's ticket by itself (`[channel.auto_close]`): ticket,
    /// unix seconds.
    pub closes: &'a [(i64, i64)],
    /// Macros for the bulk form.
    pub macros: &'a [crate::desk::macros::Macro],
    /// The ticket fields, for the filter by one (and, `in_inbox`, on the rows).
    pub ticket_fields: &'a [crate::desk::ticket_fields::FieldDef],
    /// The rows' values of the `in_inbox` fields: (ticket, name, value).
    pub row_fields: &'a [(i64, String, String)],
}

/// The longest name of a saved view, in characters.
pub const MAX_VIEW_NAME: usize = 40;

/// A saved view's name as typed, trimmed; refused when empty, too long or with
/// control characters.
pub fn saved_view_name(typed: &str) -> Result<String, &'static str> {
    let name = typed.trim();
    if name.is_empty() {
        return Err("Give the view a name.");
    }
    if name.chars().count() > MAX_VIEW_NAME {
        return Err("A view's name is at most 40 characters.");
    }
    if name.chars().any(char::is_control) {
        return Err("A view's name is one line of text.");
    }
    Ok(name.to_string())
}

/// When a waiting customer's answer is due, as a badge ("answer due in 3 h"); nothing
/// without a wait or a target for the ticket's priority.
pub fn answer_due(
    sla: Option<&Sla>,
    channel: &str,
    waiting_since: Option<i64>,
    priority: &str,
    answered: bool,
    now: i64,
) -> String {
    let due = sla
        .zip(waiting_since)
        .and_then(|(sla, since)| sla.due(channel, since, Priority::parse(priority)?, answered));
    let Some(due) = due else {
        return String::new();
    };
    let class = match sla::standing(due, now) {
        Standing::Late => "late",
        Standing::Soon => "soon",
        Standing::Later => "later",
    };
    format!(
        r#" <span class="badge answer-due {class}" data-due="{due}" title="{kind} answer due {when}">{words}</span>"#,
        kind = if answered { "Next" } else { "First" },
        when = esc(&short_time(&crate::model::rfc3339(due))),
        words = sla::words(due, now),
    )
}

/// What agents noted about the customer, with who wrote it when; nothing without a note.
fn contact_note(out: &mut String, note: &crate::store::ContactNote, agents: &[UserView]) {
    if note.text.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<div class="contact-note"><p>{}</p><p class="marks">Noted by {}{}</p></div>"#,
        esc(&note.text).replace('\n', "<br>"),
        esc(&agent_name(agents, note.by.as_deref())),
        note.at
            .map(|at| format!(", {}", time_tag(&crate::model::rfc3339(at))))
            .unwrap_or_default(),
    );
}

/// The ticket's customer by name (else address), linked to their page.
fn customer_link(t: &TicketDetail, id: i64) -> String {
    let called = t
        .contact
        .name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&t.contact.email);
    if t.contact.email == crate::ingest::UNKNOWN_SENDER {
        return esc(called).to_string();
    }
    format!(
        r#"<a class="customer-link" href="/customers/{id}" title="Their page: every ticket, their company">{}</a>"#,
        esc(called)
    )
}

/// "Edit contact": a customer's name, owner and note (`now`), posted to `action`.
fn contact_form(
    out: &mut String,
    action: &str,
    now: (Option<&str>, Option<&str>, &str),
    agents: &[UserView],
    csrf: &str,
) {
    let (name, owner, note) = now;
    let _ = write!(
        out,
        r#"<details class="edit-contact"><summary>Edit contact</summary><form method="post" action="{}">{}<label>Name <input name="name" value="{}" maxlength="{}"></label><label>Owner <select name="owner"><option value="">None</option>"#,
        esc(action),
        hidden_csrf(csrf),
        esc(name.unwrap_or("")),
        crate::desk::subject::MAX_SUBJECT
    );
    for a in agents.iter().filter(|a| a.active) {
        let sel = if owner == Some(a.email.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<option value="{0}"{sel}>{1}</option>"#,
            esc(&a.email),
            esc(&a.full_name)
        );
    }
    let _ = write!(
        out,
        r#"</select></label><label>Note for every agent <textarea name="note" rows="3" maxlength="{}" placeholder="Prefers phone; contract 4711">{}</textarea></label><button type="submit">Save contact</button></form></details>"#,
        crate::desk::subject::MAX_CONTACT_NOTE,
        esc(note),
    );
}

/// When the desk closes a ticket by itself, as an inbox badge ("closes in 2 d").
pub fn closes_badge(at: i64, now: i64) -> String {
    format!(
        r#" <span class="badge closes" title="The desk closes it by itself {when}, unless the customer answers">{words}</span>"#,
        when = esc(&short_time(&crate::model::rfc3339(at))),
        words = if at <= now {
            "closes now".to_string()
        } else {
            format!(
                "closes in {}",
                crate::desk::reports::duration_words(at - now)
            )
        },
    )
}

/// An owner as agents know each other: the full name, else the address, else "—".
fn agent_name(agents: &[UserView], owner: Option<&str>) -> String {
    match owner {
        None => "—".into(),
        Some(email) => agents
            .iter()
            .find(|a| a.email == email && !a.full_name.trim().is_empty())
            .map_or_else(|| email.to_string(), |a| a.full_name.clone()),
    }
}

/// The options of an owner menu: every active agent, then every team.
fn owner_options(out: &mut String, agents: &[UserView], teams: &[String], current: Option<&str>) {
    for a in agents.iter().filter(|a| a.active) {
        let sel = if current == Some(a.email.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<option value="agent:{0}"{sel}>{1}</option>"#,
            esc(&a.email),
            esc(&a.full_name)
        );
    }
    for team in teams {
        let _ = write!(
            out,
            r#"<option value="team:{0}">Team {0}</option>"#,
            esc(team)
        );
    }
}

/// The address of an inbox view with these filters (not HTML-escaped), going on past
/// `past` (the last shown row's `activity`, the keyset cursor) when given: `before` it
/// newest first, `after` it oldest first.
pub fn inbox_link(view: InboxView, filters: Filters<'_>, past: Option<i64>) -> String {
    let mut link = format!("/inbox?view={}", view.as_str());
    if let Some(activity) = past {
        let cursor = if filters.oldest_first {
            "after"
        } else {
            "before"
        };
        let _ = write!(link, "&{cursor}={activity}");
    }
    for (name, value) in [
        ("channel", filters.channel),
        ("status", filters.status),
        ("priority", filters.priority),
        ("tag", filters.tag),
        ("contact", filters.contact),
    ] {
        if let Some(v) = value {
            let _ = write!(link, "&{name}={}", crate::model::percent_encode(v));
        }
    }
    if let Some((name, value)) = filters.field {
        let _ = write!(
            link,
            "&field={}&value={}",
            crate::model::percent_encode(name),
            crate::model::percent_encode(value)
        );
    }
    if filters.awaiting_us {
        link.push_str("&awaiting=1");
    }
    if filters.oldest_first {
        link.push_str("&order=oldest");
    }
    link
}

/// The ticket's fields (`[[ticket_field]]`): a box for each, filled with its value, in
/// one form, those `required` to close it marked; values of fields the config no longer
/// has are listed as they were kept.
fn ticket_fields_form(
    out: &mut String,
    t: &TicketDetail,
    (defs, required): (&[crate::desk::ticket_fields::FieldDef], &[String]),
    csrf: &str,
) {
    use crate::desk::ticket_fields::{find, Kind, MAX_VALUE};
    let former: Vec<(&String, &String)> = t
        .fields
        .iter()
        .filter(|(n, _)| find(defs, n).is_none())
        .collect();
    if defs.is_empty() && former.is_empty() {
        return;
    }
    out.push_str("<h2>Fields</h2>");
    if !defs.is_empty() {
        let _ = write!(
            out,
            r#"<form class="ticket-fields" method="post" action="/tickets/{}/fields">{csrf}"#,
            t.id
        );
        for def in defs {
            let value = t
                .fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&def.name))
                .map_or("", |(_, v)| v.as_str());
            let name = esc(&format!("field:{}", def.name));
            let _ = write!(out, r#"<label>{} "#, esc(&def.name));
            let needed = required.iter().any(|r| r.eq_ignore_ascii_case(&def.name));
            if needed {
                out.push_str(r#"<span class="needed-to-close">(needed to close)</span> "#);
            }
            // The first of these still empty is where the script sends the agent.
            let mark = if needed && value.is_empty() {
                r#" data-needed="1""#
            } else {
                ""
            };
            match &def.kind {
                Kind::Choice(choices) => {
                    let _ = write!(
                        out,
                        r#"<select name="{name}"{mark}><option value="">—</option>"#
                    );
                    for c in choices {
                        let _ = write!(
                            out,
                            r#"<option value="{0}"{1}>{0}</option>"#,
                            esc(c),
                            if c == value { " selected" } else { "" }
                        );
                    }
                    out.push_str("</select>");
                }
                kind => {
                    let how = match kind {
                        Kind::Number => r#"type="text" inputmode="decimal""#,
                        Kind::Date => r#"type="date""#,
                        _ => r#"type="text""#,
                    };
                    let _ = write!(
                        out,
                        r#"<input name="{name}" {how} value="{}" maxlength="{MAX_VALUE}"{mark}>"#,
                        esc(value)
                    );
                }
            }
            out.push_str("</label>");
            if !value.is_empty() {
                let _ = write!(
                    out,
                    r#"<a class="same-field" href="{}">Tickets with {} {}</a>"#,
                    esc(&inbox_link(
                        InboxView::All,
                        Filters {
                            field: Some((&def.name, value)),
                            ..Filters::default()
                        },
                        None
                    )),
                    esc(&def.name),
                    esc(value)
                );
            }
        }
        out.push_str(r#"<button type="submit" id="save-fields">Save fields</button></form>"#);
    }
    if !former.is_empty() {
        out.push_str(r#"<dl class="former-fields">"#);
        for (name, value) in former {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(value));
        }
        out.push_str("</dl>");
    }
}

/// The macro menu (`name="macro"`, with `id`): each option says what its macro does and
/// carries its reply filled in (`replies`, by macro name; the page's script puts it in
/// the reply box). For the bulk form (`replies` is `None`), a first option that applies
/// no macro, and no macro that writes a reply (each is read on its own ticket).
fn macro_menu(
    out: &mut String,
    id: &str,
    macros: &[crate::desk::macros::Macro],
    replies: Option<&[(String, String)]>,
) {
    let _ = write!(
        out,
        r#"<select name="macro" id="{id}" class="macro-menu" aria-label="Macro">"#
    );
    if replies.is_none() {
        out.push_str(r#"<option value="" data-does="">Macro: none</option>"#);
    }
    for m in macros {
        let reply = match (replies, m.reply.is_some()) {
            (None, true) => continue,
            (Some(replies), true) => replies
                .iter()
                .find(|(name, _)| *name == m.name)
                .map(|(_, text)| format!(r#" data-reply="{}""#, esc(text)))
                .unwrap_or_default(),
            (_, false) => String::new(),
        };
        let does = esc(&crate::desk::macros::describe(m));
        let _ = write!(
            out,
            r#"<option value="{name}" title="{does}" data-does="{does}"{reply}>{name}</option>"#,
            name = esc(&m.name),
        );
    }
    out.push_str("</select>");
}

/// What the first macro of the menu does (the page's script follows the choice).
fn macro_hint(out: &mut String, macros: &[crate::desk::macros::Macro]) {
    let _ = write!(
        out,
        r#"<p class="macro-does" aria-live="polite">{}</p>"#,
        esc(&macros
            .first()
            .map(crate::desk::macros::describe)
            .unwrap_or_default())
    );
}

/// Inbox rows as CSV (RFC 4180, CRLF lines, a header row): the ticket's number,
/// subject, customer, channel, status, priority, owner, team, tags, when it was opened
/// and last active, whether the customer wrote last, then a column per ticket field
/// (`fields`: ticket, name, value).
pub fn inbox_csv(
    rows: &[InboxRow],
    fields: &[(i64, String, String)],
    defs: &[crate::desk::ticket_fields::FieldDef],
) -> String {
    use reports::csv_field;
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let cells: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    let mut header: Vec<String> = [
        "id",
        "subject",
        "customer_name",
        "customer_email",
        "channel",
        "status",
        "priority",
        "owner",
        "team",
        "tags",
        "created_at",
        "updated_at",
        "customer_wrote_last",
    ]
    .map(String::from)
    .to_vec();
    header.extend(defs.iter().map(|d| d.name.clone()));
    line(header);
    for r in rows {
        let t = &r.ticket;
        let mut cells = vec![
            t.id.to_string(),
            t.subject.clone(),
            t.contact.name.clone().unwrap_or_default(),
            t.contact.email.clone(),
            t.channel.clone(),
            t.status.clone(),
            t.priority.clone(),
            t.owner.clone().unwrap_or_default(),
            t.team.clone().unwrap_or_default(),
            t.tags.join(" "),
            t.created_at.clone(),
            t.updated_at.clone(),
            if r.awaiting_us { "yes" } else { "no" }.to_string(),
        ];
        cells.extend(defs.iter().map(|d| {
            fields
                .iter()
                .find(|(id, name, _)| *id == t.id && name.eq_ignore_ascii_case(&d.name))
                .map_or_else(String::new, |(_, _, v)| v.clone())
        }));
        line(cells);
    }
    out
}

/// The filter by a ticket field: which field, and its whole value (a choice's values
/// suggested as it is typed).
fn field_filter(out: &mut String, defs: &[crate::desk::ticket_fields::FieldDef]) {
    use crate::desk::ticket_fields::Kind;
    out.push_str(
        r#"<span class="by-field"><select name="field" aria-label="Ticket field"><option value="">Any field</option>"#,
    );
    for def in defs {
        let _ = write!(out, r#"<option value="{0}">{0}</option>"#, esc(&def.name));
    }
    out.push_str(r#"</select> <input type="text" name="value" aria-label="Field value" placeholder="is…" list="field-values" maxlength="200"><datalist id="field-values">"#);
    for def in defs {
        if let Kind::Choice(choices) = &def.kind {
            for c in choices {
                let _ = write!(out, r#"<option value="{}">"#, esc(c));
            }
        }
    }
    out.push_str("</datalist></span>");
}

/// The inbox's bulk form: the rows' checkboxes belong to it through `form="bulk"`.
fn bulk_form(out: &mut String, p: &InboxPage<'_>) {
    let _ = write!(
        out,
        r#"<form id="bulk" class="bulk" method="post" action="/tickets/bulk">{csrf}<input type="hidden" name="back" value="{back}"><span id="bulk-count" class="count">none selected</span> <select name="to" aria-label="New owner"><option value="">Owner: leave</option><option value="none">Unassign</option>"#,
        csrf = hidden_csrf(p.csrf),
        back = esc(p.back),
    );
    owner_options(out, p.agents, p.teams, None);
    out.push_str(r#"</select> <select name="stage" aria-label="New status"><option value="">Status: leave</option>"#);
    for stage in p.stages {
        let _ = write!(out, r#"<option value="{0}">{0}</option>"#, esc(stage));
    }
    out.push_str("</select> ");
    if p.macros.iter().any(|m| m.reply.is_none()) {
        macro_menu(out, "bulk-macro", p.macros, None);
        out.push(' ');
    }
    out.push_str(
        r#"<button type="submit" id="bulk-apply">Apply to selected</button> <button type="submit" id="bulk-spam" name="spam" value="1" data-confirm="Mark the selected tickets as spam? They close, and later mail from their senders is filed as spam.">Mark as spam</button></form>"#,
    );
}

/// The agent's saved views (each with a button that deletes it), and a form that saves
/// the view shown.
fn saved_views(out: &mut String, p: &InboxPage<'_>) {
    if !p.saved.is_empty() {
        out.push_str(r#"<nav class="saved-views" aria-label="Saved views"><ul>"#);
        for v in p.saved {
            let current = if v.link == p.saved_link {
                r#" aria-current="page""#
            } else {
                ""
            };
            let _ = write!(
                out,
                r#"<li><a href="{link}"{current}>{name} <span class="count" data-saved-view="{id}"></span></a><form method="post" action="/views/{id}/delete"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="delete-view" aria-label="Delete saved view {name}">×</button></form></li>"#,
                link = esc(&v.link),
                name = esc(&v.name),
                id = v.id,
                csrf = esc(p.csrf),
            );
        }
        out.push_str("</ul></nav>");
    }
    let _ = write!(
        out,
        r#"<form class="save-view" method="post" action="/views"><input type="hidden" name="csrf" value="{}"><input type="hidden" name="link" value="{}"><input name="name" aria-label="Name for this view" placeholder="Save this view as…" maxlength="{MAX_VIEW_NAME}" required><button type="submit">Save view</button></form>"#,
        esc(p.csrf),
        esc(p.saved_link),
    );
}

/// The inbox.
pub fn inbox(p: &InboxPage<'_>) -> String {
    // About what a page of 50 rows takes, so it is not copied as it grows.
    let mut out = String::with_capacity(1024 + 700 * p.rows.len());
    // The view's name heads the page for a screen reader; the tabs below show it.
    let _ = write!(
        out,
        r#"<h1 class="sr-only">Inbox: {}</h1><nav class="views" aria-label="Views">"#,
        view_label(p.view)
    );
    // Overdue only where there are targets to be late for.
    for (v, n) in p
        .counts
        .iter()
        .filter(|(v, _)| *v != InboxView::Overdue || p.sla.is_some())
    {
        let current = if *v == p.view {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<a href="/inbox?view={}"{current}>{} <span class="count">{n}</span></a>"#,
            v.as_str(),
            view_label(*v)
        );
    }
    out.push_str("</nav>");
    saved_views(&mut out, p);
    let _ = write!(
        out,
        r#"<form class="filters" method="get" action="/inbox"><input type="hidden" name="view" value="{}"><select name="channel" aria-label="Channel"><option value="">All channels</option>"#,
        p.view.as_str()
    );
    for c in p.channels {
        let sel = if Some(c.as_str()) == p.filters.channel {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, r#"<option value="{0}"{sel}>{0}</option>"#, esc(c));
    }
    out.push_str(r#"</select><select name="status" aria-label="Status"><option value="">Any status</option>"#);
    let mut stages: Vec<&str> = p.stages.iter().map(String::as_str).collect();
    // A status asked for by URL that no pipeline has any more still shows as chosen.
    if let Some(asked) = p.filters.status {
        if !stages.iter().any(|s| s.eq_ignore_ascii_case(asked)) {
            stages.push(asked);
        }
    }
    for stage in stages {
        let sel = if p
            .filters
            .status
            .is_some_and(|s| s.eq_ignore_ascii_case(stage))
        {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, r#"<option value="{0}"{sel}>{0}</option>"#, esc(stage));
    }
    out.push_str(r#"</select><select name="priority" aria-label="Priority"><option value="">Any priority</option>"#);
    for priority in ["urgent", "high", "medium", "low"] {
        let sel = if p.filters.priority == Some(priority) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<option value="{priority}"{sel}>{priority}</option>"#
        );
    }
    out.push_str("</select>");
    let _ = write!(
        out,
        r#"<label class="awaiting"><input type="checkbox" name="awaiting" value="1"{}> Customer wrote last</label>"#,
        if p.filters.awaiting_us {
            " checked"
        } else {
            ""
        }
    );
    if let Some(tag) = p.filters.tag {
        let _ = write!(
            out,
            r#"<input type="hidden" name="tag" value="{0}"><span class="tag-filter">tag <span class="tag">{0}</span> <a href="{1}" aria-label="Stop filtering by tag {0}">×</a></span>"#,
            esc(tag),
            esc(&inbox_link(
                p.view,
                Filters {
                    tag: None,
                    ..p.filters
                },
                None
            ))
        );
    }
    if let Some(contact) = p.filters.contact {
        let _ = write!(
            out,
            r#"<input type="hidden" name="contact" value="{0}"><span class="contact-filter">customer <b>{0}</b> <a href="{1}" aria-label="Stop filtering by customer {0}">×</a></span>"#,
            esc(contact),
            esc(&inbox_link(
                p.view,
                Filters {
                    contact: None,
                    ..p.filters
                },
                None
            ))
        );
    }
    if p.filters.field.is_none() && !p.ticket_fields.is_empty() {
        field_filter(&mut out, p.ticket_fields);
    }
    if let Some((name, value)) = p.filters.field {
        let _ = write!(
            out,
            r#"<input type="hidden" name="field" value="{0}"><input type="hidden" name="value" value="{1}"><span class="field-filter">{0} <b>{1}</b> <a href="{2}" aria-label="Stop filtering by {0} {1}">×</a></span>"#,
            esc(name),
            esc(value),
            esc(&inbox_link(
                p.view,
                Filters {
                    field: None,
                    ..p.filters
                },
                None
            ))
        );
    }
    // Last in the form, so the other fields keep their place in the address it sends.
    let _ = write!(
        out,
        r#"<select name="order" aria-label="Order"><option value="">Newest activity first</option><option value="oldest"{}>Oldest activity first</option></select>"#,
        if p.filters.oldest_first {
            " selected"
        } else {
            ""
        }
    );
    out.push_str(r#"<button type="submit">Filter</button></form>"#);
    if !p.rows.is_empty() {
        // Every page of this view, filters and all, for a spreadsheet.
        let link = inbox_link(p.view, p.filters, None).replacen("/inbox?", "/inbox.csv?", 1);
        let _ = write!(
            out,
            r#"<p class="download"><a href="{}" download>Download these tickets (CSV)</a></p>"#,
            esc(&link)
        );
    }
    if p.rows.is_empty() {
        out.push_str(r#"<p class="empty">No tickets here.</p>"#);
    } else {
        bulk_form(&mut out, p);
        out.push_str(r#"<table class="tickets"><thead><tr><th><input type="checkbox" id="select-all" aria-label="Select every ticket on this page"></th><th>#</th><th>Subject</th><th>Contact</th><th>Channel</th><th>Status</th><th>Owner</th><th>Age</th></tr></thead><tbody>"#);
        for r in p.rows {
            let t = &r.ticket;
            let contact = t.contact.name.as_deref().unwrap_or(&t.contact.email);
            let _ = write!(
                out,
                r#"<tr class="ticket{waiting}{unread}" data-ticket="{id}"><td><input type="checkbox" name="ticket" value="{id}" form="bulk" aria-label="Select #{id}"></td><td>{id}</td><td><a href="/tickets/{id}">{new}{subject}</a>{urgency}{mark}{due}{closes}{snoozed}{tags}{fields}</td><td><a class="contact" href="{their_tickets}" title="{email}: their tickets">{contact}</a></td><td>{channel}</td><td>{status}</td><td title="{owner_email}">{owner}</td><td title="{updated}">{age}</td></tr>"#,
                waiting = if r.awaiting_us { " awaiting-us" } else { "" },
                unread = if r.unread { " unread" } else { "" },
                snoozed = r
                    .snoozed_until
                    .map(|t| format!(
                        r#" <span class="badge snoozed">snoozed until {}</span>"#,
                        time_tag(&crate::model::rfc3339(t))
                    ))
                    .unwrap_or_default(),
                new = if r.unread {
                    r#"<span class="new" title="New to you: a message you have not seen, or a ticket handed to you">new</span> "#
                } else {
                    ""
                },
                id = t.id,
                subject = Escaped(&t.subject),
                // Only the priorities that ask for attention: a row of "medium" says nothing.
                urgency = match t.priority.as_str() {
                    "urgent" => r#" <span class="badge priority-urgent">urgent</span>"#,
                    "high" => r#" <span class="badge priority-high">high priority</span>"#,
                    _ => "",
                },
                mark = if r.awaiting_us {
                    r#" <span class="badge">customer wrote last</span>"#
                } else {
                    ""
                },
                due = answer_due(
                    p.sla,
                    &t.channel,
                    r.waiting_since,
                    &t.priority,
                    r.answered,
                    p.now
                ),
                closes = p
                    .closes
                    .iter()
                    .find(|(id, _)| *id == t.id)
                    .map(|(_, at)| closes_badge(*at, p.now))
                    .unwrap_or_default(),
                tags = t
                    .tags
                    .iter()
                    .map(|tag| {
                        format!(
                            r#" <a class="tag" href="{}">{}</a>"#,
                            esc(&inbox_link(
                                p.view,
                                Filters {
                                    tag: Some(tag),
                                    ..p.filters
                                },
                                None
                            )),
                            esc(tag)
                        )
                    })
                    .collect::<String>(),
                // Each filters the inbox to the tickets with it, as a tag does.
                fields = row_field_links(t.id, (p.ticket_fields, p.row_fields), |field| {
                    inbox_link(
                        p.view,
                        Filters {
                            field: Some(field),
                            ..p.filters
                        },
                        None,
                    )
                }),
                email = Escaped(&t.contact.email),
                their_tickets = Escaped(&inbox_link(
                    p.view,
                    Filters {
                        contact: Some(&t.contact.email),
                        ..p.filters
                    },
                    None
                )),
                contact = Escaped(contact),
                channel = Escaped(&t.channel),
                status = Escaped(&t.status),
                owner_email = Escaped(t.owner.as_deref().unwrap_or("")),
                owner = Escaped(&agent_name(p.agents, t.owner.as_deref())),
                updated = Escaped(&t.updated_at),
                age = age(p.now - r.created_at),
            );
        }
        out.push_str("</tbody></table>");
    }
    if let Some(next) = &p.next {
        let _ = write!(
            out,
            r#"<p><a class="next" href="{}">{} tickets →</a></p>"#,
            esc(next),
            if p.filters.oldest_first {
                "Newer"
            } else {
                "Older"
            }
        );
    }
    out
}

/// What the ticket page shows.
pub struct TicketPage<'a> {
    /// The ticket.
    pub ticket: &'a TicketDetail,
    /// Sanitized HTML by message row (already safe).
    pub html: &'a HashMap<i64, String>,
    /// Attachments.
    pub attachments: &'a [AttachmentView],
    /// Remote images were held back.
    pub images_blocked: bool,
    /// What the agent asked the page to show beyond the default.
    pub shown: Shown,
    /// Agents for the assign menu.
    pub agents: &'a [UserView],
    /// Teams for the assign menu.
    pub teams: &'a [String],
    /// Stages of the ticket's pipeline.
    pub stages: &'a [String],
    /// Every configured pipeline (the move menu shows when there is more than one).
    pub pipelines: &'a [String],
    /// The From line replies get.
    pub from_preview: String,
    /// The rendered signature (text).
    pub signature_preview: String,
    /// Canned replies filled in for this ticket: (name, text).
    pub snippets: &'a [(String, String)],
    /// Macros agents apply to it.
    pub macros: &'a [crate::desk::macros::Macro],
    /// The replies of those that write one, filled in for this ticket: (name, text).
    pub macro_replies: &'a [(String, String)],
    /// The fields the desk records about each ticket.
    pub ticket_fields: &'a [crate::desk::ticket_fields::FieldDef],
    /// Those an agent fills in before closing the ticket (its pipeline's).
    pub required_to_close: &'a [String],
    /// Of those, the ones it lacks (none when its pipeline cannot close it).
    pub missing_to_close: &'a [&'a str],
    /// The closed stages of its pipeline (the page's script stops a close while a
    /// field closing needs is empty, before the server would refuse it).
    pub closing_stages: &'a [String],
    /// The contact's owner and other tickets.
    pub contact: &'a crate::store::ContactPanel,
    /// The reply's Cc box as the page opens: the ticket's other people.
    pub copies: String,
    /// The ticket is in a closed stage (nothing to snooze).
    pub closed: bool,
    /// Anti-CSRF token.
    pub csrf: &'a str,
    /// The signed-in agent's address.
    pub me: &'a str,
    /// The agent is an administrator (offered "Delete ticket").
    pub admin: bool,
    /// The desk's own addresses (their domains are never blocked as spam).
    pub own: &'a [String],
    /// A message to show (after an action).
    pub flash: Option<&'a str>,
    /// Answer targets (none without `[sla]`).
    pub sla: Option<&'a Sla>,
    /// When the desk closes the ticket by itself, if it is left waiting on the
    /// customer (`[channel.auto_close]`).
    pub closes_at: Option<i64>,
    /// Unix seconds now.
    pub now: i64,
}

/// What the customer thought of a reply (or, under the survey after closing, of the
/// desk's help), under it.
fn rating_line(rating: crate::desk::ratings::Rating, comment: &str, survey: bool) -> String {
    let words = if comment.is_empty() {
        String::new()
    } else {
        format!(r#": <q>{}</q>"#, esc(comment))
    };
    format!(
        r#"<p class="customer-rating {}">The customer rated {} <strong>{}</strong>{words}</p>"#,
        rating.as_str(),
        if survey {
            "the desk's help"
        } else {
            "this reply"
        },
        rating.label()
    )
}

/// Whom a mail we sent went to and how far it got, for its header in the thread; one
/// still waiting can be cancelled or sent at once, one the relay refused tried again,
/// a cancelled reply or forward edited again.
fn delivery(d: &crate::store::Delivery, csrf: &str) -> String {
    let word = match d.status.as_str() {
        "queued" => "sending",
        "sent" => "sent",
        "failed" => "not delivered",
        "cancelled" => "cancelled",
        other => other,
    };
    let button = |action: &str, label: &str| {
        format!(
            r#"<form class="outbox-action" method="post" action="/outbox/{}/{action}">{}<button type="submit" class="{action}">{label}</button></form>"#,
            d.outbox,
            hidden_csrf(csrf)
        )
    };
    let actions = match (d.status.as_str(), d.kind.as_str(), &d.draft) {
        ("queued", ..) => button("cancel", "Cancel sending") + &button("retry", "Send now"),
        ("failed", ..) => button("retry", "Try again"),
        // The page's script puts the text back in the reply box.
        ("cancelled", "reply", Some(draft)) if !draft.trim().is_empty() => format!(
            r#" <button type="button" class="edit-again" data-draft="{}">Edit again</button>"#,
            esc(draft)
        ),
        // A forward goes back into the forward form: its note, its addressees and the
        // mail it was sending.
        ("cancelled", "forward", draft) => format!(
            r#" <button type="button" class="edit-again" data-form="forward" data-draft="{}" data-to="{}" data-message="{}">Edit again</button>"#,
            esc(draft.as_deref().unwrap_or("")),
            esc(&d.recipients.join(", ")),
            d.forwarded.map(|m| m.to_string()).unwrap_or_default(),
        ),
        _ => String::new(),
    };
    // When a waiting mail goes: the page's script counts down to it.
    let due = match (d.status.as_str(), d.next_attempt) {
        ("queued", Some(at)) => format!(
            r#" <span class="due" data-due="{at}">at {}</span>"#,
            esc(&short_time(&crate::model::rfc3339(at)))
        ),
        _ => String::new(),
    };
    format!(
        r#" <span class="delivery {}">to {} · {word}{due}</span>{actions}"#,
        esc(&d.status),
        esc(&d.recipients.join(", "))
    )
}

/// What a ticket page shows beyond the default, from its URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shown {
    /// Remote images (`images=1`).
    pub images: bool,
    /// The whole thread, not only its newest messages (`all=1`).
    pub whole: bool,
}

impl Shown {
    /// Remote images too.
    pub const IMAGES: Shown = Shown {
        images: true,
        whole: false,
    };
    /// The whole thread.
    pub const WHOLE: Shown = Shown {
        images: false,
        whole: true,
    };

    /// The ticket page's URL showing this, plus whatever `more` adds.
    pub fn url(self, id: i64, more: Shown) -> String {
        let mut url = format!("/tickets/{id}");
        let mut sep = '?';
        for (on, pair) in [
            (self.images || more.images, "images=1"),
            (self.whole || more.whole, "all=1"),
        ] {
            if on {
                url.push(sep);
                url.push_str(pair);
                sep = '&';
            }
        }
        url
    }
}

/// A one-select form (status, pipeline, priority): `label`/`name` of the select, the
/// options with `current` selected (case-insensitive), and the button's words.
fn choice_form<'a>(
    out: &mut String,
    action: &str,
    csrf: &str,
    (label, name): (&str, &str),
    options: impl Iterator<Item = &'a str>,
    current: &str,
    button: &str,
) {
    let _ = write!(
        out,
        r#"<form method="post" action="{}">{csrf}<label>{label} <select name="{name}">"#,
        esc(action)
    );
    for option in options {
        let sel = if option.eq_ignore_ascii_case(current) {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, r#"<option value="{0}"{sel}>{0}</option>"#, esc(option));
    }
    let _ = write!(
        out,
        r#"</select></label><button type="submit">{button}</button></form>"#
    );
}

/// The snooze control: how long, or, while snoozed, until when and "Wake now".
fn snooze_form(out: &mut String, action: &str, csrf: &str, p: &TicketPage<'_>) {
    if let Some(until) = &p.ticket.snoozed_until {
        let _ = write!(
            out,
            r#"<form class="snooze" method="post" action="{}">{csrf}<p>Snoozed until {}</p><button type="submit" name="wake" value="1">Wake now</button></form>"#,
            esc(action),
            time_tag(until)
        );
    } else if !p.closed {
        let _ = write!(
            out,
            r#"<form class="snooze" method="post" action="{}">{csrf}<label>Snooze for <select name="for"><option value="4h">4 hours</option><option value="1d">a day</option><option value="3d">3 days</option><option value="1w">a week</option></select></label> <label>or until <input type="datetime-local" name="at"></label><input type="hidden" name="until" data-utc-of="at"><button type="submit">Snooze</button></form>"#,
            esc(action)
        );
    }
}

fn hidden_csrf(csrf: &str) -> String {
    format!(r#"<input type="hidden" name="csrf" value="{}">"#, esc(csrf))
}

/// The ticket page.
pub fn ticket(p: &TicketPage<'_>) -> String {
    let t = p.ticket;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<div class="ticket-page" data-ticket="{id}"><section class="thread"><h1>#{id} {subject}</h1><p class="meta">{status} · {pipeline} · priority {priority} · {channel} · owner {owner}{due}{closes}</p><p id="presence" class="presence" aria-live="polite"></p>"#,
        id = t.id,
        subject = esc(&t.subject),
        status = esc(&t.status),
        pipeline = esc(&t.pipeline),
        priority = esc(&t.priority),
        channel = esc(&t.channel),
        owner = match t.owner.as_deref() {
            Some(_) => esc(&agent_name(p.agents, t.owner.as_deref())),
            None => "unassigned".to_string(),
        },
        due = answer_due(
            p.sla,
            &t.channel,
            t.waiting_since,
            &t.priority,
            t.answered,
            p.now
        ),
        closes = p.closes_at.map_or_else(String::new, |at| format!(
            r#" · <span class="closes-by-itself">closes by itself {}, unless the customer answers</span>"#,
            time_tag(&crate::model::rfc3339(at))
        )),
    );
    if let Some(f) = p.flash {
        let _ = write!(out, r#"<p class="flash" role="status">{}</p>"#, esc(f));
    }
    if p.images_blocked {
        let _ = write!(
            out,
            r#"<p class="images-blocked">Remote images are blocked. <a href="{}">Load images</a></p>"#,
            esc(&p.shown.url(t.id, Shown::IMAGES))
        );
    }
    if t.earlier > 0 {
        let _ = write!(
            out,
            r#"<p class="earlier"><a href="{}">Show {} earlier {}</a></p>"#,
            esc(&p.shown.url(t.id, Shown::WHOLE)),
            t.earlier,
            if t.earlier == 1 {
                "message"
            } else {
                "messages"
            }
        );
    }
    for m in &t.messages {
        let class = match (m.direction.as_str(), m.auto) {
            ("note", _) => "note",
            ("outbound", _) => "outbound",
            (_, true) => "inbound automatic",
            _ => "inbound",
        };
        let mut marks = Vec::new();
        if let Some(k) = &m.auto_kind {
            marks.push(k.clone());
        }
        match (m.direction.as_str(), &m.delivery) {
            ("note", _) if m.deleted_at.is_some() => marks.push("internal note · deleted".into()),
            ("note", _) if m.edited_at.is_some() => marks.push("internal note · edited".into()),
            ("note", _) => marks.push("internal note".into()),
            ("outbound", Some(d)) if m.auto_kind.is_none() => marks.push(d.kind.clone()),
            ("outbound", None) if m.auto_kind.is_none() => marks.push("reply".into()),
            _ => {}
        }
        if let Some(f) = &m.forwarded_by {
            marks.push(format!("forwarded by {f}"));
        }
        let _ = write!(
            out,
            r#"<article class="message {class}" id="m{id}"><header><strong>{from}</strong> <span class="when">{when}</span> <span class="marks">{marks}</span>{delivery}{original}{split}</header><h2>{subject}</h2>"#,
            id = m.id,
            delivery = m
                .delivery
                .as_ref()
                .map(|d| delivery(d, p.csrf))
                .unwrap_or_default(),
            // Notes were never mail; everything else keeps what was received or sent.
            original = if m.direction == "note" {
                String::new()
            } else {
                format!(
                    r#" <a class="original" href="/messages/{0}/original" download title="Download the message as it was received or sent (.eml)">Original</a> <button type="button" class="forward-this" data-message="{0}" title="Forward this mail to someone outside the desk">Forward</button>"#,
                    m.id
                )
            },
            split = split_button(t, m, p.csrf),
            from = esc(&sender(
                m.from_name
                    .as_deref()
                    .or_else(|| note_author_name(m, p.agents)),
                m.from.as_deref()
            )),
            when = time_tag(&m.created_at),
            marks = esc(&marks.join(" · ")),
            subject = esc(&m.subject),
        );
        if !m.fields.is_empty() {
            out.push_str(r#"<dl class="fields">"#);
            for (name, value) in &m.fields {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(name), esc(value));
            }
            out.push_str("</dl>");
        }
        match p.html.get(&m.id) {
            // Where a deleted note was: its words are gone.
            _ if m.deleted_at.is_some() => {
                out.push_str(r#"<p class="deleted">This note was deleted.</p>"#);
            }
            Some(safe) => {
                let _ = write!(out, r#"<div class="body html">{safe}</div>"#);
            }
            // A reply stored with its rating links (before the thread kept them out)
            // shows without them.
            None if m.direction == "outbound" => {
                let text = crate::desk::ratings::without_rating_links(&m.text);
                let _ = write!(out, r#"<pre class="body text">{}</pre>"#, esc(&text));
            }
            None => {
                let _ = write!(out, r#"<pre class="body text">{}</pre>"#, esc(&m.text));
            }
        }
        if let Some((rating, comment)) = &m.rating {
            let survey = m.delivery.as_ref().is_some_and(|d| d.kind == "survey");
            out.push_str(&rating_line(*rating, comment, survey));
        }
        if m.direction == "note"
            && m.deleted_at.is_none()
            && m.from
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(p.me))
        {
            note_controls(&mut out, m, p.csrf);
        }
        let files: Vec<&AttachmentView> = p
            .attachments
            .iter()
            .filter(|a| a.message_row == m.id && !a.inline)
            .collect();
        if !files.is_empty() {
            out.push_str(r#"<ul class="attachments">"#);
            for a in files {
                let _ = write!(
                    out,
                    r#"<li><a href="/attachments/{}" download>{}</a> <span>{} · {} bytes</span></li>"#,
                    a.id,
                    esc(a.filename.as_deref().unwrap_or("attachment")),
                    esc(&a.content_type),
                    a.size
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</article>");
    }
    let csrf = hidden_csrf(p.csrf);
    let mut snippets = String::new();
    if !p.snippets.is_empty() {
        // The menu itself is never sent (no name): the script copies the text in.
        snippets.push_str(r#" <select id="snippet-pick" aria-label="Insert a snippet"><option value="">Insert a snippet…</option>"#);
        for (i, (name, text)) in p.snippets.iter().enumerate() {
            let _ = write!(
                snippets,
                r#"<option value="{i}" data-text="{}">{}</option>"#,
                esc(text),
                esc(name)
            );
        }
        snippets.push_str("</select>");
    }
    let _ = write!(
        out,
        r#"<form class="reply" method="post" action="/tickets/{id}/reply" enctype="multipart/form-data">{csrf}<label for="reply-body">Reply to {to}</label>{snippets}<textarea id="reply-body" name="body" rows="8" required></textarea><label>Attach files <input type="file" id="reply-files" name="attachment" multiple></label><label><input type="checkbox" id="reply-quote" name="quote" value="1"> Quote the last message</label><label class="cc">Cc <input type="text" id="reply-cc" name="cc" value="{cc}" autocomplete="off" placeholder="addresses, separated by commas"></label><input type="hidden" name="offered" value="{cc}"><div class="reply-preview" aria-label="What the customer will see"><p class="from-preview">From: {from}</p><p>To: {to}</p><p id="cc-line"{cc_hidden}>Cc: <span id="cc-preview">{cc}</span></p><pre class="body-preview" id="body-preview"></pre><pre class="signature-preview">{sig}</pre><p class="quote-preview" id="quote-preview" hidden>(the last message, quoted)</p><ul class="files-preview" id="files-preview"></ul></div><button type="submit">Send reply</button> <button type="submit" name="then" value="close">Send and close</button> <details class="send-later"><summary>Send later…</summary><label>At <input type="datetime-local" id="send-at" name="send_at_local"></label><input type="hidden" name="send_at" data-utc-of="send_at_local"> <button type="submit" name="then" value="later">Schedule</button></details></form>
<form class="note" method="post" action="/tickets/{id}/note" enctype="multipart/form-data">{csrf}<label for="note-body">Internal note</label><textarea id="note-body" name="body" rows="3"></textarea><label>Attach files <input type="file" id="note-files" name="attachment" multiple></label><ul id="mention-list" class="mention-list" role="listbox" aria-label="Colleagues to mention" hidden></ul>{mentionable}<p class="hint">Only agents see it. Name a colleague with @ and their first name or address to bring it to them.</p><button type="submit">Add note</button></form>{forward}</section>"#,
        // A supplier or another department can be asked; their answer threads back.
        forward = forward_form(t, &csrf),
        mentionable = mention_agents(p.agents),
        id = t.id,
        from = esc(&p.from_preview),
        to = esc(&t.contact.email),
        cc = esc(&p.copies),
        cc_hidden = if p.copies.is_empty() { " hidden" } else { "" },
        sig = esc(&p.signature_preview),
    );
    // Another matter with the same customer: a ticket of its own, written first.
    let addressee = match t.contact.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{name} <{}>", t.contact.email),
        None => t.contact.email.clone(),
    };
    let _ = write!(
        out,
        r#"<aside class="side"><h2>Contact</h2><p>{}<br>{}</p><p>Owner: {}</p>"#,
        customer_link(t, p.contact.id),
        esc(&t.contact.email),
        esc(p.contact.owner.as_deref().unwrap_or("none")),
    );
    contact_note(&mut out, &p.contact.note, p.agents);
    if t.contact.email != crate::ingest::UNKNOWN_SENDER {
        let _ = write!(
            out,
            r#"<p><a class="write-first" href="/tickets/new?to={}&amp;channel={}">New ticket to them</a></p>"#,
            esc(&crate::model::percent_encode(&addressee)),
            esc(&crate::model::percent_encode(&t.channel)),
        );
    }
    contact_form(
        &mut out,
        &format!("/tickets/{}/contact", t.id),
        (
            t.contact.name.as_deref(),
            p.contact.owner.as_deref(),
            &p.contact.note.text,
        ),
        p.agents,
        p.csrf,
    );
    spam_form(&mut out, t, p, &csrf);
    if !p.contact.others.is_empty() {
        out.push_str(r#"<h3>Other tickets</h3><ul class="others">"#);
        for o in &p.contact.others {
            let _ = write!(
                out,
                r#"<li><a href="/tickets/{}">#{} {}</a> ({})</li>"#,
                o.id,
                o.id,
                esc(&o.subject),
                esc(&o.status)
            );
        }
        out.push_str("</ul>");
        if p.contact.more {
            let _ = write!(
                out,
                r#"<p class="more">These are the latest. <a href="{}">All their tickets</a></p>"#,
                esc(&inbox_link(
                    InboxView::All,
                    Filters {
                        contact: Some(&t.contact.email),
                        ..Filters::default()
                    },
                    None
                ))
            );
        }
    }
    colleagues(&mut out, p);
    out.push_str("<h2>Ticket</h2>");
    if !p.macros.is_empty() {
        let _ = write!(
            out,
            r#"<form class="macro" method="post" action="/tickets/{}/macro">{csrf}<label>Macro "#,
            t.id
        );
        macro_menu(&mut out, "macro-menu", p.macros, Some(p.macro_replies));
        out.push_str(r#"</label> <button type="submit" id="apply-macro">Apply</button>"#);
        macro_hint(&mut out, p.macros);
        out.push_str("</form>");
    }
    let _ = write!(
        out,
        r#"<form method="post" action="/tickets/{}/assign">{csrf}<label>Owner <select name="to"><option value="">Unassigned</option>"#,
        t.id
    );
    owner_options(&mut out, p.agents, p.teams, t.owner.as_deref());
    out.push_str(r#"</select></label><button type="submit">Assign</button></form>"#);
    // One click (or `t`) to take a ticket.
    if t.owner.as_deref() != Some(p.me) {
        let _ = write!(
            out,
            r#"<form class="take" method="post" action="/tickets/{}/assign">{csrf}<input type="hidden" name="to" value="agent:{}"><button type="submit" id="take-ticket">Assign to me</button></form>"#,
            t.id,
            esc(p.me)
        );
    }
    follow_form(&mut out, t, p.agents, p.me, &csrf);
    let action = |what: &str| format!("/tickets/{}/{what}", t.id);
    choice_form(
        &mut out,
        &action("status"),
        &csrf,
        ("Status", "stage"),
        p.stages.iter().map(String::as_str),
        &t.status,
        "Set status",
    );
    // Said before the agent tries: closing waits for these (see `required_to_close`).
    let missing = p.missing_to_close;
    if !p.closed && !missing.is_empty() {
        let _ = write!(
            out,
            r#"<p class="needs-fields" id="needs-fields" data-closing="{}">To close it, fill in {} (Fields, below).</p>"#,
            esc(&p.closing_stages.join("\n")),
            esc(&missing.join(", "))
        );
    }
    if p.pipelines.len() > 1 {
        choice_form(
            &mut out,
            &action("pipeline"),
            &csrf,
            ("Pipeline", "pipeline"),
            p.pipelines.iter().map(String::as_str),
            &t.pipeline,
            "Move",
        );
    }
    choice_form(
        &mut out,
        &action("priority"),
        &csrf,
        ("Priority", "priority"),
        ["low", "medium", "high", "urgent"].into_iter(),
        &t.priority,
        "Set priority",
    );
    snooze_form(&mut out, &action("snooze"), &csrf, p);
    let _ = write!(
        out,
        r#"<form class="rename" method="post" action="{}">{csrf}<label>Subject <input name="subject" value="{}" maxlength="{}" required></label> <button type="submit">Rename</button></form>"#,
        esc(&action("subject")),
        esc(&t.subject),
        crate::desk::subject::MAX_SUBJECT
    );
    ticket_fields_form(&mut out, t, (p.ticket_fields, p.required_to_close), &csrf);
    out.push_str(r#"<h2>Tags</h2>"#);
    if !t.tags.is_empty() {
        // Each tag's remove button is in a form of its own tags: Enter in the add box
        // below must never press one of them.
        let _ = write!(
            out,
            r#"<form class="tag-remove" method="post" action="{}">{csrf}<ul class="tags">"#,
            esc(&action("tags"))
        );
        for tag in &t.tags {
            let _ = write!(
                out,
                r#"<li class="tag">{0} <button type="submit" name="remove" value="{0}" aria-label="Remove tag {0}">×</button></li>"#,
                esc(tag)
            );
        }
        out.push_str("</ul></form>");
    }
    let _ = write!(
        out,
        r#"<form class="tag-add" method="post" action="{}">{csrf}<input name="add" placeholder="vip, refund" aria-label="Add tags"> <button type="submit">Add tags</button></form>"#,
        esc(&action("tags"))
    );
    let _ = write!(
        out,
        r#"<form class="merge" method="post" action="{}" data-confirm="Merge ticket #{} into the ticket you named? Its messages, thread and people move there.">{csrf}<label>Merge into #<input name="into" inputmode="numeric" size="6" required aria-label="Ticket to merge into"></label> <button type="submit">Merge</button></form>"#,
        esc(&action("merge")),
        t.id
    );
    if p.admin {
        let _ = write!(
            out,
            r#"<p class="delete-ticket"><a href="/tickets/{}/delete">Delete ticket…</a></p>"#,
            t.id
        );
    }
    out.push_str(r#"<h2>People</h2><ul class="people">"#);
    for person in &t.participants {
        let _ = write!(
            out,
            "<li>{} <span>({}{})</span>",
            esc(&person.email),
            esc(&person.role),
            if person.copied {
                ""
            } else {
                ", not copied on replies"
            }
        );
        // Anyone but the customer can be taken off (no more copies of replies).
        if person.role != "customer" {
            let _ = write!(
                out,
                r#" <form class="remove-person" method="post" action="{}">{csrf}<input type="hidden" name="remove" value="{1}"><button type="submit" aria-label="Take {1} off this ticket" title="Take off this ticket">×</button></form>"#,
                esc(&action("people")),
                esc(&person.email)
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul><h2>History</h2>");
    if t.earlier_events {
        let _ = write!(
            out,
            r#"<p class="earlier"><a href="{}">Show the whole history</a></p>"#,
            esc(&p.shown.url(t.id, Shown::WHOLE))
        );
    }
    out.push_str(r#"<ol class="events">"#);
    for e in &t.events {
        let _ = write!(
            out,
            "<li><span>{}</span> {}: {}</li>",
            time_tag(&e.at),
            esc(&e.actor),
            esc(&e.detail)
        );
    }
    out.push_str("</ol></aside></div>");
    out
}

/// The `in_inbox` fields' values of ticket `id` among `values` (ticket, field, value),
/// in the config's order, each a link made by `link` from (field, value).
fn row_field_links<'v>(
    id: i64,
    (defs, values): (
        &[crate::desk::ticket_fields::FieldDef],
        &'v [(i64, String, String)],
    ),
    link: impl Fn((&'v str, &'v str)) -> String,
) -> String {
    defs.iter()
        .filter(|def| def.in_inbox)
        .filter_map(|def| {
            let (_, name, value) = values
                .iter()
                .find(|(t, name, _)| *t == id && name.eq_ignore_ascii_case(&def.name))?;
            Some(format!(
                r#" <a class="row-field" href="{}">{}: {}</a>"#,
                esc(&link((name, value))),
                esc(&def.name),
                esc(value)
            ))
        })
        .collect()
}

/// The search page: `hits` for `query`, each with the `in_inbox` fields of `fields`
/// (the definitions, then (ticket, field, value)); the snippet's match markers become
/// `<mark>` after escaping.
pub fn search(
    query: &str,
    open_only: bool,
    hits: &[SearchHit],
    fields: (
        &[crate::desk::ticket_fields::FieldDef],
        &[(i64, String, String)],
    ),
) -> String {
    let mut out = format!(r#"<h1>Search: {}</h1>"#, esc(query));
    let _ = write!(
        out,
        r#"<form class="scope" method="get" action="/search"><input type="hidden" name="q" value="{}"><label><input type="checkbox" name="open" value="1"{}> Open tickets only</label> <button type="submit">Search again</button></form>"#,
        esc(query),
        if open_only { " checked" } else { "" }
    );
    if hits.is_empty() {
        out.push_str(r#"<p class="empty">Nothing found.</p>"#);
    }
    out.push_str(
        r#"<p class="hint">Tickets whose mail has every word, best match first. End a word with * to find the words it begins. Narrow it with <code>from:olga</code>, <code>subject:hinge</code>, <code>status:"waiting on us"</code>, <code>owner:me</code> (or <code>owner:none</code>, <code>owner:bea</code>), <code>channel:billing</code>, <code>tag:vip</code>, <code>priority:urgent</code>, <code>is:open</code> or <code>is:closed</code>; filters alone list their tickets, latest first.</p>"#,
    );
    if hits.is_empty() {
        return out;
    }
    out.push_str(r#"<ol class="hits">"#);
    for h in hits {
        let snippet = esc(&h.snippet)
            .replace('\u{2}', "<mark>")
            .replace('\u{3}', "</mark>");
        let _ = write!(
            out,
            r#"<li data-ticket="{id}"{closed}><a href="/tickets/{id}">#{id} {subject}</a> <span class="status">{status}</span> <span>{contact}</span>{fields}<p class="snippet">{snippet}</p></li>"#,
            fields = row_field_links(h.ticket_id, fields, |field| {
                inbox_link(
                    InboxView::All,
                    Filters {
                        field: Some(field),
                        ..Filters::default()
                    },
                    None,
                )
            }),
            id = h.ticket_id,
            closed = if h.closed { r#" class="closed""# } else { "" },
            subject = esc(&h.subject),
            status = esc(&h.status),
            contact = esc(&h.contact),
        );
    }
    out.push_str("</ol>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_links_keep_what_the_page_already_shows() {
        let none = Shown::default();
        let (images, whole) = (Shown::IMAGES, Shown::WHOLE);
        assert_eq!(none.url(7, none), "/tickets/7");
        assert_eq!(none.url(7, images), "/tickets/7?images=1");
        assert_eq!(none.url(7, whole), "/tickets/7?all=1");
        assert_eq!(images.url(7, whole), "/tickets/7?images=1&all=1");
        assert_eq!(whole.url(7, images), "/tickets/7?images=1&all=1");
        assert_eq!(whole.url(7, whole), "/tickets/7?all=1");
    }

    /// A ticket whose thread holds these (row, direction, sender) messages, oldest first.
    fn thread(messages: &[(i64, &str, &str)]) -> TicketDetail {
        let messages: Vec<serde_json::Value> = messages
            .iter()
            .map(|(id, direction, from)| {
                serde_json::json!({
                    "id": id, "direction": direction, "message_id": null, "from": from,
                    "subject": "s", "auto": false, "auto_kind": null, "thread_reason": "new",
                    "forwarded_by": null, "source": "lmtp", "attachments": 0, "text": "",
                    "created_at": "2025-03-04T10:00:00Z",
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "id": 9, "subject": "s", "status": "Open", "channel": "support",
            "contact": {"email": "a@b.example", "name": null}, "owner": null,
            "merged_into": null, "created_at": "2025-03-04T10:00:00Z",
            "updated_at": "2025-03-04T10:00:00Z", "messages": messages,
            "participants": [], "events": [],
        }))
        .expect("a ticket")
    }

    #[test]
    fn notes_are_headed_with_their_authors_name() {
        let t = thread(&[
            (1, "inbound", "olga@customer.example.org"),
            (2, "note", "Dana@Acme.test"),
            (3, "note", "gone@acme.test"),
            (4, "outbound", "dana@acme.test"),
        ]);
        let dana: UserView = serde_json::from_value(serde_json::json!({
            "email": "dana@acme.test", "full_name": "Dana Lind", "first_name": "Dana",
            "last_name": "Lind", "admin": false, "seat": true, "available": true,
            "active": true, "notify": "", "signature": "",
        }))
        .expect("an agent");
        let agents = [dana];
        let names: Vec<Option<&str>> = t
            .messages
            .iter()
            .map(|m| note_author_name(m, &agents))
            .collect();
        // A customer's mail and a reply keep the name they were sent with; a note by
        // someone no longer an agent keeps the address.
        assert_eq!(names, [None, Some("Dana Lind"), None, None]);
    }

    #[test]
    fn the_forward_form_offers_mails_newest_first_with_the_latest_incoming_picked() {
        let t = thread(&[
            (1, "inbound", "first@c.example"),
            (2, "outbound", "us@desk.example"),
            (3, "inbound", "<second>@c.example"),
            (4, "outbound", "us@desk.example"),
            (5, "note", "agent@desk.example"),
        ]);
        let form = forward_form(&t, "");
        let values: Vec<&str> = form
            .split(r#"<option value=""#)
            .skip(1)
            .filter_map(|o| o.split('"').next())
            .collect();
        assert_eq!(values, ["4", "3", "2", "1"], "{form}");
        assert!(form.contains(r#"<option value="3" selected>"#), "{form}");
        assert_eq!(form.matches(" selected").count(), 1);
        assert!(
            form.contains("&lt;second&gt;@c.example · 4 Mar 2025, 10:00 UTC"),
            "{form}"
        );
        assert!(form.contains(r#"action="/tickets/9/forward""#));
    }

    #[test]
    fn the_forward_form_falls_back_to_our_mail_and_is_absent_for_notes_only() {
        let ours = forward_form(
            &thread(&[(1, "outbound", "us@desk.example"), (2, "note", "a@d")]),
            "",
        );
        assert!(ours.contains(r#"<option value="1" selected>"#), "{ours}");
        assert!(!ours.contains(r#"value="2""#), "{ours}");
        assert_eq!(forward_form(&thread(&[(2, "note", "a@d")]), ""), "");
        assert_eq!(forward_form(&thread(&[]), ""), "");
    }

    #[test]
    fn login_escapes_what_it_echoes() {
        let page = login(
            Some("<b>bad</b>"),
            "\"><script>alert(1)</script>",
            Some("/search?q=\"><script>alert(2)</script>"),
        );
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;b&gt;bad&lt;/b&gt;"));
        assert!(page.contains(r#"name="next" value="/search?q=&quot;&gt;&lt;script&gt;"#));
    }

    #[test]
    fn snippets_mark_matches_without_trusting_the_text() {
        let hits = vec![SearchHit {
            ticket_id: 3,
            subject: "<i>x</i>".into(),
            snippet: "the \u{2}printer\u{3} <script>".into(),
            contact: "a@b.c".into(),
            status: "<Closed>".into(),
            closed: true,
        }];
        use crate::desk::ticket_fields::{FieldDef, Kind};
        let def = |name: &str, in_inbox| FieldDef {
            name: name.into(),
            kind: Kind::Text,
            in_inbox,
        };
        let defs = [def("Product", true), def("Order number", false)];
        let values = [
            (3, "product".to_string(), "Hinge <2>".to_string()),
            (3, "order number".to_string(), "A-1".to_string()),
            (4, "product".to_string(), "Lamp".to_string()),
        ];
        let page = search("printer", false, &hits, (&defs, &values));
        assert!(
            page.contains(r#"<span>a@b.c</span> <a class="row-field" href="/inbox?view=all&amp;field=product&amp;value=Hinge%20%3C2%3E">Product: Hinge &lt;2&gt;</a><p class="snippet">"#),
            "{page}"
        );
        assert!(!page.contains("A-1") && !page.contains("Lamp"), "{page}");
        assert!(page.contains("<mark>printer</mark>"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(page.contains("&lt;i&gt;x&lt;/i&gt;"));
        assert!(page.contains(r#"<li data-ticket="3" class="closed">"#));
        assert!(page.contains(r#"<span class="status">&lt;Closed&gt;</span>"#));
    }

    #[test]
    fn times_show_as_a_short_date_in_utc_inside_a_time_element() {
        assert_eq!(
            time_tag("2026-11-26T13:21:06Z"),
            r#"<time datetime="2026-11-26T13:21:06Z" title="2026-11-26T13:21:06Z">26 Nov 2026, 13:21 UTC</time>"#
        );
        assert_eq!(
            time_tag("2026-01-05T23:59:00+02:00"),
            r#"<time datetime="2026-01-05T23:59:00+02:00" title="2026-01-05T23:59:00+02:00">5 Jan 2026, 21:59 UTC</time>"#
        );
        // Not a stamp: shown as it is, escaped.
        assert_eq!(
            time_tag("<b>"),
            r#"<time datetime="&lt;b&gt;" title="&lt;b&gt;">&lt;b&gt;</time>"#
        );
    }

    #[test]
    fn senders_show_their_name_when_they_gave_one() {
        assert_eq!(
            sender(Some("Jamis Buck"), Some("jamis@37signals.com")),
            "Jamis Buck <jamis@37signals.com>"
        );
        assert_eq!(sender(None, Some("a@b.example")), "a@b.example");
        assert_eq!(sender(Some("  "), Some("a@b.example")), "a@b.example");
        assert_eq!(
            sender(Some("a@b.example"), Some("a@b.example")),
            "a@b.example"
        );
        assert_eq!(sender(Some("Ann"), None), "Ann <?>");
    }

    #[test]
    fn inbox_links_keep_the_filters_in_a_fixed_order_and_encode_them() {
        assert_eq!(
            inbox_link(InboxView::Mine, Filters::default(), None),
            "/inbox?view=mine"
        );
        let all = Filters {
            channel: Some("web form"),
            status: Some("Waiting on contact"),
            priority: Some("urgent"),
            tag: Some("vip&co"),
            awaiting_us: true,
            contact: Some("o'brien+x@example.org"),
            field: Some(("Order number", "A-47/11")),
            oldest_first: false,
        };
        assert_eq!(
            inbox_link(InboxView::All, all, Some(4242)),
            "/inbox?view=all&before=4242&channel=web%20form&status=Waiting%20on%20contact&priority=urgent&tag=vip%26co&contact=o%27brien%2Bx%40example.org&field=Order%20number&value=A-47%2F11&awaiting=1"
        );
        // Oldest first, the cursor goes the other way.
        let oldest = Filters {
            oldest_first: true,
            ..all
        };
        assert_eq!(
            inbox_link(InboxView::All, oldest, Some(4242)),
            "/inbox?view=all&after=4242&channel=web%20form&status=Waiting%20on%20contact&priority=urgent&tag=vip%26co&contact=o%27brien%2Bx%40example.org&field=Order%20number&value=A-47%2F11&awaiting=1&order=oldest"
        );
        assert_eq!(
            inbox_link(
                InboxView::Mine,
                Filters {
                    oldest_first: true,
                    ..Filters::default()
                },
                None
            ),
            "/inbox?view=mine&order=oldest"
        );
        let some = Filters {
            status: Some("Closed"),
            tag: Some("a"),
            ..Filters::default()
        };
        assert_eq!(
            inbox_link(InboxView::Closed, some, None),
            "/inbox?view=closed&status=Closed&tag=a"
        );
    }

    #[test]
    fn a_tag_chip_narrows_the_current_filters_and_its_cross_only_drops_the_tag() {
        // (and the "customer wrote last" box shows as ticked)
        let row = InboxRow {
            ticket: crate::store::TicketSummary {
                id: 1,
                pipeline: "support".into(),
                priority: "medium".into(),
                tags: vec!["vip".into()],
                team: None,
                subject: "s".into(),
                status: "New".into(),
                channel: "support".into(),
                contact: crate::store::ContactRef {
                    email: "a@b.example".into(),
                    name: None,
                },
                owner: None,
                messages: 1,
                created_at: String::new(),
                updated_at: String::new(),
            },
            awaiting_us: false,
            unread: false,
            snoozed_until: None,
            activity: 1,
            created_at: 0,
            waiting_since: None,
            answered: false,
        };
        let counts = [(InboxView::Open, 1)];
        let page = inbox(&InboxPage {
            view: InboxView::Open,
            counts: &counts,
            rows: std::slice::from_ref(&row),
            channels: &[],
            filters: Filters {
                channel: Some("support"),
                status: Some("New"),
                priority: Some("high"),
                tag: Some("billing"),
                awaiting_us: true,
                contact: Some("olga@example.org"),
                field: None,
                oldest_first: false,
            },
            next: None,
            now: 0,
            agents: &[],
            teams: &[],
            stages: &[],
            csrf: "t",
            back: "/inbox",
            sla: None,
            saved: &[crate::store::SavedView {
                id: 3,
                name: "<Olga's>".into(),
                link: "/inbox?view=open&channel=support".into(),
            }],
            saved_link: "/inbox?view=open&channel=support",
            closes: &[(2, 60), (1, 2 * 86_400 + 3 * 3600)],
            macros: &[],
            row_fields: &[(1, "product".into(), "Hinge <2>".into())],
            ticket_fields: &[
                crate::desk::ticket_fields::FieldDef {
                    name: "Order <no>".into(),
                    kind: crate::desk::ticket_fields::Kind::Text,
                    in_inbox: false,
                },
                crate::desk::ticket_fields::FieldDef {
                    name: "Product".into(),
                    kind: crate::desk::ticket_fields::Kind::Choice(vec!["Hinge".into()]),
                    in_inbox: true,
                },
            ],
        });
        // A field shown on the rows: its value, linking to the rows with it.
        assert!(
            page.contains(r#" <a class="row-field" href="/inbox?view=open&amp;channel=support&amp;status=New&amp;priority=high&amp;tag=billing&amp;contact=olga%40example.org&amp;field=product&amp;value=Hinge%20%3C2%3E&amp;awaiting=1">Product: Hinge &lt;2&gt;</a>"#),
            "{page}"
        );
        // The filter by a field: each field in the menu, a choice's values suggested.
        assert!(
            page.contains(r#"<option value="">Any field</option><option value="Order &lt;no&gt;">Order &lt;no&gt;</option><option value="Product">Product</option></select>"#)
                && page.contains(r#"<datalist id="field-values"><option value="Hinge"></datalist>"#),
            "{page}"
        );
        assert!(
            page.contains(r#"<span class="badge closes" title="The desk closes it by itself "#)
                && page.contains(">closes in 2 d 3 h</span>"),
            "{page}"
        );
        assert!(!page.contains("closes in 1 min"), "another ticket's");
        assert!(page.contains(
            r#"<a class="tag" href="/inbox?view=open&amp;channel=support&amp;status=New&amp;priority=high&amp;tag=vip&amp;contact=olga%40example.org&amp;awaiting=1">vip</a>"#
        ));
        // A saved view: its name escaped, marked when shown, a place for its count (the
        // script fills it in) and a button to delete it.
        assert!(page.contains(
            r#"<li><a href="/inbox?view=open&amp;channel=support" aria-current="page">&lt;Olga&#39;s&gt; <span class="count" data-saved-view="3"></span></a><form method="post" action="/views/3/delete">"#
        ), "{page}");
        assert!(page.contains(r#"aria-label="Delete saved view &lt;Olga&#39;s&gt;">×</button>"#));
        assert!(page.contains(
            r#"<input type="hidden" name="link" value="/inbox?view=open&amp;channel=support">"#
        ));
        assert!(page.contains(
            r#"<a href="/inbox?view=open&amp;channel=support&amp;status=New&amp;priority=high&amp;contact=olga%40example.org&amp;awaiting=1" aria-label="Stop filtering by tag billing">"#
        ));
        // The priority asked for is chosen in its menu.
        assert!(
            page.contains(r#"<option value="high" selected>high</option>"#),
            "{page}"
        );
        // The customer chip's × keeps the other filters and lifts only the customer.
        assert!(page.contains(
            r#"customer <b>olga@example.org</b> <a href="/inbox?view=open&amp;channel=support&amp;status=New&amp;priority=high&amp;tag=billing&amp;awaiting=1" aria-label="Stop filtering by customer olga@example.org">×</a>"#
        ));
    }

    #[test]
    fn a_saved_view_has_a_short_one_line_name() {
        assert_eq!(
            saved_view_name("  Billing, waiting "),
            Ok("Billing, waiting".into())
        );
        assert_eq!(saved_view_name("ä".repeat(40).as_str()), Ok("ä".repeat(40)));
        assert!(saved_view_name("   ").is_err());
        assert!(saved_view_name(&"a".repeat(41)).is_err());
        assert!(saved_view_name("two\nlines").is_err());
    }

    #[test]
    fn a_waiting_customer_s_answer_shows_when_it_is_due() {
        let sla = Sla {
            first_answer: sla::Targets {
                high: Some(4 * 3600),
                ..Default::default()
            },
            next_answer: sla::Targets {
                high: Some(8 * 3600),
                ..Default::default()
            },
            hours: None,
            // Sales answers high priority within the hour.
            channels: vec![sla::ChannelTargets {
                channel: "sales".into(),
                first_answer: sla::Targets {
                    high: Some(3600),
                    ..Default::default()
                },
                next_answer: sla::Targets::default(),
                hours: None,
            }],
        };
        let now = 1_790_000_000;
        let badge = |since: Option<i64>, priority: &str, answered: bool| {
            answer_due(Some(&sla), "support", since, priority, answered, now)
        };
        // Waiting 1 h of a 4 h first-answer target.
        let b = badge(Some(now - 3600), "high", false);
        assert!(b.contains(r#"class="badge answer-due later""#), "{b}");
        assert!(b.contains(">answer due in 3 h<"), "{b}");
        assert!(b.contains(r#"title="First answer due "#), "{b}");
        // Answered before: the next-answer target.
        let b = badge(Some(now - 3600), "high", true);
        assert!(
            b.contains(">answer due in 7 h<") && b.contains("Next answer"),
            "{b}"
        );
        let b = badge(Some(now - 3 * 3600 - 1800), "high", false);
        assert!(
            b.contains("answer-due soon") && b.contains("in 30 min"),
            "{b}"
        );
        let b = badge(Some(now - 5 * 3600), "high", false);
        assert!(
            b.contains("answer-due late") && b.contains("overdue by 1 h"),
            "{b}"
        );
        // Nobody waiting, no target for the priority, no [sla], a priority not known.
        assert_eq!(badge(None, "high", false), "");
        assert_eq!(badge(Some(now), "low", false), "");
        assert_eq!(
            answer_due(None, "support", Some(now), "high", false, now),
            ""
        );
        // A channel's own target.
        let b = answer_due(
            Some(&sla),
            "sales",
            Some(now - 2 * 3600),
            "high",
            false,
            now,
        );
        assert!(
            b.contains("answer-due late") && b.contains("overdue by 1 h"),
            "{b}"
        );
        let b = answer_due(Some(&sla), "sales", Some(now - 1800), "high", false, now);
        assert!(b.contains(">answer due in 30 min<"), "{b}");
        assert_eq!(
            answer_due(Some(&sla), "sales", Some(now), "high", true, now),
            "",
            "this sales has no next-answer target"
        );
        assert_eq!(badge(Some(now), "critical", false), "");
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(age(5), "now");
        assert_eq!(age(120), "2m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(3 * 86_400), "3d");
    }
}
