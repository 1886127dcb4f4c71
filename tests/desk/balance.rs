//! Load balancing through the daemon: fewest open tickets, ties round-robin, only
//! eligible agents (seat, active, available, in the pool).

use std::collections::BTreeMap;

use crate::harness::Daemon;
use crate::{add_user, deliver, enable, ok, start, tickets, Delivery};

const BASE: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"
"#;

const ROUTED: &str = r#"
[[channel]]
kind = "email"
name = "support"
address = "support@example.com"

[channel.routing]
mode = "users_and_teams"
teams = ["Agents"]
"#;

const A1: &str = "a1@example.com";
const A2: &str = "a2@example.com";
const A3: &str = "a3@example.com";
const NOSEAT: &str = "noseat@example.com";
const GONE: &str = "gone@example.com";

/// `n` new tickets from distinct customers, numbered from `from`.
fn batch(from: usize, n: usize) -> Vec<Delivery> {
    (from..from + n)
        .map(|i| {
            Delivery::new(
                &format!("customer{i}@example.org"),
                "support@example.com",
                &format!("Balance {i}"),
                &format!("balance-{i}@example.org"),
            )
        })
        .collect()
}

/// Tickets per owner ("-" for none), from `tickets list --json --limit 1000`.
fn owners(d: &Daemon) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for t in tickets(d) {
        let o = t["owner"].as_str().unwrap_or("-").to_string();
        *m.entry(o).or_insert(0) += 1;
    }
    m
}

fn count(m: &BTreeMap<String, usize>, who: &str) -> usize {
    m.get(who).copied().unwrap_or(0)
}

#[test]
fn three_hundred_tickets_over_three_agents_end_even_and_away_agents_get_none() {
    let d = start(BASE);
    for (email, name, seat) in [
        (A1, "Agent One", true),
        (A2, "Agent Two", true),
        (A3, "Agent Three", true),
        (NOSEAT, "No Seat", false),
        (GONE, "Gone Away", true),
    ] {
        add_user(&d, email, name, seat);
    }
    ok(&d, &["teams", "add", "Agents"]);
    ok(
        &d,
        &[
            "teams", "members", "Agents", "--add", A1, "--add", A2, "--add", A3, "--add", NOSEAT,
            "--add", GONE,
        ],
    );
    ok(&d, &["users", "deactivate", GONE]);
    // An agent with a seat outside the pool never gets one either.
    add_user(&d, "outsider@example.com", "Out Sider", true);
    enable(&d, ROUTED);

    deliver(&d, &batch(0, 300));
    let m = owners(&d);
    assert_eq!(tickets(&d).len(), 300);
    assert_eq!(
        (count(&m, A1), count(&m, A2), count(&m, A3)),
        (100, 100, 100),
        "{m:?}"
    );
    assert_eq!(count(&m, NOSEAT), 0, "{m:?}");
    assert_eq!(count(&m, GONE), 0, "{m:?}");
    assert_eq!(count(&m, "outsider@example.com"), 0, "{m:?}");
    assert_eq!(count(&m, "-"), 0, "{m:?}");

    // a2 goes away: from the very next ticket on, a2 gets none.
    ok(&d, &["users", "set", A2, "--available", "off"]);
    deliver(&d, &batch(300, 30));
    let m = owners(&d);
    assert_eq!(
        (count(&m, A1), count(&m, A2), count(&m, A3)),
        (115, 100, 115),
        "{m:?}"
    );

    // a2 is back with the fewest open tickets: the next 15 all go to a2.
    ok(&d, &["users", "set", A2, "--available", "on"]);
    deliver(&d, &batch(330, 15));
    let m = owners(&d);
    assert_eq!(
        (count(&m, A1), count(&m, A2), count(&m, A3)),
        (115, 115, 115),
        "{m:?}"
    );

    // Seat taken away from a3: only a1 and a2 share the next ones, alternating.
    ok(&d, &["users", "set", A3, "--seat", "off"]);
    deliver(&d, &batch(345, 10));
    let m = owners(&d);
    assert_eq!(
        (count(&m, A1), count(&m, A2), count(&m, A3)),
        (120, 120, 115),
        "{m:?}"
    );
    for never in [NOSEAT, GONE, "outsider@example.com", "-"] {
        assert_eq!(count(&m, never), 0, "{never}: {m:?}");
    }
}

#[test]
fn closed_tickets_do_not_count_and_an_empty_pool_leaves_tickets_unassigned() {
    let d = start(BASE);
    add_user(&d, A1, "Agent One", true);
    add_user(&d, A2, "Agent Two", true);
    ok(&d, &["teams", "add", "Agents"]);
    ok(
        &d,
        &["teams", "members", "Agents", "--add", A1, "--add", A2],
    );
    enable(&d, ROUTED);

    deliver(&d, &batch(0, 4));
    let m = owners(&d);
    assert_eq!((count(&m, A1), count(&m, A2)), (2, 2), "{m:?}");
    // Close both of a1's tickets: a1 now has the fewest open and takes the next two.
    for t in tickets(&d) {
        if t["owner"] == A1 {
            ok(&d, &["tickets", "status", &t["id"].to_string(), "Closed"]);
        }
    }
    deliver(&d, &batch(4, 2));
    let m = owners(&d);
    assert_eq!((count(&m, A1), count(&m, A2)), (4, 2), "{m:?}");

    // Everyone away: unassigned, never an error (DATA still got 250 in deliver()).
    ok(&d, &["users", "set", A1, "--available", "off"]);
    ok(&d, &["users", "set", A2, "--available", "off"]);
    deliver(&d, &batch(6, 2));
    let m = owners(&d);
    assert_eq!(count(&m, "-"), 2, "{m:?}");

    // available_only = false: away agents count again.
    enable(&d, &format!("{ROUTED}available_only = false\n"));
    deliver(&d, &batch(8, 1));
    let m = owners(&d);
    assert_eq!(count(&m, "-"), 2, "{m:?}");
    assert_eq!(count(&m, A1) + count(&m, A2), 7, "{m:?}");
}

#[test]
fn ties_rotate_round_robin_by_address() {
    let d = start(BASE);
    // Added out of order: the rotation goes by address, not by insertion.
    add_user(&d, A3, "Agent Three", true);
    add_user(&d, A1, "Agent One", true);
    add_user(&d, A2, "Agent Two", true);
    ok(&d, &["teams", "add", "Agents"]);
    ok(
        &d,
        &[
            "teams", "members", "Agents", "--add", A3, "--add", A1, "--add", A2,
        ],
    );
    enable(&d, ROUTED);
    // Each ticket is closed before the next arrives, so every agent always has zero
    // open tickets and only the round-robin decides.
    let mut got = Vec::new();
    for i in 0..7 {
        deliver(&d, &batch(i, 1));
        let t = crate::ticket_by_subject(&d, &format!("Balance {i}"));
        got.push(t["owner"].as_str().unwrap_or("-").to_string());
        ok(&d, &["tickets", "status", &t["id"].to_string(), "Closed"]);
    }
    assert_eq!(got, [A1, A2, A3, A1, A2, A3, A1], "{got:?}");
}
