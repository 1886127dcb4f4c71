//! Rules for new tickets (`[[rule]]`, pure): mail that meets a rule's conditions opens a
//! ticket with the rule's priority, tags, team or owner, status, and with or without
//! the channel's acknowledgement — the everyday uses of Zammad's triggers and HubSpot's
//! ticket workflows ("invoices go to billing", "our biggest customer's mail is urgent",
//! "file the monitoring's alerts closed, unanswered"). Every rule that matches applies,
//! in the config's order: tags add up; a later rule's priority, status and assignment
//! win; one rule against the acknowledgement is enough. Conditions look at the mail that
//! opens the ticket. A rule for every mail (`when = "every mail"`) also looks at the
//! customer's later mail on a ticket, and gives the ticket its priority and tags then
//! ("a customer who writes "cancel" is a churn risk").

use crate::desk::lifecycle::Priority;

/// Who a rule gives a new ticket to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assign {
    /// This agent (by address), available or not.
    Agent(String),
    /// This team: the ticket is the team's, and routing picks one of its members.
    Team(String),
}

/// One `[[rule]]`, as the config gives it (phrases and addresses lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its name, for the ticket's history.
    pub name: String,
    /// The channels it looks at; empty: all.
    pub channels: Vec<String>,
    /// Senders: an address, or `@domain` for the domain and its subdomains; any of them.
    pub from: Vec<String>,
    /// Addresses the mail is written to (To or Cc), such as one alias of a channel; any
    /// of them.
    pub to: Vec<String>,
    /// Phrases the subject holds; any of them.
    pub subject: Vec<String>,
    /// Phrases the subject or text holds; any of them.
    pub text: Vec<String>,
    /// The ticket's priority.
    pub priority: Option<Priority>,
    /// Tags the ticket gets.
    pub tags: Vec<String>,
    /// Who gets the ticket.
    pub assign: Option<Assign>,
    /// The stage the ticket starts in (a stage of the channel's pipeline).
    pub status: Option<String>,
    /// The customer gets no acknowledgement (`acknowledge = false`).
    pub no_acknowledgement: bool,
    /// Also for the customer's later mail on a ticket (`when = "every mail"`); such a
    /// rule gives priority, tags and the fields a ticket lacks.
    pub every_mail: bool,
    /// Ticket fields the new ticket gets (name as the config spells it, value checked).
    pub fields: Vec<(String, String)>,
}

/// What the rules look at in the mail that opens a ticket.
#[derive(Debug, Clone, Copy)]
pub struct Mail<'a> {
    /// The channel it came in on.
    pub channel: &'a str,
    /// The sender's address.
    pub from: &'a str,
    /// The addresses it is written to (To and Cc), lower-case, without sub-addresses.
    pub to: &'a [String],
    /// Its subject.
    pub subject: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// What the matching rules give a new ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// What each matching rule did, in order, for the ticket's history (see
    /// [`describe`]).
    pub applied: Vec<String>,
    /// The last matching rule's priority.
    pub priority: Option<Priority>,
    /// Every matching rule's tags, each once.
    pub tags: Vec<String>,
    /// The last matching rule's assignment.
    pub assign: Option<Assign>,
    /// The last matching rule's status.
    pub status: Option<String>,
    /// A matching rule asks for no acknowledgement.
    pub no_acknowledgement: bool,
    /// Ticket fields; for a field two rules set, the later rule's value.
    pub fields: Vec<(String, String)>,
}

/// Whether `from` is `wanted`: the same address, or (for `@domain`) an address at that
/// domain or below it. Both lower-case.
fn sender_is(from: &str, wanted: &str) -> bool {
    match wanted.strip_prefix('@') {
        Some(domain) => from.rsplit_once('@').is_some_and(|(_, at)| {
            at == domain
                || at
                    .strip_suffix(domain)
                    .is_some_and(|head| head.ends_with('.'))
        }),
        None => from == wanted,
    }
}

/// Whether `rule` applies to `mail`; `from`, `subject` and `text` are the mail's,
/// lower-cased.
fn matches(rule: &Rule, mail: &Mail<'_>, from: &str, subject: &str, text: &str) -> bool {
    let on_channel = rule.channels.is_empty()
        || rule
            .channels
            .iter()
            .any(|c| c.eq_ignore_ascii_case(mail.channel));
    on_channel
        && (rule.from.is_empty() || rule.from.iter().any(|w| sender_is(from, w)))
        && (rule.to.is_empty() || rule.to.iter().any(|w| mail.to.contains(w)))
        && (rule.subject.is_empty() || rule.subject.iter().any(|p| subject.contains(p.as_str())))
        && (rule.text.is_empty()
            || rule
                .text
                .iter()
                .any(|p| subject.contains(p.as_str()) || text.contains(p.as_str())))
}

