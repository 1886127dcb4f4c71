//! Closing tickets left waiting on the customer (`[channel.auto_close]`, pure): a
//! ticket an agent answered and the customer has not answered back, untouched for the
//! channel's `after`, is closed by the desk, as HubSpot's "close tickets waiting on the
//! contact" does. A customer who writes later reopens it as usual.
//!
//! With a reminder, the customer is mailed first, `before` ahead of the closing, and the
//! ticket closes only once that mail has had `before` to be answered: a reminder sent
//! late (the daemon was down, or the rule just turned on) puts the closing off. The
//! reminder is not a change of the ticket: its clock keeps running.

use crate::desk::lifecycle::Pipeline;
use crate::outbound::template::Template;

/// A channel's rule, as the config gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoClose {
    /// Seconds a ticket waits untouched before the desk closes it.
    pub after: i64,
    /// The stage that counts as waiting on the customer; `None`: the stage an agent's
    /// reply puts a ticket in (each pipeline's own).
    pub stage: Option<String>,
    /// The mail to the customer before closing, if the channel sends one.
    pub reminder: Option<Reminder>,
}

/// The mail that tells a customer their ticket is about to close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    /// Seconds before the closing that it goes (less than the rule's `after`).
    pub before: i64,
    /// Subject.
    pub subject: Template,
    /// Body.
    pub body: Template,
}

/// A reminder's subject when the config gives none.
pub const REMINDER_SUBJECT: &str = "Still need help with \"{{ticket.subject}}\"?";

/// A reminder's body when the config gives none; `{span}` is how long the customer has.
pub fn default_reminder_body(before: i64) -> String {
    format!(
        "Hello {{{{contact.name | there}}}},\n\n\
we have not heard back from you about \"{{{{ticket.subject}}}}\" (#{{{{ticket.id}}}}). \
If you still need help, just answer this mail. If we hear nothing within {}, we will \
close the request; writing to us later opens it again.\n\n\
{{{{company}}}}\n",
        span_in_words(before)
    )
}

/// A span as a customer reads it: "2 days", "1 day and 12 hours", "45 minutes".
pub fn span_in_words(seconds: i64) -> String {
    let unit = |n: i64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, m) => unit(m, "minute"),
        (0, h, 0) => unit(h, "hour"),
        (0, h, m) => format!("{} and {}", unit(h, "hour"), unit(m, "minute")),
        (d, 0, _) => unit(d, "day"),
        (d, h, _) => format!("{} and {}", unit(d, "day"), unit(h, "hour")),
    }
}

/// A ticket closes by itself after this long when the config does not say.
pub const DEFAULT_AFTER: i64 = 7 * 86_400;

/// One look of the desk: close the tickets of `channel` in `pipeline` that sit in
/// `waiting`, unchanged since `idle_since` or earlier, into `closing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// Channel.
    pub channel: String,
    /// Pipeline (as configured).
    pub pipeline: String,
    /// The waiting stage (as configured).
    pub waiting: String,
    /// The closed stage tickets go to.
    pub closing: String,
    /// Tickets last changed at this unix second or before are due.
    pub idle_since: i64,
    /// With a reminder: only tickets whose reminder (for their last change) went at this
    /// unix second or before. For the reminders' own look: `None`.
    pub reminded_by: Option<i64>,
    /// What the history says of the move, after the stages.
    pub why: String,
}

/// The stage of `pipeline` that `rule` counts as waiting on the customer: the named one,
/// else the one an agent's reply puts a ticket in; none when that stage is closed, is
/// where a customer's mail puts a ticket (it would be waiting on us), or the pipeline
/// has no such stage or nowhere to close into.
pub fn waiting_stage<'p>(rule: &AutoClose, pipeline: &'p Pipeline) -> Option<&'p str> {
    let wanted = rule.stage.as_deref().unwrap_or(&pipeline.agent_reply_stage);
    let stage = pipeline.stage(wanted)?;
    let waits = !stage.closed && !stage.name.eq_ignore_ascii_case(&pipeline.reopen_stage);
    (waits && pipeline.closing_stage().is_some()).then_some(stage.name.as_str())
}

