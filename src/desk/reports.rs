//! The reports page's figures: how many tickets came in and were closed, how soon
//! customers got a first answer and how long tickets took to close, per agent, per
//! channel and day by day. Pure: the store hands over plain facts about a period, this
//! adds them up.

use std::collections::HashMap;

use crate::desk::lifecycle::Priority;
use crate::desk::ratings::{Rating, Tally};
use crate::desk::sla::Sla;
use crate::desk::ticket_fields::{FieldDef, Kind};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Periods the page offers, in days.
pub const PERIODS: [i64; 4] = [1, 7, 30, 90];

/// The longest period a report may cover, in days.
pub const MAX_DAYS: i64 = 366;

/// A ticket opened or closed in the period (the store leaves out merged tickets and spam).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFact {
    /// Its number.
    pub id: i64,
    /// The channel it came in on.
    pub channel: String,
    /// Its owner now.
    pub owner: Option<String>,
    /// When it was opened (Unix seconds).
    pub created_at: i64,
    /// Whether it is closed now.
    pub closed: bool,
    /// When it was last closed; `None` on a ticket filed closed as it arrived (history
    /// imported, a blocked sender's mail), which was never work to do.
    pub closed_at: Option<i64>,
    /// Whether the customer wrote first (not a ticket an agent opened by writing first).
    pub customer_first: bool,
    /// Its priority now (`low`, `medium`, `high`, `urgent`), for answer targets.
    pub priority: String,
    /// Its changes of priority, oldest first: when, and the priority before.
    pub priority_changes: Vec<(i64, Priority)>,
    /// Its last closing was the desk's, the customer having left it unanswered
    /// (`[channel.auto_close]`).
    pub closed_unanswered: bool,
    /// Its ticket fields now: (name, value).
    pub fields: Vec<(String, String)>,
}

impl TicketFact {
    /// The ticket's priority at `moment`: the one a change after it replaced, else
    /// the one it has now. `None` for a priority no target knows.
    pub fn priority_at(&self, moment: i64) -> Option<Priority> {
        match self.priority_changes.iter().find(|(at, _)| *at > moment) {
            Some((_, before)) => Some(*before),
            None => Priority::parse(&self.priority),
        }
    }
}

/// A reply an agent sent in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyFact {
    /// Its ticket.
    pub ticket: i64,
    /// When the relay took it (Unix seconds).
    pub sent_at: i64,
    /// The agent who wrote it.
    pub agent: String,
}

/// A customer's rating of a reply, given in the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingFact {
    /// The agent who wrote the reply.
    pub agent: String,
    /// What the customer thought.
    pub rating: Rating,
    /// When they said so (Unix seconds).
    pub rated_at: i64,
    /// It rates the survey after closing (the desk's help), not a reply; `agent` is
    /// then the ticket's owner ("" for nobody).
    pub survey: bool,
    /// The channel of the ticket rated.
    pub channel: String,
}

/// What the store found for a period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Tickets opened or closed in the period.
    pub tickets: Vec<TicketFact>,
    /// Replies sent in the period.
    pub replies: Vec<ReplyFact>,
    /// Ratings given in the period.
    pub ratings: Vec<RatingFact>,
    /// Tickets open now.
    pub open_now: i64,
    /// Of those, the ones nobody owns.
    pub unassigned_now: i64,
}

/// The clock a report counts its days in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Clock {
    /// A zone of the tz database ("Europe/Berlin"): days are 23 or 25 hours long when
    /// its clocks change.
    Zone(String),
    /// Seconds east of UTC, all year.
    Offset(i64),
}

impl Clock {
    /// The zone `name`, if the tz database knows it.
    pub fn zone(name: &str) -> Option<Clock> {
        let name = name.trim();
        jiff::tz::TimeZone::get(name)
            .ok()
            .map(|_| Clock::Zone(name.to_string()))
    }

    /// An agent's clock from a page's fields: `zone` (as the browser names it) when
    /// the tz database knows it, else `tz` (minutes east of UTC), else UTC.
    pub fn from_fields(zone: Option<&str>, tz: Option<&str>) -> Clock {
        zone.and_then(Clock::zone)
            .unwrap_or_else(|| Clock::Offset(offset_from_minutes(tz)))
    }

