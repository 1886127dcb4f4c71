//! Lifecycle: an agent's reply moves a ticket to its pipeline's agent-reply stage,
//! closing is a stage change, a customer's reply to a closed ticket reopens it to the
//! reopen stage with the same owner; every change is in the event log with its actor.
//! No `[smtp]`: replies stay queued, the status change happens when they are queued.

use serde_json::Value;

use crate::harness::Daemon;
use crate::{add_user, deliver, enable, event_with, ok, start, ticket_by_subject, Delivery};

/// No `[[pipeline]]`: the built-in "Support" pipeline.
const DEFAULT: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

/// A custom pipeline with its own reply and reopen stages.
const CUSTOM: &str = r#"
[[pipeline]]
name = "Billing"
stages = [
  { name = "Triage", closed = false },
  { name = "Investigating", closed = false },
  { name = "Awaiting customer", closed = false },
  { name = "Refunded", closed = true },
]
reopen_stage = "Investigating"
agent_reply_stage = "Awaiting customer"

[[channel]]
kind = "email"
name = "billing"
address = "billing@example.com"
"#;

/// `base` with its channel routed to alice.
fn routed(base: &str) -> String {
    format!(
        "{base}\n[channel.routing]\nmode = \"users_and_teams\"\nusers = [\"alice@example.com\"]\n"
    )
}

fn reply(d: &Daemon, id: i64, agent: &str) {
    let (code, out, err) = d.ctl_stdin(
        &["tickets", "reply", &id.to_string(), "--as", agent],
        Some(b"We are on it.\n"),
    );
    assert_eq!(code, 0, "tickets reply failed ({code}): {err}\n{out}");
}

fn id(t: &Value) -> i64 {
    t["id"].as_i64().unwrap()
}

