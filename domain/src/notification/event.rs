//! What happened to a notification. No addresses, no bodies: those are personal data.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Channel, NotificationKind, RecipientRole};
use crate::event::{event_type_list, event_type_names};
use crate::DomainEvent;

/// Events of the `notification` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum NotificationEvent {
    /// Handed to the provider (`file`, `smtp`, `resend`, `sendgrid`, `twilio`).
    NotificationSent {
        notification_id: Uuid,
        workspace_id: Uuid,
        kind: NotificationKind,
        channel: Channel,
        recipient_role: RecipientRole,
        /// The contact or user it went to.
        #[serde(default)]
        recipient_id: Option<Uuid>,
        /// What it is about: a booking, item, user, form request, message or workspace.
        subject_id: Uuid,
        provider: String,
        at: DateTime<Utc>,
    },
    /// Every try failed (or it could not be prepared); the owner gets an alert.
    NotificationFailed {
        notification_id: Uuid,
        workspace_id: Uuid,
        kind: NotificationKind,
        /// `None` when the failure came before a channel was chosen (a set-aside event).
        channel: Option<Channel>,
        subject_id: Uuid,
        /// A short explanation without personal data (provider and status, not the answer).
        reason: String,
        attempts: u32,
        at: DateTime<Utc>,
    },
    /// The owner's daily summary for `local_date` (in the workspace's zone) was sent.
    DailySummarySent {
        notification_id: Uuid,
        workspace_id: Uuid,
        local_date: NaiveDate,
        channel: Channel,
        provider: String,
        at: DateTime<Utc>,
    },
}

event_type_list!(NotificationEvent: NotificationSent, NotificationFailed, DailySummarySent);

impl DomainEvent for NotificationEvent {
    event_type_names!(NotificationSent, NotificationFailed, DailySummarySent);
}
