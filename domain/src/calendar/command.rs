//! What one may ask of a calendar day.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::aggregate::commands;
use crate::values::TimeRange;

/// Reserve a range (appointment plus buffers) for a booking.
#[derive(Debug, Clone, PartialEq)]
pub struct ReserveSlot {
    pub staff_id: Uuid,
    pub date: NaiveDate,
    pub booking_id: Uuid,
    pub range: TimeRange,
}

/// Release a booking's reservation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseSlot {
    pub staff_id: Uuid,
    pub date: NaiveDate,
    pub booking_id: Uuid,
}

commands!(
    /// Every calendar intent.
    CalendarCommand {
        Reserve(ReserveSlot),
        Release(ReleaseSlot),
    }
);
