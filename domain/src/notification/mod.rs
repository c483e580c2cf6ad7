//! Notifications the robot employee sent (or gave up on): one stream per notification.
//!
//! Stream `notification-<id>`. The notifier derives each notification's id from what caused
//! it (the event, the kind, the recipient, the channel), so the stream doubles as the
//! "sent once" guard: recording a second outcome for the same id is refused with
//! [`Conflict::AlreadySent`](crate::Conflict::AlreadySent), whichever notifier replica tries.
//! Events carry ids, kinds and the provider only: addresses and message bodies are personal
//! data and never enter this stream. A `NotificationFailed` is what raises the owner's
//! "failed notification" alert.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::conversation::Channel;
pub use command::*;
pub use decide::{decide, evolve};
pub use event::NotificationEvent;

/// Stream type of notifications.
pub const STREAM_TYPE: &str = "notification";

/// `notification-<id>`.
pub fn stream_id(notification_id: Uuid) -> String {
    format!("notification-{notification_id}")
}

/// What a notification is about (one wording per kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// The customer's booking is confirmed (with an `.ics` and a manage link).
    BookingConfirmation,
    /// The customer's booking awaits the business's approval.
    BookingRequested,
    /// The owner / assigned staff member learns of a new booking.
    NewBooking,
    /// The appointment moved.
    BookingRescheduled,
    /// The appointment was cancelled.
    BookingCancelled,
    /// A reminder some time before the start.
    Reminder,
    /// "Thank you / rate us" after the visit.
    FollowUp,
    /// An invited staff member's credentials.
    StaffInvitation,
    /// The owner is told to reorder an item.
    LowStock,
    /// A contact is asked to fill in a form.
    FormRequest,
    /// A message written in the inbox, delivered to the contact.
    InboxMessage,
    /// The owner's morning pulse.
    DailySummary,
    /// An event the notifier could not handle after several deliveries (set aside).
    DeadLetter,
}

impl NotificationKind {
    /// Every kind.
    pub const ALL: [NotificationKind; 13] = [
        NotificationKind::BookingConfirmation,
        NotificationKind::BookingRequested,
        NotificationKind::NewBooking,
        NotificationKind::BookingRescheduled,
        NotificationKind::BookingCancelled,
        NotificationKind::Reminder,
        NotificationKind::FollowUp,
        NotificationKind::StaffInvitation,
        NotificationKind::LowStock,
        NotificationKind::FormRequest,
        NotificationKind::InboxMessage,
        NotificationKind::DailySummary,
        NotificationKind::DeadLetter,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::BookingConfirmation => "booking_confirmation",
            NotificationKind::BookingRequested => "booking_requested",
            NotificationKind::NewBooking => "new_booking",
            NotificationKind::BookingRescheduled => "booking_rescheduled",
            NotificationKind::BookingCancelled => "booking_cancelled",
            NotificationKind::Reminder => "reminder",
            NotificationKind::FollowUp => "follow_up",
            NotificationKind::StaffInvitation => "staff_invitation",
            NotificationKind::LowStock => "low_stock",
            NotificationKind::FormRequest => "form_request",
            NotificationKind::InboxMessage => "inbox_message",
            NotificationKind::DailySummary => "daily_summary",
            NotificationKind::DeadLetter => "dead_letter",
        }
    }

    /// Parses the wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Who a notification is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientRole {
    /// The contact (customer) of a booking, form request or conversation.
    Customer,
    /// The workspace owner.
    Owner,
    /// A staff member (the assigned one, or the invited one).
    Staff,
}

impl RecipientRole {
    /// Every role.
    pub const ALL: [RecipientRole; 3] = [
        RecipientRole::Customer,
        RecipientRole::Owner,
        RecipientRole::Staff,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientRole::Customer => "customer",
            RecipientRole::Owner => "owner",
            RecipientRole::Staff => "staff",
        }
    }

    /// Parses the wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// How a notification ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Delivered to the provider.
    Sent { provider: String },
    /// Given up after the last try.
    Failed { reason: String, attempts: u32 },
    /// The owner's daily summary of that local date was delivered.
    DailySummarySent { local_date: NaiveDate },
}

/// A recorded notification (built by `evolve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub kind: NotificationKind,
    pub outcome: Outcome,
}

/// The state of a notification stream: `None` until an outcome is recorded.
pub type State = Option<Notification>;

/// The notification aggregate.
pub struct NotificationAggregate;

impl crate::Aggregate for NotificationAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = NotificationCommand;
    type Event = NotificationEvent;

    fn decide(
        state: &State,
        command: &NotificationCommand,
    ) -> Result<Vec<NotificationEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &NotificationEvent) -> State {
        evolve(state, event)
    }
}