#[test]
fn reply_close_and_customer_reply_move_the_ticket_with_the_same_owner() {
    let d = start(DEFAULT);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    add_user(&d, "bob@example.com", "Bob Baker", true);
    enable(&d, &routed(DEFAULT));

    deliver(
        &d,
        &[Delivery::new(
            "cust@customer.org",
            "support@example.com",
            "Printer on fire",
            "first@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Printer on fire");
    let tid = id(&t);
    assert_eq!(t["pipeline"], "Support");
    assert_eq!(t["status"], "New");
    assert_eq!(t["owner"], "alice@example.com");

    // The agent replies: New → Waiting on contact, by alice.
    reply(&d, tid, "alice@example.com");
    let t = d.ticket(tid);
    assert_eq!(t["status"], "Waiting on contact", "{t:#}");
    let (_, actor, detail) = event_with(&t, "status", "agent replied");
    assert_eq!(actor, "alice@example.com");
    assert!(detail.contains("New → Waiting on contact"), "{detail}");

    // Priority and status changes by hand, recorded with --as.
    ok(
        &d,
        &[
            "tickets",
            "priority",
            &tid.to_string(),
            "urgent",
            "--as",
            "bob@example.com",
        ],
    );
    ok(
        &d,
        &[
            "tickets",
            "status",
            &tid.to_string(),
            "closed",
            "--as",
            "bob@example.com",
        ],
    );
    let t = d.ticket(tid);
    assert_eq!(t["priority"], "urgent");
    assert_eq!(t["status"], "Closed", "stage names are canonical: {t:#}");
    let (_, actor, _) = event_with(&t, "priority", "medium → urgent");
    assert_eq!(actor, "bob@example.com");
    let (_, actor, _) = event_with(&t, "status", "Waiting on contact → Closed");
    assert_eq!(actor, "bob@example.com");
    // Without --as the command line is the actor.
    ok(&d, &["tickets", "priority", &tid.to_string(), "high"]);
    let (_, actor, _) = event_with(&d.ticket(tid), "priority", "urgent → high");
    assert!(actor.contains("frontdeskctl"), "{actor}");

    // The owner is away now; the customer's reply still reopens to the same owner.
    ok(
        &d,
        &["users", "set", "alice@example.com", "--available", "off"],
    );
    deliver(
        &d,
        &[Delivery::reply(
            "cust@customer.org",
            "support@example.com",
            "Re: Printer on fire",
            "second@customer.org",
            "first@customer.org",
        )],
    );
    let t = d.ticket(tid);
    assert!(
        t["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["message_id"] == "second@customer.org"),
        "the reply did not thread into #{tid}: {t:#}"
    );
    assert_eq!(t["status"], "Waiting on us", "{t:#}");
    assert_eq!(t["owner"], "alice@example.com", "{t:#}");
    let (_, actor, detail) = event_with(&t, "reopened", "customer replied");
    assert_eq!(actor, "cust@customer.org");
    assert!(detail.contains("Closed → Waiting on us"), "{detail}");
    assert_eq!(crate::tickets(&d).len(), 1, "the reply opened a new ticket");

    // A reply to a ticket that is not closed does not reopen anything.
    deliver(
        &d,
        &[Delivery::reply(
            "cust@customer.org",
            "support@example.com",
            "Re: Printer on fire",
            "third@customer.org",
            "second@customer.org",
        )],
    );
    let t = d.ticket(tid);
    assert_eq!(t["status"], "Waiting on us");
    assert_eq!(
        crate::events(&t)
            .iter()
            .filter(|(k, _, _)| k == "reopened")
            .count(),
        1
    );

    // Hand assignment, recorded with the actor.
    ok(
        &d,
        &[
            "tickets",
            "assign",
            &tid.to_string(),
            "bob@example.com",
            "--as",
            "alice@example.com",
        ],
    );
    let t = d.ticket(tid);
    assert_eq!(t["owner"], "bob@example.com");
    let (_, actor, _) = event_with(&t, "assigned", "assigned to bob@example.com");
    assert_eq!(actor, "alice@example.com");
    // To a team: the team is recorded and its one eligible member owns it.
    ok(
        &d,
        &["users", "set", "alice@example.com", "--available", "on"],
    );
    ok(
        &d,
        &["users", "set", "bob@example.com", "--available", "off"],
    );
    ok(&d, &["teams", "add", "Tier2"]);
    ok(
        &d,
        &[
            "teams",
            "members",
            "Tier2",
            "--add",
            "alice@example.com",
            "--add",
            "bob@example.com",
        ],
    );
    ok(
        &d,
        &["tickets", "assign", &tid.to_string(), "--team", "tier2"],
    );
    let t = d.ticket(tid);
    assert_eq!(t["team"], "Tier2", "{t:#}");
    assert_eq!(t["owner"], "alice@example.com", "{t:#}");
    event_with(&t, "assigned", "team Tier2 (alice@example.com)");
    ok(&d, &["tickets", "assign", &tid.to_string(), "--none"]);
    let t = d.ticket(tid);
    assert!(t["owner"].is_null(), "{t:#}");
    assert!(t["team"].is_null(), "{t:#}");
}

#[test]
fn custom_pipeline_uses_its_own_reply_and_reopen_stages() {
    let d = start(CUSTOM);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    enable(&d, &routed(CUSTOM));
    deliver(
        &d,
        &[Delivery::new(
            "payer@customer.org",
            "billing@example.com",
            "Double charge",
            "bill1@customer.org",
        )],
    );
    let t = ticket_by_subject(&d, "Double charge");
    let tid = id(&t);
    assert_eq!(t["pipeline"], "Billing");
    assert_eq!(t["status"], "Triage");

    reply(&d, tid, "alice@example.com");
    let t = d.ticket(tid);
    assert_eq!(t["status"], "Awaiting customer", "{t:#}");
    event_with(&t, "status", "Triage → Awaiting customer");

    // A stage of another pipeline is refused; this pipeline's closed stage is not.
    let (_, err) = crate::refused(&d, &["tickets", "status", &tid.to_string(), "Closed"]);
    assert!(err.contains("not a stage of pipeline"), "{err}");
    ok(
        &d,
        &[
            "tickets",
            "status",
            &tid.to_string(),
            "Refunded",
            "--as",
            "alice@example.com",
        ],
    );
    assert_eq!(d.ticket(tid)["status"], "Refunded");

    deliver(
        &d,
        &[Delivery::reply(
            "payer@customer.org",
            "billing@example.com",
            "Re: Double charge",
            "bill2@customer.org",
            "bill1@customer.org",
        )],
    );
    let t = d.ticket(tid);
    assert_eq!(t["status"], "Investigating", "{t:#}");
    assert_eq!(t["owner"], "alice@example.com");
    event_with(&t, "reopened", "Refunded → Investigating");

    // A second agent reply from the agent-reply stage itself changes nothing more.
    reply(&d, tid, "alice@example.com");
    reply(&d, tid, "alice@example.com");
    let t = d.ticket(tid);
    assert_eq!(t["status"], "Awaiting customer");
    assert_eq!(
        crate::events(&t)
            .iter()
            .filter(|(k, _, d)| k == "status" && d.contains("agent replied"))
            .count(),
        2,
        "{t:#}"
    );
}

#[test]
fn a_ticket_moves_to_another_pipeline_and_bad_moves_change_nothing() {
    let two = format!(
        "{CUSTOM}\n[[pipeline]]\nname = \"Sales\"\nstages = [\n  {{ name = \"Lead\", closed = false }},\n  {{ name = \"Won\", closed = true }},\n]\n"
    );
    let d = start(&two);
    add_user(&d, "alice@example.com", "Alice Archer", true);
    deliver(
        &d,
        &[Delivery::new(
            "buyer@customer.org",
            "billing@example.com",
            "Bulk order quote",
            "quote1@customer.org",
        )],
    );
    let tid = id(&ticket_by_subject(&d, "Bulk order quote"));
    let t_id = tid.to_string();

    // Unknown pipeline, or a stage that is not in the target: refused, nothing moves.
    let (_, err) = crate::refused(&d, &["tickets", "pipeline", &t_id, "Marketing"]);
    assert!(err.contains("no pipeline \"Marketing\""), "{err}");
    let (_, err) = crate::refused(
        &d,
        &["tickets", "pipeline", &t_id, "Sales", "--stage", "Refunded"],
    );
    assert!(err.contains("not a stage of pipeline"), "{err}");
    let t = d.ticket(tid);
    assert_eq!(
        (t["pipeline"].as_str(), t["status"].as_str()),
        (Some("Billing"), Some("Triage"))
    );

    // Without --stage: the first stage; the event log says who and what.
    ok(
        &d,
        &[
            "tickets",
            "pipeline",
            &t_id,
            "sales",
            "--as",
            "alice@example.com",
        ],
    );
    let t = d.ticket(tid);
    assert_eq!(
        (t["pipeline"].as_str(), t["status"].as_str()),
        (Some("Sales"), Some("Lead"))
    );
    event_with(&t, "pipeline", "Billing / Triage → Sales / Lead");
    // Into a closed stage closes it.
    ok(
        &d,
        &[
            "tickets", "pipeline", &t_id, "Billing", "--stage", "Refunded",
        ],
    );
    assert_eq!(d.ticket(tid)["status"], "Refunded");
    let open = d.ctl_json(&["status"])["counts"]["tickets_open"].clone();
    assert_eq!(open, 0, "a ticket in a closed stage still counts as open");
}
