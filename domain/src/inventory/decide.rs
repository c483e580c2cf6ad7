//! Inventory decisions and evolution.

use super::*;
use crate::{Conflict, DomainError, Entity, Rule};

const MAX_QUANTITY: u32 = 1_000_000_000;

fn quantity_field(field: &str, quantity: u32, allow_zero: bool) -> Result<u32, DomainError> {
    if (!allow_zero && quantity == 0) || quantity > MAX_QUANTITY {
        let min = if allow_zero { 0 } else { 1 };
        return Err(DomainError::invalid(
            field,
            format!("must be between {min} and {MAX_QUANTITY}"),
        ));
    }
    Ok(quantity)
}

/// The low-stock event (if any) for moving from `item`'s level to `quantity` / `threshold`.
fn crossing(item_id: Uuid, was_low: bool, quantity: u32, threshold: u32) -> Option<InventoryEvent> {
    let now_low = quantity <= threshold;
    match (was_low, now_low) {
        (false, true) => Some(InventoryEvent::LowStockCrossed {
            item_id,
            quantity,
            threshold,
        }),
        (true, false) => Some(InventoryEvent::LowStockCleared {
            item_id,
            quantity,
            threshold,
        }),
        _ => None,
    }
}

fn insufficient(item: &InventoryItem, wanted: impl std::fmt::Display) -> DomainError {
    DomainError::conflict(
        Conflict::InsufficientStock,
        format!(
            "not enough {}: {} {} left, {wanted} needed",
            item.name, item.quantity, item.unit
        ),
    )
}

/// Decide an inventory command.
pub fn decide(
    state: &State,
    command: &InventoryCommand,
) -> Result<Vec<InventoryEvent>, DomainError> {
    let item = match (state, command) {
        (Some(_), InventoryCommand::Create(_)) => {
            return Err(DomainError::conflict(
                Conflict::AlreadyExists,
                "the inventory item already exists",
            ))
        }
        (None, InventoryCommand::Create(c)) => {
            let quantity = quantity_field("quantity", c.quantity, true)?;
            let threshold = quantity_field("threshold", c.threshold, true)?;
            let mut events = vec![InventoryEvent::InventoryItemCreated {
                item_id: c.item_id,
                workspace_id: c.workspace_id,
                name: c.name.clone(),
                unit: c.unit.clone(),
                quantity,
                threshold,
            }];
            events.extend(crossing(c.item_id, false, quantity, threshold));
            return Ok(events);
        }
        (None, _) => return Err(DomainError::not_found(Entity::InventoryItem, "")),
        (Some(item), _) => item,
    };
    let id = item.id;
    let level = |quantity_after: u32, mut events: Vec<InventoryEvent>| {
        events.extend(crossing(id, item.is_low(), quantity_after, item.threshold));
        Ok(events)
    };
    match command {
        InventoryCommand::Create(_) => Ok(vec![]),
        InventoryCommand::Update(c) => {
            let threshold = quantity_field("threshold", c.threshold, true)?;
            if item.name == c.name && item.unit == c.unit && item.threshold == threshold {
                return Ok(vec![]);
            }
            let mut events = vec![InventoryEvent::InventoryItemUpdated {
                item_id: id,
                name: c.name.clone(),
                unit: c.unit.clone(),
                threshold,
            }];
            events.extend(crossing(id, item.is_low(), item.quantity, threshold));
            Ok(events)
        }
        InventoryCommand::Receive(c) => {
            let quantity = quantity_field("quantity", c.quantity, false)?;
            let quantity_after = item.quantity.saturating_add(quantity);
            if quantity_after > MAX_QUANTITY {
                return Err(DomainError::invalid(
                    "quantity",
                    "the stock would exceed the maximum",
                ));
            }
            level(
                quantity_after,
                vec![InventoryEvent::StockReceived {
                    item_id: id,
                    quantity,
                    quantity_after,
                }],
            )
        }
        InventoryCommand::Deduct(c) => {
            let quantity = quantity_field("quantity", c.quantity, false)?;
            let quantity_after = item
                .quantity
                .checked_sub(quantity)
                .ok_or_else(|| insufficient(item, quantity))?;
            level(
                quantity_after,
                vec![InventoryEvent::StockDeducted {
                    item_id: id,
                    booking_id: c.booking_id,
                    quantity,
                    quantity_after,
                }],
            )
        }
        InventoryCommand::Return(c) => {
            let quantity = quantity_field("quantity", c.quantity, false)?;
            let held = item
                .held_by_bookings
                .get(&c.booking_id)
                .copied()
                .unwrap_or(0);
            if quantity > held {
                return Err(DomainError::invalid(
                    "quantity",
                    format!("the booking holds {held} of this item, cannot return {quantity}"),
                ));
            }
            let quantity_after = item.quantity.saturating_add(quantity);
            level(
                quantity_after,
                vec![InventoryEvent::StockReturned {
                    item_id: id,
                    booking_id: c.booking_id,
                    quantity,
                    quantity_after,
                }],
            )
        }
        InventoryCommand::Adjust(c) => {
            if c.delta == 0 {
                return Err(DomainError::invalid(
                    "delta",
                    "an adjustment cannot be zero",
                ));
            }
            let after = i64::from(item.quantity) + c.delta;
            if after < 0 {
                return Err(insufficient(item, -c.delta));
            }
            if after > i64::from(MAX_QUANTITY) {
                return Err(DomainError::invalid(
                    "delta",
                    "the stock would exceed the maximum",
                ));
            }
            let quantity_after = after as u32;
            level(
                quantity_after,
                vec![InventoryEvent::StockAdjusted {
                    item_id: id,
                    delta: c.delta,
                    reason: c.reason.clone(),
                    quantity_after,
                }],
            )
        }
        InventoryCommand::RecordLowStockAlert(c) => match item.low_stock {
            LowStock::AlertPending => Ok(vec![InventoryEvent::LowStockAlerted {
                item_id: id,
                at: c.at,
            }]),
            LowStock::Alerted { last_alert_at } => Err(DomainError::conflict(
                Conflict::AlreadyAlerted,
                format!(
                    "the owner was already alerted at {last_alert_at} for this low-stock crossing"
                ),
            )),
            LowStock::Above => Err(DomainError::rule(
                Rule::NotLowStock,
                "the item is above its threshold",
            )),
        },
    }
}

