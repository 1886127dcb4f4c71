//! End to end over LMTP: three channels, each with its own `[channel.ticket]` and
//! `[channel.routing]`; a new mail to each lands with that channel's pipeline, status,
//! priority, tags and the owner the rules pick, and the event log says who and why.

use crate::harness::Daemon;
use crate::{
    add_user, deliver, enable, event_with, events, ok, refused, rewrite, start, ticket_by_subject,
    Delivery,
};

/// Pipelines and channels; `{support}` and `{billing}` are replaced by routing tables.
const CONFIG: &str = r#"
[[pipeline]]
name = "Support"
stages = [
  { name = "New", closed = false },
  { name = "Waiting on contact", closed = false },
  { name = "Waiting on us", closed = false },
  { name = "Closed", closed = true },
]

[[pipeline]]
name = "Billing"
stages = [
  { name = "Triage", closed = false },
  { name = "Investigating", closed = false },
  { name = "Awaiting customer", closed = false },
  { name = "Refunded", closed = true },
  { name = "Rejected", closed = true },
]
reopen_stage = "Investigating"
agent_reply_stage = "Awaiting customer"

[[channel]]
kind = "email"
name = "support"
address = "support@example.com"

[channel.ticket]
pipeline = "Support"
status = "Waiting on us"
priority = "high"
tags = ["support", "tier1"]
{support}

[[channel]]
kind = "email"
name = "billing"
address = "billing@example.com"

[channel.ticket]
pipeline = "Billing"
priority = "urgent"
tags = ["billing"]
{billing}

[[channel]]
kind = "email"
name = "sales"
address = "sales@example.com"

[channel.routing]
mode = "nobody"
"#;

const SUPPORT_ROUTING: &str = r#"
[channel.routing]
mode = "users_and_teams"
teams = ["Tier1"]
users = ["dave@example.com"]
"#;

const BILLING_ROUTING: &str = r#"
[channel.routing]
mode = "contact_owner"
users = ["frank@example.com"]
"#;

fn config(support: &str, billing: &str) -> String {
    CONFIG
        .replace("{support}", support)
        .replace("{billing}", billing)
}

/// alice (seat), bob (seat, away), carol (no seat) in Tier1; dave (seat) listed by
/// name; erin (seat) owns a contact; frank (seat) is billing's fallback.
fn add_people(d: &Daemon) {
    add_user(d, "alice@example.com", "Alice Archer", true);
    add_user(d, "bob@example.com", "Bob Baker", true);
    add_user(d, "carol@example.com", "Carol Cook", false);
    add_user(d, "dave@example.com", "Dave Diver", true);
    add_user(d, "erin@example.com", "Erin Eagle", true);
    add_user(d, "frank@example.com", "Frank Fisher", true);
    ok(
        d,
        &["users", "set", "bob@example.com", "--available", "off"],
    );
    ok(d, &["teams", "add", "Tier1"]);
    ok(
        d,
        &[
            "teams",
            "members",
            "Tier1",
            "--add",
            "alice@example.com",
            "--add",
            "bob@example.com",
            "--add",
            "carol@example.com",
        ],
    );
}

