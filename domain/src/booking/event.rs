//! What happened to a booking.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Actor, BookingSource, BookingStatus};
use crate::event::{event_type_list, event_type_names};
use crate::service::ItemQuantity;
use crate::values::{Minutes, Money, Notes, Reason};
use crate::{DomainEvent, Personal, PersonalData};

/// Events of the `booking` stream. Instants are UTC; `start`/`end` exclude buffers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum BookingEvent {
    BookingCreated {
        booking_id: Uuid,
        workspace_id: Uuid,
        service_id: Uuid,
        staff_id: Uuid,
        contact_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        buffer_before_minutes: Minutes,
        buffer_after_minutes: Minutes,
        price: Money,
        status: BookingStatus,
        source: BookingSource,
        #[serde(default)]
        notes: Personal<Option<Notes>>,
        calendar_dates: Vec<NaiveDate>,
        inventory: Vec<ItemQuantity>,
    },
    BookingConfirmed {
        booking_id: Uuid,
    },
    BookingRescheduled {
        booking_id: Uuid,
        old_start: DateTime<Utc>,
        old_end: DateTime<Utc>,
        old_staff_id: Uuid,
        new_start: DateTime<Utc>,
        new_end: DateTime<Utc>,
        new_staff_id: Uuid,
        calendar_dates: Vec<NaiveDate>,
    },
    BookingCancelled {
        booking_id: Uuid,
        reason: Option<Reason>,
        by: Actor,
    },
    BookingCompleted {
        booking_id: Uuid,
        inventory_used: Vec<ItemQuantity>,
    },
    BookingNoShow {
        booking_id: Uuid,
    },
    ReminderSent {
        booking_id: Uuid,
        offset_minutes: Minutes,
        at: DateTime<Utc>,
    },
    FollowUpSent {
        booking_id: Uuid,
        at: DateTime<Utc>,
    },
}

event_type_list!(BookingEvent: BookingCreated, BookingConfirmed, BookingRescheduled, BookingCancelled, BookingCompleted, BookingNoShow, ReminderSent, FollowUpSent);

impl DomainEvent for BookingEvent {
    event_type_names!(
        BookingCreated,
        BookingConfirmed,
        BookingRescheduled,
        BookingCancelled,
        BookingCompleted,
        BookingNoShow,
        ReminderSent,
        FollowUpSent
    );

    fn personal_data(&self) -> Option<PersonalData> {
        match self {
            BookingEvent::BookingCreated { contact_id, .. } => Some(PersonalData {
                subject: *contact_id,
                fields: &["notes"],
            }),
            _ => None,
        }
    }
}
