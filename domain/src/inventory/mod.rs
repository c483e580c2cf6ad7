//! Stock that services consume.
//!
//! Stream `inventory-<id>`. Decides that stock never goes below zero and that each downward
//! crossing of the threshold asks for exactly one owner alert (`LowStockCrossed`, then
//! `LowStockAlerted` with `last_alert_at` once sent), none again until restocked above threshold.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::InventoryEvent;

use crate::values::Name;

/// Stream type of inventory items.
pub const STREAM_TYPE: &str = "inventory";

/// `inventory-<id>`.
pub fn stream_id(item_id: Uuid) -> String {
    format!("inventory-{item_id}")
}

/// Where an item stands against its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowStock {
    /// Above the threshold (alerts re-armed).
    Above,
    /// At or below the threshold; the owner has not been alerted for this crossing yet.
    AlertPending,
    /// At or below the threshold; the alert for this crossing was sent.
    Alerted { last_alert_at: DateTime<Utc> },
}

/// An inventory item (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct InventoryItem {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: Name,
    pub unit: Name,
    pub quantity: u32,
    pub threshold: u32,
    pub low_stock: LowStock,
    /// What each booking currently holds (deducted minus returned), so returns stay honest.
    pub held_by_bookings: BTreeMap<Uuid, u32>,
}

impl InventoryItem {
    /// `quantity <= threshold`.
    pub fn is_low(&self) -> bool {
        self.low_stock != LowStock::Above
    }

    /// When the owner was last alerted for the current crossing.
    pub fn last_alert_at(&self) -> Option<DateTime<Utc>> {
        match self.low_stock {
            LowStock::Alerted { last_alert_at } => Some(last_alert_at),
            _ => None,
        }
    }
}

/// The state of an inventory stream: `None` until created.
pub type State = Option<InventoryItem>;

/// The inventory item aggregate.
pub struct InventoryAggregate;

impl crate::Aggregate for InventoryAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = InventoryCommand;
    type Event = InventoryEvent;

    fn decide(
        state: &State,
        command: &InventoryCommand,
    ) -> Result<Vec<InventoryEvent>, crate::DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &InventoryEvent) -> State {
        evolve(state, event)
    }
}
