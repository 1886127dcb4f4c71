//! Agent sign-in: passwords as Argon2id hashes in PHC string form, and (in [`totp`]) the
//! codes of two-step sign-in.

pub mod totp;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

/// Hash a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// True when `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Fewest characters a password may have.
pub const MIN_PASSWORD: usize = 8;

/// Most characters a password may have: hashing is deliberately slow, and a megabyte
/// of "password" must not buy an attacker a megabyte of Argon2.
pub const MAX_PASSWORD: usize = 1024;

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Under [`MIN_PASSWORD`] characters.
    #[error("the password must have at least {MIN_PASSWORD} characters")]
    TooShort,
    /// Over [`MAX_PASSWORD`] characters.
    #[error("the password must have at most {MAX_PASSWORD} characters")]
    TooLong,
    /// The two copies typed differ.
    #[error("the two new passwords differ")]
    Mismatch,
}

/// Check a new password, typed twice where a form asks for it twice.
pub fn check_new_password(password: &str, repeated: Option<&str>) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(PasswordError::TooShort);
    }
    if n > MAX_PASSWORD {
        return Err(PasswordError::TooLong);
    }
    if repeated.is_some_and(|r| r != password) {
        return Err(PasswordError::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_checked_for_length_and_repetition() {
        assert_eq!(check_new_password("12345678", None), Ok(()));
        assert_eq!(
            check_new_password("1234567", None),
            Err(PasswordError::TooShort)
        );
        // Characters, not bytes.
        assert_eq!(
            check_new_password("ééééééé", None),
            Err(PasswordError::TooShort)
        );
        assert_eq!(check_new_password(&"x".repeat(MAX_PASSWORD), None), Ok(()));
        assert_eq!(
            check_new_password(&"x".repeat(MAX_PASSWORD + 1), None),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check_new_password("correct horse", Some("correct horse")),
            Ok(())
        );
        assert_eq!(
            check_new_password("correct horse", Some("correct horsE")),
            Err(PasswordError::Mismatch)
        );
    }

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("wrong horse", &a));
        assert!(!verify_password("x", "not a hash"));
    }
}
