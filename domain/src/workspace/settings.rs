//! Workspace settings that drive the robot employee and the booking rules.

use serde::{Deserialize, Serialize};

use crate::values::Minutes;
use crate::DomainError;

/// Notification and booking settings. Missing fields (older events) read as their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkspaceSettings {
    /// Reminders before the start of a booking (default 24 h and 1 h).
    pub reminder_offsets_minutes: Vec<Minutes>,
    /// Follow-up after the visit ends (default 60 min).
    pub follow_up_delay_minutes: Minutes,
    /// Local hour of the owner's daily summary, 0–23 (default 8).
    pub daily_summary_hour: u8,
    /// Customers cannot cancel themselves within this many hours of the start (default 24).
    pub cancellation_window_hours: u32,
    /// Public bookings start `pending` instead of `confirmed` (default false).
    pub approval_required: bool,
    /// Spacing of offered start times (default 15 min).
    pub slot_step_minutes: Minutes,
    /// Public bookings must start at least this long from now (default 60 min).
    pub minimum_notice_minutes: Minutes,
    /// Public bookings at most this many days ahead (default 60).
    pub booking_horizon_days: u32,
}

impl Default for WorkspaceSettings {
    fn default() -> Self {
        WorkspaceSettings {
            reminder_offsets_minutes: vec![Minutes::new(24 * 60), Minutes::new(60)],
            follow_up_delay_minutes: Minutes::new(60),
            daily_summary_hour: 8,
            cancellation_window_hours: 24,
            approval_required: false,
            slot_step_minutes: Minutes::new(15),
            minimum_notice_minutes: Minutes::new(60),
            booking_horizon_days: 60,
        }
    }
}

impl WorkspaceSettings {
    /// Check every bound; the first problem is reported with its field.
    pub fn validate(&self) -> Result<(), DomainError> {
        let offsets = &self.reminder_offsets_minutes;
        if offsets.len() > 5 {
            return Err(DomainError::invalid(
                "reminder_offsets_minutes",
                "at most 5 reminders",
            ));
        }
        if offsets
            .iter()
            .any(|m| m.get() == 0 || m.get() > 14 * 24 * 60)
        {
            return Err(DomainError::invalid(
                "reminder_offsets_minutes",
                "each reminder is between 1 minute and 14 days before the start",
            ));
        }
        let mut sorted: Vec<u32> = offsets.iter().map(|m| m.get()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != offsets.len() {
            return Err(DomainError::invalid(
                "reminder_offsets_minutes",
                "reminder offsets must differ",
            ));
        }
        if self.follow_up_delay_minutes.get() > 14 * 24 * 60 {
            return Err(DomainError::invalid(
                "follow_up_delay_minutes",
                "at most 14 days",
            ));
        }
        if self.daily_summary_hour > 23 {
            return Err(DomainError::invalid(
                "daily_summary_hour",
                "an hour of the day, 0 to 23",
            ));
        }
        if self.cancellation_window_hours > 24 * 30 {
            return Err(DomainError::invalid(
                "cancellation_window_hours",
                "at most 720 hours",
            ));
        }
        if !(5..=240).contains(&self.slot_step_minutes.get()) {
            return Err(DomainError::invalid(
                "slot_step_minutes",
                "between 5 and 240 minutes",
            ));
        }
        if self.minimum_notice_minutes.get() > 30 * 24 * 60 {
            return Err(DomainError::invalid(
                "minimum_notice_minutes",
                "at most 30 days",
            ));
        }
        if !(1..=730).contains(&self.booking_horizon_days) {
            return Err(DomainError::invalid(
                "booking_horizon_days",
                "between 1 and 730 days",
            ));
        }
        Ok(())
    }
}
