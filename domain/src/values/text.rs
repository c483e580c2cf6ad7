//! Free texts with limits: message bodies, booking notes, reasons.

use serde::{Deserialize, Serialize};

use super::string_value;
use crate::DomainError;

fn bounded(field: &str, input: &str, max: usize) -> Result<String, DomainError> {
    let value = input.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("{field} cannot be empty"),
        ));
    }
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("{field} has at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// The body of an email or SMS message (1 to 10 000 characters). Personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    /// Parse a body.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        bounded("body", input, 10_000).map(MessageBody)
    }
}
string_value!(MessageBody);

/// Notes on a booking (1 to 2 000 characters). May hold personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Notes(String);

impl Notes {
    /// Parse notes.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        bounded("notes", input, 2_000).map(Notes)
    }
}
string_value!(Notes);

/// Why something was done (cancellation, stock adjustment): 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);

impl Reason {
    /// Parse a reason.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        bounded("reason", input, 500).map(Reason)
    }
}
string_value!(Reason);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_texts_are_refused() {
        assert_eq!(MessageBody::parse(" ").unwrap_err().field(), Some("body"));
        assert_eq!(Notes::parse("").unwrap_err().field(), Some("notes"));
        assert_eq!(Reason::parse("\t").unwrap_err().field(), Some("reason"));
        assert!(MessageBody::parse(&"x".repeat(10_001)).is_err());
        assert_eq!(
            Reason::parse(" broken bottle ").unwrap().as_str(),
            "broken bottle"
        );
    }
}
