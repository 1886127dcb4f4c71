//! Answer-time targets (an SLA): how soon a customer waiting on the desk should have an
//! answer, by the ticket's priority, counted around the clock or in the desk's office
//! hours (pure).
//!
//! The store keeps when a ticket's customer started waiting (`tickets.waiting_since`:
//! their oldest mail since the desk's last answer) and whether the ticket was ever
//! answered. From those these functions say when the answer is due, and, for the
//! inbox's "Overdue" view, the latest start of a wait that is late by now.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::desk::lifecycle::Priority;

/// A target per priority, in seconds; `None` where a priority has none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// Low.
    pub low: Option<i64>,
    /// Medium.
    pub medium: Option<i64>,
    /// High.
    pub high: Option<i64>,
    /// Urgent.
    pub urgent: Option<i64>,
}

impl Targets {
    /// The target for `priority`.
    pub fn get(&self, priority: Priority) -> Option<i64> {
        match priority {
            Priority::Low => self.low,
            Priority::Medium => self.medium,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }

    /// These targets, and `other`'s for the priorities these leave out.
    pub fn or(self, other: Targets) -> Targets {
        Targets {
            low: self.low.or(other.low),
            medium: self.medium.or(other.medium),
            high: self.high.or(other.high),
            urgent: self.urgent.or(other.urgent),
        }
    }

    /// True when no priority has a target.
    pub fn is_empty(&self) -> bool {
        PRIORITIES.iter().all(|p| self.get(*p).is_none())
    }
}

/// Every priority, lowest first.
pub const PRIORITIES: [Priority; 4] = [
    Priority::Low,
    Priority::Medium,
    Priority::High,
    Priority::Urgent,
];

/// The hours a desk is open, one span a weekday, in its time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct OfficeHours {
    /// Monday first: minutes after local midnight the desk opens and closes (closing up
    /// to 24:00); `None` on days it is closed.
    pub days: [Option<(u16, u16)>; 7],
    /// Where the hours are kept.
    pub zone: TimeZone,
    /// Days the desk is closed whatever the weekday (public holidays).
    pub holidays: Vec<Holiday>,
}

/// A day the desk is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    /// That one day.
    Once(Date),
    /// That day of every year (month, day).
    Yearly(i8, i8),
}

impl Holiday {
    /// Whether local day `date` is this holiday.
    pub fn covers(self, date: Date) -> bool {
        match self {
            Holiday::Once(d) => d == date,
            Holiday::Yearly(month, day) => date.month() == month && date.day() == day,
        }
    }
}

/// How far the office-hours walk looks for open time (ten years of closed days would be
/// a config nobody wrote; the parser refuses a week without an open day).
const MAX_DAYS_WALKED: usize = 3660;

impl OfficeHours {
    /// The desk's open span on local day `date`, as Unix seconds.
    fn span(&self, date: Date) -> Option<(i64, i64)> {
        if self.holidays.iter().any(|h| h.covers(date)) {
            return None;
        }
        let (open, close) = self.days[date.weekday().to_monday_zero_offset() as usize]?;
        let at = |minutes: u16| -> Option<i64> {
            let dt = if minutes >= 24 * 60 {
                date.tomorrow().ok()?.at(0, 0, 0, 0)
            } else {
                date.at((minutes / 60) as i8, (minutes % 60) as i8, 0, 0)
            };
            Some(self.zone.to_timestamp(dt).ok()?.as_second())
        };
        let (open, close) = (at(open)?, at(close)?);
        (open < close).then_some((open, close))
    }

    /// The local day of a Unix time.
    fn day_of(&self, unix: i64) -> Option<Date> {
        Some(
            Timestamp::from_second(unix)
                .ok()?
                .to_zoned(self.zone.clone())
                .date(),
        )
    }

    /// The moment `seconds` of open time after `start`.
    pub fn add(&self, start: i64, seconds: i64) -> i64 {
        let Some(mut date) = self.day_of(start) else {
            return start.saturating_add(seconds);
        };
        let mut left = seconds.max(0);
        for _ in 0..MAX_DAYS_WALKED {
            if let Some((open, close)) = self.span(date) {
                let from = open.max(start);
                if from < close {
                    if from + left <= close {
                        return from + left;
                    }
                    left -= close - from;
                }
            }
            match date.tomorrow() {
                Ok(next) => date = next,
                Err(_) => break,
            }
        }
        start.saturating_add(seconds)
    }

