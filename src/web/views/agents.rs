//! The administrators' Agents page (pure): everyone who works the desk, with their
//! teams, seat, rights and sign-in, a form to add one, and, for the one picked, forms
//! to change them, set a new password, turn their two-step sign-in off, and deactivate
//! or reactivate them.

use std::fmt::Write;

use super::{flash_line, Flash};
use crate::outbound::template::html_escape as esc;
use crate::store::{TeamView, UserView};

/// What the add form had typed, shown again when it was refused (never the password).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAgentTyped {
    /// Address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Seat ticked.
    pub seat: bool,
    /// Administrator ticked.
    pub admin: bool,
    /// Teams ticked.
    pub teams: Vec<String>,
}

/// Everything the page shows.
pub struct AgentsPage<'a> {
    /// Every agent, deactivated ones too.
    pub agents: &'a [UserView],
    /// Every team with its members.
    pub teams: &'a [TeamView],
    /// The administrator looking (who cannot demote or deactivate themselves).
    pub me: &'a str,
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// The agent picked for changes.
    pub editing: Option<&'a str>,
    /// What the last form did.
    pub flash: Option<Flash<'a>>,
    /// The add form's fields.
    pub typed: &'a NewAgentTyped,
}

/// An agent's teams, by name.
fn teams_of<'t>(teams: &'t [TeamView], email: &str) -> Vec<&'t str> {
    teams
        .iter()
        .filter(|t| t.members.iter().any(|m| m == email))
        .map(|t| t.name.as_str())
        .collect()
}

/// "Yes" or nothing, for a table cell.
fn yes(on: bool) -> &'static str {
    if on {
        "Yes"
    } else {
        ""
    }
}

/// A checkbox with its label.
fn checkbox(out: &mut String, name: &str, value: &str, checked: bool, label: &str) {
    let _ = write!(
        out,
        r#"<label><input type="checkbox" name="{}" value="{}"{}> {}</label>"#,
        esc(name),
        esc(value),
        if checked { " checked" } else { "" },
        esc(label),
    );
}

