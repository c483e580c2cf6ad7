//! Bookings: one appointment of one contact with one staff member for one service.
//!
//! Stream `booking-<id>`. Decides the status machine `pending → confirmed → completed | no_show`,
//! `cancelled` from pending or confirmed, and that each reminder / the follow-up is recorded once.
//! Creating, cancelling, rescheduling and completing also touch calendar and inventory streams:
//! those cross-stream decisions live in `crate::booking_flow`.

mod command;
mod decide;
mod event;
mod status;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::BookingEvent;
pub use status::{Actor, BookingSource, BookingStatus, InitialStatus};

use crate::service::ItemQuantity;
use crate::values::{Minutes, Money, Notes, TimeRange};
use crate::Personal;

/// Stream type of bookings.
pub const STREAM_TYPE: &str = "booking";

/// `booking-<id>`.
pub fn stream_id(booking_id: Uuid) -> String {
    format!("booking-{booking_id}")
}

/// A booking (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Booking {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub service_id: Uuid,
    pub staff_id: Uuid,
    pub contact_id: Uuid,
    /// The appointment itself, without buffers.
    pub appointment: TimeRange,
    pub buffer_before: Minutes,
    pub buffer_after: Minutes,
    pub price: Money,
    pub status: BookingStatus,
    pub source: BookingSource,
    pub notes: Personal<Option<Notes>>,
    /// Local dates whose calendar streams hold this booking's reservation.
    pub calendar_dates: Vec<NaiveDate>,
    /// Stock this booking currently holds (deducted and not returned).
    pub inventory: Vec<ItemQuantity>,
    pub reminders_sent: BTreeSet<u32>,
    pub follow_up_sent: bool,
}

impl Booking {
    /// Start of the appointment.
    pub fn start(&self) -> DateTime<Utc> {
        self.appointment.start()
    }

    /// End of the appointment.
    pub fn end(&self) -> DateTime<Utc> {
        self.appointment.end()
    }

    /// The range reserved in the calendar: the appointment widened by its buffers.
    pub fn reserved(&self) -> TimeRange {
        self.appointment
            .widened(self.buffer_before.duration(), self.buffer_after.duration())
    }
}

/// The state of a booking stream: `None` until created.
pub type State = Option<Booking>;

/// The booking aggregate.
pub struct BookingAggregate;

impl crate::Aggregate for BookingAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = BookingCommand;
    type Event = BookingEvent;

    fn decide(
        state: &State,
        command: &BookingCommand,
    ) -> Result<Vec<BookingEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &BookingEvent) -> State {
        evolve(state, event)
    }
}