    /// Its rules.
    fn tz(&self) -> jiff::tz::TimeZone {
        match self {
            Clock::Zone(name) => jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC),
            Clock::Offset(seconds) => i32::try_from(*seconds)
                .ok()
                .and_then(|s| jiff::tz::Offset::from_seconds(s).ok())
                .map_or(jiff::tz::TimeZone::UTC, jiff::tz::TimeZone::fixed),
        }
    }

    /// Seconds east of UTC at `at`.
    pub fn offset_at(&self, at: i64) -> i64 {
        match self {
            Clock::Offset(seconds) => *seconds,
            Clock::Zone(_) => jiff::Timestamp::from_second(at)
                .map_or(0, |t| i64::from(self.tz().to_offset(t).seconds())),
        }
    }

    /// Its name: "Europe/Berlin", "UTC+01:00", "UTC".
    pub fn label(&self) -> String {
        match self {
            Clock::Zone(name) => name.clone(),
            Clock::Offset(seconds) => clock_label(*seconds),
        }
    }

    /// The first second of the day `days` after the one holding `at` (before it when
    /// negative).
    fn day_start(&self, at: i64, days: i64) -> i64 {
        let tz = self.tz();
        jiff::Timestamp::from_second(at)
            .ok()
            .and_then(|t| {
                t.to_zoned(tz.clone())
                    .date()
                    .checked_add(jiff::Span::new().days(days))
                    .ok()
            })
            .and_then(|day| day.to_zoned(tz).ok())
            .map(|start| start.timestamp().as_second())
            // Beyond the calendar's range: whole UTC days.
            .unwrap_or_else(|| at.div_euclid(DAY) * DAY + days * DAY)
    }
}

/// The span a report covers: whole days in the agent's clock, the last one up to now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Period {
    /// Its first second (midnight in the agent's clock, Unix seconds).
    pub since: i64,
    /// Now: its last second.
    pub until: i64,
    /// The agent's clock.
    pub clock: Clock,
    /// How many days it has.
    pub days: i64,
    /// Each day's first second, in order (`since` first).
    pub starts: Vec<i64>,
}

impl Period {
    /// Today and the `days - 1` days before it in `clock`, up to `now`. `days` is kept
    /// between 1 and [`MAX_DAYS`].
    pub fn last_days(days: i64, now: i64, clock: Clock) -> Period {
        let days = days.clamp(1, MAX_DAYS);
        let starts: Vec<i64> = (0..days)
            .map(|d| clock.day_start(now, d - (days - 1)))
            .collect();
        Period {
            since: starts.first().copied().unwrap_or(now),
            until: now,
            clock,
            days,
            starts,
        }
    }

    /// Whether `at` falls in the period.
    pub fn holds(&self, at: i64) -> bool {
        self.since <= at && at <= self.until
    }

    /// Which of the period's days `at` is on (0 for the first); `None` outside it.
    fn day_of(&self, at: i64) -> Option<usize> {
        if !self.holds(at) {
            return None;
        }
        self.starts
            .partition_point(|start| *start <= at)
            .checked_sub(1)
    }

    /// "Mon 16 Nov 2026" for the day holding `at`, in the period's clock.
    pub fn day_label(&self, at: i64) -> String {
        day_label(at, self.clock.offset_at(at))
    }
}

/// How a set of durations spreads.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    /// How many there are.
    pub count: usize,
    /// The middle one (nearest rank), in seconds.
    pub median: Option<i64>,
    /// Nine in ten took at most this long (nearest rank), in seconds.
    pub p90: Option<i64>,
    /// How many took an hour or less.
    pub within_hour: usize,
}

impl Spread {
    /// The spread of `seconds` (in any order).
    pub fn of(mut seconds: Vec<i64>) -> Spread {
        seconds.sort_unstable();
        Spread {
            count: seconds.len(),
            median: percentile(&seconds, 50),
            p90: percentile(&seconds, 90),
            within_hour: seconds.iter().filter(|s| **s <= 3600).count(),
        }
    }
}

/// The `p`th percentile of `sorted` by nearest rank (the smallest value at least `p` %
/// of them do not exceed); `None` when there are none.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p.min(100)) * sorted.len() as u64).div_ceil(100);
    Some(sorted[rank.saturating_sub(1) as usize])
}

/// An agent's line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgentLine {
    /// Their address.
    pub agent: String,
    /// Replies they sent.
    pub replies: usize,
    /// How soon customers got the first answers they wrote.
    pub first_response: Spread,
    /// Tickets closed in the period that they own.
    pub closed: usize,
    /// Customers' ratings of their replies, given in the period.
    #[serde(default)]
    pub rated: Tally,
}

