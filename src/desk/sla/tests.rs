use super::*;

/// Unix seconds of an RFC 3339 time.
fn at(text: &str) -> i64 {
    text.parse::<Timestamp>().expect(text).as_second()
}

fn weekdays_nine_to_five(zone: &str) -> OfficeHours {
    OfficeHours {
        days: parse_hours("mon-fri 09:00-17:00").expect("hours"),
        zone: super::zone(zone).expect("zone"),
        holidays: Vec::new(),
    }
}

const HOUR: i64 = 3600;

#[test]
fn spans_are_written_with_units() {
    assert_eq!(parse_span("90m"), Some(5400));
    assert_eq!(parse_span("30 min"), Some(1800));
    assert_eq!(parse_span("4h"), Some(4 * HOUR));
    assert_eq!(parse_span("1h30m"), Some(5400));
    assert_eq!(parse_span("2d"), Some(2 * 86_400));
    assert_eq!(parse_span(" 1d 4h "), Some(28 * HOUR));
    assert_eq!(parse_span("2 hours"), Some(2 * HOUR));
}

#[test]
fn spans_without_a_unit_too_short_or_too_long_are_refused() {
    for bad in [
        "",
        "5",
        "4x",
        "h",
        "0m",
        "59s",
        "30s",
        "400d",
        "-1h",
        "1.5h",
        "99999999h",
    ] {
        assert_eq!(parse_span(bad), None, "{bad:?}");
    }
}

#[test]
fn office_hours_name_days_and_spans() {
    let days = parse_hours("mon-fri 09:00-17:00").unwrap();
    assert_eq!(&days[..5], &[Some((540, 1020)); 5]);
    assert_eq!(&days[5..], &[None, None]);
    let days = parse_hours("Mon-Thu 08:30-17:00, Friday 08:30-14:00").unwrap();
    assert_eq!(days[3], Some((510, 1020)));
    assert_eq!(days[4], Some((510, 840)));
    assert_eq!(days[5], None);
    // A range may wrap past Sunday; a day may close at midnight.
    let days = parse_hours("sun-tue 10:00-24:00").unwrap();
    assert_eq!(days[6], Some((600, 1440)));
    assert_eq!(days[0], Some((600, 1440)));
    assert_eq!(days[1], Some((600, 1440)));
    assert_eq!(days[2], None);
}

#[test]
fn office_hours_that_make_no_sense_say_why() {
    for (bad, says) in [
        ("mon-fri 17:00-09:00", "closes before it opens"),
        ("mon-fri 9-17", "not a time of day"),
        ("mon-fri 9:00-17:00", "not a time of day"),
        ("mon-fri 09:00-24:30", "not a time of day"),
        ("mon-fri 09:60-17:00", "not a time of day"),
        ("someday 09:00-17:00", "not a weekday"),
        ("mo 09:00-17:00", "not a weekday"),
        ("éé-fri 09:00-17:00", "not a weekday"),
        ("montag 09:00-17:00", "not a weekday"),
        ("mon 09:00-10:00, mon 11:00-12:00", "given twice"),
        ("mon-fri", "needs days and hours"),
        ("mon-fri 09:00", "not a span of hours"),
        ("mon-fri 09:00-17:00,", "empty group"),
    ] {
        let err = parse_hours(bad).expect_err(bad);
        assert!(err.contains(says), "{bad:?}: {err}");
    }
}

#[test]
fn zones_are_iana_names() {
    assert!(zone("Europe/Berlin").is_ok());
    assert!(zone("UTC").is_ok());
    assert!(zone("Mars/Olympus")
        .unwrap_err()
        .contains("not a time zone"));
}

