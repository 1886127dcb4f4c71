//! What agents type as a ticket's subject or a contact's name: one line, trimmed, not
//! long; a subject is never empty, a name may be (it clears the name). A note about a
//! contact keeps its lines.

/// Most characters a subject an agent gives may have.
pub const MAX_SUBJECT: usize = 200;

/// Why a subject or name was refused (the words follow "the subject" or "the name").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Nothing but spaces.
    #[error("is empty")]
    Empty,
    /// Over [`MAX_SUBJECT`] characters.
    #[error("is longer than {MAX_SUBJECT} characters")]
    TooLong,
}

/// Reply prefixes of several languages, lower case.
pub const REPLY_PREFIXES: &[&str] = &["re:", "aw:", "sv:", "antw:", "réf:"];
/// Reply and forward prefixes, lower case.
pub const FORWARD_PREFIXES: &[&str] = &["re:", "aw:", "sv:", "antw:", "réf:", "fwd:", "fw:", "wg:"];

/// `subject` without the leading `prefixes` (lower case; matched in any case, as often
/// as they repeat: "Re: AW: x" is "x"), trimmed.
pub fn without_prefixes<'a>(subject: &'a str, prefixes: &[&str]) -> &'a str {
    let mut base = subject.trim();
    while let Some(rest) = prefixes.iter().find_map(|p| {
        base.get(..p.len())
            .filter(|head| head.to_lowercase() == *p)
            .map(|_| base[p.len()..].trim_start())
    }) {
        base = rest;
    }
    base
}

/// The subject of a ticket split off from another, from its mail's subject: no reply or
/// forward prefixes, no ticket tags (`[#12-abc]`, the old ticket's), spaces cleaned.
pub fn split_off(mail_subject: &str) -> String {
    let mut untagged = String::with_capacity(mail_subject.len());
    let mut rest = mail_subject;
    while let Some(at) = rest.find("[#") {
        untagged.push_str(&rest[..at]);
        match rest[at..].find(']') {
            Some(end) => rest = &rest[at + end + 1..],
            None => {
                untagged.push_str(&rest[at..]);
                rest = "";
            }
        }
    }
    untagged.push_str(rest);
    let base = without_prefixes(&untagged, FORWARD_PREFIXES);
    let cleaned: String = base.chars().take(MAX_SUBJECT).collect();
    clean(&cleaned).unwrap_or_else(|_| "(no subject)".into())
}

/// The subject as it will be kept: line breaks, tabs and other control characters become
/// spaces (a subject is one header line), runs of spaces one, and the ends trimmed.
pub fn clean(typed: &str) -> Result<String, SubjectError> {
    match contact_name(typed)? {
        Some(line) => Ok(line),
        None => Err(SubjectError::Empty),
    }
}

