//! Opaque list cursors: the sort key of the last item of a page, `(instant, id)`, written
//! as hex so that clients treat it as a token.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::QueryError;

/// The position after which the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn new(at: DateTime<Utc>, id: Uuid) -> Self {
        Cursor { at, id }
    }

    pub fn encode(&self) -> String {
        let plain = format!("{}:{}", self.at.timestamp_micros(), self.id);
        plain.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(token: &str) -> Result<Self, QueryError> {
        let bytes = (0..token.len())
            .step_by(2)
            .map(|i| {
                token
                    .get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or(QueryError::InvalidCursor)?;
        let plain = String::from_utf8(bytes).map_err(|_| QueryError::InvalidCursor)?;
        let (micros, id) = plain.split_once(':').ok_or(QueryError::InvalidCursor)?;
        let micros: i64 = micros.parse().map_err(|_| QueryError::InvalidCursor)?;
        let at = DateTime::from_timestamp_micros(micros).ok_or(QueryError::InvalidCursor)?;
        let id = Uuid::parse_str(id).map_err(|_| QueryError::InvalidCursor)?;
        Ok(Cursor { at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let c = Cursor::new(
            DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            Uuid::now_v7(),
        );
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn a_foreign_cursor_is_rejected() {
        for bad in ["", "zz", "abc", "3132"] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }
}