/// A channel's line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelLine {
    /// Its name.
    pub channel: String,
    /// Tickets opened on it.
    pub opened: usize,
    /// Tickets of it closed.
    pub closed: usize,
    /// How soon its customers got a first answer.
    pub first_response: Spread,
    /// Its first answers within their target (with answer targets).
    #[serde(default)]
    pub on_target: Option<OnTarget>,
    /// How its customers rated replies and answered the survey after closing.
    #[serde(default)]
    pub rated: Tally,
}

/// A channel whose time counts otherwise than the desk's (`[channel.sla]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HoursApart {
    /// The channel.
    pub channel: String,
    /// Its time runs around the clock (else it keeps office hours of its own).
    pub around_the_clock: bool,
}

/// A day's line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DayLine {
    /// Its midnight in the agent's clock (Unix seconds).
    pub start: i64,
    /// Tickets opened that day.
    pub opened: usize,
    /// Tickets closed that day.
    pub closed: usize,
}

/// The tickets with one value of a choice field (`[[ticket_field]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldLine {
    /// The value; empty for the tickets without one.
    pub value: String,
    /// Tickets opened in the period with it now.
    pub opened: usize,
    /// Tickets closed in the period with it now.
    pub closed: usize,
    /// How soon their customers got a first answer.
    pub first_response: Spread,
    /// From opening to closing.
    pub time_to_close: Spread,
}

/// A choice field's table: a line for each of its choices, then any value kept from
/// an earlier config, then the tickets without one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldTable {
    /// The field's name.
    pub field: String,
    /// Its lines.
    pub lines: Vec<FieldLine>,
}

/// Everything the reports page shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// The span it covers.
    pub period: Period,
    /// Tickets opened in it (not those filed closed as they arrived).
    pub opened: usize,
    /// Tickets closed in it and closed still.
    pub closed: usize,
    /// Of those, the ones the desk closed because the customer did not answer.
    #[serde(default)]
    pub closed_unanswered: usize,
    /// Tickets open now.
    pub open_now: i64,
    /// Open tickets nobody owns now.
    pub unassigned_now: i64,
    /// From a customer's first mail to the desk's first answer, for tickets opened in
    /// the period that have one.
    pub first_response: Spread,
    /// Tickets opened in the period by a customer, open, with no answer yet.
    pub unanswered: usize,
    /// From opening to closing, for tickets closed in the period.
    pub time_to_close: Spread,
    /// One line per agent: those named first, in that order, then any other who sent a
    /// reply or owns a ticket closed.
    pub agents: Vec<AgentLine>,
    /// One line per channel: those named first, then any other with a ticket.
    pub channels: Vec<ChannelLine>,
    /// One line per day, oldest first.
    pub days: Vec<DayLine>,
    /// First answers against the `[sla]` targets (none without targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_target: Option<OnTarget>,
    /// The durations count only office hours (`[sla] office_hours`, or a channel's
    /// own), not the time around the clock.
    #[serde(default)]
    pub office_hours: bool,
    /// The desk's own time counts office hours (`[sla] office_hours`).
    #[serde(default)]
    pub desk_hours: bool,
    /// Channels whose time counts otherwise than the desk's.
    #[serde(default)]
    pub hours_apart: Vec<HoursApart>,
    /// Customers' ratings of replies, given in the period.
    #[serde(default)]
    pub ratings: Tally,
    /// Customers' answers to the survey after closing, given in the period.
    #[serde(default)]
    pub surveys: Tally,
    /// One table per choice field ("By Product").
    #[serde(default)]
    pub fields: Vec<FieldTable>,
}

impl Report {
    /// How its durations are counted, in words: the desk's way, then each channel's
    /// own ("…, but emergency runs around the clock.").
    pub fn time_counted(&self) -> String {
        if !self.office_hours {
            return "Times run around the clock.".to_string();
        }
        let desk = if self.desk_hours {
            "Times count office hours only"
        } else {
            "Times run around the clock"
        };
        let apart: Vec<String> = self
            .hours_apart
            .iter()
            .map(|c| match (c.around_the_clock, self.desk_hours) {
                (true, _) => format!("{} runs around the clock", c.channel),
                (false, true) => format!("{} counts its own office hours", c.channel),
                (false, false) => format!("{} counts its office hours", c.channel),
            })
            .collect();
        match apart.split_last() {
            None => format!("{desk}."),
            Some((last, [])) => format!("{desk}, but {last}."),
            Some((last, rest)) => format!("{desk}, but {} and {last}.", rest.join(", ")),
        }
    }
}

