//! Placing a new booking.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::{decide_day, decide_item, BookingDecision, Calendars, Inventory};
use crate::booking::{self, BookingSource, CreateBooking, InitialStatus};
use crate::calendar::{self, CalendarKey, ReserveSlot};
use crate::contact::{self, Contact, CreateContact};
use crate::event::StreamEvents;
use crate::inventory::DeductStock;
use crate::reservation::{self, Reservation, ReservationKey, Reserve};
use crate::schedule::Schedule;
use crate::service::Service;
use crate::slots::check_within_availability;
use crate::user::User;
use crate::values::{Email, Notes, PersonName, Phone, TimeRange, TimeZone};
use crate::workspace::Workspace;
use crate::{DomainError, Entity, Rule};

/// The states a booking decision reads.
#[derive(Debug, Clone, Copy)]
pub struct BookingContext<'a> {
    pub workspace: &'a Workspace,
    pub service: &'a Service,
    /// The staff member (the owner may be one).
    pub staff: &'a User,
    /// That staff member's schedule.
    pub schedule: &'a Schedule,
    /// The staff member's calendar days the reservation touches (see [`calendar_keys_for`]).
    pub calendars: &'a Calendars,
    /// Every inventory item the service consumes.
    pub inventory: &'a Inventory,
}

/// A contact to create with the booking (no existing one matched by email, then phone).
#[derive(Debug, Clone, PartialEq)]
pub struct NewContact {
    pub contact_id: Uuid,
    pub name: PersonName,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    /// The loaded state of the `contact-email-<workspace>-<email>` reservation (default if absent).
    pub email_reservation: Reservation,
}

/// Who the booking is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Customer<'a> {
    /// An existing contact (found with `contact::find_match` or given by id).
    Existing(&'a Contact),
    /// A new contact, created in the same append.
    New(NewContact),
}

/// Book a service with a staff member.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceBooking {
    pub booking_id: Uuid,
    pub start: DateTime<Utc>,
    pub notes: Option<Notes>,
    pub source: BookingSource,
    pub now: DateTime<Utc>,
}

/// The calendar days to load before placing a booking of `service` at `start` with `staff_id`.
pub fn calendar_keys_for(
    staff_id: Uuid,
    start: DateTime<Utc>,
    service: &Service,
    tz: TimeZone,
) -> Vec<CalendarKey> {
    let d = &service.definition;
    let end = start + d.duration_minutes.duration();
    match TimeRange::new(start, end) {
        Ok(appointment) => {
            let reserved = appointment.widened(
                d.buffer_before_minutes.duration(),
                d.buffer_after_minutes.duration(),
            );
            calendar::keys_touched(staff_id, &reserved, tz)
        }
        Err(_) => vec![],
    }
}

/// Where and when a booking wants to sit (shared by placing and rescheduling).
pub(super) struct Placement<'a> {
    pub workspace: &'a Workspace,
    pub staff: &'a User,
    pub schedule: &'a Schedule,
    pub booking_id: Uuid,
    pub appointment: TimeRange,
    /// The appointment widened by its buffers.
    pub reserved: TimeRange,
    /// Public bookings also honour minimum notice and the booking horizon.
    pub public: bool,
    pub now: DateTime<Utc>,
}

/// Checks shared by placing and rescheduling: staff usable, time allowed, within availability,
/// calendar free. Adds the calendar events and returns the local dates reserved.
pub(super) fn reserve(
    decision: &mut BookingDecision,
    days: &mut Calendars,
    placement: &Placement<'_>,
) -> Result<Vec<NaiveDate>, DomainError> {
    let Placement {
        workspace,
        staff,
        schedule,
        booking_id,
        appointment,
        reserved,
        public,
        now,
    } = *placement;
    if staff.workspace_id != workspace.id {
        return Err(DomainError::not_found(Entity::User, staff.id));
    }
    if !staff.active {
        return Err(DomainError::rule(
            Rule::UserDeactivated,
            "the staff member is deactivated",
        ));
    }
    let start = appointment.start();
    if start < now {
        return Err(DomainError::rule(
            Rule::InThePast,
            "the requested time has passed",
        ));
    }
    if public {
        let settings = &workspace.settings;
        if start < now + settings.minimum_notice_minutes.duration() {
            return Err(DomainError::rule(
                Rule::NoticeTooShort,
                format!(
                    "bookings need {} minutes' notice",
                    settings.minimum_notice_minutes.get()
                ),
            ));
        }
        if start > now + Duration::days(i64::from(settings.booking_horizon_days)) {
            return Err(DomainError::rule(
                Rule::BeyondHorizon,
                format!(
                    "bookings are taken at most {} days ahead",
                    settings.booking_horizon_days
                ),
            ));
        }
    }
    check_within_availability(schedule, workspace.timezone, &appointment)?;
    let keys = calendar::keys_touched(staff.id, &reserved, workspace.timezone);
    for key in &keys {
        let command = ReserveSlot {
            staff_id: staff.id,
            date: key.date,
            booking_id,
            range: reserved,
        };
        let events = decide_day(days, *key, command.into())?;
        decision.push_calendar(*key, events);
    }
    Ok(keys.into_iter().map(|k| k.date).collect())
}

