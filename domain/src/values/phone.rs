//! Phone numbers in E.164, the only form SMS providers accept without guessing.

use serde::{Deserialize, Serialize};

use super::string_value;
use crate::DomainError;

/// An E.164 phone number: `+`, then 8 to 15 digits, the first not zero.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parse a number; spaces, dashes, dots and parentheses are ignored, `00` is read as `+`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let compact: String = input
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = if let Some(rest) = compact.strip_prefix('+') {
            rest
        } else if let Some(rest) = compact.strip_prefix("00") {
            rest
        } else {
            return Err(DomainError::invalid(
                "phone",
                format!(
                    "a phone number must be in international form, like +447700900123: {input:?}"
                ),
            ));
        };
        let valid = (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err(DomainError::invalid(
                "phone",
                format!("not an E.164 phone number (+ and 8 to 15 digits): {input:?}"),
            ));
        }
        Ok(Phone(format!("+{digits}")))
    }
}

string_value!(Phone);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_is_normalised_to_e164() {
        assert_eq!(
            Phone::parse("+44 7700 900-123").unwrap().as_str(),
            "+447700900123"
        );
        assert_eq!(
            Phone::parse("0044 (7700) 900123").unwrap().as_str(),
            "+447700900123"
        );
    }

    #[test]
    fn a_phone_number_without_country_code_or_with_letters_is_refused() {
        for bad in [
            "07700900123",
            "+44abc",
            "+0123456789",
            "+1234",
            "+1234567890123456",
            "",
        ] {
            assert_eq!(
                Phone::parse(bad).unwrap_err().field(),
                Some("phone"),
                "{bad}"
            );
        }
    }
}