/// How many first answers came within their target, for tickets opened in the period
/// whose priority has one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OnTarget {
    /// Answered by the due time.
    pub met: usize,
    /// Answered after it, or still unanswered past it.
    pub missed: usize,
}

impl OnTarget {
    /// "7 of 9 (78 %)", or "none due yet".
    pub fn words(&self) -> String {
        let of = self.met + self.missed;
        if of == 0 {
            return "none due yet".to_string();
        }
        format!("{} of {of} ({} %)", self.met, self.met * 100 / of)
    }
}

/// Add up `facts` for `period`, with a line for each of `agents` and `channels` even
/// when they did nothing in it; first answers against `sla`'s targets when given.
pub fn build(
    period: Period,
    facts: &Facts,
    agents: &[String],
    channels: &[String],
    sla: Option<&Sla>,
) -> Report {
    build_with_fields(period, facts, (agents, channels), sla, &[])
}

/// [`build`], with a table for each choice field among `fields`.
pub fn build_with_fields(
    period: Period,
    facts: &Facts,
    (agents, channels): (&[String], &[String]),
    sla: Option<&Sla>,
    fields: &[FieldDef],
) -> Report {
    // The first answer each ticket got (replies may come in any order).
    let mut first: HashMap<i64, (i64, &str)> = HashMap::new();
    for r in facts.replies.iter().filter(|r| period.holds(r.sent_at)) {
        let e = first.entry(r.ticket).or_insert((r.sent_at, &r.agent));
        if r.sent_at < e.0 {
            *e = (r.sent_at, &r.agent);
        }
    }
    let mut agent_lines: Lines<AgentLine> = Lines::new(agents);
    let mut channel_lines: Lines<ChannelLine> = Lines::new(channels);
    let mut agent_waits: HashMap<usize, Vec<i64>> = HashMap::new();
    let mut channel_waits: HashMap<usize, Vec<i64>> = HashMap::new();
    let mut channel_targets: HashMap<usize, OnTarget> = HashMap::new();
    let mut waits = Vec::new();
    let mut to_close = Vec::new();
    let mut days: Vec<DayLine> = period
        .starts
        .iter()
        .map(|&start| DayLine {
            start,
            ..DayLine::default()
        })
        .collect();
    let (mut opened, mut closed, mut unanswered) = (0, 0, 0);
    let mut closed_unanswered = 0;
    let mut on_target = sla
        .is_some_and(|s| s.has_first_answer_targets())
        .then(OnTarget::default);
    // How long from one moment to another: open time only, when the desk keeps hours
    // (a mail on Friday evening answered on Monday at ten waited an hour, not three
    // days), so the figures agree with the targets.
    // Each ticket's channel's hours (a channel may keep its own).
    let took = |channel: &str, from: i64, to: i64| match sla.and_then(|s| s.hours_of(channel)) {
        Some(h) => h.open_between(from, to),
        None => (to - from).max(0),
    };
    // What each ticket added, for the field tables.
    let mut outcomes: Vec<Outcome> = Vec::new();
    for t in &facts.tickets {
        let mut outcome = Outcome::default();
        let filed_closed = t.closed && t.closed_at.is_none();
        let channel = channel_lines.index(&t.channel);
        if period.holds(t.created_at) && !filed_closed {
            outcome.opened = true;
            opened += 1;
            channel_lines.at(channel).opened += 1;
            if let Some(d) = period.day_of(t.created_at) {
                days[d].opened += 1;
            }
            // Its first answer was due this long after the customer wrote (the ticket
            // opened with their mail), by the priority it had when answered (raised
            // after the answer, it was not late); by its priority now while it waits.
            let priority = match first.get(&t.id) {
                Some((at, _)) => t.priority_at(*at),
                None => Priority::parse(&t.priority),
            };
            let due = sla
                .filter(|_| t.customer_first)
                .and_then(|s| s.due(&t.channel, t.created_at, priority?, false));
            if let (Some(count), Some(due)) = (on_target.as_mut(), due) {
                let on_channel = channel_targets.entry(channel).or_default();
                match first.get(&t.id) {
                    Some((at, _)) if *at <= due => {
                        count.met += 1;
                        on_channel.met += 1;
                    }
                    // Late, or still waiting past it; a ticket closed unanswered
                    // needed none.
                    Some(_) => {
                        count.missed += 1;
                        on_channel.missed += 1;
                    }
                    None if !t.closed && period.until > due => {
                        count.missed += 1;
                        on_channel.missed += 1;
                    }
                    None => {}
                }
            }
            match (t.customer_first, first.get(&t.id)) {
                (true, Some((at, agent))) => {
                    let wait = took(&t.channel, t.created_at, *at);
                    outcome.wait = Some(wait);
                    waits.push(wait);
                    channel_waits.entry(channel).or_default().push(wait);
                    let a = agent_lines.index(agent);
                    agent_waits.entry(a).or_default().push(wait);
                }
                (true, None) if !t.closed => unanswered += 1,
                _ => {}
            }
        }
        if let Some(at) = t.closed_at.filter(|at| t.closed && period.holds(*at)) {
            closed += 1;
            closed_unanswered += usize::from(t.closed_unanswered);
            channel_lines.at(channel).closed += 1;
            if let Some(d) = period.day_of(at) {
                days[d].closed += 1;
            }
            if let Some(owner) = &t.owner {
                let a = agent_lines.index(owner);
                agent_lines.at(a).closed += 1;
            }
            let took = took(&t.channel, t.created_at, at);
            outcome.took_to_close = Some(took);
            to_close.push(took);
        }
        if !fields.is_empty() {
            outcomes.push(outcome);
        }
    }
    let field_tables = fields
        .iter()
        .filter_map(|def| field_table(def, &facts.tickets, &outcomes))
        .collect();
    for r in facts.replies.iter().filter(|r| period.holds(r.sent_at)) {
        let a = agent_lines.index(&r.agent);
        agent_lines.at(a).replies += 1;
    }
    let (mut ratings, mut surveys) = (Tally::default(), Tally::default());
    for r in facts.ratings.iter().filter(|r| period.holds(r.rated_at)) {
        if r.survey {
            surveys.add(r.rating);
        } else {
            ratings.add(r.rating);
        }
        let c = channel_lines.index(&r.channel);
        channel_lines.at(c).rated.add(r.rating);
        // A survey of a ticket nobody owns counts for the desk alone.
        if !r.agent.is_empty() {
            let a = agent_lines.index(&r.agent);
            agent_lines.at(a).rated.add(r.rating);
        }
    }
    let agents = agent_lines
        .finish(|l: &mut AgentLine, name| l.agent = name)
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l.first_response = Spread::of(agent_waits.remove(&i).unwrap_or_default());
            l
        })
        .collect();
    let channels = channel_lines
        .finish(|l: &mut ChannelLine, name| l.channel = name)
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l.first_response = Spread::of(channel_waits.remove(&i).unwrap_or_default());
            l.on_target = on_target.map(|_| channel_targets.remove(&i).unwrap_or_default());
            l
        })
        .collect();
    Report {
        period,
        opened,
        closed,
        closed_unanswered,
        open_now: facts.open_now,
        unassigned_now: facts.unassigned_now,
        first_response: Spread::of(waits),
        unanswered,
        time_to_close: Spread::of(to_close),
        agents,
        channels,
        days,
        on_target,
        office_hours: sla
            .is_some_and(|s| s.hours.is_some() || s.channels.iter().any(|c| c.hours.is_some())),
        desk_hours: sla.is_some_and(|s| s.hours.is_some()),
        hours_apart: sla.map_or_else(Vec::new, |s| {
            s.channels
                .iter()
                .filter(|c| c.hours != s.hours)
                .map(|c| HoursApart {
                    channel: c.channel.clone(),
                    around_the_clock: c.hours.is_none(),
                })
                .collect()
        }),
        ratings,
        surveys,
        fields: field_tables,
    }
}

