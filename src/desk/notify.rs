//! Mail to agents about their tickets: why an agent hears about one, and the part of a
//! message such a mail quotes (pure).

/// Why an agent gets mail about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// A colleague (or routing) made them the ticket's owner.
    Assigned,
    /// The customer wrote on a ticket they own.
    CustomerReply,
    /// A colleague named them with `@` in an internal note.
    Mention,
    /// A new ticket came in and nobody owns it.
    NewTicket,
    /// Something happened on a ticket they follow: the customer wrote, a colleague
    /// replied or added a note.
    Followed,
    /// A customer's answer became overdue (`[sla]`) on a ticket they own, or on one
    /// nobody owns that is theirs to take (their team's, or anyone's).
    Overdue,
    /// A customer rated their reply "Not good".
    BadRating,
}

impl Reason {
    /// Every reason, in the order the account page lists them.
    pub const ALL: [Reason; 7] = [
        Reason::Assigned,
        Reason::CustomerReply,
        Reason::Mention,
        Reason::Followed,
        Reason::NewTicket,
        Reason::Overdue,
        Reason::BadRating,
    ];

    /// The name stored and used in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Assigned => "assigned",
            Reason::CustomerReply => "customer-reply",
            Reason::Mention => "mention",
            Reason::NewTicket => "new-ticket",
            Reason::Followed => "followed",
            Reason::Overdue => "overdue",
            Reason::BadRating => "bad-rating",
        }
    }

    /// The reason named `s`.
    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// What an agent ticks to get this mail.
    pub fn label(self) -> &'static str {
        match self {
            Reason::Assigned => "a colleague or routing assigns a ticket to me",
            Reason::CustomerReply => "a customer writes on a ticket I own",
            Reason::Mention => "a colleague mentions me in a note",
            Reason::NewTicket => "a new ticket comes in that nobody owns",
            Reason::Followed => "a ticket I follow gets mail, a reply or a note",
            Reason::Overdue => {
                "a customer's answer is overdue on a ticket I own, or one nobody owns"
            }
            Reason::BadRating => "a customer rates my reply \"Not good\"",
        }
    }

    /// Whether agents get it unless they say otherwise.
    pub fn on_by_default(self) -> bool {
        !matches!(self, Reason::NewTicket)
    }
}

/// Which mail an agent wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    /// Assigned to them.
    pub assigned: bool,
    /// The customer wrote on their ticket.
    pub customer_reply: bool,
    /// Mentioned in a note.
    pub mention: bool,
    /// A new ticket nobody owns.
    pub new_ticket: bool,
    /// News on a ticket they follow.
    pub followed: bool,
    /// A customer's answer became overdue.
    pub overdue: bool,
    /// A customer rated their reply "Not good".
    pub bad_rating: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs::from_fn(Reason::on_by_default)
    }
}

impl Prefs {
    /// Preferences with `wants(reason)` for each reason.
    pub fn from_fn(wants: impl Fn(Reason) -> bool) -> Prefs {
        Prefs {
            assigned: wants(Reason::Assigned),
            customer_reply: wants(Reason::CustomerReply),
            mention: wants(Reason::Mention),
            new_ticket: wants(Reason::NewTicket),
            followed: wants(Reason::Followed),
            overdue: wants(Reason::Overdue),
            bad_rating: wants(Reason::BadRating),
        }
    }

    /// Whether the agent wants mail for `reason`.
    pub fn wants(&self, reason: Reason) -> bool {
        match reason {
            Reason::Assigned => self.assigned,
            Reason::CustomerReply => self.customer_reply,
            Reason::Mention => self.mention,
            Reason::NewTicket => self.new_ticket,
            Reason::Followed => self.followed,
            Reason::Overdue => self.overdue,
            Reason::BadRating => self.bad_rating,
        }
    }

    /// Parse a list such as `assigned,mention` (`none` for nothing, `all` for all).
    pub fn parse_list(list: &str) -> Result<Prefs, String> {
        let words: Vec<&str> = list
            .split([',', ' '])
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect();
        match words.as_slice() {
            ["none"] => return Ok(Prefs::from_fn(|_| false)),
            ["all"] => return Ok(Prefs::from_fn(|_| true)),
            _ => {}
        }
        let mut chosen = Vec::new();
        for w in words {
            match Reason::parse(w) {
                Some(r) => chosen.push(r),
                None => {
                    return Err(format!(
                        "unknown notification {w:?} (choose from {}, or all, or none)",
                        Reason::ALL.map(Reason::as_str).join(", ")
                    ))
                }
            }
        }
        Ok(Prefs::from_fn(|r| chosen.contains(&r)))
    }

    /// The reasons wanted, as `parse_list` reads them (`none` when empty).
    pub fn list(&self) -> String {
        let on: Vec<&str> = Reason::ALL
            .into_iter()
            .filter(|r| self.wants(*r))
            .map(Reason::as_str)
            .collect();
        if on.is_empty() {
            "none".into()
        } else {
            on.join(",")
        }
    }
}

