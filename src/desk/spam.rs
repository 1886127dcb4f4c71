//! Which senders' domains may be blocked as spam as a whole.

/// Why a sender's domain cannot be blocked as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The address has no domain part.
    #[error("{0:?} has no domain")]
    NoDomain(String),
    /// A mail service many unrelated people share.
    #[error("{0} is a mail service many people share: block the address instead")]
    Shared(String),
    /// One of the desk's own domains.
    #[error("{0} is one of our own domains")]
    Own(String),
}

/// Mail services whose domains many unrelated people share, by their exact domain.
const SHARED: &[&str] = &[
    "126.com",
    "163.com",
    "aol.com",
    "fastmail.com",
    "free.fr",
    "gmail.com",
    "googlemail.com",
    "hey.com",
    "icloud.com",
    "laposte.net",
    "libero.it",
    "mac.com",
    "mail.com",
    "mail.ru",
    "me.com",
    "msn.com",
    "orange.fr",
    "pm.me",
    "proton.me",
    "protonmail.com",
    "qq.com",
    "t-online.de",
    "tutanota.com",
    "web.de",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zoho.com",
];

/// Services that run one domain per country (`yahoo.co.uk`, `hotmail.fr`), by its first
/// label.
const SHARED_BRANDS: &[&str] = &["aol", "gmx", "hotmail", "live", "outlook", "yahoo"];

/// The domain of `email` (lower case) if it may be blocked as a whole: not a shared mail
/// service, not the domain of one of our `own` addresses.
pub fn blockable_domain(email: &str, own: &[String]) -> Result<String, DomainError> {
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('.').to_lowercase())
        .filter(|d| d.contains('.') && !d.starts_with('.'))
        .ok_or_else(|| DomainError::NoDomain(email.to_string()))?;
    let brand = domain.split('.').next().unwrap_or("");
    if SHARED.contains(&domain.as_str()) || SHARED_BRANDS.contains(&brand) {
        return Err(DomainError::Shared(domain));
    }
    let ours = |a: &String| {
        a.rsplit_once('@')
            .is_some_and(|(_, d)| d.eq_ignore_ascii_case(&domain))
    };
    if own.iter().any(ours) {
        return Err(DomainError::Own(domain));
    }
    Ok(domain)
}

/// The domain of the company `email` writes from: one that is neither a shared mail
/// service nor ours (the same test as for blocking a whole domain).
pub fn company_domain(email: &str, own: &[String]) -> Option<String> {
    blockable_domain(email, own).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Vec<String> {
        vec!["support@example.com".into(), "sales@acme.test".into()]
    }

    #[test]
    fn a_company_is_a_domain_nobody_else_shares() {
        assert_eq!(
            company_domain("Olga@Customer.Example.org", &own()),
            Some("customer.example.org".into())
        );
        assert_eq!(company_domain("olga@gmail.com", &own()), None);
        assert_eq!(company_domain("olga@yahoo.co.uk", &own()), None);
        assert_eq!(company_domain("jane@acme.test", &own()), None, "ours");
        assert_eq!(company_domain("no-domain", &own()), None);
    }

    #[test]
    fn a_company_domain_may_be_blocked() {
        assert_eq!(
            blockable_domain("offers@Bulk-Offers.example.NET", &own()),
            Ok("bulk-offers.example.net".into())
        );
        assert_eq!(
            blockable_domain("x@deals.example.org.", &own()),
            Ok("deals.example.org".into())
        );
    }

    #[test]
    fn shared_mail_services_may_not() {
        for email in [
            "someone@gmail.com",
            "a@GMAIL.COM",
            "b@yahoo.co.uk",
            "c@hotmail.fr",
            "d@outlook.com",
            "e@gmx.de",
            "f@proton.me",
        ] {
            assert!(
                matches!(blockable_domain(email, &own()), Err(DomainError::Shared(_))),
                "{email}"
            );
        }
        let why = blockable_domain("z@gmail.com", &own())
            .unwrap_err()
            .to_string();
        assert_eq!(
            why,
            "gmail.com is a mail service many people share: block the address instead"
        );
    }

    #[test]
    fn our_own_domains_and_broken_addresses_may_not() {
        assert_eq!(
            blockable_domain("fake@EXAMPLE.com", &own()),
            Err(DomainError::Own("example.com".into()))
        );
        for email in ["no-at-sign", "a@localhost", "a@.com", "a@"] {
            assert!(
                matches!(
                    blockable_domain(email, &own()),
                    Err(DomainError::NoDomain(_))
                ),
                "{email}"
            );
        }
    }
}