/// What one ticket added to a report.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    /// It was opened in the period.
    opened: bool,
    /// Its customer's wait for the first answer, answered in the period.
    wait: Option<i64>,
    /// How long it took to close, closed in the period.
    took_to_close: Option<i64>,
}

/// The table of `def`, if it is a choice field, from `tickets` and what each added
/// (`outcomes`, in the same order).
fn field_table(def: &FieldDef, tickets: &[TicketFact], outcomes: &[Outcome]) -> Option<FieldTable> {
    let Kind::Choice(choices) = &def.kind else {
        return None;
    };
    let mut lines: Lines<FieldLine> = Lines::new(choices);
    let mut waits: HashMap<usize, Vec<i64>> = HashMap::new();
    let mut took: HashMap<usize, Vec<i64>> = HashMap::new();
    let mut none = FieldLine::default();
    let (mut none_waits, mut none_took) = (Vec::new(), Vec::new());
    for (t, o) in tickets.iter().zip(outcomes) {
        let value = t
            .fields
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&def.name))
            .map(|(_, v)| v.as_str());
        // A value as the config spells it, whatever the letter case kept.
        let value = value.map(|v| {
            choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(v))
                .map_or(v, String::as_str)
        });
        let (line, line_waits, line_took) = match value {
            Some(v) => {
                let i = lines.index(v);
                (
                    lines.at(i),
                    waits.entry(i).or_default(),
                    took.entry(i).or_default(),
                )
            }
            None => (&mut none, &mut none_waits, &mut none_took),
        };
        line.opened += usize::from(o.opened);
        line.closed += usize::from(o.took_to_close.is_some());
        line_waits.extend(o.wait);
        line_took.extend(o.took_to_close);
    }
    let mut lines: Vec<FieldLine> = lines
        .finish(|l: &mut FieldLine, name| l.value = name)
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l.first_response = Spread::of(waits.remove(&i).unwrap_or_default());
            l.time_to_close = Spread::of(took.remove(&i).unwrap_or_default());
            l
        })
        .collect();
    none.first_response = Spread::of(none_waits);
    none.time_to_close = Spread::of(none_took);
    lines.push(none);
    Some(FieldTable {
        field: def.name.clone(),
        lines,
    })
}

