//! What an agent typed in the search box, read as words and filters: `from:olga`,
//! `subject:hinge`, `status:"waiting on us"`, `owner:me`, `owner:none`, `channel:billing`,
//! `tag:vip`, `is:open`, `is:closed`, `priority:urgent`. Anything else is words of the
//! mail.

/// Whose tickets a search keeps (`owner:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerFilter {
    /// `owner:me`: the agent searching.
    Me,
    /// `owner:none`: nobody's.
    Nobody,
    /// `owner:<address or first name>`, in lower case.
    Agent(String),
}

/// Where in a mail a word must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Anywhere: subject, text or sender.
    Any,
    /// The subject (`subject:`).
    Subject,
    /// The sender's name or address (`from:`).
    From,
}

/// A word to find, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Where.
    pub field: Field,
    /// The word, as typed (without quotes).
    pub word: String,
}

/// A search box's words and filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// The words to find, each required, in the order typed.
    pub terms: Vec<Term>,
    /// The ticket's status (`status:`, any case).
    pub status: Option<String>,
    /// The ticket's channel (`channel:`, any case).
    pub channel: Option<String>,
    /// A tag the ticket carries (`tag:`, in lower case as tags are kept).
    pub tag: Option<String>,
    /// Whose it is (`owner:`).
    pub owner: Option<OwnerFilter>,
    /// Open (`is:open`) or closed (`is:closed`) only.
    pub open: Option<bool>,
    /// The ticket's priority (`priority:urgent`).
    pub priority: Option<crate::desk::lifecycle::Priority>,
    /// The last word ended in `*`: it matches every word it begins.
    pub prefix_last: bool,
}

impl SearchQuery {
    /// Whether anything but words narrows it.
    pub fn has_filters(&self) -> bool {
        self.status.is_some()
            || self.channel.is_some()
            || self.tag.is_some()
            || self.owner.is_some()
            || self.open.is_some()
            || self.priority.is_some()
    }

    /// Whether it has any words (of the mail, its subject or its sender) to match.
    pub fn has_words(&self) -> bool {
        !self.terms.is_empty()
    }

    /// The words to find in `field`.
    pub fn words_in(&self, field: Field) -> Vec<String> {
        self.terms
            .iter()
            .filter(|t| t.field == field)
            .map(|t| t.word.clone())
            .collect()
    }
}

/// Most words a search takes (FTS5 phrases).
pub const MAX_WORDS: usize = 12;

/// The words of a piece of the search box: runs of letters, digits and `@._-` (so an
/// address stays one word), each with a letter or digit, without quotes.
pub fn words(input: &str) -> Vec<String> {
    input
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '_' && c != '-')
        // A word with no letter or digit would be a phrase FTS5 drops.
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .map(|w| w.replace('"', ""))
        .collect()
}

/// Read a search box. Filters take one value, quoted when it has spaces
/// (`status:"waiting on us"`); a filter given twice keeps the last; an unknown
/// `name:value` is two words. At most [`MAX_WORDS`] words in all.
pub fn parse(input: &str) -> SearchQuery {
    let mut q = SearchQuery {
        prefix_last: input.trim_end().ends_with('*'),
        ..SearchQuery::default()
    };
    let add = |q: &mut SearchQuery, field: Field, text: &str| {
        for word in words(text) {
            if q.terms.len() < MAX_WORDS {
                q.terms.push(Term { field, word });
            }
        }
    };
    for piece in pieces(input) {
        let Some((name, value)) = piece.split_once(':') else {
            add(&mut q, Field::Any, &piece);
            continue;
        };
        let value = value.trim();
        let name = name.to_lowercase();
        match name.as_str() {
            "from" => add(&mut q, Field::From, value),
            "subject" => add(&mut q, Field::Subject, value),
            _ if value.is_empty() => add(&mut q, Field::Any, &piece),
            "status" => q.status = Some(value.to_string()),
            "channel" => q.channel = Some(value.to_string()),
            "tag" => q.tag = Some(value.to_lowercase()),
            "owner" => {
                q.owner = Some(match value.to_lowercase().as_str() {
                    "me" => OwnerFilter::Me,
                    "none" | "nobody" => OwnerFilter::Nobody,
                    other => OwnerFilter::Agent(other.to_string()),
                })
            }
            // Not a priority: words, as an unknown filter is.
            "priority" => match crate::desk::lifecycle::Priority::parse(value) {
                Some(p) => q.priority = Some(p),
                None => add(&mut q, Field::Any, &piece),
            },
            "is" => match value.to_lowercase().as_str() {
                "open" => q.open = Some(true),
                "closed" => q.open = Some(false),
                _ => add(&mut q, Field::Any, &piece),
            },
            _ => add(&mut q, Field::Any, &piece),
        }
    }
    q
}