/// Apply `rules` to the mail that opens a ticket.
pub fn apply(rules: &[Rule], mail: &Mail<'_>) -> Outcome {
    apply_both(rules, mail).0
}

/// Apply the rules for every mail to the customer's later mail on a ticket: the
/// priority and tags it gets now.
pub fn apply_later(rules: &[Rule], mail: &Mail<'_>) -> Outcome {
    apply_both(rules, mail).1
}

/// [`apply`] and [`apply_later`] at once: each rule is matched once, and the mail's
/// text lower-cased once (a text may be long).
pub fn apply_both(rules: &[Rule], mail: &Mail<'_>) -> (Outcome, Outcome) {
    let (mut new, mut later) = (Outcome::default(), Outcome::default());
    if rules.is_empty() {
        return (new, later);
    }
    let from = mail.from.to_lowercase();
    let subject = mail.subject.to_lowercase();
    // Lower-cased only when a rule reads it.
    let text = if rules.iter().any(|r| !r.text.is_empty()) {
        mail.text.to_lowercase()
    } else {
        String::new()
    };
    for rule in rules
        .iter()
        .filter(|r| matches(r, mail, &from, &subject, &text))
    {
        add(&mut new, rule);
        if rule.every_mail {
            add(&mut later, rule);
        }
    }
    (new, later)
}

/// What a matching `rule` adds to `out`.
fn add(out: &mut Outcome, rule: &Rule) {
    out.applied.push(describe(rule));
    out.priority = rule.priority.or(out.priority);
    for tag in &rule.tags {
        if !out.tags.contains(tag) {
            out.tags.push(tag.clone());
        }
    }
    if rule.assign.is_some() {
        out.assign = rule.assign.clone();
    }
    if rule.status.is_some() {
        out.status = rule.status.clone();
    }
    out.no_acknowledgement |= rule.no_acknowledgement;
    for (name, value) in &rule.fields {
        out.fields.retain(|(n, _)| n != name);
        out.fields.push((name.clone(), value.clone()));
    }
}

