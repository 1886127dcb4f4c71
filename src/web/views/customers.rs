//! The customers directory and a customer's page (pure).

use std::fmt::Write;

use super::{
    agent_name, contact_form, contact_note, domain_of, inbox_link, time_tag, Filters, Flash,
};
use crate::model::{percent_encode, rfc3339};
use crate::outbound::template::html_escape as esc;
use crate::store::{CustomerDetail, CustomerList, CustomerRow, InboxView, UserView};

/// The longest search the directory takes (an address is at most 320 characters).
pub const MAX_SEARCH: usize = 320;

/// What the directory shows.
pub struct Directory<'a> {
    /// The words searched for ("" lists everyone).
    pub search: &'a str,
    /// Only the agent's own customers.
    pub mine: bool,
    /// This page of it.
    pub list: &'a CustomerList,
    /// Agents, to name owners.
    pub agents: &'a [UserView],
    /// This is a later page (it links back to the first).
    pub later: bool,
    /// What the last form did.
    pub flash: Option<Flash<'a>>,
}

/// A customer's name, else their address.
fn called(row: &CustomerRow) -> &str {
    row.name
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or(&row.email)
}

/// "Blocked" beside a customer whose mail is filed as spam.
fn blocked_badge(row: &CustomerRow) -> &'static str {
    if row.blocked {
        r#" <span class="badge blocked" title="Their mail is filed as spam">blocked</span>"#
    } else {
        ""
    }
}

/// When a customer's tickets last moved, or a dash without any.
fn last_moved(row: &CustomerRow) -> String {
    row.last_activity
        .map_or_else(|| "—".to_string(), |at| time_tag(&rfc3339(at)))
}

