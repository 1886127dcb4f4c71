//! Ticket tags: what a tag may be, and how adding and removing change a ticket's list.
//! Tags are compared and kept in lower case, so "VIP" and "vip" are one tag.

/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 40;
/// Most tags on one ticket.
pub const MAX_TAGS: usize = 20;

/// Why a tag change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// Longer than [`MAX_TAG_CHARS`].
    #[error("tag {0:?} is longer than {MAX_TAG_CHARS} characters")]
    TooLong(String),
    /// Holds a control character or a comma (the list separator).
    #[error("tag {0:?} may not hold a comma or a control character")]
    BadCharacter(String),
    /// The ticket would carry more than [`MAX_TAGS`].
    #[error("a ticket carries at most {MAX_TAGS} tags")]
    TooMany,
}

/// One tag as kept: trimmed, inner runs of white space made one space, lower case; none
/// when nothing is left.
pub fn normalize(tag: &str) -> Result<Option<String>, TagError> {
    let tag = tag
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if tag.is_empty() {
        return Ok(None);
    }
    if tag.chars().any(|c| c == ',' || c.is_control()) {
        return Err(TagError::BadCharacter(tag));
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(TagError::TooLong(tag));
    }
    Ok(Some(tag))
}

/// The tags typed in one box, comma-separated ("vip, refund").
pub fn split_list(typed: &str) -> Vec<String> {
    typed
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `current` with `add` appended (those not already there) and `remove` taken out;
/// every tag normalized. Refused as a whole when one tag is bad or too many remain.
pub fn edit(
    current: &[String],
    add: &[String],
    remove: &[String],
) -> Result<Vec<String>, TagError> {
    let mut out: Vec<String> = Vec::new();
    for tag in current.iter().chain(add) {
        if let Some(tag) = normalize(tag)? {
            if !out.contains(&tag) {
                out.push(tag);
            }
        }
    }
    let mut gone = Vec::new();
    for tag in remove {
        if let Some(tag) = normalize(tag)? {
            gone.push(tag);
        }
    }
    out.retain(|t| !gone.contains(t));
    if out.len() > MAX_TAGS {
        return Err(TagError::TooMany);
    }
    Ok(out)
}

/// The event line for a change: "+vip −refund" (empty when nothing changed).
pub fn describe(before: &[String], after: &[String]) -> String {
    let added = after
        .iter()
        .filter(|t| !before.contains(t))
        .map(|t| format!("+{t}"));
    let removed = before
        .iter()
        .filter(|t| !after.contains(t))
        .map(|t| format!("−{t}"));
    added.chain(removed).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn tags_are_trimmed_lower_case_with_single_spaces() {
        assert_eq!(normalize("  VIP "), Ok(Some("vip".into())));
        assert_eq!(normalize("Key \t Account"), Ok(Some("key account".into())));
        assert_eq!(normalize("Größe"), Ok(Some("größe".into())));
        assert_eq!(normalize("   "), Ok(None));
        assert_eq!(normalize(""), Ok(None));
    }

    #[test]
    fn bad_tags_are_refused_by_name() {
        assert_eq!(normalize("a,b"), Err(TagError::BadCharacter("a,b".into())));
        assert_eq!(
            normalize("a\u{7}b"),
            Err(TagError::BadCharacter("a\u{7}b".into()))
        );
        let long = "x".repeat(MAX_TAG_CHARS + 1);
        assert_eq!(normalize(&long), Err(TagError::TooLong(long.clone())));
        // The limit counts characters, not bytes.
        assert!(normalize(&"ä".repeat(MAX_TAG_CHARS)).unwrap().is_some());
        assert!(TagError::TooLong(long)
            .to_string()
            .contains("longer than 40"));
    }

    #[test]
    fn a_typed_list_splits_on_commas() {
        assert_eq!(split_list("vip, refund ,, "), v(&["vip", "refund"]));
        assert_eq!(split_list(""), Vec::<String>::new());
        assert_eq!(split_list("one"), v(&["one"]));
    }

    #[test]
    fn adding_and_removing() {
        let cur = v(&["web", "vip"]);
        assert_eq!(
            edit(&cur, &v(&["Refund"]), &[]),
            Ok(v(&["web", "vip", "refund"]))
        );
        // Already there in another case: kept once, where it was.
        assert_eq!(edit(&cur, &v(&["VIP"]), &[]), Ok(v(&["web", "vip"])));
        assert_eq!(edit(&cur, &[], &v(&["WEB"])), Ok(v(&["vip"])));
        // Removing a tag that is not there changes nothing.
        assert_eq!(edit(&cur, &[], &v(&["none"])), Ok(cur.clone()));
        // Added and removed at once: removed wins.
        assert_eq!(edit(&cur, &v(&["x"]), &v(&["x"])), Ok(cur.clone()));
        // Blank additions are ignored.
        assert_eq!(edit(&cur, &v(&[" "]), &[]), Ok(cur.clone()));
    }

    #[test]
    fn a_bad_tag_or_too_many_refuse_the_whole_change() {
        let cur = v(&["web"]);
        assert!(matches!(
            edit(&cur, &v(&["fine", "not,fine"]), &[]),
            Err(TagError::BadCharacter(_))
        ));
        let many: Vec<String> = (0..MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(edit(&cur, &many, &[]), Err(TagError::TooMany));
        assert_eq!(
            edit(&cur, &many, &v(&["web"])).map(|t| t.len()),
            Ok(MAX_TAGS)
        );
    }

    #[test]
    fn changes_are_described_for_the_history() {
        assert_eq!(describe(&v(&["a", "b"]), &v(&["b", "c"])), "+c −a");
        assert_eq!(describe(&v(&["a"]), &v(&["a"])), "");
    }
}