/// What the history says a rule did: "rule "Billing": priority high, tags vip,
/// billing, team Billing".
pub fn describe(rule: &Rule) -> String {
    let mut did = Vec::new();
    if let Some(p) = rule.priority {
        did.push(format!("priority {}", p.as_str()));
    }
    if !rule.tags.is_empty() {
        did.push(format!("tags {}", rule.tags.join(", ")));
    }
    match &rule.assign {
        Some(Assign::Agent(a)) => did.push(format!("owner {a}")),
        Some(Assign::Team(t)) => did.push(format!("team {t}")),
        None => {}
    }
    if let Some(status) = &rule.status {
        did.push(format!("status {status}"));
    }
    if rule.no_acknowledgement {
        did.push("no acknowledgement".into());
    }
    for (name, value) in &rule.fields {
        did.push(format!("{name} {value}"));
    }
    format!("rule {:?}: {}", rule.name, did.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str) -> Rule {
        Rule {
            name: name.into(),
            channels: Vec::new(),
            from: Vec::new(),
            to: Vec::new(),
            subject: Vec::new(),
            text: Vec::new(),
            priority: None,
            tags: Vec::new(),
            assign: None,
            status: None,
            no_acknowledgement: false,
            every_mail: false,
            fields: Vec::new(),
        }
    }

    fn mail<'a>(from: &'a str, subject: &'a str, text: &'a str) -> Mail<'a> {
        Mail {
            channel: "support",
            from,
            to: &[],
            subject,
            text,
        }
    }

    fn applied(rules: &[Rule], m: Mail<'_>) -> Vec<String> {
        apply(rules, &m)
            .applied
            .iter()
            .map(|d| d.split('"').nth(1).unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn a_sender_is_an_address_or_anyone_at_a_domain_and_below() {
        assert!(sender_is("olga@bigclient.com", "olga@bigclient.com"));
        assert!(!sender_is("olga@bigclient.com", "bob@bigclient.com"));
        assert!(sender_is("olga@bigclient.com", "@bigclient.com"));
        assert!(sender_is("olga@eu.bigclient.com", "@bigclient.com"));
        assert!(!sender_is("olga@notbigclient.com", "@bigclient.com"));
        assert!(!sender_is(
            "olga@bigclient.com.evil.example",
            "@bigclient.com"
        ));
        assert!(!sender_is("bigclient.com", "@bigclient.com"));
    }

    #[test]
    fn every_condition_given_must_hold_and_any_value_of_one_will_do() {
        let vip = Rule {
            from: vec!["@bigclient.com".into()],
            subject: vec!["invoice".into(), "refund".into()],
            ..rule("vip billing")
        };
        let rules = [vip];
        assert_eq!(
            applied(&rules, mail("Olga@BigClient.com", "Your INVOICE 42", "")),
            ["vip billing"],
            "sender and phrase in any case"
        );
        assert_eq!(
            applied(&rules, mail("olga@bigclient.com", "A refund, please", "")),
            ["vip billing"]
        );
        assert!(applied(&rules, mail("olga@bigclient.com", "Hinge broke", "invoice")).is_empty());
        assert!(applied(&rules, mail("bob@small.example", "Invoice", "")).is_empty());
    }

    #[test]
    fn text_phrases_are_looked_for_in_the_subject_and_the_text() {
        let outage = Rule {
            text: vec!["site is down".into()],
            ..rule("outage")
        };
        let rules = [outage];
        assert_eq!(
            applied(
                &rules,
                mail("a@b.example", "Help", "Our SITE IS DOWN since noon")
            ),
            ["outage"]
        );
        assert_eq!(
            applied(&rules, mail("a@b.example", "Site is down!", "")),
            ["outage"]
        );
        assert!(applied(&rules, mail("a@b.example", "Help", "The site is slow")).is_empty());
    }

    #[test]
    fn a_rule_may_look_at_the_address_the_mail_is_written_to() {
        let billing_alias = Rule {
            to: vec!["billing@acme.test".into()],
            ..rule("billing alias")
        };
        let rules = [billing_alias];
        let to = [
            "support@acme.test".to_string(),
            "billing@acme.test".to_string(),
        ];
        let m = mail("a@b.example", "Hello", "");
        assert_eq!(applied(&rules, Mail { to: &to, ..m }), ["billing alias"]);
        assert!(applied(&rules, Mail { to: &to[..1], ..m }).is_empty());
    }

    #[test]
    fn a_rule_looks_only_at_its_channels() {
        let sales_only = Rule {
            channels: vec!["Sales".into()],
            subject: vec!["quote".into()],
            ..rule("quotes")
        };
        let rules = [sales_only];
        let m = mail("a@b.example", "A quote", "");
        assert!(applied(&rules, m).is_empty(), "support mail");
        assert_eq!(
            applied(
                &rules,
                Mail {
                    channel: "sales",
                    ..m
                }
            ),
            ["quotes"]
        );
    }

    #[test]
    fn matching_rules_add_tags_and_the_later_one_sets_priority_and_owner() {
        let rules = [
            Rule {
                from: vec!["@bigclient.com".into()],
                priority: Some(Priority::High),
                tags: vec!["vip".into()],
                assign: Some(Assign::Team("Key accounts".into())),
                ..rule("vip")
            },
            Rule {
                subject: vec!["outage".into()],
                priority: Some(Priority::Urgent),
                tags: vec!["outage".into(), "vip".into()],
                ..rule("outage")
            },
            Rule {
                subject: vec!["invoice".into()],
                assign: Some(Assign::Agent("bea@acme.test".into())),
                ..rule("billing")
            },
        ];
        let out = apply(&rules, &mail("olga@bigclient.com", "Outage", ""));
        assert_eq!(
            out,
            Outcome {
                applied: vec![
                    "rule \"vip\": priority high, tags vip, team Key accounts".into(),
                    "rule \"outage\": priority urgent, tags outage, vip".into()
                ],
                priority: Some(Priority::Urgent),
                tags: vec!["vip".into(), "outage".into()],
                assign: Some(Assign::Team("Key accounts".into())),
                status: None,
                no_acknowledgement: false,
                fields: vec![],
            }
        );
        let out = apply(&rules, &mail("olga@bigclient.com", "Invoice", ""));
        assert_eq!(out.priority, Some(Priority::High), "billing sets none");
        assert_eq!(out.assign, Some(Assign::Agent("bea@acme.test".into())));
        assert_eq!(
            apply(&rules, &mail("a@b.example", "Hello", "")),
            Outcome::default()
        );
        assert_eq!(
            apply(&[], &mail("a@b.example", "Hello", "")),
            Outcome::default()
        );
    }

    #[test]
    fn the_history_says_what_a_rule_did() {
        let r = Rule {
            priority: Some(Priority::High),
            tags: vec!["vip".into(), "billing".into()],
            assign: Some(Assign::Agent("bea@acme.test".into())),
            ..rule("Billing")
        };
        assert_eq!(
            describe(&r),
            "rule \"Billing\": priority high, tags vip, billing, owner bea@acme.test"
        );
        let alerts = Rule {
            status: Some("Closed".into()),
            no_acknowledgement: true,
            ..rule("Alerts")
        };
        assert_eq!(
            describe(&alerts),
            "rule \"Alerts\": status Closed, no acknowledgement"
        );
    }

    #[test]
    fn later_mail_is_looked_at_by_the_rules_for_every_mail_alone() {
        let rules = [
            Rule {
                text: vec!["cancel".into()],
                priority: Some(Priority::High),
                tags: vec!["churn-risk".into()],
                every_mail: true,
                ..rule("churn")
            },
            Rule {
                text: vec!["cancel".into()],
                tags: vec!["first-mail".into()],
                ..rule("first only")
            },
        ];
        let m = mail("olga@example.com", "Re: Hinge", "I will CANCEL my plan");
        let later = apply_later(&rules, &m);
        assert_eq!(later.applied.len(), 1, "{later:?}");
        assert_eq!(later.priority, Some(Priority::High));
        assert_eq!(later.tags, ["churn-risk"]);
        let first = apply(&rules, &m);
        assert_eq!(
            first.tags,
            ["churn-risk", "first-mail"],
            "both open a ticket"
        );
        assert_eq!(
            apply_later(&rules, &mail("olga@example.com", "Re: Hinge", "Thanks")),
            Outcome::default()
        );
    }

    #[test]
    fn a_field_two_rules_set_takes_the_later_value_and_both_rules_say_so() {
        let rules = [
            Rule {
                subject: vec!["lamp".into()],
                fields: vec![
                    ("Product".into(), "Desk lamp".into()),
                    ("Area".into(), "Lighting".into()),
                ],
                ..rule("lamps")
            },
            Rule {
                text: vec!["led".into()],
                fields: vec![("Product".into(), "LED strip".into())],
                every_mail: true,
                ..rule("leds")
            },
        ];
        let m = mail("olga@example.com", "Lamp flickers", "The LED part");
        let (new, later) = apply_both(&rules, &m);
        assert_eq!(
            new.fields,
            [
                ("Area".to_string(), "Lighting".to_string()),
                ("Product".to_string(), "LED strip".to_string())
            ]
        );
        assert_eq!(
            new.applied,
            [
                "rule \"lamps\": Product Desk lamp, Area Lighting",
                "rule \"leds\": Product LED strip"
            ]
        );
        assert_eq!(later.applied, ["rule \"leds\": Product LED strip"]);
        assert_eq!(
            (new.clone(), later.clone()),
            (apply(&rules, &m), apply_later(&rules, &m))
        );
        let none = apply_both(&[], &m);
        assert_eq!(none, (Outcome::default(), Outcome::default()));
    }

    #[test]
    fn the_later_status_wins_and_one_rule_against_the_acknowledgement_is_enough() {
        let rules = [
            Rule {
                from: vec!["@monitoring.example".into()],
                status: Some("Closed".into()),
                no_acknowledgement: true,
                tags: vec!["alert".into()],
                ..rule("alerts")
            },
            Rule {
                subject: vec!["critical".into()],
                status: Some("Waiting on us".into()),
                ..rule("critical alerts")
            },
        ];
        let quiet = apply(&rules, &mail("nagios@monitoring.example", "Disk 91 %", ""));
        assert_eq!(quiet.status.as_deref(), Some("Closed"));
        assert!(quiet.no_acknowledgement);
        let loud = apply(
            &rules,
            &mail("nagios@monitoring.example", "CRITICAL: disk full", ""),
        );
        assert_eq!(
            loud.status.as_deref(),
            Some("Waiting on us"),
            "the later rule"
        );
        assert!(
            loud.no_acknowledgement,
            "the earlier rule still asked for none"
        );
        let customer = apply(&rules, &mail("olga@example.com", "critical bug", ""));
        assert_eq!(customer.status.as_deref(), Some("Waiting on us"));
        assert!(!customer.no_acknowledgement);
    }
}
