//! Inventory items and their current stock (every stock event carries `quantity_after`).

use domain::inventory::InventoryEvent;
use event_store::RecordedEvent;
use sqlx::PgConnection;
use uuid::Uuid;

use super::version;

pub(crate) async fn apply(
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
            unit,
            quantity,
            threshold,
        } => {
            sqlx::query(&format!(
                "insert into {s}.items (workspace_id, id, name, unit, quantity, threshold,
                    created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $7, $8)"
            ))
            .bind(workspace_id)
            .bind(item_id)
            .bind(name.as_str())
            .bind(unit.as_str())
            .bind(i64::from(*quantity))
            .bind(i64::from(*threshold))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        InventoryEvent::InventoryItemUpdated {
            item_id,
            name,
            unit,
            threshold,
        } => {
            sqlx::query(&format!(
                "update {s}.items set name = $2, unit = $3, threshold = $4, updated_at = $5,
                    version = $6
                 where id = $1"
            ))
            .bind(item_id)
            .bind(name.as_str())
            .bind(unit.as_str())
            .bind(i64::from(*threshold))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
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
        } => {
            sqlx::query(&format!(
                "update {s}.items set quantity = $2, updated_at = $3, version = $4 where id = $1"
            ))
            .bind(item_id)
            .bind(i64::from(*quantity_after))
            .bind(e.recorded_at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        InventoryEvent::LowStockAlerted { item_id, at } => {
            sqlx::query(&format!(
                "update {s}.items set last_alert_at = $2, version = $3 where id = $1"
            ))
            .bind(item_id)
            .bind(at)
            .bind(version(e))
            .execute(conn)
            .await?;
        }
        InventoryEvent::LowStockCrossed { item_id, .. }
        | InventoryEvent::LowStockCleared { item_id, .. } => {
            bump(conn, s, e, *item_id).await?;
        }
    }
    Ok(())
}

async fn bump(
    conn: &mut PgConnection,
    s: &str,
    e: &RecordedEvent,
    item_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("update {s}.items set version = $2 where id = $1"))
        .bind(item_id)
        .bind(version(e))
        .execute(conn)
        .await?;
    Ok(())
}
