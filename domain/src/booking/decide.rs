//! Booking decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Entity, Rule};

fn not_in(status: BookingStatus, what: &str) -> DomainError {
    DomainError::transition(format!("a {} booking cannot be {what}", status.as_str()))
}

/// Decide a booking command.
pub fn decide(state: &State, command: &BookingCommand) -> Result<Vec<BookingEvent>, DomainError> {
    let booking = match (state, command) {
        (Some(_), BookingCommand::Create(_)) => {
            return Err(DomainError::conflict(
                Conflict::AlreadyExists,
                "the booking already exists",
            ))
        }
        (None, BookingCommand::Create(c)) => {
            return Ok(vec![BookingEvent::BookingCreated {
                booking_id: c.booking_id,
                workspace_id: c.workspace_id,
                service_id: c.service_id,
                staff_id: c.staff_id,
                contact_id: c.contact_id,
                start: c.appointment.start(),
                end: c.appointment.end(),
                buffer_before_minutes: c.buffer_before,
                buffer_after_minutes: c.buffer_after,
                price: c.price,
                status: c.status.into(),
                source: c.source,
                notes: Personal::Known(c.notes.clone()),
                calendar_dates: c.calendar_dates.clone(),
                inventory: c.inventory.clone(),
            }])
        }
        (None, _) => return Err(DomainError::not_found(Entity::Booking, "")),
        (Some(booking), _) => booking,
    };
    let id = booking.id;
    let status = booking.status;
    match command {
        BookingCommand::Create(_) => Ok(vec![]),
        BookingCommand::Confirm(_) => {
            if status != BookingStatus::Pending {
                return Err(not_in(status, "confirmed"));
            }
            Ok(vec![BookingEvent::BookingConfirmed { booking_id: id }])
        }
        BookingCommand::Reschedule(c) => {
            if !status.is_open() {
                return Err(not_in(status, "rescheduled"));
            }
            if c.appointment == booking.appointment && c.staff_id == booking.staff_id {
                return Ok(vec![]);
            }
            Ok(vec![BookingEvent::BookingRescheduled {
                booking_id: id,
                old_start: booking.start(),
                old_end: booking.end(),
                old_staff_id: booking.staff_id,
                new_start: c.appointment.start(),
                new_end: c.appointment.end(),
                new_staff_id: c.staff_id,
                calendar_dates: c.calendar_dates.clone(),
            }])
        }
        BookingCommand::Cancel(c) => {
            if !status.is_open() {
                return Err(not_in(status, "cancelled"));
            }
            let window = chrono::Duration::hours(i64::from(c.cancellation_window_hours));
            if c.by == Actor::Customer && c.now > booking.start() - window {
                return Err(DomainError::rule(
                    Rule::CancellationWindowPassed,
                    format!(
                        "bookings can be cancelled online until {} hours before the start",
                        c.cancellation_window_hours
                    ),
                ));
            }
            Ok(vec![BookingEvent::BookingCancelled {
                booking_id: id,
                reason: c.reason.clone(),
                by: c.by,
            }])
        }
        BookingCommand::Complete(c) => {
            if status != BookingStatus::Confirmed {
                return Err(not_in(status, "completed"));
            }
            if c.now < booking.start() {
                return Err(DomainError::rule(
                    Rule::BookingNotStarted,
                    "the visit has not started yet",
                ));
            }
            let mut used = c.inventory_used.clone();
            used.sort();
            if used.windows(2).any(|w| w[0].item_id == w[1].item_id) {
                return Err(DomainError::invalid(
                    "inventory_used",
                    "an item is listed twice",
                ));
            }
            Ok(vec![BookingEvent::BookingCompleted {
                booking_id: id,
                inventory_used: c.inventory_used.clone(),
            }])
        }
        BookingCommand::MarkNoShow(c) => {
            if status != BookingStatus::Confirmed {
                return Err(not_in(status, "marked as a no-show"));
            }
            if c.now < booking.start() {
                return Err(DomainError::rule(
                    Rule::BookingNotStarted,
                    "the visit has not started yet",
                ));
            }
            Ok(vec![BookingEvent::BookingNoShow { booking_id: id }])
        }
        BookingCommand::RecordReminderSent(c) => {
            if !status.is_open() {
                return Err(not_in(status, "reminded"));
            }
            if booking.reminders_sent.contains(&c.offset_minutes.get()) {
                return Err(DomainError::conflict(
                    Conflict::AlreadySent,
                    "this reminder was already sent",
                ));
            }
            Ok(vec![BookingEvent::ReminderSent {
                booking_id: id,
                offset_minutes: c.offset_minutes,
                at: c.at,
            }])
        }
        BookingCommand::RecordFollowUpSent(c) => {
            if status != BookingStatus::Completed {
                return Err(not_in(status, "followed up"));
            }
            if booking.follow_up_sent {
                return Err(DomainError::conflict(
                    Conflict::AlreadySent,
                    "the follow-up was already sent",
                ));
            }
            Ok(vec![BookingEvent::FollowUpSent {
                booking_id: id,
                at: c.at,
            }])
        }
    }
}

/// Apply a booking event.
pub fn evolve(state: State, event: &BookingEvent) -> State {
    let mut booking = match (state, event) {
        (
            _,
            BookingEvent::BookingCreated {
                booking_id,
                workspace_id,
                service_id,
                staff_id,
                contact_id,
                start,
                end,
                buffer_before_minutes,
                buffer_after_minutes,
                price,
                status,
                source,
                notes,
                calendar_dates,
                inventory,
            },
        ) => {
            // An event with end <= start cannot have been decided; keep the state unchanged if seen.
            let appointment = TimeRange::new(*start, *end).ok()?;
            return Some(Booking {
                id: *booking_id,
                workspace_id: *workspace_id,
                service_id: *service_id,
                staff_id: *staff_id,
                contact_id: *contact_id,
                appointment,
                buffer_before: *buffer_before_minutes,
                buffer_after: *buffer_after_minutes,
                price: *price,
                status: *status,
                source: *source,
                notes: notes.clone(),
                calendar_dates: calendar_dates.clone(),
                inventory: inventory.clone(),
                reminders_sent: BTreeSet::new(),
                follow_up_sent: false,
            });
        }
        (None, _) => return None,
        (Some(booking), _) => booking,
    };
    match event {
        BookingEvent::BookingCreated { .. } => {}
        BookingEvent::BookingConfirmed { .. } => booking.status = BookingStatus::Confirmed,
        BookingEvent::BookingRescheduled {
            new_start,
            new_end,
            new_staff_id,
            calendar_dates,
            ..
        } => {
            if let Ok(appointment) = TimeRange::new(*new_start, *new_end) {
                booking.appointment = appointment;
            }
            booking.staff_id = *new_staff_id;
            booking.calendar_dates = calendar_dates.clone();
            booking.reminders_sent.clear();
        }
        BookingEvent::BookingCancelled { .. } => {
            booking.status = BookingStatus::Cancelled;
            booking.inventory.clear();
            booking.calendar_dates.clear();
        }
        BookingEvent::BookingCompleted { inventory_used, .. } => {
            booking.status = BookingStatus::Completed;
            booking.inventory = inventory_used.clone();
        }
        BookingEvent::BookingNoShow { .. } => booking.status = BookingStatus::NoShow,
        BookingEvent::ReminderSent { offset_minutes, .. } => {
            booking.reminders_sent.insert(offset_minutes.get());
        }
        BookingEvent::FollowUpSent { .. } => booking.follow_up_sent = true,
    }
    Some(booking)
}
