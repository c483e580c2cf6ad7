//! Answers to a form, validated against its template.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{FieldKey, FieldKind, FormTemplate};
use crate::DomainError;

/// One answer: a checkbox's boolean or a text (text, textarea, select option, ISO date,
/// signature).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Checked(bool),
    Text(String),
}

/// Validated answers by field key. Personal data.
pub type Answers = BTreeMap<FieldKey, Answer>;

impl FormTemplate {
    /// Validate raw answers (`{key: value}`) against the fields; the first problem is reported
    /// with the field key.
    pub fn validate_answers(
        &self,
        raw: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Answers, DomainError> {
        if let Some(unknown) = raw
            .keys()
            .find(|k| !self.fields.iter().any(|f| f.key.as_str() == k.as_str()))
        {
            return Err(DomainError::invalid(
                unknown.clone(),
                "this form has no such field",
            ));
        }
        let mut answers = Answers::new();
        for field in &self.fields {
            let key = field.key.as_str();
            let bad = |why: &str| Err(DomainError::invalid(key, why));
            let value = raw.get(key).filter(|v| !v.is_null());
            let answer = match (field.kind, value) {
                (_, None) => {
                    if field.required {
                        return bad("this field is required");
                    }
                    continue;
                }
                (FieldKind::Checkbox, Some(serde_json::Value::Bool(b))) => {
                    if field.required && !b {
                        return bad("this box must be ticked");
                    }
                    Answer::Checked(*b)
                }
                (FieldKind::Checkbox, Some(_)) => return bad("expected true or false"),
                (kind, Some(serde_json::Value::String(s))) => {
                    let s = s.trim();
                    if s.is_empty() {
                        if field.required {
                            return bad("this field is required");
                        }
                        continue;
                    }
                    let limit = match kind {
                        FieldKind::Text | FieldKind::Select | FieldKind::Date => 500,
                        FieldKind::Textarea => 10_000,
                        _ => 200_000,
                    };
                    if s.chars().count() > limit {
                        return bad("the answer is too long");
                    }
                    if kind == FieldKind::Select && !field.options.iter().any(|o| o.trim() == s) {
                        return bad("not one of the options");
                    }
                    if kind == FieldKind::Date && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err()
                    {
                        return bad("expected a date as YYYY-MM-DD");
                    }
                    Answer::Text(s.to_owned())
                }
                (_, Some(_)) => return bad("expected text"),
            };
            answers.insert(field.key.clone(), answer);
        }
        Ok(answers)
    }
}
