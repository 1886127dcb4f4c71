//! The pages that ask an administrator to confirm what an erasure takes away: a
//! customer (their tickets, their mail, their contact) or one ticket (pure).

use std::fmt::Write;

use crate::outbound::template::html_escape as esc;
use crate::store::{Erasure, TicketDeletion};

/// "1 ticket", "2 tickets".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the page asking to confirm an erasure shows.
pub struct CustomerErase<'a> {
    /// What it would erase.
    pub erasure: &'a Erasure,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

/// The page that says what erasing a customer takes and asks for their address to go on.
pub fn customer(p: &CustomerErase<'_>) -> String {
    let e = p.erasure;
    let called = match e.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{name} <{}>", e.email),
        None => e.email.clone(),
    };
    let mut out = format!(
        r#"<section class="erase" data-customer="{id}"><p class="back"><a href="/customers/{id}">Back to the customer</a></p><h1>Erase {called}</h1><p>This takes away, for good:</p><ul class="erasure">"#,
        id = e.contact,
        called = esc(&called),
    );
    let _ = write!(
        out,
        "<li>{} with every mail, reply, internal note and file on them ({}, {}), their history and fields;</li>",
        plural(e.tickets, "ticket", "tickets"),
        plural(e.messages, "message", "messages"),
        plural(e.attachments, "file", "files"),
    );
    if e.elsewhere > 0 {
        let _ = write!(
            out,
            "<li>{} on other customers' tickets (those tickets stay);</li>",
            plural(e.elsewhere, "mail of theirs", "mails of theirs"),
        );
    }
    if e.unsent > 0 {
        let _ = write!(
            out,
            "<li>{} to them not sent yet, which will not go;</li>",
            plural(e.unsent, "reply", "replies"),
        );
    }
    out.push_str(
        "<li>the contact: their address, name, owner and note.</li></ul>\
         <p class=\"hint\">Their words leave the search too. If their mail was filed as spam, a new mail from them is not: the desk no longer knows the address. Copies of the database made before now (backups) still hold them.</p>",
    );
    let _ = write!(
        out,
        r#"<form class="erase-form" method="post" action="/customers/{id}/erase"><input type="hidden" name="csrf" value="{csrf}"><label>Type their address to confirm <input type="email" name="confirm" required autocomplete="off" spellcheck="false"></label> <button type="submit" class="danger">Erase for good</button></form></section>"#,
        id = e.contact,
        csrf = esc(p.csrf),
    );
    out
}

/// What the page asking to confirm a ticket's deletion shows.
pub struct TicketDelete<'a> {
    /// What it would delete.
    pub deletion: &'a TicketDeletion,
    /// The session's CSRF token.
    pub csrf: &'a str,
}

/// The page that says what deleting a ticket takes and asks to go on.
pub fn ticket(p: &TicketDelete<'_>) -> String {
    let d = p.deletion;
    let mut out = format!(
        r#"<section class="erase" data-ticket="{id}"><p class="back"><a href="/tickets/{id}">Back to the ticket</a></p><h1>Delete ticket #{id} {subject}</h1><p>This takes away, for good:</p><ul class="erasure"><li>{messages} with every file on them ({files}), its history and fields, and any ticket merged into it;</li>"#,
        id = d.ticket,
        subject = esc(&d.subject),
        messages = plural(
            d.messages,
            "mail, reply or note",
            "mails, replies and notes"
        ),
        files = plural(d.attachments, "file", "files"),
    );
    if d.unsent > 0 {
        let _ = write!(
            out,
            "<li>{} not sent yet, which will not go;</li>",
            plural(d.unsent, "reply", "replies"),
        );
    }
    let _ = write!(
        out,
        r#"</ul><p class="hint">The customer stays, with their other tickets. A late reply to this ticket starts a new one. Use it for mail that should never have been kept; "Spam" and closing keep a record.</p><form class="erase-form" method="post" action="/tickets/{id}/delete"><input type="hidden" name="csrf" value="{csrf}"><button type="submit" class="danger">Delete for good</button></form></section>"#,
        id = d.ticket,
        csrf = esc(p.csrf),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_erase_page_says_what_goes_and_escapes_who() {
        let erasure = Erasure {
            contact: 7,
            email: "o'brien@acme.example".into(),
            name: Some("<b>Olga</b>".into()),
            tickets: 1,
            messages: 4,
            elsewhere: 2,
            attachments: 1,
            unsent: 0,
        };
        let page = customer(&CustomerErase {
            erasure: &erasure,
            csrf: "tok",
        });
        assert!(!page.contains("<b>Olga"), "{page}");
        assert!(
            page.contains(
                "<h1>Erase &lt;b&gt;Olga&lt;/b&gt; &lt;o&#39;brien@acme.example&gt;</h1>"
            ),
            "{page}"
        );
        assert!(page.contains("<li>1 ticket with every mail, reply, internal note and file on them (4 messages, 1 file)"), "{page}");
        assert!(
            page.contains("<li>2 mails of theirs on other customers' tickets"),
            "{page}"
        );
        assert!(!page.contains("not sent yet"), "nothing unsent: {page}");
        assert!(page.contains(r#"action="/customers/7/erase""#));
        assert!(page.contains(r#"name="csrf" value="tok""#));
    }

    #[test]
    fn the_delete_page_says_what_goes_and_escapes_the_subject() {
        let deletion = TicketDeletion {
            ticket: 12,
            subject: "<script>x</script>".into(),
            customer: 3,
            messages: 1,
            attachments: 2,
            unsent: 1,
        };
        let page = ticket(&TicketDelete {
            deletion: &deletion,
            csrf: "tok",
        });
        assert!(!page.contains("<script>"), "{page}");
        assert!(
            page.contains("<h1>Delete ticket #12 &lt;script&gt;x&lt;/script&gt;</h1>"),
            "{page}"
        );
        assert!(
            page.contains("<li>1 mail, reply or note with every file on them (2 files)"),
            "{page}"
        );
        assert!(page.contains("<li>1 reply not sent yet"), "{page}");
        assert!(page.contains(r#"action="/tickets/12/delete""#));
        assert!(page.contains(r#"name="csrf" value="tok""#));
    }
}
