//! Notification mail to an agent: what happened on which ticket, the new part of the
//! message it is about, and a link to the ticket (pure; the clock and ids are passed
//! in). One mail tells of everything due for that agent at once.

use mail_send::mail_builder::headers::raw::Raw;
use mail_send::mail_builder::MessageBuilder;

use crate::desk::notify::Reason;
use crate::model::TicketId;

/// One thing to tell an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The ticket.
    pub ticket: TicketId,
    /// Its subject.
    pub subject: String,
    /// Why the agent hears of it.
    pub reason: Reason,
    /// Who did it as stored (`routing` for automatic assignment).
    pub actor: String,
    /// Who did it, in words.
    pub actor_name: String,
    /// The new part of the message it is about.
    pub excerpt: Option<String>,
    /// That message's direction (`inbound`, `outbound`, `note`), when it is about one.
    pub direction: Option<String>,
}

impl Notice {
    /// What a stored notification tells, its message cut to the new part.
    pub fn of(d: &crate::store::DueNotice) -> Notice {
        Notice {
            ticket: d.ticket,
            subject: d.subject.clone(),
            reason: d.reason,
            actor: d.actor.clone(),
            actor_name: d.actor_name.clone(),
            excerpt: d.text.as_deref().and_then(crate::desk::notify::excerpt),
            direction: d.direction.clone(),
        }
    }
}

/// Most characters of the message a desktop notification shows (it has a few lines).
const DESKTOP_CHARS: usize = 160;

/// A notification on the agent's screen: the headline as its title; the ticket's
/// subject and the start of the new part of the message as its text.
pub fn desktop(n: &Notice) -> (String, String) {
    let mut body = one_line(&n.subject);
    if let Some(excerpt) = &n.excerpt {
        let flat = excerpt.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut cut: String = flat.chars().take(DESKTOP_CHARS).collect();
        if cut.len() < flat.len() {
            cut.push('…');
        }
        body.push('\n');
        body.push_str(&cut);
    }
    (headline(n), body)
}

/// The actor that stands for automatic assignment.
pub const ROUTING: &str = "routing";

/// One line saying what happened ("Bea Kowalczyk mentioned you on ticket #42").
pub fn headline(n: &Notice) -> String {
    let who = one_line(&n.actor_name);
    let t = n.ticket;
    match n.reason {
        Reason::Assigned if n.actor == ROUTING => format!("Ticket #{t} was routed to you"),
        Reason::Assigned => format!("{who} assigned ticket #{t} to you"),
        Reason::CustomerReply => format!("{who} wrote on ticket #{t}"),
        Reason::Mention => format!("{who} mentioned you on ticket #{t}"),
        Reason::NewTicket => format!("New ticket #{t} from {who}; nobody owns it yet"),
        Reason::Followed => match n.direction.as_deref() {
            Some("inbound") => format!("{who} wrote on ticket #{t}, which you follow"),
            Some("outbound") => format!("{who} replied on ticket #{t}, which you follow"),
            Some("note") => format!("{who} added a note on ticket #{t}, which you follow"),
            _ => format!("Ticket #{t}, which you follow, changed"),
        },
        Reason::Overdue => format!("The answer to {who} on ticket #{t} is overdue"),
        Reason::BadRating if n.direction.as_deref() == Some("survey") => {
            format!("{who} rated the desk's help on your ticket #{t} \"Not good\"")
        }
        Reason::BadRating => format!("{who} rated your reply on ticket #{t} \"Not good\""),
    }
}

/// The subject: the one thing, or how many and on which tickets.
pub fn subject(notices: &[Notice]) -> String {
    match notices {
        [] => "Nothing new".into(),
        [one] => format!("{}: {}", headline(one), one_line(&one.subject)),
        many => {
            let mut tickets: Vec<TicketId> = many.iter().map(|n| n.ticket).collect();
            tickets.sort_unstable();
            tickets.dedup();
            let listed = match tickets.as_slice() {
                [one] => format!("ticket #{one}: {}", one_line(&many[0].subject)),
                [first, second] => format!("tickets #{first} and #{second}"),
                [first, second, third] => format!("tickets #{first}, #{second} and #{third}"),
                [first, second, rest @ ..] => {
                    format!("tickets #{first}, #{second} and {} more", rest.len())
                }
                [] => String::new(),
            };
            format!("{} updates on {listed}", many.len())
        }
    }
}

