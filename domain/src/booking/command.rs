//! What one may ask of a booking.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Actor, BookingSource, InitialStatus};
use crate::aggregate::commands;
use crate::service::ItemQuantity;
use crate::values::{Minutes, Money, Notes, Reason, TimeRange};

/// Record a new booking (normally decided by `booking_flow::place_booking`).
#[derive(Debug, Clone, PartialEq)]
pub struct CreateBooking {
    pub booking_id: Uuid,
    pub workspace_id: Uuid,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub contact_id: Uuid,
    pub appointment: TimeRange,
    pub buffer_before: Minutes,
    pub buffer_after: Minutes,
    pub price: Money,
    pub status: InitialStatus,
    pub source: BookingSource,
    pub notes: Option<Notes>,
    pub calendar_dates: Vec<NaiveDate>,
    pub inventory: Vec<ItemQuantity>,
}

/// Approve a pending booking.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmBooking;

/// Move the appointment (and maybe to another staff member).
#[derive(Debug, Clone, PartialEq)]
pub struct RescheduleBooking {
    pub appointment: TimeRange,
    pub staff_id: Uuid,
    pub calendar_dates: Vec<NaiveDate>,
}

/// Cancel; customers are refused inside the cancellation window.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelBooking {
    pub reason: Option<Reason>,
    pub by: Actor,
    pub now: DateTime<Utc>,
    pub cancellation_window_hours: u32,
}

/// The visit happened; `inventory_used` is what was actually consumed.
#[derive(Debug, Clone, PartialEq)]
pub struct CompleteBooking {
    pub inventory_used: Vec<ItemQuantity>,
    pub now: DateTime<Utc>,
}

/// The customer did not come.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkNoShow {
    pub now: DateTime<Utc>,
}

/// The notifier sent the reminder scheduled `offset_minutes` before the start.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordReminderSent {
    pub offset_minutes: Minutes,
    pub at: DateTime<Utc>,
}

/// The notifier sent the follow-up after the visit.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFollowUpSent {
    pub at: DateTime<Utc>,
}

commands!(
    /// Every booking intent.
    BookingCommand {
        Create(CreateBooking),
        Confirm(ConfirmBooking),
        Reschedule(RescheduleBooking),
        Cancel(CancelBooking),
        Complete(CompleteBooking),
        MarkNoShow(MarkNoShow),
        RecordReminderSent(RecordReminderSent),
        RecordFollowUpSent(RecordFollowUpSent),
    }
);
