//! Email addresses, normalised to lower case so they can be compared and reserved.

use serde::{Deserialize, Serialize};

use super::string_value;
use crate::DomainError;

/// A syntactically valid email address (trimmed, lower case, at most 254 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parse an address: one `@`, a non-empty local part, a dotted domain, no spaces.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let value = input.trim().to_lowercase();
        let bad = |why: &str| Err(DomainError::invalid("email", format!("{why}: {input:?}")));
        if value.is_empty() {
            return bad("an email address is required");
        }
        if value.len() > 254 {
            return bad("an email address has at most 254 characters");
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("an email address cannot contain spaces");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return bad("an email address needs an @");
        };
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return bad("not a valid email address");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return bad("the domain of an email address needs a dot, like example.com");
        }
        Ok(Email(value))
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

string_value!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn malformed_emails_are_refused_with_the_email_field() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@@x.com",
            "ada@.com",
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert_eq!(err.field(), Some("email"), "{bad}");
            assert_eq!(err.code(), "invalid_value");
        }
    }

    #[test]
    fn an_email_deserialises_through_its_parser() {
        let email: Email = serde_json::from_str("\"Bo@Example.org\"").unwrap();
        assert_eq!(email.as_str(), "bo@example.org");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }
}
