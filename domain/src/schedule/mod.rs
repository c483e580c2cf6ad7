//! A staff member's working hours: a weekly pattern plus dated exceptions.
//!
//! Stream `schedule-<staff_id>`. Hours are local wall-clock ranges, expanded per date in the
//! workspace's zone by `crate::slots`.

mod command;
mod decide;
mod event;
mod hours;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::ScheduleEvent;
pub use hours::{AvailabilityException, DayHours, WeeklyHours};

use crate::values::LocalRange;

/// Stream type of schedules.
pub const STREAM_TYPE: &str = "schedule";

/// `schedule-<staff_id>`.
pub fn stream_id(staff_id: Uuid) -> String {
    format!("schedule-{staff_id}")
}

/// A staff member's availability (empty until set).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    pub staff_id: Option<Uuid>,
    pub weekly: Vec<WeeklyHours>,
    pub exceptions: BTreeMap<NaiveDate, DayHours>,
}

impl Schedule {
    /// A schedule from its parts (used by slot computations and tests).
    pub fn new(weekly: Vec<WeeklyHours>, exceptions: Vec<AvailabilityException>) -> Self {
        Schedule {
            staff_id: None,
            weekly,
            exceptions: exceptions.into_iter().map(|e| (e.date, e.hours)).collect(),
        }
    }

    /// The local opening ranges on `date`, sorted: the exception when there is one, else the
    /// weekly pattern for that weekday.
    pub fn hours_on(&self, date: NaiveDate) -> Vec<LocalRange> {
        let mut hours = match self.exceptions.get(&date) {
            Some(DayHours::Closed) => vec![],
            Some(DayHours::Open(ranges)) => ranges.clone(),
            None => self
                .weekly
                .iter()
                .filter(|w| w.weekday() == date.weekday())
                .map(|w| w.hours())
                .collect(),
        };
        hours.sort();
        hours
    }

    /// Whether any weekly hours are set (what activation asks for).
    pub fn has_weekly_availability(&self) -> bool {
        !self.weekly.is_empty()
    }
}

/// The state of a schedule stream.
pub type State = Schedule;

/// The schedule aggregate.
pub struct ScheduleAggregate;

impl crate::Aggregate for ScheduleAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = ScheduleCommand;
    type Event = ScheduleEvent;

    fn decide(
        state: &State,
        command: &ScheduleCommand,
    ) -> Result<Vec<ScheduleEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &ScheduleEvent) -> State {
        evolve(state, event)
    }
}
