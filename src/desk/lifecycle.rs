//! Pipelines, stages and how messages move tickets between them (pure).

use serde::{Deserialize, Serialize};

/// A ticket priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Low.
    Low,
    /// Medium (the default).
    Medium,
    /// High.
    High,
    /// Urgent.
    Urgent,
}

impl Priority {
    /// Parse `low|medium|high|urgent`.
    pub fn parse(s: &str) -> Option<Priority> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Some(Priority::Low),
            "medium" => Some(Priority::Medium),
            "high" => Some(Priority::High),
            "urgent" => Some(Priority::Urgent),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }
}

/// The history's words for a change of priority ("priority low → urgent").
pub fn priority_change_words(old: &str, new: Priority) -> String {
    format!("priority {old} → {}", new.as_str())
}

/// The priority before and after a change, from its words in the history (as
/// [`priority_change_words`] writes them).
pub fn parse_priority_change(words: &str) -> Option<(Priority, Priority)> {
    let (old, new) = words.strip_prefix("priority ")?.split_once(" → ")?;
    Some((Priority::parse(old)?, Priority::parse(new)?))
}

/// One stage of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    /// Name shown to agents.
    pub name: String,
    /// True when tickets here are done.
    pub closed: bool,
}

/// An ordered set of stages and the moves messages make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Name.
    pub name: String,
    /// Stages in order.
    pub stages: Vec<Stage>,
    /// Where a customer's message puts a ticket that was in a closed stage.
    pub reopen_stage: String,
    /// Where an agent's reply puts a ticket.
    pub agent_reply_stage: String,
    /// Ticket fields an agent must fill in before closing a ticket here (a field's
    /// `required_to_close`); the desk's own closings (spam, merge, auto-close) pass.
    #[serde(default)]
    pub required_to_close: Vec<String>,
}

impl Pipeline {
    /// The built-in "Support" pipeline used when the config names none.
    pub fn default_support() -> Pipeline {
        let stage = |name: &str, closed| Stage {
            name: name.to_string(),
            closed,
        };
        Pipeline {
            name: "Support".into(),
            stages: vec![
                stage("New", false),
                stage("Waiting on contact", false),
                stage("Waiting on us", false),
                stage("Closed", true),
            ],
            reopen_stage: "Waiting on us".into(),
            agent_reply_stage: "Waiting on contact".into(),
            required_to_close: Vec::new(),
        }
    }

    /// The stage called `name` (case-insensitive), with its canonical spelling.
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
    }

    /// True when `status` is a closed stage.
    pub fn is_closed(&self, status: &str) -> bool {
        self.stage(status).map(|s| s.closed).unwrap_or(false)
    }

    /// The fields a ticket holding `filled` (names) still needs before an agent moves it
    /// to `stage`: none unless that stage is closed, in the pipeline's order.
    pub fn missing_to_close<'a>(&'a self, stage: &str, filled: &[String]) -> Vec<&'a str> {
        if !self.is_closed(stage) {
            return Vec::new();
        }
        self.required_to_close
            .iter()
            .filter(|name| !filled.iter().any(|f| f.eq_ignore_ascii_case(name)))
            .map(String::as_str)
            .collect()
    }

    /// What a ticket at `status` holding `filled` still lacks before an agent may close
    /// it: nothing once it is closed, or when the pipeline has no closed stage.
    pub fn needed_to_close<'a>(&'a self, status: &str, filled: &[String]) -> Vec<&'a str> {
        match self.closing_stage() {
            Some(stage) if !self.is_closed(status) => self.missing_to_close(&stage.name, filled),
            _ => Vec::new(),
        }
    }

    /// The stage "Send and close" puts a ticket in: the pipeline's first closed stage.
    pub fn closing_stage(&self) -> Option<&Stage> {
        self.stages.iter().find(|s| s.closed)
    }
}

/// The status a ticket moves to when a customer writes, if it moves: a closed ticket
/// reopens, and one waiting on the customer (the agent-reply stage) is back with us.
pub fn on_customer_message(pipeline: &Pipeline, status: &str) -> Option<String> {
    let waiting_on_contact = status.eq_ignore_ascii_case(&pipeline.agent_reply_stage)
        && !pipeline
            .agent_reply_stage
            .eq_ignore_ascii_case(&pipeline.reopen_stage);
    (pipeline.is_closed(status) || waiting_on_contact).then(|| pipeline.reopen_stage.clone())
}

/// The default stage for a move: the stage called `preferred` when the pipeline has it
/// open, else the first open stage.
pub fn default_stage(stages: &[Stage], preferred: &str) -> String {
    stages
        .iter()
        .find(|s| !s.closed && s.name.eq_ignore_ascii_case(preferred))
        .or_else(|| stages.iter().find(|s| !s.closed))
        .map(|s| s.name.clone())
        .unwrap_or_default()
}

