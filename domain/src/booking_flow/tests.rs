use chrono::Weekday;

use super::*;
use crate::booking::{Actor, BookingAggregate, BookingSource, BookingStatus};
use crate::calendar::CalendarAggregate;
use crate::contact::{Contact, ContactAggregate};
use crate::inventory::{InventoryAggregate, InventoryCommand};
use crate::reservation::Reservation;
use crate::schedule::{Schedule, WeeklyHours};
use crate::service::{ItemQuantity, Service, ServiceDefinition};
use crate::testing::{id, utc};
use crate::user::User;
use crate::values::*;
use crate::workspace::{Workspace, WorkspaceSettings, WorkspaceStatus};
use crate::{Aggregate, Personal};

struct World {
    workspace: Workspace,
    service: Service,
    staff: User,
    schedule: Schedule,
    calendars: Calendars,
    inventory: Inventory,
}

const DYE: u128 = 50;
const GLOVES: u128 = 51;

fn item(n: u128, quantity: u32, threshold: u32) -> InventoryItem {
    let command: InventoryCommand = crate::inventory::CreateItem {
        item_id: id(n),
        workspace_id: id(1),
        name: Name::parse("Red dye").unwrap(),
        unit: Name::parse("tube").unwrap(),
        quantity,
        threshold,
    }
    .into();
    let events = InventoryAggregate::decide(&None, &command).unwrap();
    InventoryAggregate::replay(&events).unwrap()
}

fn world() -> World {
    let workspace = Workspace {
        id: id(1),
        name: Name::parse("Urban Glow").unwrap(),
        slug: Slug::parse("urbanglow").unwrap(),
        timezone: TimeZone::parse("Europe/London").unwrap(),
        currency: Currency::parse("GBP").unwrap(),
        owner_id: id(2),
        business_email: None,
        business_phone: None,
        settings: WorkspaceSettings::default(),
        status: WorkspaceStatus::Active,
    };
    let service = Service {
        id: id(10),
        workspace_id: id(1),
        definition: ServiceDefinition {
            name: Name::parse("Hair colouring").unwrap(),
            duration_minutes: Minutes::new(60),
            price: Money::parse(4500, "GBP").unwrap(),
            buffer_before_minutes: Minutes::new(10),
            buffer_after_minutes: Minutes::new(15),
            inventory: vec![
                ItemQuantity {
                    item_id: id(DYE),
                    quantity: 1,
                },
                ItemQuantity {
                    item_id: id(GLOVES),
                    quantity: 2,
                },
            ],
        },
        archived: false,
    };
    let staff = User {
        id: id(3),
        workspace_id: id(1),
        role: Role::Staff,
        name: Personal::Known(PersonName::parse("Sarah").unwrap()),
        email: Personal::Known(Email::parse("sarah@urbanglow.example").unwrap()),
        permissions: Permissions::all(),
        active: true,
    };
    let hours = LocalRange::parse("09:00", "17:00").unwrap();
    let schedule = Schedule::new(
        [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .map(|d| WeeklyHours::new(d, hours))
        .collect(),
        vec![],
    );
    let inventory = [
        (id(DYE), item(DYE, 3, 2)),
        (id(GLOVES), item(GLOVES, 100, 10)),
    ]
    .into_iter()
    .collect();
    World {
        workspace,
        service,
        staff,
        schedule,
        calendars: Calendars::new(),
        inventory,
    }
}

impl World {
    fn ctx(&self) -> BookingContext<'_> {
        BookingContext {
            workspace: &self.workspace,
            service: &self.service,
            staff: &self.staff,
            schedule: &self.schedule,
            calendars: &self.calendars,
            inventory: &self.inventory,
        }
    }

    /// Apply a decision to the loaded states, as the store and a reload would.
    fn apply(&mut self, decision: &BookingDecision) -> crate::booking::State {
        for stream in &decision.calendars {
            let key = self.key_of(&stream.stream_id);
            let state = self.calendars.remove(&key).unwrap_or_default();
            self.calendars.insert(
                key,
                stream.events.iter().fold(state, CalendarAggregate::evolve),
            );
        }
        for stream in &decision.inventory {
            let (id, item) = self
                .inventory
                .iter()
                .find(|(id, _)| crate::inventory::stream_id(**id) == stream.stream_id)
                .map(|(i, s)| (*i, s.clone()))
                .unwrap();
            let item = stream
                .events
                .iter()
                .fold(Some(item), InventoryAggregate::evolve)
                .unwrap();
            self.inventory.insert(id, item);
        }
        BookingAggregate::replay(&decision.booking.events)
    }

    fn key_of(&self, stream_id: &str) -> CalendarKey {
        let date = &stream_id[stream_id.len() - 10..];
        CalendarKey {
            staff_id: self.staff.id,
            date: date.parse().unwrap(),
        }
    }
}

