//! What happened to a calendar day.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{event_type_list, event_type_names};
use crate::values::TimeRange;
use crate::DomainEvent;

/// Events of the `calendar` stream. `start`/`end` include the service's buffers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum CalendarEvent {
    SlotReserved {
        staff_id: Uuid,
        date: NaiveDate,
        booking_id: Uuid,
        #[serde(flatten)]
        range: TimeRange,
    },
    SlotReleased {
        staff_id: Uuid,
        date: NaiveDate,
        booking_id: Uuid,
    },
}

event_type_list!(CalendarEvent: SlotReserved, SlotReleased);

impl DomainEvent for CalendarEvent {
    event_type_names!(SlotReserved, SlotReleased);
}
