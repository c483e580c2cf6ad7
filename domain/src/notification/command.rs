//! What the notifier records about a notification.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{Channel, NotificationKind, RecipientRole};
use crate::aggregate::commands;

/// The notification was handed to a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSent {
    pub notification_id: Uuid,
    pub workspace_id: Uuid,
    pub kind: NotificationKind,
    pub channel: Channel,
    pub recipient_role: RecipientRole,
    pub recipient_id: Option<Uuid>,
    pub subject_id: Uuid,
    pub provider: String,
    pub at: DateTime<Utc>,
}

/// Every try failed; give up and alert the owner.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFailed {
    pub notification_id: Uuid,
    pub workspace_id: Uuid,
    pub kind: NotificationKind,
    pub channel: Option<Channel>,
    pub subject_id: Uuid,
    pub reason: String,
    pub attempts: u32,
    pub at: DateTime<Utc>,
}

/// The owner's daily summary for one local date was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDailySummarySent {
    pub notification_id: Uuid,
    pub workspace_id: Uuid,
    pub local_date: NaiveDate,
    pub channel: Channel,
    pub provider: String,
    pub at: DateTime<Utc>,
}

commands!(
    /// Every notification intent.
    NotificationCommand {
        RecordSent(RecordSent),
        RecordFailed(RecordFailed),
        RecordDailySummarySent(RecordDailySummarySent),
    }
);
