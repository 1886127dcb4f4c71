//! Behaviour found wrong while writing these tests. Each test states what a user would
//! expect; they fail until the daemon is fixed.

use crate::{add_user, deliver, enable, event_with, ok, start, ticket_by_subject, Delivery};

const BASE: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

/// Team names are case-insensitive everywhere else (`teams add`, `tickets assign
/// --team`, and the reload check that accepts `teams = ["tier1"]` for a team created
/// as "Tier1"), so routing must match them the same way. Today the reload is accepted
/// but routing compares case-sensitively (src/desk/routing.rs, `in_pool`), so every
/// ticket stays unassigned with "no eligible agent".
#[test]
fn routing_matches_team_names_as_case_insensitively_as_the_config_check() {
    let d = start(BASE);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    ok(&d, &["teams", "add", "Tier1"]);
    ok(
        &d,
        &["teams", "members", "Tier1", "--add", "alice@example.com"],
    );
    enable(
        &d,
        &format!("{BASE}\n[channel.routing]\nmode = \"users_and_teams\"\nteams = [\"tier1\"]\n"),
    );
    deliver(
        &d,
        &[Delivery::new(
            "c@customer.org",
            "support@example.com",
            "Case",
            "case@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Case");
    assert_eq!(
        t["owner"], "alice@example.com",
        "the reload accepted teams = [\"tier1\"] for team Tier1, yet routing found nobody: {t:#}"
    );
}

/// The event log must say why routing chose an agent. With `users_and_teams` the
/// contact's owner plays no part, but when the balance happens to pick the agent who
/// owns the contact the event says "(contact owner)" (src/store/desk.rs,
/// `route_new_ticket`: the reason is derived by comparing with the owner, not from the
/// mode).
#[test]
fn users_and_teams_never_claims_contact_owner_as_the_reason() {
    let d = start(BASE);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    deliver(
        &d,
        &[Delivery::new(
            "c@customer.org",
            "support@example.com",
            "Before routing",
            "before@customer.org",
        )],
    );
    ok(
        &d,
        &[
            "contacts",
            "set-owner",
            "c@customer.org",
            "alice@example.com",
        ],
    );
    enable(
        &d,
        &format!(
            "{BASE}\n[channel.routing]\nmode = \"users_and_teams\"\nusers = [\"alice@example.com\"]\n"
        ),
    );
    deliver(
        &d,
        &[Delivery::new(
            "c@customer.org",
            "support@example.com",
            "Balanced",
            "balanced@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Balanced");
    assert_eq!(t["owner"], "alice@example.com");
    let (_, _, detail) = event_with(&t, "assigned", "alice@example.com");
    assert!(
        detail.contains("fewest open tickets"),
        "users_and_teams routing recorded the wrong reason: {detail:?}"
    );
}

/// Issue 5: "an agent's reply moves it to 'Waiting on contact' (configurable per
/// pipeline)". A configured pipeline that spells out the built-in stages but leaves
/// `agent_reply_stage` / `reopen_stage` unset gets both defaulted to the *first open
/// stage* (src/config/mod.rs, `Validator::pipeline`, `pick(..., first_open)`; the man
/// page documents that default). So an agent's reply to a ticket that is "Waiting on
/// us" moves it back to "New", and an agent's reply to a "New" ticket changes nothing.
/// A user copying the default pipeline into the config expects the default behaviour.
#[test]
fn a_configured_copy_of_the_default_pipeline_behaves_like_the_default() {
    let pipeline = r#"
[[pipeline]]
name = "Support"
stages = [
  { name = "New" },
  { name = "Waiting on contact" },
  { name = "Waiting on us" },
  { name = "Closed", closed = true },
]
"#;
    let base = format!("{pipeline}{BASE}");
    let d = start(&base);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    deliver(
        &d,
        &[Delivery::new(
            "c@customer.org",
            "support@example.com",
            "Copy",
            "copy@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Copy");
    let id = t["id"].to_string();
    ok(&d, &["tickets", "status", &id, "Waiting on us"]);
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "reply", &id, "--as", "alice@example.com"],
        Some(b"On it.\n"),
    );
    assert_eq!(code, 0, "{err}{out}");
    let t = d.ticket(t["id"].as_i64().unwrap());
    assert_eq!(
        t["status"],
        "Waiting on contact",
        "an agent's reply on a configured Support pipeline: {:#?}",
        crate::events(&t)
    );
}

/// `users add` refuses a blank `--name`, but `users set --name "  "` stores an empty
/// full, first and last name (src/control/server.rs, `Request::UsersSet`: no check like
/// the one in `Request::UsersAdd`). Signatures use `{{agent.full_name}}`.
#[test]
fn users_set_refuses_a_blank_name_like_users_add() {
    let d = start(BASE);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    let (code, out, _) = d.ctl(&["users", "set", "alice@example.com", "--name", "  "]);
    let alice = crate::user(&d, "alice@example.com");
    assert!(
        code != 0 && alice["full_name"] == "Alice Archer",
        "users set --name \"  \" exited {code} ({out}) and left {alice:#}"
    );
}

/// `tickets reply --as` and `tickets note --as` refuse anyone who is not an active
/// agent, but `tickets assign/status/priority --as` record any string as the actor of
/// the change (src/control/server.rs, `actor_of`), so the event log — the audit trail
/// of who did what — can name a person who does not exist.
#[test]
fn changes_made_as_an_unknown_agent_are_refused() {
    let d = start(BASE);
    deliver(
        &d,
        &[Delivery::new(
            "c@customer.org",
            "support@example.com",
            "Audit",
            "audit@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Audit");
    let id = t["id"].to_string();
    let (code, _, _) = d.ctl(&[
        "tickets",
        "status",
        &id,
        "Closed",
        "--as",
        "ghost@example.com",
    ]);
    let after = d.ticket(t["id"].as_i64().unwrap());
    assert!(
        code != 0 && after["status"] == t["status"],
        "a change --as an unknown agent was accepted (exit {code}): {:#?}",
        crate::events(&after)
    );
}
