//! Ticket fields (`[[ticket_field]]`, pure): what a desk records about each ticket
//! beyond its own columns — HubSpot's ticket properties, Zammad's object attributes
//! ("Order number", "Product", "Renewal date"). Each field has a kind that says what
//! its values may be; what an agent types is checked and kept in one spelling.

/// Longest value of a field, in characters.
pub const MAX_VALUE: usize = 200;
/// Longest field name, in characters (it labels a box in the ticket's panel).
pub const MAX_NAME: usize = 40;

/// What a field's values may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// One line of text.
    Text,
    /// A number: digits, a sign, a decimal point ("12", "-3.5").
    Number,
    /// One of these, as the config spells them.
    Choice(Vec<String>),
    /// A day, `YYYY-MM-DD`.
    Date,
}

impl Kind {
    /// The kind's name in the config (`kind = "..."`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Number => "number",
            Kind::Choice(_) => "choice",
            Kind::Date => "date",
        }
    }
}

/// One `[[ticket_field]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// Its name, as agents read it.
    pub name: String,
    /// What its values may be.
    pub kind: Kind,
    /// Inbox rows show its value (`in_inbox = true`).
    pub in_inbox: bool,
}

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Longer than [`MAX_VALUE`].
    #[error("{0}: longer than {MAX_VALUE} characters")]
    TooLong(String),
    /// Holds a line break or another control character.
    #[error("{0}: one line of text, without control characters")]
    NotOneLine(String),
    /// Not a number.
    #[error("{0}: {1:?} is not a number (digits, with a sign or a decimal point)")]
    NotANumber(String, String),
    /// Not one of the choices.
    #[error("{0}: {1:?} is not one of {2}")]
    NotAChoice(String, String, String),
    /// Not a day.
    #[error("{0}: {1:?} is not a day (YYYY-MM-DD)")]
    NotADate(String, String),
    /// No such field.
    #[error("no ticket field named {0:?}")]
    Unknown(String),
}

/// The field named `name` (letter case aside).
pub fn find<'a>(defs: &'a [FieldDef], name: &str) -> Option<&'a FieldDef> {
    let name = name.trim();
    defs.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// The value to keep for what was typed into `def`: `None` (an empty box) clears the
/// field; a choice is kept as the config spells it, a number without needless signs.
pub fn check(def: &FieldDef, typed: &str) -> Result<Option<String>, FieldError> {
    let value = typed.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let name = || def.name.clone();
    if value.chars().any(char::is_control) {
        return Err(FieldError::NotOneLine(name()));
    }
    if value.chars().count() > MAX_VALUE {
        return Err(FieldError::TooLong(name()));
    }
    match &def.kind {
        Kind::Text => Ok(Some(value.to_string())),
        Kind::Number => number(value)
            .map(Some)
            .ok_or_else(|| FieldError::NotANumber(name(), value.to_string())),
        Kind::Choice(choices) => choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value))
            .map(|c| Some(c.clone()))
            .ok_or_else(|| FieldError::NotAChoice(name(), value.to_string(), choices.join(", "))),
        Kind::Date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(value, format)
                .ok()
                .filter(|_| value.len() == 10)
                .map(|_| Some(value.to_string()))
                .ok_or_else(|| FieldError::NotADate(name(), value.to_string()))
        }
    }
}

/// `text` as a number's one spelling ("+12" → "12", "0.50" stays): digits with at most
/// one decimal point and a leading sign; `None` when it is not one.
fn number(text: &str) -> Option<String> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'-' => ("-", &text[1..]),
        b'+' => ("", &text[1..]),
        _ => ("", text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let fine = !whole.is_empty()
        && all_digits(whole)
        && fraction.is_none_or(|f| !f.is_empty() && all_digits(f));
    fine.then(|| format!("{sign}{digits}"))
}

