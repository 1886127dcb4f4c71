//! Two-step sign-in: time-based one-time codes (TOTP, RFC 6238) as authenticator apps
//! (Google Authenticator, Aegis, 1Password, FreeOTP) make them: HMAC-SHA1, six digits,
//! a new code every 30 seconds. The secret travels to the app as base32 (RFC 4648),
//! typed or scanned from an `otpauth://` link in a QR code.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds each code lasts.
pub const PERIOD: i64 = 30;

/// Digits in a code.
pub const DIGITS: usize = 6;

/// Bytes of a new secret (160 bits, as RFC 4226 recommends for HMAC-SHA1).
pub const SECRET_BYTES: usize = 20;

/// Steps before and after the current one whose codes are still taken: a phone's clock
/// a little off, or a code typed as it changed.
pub const SKEW_STEPS: i64 = 1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret, base32 without padding (32 letters and digits).
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base32(&bytes)
}

/// Recovery codes given at a time.
pub const RECOVERY_CODES: usize = 10;

/// Letters in a recovery code (base32: 50 random bits).
const RECOVERY_LETTERS: usize = 10;

/// New single-use recovery codes, as shown: `abcde-fghij`.
pub fn new_recovery_codes() -> Vec<String> {
    use rand::RngCore;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 7];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let letters = base32(&bytes).to_lowercase();
            format!(
                "{}-{}",
                &letters[..RECOVERY_LETTERS / 2],
                &letters[RECOVERY_LETTERS / 2..RECOVERY_LETTERS]
            )
        })
        .collect()
}

/// A recovery code as typed (any case, spaces and dashes anywhere), in the form its
/// hash is taken of; `None` when it cannot be one.
pub fn recovery_key(typed: &str) -> Option<String> {
    let key: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (key.len() == RECOVERY_LETTERS
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)))
    .then_some(key)
}

/// What is stored of a recovery code ([`recovery_key`]'s form): its SHA-256, hex.
pub fn recovery_hash(key: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// RFC 4648 base32, upper case, without `=` padding (what authenticator apps expect).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decode base32 as people type it (any case, spaces, `-` and `=` ignored); `None` for
/// any other character.
pub fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars() {
        if c.is_whitespace() || c == '-' || c == '=' {
            continue;
        }
        let c = c.to_ascii_uppercase();
        let value = ALPHABET.iter().position(|&a| char::from(a) == c)? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    Some(out)
}

/// The time step a Unix time falls in.
pub fn step_at(unix: i64) -> i64 {
    unix.div_euclid(PERIOD)
}

/// The code for one time step (RFC 4226's HOTP with the step as counter).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    // Any key length is valid for HMAC: `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(DIGITS as u32)
}

/// A code as an app shows it: six digits, leading zeros kept.
pub fn format_code(code: u32) -> String {
    format!("{code:0width$}", width = DIGITS)
}