    /// Seconds of open time from `from` to `to` (0 when `to` is not later), so that
    /// `open_between(start, add(start, s))` is `s`.
    pub fn open_between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let Some(mut date) = self.day_of(from) else {
            return to - from;
        };
        let mut open_time = 0;
        for _ in 0..MAX_DAYS_WALKED {
            if let Some((open, close)) = self.span(date) {
                if open >= to {
                    break;
                }
                open_time += (close.min(to) - open.max(from)).max(0);
            }
            match date.tomorrow() {
                // A day that starts after `to` has no open time before it.
                Ok(next) if self.day_starts(next).is_none_or(|start| start < to) => date = next,
                _ => break,
            }
        }
        open_time
    }

    /// When local day `date` starts, as Unix seconds.
    fn day_starts(&self, date: Date) -> Option<i64> {
        Some(
            self.zone
                .to_timestamp(date.at(0, 0, 0, 0))
                .ok()?
                .as_second(),
        )
    }

    /// The latest start whose `add(start, seconds)` is at or before `now` (`seconds` > 0).
    pub fn rewind(&self, now: i64, seconds: i64) -> i64 {
        let Some(mut date) = self.day_of(now) else {
            return now.saturating_sub(seconds);
        };
        let mut left = seconds.max(1);
        for _ in 0..MAX_DAYS_WALKED {
            if let Some((open, close)) = self.span(date) {
                let to = close.min(now);
                if to > open {
                    if to - left >= open {
                        return to - left;
                    }
                    left -= to - open;
                }
            }
            match date.yesterday() {
                Ok(previous) => date = previous,
                Err(_) => break,
            }
        }
        i64::MIN
    }
}

/// `[sla]`: answer targets and how their time is counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Sla {
    /// For a ticket's first answer.
    pub first_answer: Targets,
    /// For each later one (a customer who wrote again after an answer).
    pub next_answer: Targets,
    /// Count only these hours; around the clock when `None`.
    pub hours: Option<OfficeHours>,
    /// Channels with targets of their own (`[channel.sla]`), in place of the ones above.
    pub channels: Vec<ChannelTargets>,
}

/// One channel's targets (`[channel.sla]`), the desk's filled in where it sets none.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTargets {
    /// The channel's name.
    pub channel: String,
    /// For a ticket's first answer.
    pub first_answer: Targets,
    /// For each later one.
    pub next_answer: Targets,
    /// The hours its time counts in: its own, or the desk's (`None`: around the clock).
    pub hours: Option<OfficeHours>,
}

/// The latest start of a wait that is late at some moment, per kind of wait: a ticket
/// waiting since at or before its cut-off is overdue. `i64::MIN` where there is no
/// target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cutoffs {
    /// Tickets never answered, by priority (low, medium, high, urgent).
    pub first: [i64; 4],
    /// Tickets answered before, by priority.
    pub next: [i64; 4],
    /// The channels with targets of their own: theirs, for their tickets.
    pub channels: Vec<ChannelCutoffs>,
}

/// A channel's own cut-offs (see [`Cutoffs`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCutoffs {
    /// The channel's name.
    pub channel: String,
    /// Tickets never answered, by priority.
    pub first: [i64; 4],
    /// Tickets answered before, by priority.
    pub next: [i64; 4],
}

impl Cutoffs {
    /// No ticket is ever late.
    pub const NONE: Cutoffs = Cutoffs {
        first: [i64::MIN; 4],
        next: [i64::MIN; 4],
        channels: Vec::new(),
    };

    /// The cut-offs for `channel`'s tickets: (first, next).
    pub fn of(&self, channel: &str) -> ([i64; 4], [i64; 4]) {
        match self.channels.iter().find(|c| c.channel == channel) {
            Some(c) => (c.first, c.next),
            None => (self.first, self.next),
        }
    }
}

