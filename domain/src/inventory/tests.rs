use super::*;
use crate::testing::{given, id, utc};
use crate::values::Reason;

type I = InventoryAggregate;

fn name() -> Name {
    Name::parse("Red dye").unwrap()
}
fn unit() -> Name {
    Name::parse("tube").unwrap()
}

pub(crate) fn created(quantity: u32, threshold: u32) -> InventoryEvent {
    InventoryEvent::InventoryItemCreated {
        item_id: id(50),
        workspace_id: id(1),
        name: name(),
        unit: unit(),
        quantity,
        threshold,
    }
}

fn crossed(quantity: u32) -> InventoryEvent {
    InventoryEvent::LowStockCrossed {
        item_id: id(50),
        quantity,
        threshold: 2,
    }
}

#[test]
fn an_item_is_created_with_stock_and_threshold() {
    given::<I>([])
        .when(CreateItem {
            item_id: id(50),
            workspace_id: id(1),
            name: name(),
            unit: unit(),
            quantity: 5,
            threshold: 2,
        })
        .then([created(5, 2)]);
}

#[test]
fn an_item_created_at_or_below_its_threshold_is_flagged_low_at_once() {
    given::<I>([])
        .when(CreateItem {
            item_id: id(50),
            workspace_id: id(1),
            name: name(),
            unit: unit(),
            quantity: 2,
            threshold: 2,
        })
        .then([created(2, 2), crossed(2)]);
}

#[test]
fn creating_an_item_twice_is_refused() {
    given::<I>([created(5, 2)])
        .when(CreateItem {
            item_id: id(50),
            workspace_id: id(1),
            name: name(),
            unit: unit(),
            quantity: 5,
            threshold: 2,
        })
        .then_error("already_exists");
}

#[test]
fn stock_is_received() {
    let state = given::<I>([created(5, 2)])
        .when(ReceiveStock { quantity: 3 })
        .then([InventoryEvent::StockReceived {
            item_id: id(50),
            quantity: 3,
            quantity_after: 8,
        }]);
    assert_eq!(state.unwrap().quantity, 8);
}

#[test]
fn receiving_nothing_is_refused() {
    given::<I>([created(5, 2)])
        .when(ReceiveStock { quantity: 0 })
        .then_error("invalid_value");
}

#[test]
fn stock_is_deducted_for_a_booking() {
    given::<I>([created(5, 2)])
        .when(DeductStock {
            booking_id: id(100),
            quantity: 1,
        })
        .then([InventoryEvent::StockDeducted {
            item_id: id(50),
            booking_id: id(100),
            quantity: 1,
            quantity_after: 4,
        }]);
}

#[test]
fn a_deduction_that_reaches_the_threshold_flags_low_stock_once() {
    let state = given::<I>([created(3, 2)])
        .when(DeductStock {
            booking_id: id(100),
            quantity: 1,
        })
        .then([
            InventoryEvent::StockDeducted {
                item_id: id(50),
                booking_id: id(100),
                quantity: 1,
                quantity_after: 2,
            },
            crossed(2),
        ]);
    assert!(state.unwrap().is_low());
    given::<I>([
        created(3, 2),
        InventoryEvent::StockDeducted {
            item_id: id(50),
            booking_id: id(100),
            quantity: 1,
            quantity_after: 2,
        },
        crossed(2),
    ])
    .when(DeductStock {
        booking_id: id(101),
        quantity: 1,
    })
    .then([InventoryEvent::StockDeducted {
        item_id: id(50),
        booking_id: id(101),
        quantity: 1,
        quantity_after: 1,
    }]);
}

#[test]
fn deducting_more_than_the_stock_is_refused() {
    given::<I>([created(1, 0)])
        .when(DeductStock {
            booking_id: id(100),
            quantity: 2,
        })
        .then_error("insufficient_stock");
}

#[test]
fn stock_held_by_a_booking_is_returned() {
    given::<I>([
        created(3, 0),
        InventoryEvent::StockDeducted {
            item_id: id(50),
            booking_id: id(100),
            quantity: 2,
            quantity_after: 1,
        },
    ])
    .when(ReturnStock {
        booking_id: id(100),
        quantity: 2,
    })
    .then([InventoryEvent::StockReturned {
        item_id: id(50),
        booking_id: id(100),
        quantity: 2,
        quantity_after: 3,
    }]);
}

#[test]
fn returning_more_than_a_booking_holds_is_refused() {
    given::<I>([created(3, 0)])
        .when(ReturnStock {
            booking_id: id(100),
            quantity: 1,
        })
        .then_error("invalid_value");
}

#[test]
fn restocking_above_the_threshold_clears_low_stock() {
    let state = given::<I>([created(2, 2), crossed(2)])
        .when(ReceiveStock { quantity: 5 })
        .then([
            InventoryEvent::StockReceived {
                item_id: id(50),
                quantity: 5,
                quantity_after: 7,
            },
            InventoryEvent::LowStockCleared {
                item_id: id(50),
                quantity: 7,
                threshold: 2,
            },
        ]);
    assert!(!state.unwrap().is_low());
}

#[test]
fn stock_is_adjusted_with_a_reason() {
    let reason = Reason::parse("dropped a tube").unwrap();
    given::<I>([created(5, 2)])
        .when(AdjustStock {
            delta: -1,
            reason: reason.clone(),
        })
        .then([InventoryEvent::StockAdjusted {
            item_id: id(50),
            delta: -1,
            reason,
            quantity_after: 4,
        }]);
}

#[test]
fn an_adjustment_below_zero_is_refused() {
    given::<I>([created(1, 0)])
        .when(AdjustStock {
            delta: -2,
            reason: Reason::parse("count").unwrap(),
        })
        .then_error("insufficient_stock");
}

#[test]
fn a_zero_adjustment_is_refused() {
    given::<I>([created(1, 0)])
        .when(AdjustStock {
            delta: 0,
            reason: Reason::parse("count").unwrap(),
        })
        .then_error("invalid_value");
}

#[test]
fn the_item_can_be_renamed_and_its_threshold_raised_into_low_stock() {
    given::<I>([created(5, 2)])
        .when(UpdateItem {
            name: name(),
            unit: unit(),
            threshold: 5,
        })
        .then([
            InventoryEvent::InventoryItemUpdated {
                item_id: id(50),
                name: name(),
                unit: unit(),
                threshold: 5,
            },
            InventoryEvent::LowStockCrossed {
                item_id: id(50),
                quantity: 5,
                threshold: 5,
            },
        ]);
}

#[test]
fn the_low_stock_alert_is_recorded_once_per_crossing() {
    let at = utc("2026-03-02T09:00:00Z");
    let state = given::<I>([created(2, 2), crossed(2)])
        .when(RecordLowStockAlert { at })
        .then([InventoryEvent::LowStockAlerted {
            item_id: id(50),
            at,
        }]);
    assert_eq!(state.unwrap().last_alert_at(), Some(at));
    given::<I>([
        created(2, 2),
        crossed(2),
        InventoryEvent::LowStockAlerted {
            item_id: id(50),
            at,
        },
    ])
    .when(RecordLowStockAlert { at })
    .then_error("already_alerted");
}

#[test]
fn no_alert_is_recorded_for_an_item_above_its_threshold() {
    given::<I>([created(5, 2)])
        .when(RecordLowStockAlert {
            at: utc("2026-03-02T09:00:00Z"),
        })
        .then_error("not_low_stock");
}

#[test]
fn commands_on_an_unknown_item_are_refused_as_not_found() {
    given::<I>([])
        .when(ReceiveStock { quantity: 1 })
        .then_error("not_found");
}
