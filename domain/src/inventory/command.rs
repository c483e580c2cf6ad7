//! What one may ask of an inventory item.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::aggregate::commands;
use crate::values::{Name, Reason};

/// Create an item with its opening stock and low-stock threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateItem {
    pub item_id: Uuid,
    pub workspace_id: Uuid,
    pub name: Name,
    pub unit: Name,
    pub quantity: u32,
    pub threshold: u32,
}

/// Rename the item, change its unit or threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateItem {
    pub name: Name,
    pub unit: Name,
    pub threshold: u32,
}

/// A delivery arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveStock {
    pub quantity: u32,
}

/// A booking consumes stock.
#[derive(Debug, Clone, PartialEq)]
pub struct DeductStock {
    pub booking_id: Uuid,
    pub quantity: u32,
}

/// A cancelled (or corrected) booking gives stock back.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnStock {
    pub booking_id: Uuid,
    pub quantity: u32,
}

/// A manual correction (breakage, count), with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct AdjustStock {
    pub delta: i64,
    pub reason: Reason,
}

/// The notifier sent the low-stock alert for the current crossing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLowStockAlert {
    pub at: DateTime<Utc>,
}

commands!(
    /// Every inventory intent.
    InventoryCommand {
        Create(CreateItem),
        Update(UpdateItem),
        Receive(ReceiveStock),
        Deduct(DeductStock),
        Return(ReturnStock),
        Adjust(AdjustStock),
        RecordLowStockAlert(RecordLowStockAlert),
    }
);
