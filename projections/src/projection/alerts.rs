//! Stored alerts and their dismissals. Low stock is raised by `LowStockCrossed` and
//! resolved by `LowStockCleared`; the table is generic (`kind`, `severity`, `message`,
//! `subject_id`). `AlertDismissed` (workspace stream) hides any alert by id.
//! `NotificationFailed` (notification stream) raises a critical `notification_failed` alert.

use domain::inventory::InventoryEvent;
use domain::notification::NotificationEvent;
use domain::workspace::WorkspaceEvent;
use event_store::RecordedEvent;
use sqlx::PgConnection;

pub(crate) async fn apply_inventory(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &InventoryEvent,
) -> Result<(), sqlx::Error> {
    match ev {
        InventoryEvent::InventoryItemCreated {
            item_id,
            workspace_id,
            name,
            ..
        } => {
            sqlx::query(&format!(
                "insert into {s}.item_names (workspace_id, id, name) values ($1, $2, $3)"
            ))
            .bind(workspace_id)
            .bind(item_id)
            .bind(name.as_str())
            .execute(conn)
            .await?;
        }
        InventoryEvent::InventoryItemUpdated { item_id, name, .. } => {
            sqlx::query(&format!(
                "update {s}.item_names set name = $2 where id = $1"
            ))
            .bind(item_id)
            .bind(name.as_str())
            .execute(conn)
            .await?;
        }
        InventoryEvent::LowStockCrossed {
            item_id,
            quantity,
            threshold,
        } => {
            // The alert's id is the event's id: the same on every rebuild.
            sqlx::query(&format!(
                "insert into {s}.alerts (workspace_id, id, kind, severity, message, subject_id,
                    created_at)
                 select $1, $2, 'low_stock', 'warning',
                        coalesce(n.name, 'An item') || ' is low on stock: ' || $4 || ' left (threshold ' || $5 || ')',
                        $3, $6
                 from (select 1) one left join {s}.item_names n on n.id = $3"
            ))
            .bind(e.workspace_id)
            .bind(e.event_id)
            .bind(item_id)
            .bind(i64::from(*quantity).to_string())
            .bind(i64::from(*threshold).to_string())
            .bind(e.recorded_at)
            .execute(conn)
            .await?;
        }
        InventoryEvent::LowStockCleared { item_id, .. } => {
            sqlx::query(&format!(
                "update {s}.alerts set resolved_at = $2
                 where subject_id = $1 and kind = 'low_stock' and resolved_at is null"
            ))
            .bind(item_id)
            .bind(e.recorded_at)
            .execute(conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Dismissals hide an alert by id, stored or computed (see `query::alerts`).
pub(crate) async fn apply_workspace(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &WorkspaceEvent,
) -> Result<(), sqlx::Error> {
    if let WorkspaceEvent::AlertDismissed {
        workspace_id,
        alert_id,
    } = ev
    {
        sqlx::query(&format!(
            "insert into {s}.dismissals (workspace_id, alert_id, dismissed_at)
             values ($1, $2, $3) on conflict (alert_id) do nothing"
        ))
        .bind(workspace_id)
        .bind(alert_id)
        .bind(e.recorded_at)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// A notification the notifier gave up on (`NotificationFailed`) is a critical owner alert.
/// Its message names the kind and channel and the notifier's reason, which never holds
/// personal data.
pub(crate) async fn apply_notification(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    ev: &NotificationEvent,
) -> Result<(), sqlx::Error> {
    if let NotificationEvent::NotificationFailed {
        workspace_id,
        kind,
        channel,
        subject_id,
        reason,
        attempts,
        ..
    } = ev
    {
        let what = kind.as_str().replace('_', " ");
        let message = match channel {
            Some(channel) => format!(
                "A {what} {} could not be sent after {attempts} attempt(s): {reason}",
                match channel {
                    domain::notification::Channel::Email => "email",
                    domain::notification::Channel::Sms => "SMS",
                }
            ),
            None => format!("Notifications could not be prepared: {reason}"),
        };
        // The alert's id is the event's id: the same on every rebuild.
        sqlx::query(&format!(
            "insert into {s}.alerts (workspace_id, id, kind, severity, message, subject_id, created_at)
             values ($1, $2, 'notification_failed', 'critical', $3, $4, $5)
             on conflict (id) do nothing"
        ))
        .bind(workspace_id)
        .bind(e.event_id)
        .bind(message)
        .bind(subject_id)
        .bind(e.recorded_at)
        .execute(conn)
        .await?;
    }
    Ok(())
}