impl Sla {
    /// The hours that count for `channel`'s tickets (`None`: around the clock).
    pub fn hours_of(&self, channel: &str) -> Option<&OfficeHours> {
        match self.channels.iter().find(|c| c.channel == channel) {
            Some(c) => c.hours.as_ref(),
            None => self.hours.as_ref(),
        }
    }

    /// The first and next answer targets of `channel`'s tickets.
    fn targets_of(&self, channel: &str) -> (&Targets, &Targets) {
        match self.channels.iter().find(|c| c.channel == channel) {
            Some(c) => (&c.first_answer, &c.next_answer),
            None => (&self.first_answer, &self.next_answer),
        }
    }

    /// The target for a wait on a ticket of `channel` and `priority`, answered before
    /// or not.
    pub fn target(&self, channel: &str, priority: Priority, answered: bool) -> Option<i64> {
        let (first, next) = self.targets_of(channel);
        if answered {
            next.get(priority)
        } else {
            first.get(priority)
        }
    }

    /// When the answer to a wait that started at `since` is due.
    pub fn due(
        &self,
        channel: &str,
        since: i64,
        priority: Priority,
        answered: bool,
    ) -> Option<i64> {
        let target = self.target(channel, priority, answered)?;
        Some(match self.hours_of(channel) {
            Some(h) => h.add(since, target),
            None => since.saturating_add(target),
        })
    }

    /// Whether any channel or priority has a first answer target.
    pub fn has_first_answer_targets(&self) -> bool {
        !self.first_answer.is_empty() || self.channels.iter().any(|c| !c.first_answer.is_empty())
    }

    /// The cut-offs at `now` (see [`Cutoffs`]).
    pub fn cutoffs(&self, now: i64) -> Cutoffs {
        let cut = |target: Option<i64>, hours: Option<&OfficeHours>| match (target, hours) {
            (None, _) => i64::MIN,
            (Some(t), Some(h)) => h.rewind(now, t),
            (Some(t), None) => now.saturating_sub(t),
        };
        let per = |targets: &Targets, hours: Option<&OfficeHours>| {
            PRIORITIES.map(|p| cut(targets.get(p), hours))
        };
        Cutoffs {
            first: per(&self.first_answer, self.hours.as_ref()),
            next: per(&self.next_answer, self.hours.as_ref()),
            channels: self
                .channels
                .iter()
                .map(|c| ChannelCutoffs {
                    channel: c.channel.clone(),
                    first: per(&c.first_answer, c.hours.as_ref()),
                    next: per(&c.next_answer, c.hours.as_ref()),
                })
                .collect(),
        }
    }
}

/// Where a waiting customer's answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Due later than the next hour.
    Later,
    /// Due within the hour.
    Soon,
    /// Past due.
    Late,
}

/// How long before it is due an answer counts as due soon.
pub const SOON: i64 = 3600;

/// Where an answer due at `due` stands at `now`.
pub fn standing(due: i64, now: i64) -> Standing {
    if due <= now {
        Standing::Late
    } else if due - now <= SOON {
        Standing::Soon
    } else {
        Standing::Later
    }
}

/// How late an answer may be when the desk first finds it late and still tells the
/// agents (a day): one later than that (the daemon was down, the targets were just
/// written into the config) is in the Overdue view already, and mail about every old
/// ticket at once would bury the news.
pub const TELL_WITHIN: i64 = 86_400;

/// Whether agents hear that an answer due at `due` is late, finding it so at `now`.
pub fn worth_telling(due: i64, now: i64) -> bool {
    due <= now && now - due <= TELL_WITHIN
}

/// How often a task that acts a span after something happened looks for what is due:
/// a sixtieth of the `shortest` span (an hour when there is none), between a second
/// and a minute.
pub fn look_every(shortest: Option<i64>) -> std::time::Duration {
    std::time::Duration::from_secs((shortest.unwrap_or(3600) / 60).clamp(1, 60) as u64)
}

/// What the page says of an answer due at `due`, at `now`: "answer due in 2 h",
/// "answer overdue by 15 min".
pub fn words(due: i64, now: i64) -> String {
    use crate::desk::reports::duration_words;
    if due <= now {
        format!("answer overdue by {}", duration_words(now - due))
    } else {
        format!("answer due in {}", duration_words(due - now))
    }
}