#[test]
fn open_time_skips_nights_and_weekends() {
    let h = weekdays_nine_to_five("UTC");
    // 2026-11-27 is a Friday.
    assert_eq!(
        h.add(at("2026-11-27T10:00:00Z"), 2 * HOUR),
        at("2026-11-27T12:00:00Z")
    );
    // Before opening: the clock starts at nine.
    assert_eq!(
        h.add(at("2026-11-27T06:00:00Z"), HOUR),
        at("2026-11-27T10:00:00Z")
    );
    // Late on Friday: the rest runs on Monday.
    assert_eq!(
        h.add(at("2026-11-27T16:00:00Z"), 2 * HOUR),
        at("2026-11-30T10:00:00Z")
    );
    // Written on Saturday: due an hour after Monday's opening.
    assert_eq!(
        h.add(at("2026-11-28T12:00:00Z"), HOUR),
        at("2026-11-30T10:00:00Z")
    );
    // Two working days and an hour: 7 h on Friday, 8 h on Monday, 1 h on Tuesday.
    assert_eq!(
        h.add(at("2026-11-27T10:00:00Z"), 16 * HOUR),
        at("2026-12-01T10:00:00Z")
    );
    // Exactly at closing: due at closing, not the next morning.
    assert_eq!(
        h.add(at("2026-11-27T15:00:00Z"), 2 * HOUR),
        at("2026-11-27T17:00:00Z")
    );
}

#[test]
fn rewinding_open_time_finds_the_latest_late_start() {
    let h = weekdays_nine_to_five("UTC");
    assert_eq!(
        h.rewind(at("2026-11-30T10:00:00Z"), 2 * HOUR),
        at("2026-11-27T16:00:00Z")
    );
    // On Sunday the last open hour was Friday's.
    assert_eq!(
        h.rewind(at("2026-11-29T12:00:00Z"), HOUR),
        at("2026-11-27T16:00:00Z")
    );
    assert_eq!(
        h.rewind(at("2026-11-27T12:00:00Z"), 2 * HOUR),
        at("2026-11-27T10:00:00Z")
    );
}

#[test]
fn a_wait_is_late_exactly_when_it_started_by_the_cutoff() {
    // Whatever the hours, "due by now" and "started by the cut-off" must agree, or the
    // Overdue view and the rows' words would disagree.
    let hours = [
        weekdays_nine_to_five("UTC"),
        weekdays_nine_to_five("Europe/Berlin"),
        OfficeHours {
            days: parse_hours("sun-thu 22:00-24:00, fri 00:00-01:30").unwrap(),
            zone: zone("America/New_York").unwrap(),
            holidays: Vec::new(),
        },
        // Berlin with a week of holidays in the middle (and a yearly one on a Sunday).
        OfficeHours {
            holidays: parse_holidays(&["2026-03-23", "2026-03-24", "03-25", "03-26", "03-22"])
                .unwrap(),
            ..weekdays_nine_to_five("Europe/Berlin")
        },
    ];
    let base = at("2026-03-20T00:00:00Z");
    for h in &hours {
        for target in [60, 5400, 8 * HOUR, 30 * HOUR] {
            for now in (0..12 * 86_400).step_by(7919).map(|s| base + s) {
                let cut = h.rewind(now, target);
                for start in (0..12 * 86_400).step_by(6007).map(|s| base + s) {
                    let late = h.add(start, target) <= now;
                    // The open time between them says the same.
                    assert_eq!(
                        late,
                        start <= now && h.open_between(start, now) >= target,
                        "{h:?} open time, target {target} start {start} now {now}"
                    );
                    assert_eq!(
                        late,
                        start <= cut,
                        "{h:?} target {target} start {start} now {now}"
                    );
                }
            }
        }
    }
}

#[test]
fn office_hours_follow_the_clock_change() {
    // Berlin moved to summer time on Sunday 2026-03-29: 09:00 on Friday is 08:00 UTC,
    // 09:00 on Monday is 07:00 UTC.
    let h = weekdays_nine_to_five("Europe/Berlin");
    assert_eq!(
        h.add(at("2026-03-27T15:00:00Z"), 2 * HOUR),
        at("2026-03-30T08:00:00Z")
    );
    assert_eq!(
        h.rewind(at("2026-03-30T08:00:00Z"), 2 * HOUR),
        at("2026-03-27T15:00:00Z")
    );
}

fn around_the_clock() -> Sla {
    Sla {
        first_answer: Targets {
            urgent: Some(HOUR),
            high: Some(4 * HOUR),
            medium: Some(8 * HOUR),
            low: None,
        },
        next_answer: Targets {
            urgent: Some(2 * HOUR),
            high: Some(8 * HOUR),
            medium: Some(86_400),
            low: None,
        },
        hours: None,
        channels: Vec::new(),
    }
}