/// The teams fieldset, `chosen` ticked.
fn team_boxes(out: &mut String, teams: &[TeamView], chosen: &[&str]) {
    if teams.is_empty() {
        out.push_str(r#"<p class="hint">No teams yet: add one below.</p>"#);
        return;
    }
    out.push_str("<fieldset><legend>Teams</legend>");
    for t in teams {
        checkbox(
            out,
            "team",
            &t.name,
            chosen.iter().any(|c| c.eq_ignore_ascii_case(&t.name)),
            &t.name,
        );
    }
    out.push_str("</fieldset>");
}

/// The Agents page.
pub fn page(p: &AgentsPage<'_>) -> String {
    let mut out = String::from("<h1>Agents</h1>");
    flash_line(&mut out, p.flash);
    out.push_str(r#"<table class="agents"><thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Teams</th><th scope="col">Seat</th><th scope="col">Administrator</th><th scope="col">Two-step sign-in</th><th scope="col">State</th></tr></thead><tbody>"#);
    for a in p.agents {
        let state = match (a.active, a.available) {
            (false, _) => "Deactivated",
            (true, true) => "Available",
            (true, false) => "Away",
        };
        let _ = write!(
            out,
            r#"<tr data-agent="{email}"{class}><td><a href="/agents?edit={link}#edit">{name}</a></td><td>{email}</td><td>{teams}</td><td>{seat}</td><td>{admin}</td><td>{two_step}</td><td>{state}</td></tr>"#,
            email = esc(&a.email),
            link = crate::model::percent_encode(&a.email),
            class = if a.active { "" } else { r#" class="inactive""# },
            name = esc(&a.full_name),
            teams = esc(&teams_of(p.teams, &a.email).join(", ")),
            seat = yes(a.seat),
            admin = yes(a.admin),
            two_step = if a.two_step { "On" } else { "" },
        );
    }
    out.push_str("</tbody></table>");
    if let Some(agent) = p
        .editing
        .and_then(|e| p.agents.iter().find(|a| a.email == e))
    {
        edit_section(&mut out, p, agent);
    }
    add_form(&mut out, p);
    teams_section(&mut out, p);
    out
}

/// The teams with how many are in each, and a form to add one.
fn teams_section(out: &mut String, p: &AgentsPage<'_>) {
    out.push_str(r#"<section class="teams"><h2>Teams</h2>"#);
    if !p.teams.is_empty() {
        out.push_str(r#"<ul class="teams">"#);
        for t in p.teams {
            let _ = write!(
                out,
                "<li>{} <span class=\"hint\">({})</span></li>",
                esc(&t.name),
                match t.members.len() {
                    0 => "nobody yet".to_string(),
                    1 => "1 agent".to_string(),
                    n => format!("{n} agents"),
                }
            );
        }
        out.push_str("</ul>");
    }
    let _ = write!(
        out,
        r#"<form class="team-add" method="post" action="/agents/teams"><input type="hidden" name="csrf" value="{}"><label>New team <input type="text" name="team" required maxlength="100" autocomplete="off"></label><button type="submit">Add team</button></form><p class="hint">Then tick it for its agents above. A channel's routing can give its new tickets to a team.</p></section>"#,
        esc(p.csrf)
    );
}

/// The forms that change one agent.
fn edit_section(out: &mut String, p: &AgentsPage<'_>, a: &UserView) {
    let csrf = format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        esc(p.csrf)
    );
    let who = format!(
        r#"<input type="hidden" name="email" value="{}">"#,
        esc(&a.email)
    );
    let myself = a.email == p.me;
    let _ = write!(
        out,
        r#"<section id="edit" class="agent-edit"><h2>{} <span class="hint">{}</span></h2><form class="agent-save" method="post" action="/agents/save">{csrf}{who}<label>Name <input type="text" name="name" value="{}" required maxlength="200" autocomplete="off"></label>"#,
        esc(&a.full_name),
        esc(&a.email),
        esc(&a.full_name),
    );
    checkbox(
        out,
        "seat",
        "on",
        a.seat,
        "Seat: routing and colleagues may give them tickets",
    );
    if myself {
        // Unticked boxes are not sent: say "on" for them, as the box would.
        out.push_str(r#"<input type="hidden" name="admin" value="on"><p class="hint">You are an administrator: another administrator can take that away, not you.</p>"#);
    } else {
        checkbox(
            out,
            "admin",
            "on",
            a.admin,
            "Administrator: manages agents, erases customers, deletes tickets",
        );
    }
    team_boxes(out, p.teams, &teams_of(p.teams, &a.email));
    out.push_str(r#"<button type="submit">Save</button></form>"#);
    let _ = write!(
        out,
        r#"<h3>New password</h3><form class="agent-password" method="post" action="/agents/password">{csrf}{who}<label>New password <input type="password" name="new" autocomplete="new-password" minlength="{min}" maxlength="{max}" required></label><label>New password again <input type="password" name="repeat" autocomplete="new-password" minlength="{min}" maxlength="{max}" required></label><button type="submit">Set password</button></form><p class="hint">For an agent who forgot theirs: tell them it, and they change it on their account page. It signs them out everywhere.</p>"#,
        min = crate::auth::MIN_PASSWORD,
        max = crate::auth::MAX_PASSWORD,
    );
    if a.two_step {
        let _ = write!(
            out,
            r#"<h3>Two-step sign-in</h3><form class="agent-two-step-off" method="post" action="/agents/two-step-off">{csrf}{who}<button type="submit">Turn their two-step sign-in off</button></form><p class="hint">For an agent who lost their phone: their password alone signs them in until they set it up again.</p>"#,
        );
    }
    if !a.active {
        let _ = write!(
            out,
            r#"<h3>Deactivated</h3><form class="agent-reactivate" method="post" action="/agents/reactivate">{csrf}{who}<button type="submit">Reactivate</button></form><p class="hint">They can sign in again with their password; set a new one first if theirs may be known to others.</p>"#,
        );
    } else if !myself {
        let _ = write!(
            out,
            r#"<h3>Leaving the desk</h3><form class="agent-deactivate" method="post" action="/agents/deactivate">{csrf}{who}<button type="submit" class="danger">Deactivate</button></form><p class="hint">They are signed out and can no longer sign in nor be given tickets; their replies, notes and history stay.</p>"#,
        );
    }
    out.push_str("</section>");
}

/// The form that adds an agent.
fn add_form(out: &mut String, p: &AgentsPage<'_>) {
    let t = p.typed;
    let _ = write!(
        out,
        r#"<section class="agent-add"><h2>Add an agent</h2><form class="agent-add" method="post" action="/agents"><input type="hidden" name="csrf" value="{}"><label>Address <input type="email" name="email" value="{}" required autocomplete="off"></label><label>Name <input type="text" name="name" value="{}" required maxlength="200" autocomplete="off"></label><label>Password <input type="password" name="new" autocomplete="new-password" minlength="{min}" maxlength="{max}" required></label><label>Password again <input type="password" name="repeat" autocomplete="new-password" minlength="{min}" maxlength="{max}" required></label>"#,
        esc(p.csrf),
        esc(&t.email),
        esc(&t.name),
        min = crate::auth::MIN_PASSWORD,
        max = crate::auth::MAX_PASSWORD,
    );
    checkbox(
        out,
        "seat",
        "on",
        t.seat,
        "Seat: routing and colleagues may give them tickets",
    );
    checkbox(
        out,
        "admin",
        "on",
        t.admin,
        "Administrator: manages agents, erases customers, deletes tickets",
    );
    let chosen: Vec<&str> = t.teams.iter().map(String::as_str).collect();
    team_boxes(out, p.teams, &chosen);
    out.push_str(r#"<button type="submit">Add agent</button></form><p class="hint">Tell them their address and password; they change the password on their account page.</p></section>"#);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(email: &str, name: &str) -> UserView {
        UserView {
            email: email.into(),
            full_name: name.into(),
            first_name: String::new(),
            last_name: String::new(),
            admin: false,
            seat: true,
            available: true,
            active: true,
            notify: String::new(),
            signature: String::new(),
            two_step: false,
        }
    }

    fn render(agents: &[UserView], editing: Option<&str>) -> String {
        let teams = [TeamView {
            name: "Tier <1>".into(),
            members: vec!["bob@acme.test".into()],
        }];
        page(&AgentsPage {
            agents,
            teams: &teams,
            me: "jane@acme.test",
            csrf: "tok",
            editing,
            flash: None,
            typed: &NewAgentTyped {
                seat: true,
                ..NewAgentTyped::default()
            },
        })
    }

    #[test]
    fn rows_show_teams_rights_and_state_escaped() {
        let mut bob = agent("bob@acme.test", "Bob <Builder>");
        bob.two_step = true;
        bob.available = false;
        let mut carl = agent("carl@acme.test", "Carl");
        carl.active = false;
        let html = render(&[agent("jane@acme.test", "Jane"), bob, carl], None);
        assert!(html.contains("Bob &lt;Builder&gt;"), "{html}");
        assert!(html.contains("<td>Tier &lt;1&gt;</td>"), "{html}");
        assert!(
            html.contains(r#"<a href="/agents?edit=bob%40acme.test#edit">"#),
            "{html}"
        );
        assert!(html.contains("<td>On</td><td>Away</td>"), "{html}");
        assert!(
            html.contains(r#"data-agent="carl@acme.test" class="inactive""#),
            "{html}"
        );
        assert!(html.contains("<td>Deactivated</td>"), "{html}");
        assert!(!html.contains(r#"id="edit""#), "nobody picked: {html}");
        // The add form, seat ticked by default, never a password value.
        assert!(html.contains(r#"action="/agents""#), "{html}");
        assert!(
            html.contains(r#"<input type="checkbox" name="seat" value="on" checked>"#),
            "{html}"
        );
    }

    #[test]
    fn another_agent_can_be_demoted_deactivated_and_freed_of_two_step() {
        let mut bob = agent("bob@acme.test", "Bob");
        bob.two_step = true;
        bob.admin = true;
        let html = render(
            &[agent("jane@acme.test", "Jane"), bob],
            Some("bob@acme.test"),
        );
        assert!(html.contains(r#"id="edit""#), "{html}");
        assert!(
            html.contains(r#"<input type="checkbox" name="admin" value="on" checked>"#),
            "{html}"
        );
        assert!(html.contains("/agents/two-step-off"), "{html}");
        assert!(html.contains("/agents/deactivate"), "{html}");
        assert!(!html.contains("/agents/reactivate"), "{html}");
        // Bob's team is ticked.
        assert!(
            html.contains(r#"name="team" value="Tier &lt;1&gt;" checked>"#),
            "{html}"
        );
    }

    #[test]
    fn an_administrator_cannot_demote_or_deactivate_themselves() {
        let mut jane = agent("jane@acme.test", "Jane");
        jane.admin = true;
        let html = render(&[jane], Some("jane@acme.test"));
        let edit = &html[html.find(r#"id="edit""#).expect("edit")..];
        let edit = &edit[..edit.find("</section>").expect("its end")];
        assert!(!edit.contains(r#"type="checkbox" name="admin""#), "{edit}");
        assert!(edit.contains(r#"<input type="hidden" name="admin" value="on">"#));
        assert!(!edit.contains("/agents/deactivate"), "{edit}");
    }

    #[test]
    fn a_deactivated_agent_can_be_reactivated() {
        let mut carl = agent("carl@acme.test", "Carl");
        carl.active = false;
        let html = render(&[carl], Some("carl@acme.test"));
        assert!(html.contains("/agents/reactivate"), "{html}");
        assert!(!html.contains("/agents/deactivate"), "{html}");
        assert!(!html.contains("/agents/two-step-off"), "{html}");
        // Someone who is not an agent: no section.
        assert!(!render(&[], Some("nobody@acme.test")).contains(r#"id="edit""#));
        // The teams, with how many are in each, and a form for another.
        let html = render(&[], None);
        assert!(
            html.contains("<li>Tier &lt;1&gt; <span class=\"hint\">(1 agent)</span></li>"),
            "{html}"
        );
        assert!(html.contains(r#"action="/agents/teams""#), "{html}");
    }
}
