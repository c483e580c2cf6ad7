//! Ranges of absolute time (UTC), half-open: what calendars reserve and slots offer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// `[start, end)` in UTC, start strictly before end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTimeRange")]
pub struct TimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Deserialize)]
struct RawTimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<RawTimeRange> for TimeRange {
    type Error = DomainError;
    fn try_from(raw: RawTimeRange) -> Result<Self, Self::Error> {
        TimeRange::new(raw.start, raw.end)
    }
}

impl TimeRange {
    /// A range; the start must come before the end.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, DomainError> {
        if start >= end {
            return Err(DomainError::invalid(
                "end",
                "a time range must end after it starts",
            ));
        }
        Ok(TimeRange { start, end })
    }

    /// The first instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the range.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether the ranges share any instant.
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `other` lies entirely inside this range.
    pub fn contains(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The range widened by buffers before and after.
    pub fn widened(&self, before: chrono::Duration, after: chrono::Duration) -> TimeRange {
        TimeRange {
            start: self.start - before,
            end: self.end + after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn touching_ranges_do_not_overlap() {
        let t = |h| Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).unwrap();
        let a = TimeRange::new(t(9), t(10)).unwrap();
        let b = TimeRange::new(t(10), t(11)).unwrap();
        assert!(!a.overlaps(&b));
        assert!(a
            .widened(chrono::Duration::zero(), chrono::Duration::minutes(1))
            .overlaps(&b));
        assert!(TimeRange::new(t(10), t(9)).is_err());
    }
}
