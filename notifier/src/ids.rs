//! Deterministic notification ids.
//!
//! A notification's id is a UUIDv5 of what caused it (the event id), its kind, the recipient's
//! role and the channel (plus the reminder offset). Handling a redelivered event therefore
//! plans rows with the same ids, which the table's primary key turns into no-ops, and the
//! outcome's stream `notification-<id>` refuses a second send from any replica. The daily
//! summary has no cause event: its id is derived from the workspace and the local date.

use chrono::NaiveDate;
use domain::notification::{Channel, NotificationKind, RecipientRole};
use uuid::Uuid;

/// The namespace of CareOps notification ids (a fixed, random UUID).
const NAMESPACE: Uuid = Uuid::from_u128(0x6c1f_43a7_5e2b_4c0e_9d5a_1b0f_83e4_27c1);

/// The id of one notification caused by an event.
pub fn notification_id(
    cause_event_id: Uuid,
    kind: NotificationKind,
    role: RecipientRole,
    channel: Channel,
    offset_minutes: Option<u32>,
) -> Uuid {
    let channel = match channel {
        Channel::Email => "email",
        Channel::Sms => "sms",
    };
    let offset = offset_minutes.map(|m| m.to_string()).unwrap_or_default();
    let name = format!(
        "{cause_event_id}/{}/{}/{channel}/{offset}",
        kind.as_str(),
        role.as_str()
    );
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// The id of a workspace's daily summary for one local date.
pub fn daily_summary_id(workspace_id: Uuid, local_date: NaiveDate) -> Uuid {
    Uuid::new_v5(
        &NAMESPACE,
        format!("{workspace_id}/daily_summary/{local_date}").as_bytes(),
    )
}

/// The id of the alert raised for an event that was set aside (dead letter).
pub fn dead_letter_id(event_id: Uuid) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{event_id}/dead_letter").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_cause_gives_the_same_id_and_any_difference_another() {
        let cause = Uuid::now_v7();
        let id = |kind, role, channel, offset| notification_id(cause, kind, role, channel, offset);
        let base = id(
            NotificationKind::Reminder,
            RecipientRole::Customer,
            Channel::Email,
            Some(60),
        );
        assert_eq!(
            base,
            id(
                NotificationKind::Reminder,
                RecipientRole::Customer,
                Channel::Email,
                Some(60)
            )
        );
        for other in [
            id(
                NotificationKind::Reminder,
                RecipientRole::Customer,
                Channel::Sms,
                Some(60),
            ),
            id(
                NotificationKind::Reminder,
                RecipientRole::Customer,
                Channel::Email,
                Some(1440),
            ),
            id(
                NotificationKind::FollowUp,
                RecipientRole::Customer,
                Channel::Email,
                Some(60),
            ),
            id(
                NotificationKind::Reminder,
                RecipientRole::Staff,
                Channel::Email,
                Some(60),
            ),
        ] {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn a_daily_summary_id_depends_on_workspace_and_date_only() {
        let ws = Uuid::now_v7();
        let day: NaiveDate = "2026-03-29".parse().unwrap();
        assert_eq!(daily_summary_id(ws, day), daily_summary_id(ws, day));
        assert_ne!(
            daily_summary_id(ws, day),
            daily_summary_id(ws, day.succ_opt().unwrap())
        );
        assert_ne!(
            daily_summary_id(ws, day),
            daily_summary_id(Uuid::now_v7(), day)
        );
    }
}