/// The text: a greeting, each notice with its link and excerpt, and where to change
/// what mail the agent gets. `base_url` has no trailing slash.
pub fn text(agent_name: &str, notices: &[Notice], base_url: &str) -> String {
    let first = agent_name.split_whitespace().next().unwrap_or("");
    let mut out = if first.is_empty() {
        "Hello,\n".to_string()
    } else {
        format!("Hello {first},\n")
    };
    for n in notices {
        out.push('\n');
        out.push_str(&format!("{}: {}\n", headline(n), one_line(&n.subject)));
        out.push_str(&format!("{base_url}/tickets/{}\n", n.ticket));
        if let Some(excerpt) = &n.excerpt {
            out.push('\n');
            for line in excerpt.lines() {
                if line.is_empty() {
                    out.push_str(">\n");
                } else {
                    out.push_str(&format!("> {line}\n"));
                }
            }
        }
    }
    out.push_str(&format!(
        "\n-- \nChoose which of these mails you get on your account page:\n{base_url}/me\n"
    ));
    out
}

/// Everything a notification mail is made of.
#[derive(Debug, Clone)]
pub struct NoticeInput<'a> {
    /// The agent's address.
    pub to: &'a str,
    /// The agent's name.
    pub to_name: &'a str,
    /// `[notifications] from`.
    pub from: &'a str,
    /// `[notifications] from_name`.
    pub from_name: &'a str,
    /// Where agents open the desk, without a trailing slash.
    pub base_url: &'a str,
    /// What to tell.
    pub notices: &'a [Notice],
    /// Our new Message-ID (without brackets).
    pub message_id: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// Build the mail, marked `Auto-Submitted: auto-generated` (RFC 3834) so the agent's
/// out-of-office does not answer it.
pub fn compose_notice(input: &NoticeInput<'_>) -> Result<Vec<u8>, std::io::Error> {
    MessageBuilder::new()
        .from((input.from_name.to_string(), input.from.to_string()))
        .to((input.to_name.to_string(), input.to.to_string()))
        .subject(subject(input.notices))
        .message_id(input.message_id.to_string())
        .date(input.now)
        .header("Auto-Submitted", Raw::new("auto-generated"))
        .header("X-Auto-Response-Suppress", Raw::new("All"))
        .text_body(text(input.to_name, input.notices, input.base_url))
        .write_to_vec()
}

