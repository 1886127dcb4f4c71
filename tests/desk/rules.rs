//! Rules for new tickets (`[[rule]]`) over LMTP: the first mail's sender, subject and
//! text give a new ticket a priority, tags, a team (routing picks one of its members)
//! or an owner; the history says which rule did what; later mail on the ticket changes
//! nothing but by a rule for every mail (priority, tags, the fields it lacks); a reload
//! with a broken rule is refused and changes nothing.

use crate::{
    add_user, deliver, enable, event_with, ok, refused, rewrite, start, ticket_by_subject, Delivery,
};

const CHANNEL: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
aliases = ["help@example.com"]

[channel.ticket]
tags = ["support"]
"#;

const RULES: &str = r#"
[[ticket_field]]
name = "Account"
kind = "choice"
choices = ["Bigclient", "Small"]

[[rule]]
name = "Big client"
from = ["@bigclient.example"]
priority = "urgent"
tags = ["vip"]
team = "Key accounts"
fields = { account = "bigclient" }

[[rule]]
name = "Invoices"
subject = ["invoice"]
tags = ["billing"]
owner = "bea@acme.test"

[[rule]]
name = "Outage"
text = ["site is down"]
priority = "high"
tags = ["outage"]

[[rule]]
name = "Help alias"
to = ["help@example.com"]
tags = ["help"]

[[rule]]
name = "Churn"
when = "every mail"
text = ["cancel my"]
priority = "high"
tags = ["churn-risk"]
fields = { Account = "Small" }
"#;