/// The six digits an agent typed ("123 456" and "123-456" too); `None` when it is not a
/// code at all.
pub fn typed_code(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The time step whose code `typed` is, within [`SKEW_STEPS`] of `now`; `None` when it
/// is none of them, the secret is not base32, or the text is not a code. The caller
/// refuses a step at or before the last one used, so a code seen over a shoulder cannot
/// be typed again.
pub fn matching_step(secret: &str, typed: &str, now: i64) -> Option<i64> {
    let key = from_base32(secret).filter(|k| !k.is_empty())?;
    let typed = typed_code(typed)?;
    let current = step_at(now);
    // Every candidate is computed and compared in full, so the time taken says nothing
    // about which step (or how many digits) matched.
    let mut found = None;
    for step in current - SKEW_STEPS..=current + SKEW_STEPS {
        let expected = format_code(code_at(&key, step));
        let same = expected
            .bytes()
            .zip(typed.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` link an authenticator app reads from the QR code: the desk's name
/// as issuer, the agent's address as account.
pub fn uri(secret: &str, issuer: &str, account: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={PERIOD}",
        encode(issuer),
        encode(account),
        encode(issuer),
    )
}

/// The secret in groups of four, easier to type into an app by hand.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Percent-encode everything but unreserved characters (RFC 3986), for the link's label
/// and issuer.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA1 key, "12345678901234567890".
    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_test_vectors_in_six_digits() {
        // The RFC lists eight digits; an app shows the last six.
        for (time, eight) in [
            (59, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(
                code_at(RFC_KEY, step_at(time)),
                eight % 1_000_000,
                "time {time}"
            );
        }
    }

    #[test]
    fn rfc_4226_hotp_vectors() {
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_at(RFC_KEY, counter as i64), *code, "counter {counter}");
        }
    }

    #[test]
    fn base32_rfc_4648_vectors_without_padding() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32(plain.as_bytes()), encoded);
            assert_eq!(
                from_base32(encoded).as_deref(),
                Some(plain.as_bytes()),
                "{encoded}"
            );
        }
        assert_eq!(
            base32(RFC_KEY),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            "the RFC key as apps are given it"
        );
    }

    #[test]
    fn base32_as_typed_by_hand() {
        assert_eq!(
            from_base32("gezd gnbv-gy3t qojq gezd gnbv gy3t qojq").as_deref(),
            Some(RFC_KEY)
        );
        assert_eq!(from_base32("MZXW6==="), Some(b"foo".to_vec()));
        assert_eq!(from_base32("MZXW1"), None, "1 is not base32");
        assert_eq!(from_base32("MZXW0"), None, "0 is not base32");
        assert_eq!(from_base32("é"), None);
    }

    #[test]
    fn recovery_codes_are_ten_different_and_read_back_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<&String> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 11, "{code}");
            assert_eq!(code.as_bytes()[5], b'-', "{code}");
            let key = recovery_key(code).expect("its own code");
            assert_eq!(recovery_key(&code.to_uppercase()).as_ref(), Some(&key));
            assert_eq!(
                recovery_key(&format!(" {} ", code.replace('-', " "))).as_ref(),
                Some(&key)
            );
            assert_eq!(recovery_hash(&key).len(), 64);
        }
        for bad in [
            "",
            "abcde-fghi",
            "abcde-fghijk",
            "abcde-fgh1j",
            "123456",
            "abcde_fghij",
        ] {
            assert_eq!(recovery_key(bad), None, "{bad:?}");
        }
        assert_ne!(recovery_hash("abcdefghij"), recovery_hash("abcdefghik"));
    }

    #[test]
    fn new_secrets_are_random_and_decode_to_twenty_bytes() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(from_base32(&a).map(|k| k.len()), Some(SECRET_BYTES));
    }

    #[test]
    fn codes_keep_leading_zeros() {
        assert_eq!(format_code(42), "000042");
        assert_eq!(format_code(287_082), "287082");
    }

    #[test]
    fn typed_codes_allow_spaces_and_dashes_only() {
        assert_eq!(typed_code("287082").as_deref(), Some("287082"));
        assert_eq!(typed_code(" 287 082 ").as_deref(), Some("287082"));
        assert_eq!(typed_code("287-082").as_deref(), Some("287082"));
        for bad in ["", "28708", "2870821", "28708a", "２８７０８２", "287.082"] {
            assert_eq!(typed_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_current_code_and_its_neighbours_match_others_do_not() {
        let secret = base32(RFC_KEY);
        let now = 1_111_111_111;
        let step = step_at(now);
        let at = |s: i64| format_code(code_at(RFC_KEY, s));
        assert_eq!(matching_step(&secret, &at(step), now), Some(step));
        assert_eq!(matching_step(&secret, &at(step - 1), now), Some(step - 1));
        assert_eq!(matching_step(&secret, &at(step + 1), now), Some(step + 1));
        assert_eq!(matching_step(&secret, &at(step - 2), now), None);
        assert_eq!(matching_step(&secret, &at(step + 2), now), None);
        // Lower-case secret, spaced code.
        let spaced = format!("{} {}", &at(step)[..3], &at(step)[3..]);
        assert_eq!(
            matching_step(&secret.to_lowercase(), &spaced, now),
            Some(step)
        );
        assert_eq!(matching_step(&secret, "not a code", now), None);
        assert_eq!(matching_step("not base32!", &at(step), now), None);
        assert_eq!(matching_step("", &at(step), now), None);
    }

    #[test]
    fn the_link_names_issuer_and_account_encoded() {
        let link = uri("GEZDGNBV", "Acme Support & Co", "jane@acme.test");
        assert_eq!(
            link,
            "otpauth://totp/Acme%20Support%20%26%20Co:jane@acme.test?secret=GEZDGNBV&issuer=Acme%20Support%20%26%20Co&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn secrets_are_grouped_by_four() {
        assert_eq!(grouped("GEZDGNBVGY"), "GEZD GNBV GY");
        assert_eq!(grouped(""), "");
    }
}
