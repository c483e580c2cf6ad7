//! Workspace slugs: the public booking page address (`/book/<slug>`).

use serde::{Deserialize, Serialize};

use super::string_value;
use crate::DomainError;

/// Path words of the public API that cannot be workspace slugs.
const RESERVED: &[&str] = &[
    "forms", "bookings", "book", "api", "admin", "public", "webhooks",
];

/// Lower-case ASCII letters, digits and single hyphens; 3 to 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parse a slug exactly as given (no normalisation beyond trimming).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let value = input.trim();
        let bad = |why: &str| Err(DomainError::invalid("slug", format!("{why}: {input:?}")));
        if !(3..=63).contains(&value.len()) {
            return bad("a slug has 3 to 63 characters");
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return bad("a slug has only lower-case letters, digits and hyphens");
        }
        if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
            return bad("a slug cannot start or end with a hyphen or repeat one");
        }
        Ok(Slug(value.to_owned()))
    }

    /// Derive a slug from a business name (`"Urban Glow Spa!"` → `urban-glow-spa`); `None` when the
    /// name has too few letters or digits.
    pub fn from_name(name: &str) -> Option<Self> {
        let mut out = String::new();
        for c in name.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let mut out = out.trim_end_matches('-').to_owned();
        out.truncate(56);
        let out = out.trim_end_matches('-');
        Slug::parse(out).ok()
    }

    /// Whether the slug is one of the public API's own path words (`/public/forms/{token}`,
    /// `/public/bookings/{id}/cancel`), which a workspace cannot use. Kept apart from
    /// [`Slug::parse`] so that stored events always read back.
    pub fn is_reserved(&self) -> bool {
        RESERVED.contains(&self.0.as_str())
    }

    /// The same slug with a numeric suffix, to make it unique (`urban-glow-2`).
    pub fn with_suffix(&self, n: u32) -> Self {
        let mut base = self.0.clone();
        base.truncate(56);
        let base = base.trim_end_matches('-');
        Slug(format!("{base}-{n}"))
    }
}

string_value!(Slug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_derived_from_a_business_name() {
        assert_eq!(
            Slug::from_name("  Urban Glow Spa! ").unwrap().as_str(),
            "urban-glow-spa"
        );
        assert_eq!(
            Slug::from_name("Urban Glow")
                .unwrap()
                .with_suffix(2)
                .as_str(),
            "urban-glow-2"
        );
        assert!(Slug::from_name("!!").is_none());
    }

    #[test]
    fn malformed_slugs_are_refused() {
        for bad in ["ab", "Urban", "urban glow", "-urban", "urban-", "ur--ban"] {
            assert_eq!(Slug::parse(bad).unwrap_err().field(), Some("slug"), "{bad}");
        }
        assert!(Slug::parse("urban-glow-2").is_ok());
    }
}

#[cfg(test)]
mod reserved_tests {
    use super::*;

    #[test]
    fn the_public_apis_path_words_are_reserved_and_other_slugs_are_not() {
        assert!(Slug::parse("forms").unwrap().is_reserved());
        assert!(Slug::parse("bookings").unwrap().is_reserved());
        assert!(!Slug::parse("urbanglow").unwrap().is_reserved());
    }
}
