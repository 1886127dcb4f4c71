use super::*;

/// Midnight UTC, Monday 16 November 2026.
const MON: i64 = 1_794_787_200;
const H: i64 = 3600;

fn week() -> Period {
    // Sunday 22 November, 18:00 UTC: the last 7 days are Monday to Sunday.
    Period::last_days(7, MON + 6 * DAY + 18 * H, Clock::Offset(0))
}

fn ticket(id: i64, created_at: i64) -> TicketFact {
    TicketFact {
        id,
        channel: "support".into(),
        owner: None,
        created_at,
        closed: false,
        closed_at: None,
        customer_first: true,
        priority: "medium".into(),
        priority_changes: Vec::new(),
        closed_unanswered: false,
        fields: Vec::new(),
    }
}

fn closed(mut t: TicketFact, at: i64, owner: &str) -> TicketFact {
    t.closed = true;
    t.closed_at = Some(at);
    t.owner = Some(owner.into());
    t
}

fn reply(ticket: i64, sent_at: i64, agent: &str) -> ReplyFact {
    ReplyFact {
        ticket,
        sent_at,
        agent: agent.into(),
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn report(tickets: Vec<TicketFact>, replies: Vec<ReplyFact>) -> Report {
    let facts = Facts {
        tickets,
        replies,
        open_now: 5,
        unassigned_now: 2,
        ..Default::default()
    };
    build(
        week(),
        &facts,
        &names(&["bea@acme.test", "jane@acme.test"]),
        &names(&["support", "billing"]),
        None,
    )
}

#[test]
fn a_period_is_whole_days_in_the_agents_clock() {
    let p = week();
    assert_eq!((p.since, p.days), (MON, 7));
    assert_eq!(p.until, MON + 6 * DAY + 18 * H);
    // One day: today since midnight.
    let today = Period::last_days(1, MON + 10 * H, Clock::Offset(0));
    assert_eq!(today.since, MON);
    // In Berlin (UTC+1) Monday begins at 23:00 UTC on Sunday.
    let berlin = Period::last_days(1, MON + 10 * H, Clock::Offset(H));
    assert_eq!(berlin.since, MON - H);
    // In New York (UTC-5) at 02:00 UTC on Monday it is still Sunday.
    let new_york = Period::last_days(1, MON + 2 * H, Clock::Offset(-5 * H));
    assert_eq!(new_york.since, MON - DAY + 5 * H);
    // Out of range asks are kept in range.
    assert_eq!(Period::last_days(0, MON, Clock::Offset(0)).days, 1);
    assert_eq!(
        Period::last_days(10_000, MON, Clock::Offset(0)).days,
        MAX_DAYS
    );
    assert!(p.holds(MON) && p.holds(p.until));
    assert!(!p.holds(MON - 1) && !p.holds(p.until + 1));
    assert_eq!(p.day_of(MON + DAY + 5), Some(1));
    assert_eq!(p.day_of(MON - 1), None);
}

/// In a zone, a day that holds a clock change is 23 or 25 hours long, and the days
/// before it still begin at the agent's midnight.
#[test]
fn days_follow_a_zones_clock_changes() {
    let berlin = Clock::zone("Europe/Berlin").expect("a known zone");
    // Wednesday 1 April 2026, 12:00 UTC (14:00 in Berlin, summer time since Sunday 29
    // March 02:00 local).
    let now = 1_775_044_800;
    let p = Period::last_days(7, now, berlin.clone());
    // Thursday 26 March 00:00 in Berlin is 23:00 UTC on the 25th (winter time).
    assert_eq!(p.since, 1_774_479_600);
    let lengths: Vec<i64> = p.starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        lengths,
        [DAY, DAY, DAY, DAY - H, DAY, DAY],
        "Sunday is 23 h"
    );
    // Wednesday began at 22:00 UTC on Tuesday (summer time).
    assert_eq!(p.starts[6], now - 12 * H - 2 * H);
    // 22:30 UTC on Saturday the 28th is 23:30 in Berlin: still Saturday.
    assert_eq!(p.day_of(1_774_737_000), Some(2));
    // 22:30 UTC on Sunday the 29th is 00:30 on Monday in Berlin.
    assert_eq!(p.day_of(1_774_823_400), Some(4));
    assert_eq!(p.day_label(1_774_823_400), "Mon 30 Mar 2026");
    assert_eq!(p.day_label(p.since), "Thu 26 Mar 2026");
    // A fixed clock of the same winter offset puts the later days an hour off.
    let fixed = Period::last_days(7, now, Clock::Offset(H));
    assert_eq!(fixed.since, p.since);
    assert_eq!(fixed.starts[6], p.starts[6] + H);
    // October's change back: the Sunday is 25 hours long.
    let autumn = Period::last_days(3, 1_793_102_400, berlin.clone());
    let lengths: Vec<i64> = autumn.starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(lengths, [DAY + H, DAY], "{:?}", autumn.starts);
    assert_eq!(berlin.label(), "Europe/Berlin");
    assert_eq!(berlin.offset_at(now), 2 * H);
}

#[test]
fn a_clock_comes_from_the_pages_fields() {
    assert_eq!(
        Clock::from_fields(Some("Europe/Berlin"), Some("60")),
        Clock::Zone("Europe/Berlin".into())
    );
    // A zone the database does not know: the minutes; neither: UTC.
    assert_eq!(
        Clock::from_fields(Some("Mars/Olympus"), Some("60")),
        Clock::Offset(H)
    );
    assert_eq!(Clock::from_fields(None, None), Clock::Offset(0));
    assert_eq!(
        Clock::zone(" Asia/Kolkata "),
        Some(Clock::Zone("Asia/Kolkata".into()))
    );
    assert_eq!(Clock::zone("../../etc/passwd"), None);
}

#[test]
fn percentiles_are_by_nearest_rank() {
    assert_eq!(percentile(&[], 50), None);
    assert_eq!(percentile(&[7], 50), Some(7));
    assert_eq!(percentile(&[7], 90), Some(7));
    assert_eq!(percentile(&[1, 2], 50), Some(1));
    assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    let ten: Vec<i64> = (1..=10).collect();
    assert_eq!(percentile(&ten, 90), Some(9));
    assert_eq!(percentile(&ten, 100), Some(10));
    assert_eq!(percentile(&ten, 0), Some(1));
    let s = Spread::of(vec![7200, 60, 3600, 30]);
    assert_eq!(s.count, 4);
    assert_eq!(s.median, Some(60));
    assert_eq!(s.p90, Some(7200));
    assert_eq!(s.within_hour, 3, "an hour exactly is within the hour");
    assert_eq!(Spread::of(Vec::new()), Spread::default());
}

#[test]
fn first_answers_count_the_earliest_reply_and_who_wrote_it() {
    let r = report(
        vec![ticket(1, MON + H), ticket(2, MON + 2 * H), ticket(3, MON)],
        vec![
            // Ticket 1: Jane answered after 30 min, Bea later; replies come in any order.
            reply(1, MON + 3 * H, "bea@acme.test"),
            reply(1, MON + H + 1800, "jane@acme.test"),
            // Ticket 2: Bea after two hours.
            reply(2, MON + 4 * H, "bea@acme.test"),
        ],
    );
    assert_eq!(r.opened, 3);
    assert_eq!(r.first_response.count, 2);
    assert_eq!(r.first_response.median, Some(1800));
    assert_eq!(r.first_response.p90, Some(2 * H));
    assert_eq!(r.first_response.within_hour, 1);
    assert_eq!(r.unanswered, 1, "ticket 3 is open with no answer");
    let bea = &r.agents[0];
    assert_eq!(bea.agent, "bea@acme.test");
    assert_eq!(bea.replies, 2);
    assert_eq!(bea.first_response.count, 1);
    assert_eq!(bea.first_response.median, Some(2 * H));
    let jane = &r.agents[1];
    assert_eq!((jane.replies, jane.first_response.median), (1, Some(1800)));
}

#[test]
fn tickets_an_agent_opened_or_that_were_filed_closed_are_no_one_waiting() {
    let mut ours = ticket(1, MON + H);
    ours.customer_first = false;
    let mut filed = ticket(2, MON + H);
    filed.closed = true;
    let r = report(vec![ours, filed], vec![reply(1, MON + H, "jane@acme.test")]);
    assert_eq!(
        r.opened, 1,
        "an agent's own ticket is opened; one filed closed is not"
    );
    assert_eq!(r.first_response.count, 0);
    assert_eq!(r.unanswered, 0);
    assert_eq!(r.closed, 0);
    assert_eq!(r.agents[1].replies, 1);
}

#[test]
fn closing_counts_in_the_period_for_the_owner_and_the_day() {
    let r = report(
        vec![
            // Opened before the period, closed in it after eight days.
            closed(ticket(1, MON - 6 * DAY), MON + 2 * DAY, "jane@acme.test"),
            // Opened and closed on Tuesday, no answer needed (closed).
            // The desk closed it: the customer never answered.
            TicketFact {
                closed_unanswered: true,
                fields: Vec::new(),
                ..closed(ticket(2, MON + DAY), MON + DAY + 2 * H, "bea@acme.test")
            },
            // Closed before the period: not counted, though opened... before too.
            closed(ticket(3, MON - 9 * DAY), MON - DAY, "bea@acme.test"),
            // Closed once, reopened: open now, its old close not counted.
            TicketFact {
                closed_at: None,
                ..ticket(4, MON + 3 * DAY)
            },
        ],
        Vec::new(),
    );
    assert_eq!(r.closed, 2);
    assert_eq!(r.closed_unanswered, 1);
    assert_eq!(r.opened, 2, "tickets 2 and 4");
    assert_eq!(
        r.unanswered, 1,
        "ticket 4; closed ticket 2 waits for nobody"
    );
    assert_eq!(r.time_to_close.count, 2);
    assert_eq!(r.time_to_close.median, Some(2 * H));
    assert_eq!(r.time_to_close.p90, Some(8 * DAY));
    assert_eq!(r.agents[0].closed, 1);
    assert_eq!(r.agents[1].closed, 1);
    let by_day: Vec<(usize, usize)> = r.days.iter().map(|d| (d.opened, d.closed)).collect();
    assert_eq!(
        by_day,
        [(0, 0), (1, 1), (0, 1), (1, 0), (0, 0), (0, 0), (0, 0)]
    );
    assert_eq!(r.days[1].start, MON + DAY);
    assert_eq!((r.open_now, r.unassigned_now), (5, 2));
}

#[test]
fn lines_keep_the_named_order_and_add_whoever_else_turns_up() {
    let mut t = ticket(1, MON + H);
    t.channel = "sales".into();
    let r = report(
        vec![t, ticket(2, MON + H)],
        vec![reply(1, MON + 2 * H, "kim@acme.test")],
    );
    let channels: Vec<(&str, usize)> = r
        .channels
        .iter()
        .map(|c| (c.channel.as_str(), c.opened))
        .collect();
    assert_eq!(channels, [("support", 1), ("billing", 0), ("sales", 1)]);
    assert_eq!(r.channels[2].first_response.median, Some(H));
    assert_eq!(r.channels[0].first_response.count, 0);
    let agents: Vec<&str> = r.agents.iter().map(|a| a.agent.as_str()).collect();
    assert_eq!(agents, ["bea@acme.test", "jane@acme.test", "kim@acme.test"]);
    assert_eq!(r.agents[2].replies, 1);
}

#[test]
fn replies_outside_the_period_count_for_nothing() {
    let r = report(
        vec![ticket(1, MON + H)],
        vec![reply(1, MON + 7 * DAY + H, "jane@acme.test")],
    );
    assert_eq!(r.first_response.count, 0);
    assert_eq!(r.agents[1].replies, 0);
}

#[test]
fn durations_read_as_people_say_them() {
    for (secs, words) in [
        (-5, "0 s"),
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (3660, "1 h 1 min"),
        (86_399, "23 h 59 min"),
        (86_400, "1 d"),
        (90_000, "1 d 1 h"),
        (10 * 86_400 + 7 * 3600 + 59, "10 d 7 h"),
    ] {
        assert_eq!(duration_words(secs), words, "{secs}");
    }
}

#[test]
fn a_browsers_clock_is_read_within_the_worlds_offsets() {
    assert_eq!(offset_from_minutes(None), 0);
    assert_eq!(offset_from_minutes(Some("60")), 3600);
    assert_eq!(offset_from_minutes(Some("-300")), -18_000);
    assert_eq!(offset_from_minutes(Some(" 330 ")), 19_800);
    assert_eq!(offset_from_minutes(Some("841")), 0);
    assert_eq!(offset_from_minutes(Some("east")), 0);
}

#[test]
fn first_answers_count_against_their_priority_s_target() {
    let sla = Sla {
        first_answer: crate::desk::sla::Targets {
            medium: Some(4 * H),
            urgent: Some(H),
            ..Default::default()
        },
        next_answer: Default::default(),
        hours: None,
        channels: Vec::new(),
    };
    let urgent = |mut t: TicketFact| {
        t.priority = "urgent".into();
        t
    };
    let mut low = ticket(7, MON + 5 * H);
    low.priority = "low".into();
    let mut agents_own = ticket(8, MON + 5 * H);
    agents_own.customer_first = false;
    let tickets = vec![
        ticket(1, MON),                                    // answered in 3 h: met
        ticket(2, MON),                                    // answered in 5 h: missed
        urgent(ticket(3, MON)),                            // answered in 2 h: missed
        ticket(4, MON),                                    // unanswered, long past due: missed
        ticket(5, MON + 6 * DAY + 17 * H),                 // unanswered, not due yet
        closed(ticket(6, MON), MON + H, "jane@acme.test"), // closed unanswered
        low,                                               // no target for low
        agents_own,                                        // nobody waited
    ];
    let replies = vec![
        reply(1, MON + 3 * H, "jane@acme.test"),
        reply(2, MON + 5 * H, "jane@acme.test"),
        reply(3, MON + 2 * H, "jane@acme.test"),
        reply(7, MON + 9 * DAY, "jane@acme.test"),
        reply(8, MON + 9 * DAY, "jane@acme.test"),
    ];
    let facts = Facts {
        tickets,
        replies,
        ..Default::default()
    };
    let r = build(week(), &facts, &[], &[], Some(&sla));
    assert_eq!(r.on_target, Some(OnTarget { met: 1, missed: 3 }));
    assert_eq!(r.on_target.unwrap().words(), "1 of 4 (25 %)");
    // The one channel's line counts the same; without targets, nothing.
    assert_eq!(r.channels.len(), 1);
    assert_eq!(
        r.channels[0].on_target,
        Some(OnTarget { met: 1, missed: 3 })
    );
    let untargeted = build(week(), &facts, &[], &[], None);
    assert_eq!(untargeted.channels[0].on_target, None);

    // A target counts by the priority the ticket had when answered: raised to urgent
    // after a 3-hour answer, it was met (its medium target); raised before a 2-hour
    // answer, missed (urgent's hour); lowered from urgent to medium before a 2-hour
    // answer, met. Still waiting, by the priority it has now.
    let changed = |mut t: TicketFact, now: &str, changes: &[(i64, Priority)]| {
        t.priority = now.into();
        t.priority_changes = changes.to_vec();
        t
    };
    let facts = Facts {
        tickets: vec![
            changed(ticket(1, MON), "urgent", &[(MON + 4 * H, Priority::Medium)]),
            changed(ticket(2, MON), "urgent", &[(MON + H / 2, Priority::Medium)]),
            changed(ticket(3, MON), "medium", &[(MON + H / 2, Priority::Urgent)]),
            changed(
                ticket(4, MON + 6 * DAY + 15 * H),
                "urgent",
                &[(MON + 6 * DAY + 15 * H, Priority::Medium)],
            ),
        ],
        replies: vec![
            reply(1, MON + 3 * H, "jane@acme.test"),
            reply(2, MON + 2 * H, "jane@acme.test"),
            reply(3, MON + 2 * H, "jane@acme.test"),
        ],
        ..Default::default()
    };
    let r = build(week(), &facts, &[], &[], Some(&sla));
    assert_eq!(
        r.on_target,
        Some(OnTarget { met: 2, missed: 2 }),
        "1 and 3 met"
    );
    let priority = |t: &TicketFact, at| t.priority_at(at);
    assert_eq!(priority(&facts.tickets[0], MON), Some(Priority::Medium));
    assert_eq!(
        priority(&facts.tickets[0], MON + 4 * H),
        Some(Priority::Urgent)
    );
    assert_eq!(
        priority(&facts.tickets[0], MON + 5 * H),
        Some(Priority::Urgent)
    );
    assert_eq!(build(week(), &facts, &[], &[], None).on_target, None);
    assert_eq!(OnTarget::default().words(), "none due yet");
}

#[test]
fn with_office_hours_durations_count_open_time_only() {
    // Open weekdays 09:00-17:00 UTC. Ticket 1 came on Friday 20 November at 16:00 and
    // was answered on Monday 23 November at 10:00 (outside this week's period, so a
    // week from Tuesday 17th): two open hours. Ticket 2, Tuesday 10:00, answered 10:30.
    let sla = Sla {
        first_answer: crate::desk::sla::Targets {
            medium: Some(4 * H),
            ..Default::default()
        },
        next_answer: Default::default(),
        hours: Some(crate::desk::sla::OfficeHours {
            days: crate::desk::sla::parse_hours("mon-fri 09:00-17:00").unwrap(),
            zone: jiff::tz::TimeZone::UTC,
            holidays: Vec::new(),
        }),
        channels: Vec::new(),
    };
    let period = Period::last_days(7, MON + 7 * DAY + 18 * H, Clock::Offset(0));
    let fri = MON + 4 * DAY + 16 * H;
    let tue = MON + DAY + 10 * H;
    let next_mon = MON + 7 * DAY + 10 * H;
    let facts = Facts {
        tickets: vec![
            closed(ticket(1, fri), next_mon + H, "jane@acme.test"),
            ticket(2, tue),
        ],
        replies: vec![
            reply(1, next_mon, "jane@acme.test"),
            reply(2, tue + 30 * 60, "jane@acme.test"),
        ],
        ..Default::default()
    };
    let r = build(period.clone(), &facts, &[], &[], Some(&sla));
    assert!(r.office_hours);
    assert_eq!(r.time_counted(), "Times count office hours only.");
    assert_eq!(r.first_response.median, Some(30 * 60));
    assert_eq!(r.first_response.p90, Some(2 * H), "not 66 hours");
    assert_eq!(r.first_response.within_hour, 1);
    assert_eq!(r.time_to_close.median, Some(3 * H));
    assert_eq!(r.on_target, Some(OnTarget { met: 2, missed: 0 }));
    // A channel that keeps no hours of its own ("always") counts around the clock:
    // the same tickets on it waited all weekend.
    let always = Sla {
        channels: vec![crate::desk::sla::ChannelTargets {
            channel: "support".into(),
            first_answer: sla.first_answer,
            next_answer: sla.next_answer,
            hours: None,
        }],
        ..sla.clone()
    };
    let r = build(period.clone(), &facts, &[], &[], Some(&always));
    assert!(r.office_hours, "the desk still keeps hours");
    assert_eq!(
        r.time_counted(),
        "Times count office hours only, but support runs around the clock."
    );
    assert_eq!(r.first_response.p90, Some(next_mon - fri));
    assert_eq!(r.on_target, Some(OnTarget { met: 1, missed: 1 }));
    // Around the clock without office hours.
    // Around the clock but for a channel with hours of its own, and one with the desk's.
    let own = crate::desk::sla::ChannelTargets {
        channel: "billing".into(),
        first_answer: sla.first_answer,
        next_answer: sla.next_answer,
        hours: sla.hours.clone(),
    };
    let some = Sla {
        hours: None,
        channels: vec![
            own.clone(),
            crate::desk::sla::ChannelTargets {
                channel: "sales".into(),
                hours: None,
                ..own.clone()
            },
        ],
        ..sla.clone()
    };
    let r = build(period.clone(), &facts, &[], &[], Some(&some));
    assert_eq!(
        r.time_counted(),
        "Times run around the clock, but billing counts its office hours."
    );
    let mixed = Sla {
        channels: vec![
            own.clone(),
            crate::desk::sla::ChannelTargets {
                channel: "emergency".into(),
                hours: None,
                ..own.clone()
            },
            crate::desk::sla::ChannelTargets {
                channel: "sales".into(),
                hours: Some(crate::desk::sla::OfficeHours {
                    days: crate::desk::sla::parse_hours("mon-fri 08:00-12:00").unwrap(),
                    zone: jiff::tz::TimeZone::UTC,
                    holidays: Vec::new(),
                }),
                ..own
            },
        ],
        ..sla.clone()
    };
    let r = build(period.clone(), &facts, &[], &[], Some(&mixed));
    assert_eq!(
        r.time_counted(),
        "Times count office hours only, but emergency runs around the clock and sales counts its own office hours."
    );
    let plain = Sla { hours: None, ..sla };
    let r = build(period, &facts, &[], &[], Some(&plain));
    assert!(!r.office_hours);
    assert_eq!(r.time_counted(), "Times run around the clock.");
    assert_eq!(r.first_response.p90, Some(next_mon - fri));
    assert_eq!(r.time_to_close.median, Some(next_mon + H - fri));
}

#[test]
fn ratings_given_in_the_period_count_for_the_desk_and_the_agent() {
    use crate::desk::ratings::Rating;
    let rating = |agent: &str, rating: Rating, rated_at: i64| RatingFact {
        agent: agent.into(),
        rating,
        rated_at,
        survey: false,
        channel: "support".into(),
    };
    // The survey after closing, rated for the ticket's owner ("": nobody's).
    let survey = |agent: &str, verdict: Rating, rated_at: i64| RatingFact {
        survey: true,
        ..rating(agent, verdict, rated_at)
    };
    let facts = Facts {
        ratings: vec![
            rating("jane@acme.test", Rating::Good, MON + H),
            rating("jane@acme.test", Rating::Bad, MON + 2 * H),
            rating("bea@acme.test", Rating::Good, MON + 3 * H),
            rating("al@acme.test", Rating::Okay, MON + 3 * H),
            rating("jane@acme.test", Rating::Good, MON - H), // before the period
            survey("", Rating::Good, MON + 4 * H),
            RatingFact {
                channel: "sales".into(),
                ..survey("bea@acme.test", Rating::Bad, MON + 4 * H)
            },
        ],
        ..Default::default()
    };
    let r = build(
        week(),
        &facts,
        &names(&["bea@acme.test", "jane@acme.test"]),
        &[],
        None,
    );
    assert_eq!(r.ratings.words(), "2 good, 1 okay, 1 not good (50 % good)");
    assert_eq!(r.surveys.words(), "1 good, 0 okay, 1 not good (50 % good)");
    assert!(
        r.agents.iter().all(|a| !a.agent.is_empty()),
        "no line for nobody"
    );
    let line = |email: &str| r.agents.iter().find(|a| a.agent == email).unwrap().rated;
    assert_eq!(line("jane@acme.test").good_of_all(), "1 of 2");
    assert_eq!(
        line("bea@acme.test").good_of_all(),
        "1 of 2",
        "her reply and her ticket's survey"
    );
    assert_eq!(
        line("al@acme.test").good_of_all(),
        "0 of 1",
        "rated, so listed"
    );
    // Each channel counts its replies' ratings and its surveys together.
    let channel = |name: &str| r.channels.iter().find(|c| c.channel == name).unwrap().rated;
    assert_eq!(
        channel("support").words(),
        "3 good, 1 okay, 1 not good (60 % good)"
    );
    assert_eq!(channel("sales").good_of_all(), "0 of 1");
}

#[test]
fn choice_fields_get_a_table_of_their_values() {
    use crate::desk::ticket_fields::{FieldDef, Kind};
    let with = |mut t: TicketFact, product: &str| {
        t.fields.push(("product".into(), product.into()));
        t.fields.push(("Order number".into(), "A-1".into()));
        t
    };
    let facts = Facts {
        tickets: vec![
            // Two hinges: one answered in an hour and closed after two, one waiting.
            with(
                closed(ticket(1, MON + 9 * H), MON + 11 * H, "jane@acme.test"),
                "Hinge",
            ),
            with(ticket(2, MON + 10 * H), "HINGE"),
            // A value an earlier config offered.
            with(ticket(3, MON + DAY), "Chair"),
            // None set; and one opened before the period, closed in it.
            ticket(4, MON + 2 * DAY),
            with(
                closed(ticket(5, MON - 3 * DAY), MON + H, "jane@acme.test"),
                "Desk lamp",
            ),
        ],
        replies: vec![reply(1, MON + 10 * H, "jane@acme.test")],
        ..Default::default()
    };
    let fields = [
        FieldDef {
            name: "Product".into(),
            kind: Kind::Choice(names(&["Desk lamp", "Hinge", "Shelf"])),
            in_inbox: false,
        },
        // Text fields get no table.
        FieldDef {
            name: "Order number".into(),
            kind: Kind::Text,
            in_inbox: false,
        },
    ];
    let r = build_with_fields(week(), &facts, (&[], &[]), None, &fields);
    assert_eq!(r.fields.len(), 1);
    let table = &r.fields[0];
    assert_eq!(table.field, "Product");
    type Line<'a> = (&'a str, usize, usize, Option<i64>, Option<i64>);
    let lines: Vec<Line> = table
        .lines
        .iter()
        .map(|l| {
            (
                l.value.as_str(),
                l.opened,
                l.closed,
                l.first_response.median,
                l.time_to_close.median,
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("Desk lamp", 0, 1, None, Some(3 * DAY + H)),
            ("Hinge", 2, 1, Some(H), Some(2 * H)),
            ("Shelf", 0, 0, None, None),
            ("Chair", 1, 0, None, None),
            ("", 1, 0, None, None),
        ]
    );
    // Without fields, no tables (and `build` asks for none).
    assert!(build_with_fields(week(), &facts, (&[], &[]), None, &[])
        .fields
        .is_empty());
    assert!(build(week(), &facts, &[], &[], None).fields.is_empty());
}
