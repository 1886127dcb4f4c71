//! Macros (`[[macro]]`, pure): a named set of changes an agent applies to a ticket, or to
//! the tickets ticked in the inbox, in one click — Zammad's macros, Zendesk's and Help
//! Scout's "workflows" run by hand ("Waiting on the customer: status, snooze 3 days, tag
//! needs-info"; "Escalate to billing: team billing, priority high, a note why"). All of a
//! macro applies, or none of it: the store refuses the whole when one change cannot be
//! made (a status the ticket's pipeline lacks, a snooze on a closed ticket).

use crate::desk::lifecycle::Priority;

/// Who a macro gives the ticket to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The agent applying it (`owner = "me"`).
    Me,
    /// This agent, by address.
    Agent(String),
    /// This team: routing picks one of its available members.
    Team(String),
    /// Nobody (`owner = "nobody"`): back to the unassigned view.
    Nobody,
}

/// Who gets the ticket once the macro is applied by someone: [`Owner`] without "me".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handover {
    /// This agent.
    Agent(String),
    /// This team.
    Team(String),
    /// Nobody.
    Nobody,
}

/// One `[[macro]]`, as the config gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Macro {
    /// What agents pick it by, and what the history calls it.
    pub name: String,
    /// A new owner.
    pub owner: Option<Owner>,
    /// A stage of the ticket's pipeline.
    pub status: Option<String>,
    /// A new priority.
    pub priority: Option<Priority>,
    /// Tags added.
    pub add_tags: Vec<String>,
    /// Tags taken off.
    pub remove_tags: Vec<String>,
    /// An internal note left on the ticket, in the applying agent's name.
    pub note: Option<String>,
    /// A reply (a template with a snippet's tokens) put in the ticket's reply box for
    /// the agent to review and send: a macro never mails a customer by itself.
    pub reply: Option<String>,
    /// Snooze the ticket this many seconds.
    pub snooze: Option<i64>,
    /// Ticket fields set (`Some`, checked against their kinds) or cleared (`None`).
    pub fields: Vec<(String, Option<String>)>,
}

/// A macro made concrete for one agent at one moment: what the store applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The macro's name, for the history.
    pub name: String,
    /// A new owner.
    pub assign: Option<Handover>,
    /// A stage of the ticket's pipeline.
    pub status: Option<String>,
    /// A new priority.
    pub priority: Option<Priority>,
    /// Tags added.
    pub add_tags: Vec<String>,
    /// Tags taken off.
    pub remove_tags: Vec<String>,
    /// The internal note's text.
    pub note: Option<String>,
    /// When the snooze ends (unix seconds).
    pub snooze_until: Option<i64>,
    /// Ticket fields set or cleared.
    pub fields: Vec<(String, Option<String>)>,
}

/// The macro named `name` (letter case aside).
pub fn find<'a>(macros: &'a [Macro], name: &str) -> Option<&'a Macro> {
    let name = name.trim();
    macros.iter().find(|m| m.name.eq_ignore_ascii_case(name))
}

/// What applying `m` as `agent` at `now` does.
pub fn plan(m: &Macro, agent: &str, now: i64) -> Plan {
    Plan {
        name: m.name.clone(),
        assign: m.owner.as_ref().map(|o| match o {
            Owner::Me => Handover::Agent(agent.to_string()),
            Owner::Agent(a) => Handover::Agent(a.clone()),
            Owner::Team(t) => Handover::Team(t.clone()),
            Owner::Nobody => Handover::Nobody,
        }),
        status: m.status.clone(),
        priority: m.priority,
        add_tags: m.add_tags.clone(),
        remove_tags: m.remove_tags.clone(),
        note: m.note.clone(),
        snooze_until: m.snooze.map(|s| now + s),
        fields: m.fields.clone(),
    }
}