/// Lines kept in the order their names were first met (the named ones first).
struct Lines<L> {
    names: Vec<String>,
    index_of: HashMap<String, usize>,
    lines: Vec<L>,
}

impl<L: Default> Lines<L> {
    fn new(named: &[String]) -> Self {
        let mut lines = Lines {
            names: Vec::new(),
            index_of: HashMap::new(),
            lines: Vec::new(),
        };
        for name in named {
            lines.index(name);
        }
        lines
    }

    /// The line for `name`, made when first met.
    fn index(&mut self, name: &str) -> usize {
        if let Some(i) = self.index_of.get(name) {
            return *i;
        }
        self.names.push(name.to_string());
        self.lines.push(L::default());
        self.index_of.insert(name.to_string(), self.lines.len() - 1);
        self.lines.len() - 1
    }

    fn at(&mut self, i: usize) -> &mut L {
        &mut self.lines[i]
    }

    fn finish(self, mut name: impl FnMut(&mut L, String)) -> Vec<L> {
        self.lines
            .into_iter()
            .zip(self.names)
            .map(|(mut l, n)| {
                name(&mut l, n);
                l
            })
            .collect()
    }
}

impl Spread {
    /// "median 12 min · 9 in 10 within 3 h · 7 of 10 within an hour", or "none yet".
    pub fn words(&self) -> String {
        match (self.median, self.p90) {
            (Some(median), Some(p90)) => format!(
                "median {} · 9 in 10 within {} · {} of {} within an hour",
                duration_words(median),
                duration_words(p90),
                self.within_hour,
                self.count
            ),
            _ => "none yet".to_string(),
        }
    }

    /// The median in words, or "—".
    pub fn median_words(&self) -> String {
        self.median.map_or_else(|| "—".to_string(), duration_words)
    }
}

/// "Mon 16 Nov 2026" for the day holding `at` in a clock `offset` seconds east of UTC.
pub fn day_label(at: i64, offset: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at + offset)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[weekday repr:short] [day padding:none] [month repr:short] [year]"
            ))
            .ok()
        })
        .unwrap_or_else(|| at.to_string())
}

/// A clock `offset` seconds east of UTC: "UTC", "UTC+01:00", "UTC-05:30".
pub fn clock_label(offset: i64) -> String {
    if offset == 0 {
        return "UTC".to_string();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let m = offset.abs() / 60;
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// A duration in words: "40 s", "12 min", "3 h 5 min", "2 d 4 h".
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => match (s / 3600, s % 3600 / 60) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        _ => match (s / DAY, s % DAY / 3600) {
            (d, 0) => format!("{d} d"),
            (d, h) => format!("{d} d {h} h"),
        },
    }
}

/// An agent's clock from a page's `tz` field (minutes east of UTC, as a browser tells
/// it), in seconds; UTC when absent or beyond the clocks of the world.
pub fn offset_from_minutes(tz: Option<&str>) -> i64 {
    tz.and_then(|t| t.trim().parse::<i64>().ok())
        .map_or(0, clock_offset)
}

/// A clock `minutes` east of UTC, in seconds; UTC beyond the clocks of the world.
pub fn clock_offset(minutes: i64) -> i64 {
    if (-14 * 60..=14 * 60).contains(&minutes) {
        minutes * 60
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
