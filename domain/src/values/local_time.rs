//! Local wall-clock times (`"HH:MM"`) and ranges of them, as used by opening hours.
//!
//! They carry no zone: they are read in the workspace's IANA zone and expanded per date, see
//! `crate::slots`.

use chrono::{NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A wall-clock time of day with minute precision, `00:00` to `23:59`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    /// Parse `"HH:MM"` (24-hour clock).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let bad =
            || DomainError::invalid("time", format!("expected a time as HH:MM, got {input:?}"));
        let (h, m) = input.trim().split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        NaiveTime::from_hms_opt(h, m, 0)
            .map(LocalTime)
            .ok_or_else(bad)
    }

    /// From hours and minutes.
    pub fn from_hm(hour: u32, minute: u32) -> Result<Self, DomainError> {
        NaiveTime::from_hms_opt(hour, minute, 0)
            .map(LocalTime)
            .ok_or_else(|| {
                DomainError::invalid("time", format!("{hour}:{minute} is not a time of day"))
            })
    }

    /// As a chrono time.
    pub fn naive(self) -> NaiveTime {
        self.0
    }

    /// Minutes since midnight.
    pub fn minutes_from_midnight(self) -> u32 {
        self.0.hour() * 60 + self.0.minute()
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl TryFrom<String> for LocalTime {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> Self {
        value.to_string()
    }
}

/// A wall-clock range within one day, start strictly before end (`{"start": "09:00", "end": "17:00"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawRange")]
pub struct LocalRange {
    start: LocalTime,
    end: LocalTime,
}

#[derive(Deserialize)]
struct RawRange {
    start: LocalTime,
    end: LocalTime,
}

impl TryFrom<RawRange> for LocalRange {
    type Error = DomainError;
    fn try_from(raw: RawRange) -> Result<Self, Self::Error> {
        LocalRange::new(raw.start, raw.end)
    }
}

impl LocalRange {
    /// A range; the start must come before the end.
    pub fn new(start: LocalTime, end: LocalTime) -> Result<Self, DomainError> {
        if start >= end {
            return Err(DomainError::invalid(
                "end",
                format!("the end ({end}) must come after the start ({start})"),
            ));
        }
        Ok(LocalRange { start, end })
    }

    /// Parse `"09:00"`, `"17:00"`.
    pub fn parse(start: &str, end: &str) -> Result<Self, DomainError> {
        LocalRange::new(LocalTime::parse(start)?, LocalTime::parse(end)?)
    }

    /// The opening time.
    pub fn start(&self) -> LocalTime {
        self.start
    }

    /// The closing time.
    pub fn end(&self) -> LocalTime {
        self.end
    }

    /// Whether two ranges share any minute.
    pub fn overlaps(&self, other: &LocalRange) -> bool {
        self.start < other.end && other.start < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_time_is_parsed_from_hh_mm() {
        assert_eq!(
            LocalTime::parse("09:30").unwrap().minutes_from_midnight(),
            570
        );
        assert_eq!(LocalTime::parse("23:59").unwrap().to_string(), "23:59");
    }

    #[test]
    fn malformed_local_times_are_refused() {
        for bad in ["9:30", "24:00", "12:60", "noon", "12-30", ""] {
            assert_eq!(
                LocalTime::parse(bad).unwrap_err().field(),
                Some("time"),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused() {
        assert!(LocalRange::parse("17:00", "09:00").is_err());
        assert!(LocalRange::parse("09:00", "09:00").is_err());
        assert!(serde_json::from_str::<LocalRange>(r#"{"start":"10:00","end":"09:00"}"#).is_err());
        let range: LocalRange = serde_json::from_str(r#"{"start":"09:00","end":"17:00"}"#).unwrap();
        assert_eq!(range, LocalRange::parse("09:00", "17:00").unwrap());
    }
}
