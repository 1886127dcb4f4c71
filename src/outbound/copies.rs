//! The Cc line of a reply: the addresses an agent typed (or kept from the ticket's
//! other people), checked, each once.

use crate::config::{is_valid_address, strip_subaddress};
use crate::ingest::parse::Mailbox;
use crate::store::{ParticipantView, UserView};

/// Most copies one reply may carry.
pub const MAX_COPIES: usize = 20;

/// Why a Cc (or a forward's To) line was refused (nothing is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopiesError {
    /// A piece that is not one mail address.
    #[error("{0:?} is not a mail address")]
    NotAnAddress(String),
    /// One of the desk's own channel addresses: the copy would come back in as mail.
    #[error("{0} is one of our own addresses (the copy would come back as new mail)")]
    OwnAddress(String),
    /// More than [`MAX_COPIES`].
    #[error("at most {MAX_COPIES} addresses per message")]
    TooMany,
    /// A new ticket's To line without an address.
    #[error("say whom to write to")]
    Nobody,
    /// A new ticket's To line with more than one address.
    #[error("write to one customer (put the others in Cc)")]
    Several,
}

/// The customer a new ticket's first mail goes to, from its To line: one address, or
/// `Name <address>` (the name kept, quotes taken off); in lower case as contacts are
/// kept, and none of `own` (as [`copies`] takes them).
pub fn addressee(typed: &str, own: &[String]) -> Result<Mailbox, CopiesError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(CopiesError::Nobody);
    }
    // The name may hold commas ("Petrova, Olga" <olga@…>): it is not split.
    let (name, addresses) = match typed.rsplit_once('<') {
        Some((name, _)) => (name.trim().trim_matches('"').trim(), addresses_in(typed)?),
        None if typed.contains([',', ';']) => return Err(CopiesError::Several),
        None => ("", addresses_in(typed)?),
    };
    let [address] = addresses.as_slice() else {
        return Err(CopiesError::Several);
    };
    if is_own(address, own) {
        return Err(CopiesError::OwnAddress(address.to_string()));
    }
    Ok(Mailbox {
        name: (!name.is_empty()).then(|| name.to_string()),
        email: address.to_lowercase(),
    })
}

/// The copies of a reply to `to`: every address in `typed` (each entry may hold several,
/// separated by commas, semicolons or spaces; `Name <address>` counts as the address), in
/// the order typed, in lower case as contacts are kept, each once, and without `to`
/// itself (the customer gets the reply anyway). `own` holds the channel addresses,
/// without subaddress.
pub fn copies<'a>(
    typed: impl IntoIterator<Item = &'a str>,
    to: &str,
    own: &[String],
) -> Result<Vec<String>, CopiesError> {
    let mut out: Vec<String> = Vec::new();
    for entry in typed {
        for piece in entry.split([',', ';']) {
            for address in addresses_in(piece)? {
                let lower = address.to_lowercase();
                if is_own(&lower, own) {
                    return Err(CopiesError::OwnAddress(address.to_string()));
                }
                if lower == to.to_lowercase() || out.contains(&lower) {
                    continue;
                }
                out.push(lower);
            }
        }
    }
    if out.len() > MAX_COPIES {
        return Err(CopiesError::TooMany);
    }
    Ok(out)
}

/// Who a reply keeps in copy unless the agent changes it, as mail programs' "reply all":
/// the ticket's other people (from its mail's To and Cc, or copied on an earlier reply),
/// not the customer, not a colleague who forwarded it, not an agent, none of our own
/// addresses (`own`, as [`copies`] takes them), nothing that is not a usable address,
/// nobody an agent took out of the Cc box since they last wrote.
pub fn kept<'a>(
    people: &'a [ParticipantView],
    agents: &[UserView],
    own: &[String],
) -> Vec<&'a str> {
    people
        .iter()
        .filter(|p| p.role == "participant")
        // An agent took them out of an earlier reply's Cc box.
        .filter(|p| p.copied)
        // A channel added after the mail came makes one of its people our own.
        .filter(|p| !is_own(&p.email, own))
        // An address a sender's headers got wrong would refuse every reply until the
        // agent took it out: it is not offered.
        .filter(|p| is_valid_address(&p.email))
        .filter(|p| {
            !agents
                .iter()
                .any(|a| a.email.eq_ignore_ascii_case(&p.email))
        })
        .map(|p| p.email.as_str())
        .collect()
}