/// The looks to make at `now`: one per channel with a rule and pipeline it applies to.
pub fn sweeps(rules: &[(String, AutoClose)], pipelines: &[Pipeline], now: i64) -> Vec<Sweep> {
    let mut out = Vec::new();
    for (channel, rule) in rules {
        for pipeline in pipelines {
            let (Some(waiting), Some(closing)) =
                (waiting_stage(rule, pipeline), pipeline.closing_stage())
            else {
                continue;
            };
            out.push(Sweep {
                channel: channel.clone(),
                pipeline: pipeline.name.clone(),
                waiting: waiting.to_string(),
                closing: closing.name.clone(),
                idle_since: now - rule.after,
                reminded_by: rule.reminder.as_ref().map(|r| now - r.before),
                why: why(rule.after),
            });
        }
    }
    out
}

/// The looks for reminders at `now`: as [`sweeps`], for the rules with a reminder, with
/// tickets due once they have waited `after - before` (their reminder not yet sent).
pub fn reminder_sweeps(
    rules: &[(String, AutoClose)],
    pipelines: &[Pipeline],
    now: i64,
) -> Vec<Sweep> {
    let reminding: Vec<(String, AutoClose)> = rules
        .iter()
        .filter(|(_, r)| r.reminder.is_some())
        .cloned()
        .collect();
    sweeps(&reminding, pipelines, now)
        .into_iter()
        .map(|mut s| {
            let rule = reminding
                .iter()
                .find(|(c, _)| *c == s.channel)
                .map(|(_, r)| r);
            let before = rule
                .and_then(|r| r.reminder.as_ref())
                .map_or(0, |r| r.before);
            s.idle_since += before;
            s.reminded_by = None;
            s
        })
        .collect()
}

/// What a ticket's page knows of it for [`closes_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting<'a> {
    /// Its status.
    pub status: &'a str,
    /// Whether it is snoozed.
    pub snoozed: bool,
    /// Its last change (unix seconds).
    pub last_change: i64,
    /// When its reminder for that last change went, if one did.
    pub reminded_at: Option<i64>,
}

/// When a ticket closes by itself, if it will: it is open in the waiting stage of its
/// pipeline, not snoozed, and the rule's span runs from its last change; with a
/// reminder, not before the reminder (sent, or due by `now`) has had its span.
pub fn closes_at(
    rule: Option<&AutoClose>,
    pipeline: Option<&Pipeline>,
    ticket: Waiting<'_>,
    now: i64,
) -> Option<i64> {
    let (rule, pipeline) = (rule?, pipeline?);
    let waiting = waiting_stage(rule, pipeline)?;
    if ticket.snoozed || !ticket.status.eq_ignore_ascii_case(waiting) {
        return None;
    }
    let span_ends = ticket.last_change + rule.after;
    Some(match &rule.reminder {
        None => span_ends,
        Some(r) => span_ends.max(ticket.reminded_at.unwrap_or(now) + r.before),
    })
}

/// How the history's reason begins (the reports find the desk's closings by it).
pub const WHY: &str = "no answer from the customer in ";

/// The history's reason: "no answer from the customer in 7 d".
pub fn why(after: i64) -> String {
    format!("{WHY}{}", crate::desk::reports::duration_words(after))
}

