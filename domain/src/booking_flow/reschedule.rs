//! Rescheduling a booking: release the old calendar days, reserve the new ones.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::place::{reserve, Placement};
use super::{decide_day, BookingDecision, Calendars};
use crate::booking::{self, RescheduleBooking};
use crate::calendar::{CalendarKey, ReleaseSlot};
use crate::schedule::Schedule;
use crate::user::User;
use crate::values::TimeRange;
use crate::workspace::Workspace;
use crate::{DomainError, Entity};

/// The states a reschedule reads.
#[derive(Debug, Clone, Copy)]
pub struct RescheduleContext<'a> {
    pub workspace: &'a Workspace,
    /// The staff member of the new time (the same one or another).
    pub staff: &'a User,
    /// That staff member's schedule.
    pub schedule: &'a Schedule,
    /// The old days of the old staff member and the new days of the new one.
    pub calendars: &'a Calendars,
}

/// Move a booking; the duration and buffers booked originally are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct RescheduleRequest {
    pub start: DateTime<Utc>,
    /// Public (customer) reschedules also honour notice and horizon.
    pub public: bool,
    pub now: DateTime<Utc>,
}

/// Decide a reschedule: `SlotReleased` on the old days, `SlotReserved` on the new ones (the same
/// day gets both, in that order), and `BookingRescheduled` with old and new times.
pub fn reschedule_booking(
    booking: &booking::State,
    ctx: &RescheduleContext<'_>,
    request: &RescheduleRequest,
) -> Result<BookingDecision, DomainError> {
    let Some(current) = booking else {
        return Err(DomainError::not_found(Entity::Booking, ""));
    };
    if !current.status.is_open() {
        return Err(DomainError::transition(format!(
            "a {} booking cannot be rescheduled",
            current.status.as_str()
        )));
    }
    let length = current.end() - current.start();
    let appointment = TimeRange::new(request.start, request.start + length)?;
    let reserved = appointment.widened(
        current.buffer_before.duration(),
        current.buffer_after.duration(),
    );
    let mut decision = BookingDecision::new(current.id);
    let mut days = ctx.calendars.clone();
    release_all(
        &mut decision,
        &mut days,
        current.staff_id,
        current.id,
        &current.calendar_dates,
    )?;
    let placement = Placement {
        workspace: ctx.workspace,
        staff: ctx.staff,
        schedule: ctx.schedule,
        booking_id: current.id,
        appointment,
        reserved,
        public: request.public,
        now: request.now,
    };
    let dates = reserve(&mut decision, &mut days, &placement)?;
    let command = RescheduleBooking {
        appointment,
        staff_id: ctx.staff.id,
        calendar_dates: dates,
    };
    decision.booking.events = booking::decide(booking, &command.into())?;
    if decision.booking.events.is_empty() {
        // Same time, same staff: nothing to release or reserve either.
        decision.calendars.clear();
    }
    Ok(decision)
}

fn release_all(
    decision: &mut BookingDecision,
    days: &mut Calendars,
    staff_id: Uuid,
    booking_id: Uuid,
    dates: &[chrono::NaiveDate],
) -> Result<(), DomainError> {
    for date in dates {
        let key = CalendarKey {
            staff_id,
            date: *date,
        };
        let events = decide_day(
            days,
            key,
            ReleaseSlot {
                staff_id,
                date: *date,
                booking_id,
            }
            .into(),
        )?;
        decision.push_calendar(key, events);
    }
    Ok(())
}
