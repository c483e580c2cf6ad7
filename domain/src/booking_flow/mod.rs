//! The booking decisions that span streams (the seed's "Perfect Booking" flow).
//!
//! Each function is pure over the states the command handler loaded and returns the events for
//! every stream it touches, to be appended in one transaction: the booking, the calendar day(s)
//! of the staff member, each inventory item, and the contact (with its email reservation) when
//! new. Any refusal means nothing happens: no stock deducted, nothing reserved, nothing booked.
//! The per-stream rules are not repeated here: each stream's own `decide` is called, so a flow
//! can never produce events its aggregate would refuse.

mod cancel;
mod complete;
mod place;
mod reschedule;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use uuid::Uuid;

pub use cancel::{cancel_booking, CancelRequest};
pub use complete::{complete_booking, CompleteRequest};
pub use place::{
    calendar_keys_for, place_booking, BookingContext, Customer, NewContact, PlaceBooking,
};
pub use reschedule::{reschedule_booking, RescheduleContext, RescheduleRequest};

use crate::booking::BookingEvent;
use crate::calendar::{Calendar, CalendarEvent, CalendarKey};
use crate::contact::ContactEvent;
use crate::event::{EncodedStream, StreamEvents};
use crate::inventory::{InventoryEvent, InventoryItem};
use crate::reservation::ReservationEvent;
use crate::{calendar, inventory, DomainError, Entity};

/// Loaded calendar days, by staff member and local date (a missing key is an empty day).
pub type Calendars = BTreeMap<CalendarKey, Calendar>;

/// Loaded inventory items, by id.
pub type Inventory = BTreeMap<Uuid, InventoryItem>;

/// The events of one booking decision, per stream.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingDecision {
    pub booking: StreamEvents<BookingEvent>,
    pub calendars: Vec<StreamEvents<CalendarEvent>>,
    pub inventory: Vec<StreamEvents<InventoryEvent>>,
    pub contact: Option<StreamEvents<ContactEvent>>,
    pub reservations: Vec<StreamEvents<ReservationEvent>>,
}

impl BookingDecision {
    fn new(booking_id: Uuid) -> Self {
        BookingDecision {
            booking: StreamEvents {
                stream_type: crate::booking::STREAM_TYPE,
                stream_id: crate::booking::stream_id(booking_id),
                events: vec![],
            },
            calendars: vec![],
            inventory: vec![],
            contact: None,
            reservations: vec![],
        }
    }

    /// A decision touching only the booking's own stream (confirm, no-show): fill
    /// `booking.events` with the booking aggregate's decision.
    pub fn for_booking(booking_id: Uuid) -> Self {
        Self::new(booking_id)
    }

    /// Every stream's events, encoded for one multi-stream append (streams with no events left out).
    pub fn encode(&self) -> Vec<EncodedStream> {
        let mut out = vec![self.booking.encode()];
        out.extend(self.calendars.iter().map(StreamEvents::encode));
        out.extend(self.inventory.iter().map(StreamEvents::encode));
        out.extend(self.contact.iter().map(StreamEvents::encode));
        out.extend(self.reservations.iter().map(StreamEvents::encode));
        out.retain(|s| !s.events.is_empty());
        out
    }

    fn push_calendar(&mut self, key: CalendarKey, events: Vec<CalendarEvent>) {
        let stream_id = key.stream_id();
        match self.calendars.iter_mut().find(|s| s.stream_id == stream_id) {
            Some(stream) => stream.events.extend(events),
            None => self.calendars.push(StreamEvents {
                stream_type: calendar::STREAM_TYPE,
                stream_id,
                events,
            }),
        }
    }

    fn push_inventory(&mut self, item_id: Uuid, events: Vec<InventoryEvent>) {
        let stream_id = inventory::stream_id(item_id);
        match self.inventory.iter_mut().find(|s| s.stream_id == stream_id) {
            Some(stream) => stream.events.extend(events),
            None => self.inventory.push(StreamEvents {
                stream_type: inventory::STREAM_TYPE,
                stream_id,
                events,
            }),
        }
    }
}

/// Decide an inventory command against a loaded item, evolving the loaded copy.
fn decide_item(
    items: &mut Inventory,
    item_id: Uuid,
    command: inventory::InventoryCommand,
) -> Result<Vec<InventoryEvent>, DomainError> {
    let item = items
        .get(&item_id)
        .cloned()
        .ok_or_else(|| DomainError::not_found(Entity::InventoryItem, item_id))?;
    let state = Some(item);
    let events = inventory::decide(&state, &command)?;
    if let Some(item) = events.iter().fold(state, inventory::evolve) {
        items.insert(item_id, item);
    }
    Ok(events)
}

/// Decide a calendar command against a loaded day, evolving the loaded copy.
fn decide_day(
    days: &mut Calendars,
    key: CalendarKey,
    command: calendar::CalendarCommand,
) -> Result<Vec<CalendarEvent>, DomainError> {
    let state = days.get(&key).cloned().unwrap_or_default();
    let events = calendar::decide(&state, &command)?;
    days.insert(key, events.iter().fold(state, calendar::evolve));
    Ok(events)
}
