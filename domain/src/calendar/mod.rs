//! A staff member's day: the time ranges (with buffers) reserved by bookings.
//!
//! Stream `calendar-<staff_id>-<local date>`. This small stream is the strongly consistent guard
//! against double booking: two bookings of one slot append to the same stream, so one of them
//! hits a version conflict and is decided again against the winner's reservation.
//! A reservation is stored in full on every local date it touches.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::CalendarEvent;

use crate::values::{TimeRange, TimeZone};

/// Stream type of calendar days.
pub const STREAM_TYPE: &str = "calendar";

/// `calendar-<staff_id>-<YYYY-MM-DD>` (the local date in the workspace's zone).
pub fn stream_id(staff_id: Uuid, date: NaiveDate) -> String {
    format!("calendar-{staff_id}-{}", date.format("%Y-%m-%d"))
}

/// Which calendar stream: one staff member, one local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarKey {
    pub staff_id: Uuid,
    pub date: NaiveDate,
}

impl CalendarKey {
    /// The stream id.
    pub fn stream_id(&self) -> String {
        stream_id(self.staff_id, self.date)
    }
}

/// The local dates a UTC range touches in `tz` (one, or more when it spans local midnight).
pub fn dates_touched(range: &TimeRange, tz: TimeZone) -> Vec<NaiveDate> {
    let first = range.start().with_timezone(&tz.tz()).date_naive();
    let last = (range.end() - chrono::Duration::nanoseconds(1))
        .with_timezone(&tz.tz())
        .date_naive();
    first.iter_days().take_while(|d| *d <= last).collect()
}

/// The calendar keys a range touches for one staff member.
pub fn keys_touched(staff_id: Uuid, range: &TimeRange, tz: TimeZone) -> Vec<CalendarKey> {
    dates_touched(range, tz)
        .into_iter()
        .map(|date| CalendarKey { staff_id, date })
        .collect()
}

/// The reservations of one day (empty for a stream that does not exist yet).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Calendar {
    /// Reserved range (appointment plus buffers) per booking.
    pub reservations: BTreeMap<Uuid, TimeRange>,
}

impl Calendar {
    /// The booking whose reservation overlaps `range`, if any (ignoring `except`).
    pub fn overlapping(&self, range: &TimeRange, except: Option<Uuid>) -> Option<Uuid> {
        self.reservations
            .iter()
            .find(|(booking, reserved)| Some(**booking) != except && reserved.overlaps(range))
            .map(|(booking, _)| *booking)
    }
}

/// The state of a calendar stream.
pub type State = Calendar;

/// The calendar day aggregate.
pub struct CalendarAggregate;

impl crate::Aggregate for CalendarAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = CalendarCommand;
    type Event = CalendarEvent;

    fn decide(
        state: &State,
        command: &CalendarCommand,
    ) -> Result<Vec<CalendarEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &CalendarEvent) -> State {
        evolve(state, event)
    }
}