/// Apply an inventory event.
pub fn evolve(state: State, event: &InventoryEvent) -> State {
    let mut item = match (state, event) {
        (
            _,
            InventoryEvent::InventoryItemCreated {
                item_id,
                workspace_id,
                name,
                unit,
                quantity,
                threshold,
            },
        ) => {
            return Some(InventoryItem {
                id: *item_id,
                workspace_id: *workspace_id,
                name: name.clone(),
                unit: unit.clone(),
                quantity: *quantity,
                threshold: *threshold,
                low_stock: LowStock::Above,
                held_by_bookings: BTreeMap::new(),
            })
        }
        (None, _) => return None,
        (Some(item), _) => item,
    };
    match event {
        InventoryEvent::InventoryItemCreated { .. } => {}
        InventoryEvent::InventoryItemUpdated {
            name,
            unit,
            threshold,
            ..
        } => {
            item.name = name.clone();
            item.unit = unit.clone();
            item.threshold = *threshold;
        }
        InventoryEvent::StockReceived { quantity_after, .. }
        | InventoryEvent::StockAdjusted { quantity_after, .. } => {
            item.quantity = *quantity_after;
        }
        InventoryEvent::StockDeducted {
            booking_id,
            quantity,
            quantity_after,
            ..
        } => {
            item.quantity = *quantity_after;
            *item.held_by_bookings.entry(*booking_id).or_insert(0) += quantity;
        }
        InventoryEvent::StockReturned {
            booking_id,
            quantity,
            quantity_after,
            ..
        } => {
            item.quantity = *quantity_after;
            if let Some(held) = item.held_by_bookings.get_mut(booking_id) {
                *held = held.saturating_sub(*quantity);
                if *held == 0 {
                    item.held_by_bookings.remove(booking_id);
                }
            }
        }
        InventoryEvent::LowStockCrossed { .. } => item.low_stock = LowStock::AlertPending,
        InventoryEvent::LowStockAlerted { at, .. } => {
            item.low_stock = LowStock::Alerted { last_alert_at: *at }
        }
        InventoryEvent::LowStockCleared { .. } => item.low_stock = LowStock::Above,
    }
    Some(item)
}