/// The box split at spaces outside double quotes; the quotes are taken off.
fn pieces(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut piece = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !piece.is_empty() {
                    out.push(std::mem::take(&mut piece));
                }
            }
            c => piece.push(c),
        }
    }
    if !piece.is_empty() {
        out.push(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The words to find anywhere.
    fn any(input: &str) -> Vec<String> {
        parse(input).words_in(Field::Any)
    }

    #[test]
    fn plain_words_stay_words() {
        let q = parse("printer on fire");
        assert_eq!(any("printer on fire"), w(&["printer", "on", "fire"]));
        assert!(!q.has_filters());
        assert!(q.has_words());
        assert!(!q.prefix_last);
        assert_eq!(any("olga@customer.org"), w(&["olga@customer.org"]));
        assert_eq!(any("warr*"), w(&["warr"]));
        assert!(parse("warr*").prefix_last);
        assert_eq!(any("  "), Vec::<String>::new());
        assert!(!parse("").has_words());
    }

    #[test]
    fn from_and_subject_look_in_their_own_field() {
        let q = parse("from:olga subject:hinge broken*");
        assert_eq!(
            q.terms,
            vec![
                Term {
                    field: Field::From,
                    word: "olga".into()
                },
                Term {
                    field: Field::Subject,
                    word: "hinge".into()
                },
                Term {
                    field: Field::Any,
                    word: "broken".into()
                },
            ],
            "in the order typed: the last one is the prefix"
        );
        assert!(q.prefix_last);
        assert_eq!(
            parse("FROM:olga@customer.org").words_in(Field::From),
            w(&["olga@customer.org"])
        );
        assert_eq!(
            parse("subject:\"broken hinge\"").words_in(Field::Subject),
            w(&["broken", "hinge"])
        );
        assert!(!parse("from:olga").has_filters());
        assert!(parse("from:olga").has_words());
    }

    #[test]
    fn ticket_filters() {
        let q = parse("refund status:\"Waiting on us\" channel:billing tag:VIP owner:me is:open");
        assert_eq!(q.words_in(Field::Any), w(&["refund"]));
        assert_eq!(q.status.as_deref(), Some("Waiting on us"));
        assert_eq!(q.channel.as_deref(), Some("billing"));
        assert_eq!(q.tag.as_deref(), Some("vip"));
        assert_eq!(q.owner, Some(OwnerFilter::Me));
        assert_eq!(q.open, Some(true));
        assert!(q.has_filters());
        assert_eq!(parse("owner:none").owner, Some(OwnerFilter::Nobody));
        assert_eq!(parse("owner:nobody").owner, Some(OwnerFilter::Nobody));
        use crate::desk::lifecycle::Priority;
        assert_eq!(parse("priority:URGENT").priority, Some(Priority::Urgent));
        assert!(parse("priority:high").has_filters());
        let odd = parse("priority:soon");
        assert_eq!(odd.priority, None, "not a priority");
        assert_eq!(odd.words_in(Field::Any), w(&["priority", "soon"]));
        assert_eq!(
            parse("owner:Jane@Acme.test").owner,
            Some(OwnerFilter::Agent("jane@acme.test".into()))
        );
        assert_eq!(
            parse("owner:Bea").owner,
            Some(OwnerFilter::Agent("bea".into()))
        );
        assert_eq!(parse("is:closed").open, Some(false));
        // Filters alone: nothing to match in the mail.
        assert!(!parse("is:closed tag:vip").has_words());
        // The last one counts.
        assert_eq!(parse("is:open is:closed").open, Some(false));
    }

    #[test]
    fn what_is_not_a_filter_is_words() {
        assert_eq!(any("ratio 3:1"), w(&["ratio", "3", "1"]));
        assert_eq!(any("is:maybe"), w(&["is", "maybe"]));
        assert_eq!(any("status:"), w(&["status"]));
        assert_eq!(any("http://example.org"), w(&["http", "example.org"]));
        assert_eq!(any("say \"hello world\""), w(&["say", "hello", "world"]));
        // An unclosed quote runs to the end.
        assert_eq!(
            parse("status:\"waiting on").status.as_deref(),
            Some("waiting on")
        );
    }

    #[test]
    fn at_most_twelve_words_in_all() {
        let many: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
        let q = parse(&format!("{} from:olga", many.join(" ")));
        assert_eq!(q.terms.len(), MAX_WORDS);
        assert!(q.words_in(Field::From).is_empty(), "past the twelfth");
        assert_eq!(parse("from:olga a b").terms.len(), 3);
    }
}
