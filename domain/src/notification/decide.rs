//! Notification decisions and evolution: one outcome per notification, ever.

use super::*;
use crate::{Conflict, DomainError};

/// Longest failure reason kept (reasons are short, provider-and-status explanations).
const MAX_REASON_CHARS: usize = 300;

/// Decide a notification command.
pub fn decide(
    state: &State,
    command: &NotificationCommand,
) -> Result<Vec<NotificationEvent>, DomainError> {
    if state.is_some() {
        return Err(DomainError::conflict(
            Conflict::AlreadySent,
            "this notification was already recorded",
        ));
    }
    let event = match command {
        NotificationCommand::RecordSent(c) => {
            if c.kind == NotificationKind::DailySummary {
                return Err(DomainError::invalid(
                    "kind",
                    "a daily summary is recorded with its local date",
                ));
            }
            NotificationEvent::NotificationSent {
                notification_id: c.notification_id,
                workspace_id: c.workspace_id,
                kind: c.kind,
                channel: c.channel,
                recipient_role: c.recipient_role,
                recipient_id: c.recipient_id,
                subject_id: c.subject_id,
                provider: c.provider.clone(),
                at: c.at,
            }
        }
        NotificationCommand::RecordFailed(c) => {
            let reason = c.reason.trim();
            if reason.is_empty() {
                return Err(DomainError::invalid("reason", "a failure needs a reason"));
            }
            NotificationEvent::NotificationFailed {
                notification_id: c.notification_id,
                workspace_id: c.workspace_id,
                kind: c.kind,
                channel: c.channel,
                subject_id: c.subject_id,
                reason: reason.chars().take(MAX_REASON_CHARS).collect(),
                attempts: c.attempts,
                at: c.at,
            }
        }
        NotificationCommand::RecordDailySummarySent(c) => NotificationEvent::DailySummarySent {
            notification_id: c.notification_id,
            workspace_id: c.workspace_id,
            local_date: c.local_date,
            channel: c.channel,
            provider: c.provider.clone(),
            at: c.at,
        },
    };
    Ok(vec![event])
}

/// Apply a notification event.
pub fn evolve(state: State, event: &NotificationEvent) -> State {
    if state.is_some() {
        // Decide never records a second outcome; keep the first if one is ever seen.
        return state;
    }
    Some(match event {
        NotificationEvent::NotificationSent {
            notification_id,
            workspace_id,
            kind,
            provider,
            ..
        } => Notification {
            id: *notification_id,
            workspace_id: *workspace_id,
            kind: *kind,
            outcome: Outcome::Sent {
                provider: provider.clone(),
            },
        },
        NotificationEvent::NotificationFailed {
            notification_id,
            workspace_id,
            kind,
            reason,
            attempts,
            ..
        } => Notification {
            id: *notification_id,
            workspace_id: *workspace_id,
            kind: *kind,
            outcome: Outcome::Failed {
                reason: reason.clone(),
                attempts: *attempts,
            },
        },
        NotificationEvent::DailySummarySent {
            notification_id,
            workspace_id,
            local_date,
            ..
        } => Notification {
            id: *notification_id,
            workspace_id: *workspace_id,
            kind: NotificationKind::DailySummary,
            outcome: Outcome::DailySummarySent {
                local_date: *local_date,
            },
        },
    })
}
