//! The reports page (pure): the figures of a [`Report`] as tables a team lead reads.

use std::fmt::Write;

use crate::desk::reports::{Clock, Report, Spread, PERIODS};
use crate::outbound::template::html_escape as esc;
use crate::store::UserView;

/// The reports page for `report`, naming agents as `agents` do.
pub fn page(report: &Report, agents: &[UserView]) -> String {
    let p = &report.period;
    let clock = clock_query(&p.clock);
    let mut out = format!(
        r#"<section class="reports" data-clock="{}"><h1>Reports</h1><nav class="report-periods" aria-label="Period">"#,
        esc(&p.clock.label())
    );
    for days in PERIODS {
        let label = match days {
            1 => "Today".to_string(),
            d => format!("Last {d} days"),
        };
        let current = if days == p.days {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<a href="/reports?days={days}&amp;{clock}"{current}>{label}</a> "#
        );
    }
    let _ = write!(
        out,
        r#"</nav><p class="period">From {} to now; days in {}. Spam and merged tickets are left out. {}</p>"#,
        esc(&p.day_label(p.since)),
        esc(&p.clock.label()),
        report.time_counted(),
    );

    out.push_str(r#"<h2>Overview</h2><dl class="figures">"#);
    figure(&mut out, "r-opened", "Opened", &report.opened.to_string());
    figure(&mut out, "r-closed", "Closed", &report.closed.to_string());
    // Only on desks that close tickets left waiting ([channel.auto_close]).
    if report.closed_unanswered > 0 {
        figure(
            &mut out,
            "r-closed-unanswered",
            "Of them closed by the desk, no answer from the customer",
            &report.closed_unanswered.to_string(),
        );
    }
    figure(
        &mut out,
        "r-open-now",
        "Open now",
        &report.open_now.to_string(),
    );
    figure(
        &mut out,
        "r-unassigned-now",
        "Open and nobody's now",
        &report.unassigned_now.to_string(),
    );
    figure(
        &mut out,
        "r-first-response",
        "First answer",
        &report.first_response.words(),
    );
    if let Some(on_target) = &report.on_target {
        figure(
            &mut out,
            "r-on-target",
            "First answers on target",
            &on_target.words(),
        );
    }
    figure(
        &mut out,
        "r-ratings",
        "Replies rated by customers",
        &report.ratings.words(),
    );
    // Only where surveys are sent: a desk without them keeps its page as it was.
    if report.surveys.total() > 0 {
        figure(
            &mut out,
            "r-surveys",
            "Surveys after closing",
            &report.surveys.words(),
        );
    }
    figure(
        &mut out,
        "r-unanswered",
        "Still waiting for a first answer",
        &report.unanswered.to_string(),
    );
    figure(
        &mut out,
        "r-time-to-close",
        "Time to close",
        &report.time_to_close.words(),
    );
    out.push_str("</dl>");

    out.push_str(
        r#"<h2>By agent</h2><table class="report-agents"><thead><tr><th scope="col">Agent</th><th scope="col">Replies sent</th><th scope="col">First answers</th><th scope="col">First answer, median</th><th scope="col">Closed (owned)</th><th scope="col">Rated good</th></tr></thead><tbody>"#,
    );
    for a in &report.agents {
        let name = agents
            .iter()
            .find(|u| u.email == a.agent && !u.full_name.trim().is_empty())
            .map_or(a.agent.as_str(), |u| u.full_name.as_str());
        let _ = write!(
            out,
            r#"<tr data-agent="{email}"><th scope="row">{name}</th><td>{replies}</td><td>{firsts}</td><td>{median}</td><td>{closed}</td><td>{good}</td></tr>"#,
            email = esc(&a.agent),
            good = a.rated.good_of_all(),
            name = esc(name),
            replies = a.replies,
            firsts = a.first_response.count,
            median = a.first_response.median_words(),
            closed = a.closed,
        );
    }
    out.push_str("</tbody></table>");
    download(&mut out, "agents", p.days, &clock);

    // With answer targets, how each channel kept its own.
    let targets = report.on_target.is_some();
    let _ = write!(
        out,
        r#"<h2>By channel</h2><table class="report-channels"><thead><tr><th scope="col">Channel</th><th scope="col">Opened</th><th scope="col">Closed</th><th scope="col">First answer, median</th>{}<th scope="col">Rated good</th></tr></thead><tbody>"#,
        if targets {
            r#"<th scope="col">First answers on target</th>"#
        } else {
            ""
        }
    );
    for c in &report.channels {
        let _ = write!(
            out,
            r#"<tr data-channel="{name}"><th scope="row">{name}</th><td>{opened}</td><td>{closed}</td><td>{median}</td>{on_target}<td>{good}</td></tr>"#,
            name = esc(&c.channel),
            good = c.rated.good_of_all(),
            opened = c.opened,
            closed = c.closed,
            median = c.first_response.median_words(),
            on_target = match (&c.on_target, targets) {
                (Some(t), true) => format!("<td>{}</td>", t.words()),
                (None, true) => "<td>–</td>".to_string(),
                (_, false) => String::new(),
            },
        );
    }
    out.push_str("</tbody></table>");
    download(&mut out, "channels", p.days, &clock);

    // A table per choice field: what the tickets were about.
    for table in &report.fields {
        let _ = write!(
            out,
            r#"<h2>By {name}</h2><table class="report-field" data-field="{name}"><thead><tr><th scope="col">{name}</th><th scope="col">Opened</th><th scope="col">Closed</th><th scope="col">First answer, median</th><th scope="col">Time to close, median</th></tr></thead><tbody>"#,
            name = esc(&table.field)
        );
        for l in &table.lines {
            let _ = write!(
                out,
                r#"<tr data-value="{value}"><th scope="row">{shown}</th><td>{opened}</td><td>{closed}</td><td>{first}</td><td>{close}</td></tr>"#,
                value = esc(&l.value),
                shown = if l.value.is_empty() {
                    "(none)".to_string()
                } else {
                    esc(&l.value)
                },
                opened = l.opened,
                closed = l.closed,
                first = l.first_response.median_words(),
                close = l.time_to_close.median_words(),
            );
        }
        out.push_str("</tbody></table>");
    }
    if !report.fields.is_empty() {
        download(&mut out, "fields", p.days, &clock);
    }

    let most = report
        .days
        .iter()
        .map(|d| d.opened.max(d.closed))
        .max()
        .unwrap_or(0)
        .max(1);
    out.push_str(
        r#"<h2>Day by day</h2><table class="report-days"><thead><tr><th scope="col">Day</th><th scope="col">Opened</th><th scope="col">Closed</th></tr></thead><tbody>"#,
    );
    for d in report.days.iter().rev() {
        let _ = write!(
            out,
            r#"<tr><th scope="row">{day}</th><td><meter min="0" max="{most}" value="{o}" aria-hidden="true"></meter> {o}</td><td><meter min="0" max="{most}" value="{c}" aria-hidden="true"></meter> {c}</td></tr>"#,
            day = esc(&p.day_label(d.start)),
            o = d.opened,
            c = d.closed,
        );
    }
    out.push_str("</tbody></table>");
    download(&mut out, "days", p.days, &clock);
    out.push_str("</section>");
    out
}

/// A link to the table named `table` as a CSV file.
fn download(out: &mut String, table: &str, days: i64, clock: &str) {
    let _ = write!(
        out,
        r#"<p class="download"><a href="/reports.csv?table={table}&amp;days={days}&amp;{clock}" download>Download this table (CSV)</a></p>"#
    );
}

/// The query fields that ask for `clock` again, escaped for an attribute: `zone=…`
/// (a `+` in a zone's name is written `%2B`, or it would read as a space) or `tz=…`.
fn clock_query(clock: &Clock) -> String {
    match clock {
        Clock::Zone(name) => esc(&format!("zone={}", name.replace('+', "%2B"))),
        Clock::Offset(seconds) => format!("tz={}", seconds / 60),
    }
}

/// A table of a report that downloads as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per agent.
    Agents,
    /// One row per channel.
    Channels,
    /// One row per value of each choice field.
    Fields,
    /// One row per day, oldest first.
    Days,
}