/// How often to look (a ticket closes at most that late): see [`sla::look_every`].
///
/// [`sla::look_every`]: crate::desk::sla::look_every
pub fn look_every(rules: &[(String, AutoClose)]) -> std::time::Duration {
    crate::desk::sla::look_every(rules.iter().map(|(_, r)| r.after).min())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::lifecycle::Stage;

    fn rule(after: i64, stage: Option<&str>) -> AutoClose {
        AutoClose {
            after,
            stage: stage.map(str::to_string),
            reminder: None,
        }
    }

    fn reminding(after: i64, before: i64) -> AutoClose {
        let text = |t: &str| Template::parse(t, crate::outbound::compose::ACK_TOKENS).unwrap();
        AutoClose {
            reminder: Some(Reminder {
                before,
                subject: text(REMINDER_SUBJECT),
                body: text(&default_reminder_body(before)),
            }),
            ..rule(after, None)
        }
    }

    fn at(status: &str, snoozed: bool, last_change: i64, reminded_at: Option<i64>) -> Waiting<'_> {
        Waiting {
            status,
            snoozed,
            last_change,
            reminded_at,
        }
    }

    fn sales() -> Pipeline {
        let stage = |name: &str, closed| Stage {
            name: name.to_string(),
            closed,
        };
        Pipeline {
            name: "Sales".into(),
            stages: vec![
                stage("Lead", false),
                stage("Offer sent", false),
                stage("Won", true),
                stage("Lost", true),
            ],
            reopen_stage: "Lead".into(),
            agent_reply_stage: "Offer sent".into(),
            required_to_close: Vec::new(),
        }
    }

    #[test]
    fn the_waiting_stage_is_where_a_reply_puts_a_ticket_unless_named() {
        let support = Pipeline::default_support();
        assert_eq!(
            waiting_stage(&rule(60, None), &support),
            Some("Waiting on contact")
        );
        assert_eq!(waiting_stage(&rule(60, None), &sales()), Some("Offer sent"));
        assert_eq!(
            waiting_stage(&rule(60, Some("new")), &support),
            Some("New"),
            "named, in any case; spelled as the pipeline has it"
        );
        assert_eq!(waiting_stage(&rule(60, Some("Closed")), &support), None);
        assert_eq!(
            waiting_stage(&rule(60, Some("Waiting on us")), &support),
            None,
            "the stage a customer's mail puts a ticket in waits on the desk"
        );
        assert_eq!(waiting_stage(&rule(60, Some("Offer sent")), &support), None);
        let mut open_only = support;
        open_only.stages.retain(|s| !s.closed);
        assert_eq!(
            waiting_stage(&rule(60, None), &open_only),
            None,
            "nowhere to close into"
        );
    }

    #[test]
    fn each_channel_with_a_rule_sweeps_each_pipeline_it_applies_to() {
        let pipelines = [Pipeline::default_support(), sales()];
        let rules = vec![
            ("support".to_string(), rule(7 * 86_400, None)),
            ("sales".to_string(), rule(3600, Some("Waiting on contact"))),
        ];
        let s = sweeps(&rules, &pipelines, 1_000_000);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(
            s[0],
            Sweep {
                channel: "support".into(),
                pipeline: "Support".into(),
                waiting: "Waiting on contact".into(),
                closing: "Closed".into(),
                idle_since: 1_000_000 - 7 * 86_400,
                reminded_by: None,
                why: "no answer from the customer in 7 d".into(),
            }
        );
        assert_eq!(
            (
                s[1].pipeline.as_str(),
                s[1].waiting.as_str(),
                s[1].closing.as_str()
            ),
            ("Sales", "Offer sent", "Won")
        );
        assert_eq!(
            (
                s[2].channel.as_str(),
                s[2].pipeline.as_str(),
                s[2].idle_since
            ),
            ("sales", "Support", 1_000_000 - 3600),
            "the sales pipeline has no stage of that name"
        );
        assert!(sweeps(&[], &pipelines, 0).is_empty());
    }

    #[test]
    fn a_ticket_closes_a_span_after_its_last_change_while_it_waits() {
        let p = Pipeline::default_support();
        let r = rule(86_400, None);
        let w = "Waiting on contact";
        assert_eq!(
            closes_at(
                Some(&r),
                Some(&p),
                at("waiting on contact", false, 100, None),
                200
            ),
            Some(86_500)
        );
        assert_eq!(
            closes_at(
                Some(&r),
                Some(&p),
                at("Waiting on us", false, 100, None),
                200
            ),
            None
        );
        assert_eq!(
            closes_at(Some(&r), Some(&p), at("Closed", false, 100, None), 200),
            None
        );
        assert_eq!(
            closes_at(Some(&r), Some(&p), at(w, true, 100, None), 200),
            None,
            "snoozed: the agent means to look again"
        );
        assert_eq!(
            closes_at(None, Some(&p), at(w, false, 100, None), 200),
            None
        );
        assert_eq!(
            closes_at(Some(&r), None, at(w, false, 100, None), 200),
            None,
            "a pipeline no longer configured"
        );
    }

    #[test]
    fn a_reminder_gives_the_customer_its_whole_span_before_the_closing() {
        let p = Pipeline::default_support();
        let r = reminding(7 * 86_400, 2 * 86_400);
        let w = "Waiting on contact";
        assert_eq!(
            closes_at(Some(&r), Some(&p), at(w, false, 0, None), 3600),
            Some(7 * 86_400),
            "the reminder is not due yet: it will go five days in"
        );
        assert_eq!(
            closes_at(
                Some(&r),
                Some(&p),
                at(w, false, 0, Some(5 * 86_400)),
                5 * 86_400
            ),
            Some(7 * 86_400),
            "sent on time"
        );
        assert_eq!(
            closes_at(
                Some(&r),
                Some(&p),
                at(w, false, 0, Some(9 * 86_400)),
                9 * 86_400
            ),
            Some(11 * 86_400),
            "sent late (the daemon was down): two days from then"
        );
        assert_eq!(
            closes_at(Some(&r), Some(&p), at(w, false, 0, None), 10 * 86_400),
            Some(12 * 86_400),
            "due but not sent yet: at least two days from now"
        );
    }

    #[test]
    fn reminders_are_looked_for_the_span_less_their_lead_after_the_last_change() {
        let pipelines = [Pipeline::default_support()];
        let rules = vec![
            ("support".to_string(), reminding(7 * 86_400, 2 * 86_400)),
            ("sales".to_string(), rule(3600, None)),
        ];
        let now = 1_000_000;
        let closing = sweeps(&rules, &pipelines, now);
        assert_eq!(closing.len(), 2);
        assert_eq!(closing[0].reminded_by, Some(now - 2 * 86_400));
        assert_eq!(
            closing[1].reminded_by, None,
            "no reminder: closes on its span alone"
        );
        let reminders = reminder_sweeps(&rules, &pipelines, now);
        assert_eq!(reminders.len(), 1, "only the channel that reminds");
        assert_eq!(reminders[0].channel, "support");
        assert_eq!(reminders[0].idle_since, now - 5 * 86_400);
        assert_eq!(reminders[0].reminded_by, None);
        assert!(default_reminder_body(2 * 86_400).contains("within 2 days,"));
    }

    #[test]
    fn spans_read_as_words_a_customer_uses() {
        assert_eq!(span_in_words(2 * 86_400), "2 days");
        assert_eq!(span_in_words(86_400 + 12 * 3600), "1 day and 12 hours");
        assert_eq!(span_in_words(3600), "1 hour");
        assert_eq!(span_in_words(90 * 60), "1 hour and 30 minutes");
        assert_eq!(span_in_words(45 * 60), "45 minutes");
        assert_eq!(span_in_words(60), "1 minute");
    }

    #[test]
    fn the_look_follows_the_shortest_span_within_a_second_and_a_minute() {
        let r = |after| ("support".to_string(), rule(after, None));
        use std::time::Duration;
        assert_eq!(look_every(&[]), Duration::from_secs(60));
        assert_eq!(look_every(&[r(60)]), Duration::from_secs(1));
        assert_eq!(look_every(&[r(1800), r(86_400)]), Duration::from_secs(30));
        assert_eq!(look_every(&[r(7 * 86_400)]), Duration::from_secs(60));
    }
}
