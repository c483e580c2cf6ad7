//! Services a business sells: length, price, buffers and the stock each visit consumes.
//!
//! Stream `service-<id>`. A booking copies what it needs (duration, price, buffers, inventory)
//! at booking time, so later edits never change past bookings.

mod command;
mod decide;
mod event;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use command::*;
pub use decide::{decide, evolve};
pub use event::ServiceEvent;

use crate::values::{Minutes, Money, Name};
use crate::DomainError;

/// Stream type of services.
pub const STREAM_TYPE: &str = "service";

/// `service-<id>`.
pub fn stream_id(service_id: Uuid) -> String {
    format!("service-{service_id}")
}

/// A quantity of one inventory item (what a service consumes, what a booking deducted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ItemQuantity {
    pub item_id: Uuid,
    pub quantity: u32,
}

/// Everything that defines a service; validated by [`ServiceDefinition::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDefinition {
    pub name: Name,
    pub duration_minutes: Minutes,
    pub price: Money,
    #[serde(default)]
    pub buffer_before_minutes: Minutes,
    #[serde(default)]
    pub buffer_after_minutes: Minutes,
    #[serde(default)]
    pub inventory: Vec<ItemQuantity>,
}

impl ServiceDefinition {
    /// Duration 5 min to 12 h, buffers at most 4 h, inventory quantities positive and items distinct.
    pub fn validate(&self) -> Result<(), DomainError> {
        Minutes::bounded(
            "duration_minutes",
            self.duration_minutes.get().into(),
            5,
            720,
        )?;
        Minutes::bounded(
            "buffer_before_minutes",
            self.buffer_before_minutes.get().into(),
            0,
            240,
        )?;
        Minutes::bounded(
            "buffer_after_minutes",
            self.buffer_after_minutes.get().into(),
            0,
            240,
        )?;
        if self.inventory.len() > 50 {
            return Err(DomainError::invalid(
                "inventory",
                "at most 50 inventory items per service",
            ));
        }
        for (i, need) in self.inventory.iter().enumerate() {
            if need.quantity == 0 || need.quantity > 10_000 {
                return Err(DomainError::invalid(
                    "inventory",
                    "each quantity is between 1 and 10000",
                ));
            }
            if self.inventory[..i]
                .iter()
                .any(|other| other.item_id == need.item_id)
            {
                return Err(DomainError::invalid("inventory", "an item is listed twice"));
            }
        }
        Ok(())
    }
}

/// A service (built by `evolve`).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub definition: ServiceDefinition,
    pub archived: bool,
}

/// The state of a service stream: `None` until created.
pub type State = Option<Service>;

/// The service aggregate.
pub struct ServiceAggregate;

impl crate::Aggregate for ServiceAggregate {
    const STREAM_TYPE: &'static str = STREAM_TYPE;
    type State = State;
    type Command = ServiceCommand;
    type Event = ServiceEvent;

    fn decide(state: &State, command: &ServiceCommand) -> Result<Vec<ServiceEvent>, DomainError> {
        decide(state, command)
    }

    fn evolve(state: State, event: &ServiceEvent) -> State {
        evolve(state, event)
    }
}