/// The customers directory: everyone who wrote, latest first, and a search.
pub fn directory(p: &Directory<'_>) -> String {
    let mut out = format!(
        r#"<section class="customers"><h1>Customers</h1><form class="customer-search" method="get" action="/customers" role="search"><label>Find a customer <input type="search" name="q" value="{}" maxlength="{MAX_SEARCH}" placeholder="Name, address, or @company.example"></label> <label><input type="checkbox" name="mine" value="1"{}> Only mine</label> <button type="submit">Find</button></form>"#,
        esc(p.search),
        if p.mine { " checked" } else { "" },
    );
    super::flash_line(&mut out, p.flash);
    if !p.search.is_empty() || p.mine {
        let whose = if p.mine {
            "Your customers"
        } else {
            "Customers"
        };
        let said = match p.search.strip_prefix('@') {
            _ if p.search.is_empty() => whose.to_string(),
            Some(domain) => format!("{whose} at {domain}"),
            None => format!("{whose} whose name or address holds “{}”", p.search),
        };
        let _ = write!(
            out,
            r#"<p class="found">{}, latest first. <a href="/customers">All customers</a></p>"#,
            esc(&said)
        );
    } else {
        out.push_str(
            r#"<p class="hint">Everyone with a ticket, whoever wrote or was answered last first. A search also finds people only ever copied on mail.</p>"#,
        );
    }
    if p.list.rows.is_empty() {
        out.push_str(r#"<p class="empty">No customer found.</p>"#);
    } else {
        out.push_str(
            r#"<table class="customer-list"><thead><tr><th scope="col">Customer</th><th scope="col">Address</th><th scope="col">Open</th><th scope="col">Tickets</th><th scope="col">Owner</th><th scope="col">Last activity</th></tr></thead><tbody>"#,
        );
        for row in &p.list.rows {
            let _ = write!(
                out,
                r#"<tr data-customer="{id}"><td><a href="/customers/{id}">{called}</a>{blocked}</td><td>{email}</td><td>{open}</td><td>{tickets}</td><td>{owner}</td><td>{moved}</td></tr>"#,
                id = row.id,
                called = esc(called(row)),
                blocked = blocked_badge(row),
                email = esc(&row.email),
                open = row.open,
                tickets = row.tickets,
                owner = esc(&agent_name(p.agents, row.owner.as_deref())),
                moved = last_moved(row),
            );
        }
        out.push_str("</tbody></table>");
    }
    let mut pages = Vec::new();
    let asked = format!(
        "/customers?q={}{}",
        percent_encode(p.search),
        if p.mine { "&mine=1" } else { "" }
    );
    if p.later {
        pages.push(format!(r#"<a href="{}">First page</a>"#, esc(&asked)));
    }
    if let Some(next) = p.list.next {
        pages.push(format!(
            r#"<a rel="next" href="{}">More customers</a>"#,
            esc(&format!("{asked}&after={}", next.to_param()))
        ));
    }
    if !pages.is_empty() {
        let _ = write!(out, r#"<p class="pages">{}</p>"#, pages.join(" · "));
    }
    out.push_str("</section>");
    out
}

/// What a customer's page shows.
pub struct CustomerPage<'a> {
    /// Them.
    pub customer: &'a CustomerDetail,
    /// Agents, to name owners and offer one.
    pub agents: &'a [UserView],
    /// What the last form did.
    pub flash: Option<Flash<'a>>,
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// The agent is an administrator (offered "Erase customer").
    pub admin: bool,
}

/// A customer's page: who they are, what agents note about them, all their tickets,
/// the tickets they were copied on, and their company's other people.
pub fn customer(p: &CustomerPage<'_>) -> String {
    let c = p.customer;
    let row = &c.row;
    let mut out = format!(
        r#"<section class="customer" data-customer="{id}"><p class="back"><a href="/customers">Customers</a></p><h1>{called}{blocked}</h1>"#,
        id = row.id,
        called = esc(called(row)),
        blocked = blocked_badge(row),
    );
    super::flash_line(&mut out, p.flash);
    let _ = write!(
        out,
        r#"<p class="address">{email}</p><p class="facts">{open} open of {tickets} ticket{s} · owner {owner} · known since {since}</p>"#,
        email = esc(&row.email),
        open = row.open,
        tickets = row.tickets,
        s = if row.tickets == 1 { "" } else { "s" },
        owner = esc(&agent_name(p.agents, row.owner.as_deref())),
        since = time_tag(&rfc3339(c.since)),
    );
    if let Some(domain) = &c.blocked_domain {
        let _ = write!(
            out,
            r#"<p class="blocked-note">All mail from {} is filed as spam.</p>"#,
            esc(domain)
        );
    } else if row.blocked {
        out.push_str(r#"<p class="blocked-note">Their mail is filed as spam ("Not spam" on one of their tickets undoes it).</p>"#);
    }
    contact_note(&mut out, &c.note, p.agents);
    // Another matter with them: a ticket of its own, on the channel they used last.
    let addressee = match row.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => format!("{name} <{}>", row.email),
        None => row.email.clone(),
    };
    let channel = c.tickets.first().map_or("", |t| t.channel.as_str());
    let _ = write!(
        out,
        r#"<p class="customer-links"><a class="write-first" href="/tickets/new?to={to}&amp;channel={channel}">New ticket to them</a> · <a href="{inbox}">Their tickets in the inbox</a> · <a href="/search?q={search}">Their mail in search</a></p>"#,
        to = esc(&percent_encode(&addressee)),
        channel = esc(&percent_encode(channel)),
        inbox = esc(&their_tickets(&row.email)),
        search = esc(&percent_encode(&format!("from:{}", row.email))),
    );
    contact_form(
        &mut out,
        &format!("/customers/{}/contact", row.id),
        (row.name.as_deref(), row.owner.as_deref(), &c.note.text),
        p.agents,
        p.csrf,
    );
    out.push_str("<h2>Tickets</h2>");
    if c.tickets.is_empty() {
        out.push_str(
            r#"<p class="empty">None of their own: they were copied on others' mail.</p>"#,
        );
    } else {
        out.push_str(
            r#"<table class="customer-tickets"><thead><tr><th scope="col">#</th><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Channel</th><th scope="col">Owner</th><th scope="col">Last activity</th></tr></thead><tbody>"#,
        );
        for t in &c.tickets {
            let _ = write!(
                out,
                r#"<tr class="ticket{closed}" data-ticket="{id}"><td>{id}</td><td><a href="/tickets/{id}">{subject}</a></td><td>{status}</td><td>{channel}</td><td>{owner}</td><td>{moved}</td></tr>"#,
                closed = if t.closed { " closed" } else { "" },
                id = t.id,
                subject = esc(&t.subject),
                status = esc(&t.status),
                channel = esc(&t.channel),
                owner = esc(&agent_name(p.agents, t.owner.as_deref())),
                moved = time_tag(&rfc3339(t.updated)),
            );
        }
        out.push_str("</tbody></table>");
        if row.tickets > c.tickets.len() as i64 {
            let _ = write!(
                out,
                r#"<p class="more">These are the latest {}. <a href="{}">All {} of their tickets</a></p>"#,
                c.tickets.len(),
                esc(&their_tickets(&row.email)),
                row.tickets
            );
        }
    }
    if !c.copied_on.is_empty() {
        out.push_str(r#"<h2>Copied on</h2><ul class="copied-on">"#);
        for t in &c.copied_on {
            let _ = write!(
                out,
                r#"<li><a href="/tickets/{0}">#{0} {1}</a> ({2})</li>"#,
                t.id,
                esc(&t.subject),
                esc(&t.status)
            );
        }
        out.push_str("</ul>");
    }
    if !c.colleagues.is_empty() {
        let domain = domain_of(&row.email);
        let _ = write!(
            out,
            r#"<h2>Others at {}</h2><ul class="colleagues">"#,
            esc(&domain)
        );
        for other in &c.colleagues {
            let _ = write!(
                out,
                r#"<li><a href="/customers/{}">{}</a> {} · {} open of {}</li>"#,
                other.id,
                esc(called(other)),
                esc(&other.email),
                other.open,
                other.tickets
            );
        }
        out.push_str("</ul>");
        if c.colleagues_more {
            let _ = write!(
                out,
                r#"<p class="more"><a href="/customers?q={}">Everyone at {}</a></p>"#,
                esc(&percent_encode(&format!("@{domain}"))),
                esc(&domain)
            );
        }
    }
    out.push_str(r#"<h2>Erase</h2>"#);
    if p.admin {
        let _ = write!(
            out,
            r#"<p class="hint">When they ask the desk to forget them: their tickets, their mail and everything noted about them go for good. <a class="erase-link" href="/customers/{}/erase">Erase customer…</a></p>"#,
            row.id
        );
    } else {
        out.push_str(r#"<p class="hint">When they ask the desk to forget them, an administrator erases them here.</p>"#);
    }
    out.push_str("</section>");
    out
}

/// The inbox listing every ticket of the customer at `email`.
fn their_tickets(email: &str) -> String {
    inbox_link(
        InboxView::All,
        Filters {
            contact: Some(email),
            ..Filters::default()
        },
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ContactNote, CustomerCursor, CustomerTicket};

    fn row(id: i64, email: &str, name: Option<&str>) -> CustomerRow {
        CustomerRow {
            id,
            email: email.into(),
            name: name.map(str::to_string),
            owner: None,
            blocked: false,
            open: 1,
            tickets: 3,
            last_activity: Some(1_700_000_000),
        }
    }

    #[test]
    fn the_directory_escapes_what_customers_wrote_and_keeps_the_search_when_paging() {
        let list = CustomerList {
            rows: vec![
                row(7, "x@evil.example", Some("<img src=x onerror=alert(1)>")),
                CustomerRow {
                    blocked: true,
                    last_activity: None,
                    ..row(3, "cc@example.org", None)
                },
            ],
            next: Some(CustomerCursor(41, 3)),
        };
        let page = directory(&Directory {
            search: "a&b \"c\"",
            mine: false,
            list: &list,
            agents: &[],
            later: true,
            flash: None,
        });
        assert!(!page.contains("<img"), "{page}");
        assert!(
            page.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{page}"
        );
        assert!(page.contains(r#"value="a&amp;b &quot;c&quot;""#), "{page}");
        assert!(
            page.contains(r#"<a rel="next" href="/customers?q=a%26b%20%22c%22&amp;after=41.3">More customers</a>"#),
            "{page}"
        );
        assert!(page.contains(r#"<a href="/customers?q=a%26b%20%22c%22">First page</a>"#));
        // Without a name, the address; blocked marked; no activity a dash.
        assert!(page
            .contains(r#"<a href="/customers/3">cc@example.org</a> <span class="badge blocked""#));
        assert!(page.contains("<td>—</td>"), "{page}");
        let first = directory(&Directory {
            search: "",
            mine: true,
            list: &CustomerList::default(),
            agents: &[],
            later: false,
            flash: Some(Ok("Erased: the desk no longer knows them.")),
        });
        assert!(first.contains(r#"<p class="flash" role="status">Erased"#));
        assert!(first.contains("No customer found."));
        assert!(
            first.contains(r#"<input type="checkbox" name="mine" value="1" checked> Only mine"#)
        );
        assert!(first.contains("Your customers, latest first."), "{first}");
        assert!(!first.contains("More customers") && !first.contains("First page"));
    }

    #[test]
    fn a_customers_page_escapes_their_name_note_and_tickets() {
        let detail = CustomerDetail {
            row: CustomerRow {
                tickets: 60,
                ..row(7, "o'brien@acme.example", Some("<b>Olga</b>"))
            },
            note: ContactNote {
                text: "<script>x</script>\nline two".into(),
                by: None,
                at: None,
            },
            blocked_domain: None,
            since: 1_600_000_000,
            tickets: vec![CustomerTicket {
                id: 4,
                subject: "<i>Hinge</i>".into(),
                status: "Closed".into(),
                channel: "support desk".into(),
                owner: None,
                closed: true,
                updated: 1_700_000_000,
            }],
            copied_on: Vec::new(),
            colleagues: vec![row(8, "piet@acme.example", None)],
            colleagues_more: true,
        };
        let page = customer(&CustomerPage {
            customer: &detail,
            agents: &[],
            flash: None,
            csrf: "tok",
            admin: false,
        });
        assert!(!page.contains("erase-link"), "only for an administrator");
        let admins = customer(&CustomerPage {
            customer: &detail,
            agents: &[],
            flash: None,
            csrf: "tok",
            admin: true,
        });
        assert!(admins.contains(r#"<a class="erase-link" href="/customers/7/erase">"#));
        for raw in ["<b>Olga", "<script>", "<i>Hinge"] {
            assert!(!page.contains(raw), "{raw}: {page}");
        }
        assert!(
            page.contains("&lt;script&gt;x&lt;/script&gt;<br>line two"),
            "{page}"
        );
        assert!(page.contains(r#"<tr class="ticket closed" data-ticket="4">"#));
        assert!(page.contains(r#"action="/customers/7/contact""#));
        assert!(page.contains(r#"name="csrf" value="tok""#));
        assert!(
            page.contains("These are the latest 1."),
            "more tickets than listed"
        );
        assert!(page.contains("channel=support%20desk"), "{page}");
        assert!(
            page.contains(r#"<a href="/customers?q=%40acme.example">Everyone at acme.example</a>"#),
            "{page}"
        );
    }
}
