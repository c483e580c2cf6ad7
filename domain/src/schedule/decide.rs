//! Schedule decisions and evolution.

use chrono::Weekday;

use super::hours::check_no_overlap;
use super::*;
use crate::{DomainError, Entity};

fn check_exception(exception: &AvailabilityException) -> Result<(), DomainError> {
    if let DayHours::Open(ranges) = &exception.hours {
        if ranges.is_empty() {
            return Err(DomainError::invalid(
                "exceptions",
                "an open exception needs hours (or say closed)",
            ));
        }
        check_no_overlap("exceptions", ranges)?;
    }
    Ok(())
}

/// Decide a schedule command.
pub fn decide(state: &State, command: &ScheduleCommand) -> Result<Vec<ScheduleEvent>, DomainError> {
    match command {
        ScheduleCommand::SetAvailability(c) => {
            for day in [
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ] {
                let ranges: Vec<LocalRange> = c
                    .weekly
                    .iter()
                    .filter(|w| w.weekday() == day)
                    .map(|w| w.hours())
                    .collect();
                check_no_overlap("weekly", &ranges)?;
            }
            for (i, exception) in c.exceptions.iter().enumerate() {
                check_exception(exception)?;
                if c.exceptions[..i].iter().any(|e| e.date == exception.date) {
                    return Err(DomainError::invalid(
                        "exceptions",
                        format!("{} is listed twice", exception.date),
                    ));
                }
            }
            Ok(vec![ScheduleEvent::AvailabilitySet {
                staff_id: c.staff_id,
                workspace_id: c.workspace_id,
                weekly: c.weekly.clone(),
                exceptions: c.exceptions.clone(),
            }])
        }
        ScheduleCommand::SetException(c) => {
            check_exception(&c.exception)?;
            Ok(vec![ScheduleEvent::AvailabilityExceptionSet {
                staff_id: c.staff_id,
                exception: c.exception.clone(),
            }])
        }
        ScheduleCommand::RemoveException(c) => {
            if !state.exceptions.contains_key(&c.date) {
                return Err(DomainError::not_found(
                    Entity::AvailabilityException,
                    c.date,
                ));
            }
            Ok(vec![ScheduleEvent::AvailabilityExceptionRemoved {
                staff_id: c.staff_id,
                date: c.date,
            }])
        }
    }
}

/// Apply a schedule event.
pub fn evolve(mut state: State, event: &ScheduleEvent) -> State {
    match event {
        ScheduleEvent::AvailabilitySet {
            staff_id,
            weekly,
            exceptions,
            ..
        } => {
            state = Schedule::new(weekly.clone(), exceptions.clone());
            state.staff_id = Some(*staff_id);
        }
        ScheduleEvent::AvailabilityExceptionSet {
            staff_id,
            exception,
        } => {
            state.staff_id = Some(*staff_id);
            state
                .exceptions
                .insert(exception.date, exception.hours.clone());
        }
        ScheduleEvent::AvailabilityExceptionRemoved { date, .. } => {
            state.exceptions.remove(date);
        }
    }
    state
}