fn new_customer() -> NewContact {
    NewContact {
        contact_id: id(20),
        name: PersonName::parse("Mia Jones").unwrap(),
        email: Some(Email::parse("mia@example.com").unwrap()),
        phone: None,
        email_reservation: Reservation::default(),
    }
}

fn place(start: &str) -> PlaceBooking {
    PlaceBooking {
        booking_id: id(100),
        start: utc(start),
        notes: None,
        source: BookingSource::Public,
        now: utc("2026-03-01T08:00:00Z"),
    }
}

fn existing_contact() -> Contact {
    let created = crate::contact::ContactEvent::ContactCreated {
        contact_id: id(21),
        workspace_id: id(1),
        name: PersonName::parse("Leo").unwrap().into(),
        email: None.into(),
        phone: Some(Phone::parse("+447700900123").unwrap()).into(),
    };
    ContactAggregate::replay([&created]).unwrap()
}

#[test]
fn a_booking_inside_availability_reserves_deducts_flags_low_stock_creates_the_contact_and_books() {
    let w = world();
    let decision = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    let types: Vec<(String, Vec<&str>)> = decision
        .encode()
        .iter()
        .map(|s| {
            (
                s.stream_id.clone(),
                s.events.iter().map(|e| e.event_type).collect(),
            )
        })
        .collect();
    assert_eq!(
        types,
        vec![
            (format!("booking-{}", id(100)), vec!["BookingCreated"]),
            (
                format!("calendar-{}-2026-03-02", id(3)),
                vec!["SlotReserved"]
            ),
            (
                format!("inventory-{}", id(DYE)),
                vec!["StockDeducted", "LowStockCrossed"]
            ),
            (format!("inventory-{}", id(GLOVES)), vec!["StockDeducted"]),
            (format!("contact-{}", id(20)), vec!["ContactCreated"]),
            (
                crate::reservation::ReservationKey::ContactEmail {
                    workspace_id: id(1),
                    email: Email::parse("mia@example.com").unwrap(),
                }
                .stream_id(),
                vec!["EmailReserved"]
            ),
        ]
    );
    let booking = BookingAggregate::replay(&decision.booking.events).unwrap();
    assert_eq!(booking.status, BookingStatus::Confirmed);
    assert_eq!(booking.contact_id, id(20));
    assert_eq!(booking.price.cents(), 4500);
    assert_eq!(booking.reserved().start(), utc("2026-03-02T09:50:00Z"));
    let contact = &decision.encode()[4].events[0];
    assert_eq!(contact.personal_data.unwrap().subject, id(20));
}

#[test]
fn a_booking_for_an_existing_contact_creates_no_contact() {
    let w = world();
    let contact = existing_contact();
    let decision = place_booking(
        &w.ctx(),
        &Customer::Existing(&contact),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    assert!(decision.contact.is_none() && decision.reservations.is_empty());
    assert_eq!(
        BookingAggregate::replay(&decision.booking.events)
            .unwrap()
            .contact_id,
        id(21)
    );
}

#[test]
fn a_booking_outside_availability_is_refused() {
    let w = world();
    let error = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T16:30:00Z"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "outside_availability");
    let sunday = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-01T10:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(sunday.code(), "outside_availability");
}

#[test]
fn a_booking_overlapping_another_booking_with_buffers_is_refused() {
    let mut w = world();
    let first = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    w.apply(&first);
    let contact = existing_contact();
    // 11:00 starts when the first ends, but its 15 min buffer after (and our 10 before) collide.
    let second = PlaceBooking {
        booking_id: id(101),
        ..place("2026-03-02T11:00:00Z")
    };
    assert_eq!(
        place_booking(&w.ctx(), &Customer::Existing(&contact), &second)
            .unwrap_err()
            .code(),
        "slot_unavailable"
    );
    let later = PlaceBooking {
        booking_id: id(101),
        ..place("2026-03-02T11:25:00Z")
    };
    assert!(place_booking(&w.ctx(), &Customer::Existing(&contact), &later).is_ok());
}

#[test]
fn a_booking_without_enough_stock_is_refused_and_nothing_happens() {
    let mut w = world();
    w.inventory.insert(id(GLOVES), item(GLOVES, 1, 0));
    let error = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "insufficient_stock");
}

#[test]
fn a_booking_needing_an_unknown_item_is_refused_as_not_found() {
    let mut w = world();
    w.inventory.remove(&id(GLOVES));
    let error = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "not_found");
}

