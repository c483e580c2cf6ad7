//! Completing a booking: record what was actually used and correct the stock.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{decide_item, BookingDecision, Inventory};
use crate::booking::{self, CompleteBooking};
use crate::inventory::{DeductStock, ReturnStock};
use crate::service::ItemQuantity;
use crate::{DomainError, Entity};

/// Complete a booking.
#[derive(Debug, Clone, PartialEq)]
pub struct CompleteRequest {
    /// What was actually used; `None` means exactly what was deducted at booking time.
    pub inventory_used: Option<Vec<ItemQuantity>>,
    pub now: DateTime<Utc>,
}

/// Decide a completion: `BookingCompleted`, plus `StockDeducted` for extra usage and
/// `StockReturned` for unused stock. `inventory` holds every item involved.
pub fn complete_booking(
    booking: &booking::State,
    inventory: &Inventory,
    request: &CompleteRequest,
) -> Result<BookingDecision, DomainError> {
    let Some(current) = booking else {
        return Err(DomainError::not_found(Entity::Booking, ""));
    };
    let used = request
        .inventory_used
        .clone()
        .unwrap_or_else(|| current.inventory.clone());
    let mut decision = BookingDecision::new(current.id);
    let command = CompleteBooking {
        inventory_used: used.clone(),
        now: request.now,
    };
    decision.booking.events = booking::decide(booking, &command.into())?;

    let mut change: BTreeMap<Uuid, i64> = BTreeMap::new();
    for held in &current.inventory {
        *change.entry(held.item_id).or_default() -= i64::from(held.quantity);
    }
    for use_ in &used {
        *change.entry(use_.item_id).or_default() += i64::from(use_.quantity);
    }
    let mut items = inventory.clone();
    for (item_id, delta) in change {
        let quantity = delta.unsigned_abs() as u32;
        let events = match delta {
            0 => continue,
            d if d > 0 => decide_item(
                &mut items,
                item_id,
                DeductStock {
                    booking_id: current.id,
                    quantity,
                }
                .into(),
            )?,
            _ => decide_item(
                &mut items,
                item_id,
                ReturnStock {
                    booking_id: current.id,
                    quantity,
                }
                .into(),
            )?,
        };
        decision.push_inventory(item_id, events);
    }
    Ok(decision)
}
