//! Booking statuses, sources and actors.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Pending,
    Confirmed,
    Cancelled,
    Completed,
    NoShow,
}

impl BookingStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Pending => "pending",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::Completed => "completed",
            BookingStatus::NoShow => "no_show",
        }
    }

    /// Pending or confirmed: the appointment still lies ahead.
    pub fn is_open(self) -> bool {
        matches!(self, BookingStatus::Pending | BookingStatus::Confirmed)
    }
}

/// The status a booking can start in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialStatus {
    Pending,
    Confirmed,
}

impl From<InitialStatus> for BookingStatus {
    fn from(status: InitialStatus) -> Self {
        match status {
            InitialStatus::Pending => BookingStatus::Pending,
            InitialStatus::Confirmed => BookingStatus::Confirmed,
        }
    }
}

/// Who made the booking: the public booking page or a logged-in user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BookingSource {
    Public,
    Staff { user_id: Uuid },
}

/// Who did something to a booking: the customer (public link) or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Customer,
    Staff { user_id: Uuid },
}
