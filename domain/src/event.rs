//! What every event of the domain promises to the event store and to subscribers.
//!
//! Events are enums serialised adjacently tagged (`{"event_type": "...", "data": {...}}`); the store
//! keeps `event_type` and `data` in separate columns, so [`DomainEvent::to_payload`] and
//! [`DomainEvent::from_payload`] split and rebuild that form. [`EncodedEvent`] is the form ready to
//! append, and [`StreamEvents`] groups events per stream for multi-stream appends.

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess};
use serde::{Deserializer, Serialize};

/// The personal data an event carries, for crypto-shredding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PersonalData {
    /// The data subject (a contact or user id) whose key encrypts the fields.
    pub subject: uuid::Uuid,
    /// Top-level fields of the payload (`data`) that hold personal data.
    pub fields: &'static [&'static str],
}

/// An event of one aggregate.
pub trait DomainEvent: Serialize + DeserializeOwned {
    /// Stable name stored in the event store's `event_type` column.
    fn event_type(&self) -> &'static str;

    /// Payload schema version (starts at 1).
    fn schema_version(&self) -> i32 {
        1
    }

    /// Personal data carried by this event, for crypto-shredding: the data subject (a contact or
    /// user id) and the top-level payload fields that hold personal data.
    fn personal_data(&self) -> Option<PersonalData> {
        None
    }

    /// The payload: the `data` part of the tagged form only.
    fn to_payload(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => {
                map.remove("data").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuild an event from its stored `event_type` and payload.
    fn from_payload(event_type: &str, data: serde_json::Value) -> Result<Self, serde_json::Error> {
        Self::deserialize(MapAccessDeserializer::new(Tagged::new(event_type, data)))
    }

    /// Like [`DomainEvent::from_payload`], from a payload that stays where it is (an event
    /// read once and handed to several projections).
    fn from_payload_ref(
        event_type: &str,
        data: &serde_json::Value,
    ) -> Result<Self, serde_json::Error> {
        Self::deserialize(MapAccessDeserializer::new(Tagged::new(event_type, data)))
    }

    /// The event ready to append.
    fn encode(&self) -> EncodedEvent {
        EncodedEvent {
            event_type: self.event_type(),
            schema_version: self.schema_version(),
            data: self.to_payload(),
            personal_data: self.personal_data(),
        }
    }
}

/// An event in the shape the event store appends.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEvent {
    pub event_type: &'static str,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub personal_data: Option<PersonalData>,
}

/// New events for one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEvents<E> {
    /// The stream type (`booking`, `calendar`, …).
    pub stream_type: &'static str,
    /// The stream id (`booking-<id>`, …).
    pub stream_id: String,
    /// The events to append, in order.
    pub events: Vec<E>,
}

impl<E: DomainEvent> StreamEvents<E> {
    /// The events of this stream encoded for the store.
    pub fn encode(&self) -> EncodedStream {
        EncodedStream {
            stream_type: self.stream_type,
            stream_id: self.stream_id.clone(),
            events: self.events.iter().map(DomainEvent::encode).collect(),
        }
    }
}

/// New encoded events for one stream (events of several aggregates can be appended together).
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedStream {
    pub stream_type: &'static str,
    pub stream_id: String,
    pub events: Vec<EncodedEvent>,
}

/// Implements `event_type` for an event enum whose variant names are the event type names.
macro_rules! event_type_names {
    ($($variant:ident),* $(,)?) => {
        fn event_type(&self) -> &'static str {
            match self {
                $(Self::$variant { .. } => stringify!($variant),)*
            }
        }
    };
}
pub(crate) use event_type_names;

/// Lists the event type names of an event enum as `EVENT_TYPES`.
macro_rules! event_type_list {
    ($ty:ty: $($variant:ident),* $(,)?) => {
        impl $ty {
            /// Every event type name of this aggregate.
            pub const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($variant)),*];
        }
    };
}
pub(crate) use event_type_list;

/// The tagged form `{"event_type": …, "data": …}` without building it: a map of the two
/// entries, the tag first. With the tag first, serde reads the content straight into the
/// variant; a JSON object would hand `data` over first (its keys are sorted), and serde
/// would then buffer the whole payload before it knows the variant.
struct Tagged<'a, D> {
    event_type: &'a str,
    data: Option<D>,
    next: TaggedEntry,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TaggedEntry {
    Tag,
    Data,
    End,
}

impl<'a, D> Tagged<'a, D> {
    fn new(event_type: &'a str, data: D) -> Self {
        Self {
            event_type,
            data: Some(data),
            next: TaggedEntry::Tag,
        }
    }
}

impl<'de, D> MapAccess<'de> for Tagged<'_, D>
where
    D: Deserializer<'de, Error = serde_json::Error>,
{
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.next {
            TaggedEntry::Tag => "event_type",
            TaggedEntry::Data => "data",
            TaggedEntry::End => return Ok(None),
        };
        let key: StrDeserializer<'_, serde_json::Error> = key.into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        match self.next {
            TaggedEntry::Tag => {
                self.next = TaggedEntry::Data;
                let tag: StrDeserializer<'_, serde_json::Error> =
                    self.event_type.into_deserializer();
                seed.deserialize(tag)
            }
            TaggedEntry::Data => {
                self.next = TaggedEntry::End;
                match self.data.take() {
                    Some(data) => seed.deserialize(data),
                    None => Err(serde::de::Error::custom("the payload was read twice")),
                }
            }
            TaggedEntry::End => Err(serde::de::Error::custom("no entry after the payload")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DomainEvent;
    use crate::contact::ContactEvent;

    #[test]
    fn a_payload_comes_back_as_its_event_owned_or_borrowed() {
        let event = ContactEvent::ContactErased {
            contact_id: uuid::Uuid::from_u128(7),
        };
        let payload = event.to_payload();
        let owned = ContactEvent::from_payload("ContactErased", payload.clone()).unwrap();
        let borrowed = ContactEvent::from_payload_ref("ContactErased", &payload).unwrap();
        assert_eq!(owned, event);
        assert_eq!(borrowed, event);
    }

    #[test]
    fn an_unknown_type_or_a_payload_of_the_wrong_shape_is_an_error() {
        let payload = serde_json::json!({ "contact_id": uuid::Uuid::from_u128(7) });
        assert!(ContactEvent::from_payload_ref("ContactVanished", &payload).is_err());
        assert!(ContactEvent::from_payload_ref("ContactCreated", &payload).is_err());
        assert!(ContactEvent::from_payload("ContactErased", serde_json::json!(42)).is_err());
    }
}
