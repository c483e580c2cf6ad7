//! What happened to an inventory item. Stock events carry the resulting `quantity_after`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::{event_type_list, event_type_names};
use crate::values::{Name, Reason};
use crate::DomainEvent;

/// Events of the `inventory` stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "data")]
pub enum InventoryEvent {
    InventoryItemCreated {
        item_id: Uuid,
        workspace_id: Uuid,
        name: Name,
        unit: Name,
        quantity: u32,
        threshold: u32,
    },
    InventoryItemUpdated {
        item_id: Uuid,
        name: Name,
        unit: Name,
        threshold: u32,
    },
    StockReceived {
        item_id: Uuid,
        quantity: u32,
        quantity_after: u32,
    },
    StockDeducted {
        item_id: Uuid,
        booking_id: Uuid,
        quantity: u32,
        quantity_after: u32,
    },
    StockReturned {
        item_id: Uuid,
        booking_id: Uuid,
        quantity: u32,
        quantity_after: u32,
    },
    StockAdjusted {
        item_id: Uuid,
        delta: i64,
        reason: Reason,
        quantity_after: u32,
    },
    /// The quantity fell to or below the threshold: one alert is requested.
    LowStockCrossed {
        item_id: Uuid,
        quantity: u32,
        threshold: u32,
    },
    /// The alert for the current crossing was sent (`last_alert_at`).
    LowStockAlerted { item_id: Uuid, at: DateTime<Utc> },
    /// Restocked above the threshold: alerts are re-armed.
    LowStockCleared {
        item_id: Uuid,
        quantity: u32,
        threshold: u32,
    },
}

event_type_list!(InventoryEvent: InventoryItemCreated, InventoryItemUpdated, StockReceived, StockDeducted, StockReturned, StockAdjusted, LowStockCrossed, LowStockAlerted, LowStockCleared);

impl DomainEvent for InventoryEvent {
    event_type_names!(
        InventoryItemCreated,
        InventoryItemUpdated,
        StockReceived,
        StockDeducted,
        StockReturned,
        StockAdjusted,
        LowStockCrossed,
        LowStockAlerted,
        LowStockCleared
    );
}
