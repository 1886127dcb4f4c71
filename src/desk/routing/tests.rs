use super::*;

fn agent(email: &str, seat: bool, available: bool, active: bool) -> AgentState {
    AgentState {
        email: email.into(),
        active,
        seat,
        available,
        open_tickets: 0,
        teams: vec!["tier1".into()],
    }
}

fn rule(mode: RoutingMode, available_only: bool, listed: bool) -> RoutingRule {
    RoutingRule {
        mode,
        users: if listed {
            vec!["ann@x.test".into()]
        } else {
            vec![]
        },
        teams: vec![],
        available_only,
    }
}

/// Every mode × seat × availability × available_only × owner state × pool, checked
/// against the rules written out independently here.
#[test]
fn routing_table() {
    #[derive(Clone, Copy, Debug)]
    enum Owner {
        Absent,
        Present,
        Deactivated,
    }
    let mut cases = 0;
    for mode in [
        RoutingMode::Nobody,
        RoutingMode::UsersAndTeams,
        RoutingMode::ContactOwner,
    ] {
        for seat in [true, false] {
            for available in [true, false] {
                for available_only in [true, false] {
                    for owner in [Owner::Absent, Owner::Present, Owner::Deactivated] {
                        for listed in [true, false] {
                            // ann is the listed pool; olga owns the contact.
                            let ann = agent("ann@x.test", seat, available, true);
                            let olga = agent(
                                "olga@x.test",
                                seat,
                                available,
                                !matches!(owner, Owner::Deactivated),
                            );
                            let agents = vec![ann, olga];
                            let contact_owner = match owner {
                                Owner::Absent => None,
                                _ => Some("olga@x.test"),
                            };
                            let r = rule(mode, available_only, listed);
                            let got = route(&r, &agents, contact_owner, None);
                            let takes = seat && (!available_only || available);
                            let pool_pick = (listed && takes).then(|| "ann@x.test".to_string());
                            let expected = match mode {
                                RoutingMode::Nobody => None,
                                RoutingMode::UsersAndTeams => pool_pick,
                                RoutingMode::ContactOwner => match owner {
                                    Owner::Present if takes => Some("olga@x.test".to_string()),
                                    _ if !listed => None,
                                    _ => pool_pick,
                                },
                            };
                            assert_eq!(
                                got, expected,
                                "mode {mode:?} seat {seat} available {available} available_only {available_only} owner {owner:?} listed {listed}"
                            );
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(cases, 3 * 2 * 2 * 2 * 3 * 2);
}

#[test]
fn empty_pool_is_unassigned() {
    let r = RoutingRule {
        mode: RoutingMode::UsersAndTeams,
        ..Default::default()
    };
    assert_eq!(route(&r, &[], None, None), None);
    assert_eq!(
        route(&r, &[agent("a@x.test", true, true, true)], None, None),
        None
    );
}

#[test]
fn teams_count_as_the_pool() {
    let r = RoutingRule {
        mode: RoutingMode::UsersAndTeams,
        teams: vec!["tier1".into()],
        ..Default::default()
    };
    let mut other = agent("b@x.test", true, true, true);
    other.teams = vec!["sales".into()];
    assert_eq!(
        route(
            &r,
            &[other.clone(), agent("c@x.test", true, true, true)],
            None,
            None
        ),
        Some("c@x.test".into())
    );
    assert_eq!(route(&r, &[other], None, None), None);
}

#[test]
fn fewest_open_wins_then_round_robin() {
    let r = RoutingRule {
        mode: RoutingMode::UsersAndTeams,
        teams: vec!["tier1".into()],
        ..Default::default()
    };
    let mut a = agent("a@x.test", true, true, true);
    let mut b = agent("b@x.test", true, true, true);
    let c = agent("c@x.test", true, true, true);
    a.open_tickets = 2;
    b.open_tickets = 1;
    assert_eq!(
        route(&r, &[a.clone(), b.clone(), c.clone()], None, None),
        Some("c@x.test".into())
    );
    b.open_tickets = 0;
    // b and c tie: after the last assigned (b) comes c; after c wraps to b.
    assert_eq!(
        route(
            &r,
            &[a.clone(), b.clone(), c.clone()],
            None,
            Some("b@x.test")
        ),
        Some("c@x.test".into())
    );
    assert_eq!(
        route(
            &r,
            &[a.clone(), b.clone(), c.clone()],
            None,
            Some("c@x.test")
        ),
        Some("b@x.test".into())
    );
    assert_eq!(route(&r, &[a, b, c], None, None), Some("b@x.test".into()));
}

#[test]
fn three_hundred_tickets_balance_exactly_and_away_agents_stop_at_once() {
    let r = RoutingRule {
        mode: RoutingMode::UsersAndTeams,
        teams: vec!["tier1".into()],
        ..Default::default()
    };
    let mut agents = vec![
        agent("a@x.test", true, true, true),
        agent("b@x.test", true, true, true),
        agent("c@x.test", true, true, true),
    ];
    let mut last: Option<String> = None;
    for _ in 0..300 {
        let who = route(&r, &agents, None, last.as_deref()).unwrap();
        agents
            .iter_mut()
            .find(|a| a.email == who)
            .unwrap()
            .open_tickets += 1;
        last = Some(who);
    }
    assert!(agents.iter().all(|a| a.open_tickets == 100), "{agents:?}");
    agents[1].available = false;
    for _ in 0..10 {
        let who = route(&r, &agents, None, last.as_deref()).unwrap();
        assert_ne!(who, "b@x.test");
        agents
            .iter_mut()
            .find(|a| a.email == who)
            .unwrap()
            .open_tickets += 1;
        last = Some(who);
    }
}

#[test]
fn team_names_match_whatever_their_case() {
    let r = RoutingRule {
        mode: RoutingMode::UsersAndTeams,
        teams: vec!["TIER1".into()],
        ..Default::default()
    };
    assert_eq!(
        route(&r, &[agent("a@x.test", true, true, true)], None, None),
        Some("a@x.test".into())
    );
}

#[test]
fn reasons_follow_the_route_taken() {
    let r = RoutingRule {
        mode: RoutingMode::UsersAndTeams,
        teams: vec!["tier1".into()],
        ..Default::default()
    };
    let a = agent("a@x.test", true, true, true);
    // The contact happens to be owned by a, but this mode never looks at owners.
    assert_eq!(
        route_with_reason(&r, std::slice::from_ref(&a), Some("a@x.test"), None),
        Some(("a@x.test".into(), RouteReason::FewestOpen))
    );
    let r = RoutingRule {
        mode: RoutingMode::ContactOwner,
        ..Default::default()
    };
    assert_eq!(
        route_with_reason(&r, &[a], Some("a@x.test"), None),
        Some(("a@x.test".into(), RouteReason::ContactOwner))
    );
}
