//! Free appointment slots, and whether one appointment fits a staff member's availability.
//!
//! Availability is local wall-clock hours per date in the workspace's zone. Each date's ranges
//! are turned into UTC windows here, so DST change days are right:
//! - candidate starts step through local wall-clock time from the opening time (09:00 local
//!   stays 09:00 local on both sides of a change);
//! - a candidate start that does not exist locally (spring forward) is skipped;
//! - an ambiguous one (fall back) is offered once, at its first occurrence;
//! - a window edge is the first instant whose local reading is at or after the wall time.
//!
//! The appointment itself must lie inside a window; its buffers must not overlap any existing
//! reservation (which already includes the other bookings' buffers).

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

use crate::schedule::Schedule;
use crate::values::{LocalRange, LocalTime, Minutes, TimeRange, TimeZone};
use crate::{DomainError, Rule};

/// Everything the slot computation looks at.
#[derive(Debug, Clone)]
pub struct SlotRequest<'a> {
    /// Weekly hours and dated exceptions of the staff member.
    pub schedule: &'a Schedule,
    /// Ranges already reserved (bookings plus their buffers).
    pub reservations: &'a [TimeRange],
    pub duration: Minutes,
    pub buffer_before: Minutes,
    pub buffer_after: Minutes,
    /// Spacing of candidate starts in local time (at least one minute is used).
    pub slot_step: Minutes,
    pub minimum_notice: Minutes,
    pub horizon_days: u32,
    pub timezone: TimeZone,
    /// First local date (inclusive).
    pub from: NaiveDate,
    /// Last local date (inclusive).
    pub to: NaiveDate,
    pub now: DateTime<Utc>,
}

/// A free appointment (without buffers), in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The first instant whose local wall-clock reading is at or after `wall`.
pub fn first_instant_at_or_after(tz: TimeZone, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
    let tz = tz.tz();
    // Gaps are at most a few hours; walk forward minute by minute to the gap's end.
    (0..=24 * 60).find_map(
        |m| match tz.from_local_datetime(&(wall + Duration::minutes(m))) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
            LocalResult::None => None,
        },
    )
}

/// The instant of a local start time: `None` when it does not exist, the first occurrence when
/// it is ambiguous.
pub fn local_start(tz: TimeZone, date: NaiveDate, time: LocalTime) -> Option<DateTime<Utc>> {
    match tz.tz().from_local_datetime(&date.and_time(time.naive())) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// The UTC window of a local range on a date (`None` if DST swallowed it entirely).
pub fn window(tz: TimeZone, date: NaiveDate, range: LocalRange) -> Option<TimeRange> {
    let start = first_instant_at_or_after(tz, date.and_time(range.start().naive()))?;
    let end = first_instant_at_or_after(tz, date.and_time(range.end().naive()))?;
    TimeRange::new(start, end).ok()
}

/// The UTC windows of availability on one local date.
pub fn windows_on(schedule: &Schedule, tz: TimeZone, date: NaiveDate) -> Vec<TimeRange> {
    schedule
        .hours_on(date)
        .into_iter()
        .filter_map(|range| window(tz, date, range))
        .collect()
}

/// Refuse (`outside_availability`) an appointment that does not lie inside one window of its
/// local date.
pub fn check_within_availability(
    schedule: &Schedule,
    tz: TimeZone,
    appointment: &TimeRange,
) -> Result<(), DomainError> {
    let date = appointment.start().with_timezone(&tz.tz()).date_naive();
    if windows_on(schedule, tz, date)
        .iter()
        .any(|w| w.contains(appointment))
    {
        Ok(())
    } else {
        Err(DomainError::rule(
            Rule::OutsideAvailability,
            "the staff member is not available for the whole appointment",
        ))
    }
}

/// Free slots in the date range, sorted, as UTC instants.
pub fn free_slots(request: &SlotRequest<'_>) -> Vec<Slot> {
    let tz = request.timezone;
    let step = Duration::minutes(i64::from(request.slot_step.get().max(1)));
    let duration = request.duration.duration();
    if request.duration.get() == 0 {
        return vec![];
    }
    let earliest = request.now + request.minimum_notice.duration();
    let latest = request.now + Duration::days(i64::from(request.horizon_days));
    let mut slots = Vec::new();
    for date in request.from.iter_days().take_while(|d| *d <= request.to) {
        for range in request.schedule.hours_on(date) {
            let Some(window) = window(tz, date, range) else {
                continue;
            };
            let mut wall = date.and_time(range.start().naive());
            let close = date.and_time(range.end().naive());
            while wall < close {
                let candidate = match tz.tz().from_local_datetime(&wall) {
                    LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                    LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
                    LocalResult::None => None,
                };
                wall += step;
                let Some(start) = candidate else { continue };
                let Ok(appointment) = TimeRange::new(start, start + duration) else {
                    continue;
                };
                if start < earliest || start > latest || !window.contains(&appointment) {
                    continue;
                }
                let occupied = appointment.widened(
                    request.buffer_before.duration(),
                    request.buffer_after.duration(),
                );
                if request.reservations.iter().any(|r| r.overlaps(&occupied)) {
                    continue;
                }
                slots.push(Slot {
                    start,
                    end: appointment.end(),
                });
            }
        }
    }
    slots.sort();
    slots.dedup();
    slots
}

#[cfg(test)]
mod tests;