/// A span of time as written in the config: a number and a unit, or several ("90m",
/// "4h", "1h30m", "2d", "1d 4h"); units `d`, `h`, `m` (also `min`). At least a minute,
/// at most 366 days.
pub fn parse_span(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 6 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = rest[digits..].trim_start();
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let unit = match rest[..unit_len].to_ascii_lowercase().as_str() {
            "d" | "day" | "days" => 86_400,
            "h" | "hour" | "hours" => 3600,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        rest = rest[unit_len..].trim_start();
    }
    (60..=366 * 86_400).contains(&total).then_some(total)
}

/// Office hours as written in the config: groups of days and a span, separated by
/// commas: "mon-fri 09:00-17:00", "mon-thu 08:30-17:00, fri 08:30-14:00". A day range
/// may wrap ("sun-thu"); a span closes up to 24:00. The error says what is wrong.
pub fn parse_hours(text: &str) -> Result<[Option<(u16, u16)>; 7], String> {
    let mut days: [Option<(u16, u16)>; 7] = [None; 7];
    for group in text.split(',').map(str::trim) {
        if group.is_empty() {
            return Err("an empty group between commas".into());
        }
        let (which, span) = group
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{group:?} needs days and hours, as \"mon-fri 09:00-17:00\""))?;
        let (first, last) = match which.split_once('-') {
            Some((a, b)) => (weekday(a)?, weekday(b)?),
            None => (weekday(which)?, weekday(which)?),
        };
        let (open, close) = span
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{span:?} is not a span of hours, as \"09:00-17:00\""))?;
        let (open, close) = (clock(open)?, clock(close)?);
        if open >= close {
            return Err(format!("{span:?} closes before it opens"));
        }
        let mut day = first;
        loop {
            if days[day].is_some() {
                return Err(format!("{} is given twice", DAY_NAMES[day]));
            }
            days[day] = Some((open, close));
            if day == last {
                break;
            }
            day = (day + 1) % 7;
        }
    }
    if days.iter().all(Option::is_none) {
        return Err("no day is open".into());
    }
    Ok(days)
}

/// Weekday names as the config writes them, Monday first.
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn weekday(name: &str) -> Result<usize, String> {
    let lower = name.trim().to_ascii_lowercase();
    // "mon", "mond", "monday": three letters or more of the day's name.
    DAY_NAMES
        .iter()
        .position(|d| lower.len() >= 3 && full_name(d).starts_with(&lower))
        .ok_or_else(|| format!("{name:?} is not a weekday (mon, tue, … sun)"))
}

fn full_name(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

fn clock(text: &str) -> Result<u16, String> {
    let bad = || format!("{text:?} is not a time of day, as \"09:00\"");
    let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m > 0) || text.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Holidays as written in the config: "2026-12-24" for that day, "12-25" for that day
/// of every year. The error says which is wrong.
pub fn parse_holidays<S: AsRef<str>>(list: &[S]) -> Result<Vec<Holiday>, String> {
    list.iter().map(|text| holiday(text.as_ref())).collect()
}

fn holiday(text: &str) -> Result<Holiday, String> {
    let text = text.trim();
    let bad = || {
        format!("{text:?} is not a day: write \"2026-12-24\" for one day, \"12-25\" for every year")
    };
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, len: usize| -> Result<i16, String> {
        if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    match parts.as_slice() {
        [year, month, day] => {
            let (y, m, d) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
            Date::new(y, m as i8, d as i8)
                .map(Holiday::Once)
                .map_err(|_| bad())
        }
        [month, day] => {
            let (m, d) = (number(month, 2)? as i8, number(day, 2)? as i8);
            // 2024 is a leap year: every day some year has is allowed ("02-29").
            Date::new(2024, m, d).map_err(|_| bad())?;
            Ok(Holiday::Yearly(m, d))
        }
        _ => Err(bad()),
    }
}

/// A time zone by its IANA name ("Europe/Berlin"), or the error's words.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name.trim())
        .map_err(|_| format!("{name:?} is not a time zone name, as \"Europe/Berlin\""))
}

#[cfg(test)]
mod tests;