/// True when `address` is one of `own`, with or without a subaddress.
fn is_own(address: &str, own: &[String]) -> bool {
    let bare = strip_subaddress(&address.to_lowercase());
    own.iter().any(|o| o.eq_ignore_ascii_case(&bare))
}

/// The addresses in one comma-free piece: the one in angle brackets when there are
/// brackets (the words before them are a name), else every space-separated word.
fn addresses_in(piece: &str) -> Result<Vec<&str>, CopiesError> {
    let piece = piece.trim();
    if let Some((_, rest)) = piece.split_once('<') {
        let inner = rest
            .strip_suffix('>')
            .filter(|a| is_valid_address(a.trim()))
            .ok_or_else(|| CopiesError::NotAnAddress(piece.to_string()))?;
        return Ok(vec![inner.trim()]);
    }
    piece
        .split_whitespace()
        .map(|word| {
            if is_valid_address(word) {
                Ok(word)
            } else {
                Err(CopiesError::NotAnAddress(word.to_string()))
            }
        })
        .collect()
}

/// Whom the agent took out of the Cc box: the addresses `offered` there (as [`kept`]
/// filled it, one line) that are not among the reply's final `copies`. Nothing when the
/// line cannot be read (it came from our own page).
pub fn left_out(offered: &str, copies: &[String], to: &str, own: &[String]) -> Vec<String> {
    self::copies([offered], to, own)
        .map(|o| o.into_iter().filter(|a| !copies.contains(a)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{addressee, copies, left_out, CopiesError, MAX_COPIES};
    use crate::ingest::parse::Mailbox;

    fn to(typed: &str) -> Result<Mailbox, CopiesError> {
        addressee(typed, &own())
    }

    fn person(name: Option<&str>, email: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_string),
            email: email.into(),
        }
    }

    #[test]
    fn a_new_tickets_customer_is_one_address_with_or_without_a_name() {
        assert_eq!(
            to(" Olga@Customer.org "),
            Ok(person(None, "olga@customer.org"))
        );
        assert_eq!(
            to("Olga Petrova <olga@customer.org>"),
            Ok(person(Some("Olga Petrova"), "olga@customer.org"))
        );
        assert_eq!(
            to("\"Petrova, Olga\" <olga@customer.org>"),
            Ok(person(Some("Petrova, Olga"), "olga@customer.org"))
        );
        assert_eq!(
            to("<olga@customer.org>"),
            Ok(person(None, "olga@customer.org"))
        );
    }

    #[test]
    fn a_new_tickets_customer_is_refused_in_words() {
        assert_eq!(to(""), Err(CopiesError::Nobody));
        assert_eq!(to("   "), Err(CopiesError::Nobody));
        assert_eq!(
            to("olga@customer.org, ivan@customer.org"),
            Err(CopiesError::Several)
        );
        assert_eq!(
            to("olga@customer.org ivan@customer.org"),
            Err(CopiesError::Several)
        );
        assert!(matches!(to("olga"), Err(CopiesError::NotAnAddress(_))));
        assert!(matches!(
            to("Olga <olga@>"),
            Err(CopiesError::NotAnAddress(_))
        ));
        assert_eq!(
            to("Support+x@Example.com"),
            Err(CopiesError::OwnAddress("Support+x@Example.com".into()))
        );
        assert_eq!(
            CopiesError::Several.to_string(),
            "write to one customer (put the others in Cc)"
        );
    }

    fn own() -> Vec<String> {
        vec!["support@example.com".into(), "billing@example.com".into()]
    }

    fn cc(typed: &[&str]) -> Result<Vec<String>, CopiesError> {
        copies(typed.iter().copied(), "olga@customer.org", &own())
    }

    #[test]
    fn nothing_typed_is_no_copies() {
        assert_eq!(cc(&[]), Ok(vec![]));
        assert_eq!(cc(&["", "  ", ",;"]), Ok(vec![]));
    }

    #[test]
    fn commas_semicolons_and_spaces_separate_addresses() {
        assert_eq!(
            cc(&["a@x.org, b@y.org;c@z.org  d@w.org"]),
            Ok(vec![
                "a@x.org".to_string(),
                "b@y.org".into(),
                "c@z.org".into(),
                "d@w.org".into()
            ])
        );
    }

    #[test]
    fn a_name_with_the_address_in_brackets_gives_the_address() {
        assert_eq!(
            cc(&["Anna Berg <anna@x.org>, <bo@y.org>"]),
            Ok(vec!["anna@x.org".to_string(), "bo@y.org".into()])
        );
    }

    #[test]
    fn each_address_once_in_lower_case_and_never_the_customer() {
        assert_eq!(
            cc(&["Anna@X.org, a@x.org", "anna@x.org", "Olga@Customer.org"]),
            Ok(vec!["anna@x.org".to_string(), "a@x.org".into()])
        );
    }

    #[test]
    fn each_entry_of_a_list_is_read_alike() {
        // frontdeskctl's repeated --cc and the page's one box give the same result.
        assert_eq!(cc(&["a@x.org", "b@y.org"]), cc(&["a@x.org, b@y.org"]));
    }

    #[test]
    fn words_that_are_not_addresses_are_refused_by_name() {
        assert_eq!(
            cc(&["a@x.org, Anna"]),
            Err(CopiesError::NotAnAddress("Anna".into()))
        );
        assert_eq!(
            cc(&["anna@localhost"]),
            Err(CopiesError::NotAnAddress("anna@localhost".into()))
        );
        assert_eq!(
            cc(&["Anna <anna@x.org"]),
            Err(CopiesError::NotAnAddress("Anna <anna@x.org".into()))
        );
        assert_eq!(cc(&["<>"]), Err(CopiesError::NotAnAddress("<>".into())));
        assert!(cc(&["a@x.org\r\nBcc: evil@y.org"]).is_err());
    }

    #[test]
    fn our_own_addresses_are_refused_with_or_without_a_subaddress() {
        for own in [
            "support@example.com",
            "Billing@Example.com",
            "support+t42@example.com",
        ] {
            assert_eq!(
                cc(&[own]),
                Err(CopiesError::OwnAddress(own.to_string())),
                "{own}"
            );
        }
    }

    #[test]
    fn a_reply_keeps_the_other_people_but_not_agents_or_forwarders() {
        let person = |email: &str, role: &str| crate::store::ParticipantView {
            email: email.into(),
            name: None,
            role: role.into(),
            copied: email != "left@customer.org",
        };
        let people = vec![
            person("olga@customer.org", "customer"),
            person("anna@customer.org", "participant"),
            person("jane@acme.test", "participant"),
            person("fwd@acme.test", "forwarder"),
            person("bo@customer.org", "participant"),
            person("undisclosed-recipients", "participant"),
            person("someone@localhost", "participant"),
            person("support+t9@example.com", "participant"),
            person("left@customer.org", "participant"),
        ];
        let jane = crate::store::UserView {
            email: "Jane@acme.test".into(),
            full_name: "Jane Doe".into(),
            first_name: "Jane".into(),
            last_name: "Doe".into(),
            admin: false,
            seat: true,
            available: true,
            active: true,
            notify: String::new(),
            signature: String::new(),
            two_step: false,
        };
        assert_eq!(
            super::kept(&people, &[jane], &own()),
            ["anna@customer.org", "bo@customer.org"]
        );
        assert!(super::kept(&people[..1], &[], &own()).is_empty());
    }

    #[test]
    fn left_out_are_the_offered_not_kept() {
        let kept = vec!["bo@customer.org".to_string()];
        assert_eq!(
            left_out(
                "anna@customer.org, Bo <BO@customer.org>",
                &kept,
                "olga@customer.org",
                &own()
            ),
            ["anna@customer.org"]
        );
        // Nothing offered, or all kept, or a line that is not ours: nobody.
        assert!(left_out("", &kept, "olga@customer.org", &own()).is_empty());
        assert!(left_out("bo@customer.org", &kept, "olga@customer.org", &own()).is_empty());
        assert!(left_out(
            "anna@customer.org, not one",
            &[],
            "olga@customer.org",
            &own()
        )
        .is_empty());
        // The customer is never "left out": the reply goes to her.
        assert!(left_out("olga@customer.org", &[], "olga@customer.org", &own()).is_empty());
    }

    #[test]
    fn at_most_the_limit() {
        let many: Vec<String> = (0..=MAX_COPIES).map(|i| format!("p{i}@x.org")).collect();
        let typed: Vec<&str> = many.iter().map(String::as_str).collect();
        assert_eq!(cc(&typed), Err(CopiesError::TooMany));
        assert_eq!(cc(&typed[..MAX_COPIES]).map(|c| c.len()), Ok(MAX_COPIES));
    }
}