#[test]
fn a_new_tickets_first_mail_picks_its_priority_tags_and_owner_by_the_rules() {
    let d = start(CHANNEL);
    add_user(&d, "alex@acme.test", "Alex Adams", true);
    add_user(&d, "bea@acme.test", "Bea Brown", true);
    ok(&d, &["users", "set", "bea@acme.test", "--available", "off"]);
    ok(&d, &["teams", "add", "Key accounts"]);
    ok(
        &d,
        &[
            "teams",
            "members",
            "Key accounts",
            "--add",
            "alex@acme.test",
        ],
    );
    enable(&d, &format!("{CHANNEL}{RULES}"));

    let mut outage = Delivery::new(
        "carl@small.example",
        "support@example.com",
        "Help!",
        "o1@small.example",
    );
    outage.data = outage
        .data
        .replace("please help.", "Our SITE is down since noon.");
    deliver(
        &d,
        &[
            Delivery::new(
                "olga@eu.bigclient.example",
                "support@example.com",
                "Hinge broke",
                "v1@bigclient.example",
            ),
            Delivery::new(
                "olga@eu.bigclient.example",
                "support@example.com",
                "Invoice 42 is wrong",
                "v2@bigclient.example",
            ),
            Delivery::new(
                "dan@small.example",
                "support@example.com",
                "Hinge broke too",
                "n1@small.example",
            ),
            outage,
        ],
    );

    // The big client: urgent, tagged, the team's, given to its one member.
    let vip = ticket_by_subject(&d, "Hinge broke");
    assert_eq!(vip["priority"], "urgent", "{vip:#}");
    assert_eq!(vip["tags"], serde_json::json!(["support", "vip"]));
    assert_eq!(vip["team"], "Key accounts");
    assert_eq!(vip["owner"], "alex@acme.test");
    let (_, actor, _) = event_with(
        &vip,
        "rule",
        "rule \"Big client\": priority urgent, tags vip, team Key accounts, Account Bigclient",
    );
    assert_eq!(actor, "frontdesk");
    // The rule's ticket field, as the config spells its choice.
    assert_eq!(vip["fields"], serde_json::json!({"Account": "Bigclient"}));

    // Both rules: the tags add up, the later one's owner wins (away or not), the
    // earlier one's priority stays.
    let invoice = ticket_by_subject(&d, "Invoice 42 is wrong");
    assert_eq!(invoice["priority"], "urgent");
    assert_eq!(
        invoice["tags"],
        serde_json::json!(["support", "vip", "billing"])
    );
    assert_eq!(invoice["owner"], "bea@acme.test");
    event_with(
        &invoice,
        "rule",
        "rule \"Invoices\": tags billing, owner bea@acme.test",
    );

    // No rule: the channel's own.
    let plain = ticket_by_subject(&d, "Hinge broke too");
    assert_eq!(plain["priority"], "medium");
    assert_eq!(plain["tags"], serde_json::json!(["support"]));
    assert!(plain["owner"].is_null(), "{plain:#}");
    assert_eq!(plain["fields"], serde_json::json!({}));
    assert!(
        !plain["events"].to_string().contains("\"rule\""),
        "{plain:#}"
    );

    // A phrase in the text, in any case.
    let down = ticket_by_subject(&d, "Help!");
    assert_eq!(down["priority"], "high");
    assert_eq!(down["tags"], serde_json::json!(["support", "outage"]));

    // A sysadmin tries a mail against the rules without the daemon.
    let sample = d.dir.path().join("sample.eml");
    std::fs::write(
        &sample,
        crate::mail(
            "Olga <olga@bigclient.example>",
            "help@example.com, support@example.com",
            "Invoice 43",
            "t1@bigclient.example",
            "",
        ),
    )
    .unwrap();
    let config = d.config_path.to_str().unwrap();
    let sample = sample.to_str().unwrap();
    let (code, out, err) = d.ctl(&["check-config", config, "--try-mail", sample]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("channel support · from olga@bigclient.example"),
        "{out}"
    );
    assert!(
        out.contains("rule \"Big client\": priority urgent, tags vip, team Key accounts, Account Bigclient\nrule \"Invoices\": tags billing, owner bea@acme.test\nrule \"Help alias\": tags help"),
        "{out}"
    );
    assert!(
        out.contains(
            "new ticket: status New, priority urgent, tags support, vip, billing, help, owner bea@acme.test"
        ),
        "{out}"
    );
    assert!(out.contains("\n  Account: Bigclient\n"), "{out}");
    let v = d.ctl_json(&["check-config", config, "--try-mail", sample]);
    assert_eq!(
        v["tags"],
        serde_json::json!(["support", "vip", "billing", "help"])
    );
    assert_eq!(v["owner"], "bea@acme.test");
    assert_eq!(v["fields"], serde_json::json!({"Account": "Bigclient"}));
    assert_eq!(v["later"]["applied"], serde_json::json!([]), "{v:#}");
    let churning = d.dir.path().join("churning.eml");
    std::fs::write(
        &churning,
        crate::mail(
            "Dan <dan@small.example>",
            "support@example.com",
            "Please cancel my plan",
            "c1@small.example",
            "",
        ),
    )
    .unwrap();
    let (code, out, err) = d.ctl(&[
        "check-config",
        config,
        "--try-mail",
        churning.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("as later mail on a ticket: priority high, tags churn-risk"),
        "{out}"
    );
    assert_eq!(v["status"], "New");
    assert_eq!(v["acknowledged"], false, "the channel sends none");
    let (code, _, err) = d.ctl(&[
        "check-config",
        config,
        "--try-mail",
        sample,
        "--channel",
        "sales",
    ]);
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("no channel named \"sales\""), "{err}");
    let (code, _, err) = d.ctl(&["check-config", config, "--try-mail", "/nonexistent.eml"]);
    assert_eq!(code, 66, "{err}");

    // Mail written to the channel's alias.
    deliver(
        &d,
        &[Delivery::new(
            "gus@small.example",
            "help@example.com",
            "Password reset",
            "h1@small.example",
        )],
    );
    let help = ticket_by_subject(&d, "Password reset");
    assert_eq!(help["tags"], serde_json::json!(["support", "help"]));

    // Later mail on a ticket changes nothing: Dan's answer names an invoice.
    deliver(
        &d,
        &[Delivery::reply(
            "dan@small.example",
            "support@example.com",
            "Re: Hinge broke too (invoice attached)",
            "n2@small.example",
            "n1@small.example",
        )],
    );
    let plain = ticket_by_subject(&d, "Hinge broke too");
    assert_eq!(plain["tags"], serde_json::json!(["support"]));
    assert!(plain["owner"].is_null());

    // But a rule for every mail looks at it: Dan means to cancel.
    let churn = |id: &str| {
        let mut m = Delivery::reply(
            "dan@small.example",
            "support@example.com",
            "Re: Hinge broke too",
            id,
            "n1@small.example",
        );
        m.data = m
            .data
            .replace("please help.", "Fix it or I cancel my subscription.");
        m
    };
    deliver(&d, &[churn("n3@small.example")]);
    let plain = ticket_by_subject(&d, "Hinge broke too");
    assert_eq!(plain["priority"], "high", "{plain:#}");
    assert_eq!(plain["tags"], serde_json::json!(["support", "churn-risk"]));
    // The field the ticket lacked is filled in.
    assert_eq!(plain["fields"], serde_json::json!({"Account": "Small"}));
    let (_, actor, _) = event_with(
        &plain,
        "rule",
        "rule \"Churn\": priority high, tags churn-risk, Account Small",
    );
    assert_eq!(actor, "frontdesk");
    let (_, actor, _) = event_with(&plain, "field", "Account: Small");
    assert_eq!(actor, "frontdesk");
    // Once is enough: the same again changes nothing and says nothing; nor does a
    // value an agent gave meanwhile change.
    let id = plain["id"].as_i64().unwrap().to_string();
    ok(&d, &["tickets", "field", &id, "Account", "Bigclient"]);
    deliver(&d, &[churn("n4@small.example")]);
    let plain = ticket_by_subject(&d, "Hinge broke too");
    assert_eq!(
        plain["events"].to_string().matches("Churn").count(),
        1,
        "{plain:#}"
    );
    assert_eq!(plain["fields"], serde_json::json!({"Account": "Bigclient"}));

    // A rule naming a team the desk does not have: the ticket stays nobody's, and the
    // history says why.
    enable(
        &d,
        &format!("{CHANNEL}[[rule]]\nname = \"Legal\"\nsubject = [\"lawyer\"]\nteam = \"Legal\"\n"),
    );
    deliver(
        &d,
        &[Delivery::new(
            "erin@small.example",
            "support@example.com",
            "My lawyer",
            "l1@small.example",
        )],
    );
    let legal = ticket_by_subject(&d, "My lawyer");
    assert!(
        legal["team"].is_null() && legal["owner"].is_null(),
        "{legal:#}"
    );
    event_with(&legal, "unassigned", "no team named \"Legal\"");

    // A broken rule: the reload is refused with its line and key; the rules in force
    // stay.
    rewrite(
        &d,
        &format!("{CHANNEL}[[rule]]\nname = \"Broken\"\nfrom = [\"bigclient\"]\ntags = [\"x\"]\n"),
    );
    let (_, err) = refused(&d, &["reload"]);
    assert!(err.contains("rule[1].from"), "{err}");
    deliver(
        &d,
        &[Delivery::new(
            "fay@small.example",
            "support@example.com",
            "Lawyer again",
            "l2@small.example",
        )],
    );
    let again = ticket_by_subject(&d, "Lawyer again");
    event_with(&again, "rule", "rule \"Legal\": team Legal");
}
