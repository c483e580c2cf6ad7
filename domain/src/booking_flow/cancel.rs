//! Cancelling a booking: release its calendar days and give its stock back.

use chrono::{DateTime, Utc};

use super::{decide_day, decide_item, BookingDecision, Calendars, Inventory};
use crate::booking::{self, Actor, CancelBooking};
use crate::calendar::{CalendarKey, ReleaseSlot};
use crate::inventory::ReturnStock;
use crate::values::Reason;
use crate::workspace::Workspace;
use crate::{DomainError, Entity};

/// Cancel a booking.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelRequest {
    pub reason: Option<Reason>,
    pub by: Actor,
    pub now: DateTime<Utc>,
}

/// Decide a cancellation: `BookingCancelled`, `SlotReleased` on each calendar day it held, and
/// `StockReturned` for each item it holds. `calendars` and `inventory` hold those streams' states.
pub fn cancel_booking(
    booking: &booking::State,
    workspace: &Workspace,
    calendars: &Calendars,
    inventory: &Inventory,
    request: &CancelRequest,
) -> Result<BookingDecision, DomainError> {
    let Some(current) = booking else {
        return Err(DomainError::not_found(Entity::Booking, ""));
    };
    let mut decision = BookingDecision::new(current.id);
    let cancel = CancelBooking {
        reason: request.reason.clone(),
        by: request.by,
        now: request.now,
        cancellation_window_hours: workspace.settings.cancellation_window_hours,
    };
    decision.booking.events = booking::decide(booking, &cancel.into())?;
    let mut days = calendars.clone();
    for date in &current.calendar_dates {
        let key = CalendarKey {
            staff_id: current.staff_id,
            date: *date,
        };
        let release = ReleaseSlot {
            staff_id: current.staff_id,
            date: *date,
            booking_id: current.id,
        };
        let events = decide_day(&mut days, key, release.into())?;
        decision.push_calendar(key, events);
    }
    let mut items = inventory.clone();
    for held in &current.inventory {
        let give_back = ReturnStock {
            booking_id: current.id,
            quantity: held.quantity,
        };
        let events = decide_item(&mut items, held.item_id, give_back.into())?;
        decision.push_inventory(held.item_id, events);
    }
    Ok(decision)
}
