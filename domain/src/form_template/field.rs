//! Form fields: key, label, kind, required, options (select only).

use serde::{Deserialize, Serialize};

use crate::values::{string_value, Name};
use crate::DomainError;

/// A field key: lower-case letters, digits and underscores, starting with a letter, 1–64 long.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldKey(String);

impl FieldKey {
    /// Parse a key.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let ok = (1..=64).contains(&input.len())
            && input.starts_with(|c: char| c.is_ascii_lowercase())
            && input
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(DomainError::invalid(
                "key",
                format!("a field key is like first_name: {input:?}"),
            ));
        }
        Ok(FieldKey(input.to_owned()))
    }
}
string_value!(FieldKey);

/// What kind of input a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Textarea,
    Checkbox,
    Select,
    Date,
    Signature,
}

/// One field (`{key, label, kind, required, options?}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormField {
    pub key: FieldKey,
    pub label: Name,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// At least one field, unique keys, options exactly for selects (non-empty, distinct).
pub fn validate_fields(fields: &[FormField]) -> Result<(), DomainError> {
    if fields.is_empty() || fields.len() > 100 {
        return Err(DomainError::invalid("fields", "a form has 1 to 100 fields"));
    }
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].iter().any(|f| f.key == field.key) {
            return Err(DomainError::invalid(
                "fields",
                format!("the key {} is used twice", field.key),
            ));
        }
        match field.kind {
            FieldKind::Select => {
                let mut options: Vec<&str> = field.options.iter().map(|o| o.trim()).collect();
                if options.is_empty() || options.iter().any(|o| o.is_empty()) {
                    return Err(DomainError::invalid(
                        "options",
                        format!("{} needs non-empty options", field.key),
                    ));
                }
                options.sort_unstable();
                options.dedup();
                if options.len() != field.options.len() {
                    return Err(DomainError::invalid(
                        "options",
                        format!("{} repeats an option", field.key),
                    ));
                }
            }
            _ if !field.options.is_empty() => {
                return Err(DomainError::invalid(
                    "options",
                    format!("only select fields have options ({})", field.key),
                ))
            }
            _ => {}
        }
    }
    Ok(())
}
