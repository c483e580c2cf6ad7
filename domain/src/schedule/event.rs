//! What happened to a schedule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AvailabilityException, WeeklyHours};
use crate::event::{event_type_list, event_type_names};
use crate::DomainEvent;

/// Events of the `schedule` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum ScheduleEvent {
    AvailabilitySet {
        staff_id: Uuid,
        workspace_id: Uuid,
        weekly: Vec<WeeklyHours>,
        exceptions: Vec<AvailabilityException>,
    },
    AvailabilityExceptionSet {
        staff_id: Uuid,
        exception: AvailabilityException,
    },
    AvailabilityExceptionRemoved {
        staff_id: Uuid,
        date: NaiveDate,
    },
}

event_type_list!(ScheduleEvent: AvailabilitySet, AvailabilityExceptionSet, AvailabilityExceptionRemoved);

impl DomainEvent for ScheduleEvent {
    event_type_names!(
        AvailabilitySet,
        AvailabilityExceptionSet,
        AvailabilityExceptionRemoved
    );
}
