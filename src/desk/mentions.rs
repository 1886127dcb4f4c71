//! Mentions: an internal note names a colleague with `@` to bring the ticket to them.

/// An agent a note can mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mentionable<'a> {
    /// Login address.
    pub email: &'a str,
    /// First name.
    pub first_name: &'a str,
}

/// The agents `text` mentions, each once, in the order first mentioned.
///
/// `@jane@acme.test` names an agent by address; `@jane` by the part of an address before
/// the `@` or by a first name, case-insensitively. A word more than one agent answers
/// to, or none does, mentions no one (so `@home` or `@everyone` stay words). An `@`
/// inside a word (`mail jane@acme.test`) is an address, not a mention.
pub fn mentioned<'a>(text: &str, agents: &[Mentionable<'a>]) -> Vec<&'a str> {
    let mut found: Vec<&'a str> = Vec::new();
    for word in mention_words(text) {
        let word = word.to_lowercase();
        let mut matches = agents.iter().filter(|a| answers_to(a, &word));
        let (Some(first), None) = (matches.next(), matches.next()) else {
            continue;
        };
        if !found.contains(&first.email) {
            found.push(first.email);
        }
    }
    found
}

/// The shortest word after an `@` that mentions exactly this agent among `agents`:
/// their first name, else the part of their address before the `@`, else the whole
/// address (what the note box's suggestions insert).
pub fn handle(agent: &Mentionable<'_>, agents: &[Mentionable<'_>]) -> String {
    let local = agent.email.split('@').next().unwrap_or("");
    [agent.first_name, local]
        .into_iter()
        .map(str::to_lowercase)
        .find(|word| {
            !word.is_empty()
                && mention_words(&format!("@{word}")) == [word.as_str()]
                && agents.iter().filter(|a| answers_to(a, word)).count() == 1
        })
        .unwrap_or_else(|| agent.email.to_lowercase())
}

/// Whether the agent answers to the (lower-case) word after an `@`.
fn answers_to(agent: &Mentionable<'_>, word: &str) -> bool {
    let email = agent.email.to_lowercase();
    if word.contains('@') {
        return email == word;
    }
    let local = email.split('@').next().unwrap_or("");
    local == word || agent.first_name.to_lowercase() == word
}

/// The words after each `@` that starts a word, without trailing punctuation.
fn mention_words(text: &str) -> Vec<&str> {
    let part_of_word = |c: char| c.is_alphanumeric() || "._%+-@".contains(c);
    let mut words = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts_word = previous.is_none_or(|p| !part_of_word(p));
        previous = Some(c);
        if c != '@' || !starts_word {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest.find(|c: char| !part_of_word(c)).unwrap_or(rest.len());
        let word = rest[..end].trim_end_matches(['.', '-', '_', '@', '%', '+']);
        if !word.is_empty() {
            words.push(word);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGENTS: [Mentionable<'static>; 4] = [
        Mentionable {
            email: "jane@acme.test",
            first_name: "Jane",
        },
        Mentionable {
            email: "bea.k@acme.test",
            first_name: "Bea",
        },
        Mentionable {
            email: "al@acme.test",
            first_name: "Alex",
        },
        Mentionable {
            email: "alex@acme.test",
            first_name: "Alexander",
        },
    ];

    fn m(text: &str) -> Vec<&'static str> {
        mentioned(text, &AGENTS)
    }

    #[test]
    fn a_first_name_or_address_part_mentions_its_agent() {
        assert_eq!(m("@jane can you check?"), ["jane@acme.test"]);
        assert_eq!(m("@Bea, the invoice"), ["bea.k@acme.test"]);
        assert_eq!(m("ask @bea.k about it"), ["bea.k@acme.test"]);
        assert_eq!(m("@JANE"), ["jane@acme.test"]);
    }

    #[test]
    fn a_whole_address_mentions_exactly_that_agent() {
        assert_eq!(m("@alex@acme.test please"), ["alex@acme.test"]);
        assert_eq!(m("@al@acme.test."), ["al@acme.test"]);
        assert!(m("@jane@other.test").is_empty());
    }

    #[test]
    fn a_name_two_agents_answer_to_mentions_no_one() {
        // "alex" is Alex Morgan's first name and Alexander Brandt's address part.
        assert!(m("@alex what do you think").is_empty());
        assert_eq!(m("@al"), ["al@acme.test"]);
    }

    #[test]
    fn trailing_punctuation_is_not_part_of_the_name() {
        assert_eq!(m("Thanks @jane."), ["jane@acme.test"]);
        assert_eq!(m("(@jane)"), ["jane@acme.test"]);
        assert_eq!(m("@jane: done"), ["jane@acme.test"]);
        assert_eq!(m("@jane's call"), ["jane@acme.test"]);
    }

    #[test]
    fn an_address_in_the_text_is_not_a_mention() {
        assert!(m("the customer wrote from jane@acme.test").is_empty());
        assert!(m("x@jane").is_empty());
        assert!(m("a.b@bea").is_empty());
    }

    #[test]
    fn unknown_names_and_lone_signs_mention_no_one() {
        assert!(m("@everyone @home @ @@ @.").is_empty());
        assert!(m("").is_empty());
        assert!(m("no mention here").is_empty());
    }

    #[test]
    fn each_agent_once_in_the_order_first_mentioned() {
        assert_eq!(
            m("@bea and @jane, then @Jane again and @bea.k"),
            ["bea.k@acme.test", "jane@acme.test"]
        );
    }

    #[test]
    fn each_agents_handle_mentions_them_and_no_one_else() {
        let handles: Vec<String> = AGENTS.iter().map(|a| handle(a, &AGENTS)).collect();
        assert_eq!(handles, ["jane", "bea", "al", "alexander"]);
        for (agent, handle) in AGENTS.iter().zip(&handles) {
            assert_eq!(m(&format!("@{handle} look")), [agent.email], "{handle}");
        }
        // Two agents with the same first name and address part: only the address works.
        let twins = [
            Mentionable {
                email: "sam@a.test",
                first_name: "Sam",
            },
            Mentionable {
                email: "sam@b.test",
                first_name: "Sam",
            },
        ];
        assert_eq!(handle(&twins[0], &twins), "sam@a.test");
        assert_eq!(mentioned("@sam@b.test", &twins), ["sam@b.test"]);
        // A first name with a space or a sign in it is not one word after the `@`.
        let spaced = [Mentionable {
            email: "mj@a.test",
            first_name: "Mary Jo",
        }];
        assert_eq!(handle(&spaced[0], &spaced), "mj");
    }

    #[test]
    fn names_in_other_scripts_and_at_line_starts() {
        let agents = [Mentionable {
            email: "zoe@acme.test",
            first_name: "Zoë",
        }];
        assert_eq!(
            mentioned("first line\n@zoë look", &agents),
            ["zoe@acme.test"]
        );
        assert_eq!(mentioned("@zoe", &agents), ["zoe@acme.test"]);
        assert!(mentioned("@zoëx", &agents).is_empty());
    }
}