/// Header-safe: line breaks in a subject or name become spaces.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_desktop_notification_has_the_headline_the_subject_and_the_start_of_the_message() {
        let mut n = notice(42, Reason::Mention, "bea@acme.test", "Bea Kowalczyk");
        n.subject = "Hinge\r\nbroken".into();
        n.excerpt = None;
        assert_eq!(
            desktop(&n),
            (
                "Bea Kowalczyk mentioned you on ticket #42".to_string(),
                "Hinge  broken".to_string()
            )
        );
        n.excerpt = Some("Can you call\n\nthe customer?".into());
        assert_eq!(desktop(&n).1, "Hinge  broken\nCan you call the customer?");
        n.excerpt = Some("é".repeat(400));
        let body = desktop(&n).1;
        let shown = body.split('\n').nth(1).unwrap();
        assert_eq!(shown.chars().count(), DESKTOP_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    fn notice(ticket: TicketId, reason: Reason, actor: &str, name: &str) -> Notice {
        Notice {
            ticket,
            subject: format!("Subject {ticket}"),
            reason,
            actor: actor.into(),
            actor_name: name.into(),
            excerpt: None,
            direction: None,
        }
    }

    #[test]
    fn headlines_say_who_did_what_on_which_ticket() {
        let cases = [
            (
                notice(42, Reason::Assigned, "bea@acme.test", "Bea Kowalczyk"),
                "Bea Kowalczyk assigned ticket #42 to you",
            ),
            (
                notice(42, Reason::Assigned, ROUTING, ROUTING),
                "Ticket #42 was routed to you",
            ),
            (
                notice(7, Reason::CustomerReply, "ines@customer.example", "Ines"),
                "Ines wrote on ticket #7",
            ),
            (
                notice(7, Reason::Mention, "bea@acme.test", "Bea Kowalczyk"),
                "Bea Kowalczyk mentioned you on ticket #7",
            ),
            (
                notice(9, Reason::NewTicket, "olga@customer.example", "Olga"),
                "New ticket #9 from Olga; nobody owns it yet",
            ),
            (
                notice(9, Reason::Overdue, "olga@customer.example", "Olga"),
                "The answer to Olga on ticket #9 is overdue",
            ),
            (
                notice(9, Reason::BadRating, "olga@customer.example", "Olga"),
                "Olga rated your reply on ticket #9 \"Not good\"",
            ),
        ];
        for (n, want) in cases {
            assert_eq!(headline(&n), want);
        }
        let survey = Notice {
            direction: Some("survey".into()),
            ..notice(9, Reason::BadRating, "olga@customer.example", "Olga")
        };
        assert_eq!(
            headline(&survey),
            "Olga rated the desk's help on your ticket #9 \"Not good\""
        );
        let followed = |direction: Option<&str>| Notice {
            direction: direction.map(str::to_string),
            ..notice(5, Reason::Followed, "x@acme.test", "Bea Kowalczyk")
        };
        for (direction, want) in [
            (
                Some("inbound"),
                "Bea Kowalczyk wrote on ticket #5, which you follow",
            ),
            (
                Some("outbound"),
                "Bea Kowalczyk replied on ticket #5, which you follow",
            ),
            (
                Some("note"),
                "Bea Kowalczyk added a note on ticket #5, which you follow",
            ),
            (None, "Ticket #5, which you follow, changed"),
        ] {
            assert_eq!(headline(&followed(direction)), want);
        }
    }

    #[test]
    fn one_notice_makes_the_subject_with_the_ticket_subject() {
        let n = notice(42, Reason::Mention, "b@acme.test", "Bea");
        assert_eq!(subject(&[n]), "Bea mentioned you on ticket #42: Subject 42");
    }

    #[test]
    fn several_notices_count_and_name_the_tickets() {
        let a = notice(42, Reason::CustomerReply, "i@x.example", "Ines");
        let b = notice(42, Reason::Mention, "b@acme.test", "Bea");
        assert_eq!(
            subject(&[a.clone(), b.clone()]),
            "2 updates on ticket #42: Subject 42"
        );
        let c = notice(7, Reason::Assigned, "b@acme.test", "Bea");
        assert_eq!(
            subject(&[a.clone(), c.clone(), b.clone()]),
            "3 updates on tickets #7 and #42"
        );
        let d = notice(9, Reason::NewTicket, "o@x.example", "Olga");
        let e = notice(11, Reason::NewTicket, "o@x.example", "Olga");
        assert_eq!(
            subject(&[a.clone(), c.clone(), d.clone()]),
            "3 updates on tickets #7, #9 and #42"
        );
        assert_eq!(
            subject(&[a, c, d, e]),
            "4 updates on tickets #7, #9 and 2 more"
        );
    }

    #[test]
    fn a_subject_with_a_line_break_stays_one_line() {
        let mut n = notice(
            1,
            Reason::Mention,
            "b@acme.test",
            "Bea\r\nBcc: x@evil.example",
        );
        n.subject = "Hi\r\nBcc: y@evil.example".into();
        let s = subject(&[n]);
        assert!(!s.contains('\n') && !s.contains('\r'), "{s}");
    }

    #[test]
    fn the_text_links_each_ticket_and_quotes_the_excerpt() {
        let mut n = notice(42, Reason::Mention, "b@acme.test", "Bea Kowalczyk");
        n.excerpt = Some("@jane can you look?\n\nThe toner.".into());
        let t = text("Jane Doe", &[n], "https://desk.acme.test");
        assert!(t.starts_with("Hello Jane,\n"), "{t}");
        assert!(t.contains(
            "Bea Kowalczyk mentioned you on ticket #42: Subject 42\nhttps://desk.acme.test/tickets/42\n"
        ));
        assert!(
            t.contains("\n> @jane can you look?\n>\n> The toner.\n"),
            "{t}"
        );
        assert!(
            t.ends_with("account page:\nhttps://desk.acme.test/me\n"),
            "{t}"
        );
    }

    #[test]
    fn the_mail_is_marked_automatic_and_goes_to_the_agent() {
        let n = notice(42, Reason::Assigned, "b@acme.test", "Bea");
        let raw = compose_notice(&NoticeInput {
            to: "jane@acme.test",
            to_name: "Jane Doe",
            from: "desk-noreply@acme.test",
            from_name: "Acme desk",
            base_url: "http://127.0.0.1:8025",
            notices: &[n],
            message_id: "1.abc@acme.test",
            now: 1_700_000_000,
        })
        .unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed.subject(),
            Some("Bea assigned ticket #42 to you: Subject 42")
        );
        assert_eq!(
            parsed
                .from()
                .and_then(|f| f.first())
                .and_then(|a| a.address()),
            Some("desk-noreply@acme.test")
        );
        assert_eq!(
            parsed
                .to()
                .and_then(|f| f.first())
                .and_then(|a| a.address()),
            Some("jane@acme.test")
        );
        let head = String::from_utf8_lossy(&raw);
        assert!(
            head.contains("Auto-Submitted: auto-generated\r\n"),
            "{head}"
        );
        assert!(parsed
            .body_text(0)
            .unwrap()
            .contains("http://127.0.0.1:8025/tickets/42"));
    }
}