#[test]
fn due_by_priority_and_whether_answered_before() {
    let sla = around_the_clock();
    let t = at("2026-11-27T10:00:00Z");
    assert_eq!(
        sla.due("support", t, Priority::Urgent, false),
        Some(t + HOUR)
    );
    assert_eq!(
        sla.due("support", t, Priority::Urgent, true),
        Some(t + 2 * HOUR)
    );
    assert_eq!(
        sla.due("support", t, Priority::Medium, false),
        Some(t + 8 * HOUR)
    );
    assert_eq!(sla.due("support", t, Priority::Low, false), None);
    let cut = sla.cutoffs(t);
    assert_eq!(cut.first, [i64::MIN, t - 8 * HOUR, t - 4 * HOUR, t - HOUR]);
    assert_eq!(cut.next, [i64::MIN, t - 86_400, t - 8 * HOUR, t - 2 * HOUR]);
}

#[test]
fn office_hours_move_the_due_time() {
    let sla = Sla {
        hours: Some(weekdays_nine_to_five("UTC")),
        ..around_the_clock()
    };
    // Friday 16:00, urgent: one open hour later is Monday 09:00... plus what Friday had.
    let fri = at("2026-11-27T16:30:00Z");
    assert_eq!(
        sla.due("support", fri, Priority::Urgent, false),
        Some(at("2026-11-30T09:30:00Z"))
    );
    let cut = sla.cutoffs(at("2026-11-30T09:30:00Z"));
    assert_eq!(cut.first[3], fri);
}

#[test]
fn a_channel_s_own_hours_count_for_its_tickets() {
    let desk = weekdays_nine_to_five("UTC");
    let channel = |name: &str, hours: Option<OfficeHours>| ChannelTargets {
        channel: name.into(),
        first_answer: around_the_clock().first_answer,
        next_answer: around_the_clock().next_answer,
        hours,
    };
    let sla = Sla {
        hours: Some(desk.clone()),
        channels: vec![
            // Around the clock ("always").
            channel("emergency", None),
            // The same hours, kept in New York (14:00-22:00 UTC in November).
            channel("us", Some(weekdays_nine_to_five("America/New_York"))),
            // Targets of its own, the desk's hours.
            channel("sales", Some(desk)),
        ],
        ..around_the_clock()
    };
    // Friday 16:30 UTC, urgent (one hour).
    let fri = at("2026-11-27T16:30:00Z");
    let due = |channel: &str| sla.due(channel, fri, Priority::Urgent, false);
    assert_eq!(
        due("support"),
        Some(at("2026-11-30T09:30:00Z")),
        "the desk's"
    );
    assert_eq!(due("sales"), Some(at("2026-11-30T09:30:00Z")));
    assert_eq!(due("emergency"), Some(at("2026-11-27T17:30:00Z")));
    assert_eq!(
        due("us"),
        Some(at("2026-11-27T17:30:00Z")),
        "11:30 in New York"
    );
    let saturday = at("2026-11-28T12:00:00Z");
    assert_eq!(
        sla.due("us", saturday, Priority::Urgent, false),
        Some(at("2026-11-30T15:00:00Z")),
        "Monday 10:00 in New York"
    );
    // The cut-offs agree: late at Monday 09:30 UTC for the desk, at Friday 17:30 for
    // the channel that never closes.
    assert_eq!(
        sla.cutoffs(at("2026-11-30T09:30:00Z")).of("support").0[3],
        fri
    );
    assert_eq!(
        sla.cutoffs(at("2026-11-27T17:30:00Z")).of("emergency").0[3],
        fri
    );
    let monday_ten_in_new_york = sla.cutoffs(at("2026-11-30T15:00:00Z"));
    assert_eq!(
        monday_ten_in_new_york.of("us").0[3],
        at("2026-11-30T14:00:00Z"),
        "an hour of New York's open time back: Monday 09:00 there"
    );
    assert!(
        saturday <= monday_ten_in_new_york.of("us").0[3],
        "late then"
    );
    assert!(sla.hours_of("emergency").is_none());
    assert_eq!(sla.hours_of("support"), sla.hours.as_ref());
}

