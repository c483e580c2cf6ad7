//! The event envelope: what is stored around each domain event's payload.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::personal::PersonalFields;

/// An event to append: the payload and its type; the store adds the rest of the envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// UUIDv7, chosen by the writer so that a retried command can keep its ids.
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    /// The personal data in `data`, encrypted at append with the subject's key (crypto-
    /// shredding, see [`crate::erase_subject`]); `None` for most events.
    pub personal: Option<PersonalFields>,
}

impl NewEvent {
    /// A new event with a fresh UUIDv7 id.
    pub fn new(
        event_type: impl Into<String>,
        schema_version: i32,
        data: serde_json::Value,
    ) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: event_type.into(),
            schema_version,
            data,
            personal: None,
        }
    }

    /// Declares the top-level payload fields that hold `subject`'s personal data.
    pub fn with_personal_fields<S: Into<String>>(
        mut self,
        subject: Uuid,
        fields: impl IntoIterator<Item = S>,
    ) -> Self {
        self.personal = Some(PersonalFields {
            subject,
            fields: fields.into_iter().map(Into::into).collect(),
        });
        self
    }
}

/// Who did it and why: stored with every event of one append (or of one write, see
/// [`crate::StreamWrite::metadata`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The user who issued the command; `None` for the public, webhooks and the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// `owner`, `staff`, `public`, `system`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_role: Option<String>,
    /// Ties together everything that followed from one request (the `X-Request-Id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The event or command that caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// The HTTP request that carried the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A place in the ordered global feed: the writing transaction and the event's position.
///
/// Ordered by `(tx, position)`, the order in which the feed delivers events. As a token it is
/// written `"<tx>-<position>"` (the `X-CareOps-Position` header).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct FeedPosition {
    pub tx: i64,
    pub position: i64,
}

impl FeedPosition {
    /// Before the first event.
    pub const START: FeedPosition = FeedPosition { tx: 0, position: 0 };

    pub fn new(tx: i64, position: i64) -> Self {
        Self { tx, position }
    }

    /// Parses the `"<tx>-<position>"` token form.
    pub fn parse_token(token: &str) -> Option<Self> {
        let (tx, position) = token.trim().split_once('-')?;
        let tx = tx.parse::<i64>().ok().filter(|v| *v >= 0)?;
        let position = position.parse::<i64>().ok().filter(|v| *v >= 0)?;
        Some(Self { tx, position })
    }

    pub fn token(&self) -> String {
        format!("{}-{}", self.tx, self.position)
    }
}

impl std::fmt::Display for FeedPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.tx, self.position)
    }
}

/// A stored event with its full envelope, payload already upcast to the current schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedEvent {
    pub position: i64,
    pub tx: i64,
    pub event_id: Uuid,
    pub workspace_id: Uuid,
    pub stream_type: String,
    pub stream_id: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: i32,
    pub data: serde_json::Value,
    pub metadata: Metadata,
    pub recorded_at: DateTime<Utc>,
    /// The data subjects whose personal data `data` shows in clear (decrypted on this read).
    /// Empty when the event carries none, or only erased subjects' (shown as erased).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub personal_subjects: Vec<Uuid>,
}

impl RecordedEvent {
    pub fn feed_position(&self) -> FeedPosition {
        FeedPosition::new(self.tx, self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_token_round_trips() {
        let p = FeedPosition::new(7781, 120);
        assert_eq!(FeedPosition::parse_token(&p.token()), Some(p));
    }

    #[test]
    fn malformed_position_tokens_are_rejected() {
        for bad in ["", "12", "a-b", "-1-2", "1-", "1--2"] {
            assert_eq!(FeedPosition::parse_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn feed_positions_order_by_transaction_first() {
        assert!(FeedPosition::new(1, 50) < FeedPosition::new(2, 10));
        assert!(FeedPosition::new(2, 10) < FeedPosition::new(2, 11));
    }
}
