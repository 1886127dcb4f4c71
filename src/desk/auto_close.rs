//! Closing tickets left waiting on the customer (`[channel.auto_close]`, pure): a
//! ticket an agent answered and the customer has not answered back, untouched for the
//! channel's `after`, is closed by the desk, as HubSpot's "close tickets waiting on the
//! contact" does. A customer who writes later reopens it as usual.

use crate::desk::lifecycle::Pipeline;

/// A channel's rule, as the config gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoClose {
    /// Seconds a ticket waits untouched before the desk closes it.
    pub after: i64,
    /// The stage that counts as waiting on the customer; `None`: the stage an agent's
    /// reply puts a ticket in (each pipeline's own).
    pub stage: Option<String>,
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
                why: why(rule.after),
            });
        }
    }
    out
}

/// When a ticket closes by itself, if it will: it is open in the waiting stage of its
/// pipeline, not snoozed, and the rule's span runs from its last change.
pub fn closes_at(
    rule: Option<&AutoClose>,
    pipeline: Option<&Pipeline>,
    status: &str,
    snoozed: bool,
    last_change: i64,
) -> Option<i64> {
    let (rule, pipeline) = (rule?, pipeline?);
    let waiting = waiting_stage(rule, pipeline)?;
    (!snoozed && status.eq_ignore_ascii_case(waiting)).then_some(last_change + rule.after)
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
        assert_eq!(
            closes_at(Some(&r), Some(&p), "waiting on contact", false, 100),
            Some(86_500)
        );
        assert_eq!(
            closes_at(Some(&r), Some(&p), "Waiting on us", false, 100),
            None
        );
        assert_eq!(closes_at(Some(&r), Some(&p), "Closed", false, 100), None);
        assert_eq!(
            closes_at(Some(&r), Some(&p), "Waiting on contact", true, 100),
            None,
            "snoozed: the agent means to look again"
        );
        assert_eq!(
            closes_at(None, Some(&p), "Waiting on contact", false, 100),
            None
        );
        assert_eq!(
            closes_at(Some(&r), None, "Waiting on contact", false, 100),
            None,
            "a pipeline no longer configured"
        );
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