/// Most lines of a message a notification quotes.
const EXCERPT_LINES: usize = 8;
/// Most characters of a message a notification quotes.
const EXCERPT_CHARS: usize = 600;

/// The new part of a message, for a notification: its text up to the quoted history
/// ("On … wrote:", lines starting with `>`, a signature's `-- `), blank runs folded,
/// at most a few lines; `None` when nothing is left.
pub fn excerpt(text: &str) -> Option<String> {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.starts_with('>') || trimmed == "--" || line == "-- " || is_attribution(trimmed) {
            break;
        }
        if trimmed.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(trimmed);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    let cut = lines.len() > EXCERPT_LINES;
    lines.truncate(EXCERPT_LINES);
    let mut out = lines.join("\n");
    if out.chars().count() > EXCERPT_CHARS {
        out = out.chars().take(EXCERPT_CHARS).collect();
        out = out.trim_end().to_string();
        out.push('…');
    } else if cut {
        out.push_str("\n…");
    }
    (!out.trim().is_empty()).then_some(out)
}

/// "On Tue, 4 Mar 2025, Jane wrote:" and its kin: where quoted history starts.
fn is_attribution(line: &str) -> bool {
    let lower = line.to_lowercase();
    (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || lower.starts_with("-----original message-----")
        || lower.starts_with("---------- forwarded message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_round_trip_by_name() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(Reason::parse("assign"), None);
        assert_eq!(Reason::parse(""), None);
    }

    #[test]
    fn new_tickets_are_off_by_default_and_the_rest_on() {
        let p = Prefs::default();
        assert!(p.assigned && p.customer_reply && p.mention && p.followed && p.overdue);
        assert!(p.bad_rating && !p.new_ticket);
        assert_eq!(
            p.list(),
            "assigned,customer-reply,mention,followed,overdue,bad-rating"
        );
    }

    #[test]
    fn lists_parse_with_commas_or_spaces() {
        let p = Prefs::parse_list("mention, new-ticket").unwrap();
        assert!(p.mention && p.new_ticket && !p.assigned && !p.customer_reply);
        assert_eq!(p, Prefs::parse_list("new-ticket mention").unwrap());
        assert_eq!(Prefs::parse_list("none").unwrap().list(), "none");
        assert_eq!(
            Prefs::parse_list("all").unwrap().list(),
            "assigned,customer-reply,mention,followed,new-ticket,overdue,bad-rating"
        );
    }

    #[test]
    fn an_unknown_word_is_refused_with_the_choices() {
        let e = Prefs::parse_list("assigned,everything").unwrap_err();
        assert!(e.contains("\"everything\""), "{e}");
        assert!(e.contains("customer-reply"), "{e}");
        assert!(Prefs::parse_list("none,assigned").is_err());
    }

    #[test]
    fn an_empty_list_wants_nothing() {
        assert_eq!(Prefs::parse_list("").unwrap().list(), "none");
    }

    #[test]
    fn excerpt_stops_at_quoted_history() {
        let text = "Still broken.\nIt beeps twice.\n\nOn Tue, 4 Mar 2025, Jane wrote:\n> Try again";
        assert_eq!(
            excerpt(text).as_deref(),
            Some("Still broken.\nIt beeps twice.")
        );
        assert_eq!(
            excerpt("Thanks!\n> old\n> older").as_deref(),
            Some("Thanks!")
        );
    }

    #[test]
    fn excerpt_stops_at_a_signature_and_an_outlook_quote() {
        assert_eq!(
            excerpt("Yes please.\n-- \nInes\nAcme GmbH").as_deref(),
            Some("Yes please.")
        );
        assert_eq!(
            excerpt("See below.\n-----Original Message-----\nFrom: x").as_deref(),
            Some("See below.")
        );
    }

    #[test]
    fn excerpt_folds_blank_runs_and_drops_leading_blanks() {
        assert_eq!(excerpt("\n\n  \nA\n\n\n\nB\n\n").as_deref(), Some("A\n\nB"));
    }

    #[test]
    fn excerpt_keeps_a_few_lines_and_says_it_cut() {
        let text: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let e = excerpt(&text).unwrap();
        assert!(e.starts_with("line 1\n"));
        assert!(e.contains("line 8"));
        assert!(!e.contains("line 9"));
        assert!(e.ends_with('…'));
    }

    #[test]
    fn excerpt_cuts_a_long_line_on_a_character_boundary() {
        let text = "é".repeat(2000);
        let e = excerpt(&text).unwrap();
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
    }

    #[test]
    fn nothing_new_is_none() {
        assert_eq!(excerpt(""), None);
        assert_eq!(excerpt("> only a quote"), None);
        assert_eq!(excerpt("\n \n"), None);
    }
}
