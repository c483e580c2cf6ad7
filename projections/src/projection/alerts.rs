//! Stored alerts. Today: low stock (raised by `LowStockCrossed`, resolved by
//! `LowStockCleared`). The table is generic (`kind`, `severity`, `message`, `subject_id`)
//! so that failed notifications and alert dismissals can be added as new event handlers
//! here when the domain defines those events; until then such events are skipped.

use domain::inventory::InventoryEvent;
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
