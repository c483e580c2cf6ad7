//! Names of things (workspaces, services, inventory items, form templates, labels).

use serde::{Deserialize, Serialize};

use super::string_value;
use crate::DomainError;

/// A display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    /// Parse a name.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        Self::parse_field("name", input)
    }

    /// Parse a name, reporting problems against `field`.
    pub fn parse_field(field: &str, input: &str) -> Result<Self, DomainError> {
        let value = input.trim();
        if value.is_empty() {
            return Err(DomainError::invalid(field, "a name is required"));
        }
        if value.chars().count() > 200 {
            return Err(DomainError::invalid(
                field,
                "a name has at most 200 characters",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                field,
                "a name cannot contain control characters",
            ));
        }
        Ok(Name(value.to_owned()))
    }
}

string_value!(Name);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_name_is_refused() {
        assert_eq!(Name::parse(" ").unwrap_err().field(), Some("name"));
        assert_eq!(
            Name::parse(" Hair colouring ").unwrap().as_str(),
            "Hair colouring"
        );
    }
}