#[test]
fn each_channel_files_with_its_own_properties_and_owner() {
    let d = start(&config("", ""));
    add_people(&d);
    enable(&d, &config(SUPPORT_ROUTING, BILLING_ROUTING));

    // The VIP writes to sales first (nobody routes there), which makes the contact;
    // then the contact gets an owner.
    deliver(
        &d,
        &[Delivery::new(
            "vip@customer.org",
            "sales@example.com",
            "Sales question",
            "s1@customer.org",
        )],
    );
    ok(
        &d,
        &[
            "contacts",
            "set-owner",
            "vip@customer.org",
            "erin@example.com",
        ],
    );
    let vip = d.ctl_json(&["contacts", "show", "vip@customer.org"]);
    assert_eq!(vip["owner"], "erin@example.com", "{vip:#}");

    deliver(
        &d,
        &[
            Delivery::new(
                "c1@customer.org",
                "support@example.com",
                "Support 1",
                "p1@c",
            ),
            Delivery::new(
                "c2@customer.org",
                "support@example.com",
                "Support 2",
                "p2@c",
            ),
            Delivery::new(
                "c3@customer.org",
                "support@example.com",
                "Support 3",
                "p3@c",
            ),
            Delivery::new(
                "c4@customer.org",
                "support@example.com",
                "Support 4",
                "p4@c",
            ),
            Delivery::new(
                "vip@customer.org",
                "billing@example.com",
                "Refund VIP",
                "b1@c",
            ),
            Delivery::new(
                "new@customer.org",
                "billing@example.com",
                "Refund new",
                "b2@c",
            ),
        ],
    );

    // sales: the first pipeline's first open stage, medium, no tags, nobody.
    let sales = ticket_by_subject(&d, "Sales question");
    assert_eq!(sales["channel"], "sales");
    assert_eq!(sales["pipeline"], "Support");
    assert_eq!(sales["status"], "New");
    assert_eq!(sales["priority"], "medium");
    assert_eq!(sales["tags"], serde_json::json!([]));
    assert!(sales["owner"].is_null(), "{sales:#}");
    assert!(
        !events(&sales).iter().any(|(k, _, _)| k == "assigned"),
        "nobody routing assigned: {sales:#}"
    );
    let (_, actor, _) = event_with(&sales, "created", "vip@customer.org");
    assert_eq!(actor, "vip@customer.org");

    // support: the configured status, priority and tags; the pool is Tier1's members
    // who can take tickets (alice; bob is away, carol has no seat) plus dave. Fewest
    // open, ties round-robin by address: alice, dave, alice, dave.
    let want = [
        ("Support 1", "alice@example.com"),
        ("Support 2", "dave@example.com"),
        ("Support 3", "alice@example.com"),
        ("Support 4", "dave@example.com"),
    ];
    for (subject, owner) in want {
        let t = ticket_by_subject(&d, subject);
        assert_eq!(t["channel"], "support");
        assert_eq!(t["pipeline"], "Support", "{subject}");
        assert_eq!(t["status"], "Waiting on us", "{subject}");
        assert_eq!(t["priority"], "high", "{subject}");
        assert_eq!(
            t["tags"],
            serde_json::json!(["support", "tier1"]),
            "{subject}"
        );
        assert_eq!(t["owner"], owner, "{subject}: {t:#}");
        let (_, actor, detail) = event_with(&t, "assigned", owner);
        assert_eq!(actor, "routing", "{subject}");
        assert!(
            detail.contains("fewest open tickets"),
            "{subject}: {detail}"
        );
    }

    // billing: the Billing pipeline's first open stage (no status given), urgent,
    // its tags; the VIP's ticket goes to their owner, a new contact's to the fallback.
    let vip_ticket = ticket_by_subject(&d, "Refund VIP");
    assert_eq!(vip_ticket["pipeline"], "Billing");
    assert_eq!(vip_ticket["status"], "Triage");
    assert_eq!(vip_ticket["priority"], "urgent");
    assert_eq!(vip_ticket["tags"], serde_json::json!(["billing"]));
    assert_eq!(vip_ticket["owner"], "erin@example.com", "{vip_ticket:#}");
    let (_, actor, detail) = event_with(&vip_ticket, "assigned", "erin@example.com");
    assert_eq!(actor, "routing");
    assert!(detail.contains("contact owner"), "{detail}");

    let other = ticket_by_subject(&d, "Refund new");
    assert_eq!(other["pipeline"], "Billing");
    assert_eq!(other["owner"], "frank@example.com", "{other:#}");
    let (_, _, detail) = event_with(&other, "assigned", "frank@example.com");
    assert!(detail.contains("fewest open tickets"), "{detail}");

    // The owner goes away: the VIP's next ticket falls back to the listed pool.
    ok(
        &d,
        &["users", "set", "erin@example.com", "--available", "off"],
    );
    deliver(
        &d,
        &[Delivery::new(
            "vip@customer.org",
            "billing@example.com",
            "Refund VIP again",
            "b3@c",
        )],
    );
    let again = ticket_by_subject(&d, "Refund VIP again");
    assert_eq!(again["owner"], "frank@example.com", "{again:#}");

    // Nobody anywhere: bob, carol and erin own nothing new.
    let vip = d.ctl_json(&["contacts", "show", "vip@customer.org"]);
    assert_eq!(vip["tickets"].as_array().unwrap().len(), 3, "{vip:#}");
    for t in crate::tickets(&d) {
        for never in ["bob@example.com", "carol@example.com"] {
            assert_ne!(t["owner"], never, "{t:#}");
        }
    }
}

