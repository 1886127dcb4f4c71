//! Snoozing: when a snooze asked for as a length ("4h", "3d") or a moment (RFC 3339)
//! ends (pure).

/// The longest snooze: a year.
pub const MAX_SECONDS: i64 = 365 * 86_400;

/// Why a snooze was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnoozeError {
    /// Not a number followed by s, m, h, d or w.
    #[error("{0:?} is not a length of time: give a number and s, m, h, d or w (\"4h\", \"3d\")")]
    NotALength(String),
    /// Not an RFC 3339 time.
    #[error("{0:?} is not a time: give it as 2026-12-01T09:00:00Z or with an offset")]
    NotATime(String),
    /// Zero, in the past, or too far ahead.
    #[error("a snooze must end within a year from now")]
    OutOfRange,
}

/// Seconds in a length such as "90m", "4h", "3d" or "1w".
pub fn parse_length(text: &str) -> Result<i64, SnoozeError> {
    let t = text.trim();
    let bad = || SnoozeError::NotALength(text.to_string());
    let unit = t.chars().last().ok_or_else(bad)?;
    let per = match unit.to_ascii_lowercase() {
        's' => 1,
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(bad()),
    };
    let number = &t[..t.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: i64 = number.parse().map_err(|_| SnoozeError::OutOfRange)?;
    let seconds = n.checked_mul(per).ok_or(SnoozeError::OutOfRange)?;
    if seconds == 0 || seconds > MAX_SECONDS {
        return Err(SnoozeError::OutOfRange);
    }
    Ok(seconds)
}

/// When a snooze of `length` asked for at `now` ends.
pub fn end_after(now: i64, length: &str) -> Result<i64, SnoozeError> {
    Ok(now + parse_length(length)?)
}

/// The unix second an RFC 3339 time names, checked to lie within a year after `now`.
pub fn end_at(now: i64, moment: &str) -> Result<i64, SnoozeError> {
    let at = time::OffsetDateTime::parse(
        moment.trim(),
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|_| SnoozeError::NotATime(moment.to_string()))?
    .unix_timestamp();
    if at <= now || at - now > MAX_SECONDS {
        return Err(SnoozeError::OutOfRange);
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_read_in_their_units() {
        assert_eq!(parse_length("90m"), Ok(5_400));
        assert_eq!(parse_length("4h"), Ok(14_400));
        assert_eq!(parse_length(" 3d "), Ok(259_200));
        assert_eq!(parse_length("1W"), Ok(604_800));
        assert_eq!(parse_length("30s"), Ok(30));
        assert_eq!(parse_length("365d"), Ok(MAX_SECONDS));
    }

    #[test]
    fn bad_lengths_say_what_was_wrong() {
        for bad in [
            "", "h", "4", "4x", "-4h", "4.5h", "four h", "4 h", "4hh", "²h",
        ] {
            assert!(
                matches!(parse_length(bad), Err(SnoozeError::NotALength(_))),
                "{bad:?}"
            );
        }
        for out in [
            "0m",
            "366d",
            "53w",
            "99999999999999999999d",
            "9223372036854775807w",
        ] {
            assert_eq!(parse_length(out), Err(SnoozeError::OutOfRange), "{out:?}");
        }
        assert!(parse_length("4x")
            .unwrap_err()
            .to_string()
            .contains("\"4x\""));
    }

    #[test]
    fn moments_must_be_rfc3339_and_ahead_within_a_year() {
        let now = 1_795_000_000; // 2026-11-18T…Z
        assert_eq!(end_at(now, "2026-12-01T09:00:00Z"), Ok(1_796_115_600));
        assert_eq!(end_at(now, "2026-12-01T10:00:00+01:00"), Ok(1_796_115_600));
        // What a browser's toISOString() gives.
        assert_eq!(end_at(now, "2026-12-01T09:00:00.000Z"), Ok(1_796_115_600));
        assert!(matches!(
            end_at(now, "tomorrow"),
            Err(SnoozeError::NotATime(_))
        ));
        assert!(matches!(
            end_at(now, "2026-12-01 09:00"),
            Err(SnoozeError::NotATime(_))
        ));
        assert_eq!(
            end_at(now, "2020-01-01T00:00:00Z"),
            Err(SnoozeError::OutOfRange)
        );
        assert_eq!(
            end_at(now, "2030-01-01T00:00:00Z"),
            Err(SnoozeError::OutOfRange)
        );
        assert_eq!(end_after(now, "1d"), Ok(now + 86_400));
    }
}