/// Decide a new booking: every check of the Perfect Booking flow, then the events for every stream.
pub fn place_booking(
    ctx: &BookingContext<'_>,
    customer: &Customer<'_>,
    command: &PlaceBooking,
) -> Result<BookingDecision, DomainError> {
    let BookingContext {
        workspace,
        service,
        staff,
        schedule,
        ..
    } = *ctx;
    let public = command.source == BookingSource::Public;
    if public && !workspace.is_active() {
        return Err(DomainError::rule(
            Rule::WorkspaceInactive,
            "the workspace is not taking bookings yet",
        ));
    }
    if service.workspace_id != workspace.id {
        return Err(DomainError::not_found(Entity::Service, service.id));
    }
    if service.archived {
        return Err(DomainError::rule(
            Rule::ServiceArchived,
            "the service is no longer offered",
        ));
    }
    if let Customer::Existing(contact) = customer {
        if contact.workspace_id != workspace.id {
            return Err(DomainError::not_found(Entity::Contact, contact.id));
        }
        if contact.erased {
            return Err(DomainError::rule(
                Rule::ContactErased,
                "the contact was erased",
            ));
        }
    }
    let definition = &service.definition;
    let appointment = TimeRange::new(
        command.start,
        command.start + definition.duration_minutes.duration(),
    )?;
    let reserved = appointment.widened(
        definition.buffer_before_minutes.duration(),
        definition.buffer_after_minutes.duration(),
    );

    let mut decision = BookingDecision::new(command.booking_id);
    let mut days = ctx.calendars.clone();
    let placement = Placement {
        workspace,
        staff,
        schedule,
        booking_id: command.booking_id,
        appointment,
        reserved,
        public,
        now: command.now,
    };
    let dates = reserve(&mut decision, &mut days, &placement)?;

    let mut items = ctx.inventory.clone();
    for need in &definition.inventory {
        let deduct = DeductStock {
            booking_id: command.booking_id,
            quantity: need.quantity,
        };
        let events = decide_item(&mut items, need.item_id, deduct.into())?;
        decision.push_inventory(need.item_id, events);
    }

    let contact_id = match customer {
        Customer::Existing(contact) => contact.id,
        Customer::New(new) => {
            let create = CreateContact {
                contact_id: new.contact_id,
                workspace_id: workspace.id,
                name: new.name.clone(),
                email: new.email.clone(),
                phone: new.phone.clone(),
            };
            decision.contact = Some(StreamEvents {
                stream_type: contact::STREAM_TYPE,
                stream_id: contact::stream_id(new.contact_id),
                events: contact::decide(&None, &create.into())?,
            });
            if let Some(email) = &new.email {
                let key = ReservationKey::ContactEmail {
                    workspace_id: workspace.id,
                    email: email.clone(),
                };
                let events = reservation::decide(
                    &new.email_reservation,
                    &Reserve {
                        key: key.clone(),
                        owner_id: new.contact_id,
                    }
                    .into(),
                )?;
                decision.reservations.push(StreamEvents {
                    stream_type: reservation::STREAM_TYPE,
                    stream_id: key.stream_id(),
                    events,
                });
            }
            new.contact_id
        }
    };

    let status = if public && workspace.settings.approval_required {
        InitialStatus::Pending
    } else {
        InitialStatus::Confirmed
    };
    let create = CreateBooking {
        booking_id: command.booking_id,
        workspace_id: workspace.id,
        service_id: service.id,
        staff_id: staff.id,
        contact_id,
        appointment,
        buffer_before: definition.buffer_before_minutes,
        buffer_after: definition.buffer_after_minutes,
        price: definition.price,
        status,
        source: command.source,
        notes: command.notes.clone(),
        calendar_dates: dates,
        inventory: definition.inventory.clone(),
    };
    decision.booking.events = booking::decide(&None, &create.into())?;
    Ok(decision)
}
