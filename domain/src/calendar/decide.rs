//! Calendar decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Rule};

/// Decide a calendar command.
pub fn decide(state: &State, command: &CalendarCommand) -> Result<Vec<CalendarEvent>, DomainError> {
    match command {
        CalendarCommand::Reserve(c) => {
            if state.reservations.contains_key(&c.booking_id) {
                return Err(DomainError::conflict(
                    Conflict::AlreadyExists,
                    "the booking already holds a reservation here",
                ));
            }
            if let Some(other) = state.overlapping(&c.range, None) {
                return Err(DomainError::conflict(
                    Conflict::SlotUnavailable,
                    format!("the time overlaps booking {other} (buffers included)"),
                ));
            }
            Ok(vec![CalendarEvent::SlotReserved {
                staff_id: c.staff_id,
                date: c.date,
                booking_id: c.booking_id,
                range: c.range,
            }])
        }
        CalendarCommand::Release(c) => {
            if !state.reservations.contains_key(&c.booking_id) {
                return Err(DomainError::rule(
                    Rule::NotReserved,
                    "the booking holds no reservation on this day",
                ));
            }
            Ok(vec![CalendarEvent::SlotReleased {
                staff_id: c.staff_id,
                date: c.date,
                booking_id: c.booking_id,
            }])
        }
    }
}

/// Apply a calendar event.
pub fn evolve(mut state: State, event: &CalendarEvent) -> State {
    match event {
        CalendarEvent::SlotReserved {
            booking_id, range, ..
        } => {
            state.reservations.insert(*booking_id, *range);
        }
        CalendarEvent::SlotReleased { booking_id, .. } => {
            state.reservations.remove(booking_id);
        }
    }
    state
}