/// The status a ticket moves to when an agent replies, if it moves.
pub fn on_agent_reply(pipeline: &Pipeline, status: &str) -> Option<String> {
    (!status.eq_ignore_ascii_case(&pipeline.agent_reply_stage))
        .then(|| pipeline.agent_reply_stage.clone())
}

/// Why an agent may not close a ticket yet: "Product and Order number must be filled
/// in before the ticket is closed".
pub fn missing_fields_words(missing: &[&str]) -> String {
    let names = match missing {
        [] => return String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    };
    format!("{names} must be filled in before the ticket is closed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_priority_change_reads_back_from_its_words() {
        let words = priority_change_words("low", Priority::Urgent);
        assert_eq!(words, "priority low → urgent");
        assert_eq!(
            parse_priority_change(&words),
            Some((Priority::Low, Priority::Urgent))
        );
        assert_eq!(parse_priority_change("priority medium → "), None);
        assert_eq!(parse_priority_change("status New → Open"), None);
        assert_eq!(parse_priority_change("priority high -> low"), None);
    }

    #[test]
    fn send_and_close_uses_the_first_closed_stage() {
        let support = Pipeline::default_support();
        assert_eq!(
            support.closing_stage().map(|s| s.name.as_str()),
            Some("Closed")
        );
        let mut two = support.clone();
        two.stages.insert(
            1,
            Stage {
                name: "Solved".into(),
                closed: true,
            },
        );
        assert_eq!(two.closing_stage().map(|s| s.name.as_str()), Some("Solved"));
        let mut none = support;
        none.stages.retain(|s| !s.closed);
        assert_eq!(none.closing_stage(), None);
    }

    #[test]
    fn closing_waits_for_the_required_fields() {
        let mut p = Pipeline::default_support();
        let none: Vec<String> = Vec::new();
        assert!(p.missing_to_close("Closed", &none).is_empty());
        p.required_to_close = vec!["Product".into(), "Order number".into()];
        assert_eq!(
            p.missing_to_close("closed", &none),
            vec!["Product", "Order number"]
        );
        assert_eq!(
            p.missing_to_close("Closed", &["product".to_string()]),
            vec!["Order number"]
        );
        let both = ["ORDER NUMBER".to_string(), "Product".to_string()];
        assert!(p.missing_to_close("Closed", &both).is_empty());
        // Only a closed stage asks; an unknown one is not closed.
        assert!(p.missing_to_close("Waiting on us", &none).is_empty());
        assert!(p.missing_to_close("Nowhere", &none).is_empty());
        // What an open ticket still needs; a closed one, or one its pipeline cannot
        // close, needs nothing.
        assert_eq!(
            p.needed_to_close("New", &["Product".to_string()]),
            vec!["Order number"]
        );
        assert!(p.needed_to_close("Closed", &none).is_empty());
        p.stages.retain(|s| !s.closed);
        assert!(p.needed_to_close("New", &none).is_empty());
    }

    #[test]
    fn the_missing_fields_are_named_in_a_sentence() {
        assert_eq!(missing_fields_words(&[]), "");
        assert_eq!(
            missing_fields_words(&["Product"]),
            "Product must be filled in before the ticket is closed"
        );
        assert_eq!(
            missing_fields_words(&["Product", "Order number"]),
            "Product and Order number must be filled in before the ticket is closed"
        );
        assert_eq!(
            missing_fields_words(&["A", "B", "C"]),
            "A, B and C must be filled in before the ticket is closed"
        );
    }

    #[test]
    fn customer_reopens_only_closed_tickets() {
        let p = Pipeline::default_support();
        assert_eq!(
            on_customer_message(&p, "Closed"),
            Some("Waiting on us".into())
        );
        assert_eq!(
            on_customer_message(&p, "closed"),
            Some("Waiting on us".into())
        );
        assert_eq!(on_customer_message(&p, "New"), None);
        assert_eq!(on_customer_message(&p, "Waiting on us"), None);
        assert_eq!(
            on_customer_message(&p, "Waiting on contact"),
            Some("Waiting on us".into())
        );
    }

    #[test]
    fn agent_reply_waits_on_contact() {
        let p = Pipeline::default_support();
        assert_eq!(on_agent_reply(&p, "New"), Some("Waiting on contact".into()));
        assert_eq!(on_agent_reply(&p, "Waiting on contact"), None);
        assert_eq!(
            on_agent_reply(&p, "Closed"),
            Some("Waiting on contact".into())
        );
    }

    #[test]
    fn default_stages_prefer_the_usual_names() {
        let p = Pipeline::default_support();
        assert_eq!(
            default_stage(&p.stages, "waiting on contact"),
            "Waiting on contact"
        );
        assert_eq!(default_stage(&p.stages, "Nope"), "New");
        assert_eq!(default_stage(&p.stages, "Closed"), "New");
    }

    #[test]
    fn priorities_parse() {
        assert_eq!(Priority::parse(" HIGH "), Some(Priority::High));
        assert_eq!(Priority::parse("critical"), None);
        assert!(Priority::Urgent > Priority::Low);
    }
}