#[test]
fn contact_owner_without_fallback_leaves_unassigned_with_a_reason() {
    let d = start(&config("", ""));
    add_people(&d);
    let billing_no_fallback = "\n[channel.routing]\nmode = \"contact_owner\"\n";
    enable(&d, &config("", billing_no_fallback));
    deliver(
        &d,
        &[Delivery::new(
            "orphan@customer.org",
            "billing@example.com",
            "Orphan",
            "o1@c",
        )],
    );
    let t = ticket_by_subject(&d, "Orphan");
    assert!(t["owner"].is_null(), "{t:#}");
    let (_, actor, _) = event_with(&t, "unassigned", "no eligible agent");
    assert_eq!(actor, "routing");
    // The owner set afterwards counts for the next ticket, and a deactivated owner
    // does not.
    ok(
        &d,
        &[
            "contacts",
            "set-owner",
            "orphan@customer.org",
            "erin@example.com",
        ],
    );
    deliver(
        &d,
        &[Delivery::new(
            "orphan@customer.org",
            "billing@example.com",
            "Orphan 2",
            "o2@c",
        )],
    );
    assert_eq!(
        ticket_by_subject(&d, "Orphan 2")["owner"],
        "erin@example.com"
    );
    ok(&d, &["users", "deactivate", "erin@example.com"]);
    deliver(
        &d,
        &[Delivery::new(
            "orphan@customer.org",
            "billing@example.com",
            "Orphan 3",
            "o3@c",
        )],
    );
    let t3 = ticket_by_subject(&d, "Orphan 3");
    assert!(
        t3["owner"].is_null(),
        "deactivated owner got a ticket: {t3:#}"
    );
    // Her earlier ticket is still hers.
    assert_eq!(
        ticket_by_subject(&d, "Orphan 2")["owner"],
        "erin@example.com"
    );
}

#[test]
fn reload_naming_unknown_users_or_teams_is_refused_and_changes_nothing() {
    let d = start(&config("", ""));
    let with_routing = config(SUPPORT_ROUTING, BILLING_ROUTING);
    rewrite(&d, &with_routing);
    let (code, err) = refused(&d, &["reload"]);
    assert_eq!(code, 1, "{err}");
    let path = d.config_path.display().to_string();
    let line_of = |needle: &str| {
        std::fs::read_to_string(&d.config_path)
            .unwrap()
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("no {needle:?} in config"))
    };
    for (needle, key, what) in [
        (
            "teams = [\"Tier1\"]",
            "channel[1].routing.teams",
            "no team Tier1",
        ),
        (
            "users = [\"dave@example.com\"]",
            "channel[1].routing.users",
            "no user dave@example.com",
        ),
        (
            "users = [\"frank@example.com\"]",
            "channel[2].routing.users",
            "no user frank@example.com",
        ),
    ] {
        let want = format!("{path}:{}: {key}: {what}", line_of(needle));
        assert!(err.contains(&want), "want {want:?} in:\n{err}");
    }
    // The running config is kept: mail still lands unassigned.
    add_user(&d, "alice@example.com", "Alice Archer", true);
    deliver(
        &d,
        &[Delivery::new(
            "c1@customer.org",
            "support@example.com",
            "Kept",
            "k1@c",
        )],
    );
    let t = ticket_by_subject(&d, "Kept");
    assert!(t["owner"].is_null(), "refused routing was applied: {t:#}");

    // Half the names exist: still refused as a whole.
    add_user(&d, "dave@example.com", "Dave Diver", true);
    add_user(&d, "frank@example.com", "Frank Fisher", true);
    let (_, err) = refused(&d, &["reload"]);
    assert!(err.contains("no team Tier1"), "{err}");
    assert!(!err.contains("no user dave"), "{err}");
    deliver(
        &d,
        &[Delivery::new(
            "c2@customer.org",
            "support@example.com",
            "Kept 2",
            "k2@c",
        )],
    );
    assert!(ticket_by_subject(&d, "Kept 2")["owner"].is_null());

    // Once the team exists the same file is accepted and routes.
    ok(&d, &["teams", "add", "Tier1"]);
    ok(
        &d,
        &["teams", "members", "Tier1", "--add", "alice@example.com"],
    );
    ok(&d, &["reload"]);
    deliver(
        &d,
        &[Delivery::new(
            "c3@customer.org",
            "support@example.com",
            "Routed",
            "r1@c",
        )],
    );
    assert!(ticket_by_subject(&d, "Routed")["owner"].is_string());
}

#[test]
fn start_naming_unknown_users_exits_78_with_file_line_key() {
    let mut d = start(&config("", ""));
    add_user(&d, "dave@example.com", "Dave Diver", true);
    d.crash();
    rewrite(&d, &config(SUPPORT_ROUTING, BILLING_ROUTING));
    let (code, err) = d.start_refused();
    assert_eq!(code, 78, "{err}");
    let path = d.config_path.display().to_string();
    let text = std::fs::read_to_string(&d.config_path).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("users = [\"frank@example.com\"]"))
        .unwrap()
        + 1;
    let want = format!("{path}:{line}: channel[2].routing.users: no user frank@example.com");
    assert!(err.contains(&want), "want {want:?} in:\n{err}");
    assert!(err.contains("channel[1].routing.teams"), "{err}");
    assert!(!err.contains("no user dave@example.com"), "{err}");
}
