//! A ticket's subject as an agent renames it: one line, trimmed, not empty, not long.

/// Most characters a subject an agent gives may have.
pub const MAX_SUBJECT: usize = 200;

/// Why a new subject was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    /// Nothing but spaces.
    #[error("the subject is empty")]
    Empty,
    /// Over [`MAX_SUBJECT`] characters.
    #[error("the subject is longer than {MAX_SUBJECT} characters")]
    TooLong,
}

/// The subject as it will be kept: line breaks, tabs and other control characters become
/// spaces (a subject is one header line), runs of spaces one, and the ends trimmed.
pub fn clean(typed: &str) -> Result<String, SubjectError> {
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
    if out.is_empty() {
        return Err(SubjectError::Empty);
    }
    if out.chars().count() > MAX_SUBJECT {
        return Err(SubjectError::TooLong);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{clean, SubjectError, MAX_SUBJECT};

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
    fn long_is_refused_by_characters_not_bytes() {
        let most = "é".repeat(MAX_SUBJECT);
        assert_eq!(clean(&most).as_deref(), Ok(most.as_str()));
        assert_eq!(clean(&format!("{most}x")), Err(SubjectError::TooLong));
    }
}