/// A contact's name as it will be kept, cleaned as a subject is; `None` (no name) when
/// nothing but spaces was typed. Names go into From and To headers and greetings.
pub fn contact_name(typed: &str) -> Result<Option<String>, SubjectError> {
    let mut out = String::with_capacity(typed.len());
    for word in typed
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > MAX_SUBJECT {
        return Err(SubjectError::TooLong);
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Most characters a note about a contact may have.
pub const MAX_CONTACT_NOTE: usize = 2000;

/// Why a note about a contact was refused (the words follow "the note").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Over [`MAX_CONTACT_NOTE`] characters.
    #[error("is longer than {MAX_CONTACT_NOTE} characters")]
    TooLong,
}

/// A note about a contact as it will be kept: its lines (line ends as `\n`), each
/// without trailing spaces, other control characters as spaces, trimmed. Empty clears
/// the note.
pub fn contact_note(typed: &str) -> Result<String, NoteError> {
    let lines: Vec<String> = typed
        .replace("\r\n", "\n")
        .split(['\n', '\r'])
        .map(|line| {
            line.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    let note = lines.join("\n").trim().to_string();
    if note.chars().count() > MAX_CONTACT_NOTE {
        return Err(NoteError::TooLong);
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::{
        clean, contact_note, split_off, without_prefixes, NoteError, SubjectError,
        FORWARD_PREFIXES, MAX_CONTACT_NOTE, MAX_SUBJECT, REPLY_PREFIXES,
    };

    #[test]
    fn a_contact_note_keeps_its_lines_and_nothing_else() {
        assert_eq!(
            contact_note("\r\n  Prefers phone.  \r\n\r\nContract 4711\tgold\u{7}\n\n").as_deref(),
            Ok("Prefers phone.\n\nContract 4711 gold")
        );
        assert_eq!(contact_note("   \n ").as_deref(), Ok(""), "cleared");
        assert_eq!(
            contact_note(&"é".repeat(MAX_CONTACT_NOTE)).map(|n| n.chars().count()),
            Ok(MAX_CONTACT_NOTE)
        );
        assert_eq!(
            contact_note(&"é".repeat(MAX_CONTACT_NOTE + 1)),
            Err(NoteError::TooLong)
        );
    }

    #[test]
    fn a_plain_subject_stays_as_typed() {
        assert_eq!(
            clean("Printer jam, floor 3").as_deref(),
            Ok("Printer jam, floor 3")
        );
    }

    #[test]
    fn ends_are_trimmed_and_inner_spaces_kept_single() {
        assert_eq!(clean("  Printer   jam \t").as_deref(), Ok("Printer jam"));
    }

    #[test]
    fn line_breaks_and_control_characters_cannot_reach_a_header() {
        assert_eq!(
            clean("Printer\r\nBcc: evil@example.org").as_deref(),
            Ok("Printer Bcc: evil@example.org")
        );
        assert_eq!(clean("a\u{0}b\u{1b}c").as_deref(), Ok("a b c"));
    }

    #[test]
    fn empty_is_refused() {
        assert_eq!(clean(""), Err(SubjectError::Empty));
        assert_eq!(clean(" \r\n\t "), Err(SubjectError::Empty));
    }

    #[test]
    fn a_name_is_one_clean_line_or_none() {
        use super::contact_name;
        assert_eq!(
            contact_name("  Olga \r\n Ortiz "),
            Ok(Some("Olga Ortiz".into()))
        );
        assert_eq!(contact_name(" \t "), Ok(None));
        assert_eq!(
            contact_name(&"x".repeat(MAX_SUBJECT + 1)),
            Err(SubjectError::TooLong)
        );
    }

    #[test]
    fn long_is_refused_by_characters_not_bytes() {
        let most = "é".repeat(MAX_SUBJECT);
        assert_eq!(clean(&most).as_deref(), Ok(most.as_str()));
        assert_eq!(clean(&format!("{most}x")), Err(SubjectError::TooLong));
    }

    #[test]
    fn prefixes_go_however_they_are_written_and_however_often() {
        assert_eq!(without_prefixes("Re: AW: hinge", REPLY_PREFIXES), "hinge");
        assert_eq!(without_prefixes("RE:re:  hinge", REPLY_PREFIXES), "hinge");
        assert_eq!(without_prefixes("Réf: x", REPLY_PREFIXES), "x");
        assert_eq!(without_prefixes("RÉF: x", REPLY_PREFIXES), "x");
        assert_eq!(without_prefixes("Fwd: Re: x", REPLY_PREFIXES), "Fwd: Re: x");
        assert_eq!(without_prefixes("Fwd: Re: x", FORWARD_PREFIXES), "x");
        assert_eq!(
            without_prefixes("Regarding x", REPLY_PREFIXES),
            "Regarding x"
        );
        assert_eq!(without_prefixes("Re:", REPLY_PREFIXES), "");
        assert_eq!(without_prefixes("ü", REPLY_PREFIXES), "ü");
    }

    #[test]
    fn a_split_off_ticket_takes_the_subject_without_prefixes_or_old_tags() {
        assert_eq!(split_off("Re: Broken hinge [#12-abc]"), "Broken hinge");
        assert_eq!(split_off("AW: [#3-x] Invoice copy"), "Invoice copy");
        assert_eq!(split_off("Re: a [#1-x] b [#2-y]"), "a b");
        assert_eq!(split_off("Re: [#unclosed tag"), "[#unclosed tag");
        assert_eq!(split_off("Re: [#1-x]"), "(no subject)");
        assert_eq!(split_off("  "), "(no subject)");
        assert_eq!(split_off("Re: line\r\nbreak"), "line break");
        assert_eq!(split_off(&"x".repeat(500)).len(), MAX_SUBJECT);
    }
}
