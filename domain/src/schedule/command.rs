//! What one may ask of a schedule.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{AvailabilityException, WeeklyHours};
use crate::aggregate::commands;

/// Replace the weekly hours and all exceptions (the availability PUT).
#[derive(Debug, Clone, PartialEq)]
pub struct SetAvailability {
    pub staff_id: Uuid,
    pub workspace_id: Uuid,
    pub weekly: Vec<WeeklyHours>,
    pub exceptions: Vec<AvailabilityException>,
}

/// Add or replace the exception for one date.
#[derive(Debug, Clone, PartialEq)]
pub struct SetException {
    pub staff_id: Uuid,
    pub exception: AvailabilityException,
}

/// Remove the exception for one date.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoveException {
    pub staff_id: Uuid,
    pub date: NaiveDate,
}

commands!(
    /// Every schedule intent.
    ScheduleCommand {
        SetAvailability(SetAvailability),
        SetException(SetException),
        RemoveException(RemoveException),
    }
);