/// The history's words for a field's change: "Order number: 4711", "Order number: 4711
/// → 4712", "Order number removed (was 4711)".
pub fn change_words(name: &str, before: Option<&str>, after: Option<&str>) -> String {
    match (before, after) {
        (None, Some(new)) => format!("{name}: {new}"),
        (Some(old), Some(new)) => format!("{name}: {old} → {new}"),
        (Some(old), None) => format!("{name} removed (was {old})"),
        (None, None) => format!("{name} unchanged"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: Kind) -> FieldDef {
        FieldDef {
            name: "Order number".into(),
            kind,
            in_inbox: false,
        }
    }

    #[test]
    fn text_is_one_trimmed_line_and_empty_clears() {
        let d = def(Kind::Text);
        assert_eq!(check(&d, "  A-4711 "), Ok(Some("A-4711".into())));
        assert_eq!(check(&d, "   "), Ok(None));
        assert_eq!(check(&d, ""), Ok(None));
        assert_eq!(
            check(&d, "one\ntwo"),
            Err(FieldError::NotOneLine("Order number".into()))
        );
        assert_eq!(
            check(&d, "tab\there"),
            Err(FieldError::NotOneLine("Order number".into()))
        );
        assert_eq!(
            check(&d, &"é".repeat(MAX_VALUE)).map(|v| v.map(|v| v.chars().count())),
            Ok(Some(MAX_VALUE))
        );
        assert_eq!(
            check(&d, &"x".repeat(MAX_VALUE + 1)),
            Err(FieldError::TooLong("Order number".into()))
        );
        assert_eq!(
            check(&d, "<b>bold</b>"),
            Ok(Some("<b>bold</b>".into())),
            "kept as typed; the page escapes it"
        );
    }

    #[test]
    fn numbers_take_a_sign_and_one_decimal_point() {
        let d = def(Kind::Number);
        for (typed, kept) in [
            ("12", "12"),
            ("+12", "12"),
            ("-3.5", "-3.5"),
            ("0.50", "0.50"),
            (" 007 ", "007"),
        ] {
            assert_eq!(check(&d, typed), Ok(Some(kept.into())), "{typed:?}");
        }
        for bad in [
            "1,5", "1.2.3", ".5", "5.", "-", "+", "12a", "1e3", "--1", "١٢",
        ] {
            assert!(
                matches!(check(&d, bad), Err(FieldError::NotANumber(..))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_choice_is_kept_as_the_config_spells_it() {
        let d = def(Kind::Choice(vec!["Hinge".into(), "Desk lamp".into()]));
        assert_eq!(check(&d, "desk LAMP"), Ok(Some("Desk lamp".into())));
        assert_eq!(check(&d, "Hinge"), Ok(Some("Hinge".into())));
        let e = check(&d, "Chair").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Order number: \"Chair\" is not one of Hinge, Desk lamp"
        );
    }

    #[test]
    fn a_date_is_a_real_day_written_in_full() {
        let d = def(Kind::Date);
        assert_eq!(check(&d, "2026-03-01"), Ok(Some("2026-03-01".into())));
        assert_eq!(check(&d, "2028-02-29"), Ok(Some("2028-02-29".into())));
        for bad in [
            "2026-02-30",
            "2026-3-1",
            "01.03.2026",
            "tomorrow",
            "2026-13-01",
        ] {
            assert!(
                matches!(check(&d, bad), Err(FieldError::NotADate(..))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn fields_are_found_by_name_in_any_letter_case() {
        let defs = vec![
            def(Kind::Text),
            FieldDef {
                name: "Product".into(),
                kind: Kind::Text,
                in_inbox: false,
            },
        ];
        assert_eq!(
            find(&defs, " product ").map(|d| d.name.as_str()),
            Some("Product")
        );
        assert_eq!(
            find(&defs, "ORDER NUMBER").map(|d| d.name.as_str()),
            Some("Order number")
        );
        assert!(find(&defs, "Order").is_none());
    }

    #[test]
    fn the_history_says_what_changed() {
        assert_eq!(
            change_words("Order number", None, Some("4711")),
            "Order number: 4711"
        );
        assert_eq!(
            change_words("Order number", Some("4711"), Some("4712")),
            "Order number: 4711 → 4712"
        );
        assert_eq!(
            change_words("Order number", Some("4711"), None),
            "Order number removed (was 4711)"
        );
    }
}