#[test]
fn standing_and_words() {
    let now = at("2026-11-27T10:00:00Z");
    assert_eq!(standing(now + 2 * HOUR, now), Standing::Later);
    assert_eq!(standing(now + HOUR, now), Standing::Soon);
    assert_eq!(standing(now, now), Standing::Late);
    assert_eq!(standing(now - 60, now), Standing::Late);
    assert_eq!(words(now + 2 * HOUR, now), "answer due in 2 h");
    assert_eq!(words(now - 15 * 60, now), "answer overdue by 15 min");
    assert_eq!(words(now, now), "answer overdue by 0 s");
}

#[test]
fn no_targets_is_empty() {
    assert!(Targets::default().is_empty());
    assert!(!around_the_clock().first_answer.is_empty());
}

#[test]
fn agents_hear_of_an_answer_late_by_less_than_a_day() {
    let now = at("2026-11-27T10:00:00Z");
    assert!(!worth_telling(now + 1, now), "not late yet");
    assert!(worth_telling(now, now), "late from its due time on");
    assert!(worth_telling(now - 3 * HOUR, now));
    assert!(worth_telling(now - TELL_WITHIN, now));
    assert!(
        !worth_telling(now - TELL_WITHIN - 1, now),
        "old news: the Overdue view has it"
    );
}

#[test]
fn holidays_are_one_day_or_a_day_every_year() {
    let days = parse_holidays(&["2026-12-24", " 12-25 ", "02-29"]).unwrap();
    assert_eq!(
        days,
        [
            Holiday::Once(jiff::civil::date(2026, 12, 24)),
            Holiday::Yearly(12, 25),
            Holiday::Yearly(2, 29),
        ]
    );
    assert!(days[1].covers(jiff::civil::date(2031, 12, 25)));
    assert!(!days[0].covers(jiff::civil::date(2027, 12, 24)));
    assert!(parse_holidays::<&str>(&[]).unwrap().is_empty());
    for bad in [
        "2026-02-30",
        "13-01",
        "12-32",
        "24.12.",
        "2026-1-5",
        "xmas",
        "",
        "12-25-",
    ] {
        let e = parse_holidays(&[bad]).unwrap_err();
        assert!(e.contains("is not a day"), "{bad}: {e}");
    }
}

#[test]
fn holidays_are_closed_whatever_the_weekday() {
    // Christmas 2026: Thursday 24 (a one-off closing), Friday 25 (every year), then the
    // weekend. Two open hours from Wednesday 16:00 UTC run to Monday 10:00.
    let h = OfficeHours {
        holidays: parse_holidays(&["2026-12-24", "12-25"]).unwrap(),
        ..weekdays_nine_to_five("UTC")
    };
    let wed = at("2026-12-23T16:00:00Z");
    assert_eq!(h.add(wed, 2 * HOUR), at("2026-12-28T10:00:00Z"));
    assert_eq!(h.rewind(at("2026-12-28T10:00:00Z"), 2 * HOUR), wed);
    // A mail on the holiday itself waits for the next open day.
    assert_eq!(
        h.add(at("2026-12-24T11:00:00Z"), HOUR),
        at("2026-12-28T10:00:00Z")
    );
}

#[test]
fn open_time_between_two_moments_counts_office_hours_only() {
    let h = weekdays_nine_to_five("UTC");
    let fri = at("2026-11-27T16:30:00Z");
    assert_eq!(h.open_between(fri, at("2026-11-30T09:30:00Z")), HOUR);
    assert_eq!(h.open_between(fri, fri), 0);
    assert_eq!(h.open_between(fri, fri - 60), 0, "backwards is nothing");
    // Saturday to Sunday: closed all along.
    assert_eq!(
        h.open_between(at("2026-11-28T08:00:00Z"), at("2026-11-29T20:00:00Z")),
        0
    );
    // A whole working week.
    assert_eq!(
        h.open_between(at("2026-11-30T00:00:00Z"), at("2026-12-07T00:00:00Z")),
        40 * HOUR
    );
    // It undoes `add` over weekends, holidays and the clock change.
    let berlin = OfficeHours {
        holidays: parse_holidays(&["2026-03-31"]).unwrap(),
        ..weekdays_nine_to_five("Europe/Berlin")
    };
    let start = at("2026-03-26T10:17:00Z");
    for target in [60, 7 * HOUR, 20 * HOUR, 100 * HOUR] {
        assert_eq!(
            berlin.open_between(start, berlin.add(start, target)),
            target
        );
    }
}
