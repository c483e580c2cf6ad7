//! Weekly hours and dated exceptions, in the contract's wire shapes.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::values::{LocalRange, LocalTime};
use crate::DomainError;

/// Open on a weekday between two local times (`{"weekday": 1, "start": "09:00", "end": "17:00"}`,
/// weekday 1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWeekly", into = "RawWeekly")]
pub struct WeeklyHours {
    weekday: Weekday,
    hours: LocalRange,
}

#[derive(Serialize, Deserialize)]
struct RawWeekly {
    weekday: u8,
    start: LocalTime,
    end: LocalTime,
}

impl TryFrom<RawWeekly> for WeeklyHours {
    type Error = DomainError;
    fn try_from(raw: RawWeekly) -> Result<Self, Self::Error> {
        WeeklyHours::parse(raw.weekday, raw.start, raw.end)
    }
}

impl From<WeeklyHours> for RawWeekly {
    fn from(w: WeeklyHours) -> Self {
        RawWeekly {
            weekday: w.weekday.number_from_monday() as u8,
            start: w.hours.start(),
            end: w.hours.end(),
        }
    }
}

impl WeeklyHours {
    /// Hours on a weekday.
    pub fn new(weekday: Weekday, hours: LocalRange) -> Self {
        WeeklyHours { weekday, hours }
    }

    /// From the wire form: ISO weekday number 1–7 and a range.
    pub fn parse(weekday: u8, start: LocalTime, end: LocalTime) -> Result<Self, DomainError> {
        let weekday = match weekday {
            1 => Weekday::Mon,
            2 => Weekday::Tue,
            3 => Weekday::Wed,
            4 => Weekday::Thu,
            5 => Weekday::Fri,
            6 => Weekday::Sat,
            7 => Weekday::Sun,
            other => {
                return Err(DomainError::invalid(
                    "weekday",
                    format!("a weekday is 1 (Monday) to 7, got {other}"),
                ))
            }
        };
        Ok(WeeklyHours {
            weekday,
            hours: LocalRange::new(start, end)?,
        })
    }

    /// The weekday.
    pub fn weekday(&self) -> Weekday {
        self.weekday
    }

    /// The local opening range.
    pub fn hours(&self) -> LocalRange {
        self.hours
    }
}

/// What a dated exception says about its day: closed (`"closed"`) or other hours
/// (`{"open": [{"start": "10:00", "end": "14:00"}]}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayHours {
    Closed,
    Open(Vec<LocalRange>),
}

/// An exception for one local date.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AvailabilityException {
    pub date: NaiveDate,
    pub hours: DayHours,
}

/// Ranges that must not overlap each other.
pub(crate) fn check_no_overlap(field: &str, ranges: &[LocalRange]) -> Result<(), DomainError> {
    for (i, a) in ranges.iter().enumerate() {
        if let Some(b) = ranges[i + 1..].iter().find(|b| a.overlaps(b)) {
            return Err(DomainError::invalid(
                field,
                format!(
                    "{}–{} overlaps {}–{}",
                    a.start(),
                    a.end(),
                    b.start(),
                    b.end()
                ),
            ));
        }
    }
    Ok(())
}
