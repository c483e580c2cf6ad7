//! Stored alerts and their dismissals. Low stock is raised by `LowStockCrossed` and
//! resolved by `LowStockCleared`; the table is generic (`kind`, `severity`, `message`,
//! `subject_id`). `AlertDismissed` (workspace stream) hides any alert by id.
//! `NotificationFailed` (notification stream) raises a critical `notification_failed` alert.

use domain::inventory::InventoryEvent;
use domain::notification::NotificationEvent;
use domain::workspace::WorkspaceEvent;
use event_store::RecordedEvent;
use serde_json::json;
use uuid::Uuid;

use super::plan::{Key, Plan};

const NAME_ITEM: &str = "
    insert into {s}.item_names (workspace_id, id, name)
    select workspace_id, id, name from jsonb_populate_recordset(null::{s}.item_names, $1) r";

const RENAME_ITEM: &str = "
    update {s}.item_names n set name = r.name
    from jsonb_populate_recordset(null::{s}.item_names, $1) r where n.id = r.id";

/// The message quotes the item's name as it is when the alert is raised (looked up per
/// row: joined, the planner hashed the whole table of names for a handful of alerts).
const RAISE_LOW_STOCK: &str = "
    insert into {s}.alerts (workspace_id, id, kind, severity, message, subject_id, created_at)
    select r.workspace_id, r.id, 'low_stock', 'warning',
           coalesce((select n.name from {s}.item_names n where n.id = r.subject_id), 'An item')
               || ' is low on stock: ' || r.quantity || ' left (threshold ' || r.threshold || ')',
           r.subject_id, r.created_at
    from jsonb_to_recordset($1) as r(workspace_id uuid, id uuid, subject_id uuid,
            quantity bigint, threshold bigint, created_at timestamptz)";

const RESOLVE_LOW_STOCK: &str = "
    update {s}.alerts a set resolved_at = r.resolved_at
    from jsonb_populate_recordset(null::{s}.alerts, $1) r
    where a.subject_id = r.subject_id and a.kind = 'low_stock' and a.resolved_at is null";

const DISMISS: &str = "
    insert into {s}.dismissals (workspace_id, alert_id, dismissed_at)
    select workspace_id, alert_id, dismissed_at
    from jsonb_populate_recordset(null::{s}.dismissals, $1) r
    on conflict (alert_id) do nothing";

const RAISE_NOTIFICATION_FAILED: &str = "
    insert into {s}.alerts (workspace_id, id, kind, severity, message, subject_id, created_at)
    select workspace_id, id, 'notification_failed', 'critical', message, subject_id, created_at
    from jsonb_populate_recordset(null::{s}.alerts, $1) r
    on conflict (id) do nothing";

fn item_name(item_id: Uuid) -> Key {
    Key("item_name", item_id)
}

/// The low-stock alerts of an item (raising one and resolving them are ordered).
fn low_stock_of(item_id: Uuid) -> Key {
    Key("low_stock_alerts_of_item", item_id)
}

pub(crate) fn apply_inventory(plan: &mut Plan, e: &RecordedEvent, ev: &InventoryEvent) {
    match ev {
        InventoryEvent::InventoryItemCreated {
            item_id,
            workspace_id,
            name,
            ..
        } => plan.add(
            NAME_ITEM,
            &[item_name(*item_id)],
            json!({ "workspace_id": workspace_id, "id": item_id, "name": name.as_str() }),
        ),
        InventoryEvent::InventoryItemUpdated { item_id, name, .. } => plan.add(
            RENAME_ITEM,
            &[item_name(*item_id)],
            json!({ "id": item_id, "name": name.as_str() }),
        ),
        InventoryEvent::LowStockCrossed {
            item_id,
            quantity,
            threshold,
        } => {
            // The alert's id is the event's id: the same on every rebuild.
            plan.add_reading(
                RAISE_LOW_STOCK,
                &[low_stock_of(*item_id)],
                &[item_name(*item_id)],
                json!({
                    "workspace_id": e.workspace_id,
                    "id": e.event_id,
                    "subject_id": item_id,
                    "quantity": i64::from(*quantity),
                    "threshold": i64::from(*threshold),
                    "created_at": e.recorded_at,
                }),
            )
        }
        InventoryEvent::LowStockCleared { item_id, .. } => plan.add(
            RESOLVE_LOW_STOCK,
            &[low_stock_of(*item_id)],
            json!({ "subject_id": item_id, "resolved_at": e.recorded_at }),
        ),
        _ => {}
    }
}

/// Dismissals hide an alert by id, stored or computed (see `query::alerts`).
pub(crate) fn apply_workspace(plan: &mut Plan, e: &RecordedEvent, ev: &WorkspaceEvent) {
    if let WorkspaceEvent::AlertDismissed {
        workspace_id,
        alert_id,
    } = ev
    {
        plan.add(
            DISMISS,
            &[Key("dismissal", *alert_id)],
            json!({
                "workspace_id": workspace_id,
                "alert_id": alert_id,
                "dismissed_at": e.recorded_at,
            }),
        );
    }
}

/// A notification the notifier gave up on (`NotificationFailed`) is a critical owner alert.
/// Its message names the kind and channel and the notifier's reason, which never holds
/// personal data.
pub(crate) fn apply_notification(plan: &mut Plan, e: &RecordedEvent, ev: &NotificationEvent) {
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
        plan.add(
            RAISE_NOTIFICATION_FAILED,
            &[Key("alert", e.event_id)],
            json!({
                "workspace_id": workspace_id,
                "id": e.event_id,
                "message": message,
                "subject_id": subject_id,
                "created_at": e.recorded_at,
            }),
        );
    }
}