impl Table {
    /// The table a `table` field names.
    pub fn parse(s: &str) -> Option<Table> {
        match s {
            "agents" => Some(Table::Agents),
            "channels" => Some(Table::Channels),
            "fields" => Some(Table::Fields),
            "days" => Some(Table::Days),
            _ => None,
        }
    }

    /// Its name in a URL and a file name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Agents => "agents",
            Table::Channels => "channels",
            Table::Fields => "fields",
            Table::Days => "days",
        }
    }
}

/// `table` of `report` as CSV (RFC 4180, CRLF lines, a header row) for a spreadsheet;
/// durations in seconds, empty when there are none.
pub fn csv(report: &Report, table: Table, agents: &[UserView]) -> String {
    let secs = |s: &Spread| s.median.map_or_else(String::new, |m| m.to_string());
    let mut rows: Vec<Vec<String>> = Vec::new();
    match table {
        Table::Agents => {
            rows.push(
                [
                    "agent",
                    "name",
                    "replies_sent",
                    "first_answers",
                    "first_answer_median_seconds",
                    "closed_owned",
                    "rated_good",
                    "rated_okay",
                    "rated_not_good",
                ]
                .map(String::from)
                .to_vec(),
            );
            for a in &report.agents {
                let name = agents
                    .iter()
                    .find(|u| u.email == a.agent)
                    .map_or("", |u| u.full_name.as_str());
                rows.push(vec![
                    a.agent.clone(),
                    name.to_string(),
                    a.replies.to_string(),
                    a.first_response.count.to_string(),
                    secs(&a.first_response),
                    a.closed.to_string(),
                    a.rated.good.to_string(),
                    a.rated.okay.to_string(),
                    a.rated.bad.to_string(),
                ]);
            }
        }
        Table::Channels => {
            rows.push(
                [
                    "channel",
                    "opened",
                    "closed",
                    "first_answer_median_seconds",
                    "first_answers_on_target",
                    "first_answers_due",
                    "rated_good",
                    "rated_okay",
                    "rated_not_good",
                ]
                .map(String::from)
                .to_vec(),
            );
            // The targets' two empty without answer targets.
            for c in &report.channels {
                let (met, due) = match &c.on_target {
                    Some(t) => (t.met.to_string(), (t.met + t.missed).to_string()),
                    None => (String::new(), String::new()),
                };
                rows.push(vec![
                    c.channel.clone(),
                    c.opened.to_string(),
                    c.closed.to_string(),
                    secs(&c.first_response),
                    met,
                    due,
                    c.rated.good.to_string(),
                    c.rated.okay.to_string(),
                    c.rated.bad.to_string(),
                ]);
            }
        }
        Table::Fields => {
            rows.push(
                [
                    "field",
                    "value",
                    "opened",
                    "closed",
                    "first_answer_median_seconds",
                    "time_to_close_median_seconds",
                ]
                .map(String::from)
                .to_vec(),
            );
            for table in &report.fields {
                for l in &table.lines {
                    rows.push(vec![
                        table.field.clone(),
                        l.value.clone(),
                        l.opened.to_string(),
                        l.closed.to_string(),
                        secs(&l.first_response),
                        secs(&l.time_to_close),
                    ]);
                }
            }
        }
        Table::Days => {
            rows.push(["day", "opened", "closed"].map(String::from).to_vec());
            for d in &report.days {
                rows.push(vec![
                    iso_day(d.start, report.period.clock.offset_at(d.start)),
                    d.opened.to_string(),
                    d.closed.to_string(),
                ]);
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `=`, `+`,
/// `-`, `@` or tab gets a `'` first, so a spreadsheet shows it rather than runs it.
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// "2026-11-16" for the local day holding `at`.
fn iso_day(at: i64, offset: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at + offset)
        .map(|t| t.date().to_string())
        .unwrap_or_else(|_| at.to_string())
}

/// One figure of the overview.
fn figure(out: &mut String, id: &str, label: &str, value: &str) {
    let _ = write!(
        out,
        r#"<div><dt>{}</dt><dd id="{id}">{}</dd></div>"#,
        esc(label),
        esc(value)
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::reports::{build, clock_label, day_label, Facts, Period, TicketFact};

    #[test]
    fn csv_cells_are_quoted_and_kept_from_running_as_formulas() {
        assert_eq!(csv_field("jane@acme.test"), "jane@acme.test");
        assert_eq!(csv_field("Doe, Jane"), "\"Doe, Jane\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("@sum"), "'@sum");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field(""), "");
        assert_eq!(Table::parse("agents"), Some(Table::Agents));
        assert_eq!(Table::parse("../etc"), None);
    }

    #[test]
    fn a_report_downloads_as_csv_tables() {
        let facts = Facts {
            tickets: vec![TicketFact {
                id: 1,
                channel: "support".into(),
                owner: None,
                created_at: 1_794_787_200 + 60,
                closed: false,
                closed_at: None,
                customer_first: true,
                priority: "medium".into(),
                priority_changes: Vec::new(),
                closed_unanswered: false,
                fields: Vec::new(),
            }],
            replies: vec![crate::desk::reports::ReplyFact {
                ticket: 1,
                sent_at: 1_794_787_200 + 660,
                agent: "jane@acme.test".into(),
            }],
            ..Facts::default()
        };
        let period = Period::last_days(2, 1_794_787_200 + 3600, Clock::Offset(0));
        let report = build(period, &facts, &["jane@acme.test".to_string()], &[], None);
        assert_eq!(
            csv(&report, Table::Agents, &[]),
            "agent,name,replies_sent,first_answers,first_answer_median_seconds,closed_owned,\
             rated_good,rated_okay,rated_not_good\r\n\
             jane@acme.test,,1,1,600,0,0,0,0\r\n"
        );
        assert_eq!(
            csv(&report, Table::Channels, &[]),
            "channel,opened,closed,first_answer_median_seconds,first_answers_on_target,first_answers_due,\
             rated_good,rated_okay,rated_not_good\r\n\
             support,1,0,600,,,0,0,0\r\n"
        );
        assert_eq!(
            csv(&report, Table::Days, &[]),
            "day,opened,closed\r\n2026-11-15,0,0\r\n2026-11-16,1,0\r\n"
        );
    }

    #[test]
    fn labels_for_days_and_clocks() {
        assert_eq!(day_label(1_794_787_200, 0), "Mon 16 Nov 2026");
        assert_eq!(day_label(1_794_787_200 - 3600, 3600), "Mon 16 Nov 2026");
        assert_eq!(clock_label(0), "UTC");
        assert_eq!(clock_label(3600), "UTC+01:00");
        assert_eq!(clock_label(-19_800), "UTC-05:30");
    }

    #[test]
    fn a_report_page_escapes_names_and_says_when_there_is_nothing() {
        let facts = Facts {
            tickets: vec![TicketFact {
                id: 1,
                channel: "<b>sales</b>".into(),
                owner: None,
                created_at: 1_794_787_200 + 60,
                closed: false,
                closed_at: None,
                customer_first: true,
                priority: "medium".into(),
                priority_changes: Vec::new(),
                closed_unanswered: false,
                fields: Vec::new(),
            }],
            ..Facts::default()
        };
        let period = Period::last_days(7, 1_794_787_200 + 3600, Clock::Offset(0));
        let report = build(period, &facts, &["<jane>@acme.test".to_string()], &[], None);
        let html = page(&report, &[]);
        assert!(!html.contains("<b>sales"), "{html}");
        assert!(html.contains("&lt;b&gt;sales"));
        assert!(html.contains("&lt;jane&gt;@acme.test"));
        assert!(html.contains(r#"<dd id="r-first-response">none yet</dd>"#));
        assert!(html.contains(r#"<dd id="r-unanswered">1</dd>"#));
        assert!(html.contains(r#"href="/reports?days=7&amp;tz=0" aria-current="page""#));
        // A zone is asked for again by name; a "+" in it is not read back as a space.
        let zoned = Period::last_days(1, 1_794_787_200, Clock::Zone("Etc/GMT+5".into()));
        let zoned = page(&build(zoned, &facts, &[], &[], None), &[]);
        assert!(
            zoned.contains(r#"href="/reports?days=1&amp;zone=Etc/GMT%2B5" aria-current="page""#),
            "{zoned}"
        );
        assert!(zoned.contains("days in Etc/GMT+5"), "{zoned}");
        assert_eq!(html.matches("<meter").count(), 14, "two a day for 7 days");
    }
}
