//! Inventory items and their current stock (every stock event carries `quantity_after`).

use domain::inventory::InventoryEvent;
use event_store::RecordedEvent;
use serde_json::json;

use super::plan::{Key, Plan};
use super::version;

const INSERT: &str = "
    insert into {s}.items (workspace_id, id, name, unit, quantity, threshold, created_at,
        updated_at, version)
    select workspace_id, id, name, unit, quantity, threshold, created_at, updated_at, version
    from jsonb_populate_recordset(null::{s}.items, $1) r";

const UPDATE: &str = "
    update {s}.items i set name = r.name, unit = r.unit, threshold = r.threshold,
        updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.items, $1) r where i.id = r.id";

const SET_QUANTITY: &str = "
    update {s}.items i set quantity = r.quantity, updated_at = r.updated_at, version = r.version
    from jsonb_populate_recordset(null::{s}.items, $1) r where i.id = r.id";

const SET_LAST_ALERT: &str = "
    update {s}.items i set last_alert_at = r.last_alert_at, version = r.version
    from jsonb_populate_recordset(null::{s}.items, $1) r where i.id = r.id";

const SET_VERSION: &str = "
    update {s}.items i set version = r.version
    from jsonb_populate_recordset(null::{s}.items, $1) r where i.id = r.id";

pub(crate) fn apply(plan: &mut Plan, e: &RecordedEvent, ev: &InventoryEvent) {
    match ev {
        InventoryEvent::InventoryItemCreated {
            item_id,
            workspace_id,
            name,
            unit,
            quantity,
            threshold,
        } => plan.add(
            INSERT,
            &[Key("item", *item_id)],
            json!({
                "workspace_id": workspace_id,
                "id": item_id,
                "name": name.as_str(),
                "unit": unit.as_str(),
                "quantity": i64::from(*quantity),
                "threshold": i64::from(*threshold),
                "created_at": e.recorded_at,
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        InventoryEvent::InventoryItemUpdated {
            item_id,
            name,
            unit,
            threshold,
        } => plan.add(
            UPDATE,
            &[Key("item", *item_id)],
            json!({
                "id": item_id,
                "name": name.as_str(),
                "unit": unit.as_str(),
                "threshold": i64::from(*threshold),
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        InventoryEvent::StockReceived {
            item_id,
            quantity_after,
            ..
        }
        | InventoryEvent::StockDeducted {
            item_id,
            quantity_after,
            ..
        }
        | InventoryEvent::StockReturned {
            item_id,
            quantity_after,
            ..
        }
        | InventoryEvent::StockAdjusted {
            item_id,
            quantity_after,
            ..
        } => plan.add_overwrite(
            SET_QUANTITY,
            Key("item", *item_id),
            json!({
                "id": item_id,
                "quantity": i64::from(*quantity_after),
                "updated_at": e.recorded_at,
                "version": version(e),
            }),
        ),
        InventoryEvent::LowStockAlerted { item_id, at } => plan.add_overwrite(
            SET_LAST_ALERT,
            Key("item", *item_id),
            json!({ "id": item_id, "last_alert_at": at, "version": version(e) }),
        ),
        InventoryEvent::LowStockCrossed { item_id, .. }
        | InventoryEvent::LowStockCleared { item_id, .. } => plan.add_overwrite(
            SET_VERSION,
            Key("item", *item_id),
            json!({ "id": item_id, "version": version(e) }),
        ),
    }
}
