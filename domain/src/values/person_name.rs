//! Names of people (users, contacts). Personal data: wrapped in `Personal` inside events.

use serde::{Deserialize, Serialize};

use super::string_value;
use crate::DomainError;

/// A person's name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Parse a name.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let value = input.trim();
        if value.is_empty() {
            return Err(DomainError::invalid("name", "a name is required"));
        }
        if value.chars().count() > 200 {
            return Err(DomainError::invalid(
                "name",
                "a name has at most 200 characters",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "name",
                "a name cannot contain control characters",
            ));
        }
        Ok(PersonName(value.to_owned()))
    }
}

string_value!(PersonName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_person_name_is_trimmed() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
    }

    #[test]
    fn an_empty_or_overlong_name_is_refused() {
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"a".repeat(201)).is_err());
        assert!(PersonName::parse("a\nb").is_err());
    }
}