#[test]
fn a_public_booking_needs_an_active_workspace() {
    let mut w = world();
    w.workspace.status = WorkspaceStatus::Inactive;
    let error = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(error.code(), "workspace_inactive");
    let by_staff = PlaceBooking {
        source: BookingSource::Staff { user_id: id(2) },
        ..place("2026-03-02T10:00:00Z")
    };
    assert!(place_booking(&w.ctx(), &Customer::New(new_customer()), &by_staff).is_ok());
}

#[test]
fn a_public_booking_starts_pending_when_approval_is_required() {
    let mut w = world();
    w.workspace.settings.approval_required = true;
    let decision = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        BookingAggregate::replay(&decision.booking.events)
            .unwrap()
            .status,
        BookingStatus::Pending
    );
}

#[test]
fn a_public_booking_too_soon_too_far_or_in_the_past_is_refused() {
    let w = world();
    let soon = PlaceBooking {
        now: utc("2026-03-02T09:30:00Z"),
        ..place("2026-03-02T10:00:00Z")
    };
    assert_eq!(
        place_booking(&w.ctx(), &Customer::New(new_customer()), &soon)
            .unwrap_err()
            .code(),
        "notice_too_short"
    );
    let far = PlaceBooking {
        now: utc("2025-12-01T09:00:00Z"),
        ..place("2026-03-02T10:00:00Z")
    };
    assert_eq!(
        place_booking(&w.ctx(), &Customer::New(new_customer()), &far)
            .unwrap_err()
            .code(),
        "beyond_horizon"
    );
    let past = PlaceBooking {
        now: utc("2026-03-02T12:00:00Z"),
        ..place("2026-03-02T10:00:00Z")
    };
    assert_eq!(
        place_booking(&w.ctx(), &Customer::New(new_customer()), &past)
            .unwrap_err()
            .code(),
        "in_the_past"
    );
}

#[test]
fn an_archived_service_a_deactivated_staff_member_or_an_erased_contact_is_refused() {
    let mut w = world();
    w.service.archived = true;
    assert_eq!(
        place_booking(
            &w.ctx(),
            &Customer::New(new_customer()),
            &place("2026-03-02T10:00:00Z")
        )
        .unwrap_err()
        .code(),
        "service_archived"
    );
    let mut w = world();
    w.staff.active = false;
    assert_eq!(
        place_booking(
            &w.ctx(),
            &Customer::New(new_customer()),
            &place("2026-03-02T10:00:00Z")
        )
        .unwrap_err()
        .code(),
        "user_deactivated"
    );
    let w = world();
    let erased = Contact {
        erased: true,
        ..existing_contact()
    };
    assert_eq!(
        place_booking(
            &w.ctx(),
            &Customer::Existing(&erased),
            &place("2026-03-02T10:00:00Z")
        )
        .unwrap_err()
        .code(),
        "contact_erased"
    );
}

#[test]
fn a_new_contact_whose_email_is_taken_is_refused() {
    let w = world();
    let taken = NewContact {
        email_reservation: Reservation {
            holder: Some(id(99)),
        },
        ..new_customer()
    };
    assert_eq!(
        place_booking(
            &w.ctx(),
            &Customer::New(taken),
            &place("2026-03-02T10:00:00Z")
        )
        .unwrap_err()
        .code(),
        "already_exists"
    );
}

#[test]
fn cancelling_releases_the_slot_and_returns_the_stock() {
    let mut w = world();
    let placed = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-03T10:00:00Z"),
    )
    .unwrap();
    let booking = w.apply(&placed);
    let request = CancelRequest {
        reason: None,
        by: Actor::Customer,
        now: utc("2026-03-01T09:00:00Z"),
    };
    let decision =
        cancel_booking(&booking, &w.workspace, &w.calendars, &w.inventory, &request).unwrap();
    let types: Vec<Vec<&str>> = decision
        .encode()
        .iter()
        .map(|s| s.events.iter().map(|e| e.event_type).collect())
        .collect();
    assert_eq!(
        types,
        vec![
            vec!["BookingCancelled"],
            vec!["SlotReleased"],
            vec!["StockReturned", "LowStockCleared"],
            vec!["StockReturned"]
        ]
    );
    w.apply(&decision);
    assert_eq!(w.inventory[&id(DYE)].quantity, 3);
    assert!(w.calendars.values().all(|c| c.reservations.is_empty()));
}

#[test]
fn a_customer_cancelling_inside_the_window_changes_nothing() {
    let mut w = world();
    let placed = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    let booking = w.apply(&placed);
    let request = CancelRequest {
        reason: None,
        by: Actor::Customer,
        now: utc("2026-03-02T08:00:00Z"),
    };
    let error =
        cancel_booking(&booking, &w.workspace, &w.calendars, &w.inventory, &request).unwrap_err();
    assert_eq!(error.code(), "cancellation_window_passed");
}