/// What a macro does, in the words an agent reads before applying it ("status Waiting
/// on contact · snooze 3 d · tags +needs-info −triage · owner me · a note").
pub fn describe(m: &Macro) -> String {
    let mut did = Vec::new();
    match &m.owner {
        Some(Owner::Me) => did.push("owner: whoever applies it".to_string()),
        Some(Owner::Agent(a)) => did.push(format!("owner {a}")),
        Some(Owner::Team(t)) => did.push(format!("team {t}")),
        Some(Owner::Nobody) => did.push("unassigned".to_string()),
        None => {}
    }
    if let Some(status) = &m.status {
        did.push(format!("status {status}"));
    }
    if let Some(p) = m.priority {
        did.push(format!("priority {}", p.as_str()));
    }
    let tags: Vec<String> = m
        .add_tags
        .iter()
        .map(|t| format!("+{t}"))
        .chain(m.remove_tags.iter().map(|t| format!("−{t}")))
        .collect();
    if !tags.is_empty() {
        did.push(format!("tags {}", tags.join(" ")));
    }
    for (name, value) in &m.fields {
        match value {
            Some(v) => did.push(format!("{name} {v}")),
            None => did.push(format!("{name} cleared")),
        }
    }
    if let Some(s) = m.snooze {
        did.push(format!(
            "snooze {}",
            crate::desk::auto_close::span_in_words(s)
        ));
    }
    if m.note.is_some() {
        did.push("an internal note".to_string());
    }
    if m.reply.is_some() {
        did.push("a reply to review and send".to_string());
    }
    did.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting() -> Macro {
        Macro {
            name: "Waiting on the customer".into(),
            owner: Some(Owner::Me),
            status: Some("Waiting on contact".into()),
            priority: Some(Priority::Low),
            add_tags: vec!["needs-info".into()],
            remove_tags: vec!["triage".into()],
            note: Some("Asked for the order number.".into()),
            reply: None,
            snooze: Some(3 * 86_400),
            fields: vec![("Product".into(), Some("Hinge".into()))],
        }
    }

    #[test]
    fn me_becomes_the_agent_applying_it_and_the_snooze_counts_from_now() {
        let p = plan(&waiting(), "bea@acme.test", 1_000);
        assert_eq!(p.assign, Some(Handover::Agent("bea@acme.test".into())));
        assert_eq!(p.snooze_until, Some(1_000 + 3 * 86_400));
        assert_eq!(p.status.as_deref(), Some("Waiting on contact"));
        assert_eq!(p.priority, Some(Priority::Low));
        assert_eq!(p.add_tags, vec!["needs-info".to_string()]);
        assert_eq!(p.remove_tags, vec!["triage".to_string()]);
        assert_eq!(p.note.as_deref(), Some("Asked for the order number."));
        assert_eq!(p.name, "Waiting on the customer");
        assert_eq!(
            p.fields,
            vec![("Product".to_string(), Some("Hinge".to_string()))]
        );
    }

    #[test]
    fn named_owners_teams_and_nobody_stay_as_written() {
        for (owner, handover) in [
            (
                Owner::Agent("dan@acme.test".into()),
                Handover::Agent("dan@acme.test".into()),
            ),
            (
                Owner::Team("billing".into()),
                Handover::Team("billing".into()),
            ),
            (Owner::Nobody, Handover::Nobody),
        ] {
            let m = Macro {
                owner: Some(owner),
                ..waiting()
            };
            assert_eq!(plan(&m, "bea@acme.test", 0).assign, Some(handover));
        }
        let m = Macro {
            owner: None,
            snooze: None,
            ..waiting()
        };
        let p = plan(&m, "bea@acme.test", 5);
        assert_eq!(p.assign, None);
        assert_eq!(p.snooze_until, None);
    }

    #[test]
    fn a_macro_is_found_by_its_name_in_any_letter_case() {
        let macros = vec![
            waiting(),
            Macro {
                name: "Escalate".into(),
                ..waiting()
            },
        ];
        assert_eq!(
            find(&macros, " escalate ").map(|m| m.name.as_str()),
            Some("Escalate")
        );
        assert_eq!(
            find(&macros, "WAITING ON THE CUSTOMER").map(|m| m.name.as_str()),
            Some("Waiting on the customer")
        );
        assert!(find(&macros, "Escalat").is_none());
        assert!(find(&macros, "").is_none());
    }

    #[test]
    fn the_description_names_each_change() {
        assert_eq!(
            describe(&waiting()),
            "owner: whoever applies it · status Waiting on contact · priority low · tags +needs-info −triage · Product Hinge · snooze 3 days · an internal note"
        );
        let m = Macro {
            name: "Billing".into(),
            owner: Some(Owner::Team("billing".into())),
            status: None,
            priority: None,
            add_tags: Vec::new(),
            remove_tags: Vec::new(),
            note: None,
            reply: None,
            snooze: None,
            fields: vec![("Order number".into(), None)],
        };
        assert_eq!(describe(&m), "team billing · Order number cleared");
        let m = Macro {
            owner: Some(Owner::Nobody),
            ..m
        };
        assert_eq!(describe(&m), "unassigned · Order number cleared");
        let m = Macro {
            reply: Some("Hi {{contact.first_name}}".into()),
            fields: Vec::new(),
            ..m
        };
        assert_eq!(describe(&m), "unassigned · a reply to review and send");
    }
}
