//! Personal data that may be crypto-shredded.
//!
//! The event store encrypts personal fields with a per-data-subject key; once the key is deleted
//! a field reads back as `{"erased": true}`. Typing those fields as [`Personal<T>`] makes erased
//! data an ordinary, representable value, so deserialisation and `evolve` never break on it.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde::ser::{Serialize, Serializer};

/// A personal value, or the marker left after its subject's key was shredded.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Personal<T> {
    /// The value is readable.
    Known(T),
    /// The data subject was erased.
    Erased,
}

impl<T> Personal<T> {
    /// The value when it is still known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Personal::Known(value) => Some(value),
            Personal::Erased => None,
        }
    }

    /// Whether the value was erased.
    pub fn is_erased(&self) -> bool {
        matches!(self, Personal::Erased)
    }

    /// Map a known value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Personal<U> {
        match self {
            Personal::Known(value) => Personal::Known(f(value)),
            Personal::Erased => Personal::Erased,
        }
    }
}

impl<T> From<T> for Personal<T> {
    fn from(value: T) -> Self {
        Personal::Known(value)
    }
}

impl<T: Default> Default for Personal<T> {
    fn default() -> Self {
        Personal::Known(T::default())
    }
}

impl<T: Serialize> Serialize for Personal<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Personal::Known(value) => value.serialize(serializer),
            Personal::Erased => {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("erased", &true)?;
                map.end()
            }
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Personal<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if is_erased_marker(&value) {
            return Ok(Personal::Erased);
        }
        T::deserialize(value)
            .map(Personal::Known)
            .map_err(serde::de::Error::custom)
    }
}

fn is_erased_marker(value: &serde_json::Value) -> bool {
    match value.as_object() {
        Some(map) => map.len() == 1 && map.get("erased") == Some(&serde_json::Value::Bool(true)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_known_value_serialises_transparently() {
        let value: Personal<String> = Personal::Known("Ada".into());
        assert_eq!(serde_json::to_value(&value).unwrap(), json!("Ada"));
        let back: Personal<String> = serde_json::from_value(json!("Ada")).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn an_erased_value_serialises_as_the_erased_marker_and_back() {
        let value: Personal<String> = Personal::Erased;
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            json!({"erased": true})
        );
        let back: Personal<Option<u32>> = serde_json::from_value(json!({"erased": true})).unwrap();
        assert_eq!(back, Personal::Erased);
    }

    #[test]
    fn an_optional_known_value_may_be_null() {
        let back: Personal<Option<String>> = serde_json::from_value(json!(null)).unwrap();
        assert_eq!(back, Personal::Known(None));
    }
}