#[test]
fn rescheduling_on_the_same_day_releases_then_reserves() {
    let mut w = world();
    let placed = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    let booking = w.apply(&placed);
    let ctx = RescheduleContext {
        workspace: &w.workspace,
        staff: &w.staff,
        schedule: &w.schedule,
        calendars: &w.calendars,
    };
    // 10:30 overlaps the booking's own old slot, which is released first.
    let request = RescheduleRequest {
        start: utc("2026-03-02T10:30:00Z"),
        public: false,
        now: utc("2026-03-01T08:00:00Z"),
    };
    let decision = reschedule_booking(&booking, &ctx, &request).unwrap();
    let types: Vec<Vec<&str>> = decision
        .encode()
        .iter()
        .map(|s| s.events.iter().map(|e| e.event_type).collect())
        .collect();
    assert_eq!(
        types,
        vec![
            vec!["BookingRescheduled"],
            vec!["SlotReleased", "SlotReserved"]
        ]
    );
    let moved = w.apply(&decision);
    let _ = moved;
}

#[test]
fn rescheduling_into_a_taken_slot_or_outside_availability_is_refused() {
    let mut w = world();
    let placed = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    let booking = w.apply(&placed);
    let contact = existing_contact();
    let other = PlaceBooking {
        booking_id: id(101),
        ..place("2026-03-02T14:00:00Z")
    };
    let other_placed = place_booking(&w.ctx(), &Customer::Existing(&contact), &other).unwrap();
    w.apply(&other_placed);
    let ctx = RescheduleContext {
        workspace: &w.workspace,
        staff: &w.staff,
        schedule: &w.schedule,
        calendars: &w.calendars,
    };
    let taken = RescheduleRequest {
        start: utc("2026-03-02T14:30:00Z"),
        public: false,
        now: utc("2026-03-01T08:00:00Z"),
    };
    assert_eq!(
        reschedule_booking(&booking, &ctx, &taken)
            .unwrap_err()
            .code(),
        "slot_unavailable"
    );
    let closed = RescheduleRequest {
        start: utc("2026-03-02T19:00:00Z"),
        public: false,
        now: utc("2026-03-01T08:00:00Z"),
    };
    assert_eq!(
        reschedule_booking(&booking, &ctx, &closed)
            .unwrap_err()
            .code(),
        "outside_availability"
    );
}

#[test]
fn completing_with_less_than_deducted_returns_the_rest_and_more_deducts_it() {
    let mut w = world();
    let placed = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-02T10:00:00Z"),
    )
    .unwrap();
    let booking = w.apply(&placed);
    let request = CompleteRequest {
        inventory_used: Some(vec![ItemQuantity {
            item_id: id(GLOVES),
            quantity: 4,
        }]),
        now: utc("2026-03-02T11:00:00Z"),
    };
    let decision = complete_booking(&booking, &w.inventory, &request).unwrap();
    let types: Vec<Vec<&str>> = decision
        .encode()
        .iter()
        .map(|s| s.events.iter().map(|e| e.event_type).collect())
        .collect();
    assert_eq!(
        types,
        vec![
            vec!["BookingCompleted"],
            vec!["StockReturned", "LowStockCleared"],
            vec!["StockDeducted"]
        ]
    );
    let plain = complete_booking(
        &booking,
        &w.inventory,
        &CompleteRequest {
            inventory_used: None,
            now: utc("2026-03-02T11:00:00Z"),
        },
    )
    .unwrap();
    assert_eq!(plain.encode().len(), 1);
}

#[test]
fn a_late_booking_reserves_both_local_dates_it_touches() {
    let mut w = world();
    w.workspace.timezone = TimeZone::parse("America/New_York").unwrap();
    let late = LocalRange::parse("20:00", "23:59").unwrap();
    w.schedule = Schedule::new(vec![WeeklyHours::new(Weekday::Mon, late)], vec![]);
    // 22:50–23:50 EST on Monday 2 March plus 15 min buffer crosses local midnight.
    let decision = place_booking(
        &w.ctx(),
        &Customer::New(new_customer()),
        &place("2026-03-03T03:50:00Z"),
    )
    .unwrap();
    let days: Vec<&str> = decision
        .calendars
        .iter()
        .map(|s| &s.stream_id[s.stream_id.len() - 10..])
        .collect();
    assert_eq!(days, ["2026-03-02", "2026-03-03"]);
    let keys = calendar_keys_for(
        id(3),
        utc("2026-03-03T03:50:00Z"),
        &w.service,
        w.workspace.timezone,
    );
    assert_eq!(keys.len(), 2);
}
